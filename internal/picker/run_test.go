package picker

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// screen is a writer that records frames and tells when one was written.
type screen struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	wrote  chan struct{}
}

func newScreen() *screen { return &screen{wrote: make(chan struct{}, 100)} }

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	s.buf.Write(p)
	select {
	case s.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

type runResult struct {
	idx int
	err error
}

// start runs the picker over sample with a pipe as the keyboard.
func start(t *testing.T, ctx context.Context, opts Options, loop Loop) (*io.PipeWriter, *screen, <-chan runResult) {
	t.Helper()
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	scr := newScreen()
	done := make(chan runResult, 1)
	go func() {
		idx, err := Run(ctx, pr, scr, sample, opts, loop)
		done <- runResult{idx, err}
	}()
	return pw, scr, done
}

func wait(t *testing.T, done <-chan runResult) runResult {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	return runResult{}
}

func write(t *testing.T, w io.Writer, s string) {
	t.Helper()
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
}

func TestRunSelects(t *testing.T) {
	kb, scr, done := start(t, context.Background(), Options{}, Loop{})
	write(t, kb, "PROD eu")
	write(t, kb, "\x1b[B")
	write(t, kb, "\r")
	r := wait(t, done)
	if r.err != nil || sample[r.idx].Name != "search-prod" {
		t.Fatalf("Run = %d, %v; want search-prod", r.idx, r.err)
	}
	out := scr.String()
	if !strings.Contains(out, "> PROD eu") || !strings.Contains(out, " 2/6") {
		t.Errorf("the filter and count were not shown:\n%q", out)
	}
	if !strings.HasSuffix(out, ClearSequence) {
		t.Errorf("the frame was not erased at the end:\n%q", out)
	}
}

func TestRunInitialFilterAndAllKeysInOneRead(t *testing.T) {
	kb, _, done := start(t, context.Background(), Options{Filter: "developer"}, Loop{})
	write(t, kb, "\x1b[B\x1b[A\x0e\r")
	if r := wait(t, done); r.err != nil || sample[r.idx].Name != "search-staging" {
		t.Fatalf("Run = %d, %v; want search-staging", r.idx, r.err)
	}
}

func TestRunEscapeSequenceSplitAcrossReads(t *testing.T) {
	kb, _, done := start(t, context.Background(), Options{}, Loop{EscDelay: 5 * time.Second})
	write(t, kb, "\x1b")
	time.Sleep(20 * time.Millisecond)
	write(t, kb, "[")
	time.Sleep(20 * time.Millisecond)
	write(t, kb, "6")
	time.Sleep(20 * time.Millisecond)
	write(t, kb, "~\r") // PgDn: to the last of the 6 items
	if r := wait(t, done); r.err != nil || sample[r.idx].Name != "tools" {
		t.Fatalf("Run = %d, %v; want tools", r.idx, r.err)
	}
}

func TestRunCancel(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys string
	}{
		{"Esc", "pro\x1b"},
		{"Ctrl-C", "pro\x03"},
		{"Ctrl-G", "\x07"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kb, scr, done := start(t, context.Background(), Options{}, Loop{EscDelay: 10 * time.Millisecond})
			write(t, kb, tc.keys)
			r := wait(t, done)
			if !errors.Is(r.err, ErrCancelled) || r.idx != -1 {
				t.Fatalf("Run = %d, %v; want ErrCancelled", r.idx, r.err)
			}
			if !strings.HasSuffix(scr.String(), ClearSequence) {
				t.Errorf("the frame was not erased")
			}
		})
	}
}

func TestRunEndOfInputCancels(t *testing.T) {
	kb, _, done := start(t, context.Background(), Options{}, Loop{})
	write(t, kb, "prod")
	kb.Close()
	if r := wait(t, done); !errors.Is(r.err, ErrCancelled) {
		t.Fatalf("Run = %d, %v; want ErrCancelled", r.idx, r.err)
	}
}

func TestRunLoneEscAtEndOfInputCancels(t *testing.T) {
	kb, _, done := start(t, context.Background(), Options{}, Loop{EscDelay: time.Hour})
	write(t, kb, "\x1b")
	kb.Close()
	if r := wait(t, done); !errors.Is(r.err, ErrCancelled) {
		t.Fatalf("Run = %d, %v; want ErrCancelled", r.idx, r.err)
	}
}

func TestRunReadError(t *testing.T) {
	kb, _, done := start(t, context.Background(), Options{}, Loop{})
	boom := errors.New("boom")
	kb.CloseWithError(boom)
	if r := wait(t, done); !errors.Is(r.err, boom) || errors.Is(r.err, ErrCancelled) {
		t.Fatalf("Run = %d, %v; want boom", r.idx, r.err)
	}
}

func TestRunContextCause(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	_, scr, done := start(t, ctx, Options{}, Loop{})
	<-scr.wrote
	sigErr := &SignalError{Signal: fakeSignal("terminated")}
	cancel(sigErr)
	r := wait(t, done)
	if !errors.Is(r.err, ErrCancelled) {
		t.Fatalf("Run = %v; want a SignalError that is ErrCancelled", r.err)
	}
	var se *SignalError
	if !errors.As(r.err, &se) || se != sigErr {
		t.Fatalf("Run = %v; want the SignalError", r.err)
	}
	if !strings.HasSuffix(scr.String(), ClearSequence) {
		t.Errorf("the frame was not erased")
	}
}

type fakeSignal string

func (s fakeSignal) String() string { return string(s) }
func (fakeSignal) Signal()          {}

func TestRunRedrawsWithNewSize(t *testing.T) {
	var mu sync.Mutex
	w, h := 80, 24
	size := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return w, h
	}
	redraw := make(chan struct{})
	kb, scr, done := start(t, context.Background(), Options{}, Loop{Size: size, Redraw: redraw})
	<-scr.wrote
	mu.Lock()
	w, h = 20, 3 // two rows below the header
	mu.Unlock()
	redraw <- struct{}{}
	<-scr.wrote
	out := scr.String()
	frames := strings.Split(out, "\x1b[J")
	lastFrame := frames[len(frames)-2]
	if n := strings.Count(lastFrame, "\r\n"); n != 2 {
		t.Errorf("last frame has %d rows, want 2: %q", n, lastFrame)
	}
	if !strings.Contains(lastFrame, "> billing-dev") || strings.Contains(lastFrame, "default") {
		t.Errorf("last frame: %q", lastFrame)
	}
	write(t, kb, "\r")
	if r := wait(t, done); r.err != nil || r.idx != 0 {
		t.Fatalf("Run = %d, %v", r.idx, r.err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("write failed") }

func TestRunWriteError(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	if _, err := Run(context.Background(), pr, failWriter{}, sample, Options{}, Loop{}); err == nil || err.Error() != "write failed" {
		t.Fatalf("Run = %v, want the write error", err)
	}
}
