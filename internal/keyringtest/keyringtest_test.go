package keyringtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/99designs/keyring"

	"github.com/rolehop/rolehop/internal/winetest"
)

// The test binary doubles as the keyring client: with helperEnv=1 it runs
// helperMain instead of the tests. The keyring must be used from such a
// child because the Secret Service backend only registers itself when
// keyring's init() finds a session bus, i.e. before any test runs.
const (
	helperEnv  = "ROLEHOP_KEYRINGTEST_HELPER"
	serviceEnv = "ROLEHOP_KEYRINGTEST_SERVICE" // overrides Config.ServiceName
)

const (
	serviceName = "rolehop-test"
	passPrefix  = "rolehop-test"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(helperMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

type opResult struct {
	Op    string   `json:"op"`
	Key   string   `json:"key,omitempty"`
	Value string   `json:"value,omitempty"`
	Keys  []string `json:"keys,omitempty"`
	Err   string   `json:"err,omitempty"`
}

type helperReport struct {
	Available []string   `json:"available"`
	OpenErr   string     `json:"open_err,omitempty"`
	Results   []opResult `json:"results"`
}

// helperMain opens the backend named by args[0] and runs the operations in
// args[1:] ("set:KEY=VALUE", "get:KEY", "keys", "remove:KEY"), printing a
// helperReport as JSON. keyring's debug log (why a backend failed to open)
// goes to stderr.
func helperMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "helper: no backend")
		return 2
	}
	keyring.Debug = true
	cfg := keyring.Config{ServiceName: serviceName}
	if s := os.Getenv(serviceEnv); s != "" {
		cfg.ServiceName = s
	}
	switch args[0] {
	case "secret-service":
		cfg.AllowedBackends = []keyring.BackendType{keyring.SecretServiceBackend}
		cfg.LibSecretCollectionName = "login"
	case "pass":
		cfg.AllowedBackends = []keyring.BackendType{keyring.PassBackend}
		cfg.PassDir = os.Getenv("PASSWORD_STORE_DIR")
		cfg.PassPrefix = passPrefix
	default:
		fmt.Fprintf(os.Stderr, "helper: unknown backend %q\n", args[0])
		return 2
	}
	var rep helperReport
	for _, b := range keyring.AvailableBackends() {
		rep.Available = append(rep.Available, string(b))
	}
	ring, err := keyring.Open(cfg)
	if err != nil {
		rep.OpenErr = err.Error()
	} else {
		for _, op := range args[1:] {
			rep.Results = append(rep.Results, runOp(ring, op))
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	return 0
}

func runOp(ring keyring.Keyring, op string) opResult {
	name, arg, _ := strings.Cut(op, ":")
	r := opResult{Op: name}
	var err error
	switch name {
	case "set":
		key, value, _ := strings.Cut(arg, "=")
		r.Key = key
		err = ring.Set(keyring.Item{Key: key, Data: []byte(value), Label: key})
	case "get":
		r.Key = arg
		var it keyring.Item
		it, err = ring.Get(arg)
		r.Value = string(it.Data)
	case "keys":
		r.Keys, err = ring.Keys()
	case "remove":
		r.Key = arg
		err = ring.Remove(arg)
	default:
		err = fmt.Errorf("helper: unknown op %q", op)
	}
	if err != nil {
		r.Err = err.Error()
	}
	return r
}

// runHelper runs the test binary as the keyring client for backend with
// env added to an environment that has none of the caller's session, keyring
// or gpg variables, and returns its report and stderr.
func runHelper(t *testing.T, env []string, backend string, ops ...string) (helperReport, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, append([]string{backend}, ops...)...)
	cmd.Env = append(isolatedEnv(helperEnv+"=1", "HOME="+winetest.TempDir(t)), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("helper %s %q: %v\nstdout:\n%s\nstderr:\n%s", backend, ops, err, stdout.String(), stderr.String())
	}
	var rep helperReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("helper %s: bad report %q: %v\nstderr:\n%s", backend, stdout.String(), err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("helper %s %q stderr:\n%s", backend, ops, stderr.String())
	}
	return rep, stderr.String()
}

