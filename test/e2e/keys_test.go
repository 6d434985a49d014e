//go:build unix

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/rolehop/rolehop/internal/keyringtest"
)

// End-to-end tests of `rolehop keys`: long-term IAM user keys kept in a real
// OS store (the encrypted-file store, pass with a throwaway gpg key, and
// gnome-keyring's Secret Service on a private D-Bus; internal/keyringtest),
// used by the real AWS CLI as the child of `rolehop exec`, with moto as STS
// and IAM. With CI=true a missing pass, gpg, dbus-daemon or gnome-keyring
// fails the tests instead of skipping them.

// The aws-vault v7.9.14 file store of internal/keychain/testdata
// (passphrase vaultFixturePassphrase): two profiles' long-term keys and a
// cached GetSessionToken session of vaultuser, which import must skip. The
// keys were decrypted from the fixture once; they are not real.
const (
	vaultFixturePassphrase = "rolehop-fixture"
	vaultUserKeyID         = "AKIAIOSFODNN7VAULT01"
	vaultUserSecret        = "vaultSecret0000000000000000000000000000001"
	vaultSecondKeyID       = "AKIAIOSFODNN7VAULT02"
	vaultSecondSecret      = "vaultSecret0000000000000000000000000000002"
	vaultSessionEntry      = "sts.GetSessionToken,dmF1bHR1c2Vy,,1796450802"
)

// iamUser is an IAM user made in moto (account 111111111111) for one test,
// with an access key moto knows.
type iamUser struct {
	Name string
	ARN  string
	Keys Keys
}

// envKeys are the user's keys as `keys add --env` reads them.
func (u iamUser) envKeys() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + u.Keys.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + u.Keys.SecretAccessKey}
}

// newIAMUser creates user keys-<label>-<random> and an access key for it.
func newIAMUser(t testing.TB, label string) iamUser {
	t.Helper()
	seedAccounts(t) // the roles the tests assume
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	name := "keys-" + label + "-" + randHex(3)
	c := motoIAM(devAccount)
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatalf("moto CreateUser %s: %v", name, err)
	}
	out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("moto CreateAccessKey %s: %v", name, err)
	}
	return iamUser{Name: name, ARN: "arn:aws:iam::" + devAccount + ":user/" + name, Keys: Keys{
		AccessKeyID:     aws.ToString(out.AccessKey.AccessKeyId),
		SecretAccessKey: aws.ToString(out.AccessKey.SecretAccessKey),
	}}
}

// maskedKeyID is an access key id as rolehop shows it: first 4 … last 4.
func maskedKeyID(id string) string { return id[:4] + "…" + id[len(id)-4:] }

// keysBackend is one store for rolehop's keys, started for one test.
type keysBackend struct {
	name     string   // ROLEHOP_KEYRING_BACKEND
	describe string   // "keys of profile %q from the <describe> keychain"
	env      []string // what rolehop needs to reach the store (KEY=VALUE)
	// dirs hold the store's data outside HOME (scanned for plaintext).
	dirs []string
	// entry is the store's file of a profile, if it keeps one per entry.
	entry func(profile string) string
	// unavailable makes the store unreachable (KEY=VALUE, or KEY to unset);
	// why is what the one-line error must say.
	unavailable []string
	why         string
}

// startKeysBackend starts the named store and points env at it.
func startKeysBackend(t *testing.T, env *TestEnv, name string) keysBackend {
	t.Helper()
	b := keysBackend{name: name}
	switch name {
	case "file":
		b.describe = "encrypted-file"
		b.env = []string{"ROLEHOP_KEYRING_PASSWORD=pw-" + randHex(12)}
		b.entry = func(p string) string { return filepath.Join(env.Home, ".config", "rolehop", "keyring", p) }
		b.unavailable, b.why = []string{"ROLEHOP_KEYRING_PASSWORD"}, "set ROLEHOP_KEYRING_PASSWORD"
	case "pass":
		b.describe = "pass"
		b.env = keyringtest.Pass(t)
		store := envValue(b.env, "PASSWORD_STORE_DIR")
		b.dirs = []string{envValue(b.env, "GNUPGHOME"), store}
		b.entry = func(p string) string { return filepath.Join(store, "rolehop", p+".gpg") }
		b.unavailable, b.why = []string{"PASSWORD_STORE_DIR=" + t.TempDir()}, "is not initialised"
	case "secret-service":
		b.describe = "Secret Service"
		b.env = keyringtest.SecretService(t)
		b.unavailable, b.why = []string{"DBUS_SESSION_BUS_ADDRESS"}, "no D-Bus session"
	default:
		t.Fatalf("no keys backend %q", name)
	}
	env.Set("ROLEHOP_KEYRING_BACKEND", name)
	for _, kv := range b.env {
		k, v, _ := strings.Cut(kv, "=")
		env.Set(k, v)
	}
	return b
}

