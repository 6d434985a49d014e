package keychain

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/rolehop/rolehop/internal/keyringtest"
	"github.com/rolehop/rolehop/internal/winetest"
)

var testKeys = Keys{AccessKeyID: "AKIAIOSFODNN7EXAMPL1", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}

// envOf turns NAME=value entries into a Getenv.
func envOf(entries ...string) func(string) string {
	m := map[string]string{}
	for _, e := range entries {
		k, v, _ := strings.Cut(e, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

// roundtrip stores, reads back, lists and removes through st.
func roundtrip(t *testing.T, st *Store, canList bool) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.Get(ctx, "dev"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Set: %v, want ErrNotFound", err)
	}
	if err := st.Set(ctx, "dev", testKeys); err != nil {
		t.Fatal(err)
	}
	other := Keys{AccessKeyID: "AKIAIOSFODNN7EXAMPL2", SecretAccessKey: "second/secret+key"}
	if err := st.Set(ctx, "prod", other); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get(ctx, "dev"); err != nil || got != testKeys {
		t.Fatalf("Get dev = %v, %v", got.AccessKeyID, err)
	}
	replaced := Keys{AccessKeyID: "AKIAIOSFODNN7EXAMPL3", SecretAccessKey: "third"}
	if err := st.Set(ctx, "dev", replaced); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get(ctx, "dev"); err != nil || got != replaced {
		t.Fatalf("Get dev after replacing = %v, %v", got.AccessKeyID, err)
	}
	if canList {
		names, err := st.Names(ctx)
		slices.Sort(names)
		if err != nil || !slices.Equal(names, []string{"dev", "prod"}) {
			t.Fatalf("Names = %q, %v", names, err)
		}
	}
	t.Run("remove", func(t *testing.T) {
		if st.Backend == File {
			winetest.SkipNoPOSIXDelete(t) // the file store removes through os.Root
		}
		if err := st.Remove(ctx, "dev"); err != nil {
			t.Fatal(err)
		}
		if err := st.Remove(ctx, "dev"); err != nil {
			t.Fatalf("removing twice: %v", err)
		}
		if _, err := st.Get(ctx, "dev"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get after Remove: %v", err)
		}
		if got, err := st.Get(ctx, "prod"); err != nil || got != other {
			t.Fatalf("the other profile: %v, %v", got.AccessKeyID, err)
		}
	})
}

func TestFileStore(t *testing.T) {
	dir := filepath.Join(winetest.TempDir(t), "keyring")
	ns := Namespace{Program: "rolehop", FileDir: dir}
	st, err := Open(context.Background(), File, ns, Settings{Getenv: envOf("ROLEHOP_KEYRING_PASSWORD=correct horse")})
	if err != nil {
		t.Fatal(err)
	}
	roundtrip(t, st, true)
	unix := runtime.GOOS != "windows" // Unix permission bits
	fi, err := os.Stat(dir)
	if err != nil || unix && fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %v, %v", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		info, _ := e.Info()
		if strings.HasPrefix(e.Name(), ".") || unix && info.Mode().Perm() != 0o600 || strings.Contains(string(b), "second/secret") || strings.Contains(string(b), "AKIA") {
			t.Fatalf("entry %s (mode %v) is a temp file, not 0600, or holds plaintext", e.Name(), info.Mode())
		}
	}

	// Another passphrase does not open it, and is not allowed to start a
	// second set of entries in the same directory.
	wrong, _ := Open(context.Background(), File, ns, Settings{Getenv: envOf("ROLEHOP_KEYRING_PASSWORD=wrong")})
	if _, err := wrong.Get(context.Background(), "prod"); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if err := wrong.Set(context.Background(), "new", testKeys); err == nil {
		t.Fatal("a second passphrase could store an entry")
	}

	// The passphrase command's first line, without its line break (run by
	// sh, or by cmd.exe on Windows).
	command := `printf 'correct horse\nignored'`
	if runtime.GOOS == "windows" {
		command = "echo correct horse& echo ignored"
	}
	cmd, _ := Open(context.Background(), File, ns, Settings{Getenv: envOf("ROLEHOP_KEYRING_PASSWORD_COMMAND=" + command)})
	if _, err := cmd.Get(context.Background(), "prod"); err != nil {
		t.Fatalf("passphrase from a command: %v", err)
	}

	// No passphrase and no terminal: one line that names the variables.
	none, _ := Open(context.Background(), File, ns, Settings{Getenv: envOf()})
	_, err = none.Get(context.Background(), "prod")
	if err == nil || !strings.Contains(err.Error(), "ROLEHOP_KEYRING_PASSWORD") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("no passphrase: %v", err)
	}
}