// check compares the helper's results with want (Op and Key are not
// compared; a nil Keys means an empty list).
func check(t *testing.T, rep helperReport, stderr string, want ...opResult) {
	t.Helper()
	if rep.OpenErr != "" {
		t.Fatalf("keyring.Open: %s (available backends %v)\nstderr:\n%s", rep.OpenErr, rep.Available, stderr)
	}
	if len(rep.Results) != len(want) {
		t.Fatalf("got %d results, want %d: %+v", len(rep.Results), len(want), rep.Results)
	}
	for i, w := range want {
		g := rep.Results[i]
		if g.Err != w.Err || g.Value != w.Value || !slices.Equal(g.Keys, w.Keys) {
			t.Errorf("op %d (%s %s): got value %q keys %q err %q; want value %q keys %q err %q",
				i, g.Op, g.Key, g.Value, g.Keys, g.Err, w.Value, w.Keys, w.Err)
		}
	}
}

const (
	testKey   = "prod-admin"
	testValue = "line 1\nline 2 \u2713 {\"SessionToken\":\"x\"}"
)

var notFound = keyring.ErrKeyNotFound.Error()

func TestSecretServiceRoundtrip(t *testing.T) {
	env := SecretService(t)

	rep, stderr := runHelper(t, env, "secret-service",
		"keys", "get:"+testKey, "set:"+testKey+"="+testValue, "get:"+testKey, "keys")
	check(t, rep, stderr,
		opResult{},
		opResult{Err: notFound},
		opResult{},
		opResult{Value: testValue},
		opResult{Keys: []string{testKey}},
	)

	// Another process sees the item. ServiceName does not scope it: with
	// LibSecretCollectionName set, every client of the "login" collection
	// lists and reads the same items, looked up by the "profile" attribute.
	rep, stderr = runHelper(t, append(env, serviceEnv+"=someone-else"), "secret-service",
		"get:"+testKey, "keys")
	check(t, rep, stderr,
		opResult{Value: testValue},
		opResult{Keys: []string{testKey}},
	)

	// Set replaces; Remove of a missing item is not an error for this
	// backend (pass reports ErrKeyNotFound).
	rep, stderr = runHelper(t, env, "secret-service",
		"set:"+testKey+"=v2", "get:"+testKey, "keys", "remove:"+testKey, "get:"+testKey, "keys", "remove:"+testKey)
	check(t, rep, stderr,
		opResult{},
		opResult{Value: "v2"},
		opResult{Keys: []string{testKey}},
		opResult{},
		opResult{Err: notFound},
		opResult{},
		opResult{},
	)
}

// TestSecretServiceUnavailable records how keyring.Open reports a missing
// Secret Service: always ErrNoAvailImpl, the cause only in its debug log.
// Without a session bus the backend is not even registered.
func TestSecretServiceUnavailable(t *testing.T) {
	t.Run("no session bus", func(t *testing.T) {
		addr := "unix:path=" + filepath.Join(winetest.TempDir(t), "no-bus")
		rep, _ := runHelper(t, []string{"DBUS_SESSION_BUS_ADDRESS=" + addr}, "secret-service", "keys")
		if slices.Contains(rep.Available, string(keyring.SecretServiceBackend)) {
			t.Errorf("available backends %v include secret-service without a bus", rep.Available)
		}
		if rep.OpenErr != keyring.ErrNoAvailImpl.Error() {
			t.Errorf("keyring.Open error %q, want %q", rep.OpenErr, keyring.ErrNoAvailImpl)
		}
	})
	t.Run("bus without Secret Service", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			// Elsewhere 99designs/keyring has no secret-service backend to
			// register, bus or not: "no session bus" covers that.
			t.Skipf("the Secret Service backend is Linux-only (GOOS=%s)", runtime.GOOS)
		}
		if _, err := exec.LookPath("dbus-daemon"); err != nil && os.Getenv("CI") != "true" {
			t.Skip("dbus-daemon not found")
		}
		addr, _ := startBus(t)
		rep, stderr := runHelper(t, []string{"DBUS_SESSION_BUS_ADDRESS=" + addr}, "secret-service", "keys")
		if !slices.Contains(rep.Available, string(keyring.SecretServiceBackend)) {
			t.Errorf("available backends %v lack secret-service with a bus", rep.Available)
		}
		if rep.OpenErr != keyring.ErrNoAvailImpl.Error() {
			t.Errorf("keyring.Open error %q, want %q", rep.OpenErr, keyring.ErrNoAvailImpl)
		}
		if !strings.Contains(stderr, "Failed backend secret-service") || !strings.Contains(stderr, "org.freedesktop.secrets") {
			t.Errorf("debug log does not name the missing org.freedesktop.secrets:\n%s", stderr)
		}
	})
}