// envValue is the value of name in KEY=VALUE entries.
func envValue(env []string, name string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// runNoTTY runs rolehop like Run, but in a new session without a
// controlling terminal (as in CI, wherever the tests are started from):
// nothing can ask for a passphrase.
func runNoTTY(t *testing.T, env *TestEnv, extraEnv []string, args ...string) Result {
	t.Helper()
	bin := requireRolehop(t)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := env.Command(ctx, bin, args...)
	cmd.Env = env.Environ(extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no Setctty
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String(), Duration: time.Since(start)}
	res.Code, res.Signal = exitStatus(cmd, err)
	res.TimedOut = ctx.Err() == context.DeadlineExceeded
	t.Logf("$ rolehop %s (no terminal) → %s", shellQuote(args), res.brief())
	return res
}

// wantNoSecret fails when the run's stdout or stderr holds a secret.
func wantNoSecret(t *testing.T, res Result, secrets ...string) {
	t.Helper()
	assertNoSecrets(t, "stdout", res.Stdout, secrets)
	assertNoSecrets(t, "stderr", res.Stderr, secrets)
}

// wantOK fails the test unless the run exited 0.
func wantOK(t *testing.T, res Result, what string) {
	t.Helper()
	if res.Code != 0 {
		t.Fatalf("%s: %s", what, res)
	}
}

// assertNoPlaintext walks dirs and fails for every regular file that holds
// one of secrets as it is.
func assertNoPlaintext(t *testing.T, secrets []string, dirs ...string) {
	t.Helper()
	files := 0
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return nil
				}
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			for _, s := range secrets {
				if bytes.Contains(data, []byte(s)) {
					t.Errorf("%s holds a secret (%.6s…) in plaintext", path, s)
				}
			}
			return nil
		})
		if err != nil {
			t.Errorf("walking %s: %v", dir, err)
		}
	}
	if files == 0 {
		t.Errorf("no file at all under %q: nothing was scanned", dirs)
	}
}

// keysListRow is one row of `keys list --output json`.
type keysListRow struct {
	Profile     string `json:"profile"`
	AccessKeyID string `json:"access_key_id"`
	Backend     string `json:"backend"`
	UserARN     string `json:"user_arn"`
}

// keychainList runs `rolehop keys list --output json`.
func keychainList(t *testing.T, env *TestEnv) []keysListRow {
	t.Helper()
	res := env.Run(t, "keys", "list", "--output", "json")
	wantOK(t, res, "keys list --output json")
	var rows []keysListRow
	if err := json.Unmarshal([]byte(res.Stdout), &rows); err != nil {
		t.Fatalf("keys list --output json: %v: %q", err, res.Stdout)
	}
	return rows
}

// keysConfig is base (no keys of its own: they are in the keychain) and
// prod, a role whose source_profile is base.
func keysConfig(session string) string {
	return `
		[profile base]
		region = us-east-1

		[profile prod]
		role_arn = ` + prodRoleARN + `
		source_profile = base
		role_session_name = ` + session + `
	`
}

// TestKeysBackends: for each store, `keys add base --env` with an IAM
// user's keys from moto; then `exec prod` (role with source_profile base)
// and `exec base` run the real AWS CLI as the assumed role and as the user,
// signed with the stored key; nothing under HOME (nor in the store's own
// directories) holds the secret in plaintext; explain names the store
// without opening it, and with the store unreachable explain still works
// while exec fails with one line that says why.
func TestKeysBackends(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"file", "pass", "secret-service"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testKeysBackend(t, name)
		})
	}
}

func testKeysBackend(t *testing.T, name string) {
	env := newTestEnv(t)
	b := startKeysBackend(t, env, name)
	user := newIAMUser(t, name)
	secret := user.Keys.SecretAccessKey

	res := env.RunWith(t, user.envKeys(), "keys", "add", "base", "--env")
	wantOK(t, res, "keys add base --env")
	wantNoSecret(t, res, secret)
	if want := fmt.Sprintf("stored the keys %s of profile %q in the %s keychain", maskedKeyID(user.Keys.AccessKeyID), "base", b.describe); !strings.Contains(res.Stderr, want) {
		t.Errorf("keys add: stderr %q does not say %q", res.Stderr, want)
	}
	if b.entry != nil {
		data, err := os.ReadFile(b.entry("base"))
		if err != nil {
			t.Fatalf("the %s store has no entry for base: %v", name, err)
		}
		if name == "file" && strings.Count(string(data), ".") != 4 {
			t.Errorf("%s is not a JWE (compact serialization: 5 parts): %q", b.entry("base"), data)
		}
	}

	session := "keys-" + name
	env.WriteConfig(keysConfig(session))
	arn, res := execCallerARN(t, env, "prod")
	if want := assumedARN(prodAccount, "prod", session); arn != want {
		t.Errorf("exec prod: the child ran as %q, want %q", arn, want)
	}
	wantNoSecret(t, res, secret)
	if call := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]; call.AccessKeyID != user.Keys.AccessKeyID {
		t.Errorf("AssumeRole signed with %q, want the stored key %q", call.AccessKeyID, user.Keys.AccessKeyID)
	}
	arn, res = execCallerARN(t, env, "base")
	if arn != user.ARN {
		t.Errorf("exec base: the child ran as %q, want the user %q", arn, user.ARN)
	}
	wantNoSecret(t, res, secret)
	gci := env.Proxy.Calls("GetCallerIdentity")
	if len(gci) == 0 || gci[len(gci)-1].AccessKeyID != user.Keys.AccessKeyID {
		t.Errorf("exec base: the child's call was not signed with the stored key %q:\n%s", user.Keys.AccessKeyID, callList(gci))
	}

	source := fmt.Sprintf("keys of profile %q from the %s keychain", "base", b.describe)
	res = env.Run(t, "explain", "prod")
	wantOK(t, res, "explain prod")
	if !strings.Contains(res.Stdout, source) {
		t.Errorf("explain prod does not say %q:\n%s", source, res.Stdout)
	}
	wantNoSecret(t, res, secret)

	rows := keychainList(t, env)
	if len(rows) != 1 || rows[0].Profile != "base" || rows[0].Backend != name || rows[0].AccessKeyID != maskedKeyID(user.Keys.AccessKeyID) {
		t.Errorf("keys list: %+v, want base in %s as %s", rows, name, maskedKeyID(user.Keys.AccessKeyID))
	}

	assertNoPlaintext(t, []string{secret}, append([]string{env.Home}, b.dirs...)...)

	// The store unreachable: explain reads only the index; exec has to
	// open the store (--no-cache: a cached role session would not).
	res = runNoTTY(t, env, b.unavailable, "explain", "prod")
	wantOK(t, res, "explain prod with the store unavailable")
	if !strings.Contains(res.Stdout, source) {
		t.Errorf("explain prod with the store unavailable does not say %q:\n%s", source, res.Stdout)
	}
	for _, args := range [][]string{
		{"exec", "prod", "--no-cache", "--", awsBin, "sts", "get-caller-identity"},
		{"exec", "base", "--", awsBin, "sts", "get-caller-identity"},
	} {
		res = runNoTTY(t, env, b.unavailable, args...)
		wantCLIError(t, env, res, 1, `profile "base"`, b.why)
		wantNoSecret(t, res, secret)
		if strings.Contains(res.Stderr, "keys add base") || strings.Contains(res.Stderr, "keys remove base") {
			t.Errorf("the keys are fine, the store is not reachable: no advice to add or remove them again: %q", res.Stderr)
		}
		if res.Stdout != "" {
			t.Errorf("rolehop %s ran the child with the store unavailable: %q", shellQuote(args), res.Stdout)
		}
	}
}

