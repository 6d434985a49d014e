package populate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/fsutil"
)

// LockTimeout bounds the wait for another writer of the config file.
const LockTimeout = 10 * time.Second

// maxWriteAttempts bounds the read-compute-write rounds when a writer that
// does not take the lock (an editor, `aws configure set`) changes the file
// meanwhile.
const maxWriteAttempts = 5

// beforeCommit, if set (by tests), runs after the new content is computed
// and before the file is read again for the compare-and-swap check.
var beforeCommit func(attempt int)

// Read returns the file at path; a missing file is empty.
func Read(path string) ([]byte, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", awsconfig.ShortPath(path), err)
	}
	return data, true, nil
}

// Update applies in to the config file at path under the lock
// fsutil.Acquire(path+".lock"), and writes the result atomically (keeping
// the file's mode; a new file is 0600 in a 0700 directory) only when it
// changed. If the file changes between the read and the write, the update
// is computed again from the new content.
func Update(ctx context.Context, path string, in Input) (*Result, error) {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := fsutil.MkdirPrivate(dir); err != nil {
			return nil, fmt.Errorf("create the directory of %s: %w", awsconfig.ShortPath(path), err)
		}
	}
	lock, err := fsutil.Acquire(ctx, path+".lock", LockTimeout, nil)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", awsconfig.ShortPath(path), err)
	}
	defer lock.Release()
	for attempt := 1; ; attempt++ {
		data, existed, err := Read(path)
		if err != nil {
			return nil, err
		}
		res, err := Apply(path, data, in)
		if err != nil || !res.Changed {
			return res, err
		}
		if beforeCommit != nil {
			beforeCommit(attempt)
		}
		now, nowExists, err := Read(path)
		if err != nil {
			return nil, err
		}
		if nowExists == existed && bytes.Equal(now, data) {
			if err := fsutil.WriteFileAtomic(path, res.Data, 0o600, true); err != nil {
				return nil, fmt.Errorf("write %s: %w", awsconfig.ShortPath(path), err)
			}
			return res, nil
		}
		if attempt == maxWriteAttempts {
			return nil, fmt.Errorf("%s changed while rolehop was updating it, %d times in a row; nothing was written, try again", awsconfig.ShortPath(path), attempt)
		}
	}
}
