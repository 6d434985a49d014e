package populate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/fsutil"
)

// LockTimeout bounds the wait for another writer of the config file.
const LockTimeout = 10 * time.Second

// beforeCommit, if set (by tests), runs after the new content is computed
// and before the file is read again for the compare-and-swap check.
var beforeCommit func(attempt int)

// Read returns the file at path; a missing file is empty.
func Read(path string) ([]byte, bool, error) {
	data, err := fsutil.ReadShared(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", awsconfig.ShortPath(path), err)
	}
	return data, true, nil
}

// Update applies in to the config file at path through
// awsconfig.UpdateFile (trust rule, lock, compare-and-swap, atomic write
// keeping the file's mode; a new file is 0600 in a 0700 directory), and
// writes only when the result changed.
func Update(ctx context.Context, path string, in Input) (*Result, error) {
	var res *Result
	_, err := awsconfig.UpdateFile(ctx, path, awsconfig.UpdateOptions{LockTimeout: LockTimeout, BeforeCommit: beforeCommit},
		func(data []byte, existed bool) ([]byte, error) {
			r, err := Apply(path, data, in)
			if err != nil {
				return nil, err
			}
			res = r
			if !r.Changed {
				return data, nil
			}
			return r.Data, nil
		})
	if err != nil {
		return nil, err
	}
	return res, nil
}
