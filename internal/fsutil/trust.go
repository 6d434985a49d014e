package fsutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The trust rule. rolehop keeps secrets (cached credentials, IAM Identity
// Center tokens, the credentials file it writes, serve's token file) only
// in a directory that nobody else can change, and reads them only from
// files nobody else could have put there:
//
//   - The directory must belong to the effective user and must not be
//     writable by its group or others (a group of which the user is the
//     only member, the Unix "user private group", may write). On Windows:
//     owned by the user (or, elevated, by Administrators) and no write
//     right for anyone but the owner, SYSTEM and Administrators.
//   - On the way to it, a symbolic link is followed only when the user or
//     root owns it: only they could have made it. A link planted by
//     someone else (in /tmp, a CI workspace) is refused, so rolehop never
//     writes through, reads from or deletes in a directory that someone
//     else chose.
//   - The directory is opened once, by handle (os.Root), and every entry
//     is opened beneath that handle, so swapping the path afterwards
//     changes nothing.
//   - An entry (a cache file, a lock file) must be a regular file of the
//     user's, and not a symbolic link: it is checked before it is opened
//     and again on the open handle.
//
// rolehop never changes someone else's directory to make it fit: it
// refuses, with one line that names the path, the owner and the fix.

// ErrUntrusted is wrapped by every *UntrustedError.
var ErrUntrusted = errors.New("not a private path of the user")

// UntrustedError is a path that fails the trust rule.
type UntrustedError struct {
	Path    string // the directory, file or link that fails
	Problem string // what is wrong with it, e.g. "is owned by uid 2001 (mallory), not by you (uid 1000)"
	Fix     string // what to do
}

func (e *UntrustedError) Error() string { return e.Path + " " + e.Problem + ": " + e.Fix }

// Unwrap makes errors.Is(err, ErrUntrusted) true.
func (e *UntrustedError) Unwrap() error { return ErrUntrusted }

// maxLinks bounds symbolic-link resolution (Linux's own limit is 40).
const maxLinks = 40

// DirOptions say how to open a directory under the trust rule.
type DirOptions struct {
	// Create makes missing directories (mode 0700), parents included.
	Create bool
	// Private tightens the directory to 0700, and every entry it reads or
	// writes to 0600, when they are more open (they belong to the user,
	// so this changes nothing of anyone else's). Notice is told.
	Private bool
	// Notice, if not nil, is told what was tightened, as one sentence.
	Notice func(format string, args ...any)
}

// Dir is a directory that passed the trust rule, held open by handle.
// Its methods only touch entries directly inside it.
type Dir struct {
	path string
	root *os.Root
	opts DirOptions
}

// OpenDir opens path under the trust rule (see the comment above).
func OpenDir(path string, opts DirOptions) (*Dir, error) {
	for attempt := 0; ; attempt++ {
		resolved, missing, err := resolve(path)
		if err != nil {
			return nil, err
		}
		if len(missing) > 0 {
			if !opts.Create {
				return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
			}
			// One component at a time, then resolve again: what was made
			// is checked like everything else when it is opened.
			err := os.Mkdir(filepath.Join(resolved, missing[0]), 0o700)
			if err != nil && !errors.Is(err, fs.ErrExist) {
				return nil, err
			}
			if attempt > 255 {
				return nil, fmt.Errorf("%s: cannot create it (it keeps changing)", path)
			}
			continue
		}
		return openResolved(resolved, opts)
	}
}

// OpenParent resolves path the same way (following only the user's own
// links, including one at path itself, so that a credentials file kept as
// a link to a dotfiles repository stays a link), opens the directory that
// holds it under the trust rule, and returns it with the file's name there.
func OpenParent(path string, opts DirOptions) (*Dir, string, error) {
	resolved, missing, err := resolve(path)
	if err != nil {
		return nil, "", err
	}
	file := filepath.Join(append([]string{resolved}, missing...)...)
	d, err := OpenDir(filepath.Dir(file), opts)
	if err != nil {
		return nil, "", err
	}
	return d, filepath.Base(file), nil
}

// openResolved opens a directory path that has no symbolic link left.
func openResolved(path string, opts DirOptions) (*Dir, error) {
	before, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !before.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", path)
	}
	root, err := os.OpenRoot(path)
	if err != nil {
		return nil, err
	}
	d := &Dir{path: path, root: root, opts: opts}
	self, err := root.Open(".")
	if err != nil {
		root.Close()
		return nil, err
	}
	defer self.Close()
	fi, err := self.Stat()
	if err == nil && !os.SameFile(before, fi) {
		err = fmt.Errorf("%s changed while rolehop opened it", path)
	}
	if err == nil {
		err = checkDir(path, self, fi)
	}
	if err == nil && opts.Private && fi.Mode().Perm()&0o077 != 0 && tightenable {
		if err = self.Chmod(0o700); err == nil {
			d.notice("tightened %s from mode %04o to 0700: it holds secrets", path, fi.Mode().Perm())
		}
	}
	if err != nil {
		root.Close()
		return nil, err
	}
	return d, nil
}

// Path is the directory's path, with the user's links resolved.
func (d *Dir) Path() string { return d.path }

// Join is the path of name in the directory.
func (d *Dir) Join(name string) string { return filepath.Join(d.path, name) }

