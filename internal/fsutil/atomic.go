// Package fsutil holds the two file primitives every rolehop writer uses:
// atomic replacement (a reader sees the old or the new file, never a torn
// one, even if the writer is killed) and cross-process locks that the
// operating system releases when the holder dies.
package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFileAtomic replaces path with data: it writes a temp file in the same
// directory, syncs it, gives it perm (or the mode of the file it replaces
// when keepMode is true and the file exists), and renames it over path. A
// symlink at path is followed, so the link itself is kept (a dangling link's
// target is created). Stale temp files of killed writers are then removed
// (see CleanTemps).
func WriteFileAtomic(path string, data []byte, perm fs.FileMode, keepMode bool) error {
	path, err := followLinks(path)
	if err != nil {
		return err
	}
	if keepMode {
		if st, err := os.Stat(path); err == nil {
			perm = st.Mode().Perm()
		}
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
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
	if err := replace(name, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	ok = true
	CleanTemps(path) // best effort: temp files of writers that were killed
	return nil
}

// followLinks returns the file that path names once symlinks are followed,
// including a dangling link (whose target does not exist yet: it is
// created, and the link kept).
func followLinks(path string) (string, error) {
	target, err := filepath.EvalSymlinks(path)
	if err == nil {
		return target, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	for range 255 {
		st, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		link, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(link) {
			dir, err := filepath.EvalSymlinks(filepath.Dir(path))
			if err != nil {
				return "", err
			}
			link = filepath.Join(dir, link)
		}
		path = link
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// MkdirPrivate creates dir (and parents) with mode 0700 and tightens an
// existing dir to 0700 when it is more open.
func MkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return os.Chmod(dir, 0o700)
	}
	return nil
}
