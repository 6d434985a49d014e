// Package fsutil holds the file primitives every rolehop writer uses: the
// trust rule for paths that hold secrets (trust.go), atomic replacement (a
// reader sees the old or the new file, never a torn one, even if the writer
// is killed) and cross-process locks that the operating system releases
// when the holder dies.
package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"strconv"
)

// WriteFile replaces the entry name with data: it writes a temp file in
// the directory, syncs it, gives it exactly perm (0600 at most when the
// directory is Private), and renames it over name. An entry that is not a
// regular file of the user's is refused, not replaced. Stale temp files of
// killed writers are then removed (see CleanTemps).
func (d *Dir) WriteFile(name string, data []byte, perm fs.FileMode) error {
	if err := validName(name); err != nil {
		return err
	}
	// What it replaces must be the user's own file too.
	if f, _, err := d.open(name, os.O_RDONLY, 0); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if d.opts.Private {
		perm &^= 0o077
	}
	var tmp *os.File
	var tmpName string
	for range 100 {
		tmpName = "." + name + ".tmp-" + strconv.FormatUint(uint64(rand.Uint32()), 10)
		f, err := d.root.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		tmp = f
		break
	}
	if tmp == nil {
		return fmt.Errorf("%s: cannot create a temp file", d.Join(name))
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			d.root.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(perm); err != nil { // exactly perm, whatever the umask
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := d.replace(tmpName, name); err != nil {
		return fmt.Errorf("replace %s: %w", d.Join(name), err)
	}
	ok = true
	d.CleanTemps(name) // best effort: temp files of writers that were killed
	return nil
}

// WriteFileAtomic replaces the file at path with data through WriteFile,
// in the directory that holds it opened under the trust rule (OpenParent:
// a link of the user's at path is followed and kept; a dangling one's
// target is created). The file gets perm, or the mode of the file it
// replaces when keepMode is true and the file exists.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode, keepMode bool) error {
	d, name, err := OpenParent(path, DirOptions{})
	if err != nil {
		return err
	}
	defer d.Close()
	if keepMode {
		if fi, err := d.Lstat(name); err == nil && fi.Mode().IsRegular() {
			perm = fi.Mode().Perm()
		}
	}
	return d.WriteFile(name, data, perm)
}
