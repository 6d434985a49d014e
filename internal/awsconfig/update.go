package awsconfig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"time"

	"github.com/rolehop/rolehop/internal/fsutil"
)

// DefaultLockTimeout is the lock wait when UpdateOptions.LockTimeout is 0.
const DefaultLockTimeout = 10 * time.Second

// maxWriteAttempts bounds the read-modify-write retries when another writer
// changes the file under us.
const maxWriteAttempts = 5

// UpdateOptions tune UpdateFile.
type UpdateOptions struct {
	// LockTimeout is how long to wait for the lock; 0 means
	// DefaultLockTimeout.
	LockTimeout time.Duration
	// Secret says the file holds secrets: one that group or others may
	// read is tightened to 0600, and Notice is told.
	Secret bool
	// Notice is told what was tightened (one sentence); nil: nobody.
	Notice func(format string, args ...any)
	// BeforeCommit, if set (tests), runs after the new content is computed
	// and before the file is read again for the compare-and-swap check.
	BeforeCommit func(attempt int)
}

// UpdateFile is the one read-modify-write of a file rolehop shares with
// the AWS tools (the credentials file, the config file):
//
//   - The file's directory is opened under fsutil's trust rule (created
//     0700 when missing), so rolehop never writes through someone else's
//     directory or link; a link of the user's at path is followed and kept.
//   - It holds the cross-process lock NAME.lock next to the file while it
//     works, waiting at most opts.LockTimeout. The lock file is left in
//     place.
//   - change gets the current content (a missing file is nil, existed
//     false) and returns the new one; when that is the same bytes (nil for
//     a missing file), nothing is written and UpdateFile returns false.
//   - The file keeps its mode (0600 when new; see opts.Secret) and is
//     replaced atomically, so readers see the old or the new file.
//   - Writers that do not take the lock (`aws configure set`, editors) are
//     handled by compare-and-swap: right before the write the file is read
//     again, and if it changed since it was read, the whole
//     read-modify-write is redone (up to 5 attempts) so their change is not
//     lost. A small window remains: a change made between that second read
//     and the rename (the time to write and fsync a temp file) is
//     overwritten. Closing it would need the other writers to take the lock.
func UpdateFile(ctx context.Context, path string, opts UpdateOptions, change func(data []byte, existed bool) ([]byte, error)) (bool, error) {
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	dir, name, err := fsutil.OpenParent(path, fsutil.DirOptions{Create: true})
	if err != nil {
		return false, fmt.Errorf("%s: %w", ShortPath(path), err)
	}
	defer dir.Close()
	lock, err := dir.Lock(ctx, name+".lock", timeout, nil)
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", ShortPath(path), err)
	}
	defer lock.Release()
	read := func() ([]byte, bool, error) {
		data, err := dir.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("read %s: %w", ShortPath(path), err)
		}
		return data, true, nil
	}
	// perm is the mode to write: the file's own (0600 when new), tightened
	// when it holds secrets that others could read.
	perm := func(existed bool) (fs.FileMode, bool) {
		mode := fs.FileMode(0o600)
		if fi, err := dir.Lstat(name); err == nil && existed {
			mode = fi.Mode().Perm()
		}
		if opts.Secret && mode&0o077 != 0 && runtime.GOOS != "windows" {
			return 0o600, true
		}
		return mode, false
	}
	for attempt := 1; ; attempt++ {
		data, existed, err := read()
		if err != nil {
			return false, err
		}
		out, err := change(data, existed)
		if err != nil {
			return false, err
		}
		if _, tighten := perm(existed); bytes.Equal(out, data) && (existed || out == nil) && !tighten {
			return false, nil
		}
		if opts.BeforeCommit != nil {
			opts.BeforeCommit(attempt)
		}
		now, nowExists, err := read()
		if err != nil {
			return false, err
		}
		if nowExists == existed && bytes.Equal(now, data) {
			mode, tightened := perm(existed)
			if err := dir.WriteFile(name, out, mode); err != nil {
				return false, fmt.Errorf("write %s: %w", ShortPath(path), err)
			}
			if tightened && opts.Notice != nil {
				opts.Notice("%s was readable by others: tightened it to 0600, as it holds credentials", ShortPath(path))
			}
			return true, nil
		}
		if attempt == maxWriteAttempts {
			return false, fmt.Errorf("%s changed while rolehop was updating it, %d times in a row; nothing was written, try again",
				ShortPath(path), attempt)
		}
	}
}