func TestPassRoundtrip(t *testing.T) {
	env := Pass(t)
	store := strings.TrimPrefix(env[1], "PASSWORD_STORE_DIR=")

	rep, stderr := runHelper(t, env, "pass",
		"keys", "get:"+testKey, "set:"+testKey+"="+testValue, "get:"+testKey, "keys")
	check(t, rep, stderr,
		opResult{},
		opResult{Err: notFound},
		opResult{},
		opResult{Value: testValue},
		opResult{Keys: []string{testKey}},
	)
	file := filepath.Join(store, passPrefix, testKey+".gpg")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the item is not where pass keeps it: %v", err)
	}
	if bytes.Contains(data, []byte("SessionToken")) {
		t.Errorf("%s holds the secret in clear", file)
	}

	rep, stderr = runHelper(t, env, "pass",
		"set:"+testKey+"=v2", "get:"+testKey, "remove:"+testKey, "get:"+testKey, "keys", "remove:"+testKey)
	check(t, rep, stderr,
		opResult{},
		opResult{Value: "v2"},
		opResult{},
		opResult{Err: notFound},
		opResult{},
		opResult{Err: notFound},
	)
}

// TestPassUnavailable records what the pass backend reports when pass is
// missing, the store is not initialised, or gpg lacks the store's key.
// keyring runs pass with its stderr wired to the process's stderr, so the
// returned error is only the exit status.
func TestPassUnavailable(t *testing.T) {
	env := Pass(t)

	t.Run("pass not on PATH", func(t *testing.T) {
		rep, stderr := runHelper(t, append(env, "PATH="+winetest.TempDir(t)), "pass", "keys")
		if rep.OpenErr != keyring.ErrNoAvailImpl.Error() {
			t.Errorf("keyring.Open error %q, want %q", rep.OpenErr, keyring.ErrNoAvailImpl)
		}
		if !strings.Contains(stderr, "The pass program is not available") {
			t.Errorf("debug log lacks the cause:\n%s", stderr)
		}
	})
	t.Run("store not initialised", func(t *testing.T) {
		store := filepath.Join(winetest.TempDir(t), "store")
		rep, stderr := runHelper(t, append(env, "PASSWORD_STORE_DIR="+store), "pass",
			"keys", "set:"+testKey+"=x", "get:"+testKey)
		check(t, rep, stderr,
			opResult{},
			opResult{Err: "exit status 1"},
			opResult{Err: notFound},
		)
		if !strings.Contains(stderr, "pass init") {
			t.Errorf("pass's stderr does not ask for pass init:\n%s", stderr)
		}
	})
	t.Run("gpg lacks the key", func(t *testing.T) {
		store := winetest.TempDir(t)
		const fpr = "0123456789ABCDEF0123456789ABCDEF01234567"
		if err := os.WriteFile(filepath.Join(store, ".gpg-id"), []byte(fpr+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		rep, stderr := runHelper(t, append(env, "PASSWORD_STORE_DIR="+store), "pass",
			"set:"+testKey+"=x", "get:"+testKey)
		check(t, rep, stderr,
			opResult{Err: "exit status 1"},
			opResult{Err: notFound},
		)
		if !strings.Contains(stderr, "No public key") {
			t.Errorf("gpg's stderr does not say the key is missing:\n%s", stderr)
		}
	})
}

// fakeTB records Require's verdict instead of ending the test.
type fakeTB struct {
	*testing.T
	fatal, skip string
}

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) Fatalf(format string, a ...any) { f.fatal = fmt.Sprintf(format, a...) }
func (f *fakeTB) Skipf(format string, a ...any)  { f.skip = fmt.Sprintf(format, a...) }

func TestRequire(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	missing := []string{exe, "gnome-keyring-daemon", "no-such-tool-kt", "gpg", "gpgconf"}
	t.Setenv("PATH", winetest.TempDir(t))
	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		f := &fakeTB{T: t}
		Require(f, exe)
		if f.fatal != "" || f.skip != "" {
			t.Fatalf("CI=%q: Require of a present tool: fatal %q skip %q", ci, f.fatal, f.skip)
		}
		Require(f, missing...)
		msg := f.skip
		if ci == "true" {
			msg = f.fatal
		}
		if msg == "" || f.fatal != "" && f.skip != "" {
			t.Fatalf("CI=%q: fatal %q skip %q", ci, f.fatal, f.skip)
		}
		want := "gnome-keyring-daemon, no-such-tool-kt, gpg, gpgconf not found on PATH (apt-get install gnome-keyring no-such-tool-kt gnupg;"
		if !strings.Contains(msg, want) {
			t.Errorf("CI=%q: message %q lacks %q", ci, msg, want)
		}
	}
}
