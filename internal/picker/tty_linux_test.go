package picker

import (
	"io"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns a pseudo-terminal's master and the path of its slave.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: 33, Col: 111}); err != nil {
		t.Fatal(err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	return master, "/dev/pts/" + strconv.FormatUint(uint64(n), 10)
}

func openSlave(t *testing.T, path string) int {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// TestUnixTerminalCloseStopsPendingRead: close makes a Read blocked on the
// terminal return, and a key typed afterwards is left for the next reader
// (rolehop exec's child) instead of being swallowed.
func TestUnixTerminalCloseStopsPendingRead(t *testing.T) {
	master, slavePath := openPTY(t)
	tt, err := newUnixTerminal(openSlave(t, slavePath))
	if err != nil {
		t.Fatal(err)
	}
	other := openSlave(t, slavePath) // the next program's view of the terminal
	defer unix.Close(other)
	restore, err := tt.makeRaw()
	if err != nil {
		t.Fatal(err)
	}

	if w, h := tt.size(); w != 111 || h != 33 {
		t.Errorf("size %dx%d, want 111x33", w, h)
	}
	if _, err := master.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if n, err := tt.Read(buf); err != nil || string(buf[:n]) != "a" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}

	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := tt.Read(buf)
		done <- result{n, err}
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case r := <-done:
		t.Fatalf("Read returned %d, %v with nothing typed", r.n, r.err)
	default:
	}
	restore() // as RunTerminal does: restore, then close
	tt.close()
	select {
	case r := <-done:
		if r.err != io.EOF {
			t.Fatalf("pending Read after close = %d, %v; want EOF", r.n, r.err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("close did not stop the pending Read")
	}
	if n, err := tt.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("Read after close = %d, %v; want EOF", n, err)
	}
	tt.close() // twice is fine

	if _, err := master.Write([]byte("b\n")); err != nil {
		t.Fatal(err)
	}
	if err := unix.SetNonblock(other, true); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		n, err := unix.Read(other, buf)
		if err == nil && string(buf[:n]) == "b\n" {
			break
		}
		if err != nil && err != syscall.EAGAIN || time.Now().After(deadline) {
			t.Fatalf("the key typed after close did not reach the next reader: %q, %v", buf[:max(n, 0)], err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUnixTerminalRawAndRestore: makeRaw turns off canonical mode and echo;
// restore brings back the exact mode.
func TestUnixTerminalRawAndRestore(t *testing.T) {
	_, slavePath := openPTY(t)
	fd := openSlave(t, slavePath)
	tt, err := newUnixTerminal(fd)
	if err != nil {
		t.Fatal(err)
	}
	defer tt.close()
	before, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	restore, err := tt.makeRaw()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := unix.IoctlGetTermios(fd, unix.TCGETS)
	if raw.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 {
		t.Errorf("raw mode still has ICANON/ECHO/ISIG: lflag %#o", raw.Lflag)
	}
	restore()
	after, _ := unix.IoctlGetTermios(fd, unix.TCGETS)
	if *after != *before {
		t.Errorf("mode not restored:\nbefore %+v\nafter  %+v", before, after)
	}
}
