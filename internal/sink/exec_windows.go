//go:build windows

package sink

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// lookPath finds name with the PATH and PATHEXT of env (names compared
// case-insensitively). Unlike cmd.exe it does not search the current
// directory first, as os/exec refuses that too. A name with a path separator
// or a drive is used as is, with PATHEXT extensions tried when it has none.
func lookPath(name string, env []string) (string, error) {
	exts := pathExts(env)
	if strings.ContainsAny(name, `:\/`) {
		if p, ok := findExecutable(name, exts); ok {
			return p, nil
		}
		return name, nil // let Start report why it cannot run
	}
	path, ok := envLookup(env, "PATH", true)
	if !ok {
		return "", errNotFound(name, false)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		p, ok := findExecutable(filepath.Join(dir, name), exts)
		if !ok {
			continue
		}
		if !filepath.IsAbs(p) {
			return "", errRelativePath(name, p)
		}
		return p, nil
	}
	return "", errNotFound(name, true)
}

func pathExts(env []string) []string {
	v, _ := envLookup(env, "PATHEXT", true)
	var exts []string
	for _, e := range strings.Split(strings.ToLower(v), ";") {
		if e == "" {
			continue
		}
		if e[0] != '.' {
			e = "." + e
		}
		exts = append(exts, e)
	}
	if len(exts) == 0 {
		exts = []string{".com", ".exe", ".bat", ".cmd"}
	}
	return exts
}

func findExecutable(file string, exts []string) (string, bool) {
	if filepath.Ext(file) != "" && isFile(file) {
		return file, true
	}
	for _, e := range exts {
		if isFile(file + e) {
			return file + e, true
		}
	}
	return "", false
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}
