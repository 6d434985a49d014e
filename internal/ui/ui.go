// Package ui is how rolehop talks to the person running it on stderr:
// notices and warnings that --quiet silences, a progress line for waits
// longer than a second (a spinner on a terminal, one plain line
// otherwise), and colour only on a terminal without NO_COLOR.
package ui

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Options describe the streams an Output writes to.
type Options struct {
	// Err is stderr.
	Err io.Writer
	// ErrTerminal: stderr is a terminal that can redraw a line (not
	// TERM=dumb), so progress is a spinner rather than a plain line.
	ErrTerminal bool
	// Color: stdout is a terminal and NO_COLOR is unset (no-color.org).
	Color bool
	// Quiet silences notices, warnings and progress (--quiet).
	Quiet bool
	// ProgressDelay is how long a wait lasts before it is shown; 0 means
	// one second.
	ProgressDelay time.Duration
}

// Detect fills in Options for the real process streams.
func Detect(stdout, stderr io.Writer, getenv func(string) string) Options {
	dumb := getenv("TERM") == "dumb"
	return Options{
		Err:         stderr,
		ErrTerminal: isTerminal(stderr) && !dumb,
		Color:       isTerminal(stdout) && !dumb && getenv("NO_COLOR") == "",
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Output writes notices, warnings and progress to stderr. It is safe for
// concurrent use; Quiet may be set (by the --quiet flag) before first use.
type Output struct {
	Quiet bool

	opts    Options
	mu      sync.Mutex
	drawn   *Progress // the spinner currently on the terminal line, if any
	spinner []string
}

// New returns an Output for opts.
func New(opts Options) *Output {
	if opts.ProgressDelay == 0 {
		opts.ProgressDelay = time.Second
	}
	if opts.Err == nil {
		opts.Err = io.Discard
	}
	return &Output{Quiet: opts.Quiet, opts: opts, spinner: []string{"|", "/", "-", `\`}}
}

// Warnf prints "rolehop: warning: …" unless quiet.
func (o *Output) Warnf(format string, args ...any) {
	o.linef("rolehop: warning: "+format, args...)
}

// Noticef prints "rolehop: …" unless quiet: what happened, for a person.
func (o *Output) Noticef(format string, args ...any) {
	o.linef("rolehop: "+format, args...)
}

func (o *Output) linef(format string, args ...any) {
	if o.Quiet {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clearLocked()
	fmt.Fprintf(o.opts.Err, strings.TrimSuffix(format, "\n")+"\n", args...)
	if o.drawn != nil {
		o.drawLocked(o.drawn)
	}
}

// Colors for Paint.
const (
	Green  = "32"
	Red    = "31"
	Yellow = "33"
	Bold   = "1"
)

// Paint wraps s in an ANSI colour for stdout when colour is allowed.
func (o *Output) Paint(color, s string) string {
	if !o.opts.Color || s == "" {
		return s
	}
	return "\033[" + color + "m" + s + "\033[0m"
}

// Progress is one wait shown on stderr.
type Progress struct {
	o       *Output
	start   time.Time
	mu      sync.Mutex
	msg     string
	shown   bool
	stopped bool
	stop    chan struct{}
	done    chan struct{}
}

// Start begins a wait described by msg ("waiting for the browser
// sign-in"). Nothing shows unless the wait lasts longer than the progress
// delay; then a terminal gets a spinner with the elapsed time, redrawn in
// place and erased by Stop, and anything else one plain "rolehop: msg"
// line. Quiet shows nothing.
func (o *Output) Start(msg string) *Progress {
	p := &Progress{o: o, start: time.Now(), msg: msg, stop: make(chan struct{}), done: make(chan struct{})}
	if o.Quiet {
		close(p.done)
		return p
	}
	go p.run()
	return p
}

// Set changes the message ("listing roles: 120/300 accounts").
func (p *Progress) Set(msg string) {
	p.mu.Lock()
	p.msg = msg
	p.mu.Unlock()
}

// Stop ends the wait and erases the spinner. It is safe to call twice.
func (p *Progress) Stop() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		<-p.done
		return
	}
	p.stopped = true
	p.mu.Unlock()
	if p.o.Quiet {
		return
	}
	close(p.stop)
	<-p.done
}

func (p *Progress) run() {
	defer close(p.done)
	o := p.o
	select {
	case <-p.stop:
		return
	case <-time.After(o.opts.ProgressDelay):
	}
	if !o.opts.ErrTerminal {
		p.mu.Lock()
		msg := p.msg
		p.mu.Unlock()
		o.linef("rolehop: %s", msg)
		<-p.stop
		return
	}
	o.mu.Lock()
	o.drawn = p
	o.drawLocked(p)
	o.mu.Unlock()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			o.mu.Lock()
			o.clearLocked()
			o.drawn = nil
			o.mu.Unlock()
			return
		case <-tick.C:
			o.mu.Lock()
			o.drawLocked(p)
			o.mu.Unlock()
		}
	}
}

// drawLocked redraws p's line; o.mu is held.
func (o *Output) drawLocked(p *Progress) {
	p.mu.Lock()
	msg := p.msg
	p.mu.Unlock()
	elapsed := time.Since(p.start)
	frame := o.spinner[int(elapsed/(100*time.Millisecond))%len(o.spinner)]
	fmt.Fprintf(o.opts.Err, "\r\033[K%s rolehop: %s (%ds)", frame, msg, int(elapsed/time.Second))
	p.shown = true
}

// clearLocked erases a drawn spinner line; o.mu is held.
func (o *Output) clearLocked() {
	if o.drawn != nil && o.drawn.shown {
		fmt.Fprint(o.opts.Err, "\r\033[K")
	}
}
