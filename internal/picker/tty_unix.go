//go:build unix

package picker

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

var terminateSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// fdSetSize is FD_SETSIZE: select cannot wait on larger descriptors.
const fdSetSize = 1024

// unixTerminal is /dev/tty. Reads wait in select(2) on the terminal and on
// a pipe that close writes to, so that close can stop a pending read: a
// goroutine left blocked in read(2) would swallow the next keystroke meant
// for whatever runs after the picker (rolehop exec's child).
type unixTerminal struct {
	fd   int
	wake [2]int // pipe: close writes to wake[1], Read watches wake[0]

	mu        sync.Mutex // held by Read
	stopped   atomic.Bool
	closeOnce sync.Once
}

func openTerminal() (terminal, error) {
	fd, err := unix.Open("/dev/tty", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/dev/tty", Err: err}
	}
	if !term.IsTerminal(fd) {
		unix.Close(fd)
		return nil, errors.New("/dev/tty is not a terminal")
	}
	t, err := newUnixTerminal(fd)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return t, nil
}

// newUnixTerminal wraps the terminal descriptor fd, which close closes.
func newUnixTerminal(fd int) (*unixTerminal, error) {
	t := &unixTerminal{fd: fd}
	if err := unix.Pipe(t.wake[:]); err != nil {
		return nil, os.NewSyscallError("pipe", err)
	}
	unix.CloseOnExec(t.wake[0])
	unix.CloseOnExec(t.wake[1])
	_ = unix.SetNonblock(t.wake[1], true)
	return t, nil
}

func (t *unixTerminal) Read(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		if t.stopped.Load() {
			return 0, io.EOF
		}
		if t.fd < fdSetSize && t.wake[0] < fdSetSize {
			var rs unix.FdSet
			rs.Set(t.fd)
			rs.Set(t.wake[0])
			_, err := unix.Select(max(t.fd, t.wake[0])+1, &rs, nil, nil, nil)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return 0, os.NewSyscallError("select", err)
			}
			if rs.IsSet(t.wake[0]) {
				return 0, io.EOF
			}
			if !rs.IsSet(t.fd) {
				continue
			}
		}
		n, err := unix.Read(t.fd, p)
		switch {
		case err == unix.EINTR || err == unix.EAGAIN:
			continue
		case err != nil:
			return 0, &os.PathError{Op: "read", Path: "/dev/tty", Err: err}
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (t *unixTerminal) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		n, err := unix.Write(t.fd, p[written:])
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return written, &os.PathError{Op: "write", Path: "/dev/tty", Err: err}
		}
		written += n
	}
	return written, nil
}

func (t *unixTerminal) makeRaw() (func(), error) {
	st, err := term.MakeRaw(t.fd)
	if err != nil {
		return nil, err
	}
	return func() { _ = term.Restore(t.fd, st) }, nil
}

func (t *unixTerminal) size() (int, int) {
	w, h, err := term.GetSize(t.fd)
	if err != nil || w <= 0 || h <= 0 {
		return 80, 24
	}
	return w, h
}

func (t *unixTerminal) resized() (<-chan struct{}, func()) {
	sig := make(chan os.Signal, 1)
	out := make(chan struct{}, 1)
	done := make(chan struct{})
	signal.Notify(sig, unix.SIGWINCH)
	go func() {
		for {
			select {
			case <-sig:
				select {
				case out <- struct{}{}:
				default:
				}
			case <-done:
				return
			}
		}
	}()
	return out, func() {
		signal.Stop(sig)
		close(done)
	}
}

func (t *unixTerminal) close() {
	t.closeOnce.Do(func() {
		t.stopped.Store(true)
		_, _ = unix.Write(t.wake[1], []byte{0})
		t.mu.Lock() // wait for a pending Read to return
		defer t.mu.Unlock()
		unix.Close(t.fd)
		unix.Close(t.wake[0])
		unix.Close(t.wake[1])
	})
}
