package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"time"
)

// Stdio is the standard input, output and error given to a child process.
// An *os.File is inherited by the child as is (so a terminal stays a
// terminal); another reader or writer is copied through a pipe. nil means the
// null device.
type Stdio struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Exit codes returned together with an error when the child did not start,
// as POSIX shells use them.
const (
	exitNotFound      = 127
	exitCannotExecute = 126
)

// waitDelay bounds how long Run waits, after the context is done or the
// child has exited, for the child to exit after SIGTERM and for the copies
// of non-file stdio to finish (a background grandchild may hold the pipes).
const waitDelay = 10 * time.Second

// Run starts argv[0], looked up in the PATH of env, with exactly the
// environment env (nil means an empty one) and the given stdio, waits for
// it, and returns the exit code to use: the child's exit code, or 128+N when
// the child was killed by signal N (Unix).
//
// While the child runs, Run catches SIGINT, SIGTERM, SIGHUP, SIGQUIT,
// SIGUSR1, SIGUSR2 and SIGWINCH and forwards them to the child. SIGINT,
// SIGQUIT and SIGWINCH are not forwarded while this process is in the
// foreground process group of its controlling terminal: the terminal has
// already sent them to the child, which shares the group, and a second
// SIGINT makes tools such as Terraform abandon a graceful stop. On Windows
// the console delivers Ctrl+C and Ctrl+Break to the child itself, so Run
// only keeps os.Interrupt from ending rolehop before the child.
//
// When ctx is done the child gets SIGTERM (Windows: it is killed), and
// SIGKILL if it is still running 10 seconds later.
//
// err is non-nil only when the child could not be started; the message is
// one line, such as `exec: command "foo" not found in PATH`, and exitCode is
// then 127 (not found) or 126 (found but not runnable), as shells use.
func Run(ctx context.Context, argv []string, env []string, stdio Stdio) (exitCode int, err error) {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwardedSignals()...)
	defer signal.Stop(sigs)
	return runWithSignals(ctx, argv, env, stdio, sigs)
}

// runWithSignals is Run with the signals read from sigs instead of
// os/signal, so tests can inject them without signalling the test process.
func runWithSignals(ctx context.Context, argv []string, env []string, stdio Stdio, sigs <-chan os.Signal) (int, error) {
	forward, release := newForwardPolicy()
	defer release()
	return runForwarding(ctx, argv, env, stdio, sigs, forward)
}

// runForwarding runs the child and sends it every signal from sigs for which
// forward reports true.
func runForwarding(ctx context.Context, argv []string, env []string, stdio Stdio, sigs <-chan os.Signal, forward func(os.Signal) bool) (int, error) {
	if len(argv) == 0 || argv[0] == "" {
		return exitNotFound, errors.New("exec: no command given")
	}
	if env == nil {
		env = []string{} // a nil Env would make os/exec pass our own environment
	}
	path, err := lookPath(argv[0], env)
	if err != nil {
		return exitNotFound, err
	}
	cmd := exec.CommandContext(ctx, path)
	cmd.Args = argv
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.In, stdio.Out, stdio.Err
	cmd.WaitDelay = waitDelay
	setCancel(cmd)
	if err := cmd.Start(); err != nil {
		return startFailure(argv[0], err)
	}

	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-stop:
				return
			case sig := <-sigs:
				if forward(sig) {
					// After Wait has reaped the child this reports
					// os.ErrProcessDone and signals nothing.
					_ = cmd.Process.Signal(sig)
				}
			}
		}
	}()
	waitErr := cmd.Wait()
	close(stop)
	<-stopped

	if cmd.ProcessState != nil {
		// Errors from copying stdio or from ctx do not change the fact that
		// the child ran and exited with this status.
		return exitStatus(cmd.ProcessState), nil
	}
	return 1, fmt.Errorf("exec: waiting for %q: %v", argv[0], waitErr)
}

// startFailure turns an error from exec.Cmd.Start into a one-line error
// without the "fork/exec /full/path:" prefix.
func startFailure(name string, err error) (int, error) {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	code := exitCannotExecute
	if errors.Is(err, fs.ErrNotExist) {
		code = exitNotFound
	}
	return code, fmt.Errorf("exec: cannot run %q: %v", name, err)
}

// errNotFound is the lookPath error for a command missing from PATH.
func errNotFound(name string, pathSet bool) error {
	if !pathSet {
		return fmt.Errorf("exec: command %q not found in PATH (PATH is not set in the child environment)", name)
	}
	return fmt.Errorf("exec: command %q not found in PATH", name)
}

// errRelativePath is the lookPath error for a command found only through a
// relative PATH entry (such as "." or ""), which os/exec also refuses.
func errRelativePath(name, found string) error {
	return fmt.Errorf("exec: command %q resolves to %q through a relative PATH entry; refusing to run it (give a path instead)", name, found)
}
