package fsutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// ErrLockTimeout is returned when a lock could not be taken in time.
var ErrLockTimeout = errors.New("timed out waiting for the lock")

// Lock is an exclusive cross-process lock on a lock file. The operating
// system drops it when the holding process exits, however it exits, so a
// crashed holder never blocks others for longer than its own life.
type Lock struct{ f *os.File }

// Acquire takes the lock on path (created 0600 if missing), polling until
// ctx is done or timeout passes. onWait, if not nil, is called once when the
// lock is busy (to tell the user why they wait).
func Acquire(ctx context.Context, path string, timeout time.Duration, onWait func()) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	delay := 2 * time.Millisecond
	for waited := false; ; waited = true {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			return &Lock{f: f}, nil
		}
		if !waited && onWait != nil {
			onWait()
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w %s after %s", ErrLockTimeout, path, timeout)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}

// Release drops the lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