// TestKeysKeychainOnlyProfile: a profile that only the keychain knows (no
// AWS config or credentials file at all) is usable as it is, and under
// --role-arn; after `keys remove` it is gone, with its entry.
func TestKeysKeychainOnlyProfile(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	b := startKeysBackend(t, env, "file")
	user := newIAMUser(t, "only")
	for _, f := range []string{env.ConfigFile, env.CredentialsFile} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Fatalf("%s exists (%v): the test needs no AWS config at all", f, err)
		}
	}
	res := env.RunWith(t, user.envKeys(), "keys", "add", "base", "--env")
	wantOK(t, res, "keys add base --env")
	if !strings.Contains(res.Stderr, `profile "base" is in no AWS config file`) {
		t.Errorf("keys add: no notice that base is in no config file: %q", res.Stderr)
	}
	arn, res := execCallerARN(t, env, "base")
	if arn != user.ARN {
		t.Errorf("exec base: the child ran as %q, want %q", arn, user.ARN)
	}
	wantNoSecret(t, res, user.Keys.SecretAccessKey)
	arn, _ = execCallerARN(t, env, "base", "--role-arn", devRoleARN, "--role-session-name", "only")
	if want := assumedARN(devAccount, "dev", "only"); arn != want {
		t.Errorf("exec base --role-arn: the child ran as %q, want %q", arn, want)
	}
	if call := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]; call.AccessKeyID != user.Keys.AccessKeyID {
		t.Errorf("AssumeRole signed with %q, want the stored key %q", call.AccessKeyID, user.Keys.AccessKeyID)
	}

	res = env.Run(t, "keys", "remove", "base")
	wantOK(t, res, "keys remove base")
	if _, err := os.Stat(b.entry("base")); !os.IsNotExist(err) {
		t.Errorf("keys remove left the store's entry %s (%v)", b.entry("base"), err)
	}
	if rows := keychainList(t, env); len(rows) != 0 {
		t.Errorf("keys list after remove: %+v", rows)
	}
	res = env.Run(t, "exec", "base", "--", "true")
	wantCLIError(t, env, res, 2, `"base"`)
}

