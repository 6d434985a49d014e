package ui

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// buffer is a bytes.Buffer safe for the progress goroutine.
type buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestQuietSilencesNoticesWarningsAndProgress(t *testing.T) {
	var buf buffer
	o := New(Options{Err: &buf, ErrTerminal: true, ProgressDelay: time.Millisecond})
	o.Quiet = true
	o.Warnf("w %d", 1)
	o.Noticef("n")
	p := o.Start("waiting")
	time.Sleep(20 * time.Millisecond)
	p.Stop()
	p.Stop()
	if buf.String() != "" {
		t.Fatalf("quiet output wrote %q", buf.String())
	}
}

func TestLines(t *testing.T) {
	var buf buffer
	o := New(Options{Err: &buf})
	o.Warnf("expires in %s", "4m")
	o.Noticef("wrote [default]\n")
	if got, want := buf.String(), "rolehop: warning: expires in 4m\nrolehop: wrote [default]\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestShortWaitShowsNothing(t *testing.T) {
	for _, terminal := range []bool{false, true} {
		var buf buffer
		o := New(Options{Err: &buf, ErrTerminal: terminal, ProgressDelay: time.Hour})
		o.Start("waiting").Stop()
		if buf.String() != "" {
			t.Errorf("terminal=%v: a wait shorter than the delay wrote %q", terminal, buf.String())
		}
	}
}

func TestLongWaitWithoutTerminalIsOnePlainLine(t *testing.T) {
	var buf buffer
	o := New(Options{Err: &buf, ProgressDelay: 5 * time.Millisecond})
	p := o.Start("waiting for another process")
	time.Sleep(300 * time.Millisecond)
	p.Set("changed")
	time.Sleep(150 * time.Millisecond)
	p.Stop()
	if got, want := buf.String(), "rolehop: waiting for another process\n"; got != want {
		t.Fatalf("got %q, want %q (no control characters, printed once)", got, want)
	}
}

func TestSpinnerOnTerminalRedrawsAndErases(t *testing.T) {
	var buf buffer
	o := New(Options{Err: &buf, ErrTerminal: true, ProgressDelay: 5 * time.Millisecond})
	p := o.Start("listing roles: 0/3 accounts")
	time.Sleep(250 * time.Millisecond)
	p.Set("listing roles: 2/3 accounts")
	o.Warnf("no profile for role x")
	time.Sleep(150 * time.Millisecond)
	p.Stop()
	out := buf.String()
	for _, want := range []string{"\r\033[K| rolehop: listing roles: 0/3 accounts (0s)", "rolehop: listing roles: 2/3 accounts", "\r\033[Krolehop: warning: no profile for role x\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%q", want, out)
		}
	}
	if !strings.HasSuffix(out, "\r\033[K") {
		t.Errorf("Stop did not erase the spinner line: %q", out)
	}
	if n := strings.Count(out, "\r\033[K"); n < 3 {
		t.Errorf("spinner drawn %d times, want it redrawn", n)
	}
}

func TestPaint(t *testing.T) {
	if got := New(Options{Color: true}).Paint(Green, "ok"); got != "\033[32mok\033[0m" {
		t.Errorf("colour: %q", got)
	}
	if got := New(Options{}).Paint(Red, "FAILED"); got != "FAILED" {
		t.Errorf("no colour: %q", got)
	}
}

func TestDetect(t *testing.T) {
	var buf bytes.Buffer
	env := map[string]string{"TERM": "xterm"}
	o := Detect(&buf, &buf, func(k string) string { return env[k] })
	if o.ErrTerminal || o.Color {
		t.Errorf("a buffer is not a terminal: %+v", o)
	}
}
