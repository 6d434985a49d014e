//go:build windows

package fsutil

import (
	"fmt"
	"io/fs"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// tightenable: Windows has no mode bits to tighten; the ACL check below
// refuses what others may change instead.
const tightenable = false

// writeRights are the access rights that let a holder change a file or a
// directory's entries, or its ACL and owner.
const writeRights = windows.FILE_WRITE_DATA | windows.FILE_APPEND_DATA | 0x40 /* FILE_DELETE_CHILD */ |
	windows.DELETE | windows.WRITE_DAC | windows.WRITE_OWNER | windows.GENERIC_WRITE | windows.GENERIC_ALL

// identity is who may own and change the user's files: the user, and
// SYSTEM and the Administrators group, who control the machine anyway (an
// elevated process's files belong to Administrators).
type identity struct {
	user, system, admins, creatorOwner *windows.SID
}

func currentIdentity() (*identity, error) {
	tu, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("cannot tell who runs rolehop: %w", err)
	}
	id := &identity{user: tu.User.Sid}
	if id.system, err = windows.CreateWellKnownSid(windows.WinLocalSystemSid); err != nil {
		return nil, err
	}
	if id.admins, err = windows.CreateWellKnownSid(windows.WinBuiltinAdministratorsSid); err != nil {
		return nil, err
	}
	if id.creatorOwner, err = windows.CreateWellKnownSid(windows.WinCreatorOwnerSid); err != nil {
		return nil, err
	}
	return id, nil
}

// trustedOwner: the user, SYSTEM or Administrators.
func (id *identity) trustedOwner(sid *windows.SID) bool {
	return sid.Equals(id.user) || sid.Equals(id.system) || sid.Equals(id.admins)
}

func describeSID(sid *windows.SID) string {
	if sid == nil {
		return "nobody"
	}
	if account, domain, _, err := sid.LookupAccount(""); err == nil {
		if domain != "" {
			return domain + `\` + account
		}
		return account
	}
	return sid.String()
}

// checkHandle checks the owner and the ACL of an open file or directory.
func checkHandle(path string, h windows.Handle, ownerOK func(*identity, *windows.SID) bool, fix string) error {
	id, err := currentIdentity()
	if err != nil {
		return err
	}
	sd, err := windows.GetSecurityInfo(h, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("%s: cannot read its owner and ACL: %w", path, err)
	}
	owner, _, err := sd.Owner()
	if err != nil {
		return fmt.Errorf("%s: cannot read its owner: %w", path, err)
	}
	if !ownerOK(id, owner) {
		return &UntrustedError{Path: path, Problem: fmt.Sprintf("is owned by %s, not by you (%s)", describeSID(owner), describeSID(id.user)), Fix: fix}
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		return &UntrustedError{Path: path, Problem: "has no access control list (everyone may change it)", Fix: "give it an ACL that only you, SYSTEM and Administrators may write, or use another path"}
	}
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return fmt.Errorf("%s: cannot read its ACL: %w", path, err)
		}
		if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE || ace.Header.AceFlags&windows.INHERIT_ONLY_ACE != 0 || ace.Mask&writeRights == 0 {
			continue
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		if sid.Equals(owner) || id.trustedOwner(sid) || sid.Equals(id.creatorOwner) {
			continue
		}
		return &UntrustedError{Path: path, Problem: "lets " + describeSID(sid) + " change it",
			Fix: "remove that permission (icacls " + path + " /remove " + describeSID(sid) + "), or use another path"}
	}
	return nil
}

func handleOf(f *os.File) windows.Handle { return windows.Handle(f.Fd()) }

// checkDir: the directory belongs to the user (or, elevated, to
// Administrators) and nobody else may change it.
func checkDir(path string, f *os.File, _ fs.FileInfo) error {
	return checkHandle(path, handleOf(f), func(id *identity, o *windows.SID) bool {
		return o.Equals(id.user) || (o.Equals(id.admins) && windows.GetCurrentProcessToken().IsElevated())
	}, "rolehop keeps secrets only in a directory of your own: remove it or use another one")
}

// checkEntryOwner: an entry of a trusted directory is the user's own.
func checkEntryOwner(path string, f *os.File, fi fs.FileInfo) error {
	return checkDir(path, f, fi)
}

// checkLink: only the user, SYSTEM or Administrators can have made it.
func checkLink(path string, _ fs.FileInfo) error {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return err
	}
	h, err := windows.CreateFile(p, windows.READ_CONTROL, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_FLAG_OPEN_REPARSE_POINT|windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer windows.CloseHandle(h)
	return checkHandle(path, h, (*identity).trustedOwner, "rolehop follows only links of your own: remove it, or name the real path")
}

// checkShared: the config and credentials files belong to the user,
// SYSTEM or Administrators, and nobody else may change them.
func checkShared(path string, f *os.File, _ fs.FileInfo) error {
	return checkHandle(path, handleOf(f), (*identity).trustedOwner,
		"rolehop reads credentials and commands only from files nobody else can change: copy it to a file of your own or point to another")
}
