//go:build unix

package sink

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// forwardedSignals are the signals Run catches and passes on to the child.
func forwardedSignals() []os.Signal {
	return []os.Signal{
		syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH,
	}
}

// terminalSignal reports whether a terminal sends sig to its whole
// foreground process group: the keyboard interrupts and window resizes.
func terminalSignal(sig os.Signal) bool {
	return sig == syscall.SIGINT || sig == syscall.SIGQUIT || sig == syscall.SIGWINCH
}

// shouldForward reports whether Run passes sig on to the child. When we are
// in the terminal's foreground process group, so is the child, and the
// terminal has already delivered its own signals to it: forwarding them would
// deliver them twice.
func shouldForward(sig os.Signal, ttyForeground bool) bool {
	return !(ttyForeground && terminalSignal(sig))
}

// newForwardPolicy returns the forwarding decision for this process and a
// function that releases what it holds. Whether we are in the foreground is
// checked when each signal arrives, since job control can change it.
func newForwardPolicy() (forward func(os.Signal) bool, release func()) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDONLY|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		// No controlling terminal: only explicit kills reach us.
		return func(os.Signal) bool { return true }, func() {}
	}
	fd := int(tty.Fd())
	foreground := func() bool {
		fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
		if err != nil {
			return false
		}
		own, err := unix.Getpgid(0)
		return err == nil && fg == own
	}
	forward = func(sig os.Signal) bool {
		return shouldForward(sig, terminalSignal(sig) && foreground())
	}
	return forward, func() { _ = tty.Close() }
}

// exitStatus is the child's exit code, or 128+N when signal N killed it.
func exitStatus(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// setCancel makes a done context ask the child to stop with SIGTERM; the
// command's WaitDelay then escalates to SIGKILL.
func setCancel(cmd *exec.Cmd) {
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
}

// lookPath finds name the way a shell would with the PATH of env (not of this
// process). A name containing a slash is used as is.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path, ok := envLookup(env, "PATH", false)
	if !ok {
		return "", errNotFound(name, false)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "." // POSIX: an empty entry is the current directory
		}
		p := dir + "/" + name
		if !isExecutable(p) {
			continue
		}
		if !filepath.IsAbs(p) {
			return "", errRelativePath(name, p)
		}
		return filepath.Clean(p), nil
	}
	return "", errNotFound(name, true)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
