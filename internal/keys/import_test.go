package keys

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/keychain"
	"github.com/rolehop/rolehop/internal/winetest"
)

func testEnv(t *testing.T, credentials string) (*Env, string, *bytes.Buffer) {
	t.Helper()
	home := winetest.TempDir(t)
	if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o700); err != nil {
		t.Fatal(err)
	}
	credPath := filepath.Join(home, ".aws", "credentials")
	if err := os.WriteFile(credPath, []byte(credentials), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"HOME": home, "ROLEHOP_KEYRING_PASSWORD": "pw",
		"AWS_CONFIG_FILE": filepath.Join(home, ".aws", "config"), "AWS_SHARED_CREDENTIALS_FILE": credPath}
	if runtime.GOOS == "windows" {
		// The key index and the file keychain are in %AppData%
		// (os.UserConfigDir) there, not under HOME: keep them in the test's.
		vars["XDG_CONFIG_HOME"] = filepath.Join(home, ".config")
	}
	getenv := func(k string) string { return vars[k] }
	cfg, err := awsconfig.LoadEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	say := func(format string, args ...any) {
		log.WriteString(strings.TrimSpace(fmt.Sprintf(format, args...)) + "\n")
	}
	return &Env{Getenv: getenv, Config: cfg, Keychain: keychain.Settings{Getenv: getenv}, Notice: say, Warn: say, Out: &log}, credPath, &log
}

// TestImportFromCredentialsFile: the two lines of each imported profile go
// and every other byte stays; a session's keys are not imported.
func TestImportFromCredentialsFile(t *testing.T) {
	const before = "# my keys\r\n[dev]\r\naws_access_key_id = AKIAIOSFODNN7EXAMPL1\r\n  ; a comment inside\r\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG\r\nregion = eu-west-1\r\n\r\n[tmp]\r\naws_access_key_id = ASIAIOSFODNN7EXAMPL2\r\naws_secret_access_key = s\r\naws_session_token = t\r\n"
	const after = "# my keys\r\n[dev]\r\n  ; a comment inside\r\nregion = eu-west-1\r\n\r\n[tmp]\r\naws_access_key_id = ASIAIOSFODNN7EXAMPL2\r\naws_secret_access_key = s\r\naws_session_token = t\r\n"
	e, path, log := testEnv(t, before)
	to := keychain.Choice{Backend: keychain.File, From: "test"}
	if err := Import(context.Background(), e, nil, ImportOptions{NoVerify: true, To: to}); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	got, _ := os.ReadFile(path)
	if string(got) != after {
		t.Fatalf("credentials file:\n%q\nwant\n%q", got, after)
	}
	if strings.Contains(log.String(), "wJalr") {
		t.Fatalf("a secret in the output: %s", log)
	}
	ix, _ := keychain.LoadIndex(e.Getenv)
	if en, ok := ix.Lookup("dev"); !ok || en.AccessKeyID != "AKIAIOSFODNN7EXAMPL1" || len(ix.Names()) != 1 {
		t.Fatalf("index: %v", ix.Profiles)
	}
	ns, _ := keychain.Rolehop(e.Getenv)
	st, _ := keychain.Open(context.Background(), keychain.File, ns, e.Keychain)
	if k, err := st.Get(context.Background(), "dev"); err != nil || k.SecretAccessKey != "wJalrXUtnFEMI/K7MDENG" {
		t.Fatalf("stored: %v", err)
	}

	// Named: a session, or a profile without keys, is refused, and the
	// file stays as it is.
	for _, name := range []string{"tmp", "dev", "nope"} {
		if err := Import(context.Background(), e, []string{name}, ImportOptions{NoVerify: true, To: to}); err == nil {
			t.Errorf("import %s: no error", name)
		}
	}
	if got2, _ := os.ReadFile(path); !bytes.Equal(got2, got) {
		t.Fatal("a refused import changed the file")
	}
}

func TestCheckKeys(t *testing.T) {
	bad := []keychain.Keys{
		{AccessKeyID: "", SecretAccessKey: "Zq9secretZq9"},
		{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "Zq9secretZq9"},
		{AccessKeyID: "AKIA1", SecretAccessKey: "Zq9secretZq9"},
		{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: ""},
		{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "Zq9 secretZq9"},
	}
	for _, k := range bad {
		err := CheckKeys(k)
		if err == nil {
			t.Errorf("%q accepted", k.AccessKeyID)
		} else if k.SecretAccessKey != "" && strings.Contains(err.Error(), k.SecretAccessKey) {
			t.Errorf("error quotes the secret: %v", err)
		}
	}
	if err := CheckKeys(keychain.Keys{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}); err != nil {
		t.Error(err)
	}
}
