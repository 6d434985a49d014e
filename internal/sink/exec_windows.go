//go:build windows

package sink

import (
	"os"
	"os/exec"
)

// forwardedSignals are the signals Run catches. The console sends Ctrl+C and
// Ctrl+Break to every process attached to it, the child included, so
// catching os.Interrupt only keeps rolehop alive until the child exits.
func forwardedSignals() []os.Signal {
	return []os.Signal{os.Interrupt}
}

// newForwardPolicy never forwards: Windows cannot send a console event to a
// single process, and the child has received it already.
func newForwardPolicy() (forward func(os.Signal) bool, release func()) {
	return func(os.Signal) bool { return false }, func() {}
}

// exitStatus is the child's exit code (a full 32-bit NTSTATUS such as
// 0xC000013A is kept as is).
func exitStatus(ps *os.ProcessState) int {
	return ps.ExitCode()
}

// setCancel keeps os/exec's default for a done context: kill the child.
func setCancel(*exec.Cmd) {}

// lookPath finds name as cmd.exe would, without the current directory
// (see lookPathWindows).
func lookPath(name string, env []string) (string, error) {
	return lookPathWindows(name, env, isFile)
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}
