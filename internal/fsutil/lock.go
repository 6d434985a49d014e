package fsutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// ErrLockTimeout is returned when a lock could not be taken in time.
var ErrLockTimeout = errors.New("timed out waiting for the lock")

// Lock is an exclusive cross-process lock on a lock file. The operating
// system drops it when the holding process exits, however it exits, so a
// crashed holder never blocks others for longer than its own life.
type Lock struct{ f *os.File }

// Acquire takes the lock on the file at path (created 0600 if missing) in
// its directory opened under the trust rule: Dir.Lock.
func Acquire(ctx context.Context, path string, timeout time.Duration, onWait func()) (*Lock, error) {
	d, name, err := OpenParent(path, DirOptions{})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Lock(ctx, name, timeout, onWait)
}

// Lock takes the lock on the entry name (a regular file of the user's,
// created 0600 if missing), waiting until ctx is done or timeout passes.
// onWait, if not nil, is called once when the lock is busy (to tell the
// user why they wait).
//
// A busy lock is waited for in the kernel (flock, LockFileEx), which wakes
// the waiters as soon as it is released. Polling with a growing delay, as
// Acquire once did, let newcomers (polling every few milliseconds) overtake
// processes that had waited longest (every 50 ms): with 20-30 processes
// taking turns on a lock held 20 ms at a time, some waited over 10 s.
//
// When the wait ends by timeout or ctx, the waiting goroutine stays blocked
// in the kernel until the lock is released, then drops it at once.
func (d *Dir) Lock(ctx context.Context, name string, timeout time.Duration, onWait func()) (*Lock, error) {
	path := d.Join(name)
	f, _, err := d.open(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	ok, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if ok {
		return &Lock{f: f}, nil
	}
	if onWait != nil {
		onWait()
	}
	w := &waiter{f: f, done: make(chan error, 1)}
	go w.wait()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var giveUp error
	select {
	case err := <-w.done:
		return w.result(path, err)
	case <-timer.C:
		giveUp = fmt.Errorf("%w %s after %s", ErrLockTimeout, path, timeout)
	case <-ctx.Done():
		giveUp = ctx.Err()
	}
	if w.state.CompareAndSwap(waiting, abandoned) {
		return nil, giveUp // w.wait closes the file
	}
	return w.result(path, <-w.done) // it got the lock just now
}

// Waiter states.
const (
	waiting   int32 = iota
	handed          // the waiting goroutine handed its result to Acquire
	abandoned       // Acquire gave up; the waiting goroutine cleans up
)

// waiter is one blocking wait for a lock; the file belongs to Acquire until
// it abandons the wait, then to the waiting goroutine.
type waiter struct {
	f     *os.File
	state atomic.Int32
	done  chan error
}

func (w *waiter) wait() {
	err := lockWait(w.f)
	if w.state.CompareAndSwap(waiting, handed) {
		w.done <- err
		return
	}
	if err == nil {
		_ = unlock(w.f)
	}
	w.f.Close()
}

// result turns the waiting goroutine's outcome into Acquire's.
func (w *waiter) result(path string, err error) (*Lock, error) {
	if err != nil {
		w.f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: w.f}, nil
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
