//go:build !windows

package fsutil

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// tightenable: mode bits exist here, so a too open file can be tightened.
const tightenable = true

func statOf(fi fs.FileInfo) *syscall.Stat_t {
	st, _ := fi.Sys().(*syscall.Stat_t)
	if st == nil {
		return &syscall.Stat_t{Uid: ^uint32(0), Gid: ^uint32(0)} // nobody's
	}
	return st
}

// checkDir: the directory belongs to the effective user and nobody else
// may write to it.
func checkDir(path string, _ *os.File, fi fs.FileInfo) error {
	st := statOf(fi)
	me := uint32(os.Geteuid())
	if st.Uid != me {
		return &UntrustedError{Path: path, Problem: fmt.Sprintf("is owned by %s, not by you (%s)", describeUID(st.Uid), describeUID(me)),
			Fix: "rolehop keeps secrets only in a directory of your own: remove it or use another one"}
	}
	return checkWritable(path, st, fi.Mode().Perm())
}

// checkWritable refuses a mode that lets others than the owner write.
func checkWritable(path string, st *syscall.Stat_t, perm fs.FileMode) error {
	switch {
	case perm&0o002 != 0:
		return &UntrustedError{Path: path, Problem: fmt.Sprintf("is writable by every user (mode %04o)", perm),
			Fix: "run chmod o-w " + path + ", or use another path"}
	case perm&0o020 != 0 && !privateGroup(st.Gid, st.Uid):
		return &UntrustedError{Path: path, Problem: fmt.Sprintf("is writable by group %s (mode %04o)", describeGID(st.Gid), perm),
			Fix: "run chmod g-w " + path + ", or use another path"}
	}
	return nil
}

// checkEntryOwner: an entry of a trusted directory is the user's own.
func checkEntryOwner(path string, _ *os.File, fi fs.FileInfo) error {
	st := statOf(fi)
	if me := uint32(os.Geteuid()); st.Uid != me {
		return &UntrustedError{Path: path, Problem: fmt.Sprintf("is owned by %s, not by you (%s)", describeUID(st.Uid), describeUID(me)),
			Fix: "remove it"}
	}
	return nil
}

// checkLink: only the user or root can have made the link.
func checkLink(path string, fi fs.FileInfo) error {
	st := statOf(fi)
	if me := uint32(os.Geteuid()); st.Uid != me && st.Uid != 0 {
		return &UntrustedError{Path: path, Problem: fmt.Sprintf("is a symbolic link owned by %s, not by you (%s) or root", describeUID(st.Uid), describeUID(me)),
			Fix: "rolehop follows only links of your own: remove it, or name the real path"}
	}
	return nil
}

// checkShared is the rule for files that configure rolehop and the AWS
// tools (the config and credentials files), read where they are: the user
// or root owns the file and nobody else may write it. Such a file may
// name a credential_process, a command rolehop runs. /dev/null (root's) and
// the user's own pipes (`<(…)`) are fine.
func checkShared(path string, _ *os.File, fi fs.FileInfo) error {
	return checkSharedAs(path, fi, uint32(os.Geteuid()))
}

// checkSharedAs is checkShared for the user me.
func checkSharedAs(path string, fi fs.FileInfo, me uint32) error {
	st := statOf(fi)
	if st.Uid != me && st.Uid != 0 {
		return &UntrustedError{Path: path, Problem: fmt.Sprintf("is owned by %s, not by you (%s) or root", describeUID(st.Uid), describeUID(me)),
			Fix: "rolehop reads credentials and commands only from files nobody else can change: take it over (cp it to a file of your own) or point to another"}
	}
	if fi.Mode().IsRegular() {
		return checkWritable(path, st, fi.Mode().Perm())
	}
	return nil
}

// privateGroup reports whether gid is the user private group of uid: the
// user's primary group, named after the user. Debian's and Red Hat's
// umask 002 leaves such files group-writable, which gives nobody else a
// right.
func privateGroup(gid, uid uint32) bool {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil || u.Gid != strconv.FormatUint(uint64(gid), 10) {
		return false
	}
	g, err := user.LookupGroupId(u.Gid)
	return err == nil && g.Name == u.Username
}

// describeUID is "uid 1000 (alice)", or "uid 1000" for an unknown user.
func describeUID(uid uint32) string {
	s := "uid " + strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil && u.Username != "" {
		s += " (" + u.Username + ")"
	}
	return s
}

// describeGID is "gid 100 (users)", or "gid 100".
func describeGID(gid uint32) string {
	s := "gid " + strconv.FormatUint(uint64(gid), 10)
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil && g.Name != "" {
		s += " (" + g.Name + ")"
	}
	return s
}