// TestKeysPrecedence: keys in the keychain outrank aws_access_key_id lines
// of the same profile (which the AWS CLI alone uses), and every run warns
// while the plaintext copy is there.
func TestKeysPrecedence(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	startKeysBackend(t, env, "file")
	inKeychain, inFile := newIAMUser(t, "kc"), newIAMUser(t, "plain")
	env.WriteConfig(keysConfig("precedence"))
	env.WriteCredentials(ciCredentials("base", inFile.Keys))

	// The oracle: the AWS CLI alone uses the credentials file's keys.
	if arn := callerARN(t, env, "AWS_PROFILE=base"); arn != inFile.ARN {
		t.Fatalf("aws --profile base ran as %q, want the credentials file's user %q", arn, inFile.ARN)
	}

	res := env.RunWith(t, inKeychain.envKeys(), "keys", "add", "base", "--env")
	wantOK(t, res, "keys add base --env")
	if !strings.Contains(res.Stderr, `profile "base" still has plaintext keys at ~/.aws/credentials:2`) {
		t.Errorf("keys add: no warning about the plaintext keys: %q", res.Stderr)
	}
	secrets := []string{inKeychain.Keys.SecretAccessKey, inFile.Keys.SecretAccessKey}
	warning := `profile "base": the keys in the encrypted-file keychain are used, and a plaintext copy is still in ~/.aws/credentials`
	for _, tc := range []struct {
		profile, want string
	}{
		{"base", inKeychain.ARN},
		{"prod", assumedARN(prodAccount, "prod", "precedence")},
	} {
		env.Proxy.Reset()
		arn, res := execCallerARN(t, env, tc.profile)
		if arn != tc.want {
			t.Errorf("exec %s: the child ran as %q, want %q", tc.profile, arn, tc.want)
		}
		if !strings.Contains(res.Stderr, "rolehop: warning: "+warning) {
			t.Errorf("exec %s: no plaintext-copy warning on stderr: %q", tc.profile, res.Stderr)
		}
		wantNoSecret(t, res, secrets...)
		for _, c := range env.Proxy.Calls("") {
			if c.AccessKeyID == inFile.Keys.AccessKeyID {
				t.Errorf("exec %s: %s signed with the credentials file's key", tc.profile, c.Action)
			}
		}
	}
	if c := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]; c.AccessKeyID != inKeychain.Keys.AccessKeyID {
		t.Errorf("exec prod: AssumeRole signed with %q, want the keychain's %q", c.AccessKeyID, inKeychain.Keys.AccessKeyID)
	}
	res = env.Run(t, "explain", "base")
	wantOK(t, res, "explain base")
	if !strings.Contains(res.Stdout, `keys of profile "base" from the encrypted-file keychain`) || !strings.Contains(res.Stdout, warning) {
		t.Errorf("explain base: want the keychain source and the warning:\n%s", res)
	}
}

// importCredentials is a credentials file for keys import, CRLF but for its
// last section: comments, [default], [dev] (with a comment between its
// keys), a session's temporary credentials, and a section without spaces
// around "=" and without a final newline. It returns the file and what it
// must be after `keys import dev`: the same bytes without dev's two lines.
func importCredentials(def, dev, session Keys) (before, after string) {
	lines := []string{
		"# rolehop e2e: keys import\r\n",
		"[default]\r\n",
		"aws_access_key_id = " + def.AccessKeyID + "\r\n",
		"aws_secret_access_key = " + def.SecretAccessKey + "\r\n",
		"\r\n",
		"; dev is an IAM user\r\n",
		"[dev]\r\n",
		"aws_access_key_id = " + dev.AccessKeyID + "\r\n",
		"# rotated every 90 days\r\n",
		"aws_secret_access_key = " + dev.SecretAccessKey + "\r\n",
		"\r\n",
		"[session]\r\n",
		"aws_access_key_id = " + session.AccessKeyID + "\r\n",
		"aws_secret_access_key = " + session.SecretAccessKey + "\r\n",
		"aws_session_token = " + session.SessionToken + "\r\n",
		"\n",
		"[tail]\n",
		"aws_access_key_id=" + def.AccessKeyID + "\n",
		"aws_secret_access_key=" + def.SecretAccessKey,
	}
	before = strings.Join(lines, "")
	after = strings.Join(lines[:7], "") + lines[8] + strings.Join(lines[10:], "") // without lines 8 and 10 of the file
	return before, after
}

