package picker

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"runtime"
)

// ErrNoTerminal is returned (wrapped in a *NoTerminalError) when there is no
// terminal to draw on: no controlling terminal, or it cannot be put in raw
// mode.
var ErrNoTerminal = errors.New("no terminal")

// NoTerminalError says why the terminal could not be used.
type NoTerminalError struct{ Err error }

func (e *NoTerminalError) Error() string        { return e.Err.Error() }
func (e *NoTerminalError) Unwrap() error        { return e.Err }
func (e *NoTerminalError) Is(target error) bool { return target == ErrNoTerminal }

// terminal is the controlling terminal of the platform.
type terminal interface {
	// Read reads keystrokes. After close it returns io.EOF.
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	// makeRaw puts the terminal in raw mode; restore undoes it.
	makeRaw() (restore func(), err error)
	// size is the window's width and height (80x24 when unknown).
	size() (width, height int)
	// resized delivers when the window size changes (nil when the platform
	// does not tell); stop ends the notifications.
	resized() (ch <-chan struct{}, stop func())
	// close makes a pending Read return, waits for it, and closes the
	// terminal: no keystroke typed afterwards is consumed.
	close()
}

// RunTerminal runs the picker on the controlling terminal — /dev/tty, or
// CONIN$/CONOUT$ on Windows — so it works while stdin and stdout are
// redirected. The terminal is in raw mode while the picker runs and is
// restored however RunTerminal ends: a choice, a cancel, an error, a panic,
// or SIGINT/SIGTERM/SIGHUP (which return a *SignalError). A *NoTerminalError
// (ErrNoTerminal) says there is no terminal to use.
func RunTerminal(ctx context.Context, items []Item, opts Options) (int, error) {
	t, err := openTerminal()
	if err != nil {
		return -1, &NoTerminalError{err}
	}
	defer t.close()
	restore, err := t.makeRaw()
	if err != nil {
		return -1, &NoTerminalError{err}
	}
	defer restore()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, terminateSignals...)
	defer signal.Stop(sigs)
	go func() {
		select {
		case s := <-sigs:
			cancel(&SignalError{s})
		case <-ctx.Done():
		}
	}()
	redraw, stopResize := t.resized()
	defer stopResize()
	return Run(ctx, t, t, items, opts, Loop{Size: t.size, Redraw: redraw})
}

// StyleFor picks the style for a terminal from the environment: StyleMarker
// when NO_COLOR is set (https://no-color.org) or the terminal is unknown or
// "dumb", StyleReverse otherwise.
func StyleFor(getenv func(string) string) Style {
	if getenv("NO_COLOR") != "" {
		return StyleMarker
	}
	if runtime.GOOS == "windows" {
		return StyleReverse // the console is switched to VT processing
	}
	switch getenv("TERM") {
	case "", "dumb":
		return StyleMarker
	}
	return StyleReverse
}
