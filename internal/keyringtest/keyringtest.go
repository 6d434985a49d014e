// Package keyringtest holds test-only helpers that start real keyring
// backends — a private D-Bus session bus with gnome-keyring's Secret Service,
// and a throwaway gpg home with an initialised pass store — so that tests can
// exercise github.com/99designs/keyring headless. It is imported only by
// _test.go files.
//
// Each helper returns environment entries ("NAME=value") for a child
// process; everything it starts is stopped in t.Cleanup. Drive the keyring
// from a child process started with those entries (for example the test
// binary re-executed in a helper mode, see keyringtest_test.go): the
// Secret Service backend of 99designs/keyring registers itself in an init()
// that connects to the session bus, so DBUS_SESSION_BUS_ADDRESS has to be set
// before the process starts — setting it later with os.Setenv has no effect
// on keyring.AvailableBackends.
//
// When a tool is missing the helpers skip the test, or fail it with CI=true
// (see Require); .ci/run installs the Debian packages.
package keyringtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// aptPackages maps each tool the helpers run to the Debian package that
// provides it.
var aptPackages = map[string]string{
	"dbus-daemon":          "dbus",
	"gnome-keyring-daemon": "gnome-keyring",
	"gpg":                  "gnupg",
	"gpgconf":              "gnupg",
	"pass":                 "pass",
}

// Require checks that every tool is on PATH. When one is missing the test
// fails if CI=true on Linux (CI must run the keyring tests there) and is
// skipped otherwise (elsewhere, such as a Windows test binary under Wine,
// these Debian tools cannot be); either way the message names the apt
// packages to install.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	var missing, pkgs []string
	seen := map[string]bool{}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err == nil {
			continue
		}
		missing = append(missing, tool)
		pkg := aptPackages[tool]
		if pkg == "" {
			pkg = tool
		}
		if !seen[pkg] {
			seen[pkg] = true
			pkgs = append(pkgs, pkg)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("%s not found on PATH (apt-get install %s; .ci/run installs them)",
		strings.Join(missing, ", "), strings.Join(pkgs, " "))
	if os.Getenv("CI") == "true" && runtime.GOOS == "linux" {
		t.Fatalf("keyringtest: %s; the keyring tests need them with CI=true", msg)
		return
	}
	t.Skipf("keyringtest: %s; skipping (set CI=true to make this a failure)", msg)
}

// maxShortDir bounds the length of directories that hold Unix sockets: a
// socket path is limited to 107 bytes, and gpg-agent, gnome-keyring and
// dbus-daemon each add up to ~20 bytes of their own below the directory.
const maxShortDir = 60

// shortTempDir returns a private directory (mode 0700) whose path is short
// enough for sockets: t.TempDir() when that is short, else one under /tmp.
// It is removed in t.Cleanup.
func shortTempDir(t testing.TB, prefix string) string {
	t.Helper()
	dir := t.TempDir()
	if len(dir) > maxShortDir {
		d, err := os.MkdirTemp("/tmp", prefix)
		if err != nil {
			t.Fatalf("keyringtest: short temp dir: %v", err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		dir = d
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatalf("keyringtest: %v", err)
	}
	return dir
}

// isolatedEnv is os.Environ() without the variables that would point a
// daemon or tool at the user's real session, keyring or gpg home, plus set.
func isolatedEnv(set ...string) []string {
	drop := map[string]bool{
		"DBUS_SESSION_BUS_ADDRESS": true,
		"DISPLAY":                  true, // no graphical prompter
		"WAYLAND_DISPLAY":          true,
		"GNOME_KEYRING_CONTROL":    true,
		"SSH_AUTH_SOCK":            true,
		"GPG_AGENT_INFO":           true,
		"GNUPGHOME":                true,
		"PASSWORD_STORE_DIR":       true,
		"HOME":                     true,
		"XDG_RUNTIME_DIR":          true,
		"XDG_DATA_HOME":            true,
		"XDG_CONFIG_HOME":          true,
		"XDG_CACHE_HOME":           true,
	}
	for _, kv := range set {
		name, _, _ := strings.Cut(kv, "=")
		drop[name] = true
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !drop[name] {
			env = append(env, kv)
		}
	}
	return append(env, set...)
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// daemon is a started long-running process that is reaped in the
// background; exited is closed once it has exited.
type daemon struct {
	name   string
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{}
	err    error // valid after exited is closed
}

// startDaemon starts cmd (its Stderr is captured) and registers a cleanup
// that kills it and waits for it.
func startDaemon(t testing.TB, name string, cmd *exec.Cmd) *daemon {
	t.Helper()
	d := &daemon{name: name, cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("keyringtest: start %s: %v", name, err)
	}
	go func() {
		d.err = cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() { d.stop(t) })
	return d
}

func (d *daemon) stop(t testing.TB) {
	select {
	case <-d.exited:
		return
	default:
	}
	_ = d.cmd.Process.Kill()
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		t.Errorf("keyringtest: %s (pid %d) did not exit within 10s of SIGKILL", d.name, d.cmd.Process.Pid)
	}
}

// exitedErr describes an early exit, with what the process wrote to stderr.
func (d *daemon) exitedErr() error {
	return fmt.Errorf("%s exited early (%v); stderr:\n%s", d.name, d.err, d.stderr.String())
}