// TestKeysImport: `keys import dev` checks dev's key with STS, stores it,
// and takes exactly its two lines out of ~/.aws/credentials (every other
// byte stays: CRLF, comments, a session's credentials); exec dev then works
// from the keychain and no plaintext copy of dev's secret is left on disk.
// A session's credentials are refused. A key STS refuses leaves the file
// byte for byte as it was and the keychain empty.
func TestKeysImport(t *testing.T) {
	t.Parallel()
	t.Run("moved", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		startKeysBackend(t, env, "file")
		def, dev := newIAMUser(t, "default"), newIAMUser(t, "dev")
		session := motoAssumeRole(t, seedAccounts(t).CIUser, devRoleARN, "keys-import")
		before, after := importCredentials(def.Keys, dev.Keys, session)
		if err := os.WriteFile(env.CredentialsFile, []byte(before), 0o600); err != nil {
			t.Fatal(err)
		}

		res := env.Run(t, "keys", "import", "dev")
		wantOK(t, res, "keys import dev")
		wantNoSecret(t, res, dev.Keys.SecretAccessKey, def.Keys.SecretAccessKey, session.SecretAccessKey)
		if want := fmt.Sprintf("moved the keys %s of profile %q from ~/.aws/credentials:8 to the encrypted-file keychain", maskedKeyID(dev.Keys.AccessKeyID), "dev"); !strings.Contains(res.Stderr, want) {
			t.Errorf("keys import: stderr %q does not say %q", res.Stderr, want)
		}
		if c := mustCalls(t, env.Proxy, "GetCallerIdentity", 1)[0]; c.AccessKeyID != dev.Keys.AccessKeyID {
			t.Errorf("the verifying GetCallerIdentity was signed with %q, want dev's %q", c.AccessKeyID, dev.Keys.AccessKeyID)
		}
		got, err := os.ReadFile(env.CredentialsFile)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != after {
			t.Errorf("the credentials file after keys import dev:\n%q\nwant (the original without dev's two lines):\n%q", got, after)
		}
		if rows := keychainList(t, env); len(rows) != 1 || rows[0].Profile != "dev" || rows[0].UserARN != dev.ARN {
			t.Errorf("keys list: %+v, want dev, verified as %s", rows, dev.ARN)
		}

		env.Proxy.Reset()
		arn, res := execCallerARN(t, env, "dev")
		if arn != dev.ARN {
			t.Errorf("exec dev: the child ran as %q, want %q", arn, dev.ARN)
		}
		if strings.Contains(res.Stderr, "plaintext copy") {
			t.Errorf("exec dev warns of a plaintext copy after the import: %q", res.Stderr)
		}
		assertNoPlaintext(t, []string{dev.Keys.SecretAccessKey}, env.Home)

		// A session's temporary credentials stay where they are.
		res = env.Run(t, "keys", "import", "session")
		wantCLIError(t, env, res, 1, `profile "session"`, "session token")
		wantNoSecret(t, res, session.SecretAccessKey, session.SessionToken)
		if got, _ := os.ReadFile(env.CredentialsFile); string(got) != after {
			t.Errorf("keys import session changed the credentials file:\n%q", got)
		}
	})

	t.Run("verify fails", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		b := startKeysBackend(t, env, "file")
		def, dev := newIAMUser(t, "default"), newIAMUser(t, "dev")
		session := motoAssumeRole(t, seedAccounts(t).CIUser, devRoleARN, "keys-import")
		before, _ := importCredentials(def.Keys, dev.Keys, session)
		if err := os.WriteFile(env.CredentialsFile, []byte(before), 0o600); err != nil {
			t.Fatal(err)
		}
		// moto accepts any key: STS's answer to an unknown or deleted one.
		env.Proxy.InjectSTSError("GetCallerIdentity", 10, http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")

		res := env.Run(t, "keys", "import", "dev")
		wantCLIError(t, env, res, 1, `profile "dev"`, maskedKeyID(dev.Keys.AccessKeyID), "InvalidClientTokenId", "nothing was changed")
		wantNoSecret(t, res, dev.Keys.SecretAccessKey)
		if got, _ := os.ReadFile(env.CredentialsFile); string(got) != before {
			t.Errorf("a failed import changed the credentials file:\n%q\nwant:\n%q", got, before)
		}
		if rows := keychainList(t, env); len(rows) != 0 {
			t.Errorf("keys list after a failed import: %+v", rows)
		}
		if _, err := os.Stat(b.entry("dev")); !os.IsNotExist(err) {
			t.Errorf("a failed import left an entry in the store: %s (%v)", b.entry("dev"), err)
		}
	})
}

// copyVaultFixture copies aws-vault's file store of the fixture to
// $HOME/.awsvault/keys (where aws-vault keeps it) and returns its files'
// contents.
func copyVaultFixture(t *testing.T, env *TestEnv) map[string][]byte {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(root, "internal", "keychain", "testdata", "awsvault-keys")
	dst := filepath.Join(env.Home, ".awsvault", "keys")
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
		files[filepath.Join(dst, e.Name())] = b
	}
	if len(files) != 3 {
		t.Fatalf("the fixture %s has %d files, want 3", src, len(files))
	}
	return files
}

