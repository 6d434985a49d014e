//go:build windows

package picker

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/term"
)

var terminateSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

var procReadConsoleInputW = windows.NewLazySystemDLL("kernel32.dll").NewProc("ReadConsoleInputW")

// inputRecord is INPUT_RECORD with the KEY_EVENT_RECORD member of its union
// (the largest member is 16 bytes, as is KEY_EVENT_RECORD).
type inputRecord struct {
	eventType       uint16
	_               uint16
	keyDown         int32
	repeatCount     uint16
	virtualKeyCode  uint16
	virtualScanCode uint16
	unicodeChar     uint16
	controlKeyState uint32
}

// winTerminal is the console: CONIN$ and CONOUT$. Reads wait on the input
// handle and on an event that close sets, and take the input records with
// ReadConsoleInputW (which never blocks once the handle is signalled, unlike
// ReadFile, which would wait for a key when only key-up or focus records are
// queued), so that close can stop a pending read: no keystroke meant for
// whatever runs after the picker is swallowed.
type winTerminal struct {
	in, out *os.File
	stop    windows.Handle // manual-reset event

	mu        sync.Mutex // held by Read
	pending   []byte     // decoded input that did not fit the last Read
	surrogate uint16     // first half of a UTF-16 surrogate pair
	stopped   atomic.Bool
	closeOnce sync.Once
}

func openTerminal() (terminal, error) {
	in, err := os.OpenFile("CONIN$", os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	out, err := os.OpenFile("CONOUT$", os.O_RDWR, 0)
	if err != nil {
		in.Close()
		return nil, err
	}
	if !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
		in.Close()
		out.Close()
		return nil, errors.New("CONIN$/CONOUT$ is not a console")
	}
	stop, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		in.Close()
		out.Close()
		return nil, os.NewSyscallError("CreateEvent", err)
	}
	return &winTerminal{in: in, out: out, stop: stop}, nil
}

func (t *winTerminal) Read(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.pending) == 0 {
		if t.stopped.Load() {
			return 0, io.EOF
		}
		h := windows.Handle(t.in.Fd())
		ev, err := windows.WaitForMultipleObjects([]windows.Handle{h, t.stop}, false, windows.INFINITE)
		if err != nil {
			return 0, os.NewSyscallError("WaitForMultipleObjects", err)
		}
		if ev != windows.WAIT_OBJECT_0 {
			return 0, io.EOF
		}
		var recs [16]inputRecord
		var n uint32
		r, _, err := procReadConsoleInputW.Call(uintptr(h), uintptr(unsafe.Pointer(&recs[0])), uintptr(len(recs)), uintptr(unsafe.Pointer(&n)))
		if r == 0 {
			return 0, os.NewSyscallError("ReadConsoleInputW", err)
		}
		for _, rec := range recs[:n] {
			if rec.eventType != windows.KEY_EVENT || rec.keyDown == 0 || rec.unicodeChar == 0 {
				continue
			}
			for range max(1, int(rec.repeatCount)) {
				t.appendChar(rec.unicodeChar)
			}
		}
	}
	n := copy(p, t.pending)
	t.pending = t.pending[n:]
	return n, nil
}

// appendChar adds one UTF-16 code unit to the pending UTF-8 input.
func (t *winTerminal) appendChar(c uint16) {
	switch {
	case utf16.IsSurrogate(rune(c)) && c < 0xdc00:
		t.surrogate = c
		return
	case utf16.IsSurrogate(rune(c)):
		if t.surrogate != 0 {
			t.pending = utf8.AppendRune(t.pending, utf16.DecodeRune(rune(t.surrogate), rune(c)))
		}
	default:
		t.pending = utf8.AppendRune(t.pending, rune(c))
	}
	t.surrogate = 0
}

func (t *winTerminal) Write(p []byte) (int, error) { return t.out.Write(p) }

func (t *winTerminal) makeRaw() (func(), error) {
	st, err := term.MakeRaw(int(t.in.Fd()))
	if err != nil {
		return nil, err
	}
	h := windows.Handle(t.out.Fd())
	var mode uint32
	if err := windows.GetConsoleMode(h, &mode); err != nil {
		_ = term.Restore(int(t.in.Fd()), st)
		return nil, os.NewSyscallError("GetConsoleMode", err)
	}
	if err := windows.SetConsoleMode(h, mode|windows.ENABLE_PROCESSED_OUTPUT|windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING); err != nil {
		_ = term.Restore(int(t.in.Fd()), st)
		return nil, fmt.Errorf("the console does not support escape sequences: %w", err)
	}
	return func() {
		_ = windows.SetConsoleMode(h, mode)
		_ = term.Restore(int(t.in.Fd()), st)
	}, nil
}

func (t *winTerminal) size() (int, int) {
	w, h, err := term.GetSize(int(t.out.Fd()))
	if err != nil || w <= 0 || h <= 0 {
		return 80, 24
	}
	return w, h
}

// resized: the console has no resize signal; Run asks for the size before
// every frame, so a resize shows with the next key.
func (t *winTerminal) resized() (<-chan struct{}, func()) { return nil, func() {} }

func (t *winTerminal) close() {
	t.closeOnce.Do(func() {
		t.stopped.Store(true)
		_ = windows.SetEvent(t.stop)
		t.mu.Lock() // wait for a pending Read to return
		defer t.mu.Unlock()
		t.in.Close()
		t.out.Close()
		_ = windows.CloseHandle(t.stop)
	})
}

// INPUT_RECORD is 20 bytes.
var _ [20]byte = [unsafe.Sizeof(inputRecord{})]byte{}
