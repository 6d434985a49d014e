package picker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// ErrCancelled is returned when the person cancels the picker (Esc, Ctrl-C),
// the terminal's input ends, or a signal stops it.
var ErrCancelled = errors.New("cancelled")

// SignalError is returned when a signal (SIGINT, SIGTERM, SIGHUP) stopped
// the picker. It is ErrCancelled.
type SignalError struct{ Signal os.Signal }

func (e *SignalError) Error() string        { return fmt.Sprintf("cancelled by %v", e.Signal) }
func (e *SignalError) Is(target error) bool { return target == ErrCancelled }

// DefaultEscDelay is how long a lone ESC waits for the rest of an escape
// sequence before it counts as the Esc key.
const DefaultEscDelay = 100 * time.Millisecond

// Loop is how Run talks to its terminal beyond the two streams.
type Loop struct {
	// Size returns the terminal's width and height; nil means 80x24. It is
	// asked before every frame.
	Size func() (width, height int)
	// Redraw, when it delivers, makes Run draw again (a window resize).
	Redraw <-chan struct{}
	// EscDelay replaces DefaultEscDelay.
	EscDelay time.Duration
}

type chunk struct {
	data []byte
	err  error
}

// Run shows the picker on out, reads keys from in and returns the index (in
// items) of the chosen item. It returns ErrCancelled when cancelled and
// context.Cause(ctx) when ctx ends. in should deliver keystrokes as a raw
// terminal sends them; Run reads it from a goroutine that stops at the next
// read after Run returns. The frame is erased before Run returns.
func Run(ctx context.Context, in io.Reader, out io.Writer, items []Item, opts Options, loop Loop) (int, error) {
	m := NewModel(items, opts)
	size := loop.Size
	if size == nil {
		size = func() (int, int) { return 80, 24 }
	}
	escDelay := loop.EscDelay
	if escDelay <= 0 {
		escDelay = DefaultEscDelay
	}

	chunks := make(chan chunk)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			buf := make([]byte, 256)
			n, err := in.Read(buf)
			select {
			case chunks <- chunk{buf[:n], err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()

	draw := func() error {
		m.Resize(size())
		_, err := out.Write(m.Render())
		return err
	}
	drawn := false
	defer func() {
		if drawn {
			_, _ = io.WriteString(out, ClearSequence)
		}
	}()
	if err := draw(); err != nil {
		return -1, err
	}
	drawn = true

	var dec Decoder
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	// apply handles keys; it reports a result when the picker is done.
	apply := func(keys []Key) (idx int, finished bool, err error) {
		for _, k := range keys {
			switch m.Handle(k) {
			case ActionSelect:
				i, _ := m.Selected()
				return i, true, nil
			case ActionCancel:
				return -1, true, ErrCancelled
			}
		}
		return -1, false, nil
	}
	for {
		var keys []Key
		var readErr error
		redraw := false
		select {
		case <-ctx.Done():
			return -1, context.Cause(ctx)
		case <-loop.Redraw:
			redraw = true
		case <-timer.C:
			keys = dec.Flush()
		case c := <-chunks:
			keys = dec.Feed(c.data)
			readErr = c.err
			if readErr != nil {
				keys = append(keys, dec.Flush()...)
			}
			timer.Stop()
			if dec.Pending() {
				timer.Reset(escDelay)
			}
		}
		if idx, finished, err := apply(keys); finished {
			return idx, err
		}
		if readErr != nil {
			if errors.Is(readErr, io.EOF) {
				return -1, fmt.Errorf("terminal input ended: %w", ErrCancelled)
			}
			return -1, fmt.Errorf("reading the terminal: %w", readErr)
		}
		if len(keys) == 0 && !redraw {
			continue // only the start of an escape sequence
		}
		if err := draw(); err != nil {
			return -1, err
		}
	}
}