// awsVaultEntry is an entry as aws-vault v7 writes it into pass (and its
// other 99designs/keyring stores): an envelope whose Data is the JSON of
// its credentials.
func awsVaultEntry(t *testing.T, profile string, creds map[string]any) []byte {
	t.Helper()
	data, err := json.Marshal(creds)
	if err != nil {
		t.Fatal(err)
	}
	env := struct {
		Key                         string
		Data                        []byte
		Label                       string
		Description                 string
		KeychainNotTrustApplication bool
		KeychainNotSynchronizable   bool
	}{profile, data, "aws-vault (" + profile + ")", "", true, false}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantChildKeys runs `rolehop exec PROFILE -- sh -c …` and checks that the
// child got exactly keys (the secret compared here, never printed).
func wantChildKeys(t *testing.T, env *TestEnv, profile, keyID, secret string) {
	t.Helper()
	res := env.Run(t, "exec", profile, "--", shBin, "-c", `printf '%s %s' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"`)
	if res.Code != 0 {
		t.Fatalf("exec %s: exit %d: %s", profile, res.Code, res.Stderr)
	}
	if res.Stdout != keyID+" "+secret {
		t.Errorf("exec %s: the child's keys are not %s and its secret (%d bytes of output)", profile, keyID, len(res.Stdout))
	}
}

// TestKeysImportAWSVault: keys import --from aws-vault copies the long-term
// keys out of aws-vault's file store (the real v7.9.14 fixture) and out of
// its pass store, skips its cached sessions, leaves aws-vault's copy as it
// is; a wrong passphrase is one line and exit 1.
func TestKeysImportAWSVault(t *testing.T) {
	t.Parallel()
	t.Run("file", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		startKeysBackend(t, env, "file")
		fixture := copyVaultFixture(t, env)
		env.Set("AWS_VAULT_FILE_PASSPHRASE", vaultFixturePassphrase)

		res := env.Run(t, "keys", "import", "--from", "aws-vault", "--from-backend", "file", "--no-verify")
		wantOK(t, res, "keys import --from aws-vault --from-backend file")
		wantNoSecret(t, res, vaultUserSecret, vaultSecondSecret, vaultFixturePassphrase)
		for _, p := range []struct{ profile, id string }{{"vaultuser", vaultUserKeyID}, {"second", vaultSecondKeyID}} {
			if want := fmt.Sprintf("copied the keys %s of profile %q from aws-vault's encrypted-file store", maskedKeyID(p.id), p.profile); !strings.Contains(res.Stderr, want) {
				t.Errorf("stderr %q does not say %q", res.Stderr, want)
			}
		}
		if strings.Contains(res.Stderr, "GetSessionToken") {
			t.Errorf("the cached session was not skipped silently: %q", res.Stderr)
		}
		mustCalls(t, env.Proxy, "GetCallerIdentity", 0) // --no-verify

		res = env.Run(t, "keys", "list")
		wantOK(t, res, "keys list")
		lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[1], "second ") || !strings.Contains(lines[1], maskedKeyID(vaultSecondKeyID)) ||
			!strings.HasPrefix(lines[2], "vaultuser ") || !strings.Contains(lines[2], maskedKeyID(vaultUserKeyID)) {
			t.Errorf("keys list: want a header, second and vaultuser (masked):\n%s", res.Stdout)
		}
		for _, id := range []string{vaultUserKeyID, vaultSecondKeyID} {
			if strings.Contains(res.Stdout, id) {
				t.Errorf("keys list shows the whole key id %s:\n%s", id, res.Stdout)
			}
		}
		for path, want := range fixture {
			if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
				t.Errorf("aws-vault's %s changed (%v)", path, err)
			}
		}
		wantChildKeys(t, env, "vaultuser", vaultUserKeyID, vaultUserSecret)
		wantChildKeys(t, env, "second", vaultSecondKeyID, vaultSecondSecret)
		assertNoPlaintext(t, []string{vaultUserSecret, vaultSecondSecret}, env.Home)
	})

	t.Run("file wrong passphrase", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		startKeysBackend(t, env, "file")
		copyVaultFixture(t, env)
		env.Set("AWS_VAULT_FILE_PASSPHRASE", "not-"+vaultFixturePassphrase)
		res := env.Run(t, "keys", "import", "--from", "aws-vault", "--from-backend", "file", "--no-verify")
		wantCLIError(t, env, res, 1, "AWS_VAULT_FILE_PASSPHRASE", "does not open")
		wantNoSecret(t, res, "not-"+vaultFixturePassphrase)
		if rows := keychainList(t, env); len(rows) != 0 {
			t.Errorf("keys list after a wrong passphrase: %+v", rows)
		}
	})

	t.Run("pass", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		startKeysBackend(t, env, "file")
		vault := keyringtest.Pass(t)
		store := envValue(vault, "PASSWORD_STORE_DIR")
		env.Set("GNUPGHOME", envValue(vault, "GNUPGHOME"))
		insertVaultPass(t, env, store, "vaultuser", awsVaultEntry(t, "vaultuser", map[string]any{
			"AccessKeyID": vaultUserKeyID, "SecretAccessKey": vaultUserSecret, "SessionToken": "", "Source": "",
			"CanExpire": false, "Expires": "0001-01-01T00:00:00Z", "AccountID": "",
		}))
		session := motoAssumeRole(t, seedAccounts(t).CIUser, devRoleARN, "vault-session")
		insertVaultPass(t, env, store, "sts.GetSessionToken,dmF1bHR1c2Vy,,1796450826", awsVaultEntry(t, "sts.GetSessionToken,dmF1bHR1c2Vy,,1796450826", map[string]any{
			"AccessKeyId": session.AccessKeyID, "SecretAccessKey": session.SecretAccessKey, "SessionToken": session.SessionToken,
			"Expiration": session.Expiration.UTC().Format(time.RFC3339Nano),
		}))
		env.Set("AWS_VAULT_PASS_PASSWORD_STORE_DIR", store)

		res := env.Run(t, "keys", "import", "--from", "aws-vault", "--from-backend", "pass", "--no-verify")
		wantOK(t, res, "keys import --from aws-vault --from-backend pass")
		wantNoSecret(t, res, vaultUserSecret, session.SecretAccessKey, session.SessionToken)
		if want := fmt.Sprintf("copied the keys %s of profile %q from aws-vault's pass store", maskedKeyID(vaultUserKeyID), "vaultuser"); !strings.Contains(res.Stderr, want) {
			t.Errorf("stderr %q does not say %q", res.Stderr, want)
		}
		if rows := keychainList(t, env); len(rows) != 1 || rows[0].Profile != "vaultuser" || rows[0].AccessKeyID != maskedKeyID(vaultUserKeyID) {
			t.Errorf("keys list: %+v, want vaultuser only (the session skipped)", rows)
		}
		wantChildKeys(t, env, "vaultuser", vaultUserKeyID, vaultUserSecret)
		assertNoPlaintext(t, []string{vaultUserSecret, session.SecretAccessKey}, env.Home)
	})
}

// insertVaultPass writes entry into the pass store as aws-vault does (pass
// insert --multiline, the entry on stdin), with the real pass on the
// original PATH.
func insertVaultPass(t *testing.T, env *TestEnv, store, name string, entry []byte) {
	t.Helper()
	res := env.runInput(t, []string{"PATH=" + os.Getenv("PATH"), "PASSWORD_STORE_DIR=" + store}, bytes.NewReader(entry), "pass", "insert", "-m", "-f", name)
	if res.Code != 0 {
		t.Fatalf("pass insert %s: %s", name, res)
	}
}