// Close releases the directory's handle. Files and locks opened through
// it stay usable.
func (d *Dir) Close() error { return d.root.Close() }

func (d *Dir) notice(format string, args ...any) {
	if d.opts.Notice != nil {
		d.opts.Notice(format, args...)
	}
}

// resolve follows path's symbolic links that the user or root owns and
// refuses any other. It returns the longest existing prefix without links
// and the names under it that do not exist (yet).
func resolve(path string) (string, []string, error) {
	// Not filepath.Abs: it cleans "link/.." away lexically, where the
	// system goes to the parent of the link's target.
	abs := path
	if !filepath.IsAbs(path) {
		wd, err := os.Getwd()
		if err != nil {
			return "", nil, err
		}
		abs = wd + string(filepath.Separator) + path
		if path != "" && os.IsPathSeparator(path[0]) { // \x on Windows: rooted on the current drive
			abs = filepath.VolumeName(wd) + path
		}
	}
	vol := filepath.VolumeName(abs)
	done := vol + string(filepath.Separator)
	todo := splitPath(abs[len(vol):])
	for links := 0; len(todo) > 0; {
		name := todo[0]
		todo = todo[1:]
		switch name {
		case ".":
			continue
		case "..":
			done = filepath.Dir(done)
			continue
		}
		next := filepath.Join(done, name)
		fi, err := os.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) {
			return done, append([]string{name}, todo...), nil
		}
		if err != nil {
			return "", nil, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = next
			continue
		}
		if links++; links > maxLinks {
			return "", nil, fmt.Errorf("%s: too many levels of symbolic links", path)
		}
		if err := checkLink(next, fi); err != nil {
			return "", nil, err
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", nil, err
		}
		if filepath.IsAbs(target) {
			vol = filepath.VolumeName(target)
			done = vol + string(filepath.Separator)
			target = target[len(vol):]
		}
		todo = append(splitPath(target), todo...)
	}
	return done, nil, nil
}

func splitPath(p string) []string {
	return strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == filepath.Separator })
}

// validName refuses names that are not one entry of the directory.
func validName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("%q is not a file name", name)
	}
	return nil
}

// Lstat describes the entry name without following a link.
func (d *Dir) Lstat(name string) (fs.FileInfo, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	return d.root.Lstat(name)
}

// open opens the entry name under the rule for entries: a regular file of
// the user's, not a link, checked before the open and on the handle.
//
// os.Root ignores O_NOFOLLOW and follows a link that stays inside the
// directory, so the entry is described without following (Lstat) first,
// and the open file must be that same file (os.SameFile): a link swapped
// in between is caught (TestEntrySwapRace), one pointing outside the
// directory is refused by os.Root itself.
func (d *Dir) open(name string, flag int, perm fs.FileMode) (*os.File, fs.FileInfo, error) {
	before, err := d.Lstat(name)
	switch {
	case err == nil:
		if err := d.checkEntry(name, before); err != nil {
			return nil, nil, err
		}
	case errors.Is(err, fs.ErrNotExist) && flag&os.O_CREATE != 0:
		before = nil
	default:
		return nil, nil, err
	}
	f, err := d.root.OpenFile(name, flag, perm)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && before != nil && !os.SameFile(before, fi) {
		err = fmt.Errorf("%s changed while rolehop opened it", d.Join(name))
	}
	if err == nil {
		err = d.checkEntry(name, fi)
	}
	if err == nil {
		err = checkEntryOwner(d.Join(name), f, fi)
	}
	if err == nil && d.opts.Private && fi.Mode().Perm()&0o077 != 0 && tightenable {
		if err = f.Chmod(0o600); err == nil {
			d.notice("tightened %s from mode %04o to 0600: it holds secrets", d.Join(name), fi.Mode().Perm())
		}
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// checkEntry refuses links and anything but regular files.
func (d *Dir) checkEntry(name string, fi fs.FileInfo) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return &UntrustedError{Path: d.Join(name), Problem: "is a symbolic link, where rolehop keeps its own files",
			Fix: "remove it (rolehop never follows a link there)"}
	case !fi.Mode().IsRegular():
		return &UntrustedError{Path: d.Join(name), Problem: "is not a regular file", Fix: "remove it"}
	}
	return nil
}

// ReadFile reads the entry name under the rule for entries. A missing
// entry is fs.ErrNotExist.
func (d *Dir) ReadFile(name string) ([]byte, error) {
	f, _, err := d.open(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Remove deletes the entry name if it is a regular file of the user's. A
// missing entry is fs.ErrNotExist.
func (d *Dir) Remove(name string) error {
	f, _, err := d.open(name, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	f.Close()
	return d.root.Remove(name)
}

// Entries lists the directory's entries, sorted by name.
func (d *Dir) Entries() ([]fs.DirEntry, error) {
	return fs.ReadDir(d.root.FS(), ".")
}

// ReadShared reads a file that configures rolehop and the AWS tools (the
// config and credentials files) where it is, links followed: it must
// belong to the user or root and nobody else may write it (checked on the
// open file). Following any link is safe here: a link cannot make someone
// else's file pass.
func ReadShared(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkShared(path, f, fi); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}