// TestFileStoreReadsAWSVault reads the file store that the real aws-vault
// v7.9.14 wrote (testdata/awsvault-keys, see testdata/README): its
// long-term keys, and its cached session as something that is not.
func TestFileStoreReadsAWSVault(t *testing.T) {
	home := winetest.TempDir(t)
	dir := filepath.Join(home, ".awsvault", "keys")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir("testdata/awsvault-keys")
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join("testdata/awsvault-keys", e.Name()))
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	// aws-vault's directory is read as it is: rolehop does not tighten
	// another program's files.
	defer func() {
		fi, _ := os.Stat(dir)
		ei, _ := os.Stat(filepath.Join(dir, "vaultuser"))
		if runtime.GOOS != "windows" && (fi.Mode().Perm() != 0o755 || ei.Mode().Perm() != 0o640) { // Unix permission bits
			t.Errorf("aws-vault's store changed: directory %v, entry %v", fi.Mode(), ei.Mode())
		}
	}()
	getenv := envOf("HOME="+home, "AWS_VAULT_FILE_PASSPHRASE=rolehop-fixture")
	st, err := Open(context.Background(), File, AWSVault(getenv), Settings{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	names, err := st.Names(context.Background())
	slices.Sort(names)
	if err != nil || !slices.Equal(names, []string{"second", "sts.GetSessionToken,dmF1bHR1c2Vy,,1796450802", "vaultuser"}) {
		t.Fatalf("Names = %q, %v", names, err)
	}
	for name, id := range map[string]string{"vaultuser": "AKIAIOSFODNN7VAULT01", "second": "AKIAIOSFODNN7VAULT02"} {
		k, err := st.Get(context.Background(), name)
		if err != nil || k.AccessKeyID != id || !strings.HasPrefix(k.SecretAccessKey, "vaultSecret") {
			t.Fatalf("%s: %s, %v", name, k.AccessKeyID, err)
		}
	}
	if _, err := st.Get(context.Background(), "sts.GetSessionToken,dmF1bHR1c2Vy,,1796450802"); err == nil {
		t.Fatal("aws-vault's cached session read as long-term keys")
	}
}

func TestPassStore(t *testing.T) {
	env := keyringtest.Pass(t)
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		t.Setenv(k, v) // gpg, run by pass, reads GNUPGHOME from the process
	}
	getenv := envOf(env...)
	ns, _ := Rolehop(envOf("HOME=" + winetest.TempDir(t)))
	st, err := Open(context.Background(), Pass, ns, Settings{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	roundtrip(t, st, true)
	store := getenv("PASSWORD_STORE_DIR")
	if _, err := os.Stat(filepath.Join(store, "rolehop", "prod.gpg")); err != nil {
		t.Fatalf("no rolehop/prod.gpg in the store: %v", err)
	}

	// aws-vault's pass entries: the envelope at the store's root (no
	// prefix), next to a cached session.
	envelope := `{"Key":"vaultuser","Data":"eyJBY2Nlc3NLZXlJRCI6IkFLSUFJT1NGT0ROTjdWQVVMVDAxIiwiU2VjcmV0QWNjZXNzS2V5IjoidmF1bHRTZWNyZXQiLCJTZXNzaW9uVG9rZW4iOiIifQ==","Label":"aws-vault (vaultuser)","Description":"","KeychainNotTrustApplication":true,"KeychainNotSynchronizable":false}`
	insert := exec.Command("pass", "insert", "-m", "-f", "vaultuser")
	insert.Stdin = strings.NewReader(envelope)
	if out, err := insert.CombinedOutput(); err != nil {
		t.Fatalf("pass insert: %v %s", err, out)
	}
	vault, err := Open(context.Background(), Pass, AWSVault(getenv), Settings{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	k, err := vault.Get(context.Background(), "vaultuser")
	if err != nil || k.AccessKeyID != "AKIAIOSFODNN7VAULT01" || k.SecretAccessKey != "vaultSecret" {
		t.Fatalf("aws-vault's pass entry: %+v, %v", k.AccessKeyID, err)
	}
	names, _ := vault.Names(context.Background())
	if !slices.Equal(names, []string{"vaultuser"}) {
		t.Fatalf("aws-vault names = %q (entries of other prefixes are not its)", names)
	}

	// Not initialised: the one-line error says so and names the others.
	_, err = Open(context.Background(), Pass, ns, Settings{Getenv: envOf("PASSWORD_STORE_DIR=" + winetest.TempDir(t))})
	var ue *UnavailableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "pass init") {
		t.Fatalf("uninitialised store: %v", err)
	}
}

func TestSecretServiceStore(t *testing.T) {
	env := keyringtest.SecretService(t)
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		t.Setenv(k, v) // go-keyring's D-Bus library reads the bus address from the process
	}
	getenv := envOf(env...)
	ns, _ := Rolehop(envOf("HOME=" + winetest.TempDir(t)))
	st, err := Open(context.Background(), SecretService, ns, Settings{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	roundtrip(t, st, false)

	// A named collection with "profile" attributes, as aws-vault keeps
	// them; here in the login collection, which exists headless (creating
	// aws-vault's own "awsvault" collection would need a password dialog).
	coll := Namespace{Program: "aws-vault", Collection: "login"}
	vault, err := Open(context.Background(), SecretService, coll, Settings{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Get(context.Background(), "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing entry: %v", err)
	}
	if err := vault.Set(context.Background(), "x", testKeys); err == nil {
		t.Fatal("rolehop wrote into another program's collection")
	}

	// A locked collection, no desktop: a one-line error at once, not a
	// wait on a prompt nobody sees.
	conn, err := dbus.SessionBus()
	if err != nil {
		t.Fatal(err)
	}
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	err = conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets").Call("org.freedesktop.Secret.Service.Lock", 0,
		[]dbus.ObjectPath{"/org/freedesktop/secrets/aliases/default"}).Store(&locked, &prompt)
	if err != nil || len(locked) != 1 {
		t.Fatalf("locking the default collection: %v %v (prompt %s)", err, locked, prompt)
	}
	start := time.Now()
	_, err = Open(context.Background(), SecretService, ns, Settings{Getenv: getenv})
	if err == nil || !strings.Contains(err.Error(), "is locked") || time.Since(start) > 10*time.Second {
		t.Fatalf("locked collection: %v after %s", err, time.Since(start))
	}
}

func TestSecretServiceUnavailable(t *testing.T) {
	ns := Namespace{Program: "rolehop", Service: "rolehop"}
	_, err := Open(context.Background(), SecretService, ns, Settings{Getenv: envOf("HOME=/nonexistent")})
	// Off Linux there is no D-Bus to look for: the Secret Service is
	// unavailable whatever the environment says.
	why := "no D-Bus session"
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		why = "it needs D-Bus, which " + runtime.GOOS + " does not have"
	}
	var ue *UnavailableError
	if !errors.As(err, &ue) || ue.Backend != SecretService || !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), "ROLEHOP_KEYRING_BACKEND") {
		t.Fatalf("no bus: %v; want an UnavailableError saying %q", err, why)
	}
}

func TestChoose(t *testing.T) {
	home := winetest.TempDir(t)
	tests := []struct {
		name       string
		env        []string
		configured string
		want       Backend
		wantErr    bool
	}{
		{"env wins", []string{"ROLEHOP_KEYRING_BACKEND=pass", "DBUS_SESSION_BUS_ADDRESS=unix:path=/x"}, "file", Pass, false},
		{"env, any case", []string{"ROLEHOP_KEYRING_BACKEND=Secret-Service"}, "", SecretService, false},
		{"config next", []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/x"}, "file", File, false},
		{"bad env", []string{"ROLEHOP_KEYRING_BACKEND=vault"}, "", "", true},
		{"bad config", nil, "kwallet", "", true},
		{"a session bus", []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/x", "HOME=" + home}, "", linuxDefault(SecretService), false},
		{"nothing", []string{"HOME=" + home}, "", linuxDefault(File), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Choose(envOf(tt.env...), tt.configured, "~/.aws/config:3")
			if tt.wantErr != (err != nil) || c.Backend != tt.want {
				t.Fatalf("Choose = %v (%s), %v", c.Backend, c.From, err)
			}
		})
	}
}

// linuxDefault is the backend Choose picks by default on this OS, given
// that on Linux (and other Unix systems) it picks b: macOS and Windows
// always have their own.
func linuxDefault(b Backend) Backend {
	switch runtime.GOOS {
	case "darwin":
		return MacOSKeychain
	case "windows":
		return WinCred
	}
	return b
}

func TestCheckProfileName(t *testing.T) {
	for _, bad := range []string{"", "a/b", `a\b`, "..", ".hidden", "a\x00b", "a\nb"} {
		if CheckProfileName(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, good := range []string{"dev", "prod-user", "sts.GetSessionToken,dmF1,,1", "team@acme"} {
		if err := CheckProfileName(good); err != nil {
			t.Errorf("%q refused: %v", good, err)
		}
	}
}

func TestIndex(t *testing.T) {
	getenv := envOf("XDG_CONFIG_HOME=" + winetest.TempDir(t))
	ix, err := LoadIndex(getenv)
	if err != nil || len(ix.Names()) != 0 {
		t.Fatalf("empty index: %v %v", ix.Names(), err)
	}
	err = UpdateIndex(context.Background(), getenv, func(ix *Index) error {
		ix.Profiles["dev"] = Entry{Backend: Pass, AccessKeyID: "AKIAIOSFODNN7EXAMPL1"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ix, err = LoadIndex(getenv)
	if e, ok := ix.Lookup("dev"); err != nil || !ok || e.Backend != Pass {
		t.Fatalf("after update: %+v %v", e, err)
	}
	if err := os.WriteFile(ix.Path, []byte(`{"version":1,"profiles":{"x":{"backend":"vault"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadIndex(getenv); err == nil || !strings.Contains(err.Error(), "keys remove x") {
		t.Fatalf("a bad entry: %v", err)
	}
}