// scanKeys is TestSecretScan's keys scenario: every keys subcommand (add,
// import from the credentials file and from aws-vault's file and pass
// stores, list, remove) on its happy and error paths, and the commands
// that read the keys back (exec with the AWS CLI, export, credential-process,
// explain), in each of the three stores. The IAM users' secret keys,
// aws-vault's, and the stores' passphrases are secrets of the scan; pass
// gets its entries on its standard input, and the shims record the
// argument lists of pass and the gpg it runs.
func scanKeys(t *testing.T, sc *scanner) {
	t.Run("file", func(t *testing.T) { t.Parallel(); scanKeysFile(t, sc) })
	t.Run("pass", func(t *testing.T) { t.Parallel(); scanKeysPass(t, sc) })
	t.Run("secret-service", func(t *testing.T) { t.Parallel(); scanKeysSecretService(t, sc) })
}

// scanUser is newIAMUser, its secret key a secret of the scan.
func scanUser(t *testing.T, sc *scanner, label string) iamUser {
	t.Helper()
	u := newIAMUser(t, label)
	sc.addSecret(kindSource, u.Keys.SecretAccessKey)
	return u
}

func scanKeysFile(t *testing.T, sc *scanner) {
	env := newTestEnv(t)
	b := startKeysBackend(t, env, "file")
	sc.addSecret(kindPassword, envValue(b.env, "ROLEHOP_KEYRING_PASSWORD"))
	wrong := "wrong-" + randHex(8)
	sc.addSecret(kindPassword, wrong)
	sc.addSecret(kindPassword, vaultFixturePassphrase)
	sc.addSecret(kindSource, vaultUserSecret)
	sc.addSecret(kindSource, vaultSecondSecret)
	user, imp, refused := scanUser(t, sc, "scan"), scanUser(t, sc, "scan-imp"), scanUser(t, sc, "scan-refused")
	session := motoAssumeRole(t, seedAccounts(t).CIUser, devRoleARN, "scan-keys")
	sc.addSet(session)
	copyVaultFixture(t, env) // inputs: there before rolehop runs
	env.WriteConfig(keysConfig("scan"))
	e := newScanEnv(t, sc, "keys", env)

	e.ok(t, "", "keys")
	e.ok(t, "", "keys", "list")
	if res := e.runWith(t, user.envKeys(), "", "keys", "add", "base", "--env"); res.Code != 0 {
		t.Errorf("keys add base --env: %s", res)
	}
	e.spawnsNothing()
	// Refused keys: a temporary key id, a secret with white space.
	if res := e.runWith(t, []string{"AWS_ACCESS_KEY_ID=" + session.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + session.SecretAccessKey}, "", "keys", "add", "temp", "--env"); res.Code != 1 {
		t.Errorf("keys add with a temporary key: exit %d, want 1: %s", res.Code, res)
	}
	if res := e.runWith(t, []string{"AWS_ACCESS_KEY_ID=" + user.Keys.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + user.Keys.SecretAccessKey + " x"}, "", "keys", "add", "spaced", "--env"); res.Code != 1 {
		t.Errorf("keys add with white space in the secret: exit %d, want 1: %s", res.Code, res)
	}
	if res := e.runWith(t, user.envKeys(), "", "keys", "add", "base", "--env", "--backend", "bogus"); res.Code != 2 {
		t.Errorf("keys add --backend bogus: exit %d, want 2: %s", res.Code, res)
	}
	e.ok(t, "", "keys", "list")
	e.ok(t, "", "keys", "list", "-o", "json")
	e.ok(t, "", "explain", "prod", "--debug")
	e.ok(t, "", "exec", "prod", "--debug", "--", "aws", "sts", "get-caller-identity", "--output", "json")
	e.spawns("aws")
	e.ok(t, "", "exec", "base", "--debug", "--", "aws", "sts", "get-caller-identity", "--output", "json")
	e.spawns("aws")
	e.ok(t, kindRole, "export", "prod", "--no-cache", "--debug")
	e.ok(t, kindRole, "credential-process", "prod", "--no-cache", "--debug")
	e.ok(t, "", "whoami", "base", "--debug")
	if res := e.runWith(t, []string{"ROLEHOP_KEYRING_PASSWORD=" + wrong}, "", "exec", "base", "--debug", "--", "true"); res.Code != 1 {
		t.Errorf("exec with a wrong passphrase: exit %d, want 1: %s", res.Code, res)
	}
	e.spawnsNothing()

	// keys import from the credentials file: verified, refused by STS, a
	// session's credentials, a profile that is not there.
	e.input(t, "home/.aws/credentials", ciCredentials("imp", imp.Keys)+"\n"+ciCredentials("refused", refused.Keys)+
		"\n[session]\naws_access_key_id = "+session.AccessKeyID+"\naws_secret_access_key = "+session.SecretAccessKey+"\naws_session_token = "+session.SessionToken+"\n")
	e.ok(t, "", "keys", "import", "imp")
	e.fails(t, 1, "keys", "import", "session")
	env.Proxy.InjectSTSError("GetCallerIdentity", 10, http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
	e.fails(t, 1, "keys", "import", "refused")
	env.Proxy.ClearInjections()
	e.fails(t, 1, "keys", "import", "nosuchprofile")
	e.ok(t, "", "exec", "imp", "--", "true")
	e.spawns("true")

	// keys import from aws-vault's file store: a wrong passphrase, then
	// the right one.
	vault := []string{"keys", "import", "--from", "aws-vault", "--from-backend", "file", "--no-verify"}
	if res := e.runWith(t, []string{"AWS_VAULT_FILE_PASSPHRASE=" + wrong}, "", vault...); res.Code != 1 {
		t.Errorf("import from aws-vault with a wrong passphrase: exit %d, want 1: %s", res.Code, res)
	}
	if res := e.runWith(t, []string{"AWS_VAULT_FILE_PASSPHRASE=" + vaultFixturePassphrase}, "", vault...); res.Code != 0 {
		t.Errorf("import from aws-vault: %s", res)
	}
	e.spawnsNothing()
	e.fails(t, 2, "keys", "import", "--from", "nowhere")
	e.ok(t, "", "exec", "vaultuser", "--", "true")
	e.spawns("true")

	// keys rotate: the happy path (moto accepts the user's new key at
	// once), then a refused CreateAccessKey, which leaves the key stored.
	if res := e.ok(t, "", "keys", "rotate", "imp", "--verify-timeout", "20s"); !strings.Contains(res.Stderr, "rotated the key of profile") {
		t.Errorf("keys rotate: %s", res)
	}
	env.Proxy.InjectSTSError("CreateAccessKey", 1, http.StatusForbidden, "AccessDenied", "User is not authorized to perform: iam:CreateAccessKey")
	if res := e.fails(t, 1, "keys", "rotate", "imp"); !strings.Contains(res.Stderr, "cannot create a new access key") || env.Proxy.Injected("CreateAccessKey") != 1 {
		t.Errorf("keys rotate, CreateAccessKey refused: %s", res)
	}
	env.Proxy.ClearInjections()
	e.fails(t, 1, "keys", "rotate", "nosuchprofile")
	e.ok(t, "", "exec", "imp", "--", "true")
	e.spawns("true")

	e.ok(t, "", "keys", "remove", "second", "--index-only")
	e.ok(t, "", "keys", "remove", "base")
	e.fails(t, 1, "keys", "remove", "base")
	e.fails(t, 2, "keys", "remove")
	e.ok(t, "", "keys", "list")
	e.finish(t)
}

func scanKeysPass(t *testing.T, sc *scanner) {
	env := newTestEnv(t)
	b := startKeysBackend(t, env, "pass")
	user := scanUser(t, sc, "scan-pass")
	sc.addSecret(kindSource, vaultUserSecret)
	// aws-vault's entry at the top of the same password store (its
	// default prefix); rolehop's are in rolehop/.
	insertVaultPass(t, env, envValue(b.env, "PASSWORD_STORE_DIR"), "vaultuser", awsVaultEntry(t, "vaultuser", map[string]any{
		"AccessKeyID": vaultUserKeyID, "SecretAccessKey": vaultUserSecret, "SessionToken": "", "Source": "",
		"CanExpire": false, "Expires": "0001-01-01T00:00:00Z", "AccountID": "",
	}))
	env.WriteConfig(keysConfig("scan-pass"))
	e := newScanEnv(t, sc, "keys", env)

	if res := e.runWith(t, user.envKeys(), "", "keys", "add", "base", "--env"); res.Code != 0 {
		t.Errorf("keys add base --env: %s", res)
	}
	e.spawns("pass", "gpg")
	e.ok(t, "", "exec", "prod", "--debug", "--", "aws", "sts", "get-caller-identity", "--output", "json")
	e.spawns("pass", "gpg", "aws")
	e.ok(t, kindRole, "credential-process", "prod", "--no-cache", "--debug")
	e.spawns("pass", "gpg")
	e.ok(t, "", "keys", "import", "--from", "aws-vault", "--from-backend", "pass", "--no-verify")
	e.spawns("pass", "gpg")
	e.ok(t, "", "keys", "list")
	e.spawnsNothing()
	e.ok(t, "", "keys", "remove", "vaultuser")
	e.spawns("pass")
	e.ok(t, "", "keys", "remove", "base")
	e.finish(t)
}

func scanKeysSecretService(t *testing.T, sc *scanner) {
	env := newTestEnv(t)
	startKeysBackend(t, env, "secret-service")
	user := scanUser(t, sc, "scan-ss")
	env.WriteConfig(keysConfig("scan-ss"))
	e := newScanEnv(t, sc, "keys", env)

	if res := e.runWith(t, user.envKeys(), "", "keys", "add", "base", "--env"); res.Code != 0 {
		t.Errorf("keys add base --env: %s", res)
	}
	e.spawnsNothing()
	e.ok(t, "", "exec", "prod", "--debug", "--", "true")
	e.spawns("true")
	e.ok(t, "", "whoami", "base", "--debug")
	e.ok(t, "", "keys", "list")
	e.ok(t, "", "keys", "remove", "base")
	e.spawnsNothing()
	if res := e.runWith(t, append(user.envKeys(), "DBUS_SESSION_BUS_ADDRESS"), "", "keys", "add", "base", "--env"); res.Code != 1 {
		t.Errorf("keys add without a D-Bus session: exit %d, want 1: %s", res.Code, res)
	}
	e.finish(t)
}
