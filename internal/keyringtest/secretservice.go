package keyringtest

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// StartTimeout bounds how long a helper waits for a daemon to be ready.
const StartTimeout = 20 * time.Second

// LoginPassword is the password of the "login" keyring that SecretService
// creates and unlocks.
const LoginPassword = "rolehop-test"

// busConfig is a session bus with no service directories: nothing is
// D-Bus-activated on it (not a second gnome-keyring with the real HOME, not
// gcr-prompter looking for a display), so a call that would need a prompt
// fails instead of hanging.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:dir=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// SecretService starts a private D-Bus session bus and, on it,
// gnome-keyring-daemon serving org.freedesktop.secrets with an unlocked
// "login" collection (password LoginPassword), all under private
// HOME/XDG_* directories. It returns the environment entries a child
// process needs to use it: DBUS_SESSION_BUS_ADDRESS=<the private bus>.
// Both daemons are killed in t.Cleanup.
//
// The test process itself cannot use the bus through 99designs/keyring
// (its init() has already looked for a session bus); start a child with
// the returned entries appended to its environment.
//
// It skips on non-Linux systems (the Secret Service backend is Linux-only)
// and, via Require, when dbus-daemon or gnome-keyring-daemon is missing.
func SecretService(t testing.TB) []string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("keyringtest: the Secret Service backend is Linux-only (GOOS=%s)", runtime.GOOS)
	}
	Require(t, "dbus-daemon", "gnome-keyring-daemon")
	addr, env := startBus(t)

	dir := t.TempDir()
	cmd := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	cmd.Env = append(env, "DBUS_SESSION_BUS_ADDRESS="+addr)
	cmd.Dir = dir
	// --unlock reads the login password from stdin up to EOF; with a new
	// XDG_DATA_HOME it creates the login keyring with that password.
	cmd.Stdin = strings.NewReader(LoginPassword)
	cmd.Stdout = io.Discard
	gk := startDaemon(t, "gnome-keyring-daemon", cmd)
	if err := waitSecretService(addr, gk); err != nil {
		t.Fatalf("keyringtest: %v", err)
	}
	return []string{"DBUS_SESSION_BUS_ADDRESS=" + addr}
}

// startBus starts a private dbus-daemon and returns its address and the
// environment (private HOME and XDG_* directories, no session variables of
// the caller) to start services on it with. Killing the bus in t.Cleanup
// also ends gnome-keyring-daemon, which exits when it loses the bus.
func startBus(t testing.TB) (addr string, env []string) {
	t.Helper()
	Require(t, "dbus-daemon")
	dir := t.TempDir()
	run := shortTempDir(t, "kr") // XDG_RUNTIME_DIR and the bus socket
	for _, d := range []string{"home", "data", "config", "cache"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatalf("keyringtest: %v", err)
		}
	}
	env = isolatedEnv(
		"HOME="+filepath.Join(dir, "home"),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_CACHE_HOME="+filepath.Join(dir, "cache"),
		"XDG_RUNTIME_DIR="+run,
	)

	var esc strings.Builder
	if err := xml.EscapeText(&esc, []byte(run)); err != nil {
		t.Fatalf("keyringtest: %v", err)
	}
	conf := filepath.Join(dir, "session.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(busConfig, esc.String())), 0o600); err != nil {
		t.Fatalf("keyringtest: %v", err)
	}

	// dbus-daemon prints its address once it listens; read it from a pipe
	// of our own (not cmd.StdoutPipe, which Wait would close under us).
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatalf("keyringtest: %v", err)
	}
	cmd := exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--print-address=1")
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout = pw
	bus := startDaemon(t, "dbus-daemon", cmd)
	pw.Close()

	line := make(chan string, 1)
	go func() {
		defer pr.Close()
		r := bufio.NewReader(pr)
		s, _ := r.ReadString('\n')
		line <- strings.TrimSpace(s)
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case addr = <-line:
	case <-time.After(StartTimeout):
		t.Fatalf("keyringtest: dbus-daemon printed no address within %v; stderr:\n%s", StartTimeout, bus.stderr.String())
	}
	if addr == "" {
		<-bus.exited
		t.Fatalf("keyringtest: %v", bus.exitedErr())
	}
	return addr, env
}

// waitSecretService waits until org.freedesktop.secrets has an owner on the
// bus and its login collection is unlocked.
func waitSecretService(addr string, gk *daemon) error {
	conn, err := dbus.Connect(addr)
	if err != nil {
		return fmt.Errorf("connect to the test bus %s: %v", addr, err)
	}
	defer conn.Close()
	login := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets/collection/login")
	deadline := time.Now().Add(StartTimeout)
	var last error
	for {
		var owned bool
		err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.secrets").Store(&owned)
		switch {
		case err != nil:
			last = err
		case !owned:
			last = fmt.Errorf("org.freedesktop.secrets has no owner yet")
		default:
			v, err := login.GetProperty("org.freedesktop.Secret.Collection.Locked")
			if err != nil {
				last = fmt.Errorf("login collection: %v", err)
			} else if locked, _ := v.Value().(bool); locked {
				last = fmt.Errorf("login collection is locked")
			} else {
				return nil
			}
		}
		select {
		case <-gk.exited:
			return gk.exitedErr()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gnome-keyring-daemon not ready within %v: %v; stderr:\n%s", StartTimeout, last, gk.stderr.String())
		}
	}
}
