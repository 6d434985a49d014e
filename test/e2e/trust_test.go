//go:build unix

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Audit issue 12, findings 1, 2 and 6: another local user must not be able
// to feed rolehop credentials, make it write or delete through their
// directories, or read what it writes. The attacker is uid 2001 and the
// victim uid 1000 (or root, the other case of finding 1), each run through
// setpriv, as on a shared machine or CI runner. These tests need root to
// switch users; CI runs as root, so there they fail instead of skipping.
const (
	victimUID   = 1000
	attackerUID = 2001
)

// attackerKeys are what the attacker plants: any access key id would do.
const attackerKeyID = "ASIAATTACKERPLANTED1"

// trustWorld is a machine with two users and a shared, world-writable
// directory without the sticky bit (a CI workspace; a sticky /tmp would let
// the kernel's protected_symlinks stop some steps on its own).
type trustWorld struct {
	env    *TestEnv
	base   string // world-traversable root of this test's files
	shared string // mode 0777: both users may create entries
	bin    string // rolehop, executable by every user
	setpri string // setpriv
}

func newTrustWorld(t *testing.T) *trustWorld {
	t.Helper()
	requireRolehop(t)
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the trust-boundary tests switch users with setpriv and need root; CI runs as root")
		}
		t.Skip("needs root to run the victim and the attacker as two users with setpriv (runs in CI, which is root)")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("setpriv (util-linux) not found: %v", err)
	}
	base, err := os.MkdirTemp("", "rolehop-trust-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	w := &trustWorld{env: newTestEnv(t), base: base, shared: filepath.Join(base, "shared"), setpri: setpriv}
	must(t, os.Chmod(base, 0o755))
	must(t, os.Mkdir(w.shared, 0o777))
	must(t, os.Chmod(w.shared, 0o777))
	w.bin = filepath.Join(base, "rolehop")
	b, err := os.ReadFile(rolehopBin)
	must(t, err)
	must(t, os.WriteFile(w.bin, b, 0o755))
	keys := seedAccounts(t).CIUser
	useEnvKeys(w.env, keys)
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// home makes a private home directory for uid.
func (w *trustWorld) home(t *testing.T, uid int) string {
	t.Helper()
	h := filepath.Join(w.base, "home-"+strconv.Itoa(uid))
	must(t, os.MkdirAll(filepath.Join(h, ".aws"), 0o700))
	for _, p := range []string{h, filepath.Join(h, ".aws")} {
		must(t, os.Chown(p, uid, uid))
	}
	return h
}

// as runs name with args as uid (setpriv unless uid is root's), with the
// test's environment, HOME, the config files and the cache in home, and
// extra (which overrides them).
func (w *trustWorld) as(t *testing.T, uid int, home string, extra []string, name string, args ...string) Result {
	t.Helper()
	env := append([]string{"HOME=" + home, "AWS_CONFIG_FILE=" + filepath.Join(home, ".aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, ".aws", "credentials"),
		"ROLEHOP_CACHE_DIR=" + filepath.Join(home, ".cache", "rolehop")}, extra...)
	if uid == 0 {
		return w.env.RunCmdWith(t, env, name, args...)
	}
	id := strconv.Itoa(uid)
	return w.env.RunCmdWith(t, env, w.setpri, append([]string{"--reuid=" + id, "--regid=" + id, "--clear-groups", "--", name}, args...)...)
}

// attacker runs a shell script as uid 2001.
func (w *trustWorld) attacker(t *testing.T, script string) {
	t.Helper()
	if res := w.as(t, attackerUID, w.base, nil, "/bin/sh", "-c", script); res.Code != 0 {
		t.Fatalf("the attacker's step failed: %s", res)
	}
}

// prodArgs is the victim's command of finding 1.
var prodArgs = []string{"--role-arn", prodRoleARN, "--role-session-name", "deploy"}

// learnKey finds the cache key the victim's command uses, as an attacker
// would compute it in advance (keys are hashes of non-secret inputs): it
// runs the command once as uid in a private cache and reads the entry's
// name.
func (w *trustWorld) learnKey(t *testing.T, uid int, home string) string {
	t.Helper()
	dir := filepath.Join(home, "learn-cache")
	cacheEnv := []string{"ROLEHOP_CACHE_DIR=" + dir}
	if res := w.as(t, uid, home, cacheEnv, w.bin, append(append([]string{"exec"}, prodArgs...), "--", "true")...); res.Code != 0 {
		t.Fatalf("learning the key: %s", res)
	}
	res := w.as(t, uid, home, cacheEnv, w.bin, "cache", "list", "--output", "json")
	var entries []struct{ Key string }
	if err := json.Unmarshal([]byte(res.Stdout), &entries); err != nil || len(entries) != 1 {
		t.Fatalf("cache list: %v %s", err, res)
	}
	w.env.Proxy.Reset()
	return entries[0].Key
}

// plantedEntry is a valid-looking cache entry holding the attacker's keys.
func plantedEntry() string {
	exp := time.Now().Add(12 * time.Hour).UTC().Format(time.RFC3339)
	return fmt.Sprintf(`{"version":1,"meta":{"kind":"assume-role","role_arn":%q},"created":%q,"credentials":{"AccessKeyId":%q,"SecretAccessKey":"attacker-secret","SessionToken":"attacker-token","Expiration":%q}}`,
		prodRoleARN, exp, attackerKeyID, exp)
}

func modeOf(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	must(t, err)
	return fi.Mode()
}

func ownerOf(t *testing.T, path string) uint32 {
	t.Helper()
	fi, err := os.Lstat(path)
	must(t, err)
	return fi.Sys().(*syscall.Stat_t).Uid
}

// TestTrustPlantedCacheEntry (finding 1): another user pre-creates the cache
// directory on a shared path and plants an entry under the key the
// victim's command will look up. The victim's child must never run with
// the attacker's keys: rolehop refuses the directory before it reads
// anything in it.
func TestTrustPlantedCacheEntry(t *testing.T) {
	w := newTrustWorld(t)
	home := w.home(t, victimUID)
	key := w.learnKey(t, victimUID, home)
	cache := filepath.Join(w.shared, "rolehop-cache")
	w.attacker(t, fmt.Sprintf("mkdir -m 777 %s && printf '%%s' '%s' > %s/%s.json && chmod 644 %s/%s.json",
		cache, plantedEntry(), cache, key, cache, key))

	res := w.as(t, victimUID, home, []string{"ROLEHOP_CACHE_DIR=" + cache}, w.bin,
		append(append([]string{"exec"}, prodArgs...), "--", "sh", "-c", "echo child ran with $AWS_ACCESS_KEY_ID")...)
	if strings.Contains(res.Stdout, attackerKeyID) {
		t.Fatalf("the child ran with the attacker's planted keys: %s", res)
	}
	wantCLIError(t, w.env, res, 1, cache, "owned by uid 2001", "not by you (uid 1000", "ROLEHOP_CACHE_DIR", "--no-cache")
	if strings.Contains(res.Stdout, "child ran") {
		t.Errorf("the child ran although the cache was refused: %s", res.Stdout)
	}
	mustCalls(t, w.env.Proxy, "AssumeRole", 0)

	// --no-cache is the way out, and it works.
	res = w.as(t, victimUID, home, []string{"ROLEHOP_CACHE_DIR=" + cache}, w.bin,
		append(append([]string{"exec", "--no-cache"}, prodArgs...), "--", "sh", "-c", "echo $AWS_ACCESS_KEY_ID")...)
	if res.Code != 0 || strings.Contains(res.Stdout, attackerKeyID) || !strings.HasPrefix(strings.TrimSpace(res.Stdout), "ASIA") {
		t.Errorf("with --no-cache: %s", res)
	}
}

// TestTrustRootNeverWritesThroughTheAttacker (finding 1, run as root):
// root's rolehop must neither "tighten" the attacker's directory nor write
// a cache entry through a link the attacker planted into a file only root
// may read.
func TestTrustRootNeverWritesThroughTheAttacker(t *testing.T) {
	w := newTrustWorld(t)
	home := w.home(t, 0)
	key := w.learnKey(t, 0, home)
	private := filepath.Join(w.base, "root-only")
	must(t, os.Mkdir(private, 0o700))
	secret := filepath.Join(private, "secret")
	must(t, os.WriteFile(secret, []byte("root's own file\n"), 0o600))
	cache := filepath.Join(w.shared, "root-cache")
	w.attacker(t, fmt.Sprintf("mkdir -m 777 %s && ln -s %s %s/%s.json", cache, secret, cache, key))

	res := w.as(t, 0, home, []string{"ROLEHOP_CACHE_DIR=" + cache}, w.bin,
		append(append([]string{"exec"}, prodArgs...), "--", "true")...)
	wantCLIError(t, w.env, res, 1, cache, "owned by uid 2001", "not by you (uid 0")
	if b, _ := os.ReadFile(secret); string(b) != "root's own file\n" {
		t.Errorf("root's file was written through the attacker's link: %q", b)
	}
	if m := modeOf(t, cache); m.Perm() != 0o777 {
		t.Errorf("the attacker's directory was changed to %v", m)
	}
	mustCalls(t, w.env.Proxy, "AssumeRole", 0)
}

// TestTrustCacheClear (finding 2): `cache clear` removes rolehop's entries
// only — not a project's package.json when ROLEHOP_CACHE_DIR names the
// project by mistake — and never deletes through another user's link.
func TestTrustCacheClear(t *testing.T) {
	w := newTrustWorld(t)
	home := w.home(t, victimUID)
	// project makes one of the victim's projects, with a package.json and
	// a tsconfig.json.
	project := func(name string) string {
		dir := filepath.Join(home, name)
		w.as(t, victimUID, home, nil, "/bin/sh", "-c", fmt.Sprintf(
			"mkdir %s && echo '{\"name\":\"app\"}' > %s/package.json && echo '{}' > %s/tsconfig.json", dir, dir, dir))
		return dir
	}
	intact := func(t *testing.T, dir string) {
		t.Helper()
		for _, f := range []string{"package.json", "tsconfig.json"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("cache clear removed the project's %s: %v", f, err)
			}
		}
	}

	t.Run("a project directory named by mistake", func(t *testing.T) {
		dir := project("app")
		env := []string{"ROLEHOP_CACHE_DIR=" + dir}
		if res := w.as(t, victimUID, home, env, w.bin, append(append([]string{"exec"}, prodArgs...), "--", "true")...); res.Code != 0 {
			t.Fatalf("exec: %s", res)
		}
		res := w.as(t, victimUID, home, env, w.bin, "cache", "clear")
		if res.Code != 0 || !strings.Contains(res.Stderr, "removed 1 cached credential") {
			t.Errorf("cache clear: %s", res)
		}
		intact(t, dir)
	})

	t.Run("through another user's link", func(t *testing.T) {
		dir := project("web")
		link := filepath.Join(w.shared, "cache-link")
		w.attacker(t, fmt.Sprintf("ln -s %s %s", dir, link))
		res := w.as(t, victimUID, home, []string{"ROLEHOP_CACHE_DIR=" + link}, w.bin, "cache", "clear")
		wantCLIError(t, w.env, res, 1, link, "symbolic link owned by uid 2001")
		intact(t, dir)
	})
}

// TestTrustWriteTightens (finding 6): `write --to` into a credentials file
// that every user can read leaves it readable only by its owner, and says
// so; the attacker cannot read the session token it now holds.
func TestTrustWriteTightens(t *testing.T) {
	w := newTrustWorld(t)
	home := w.home(t, victimUID)
	must(t, os.Chmod(home, 0o755))
	must(t, os.Chmod(filepath.Join(home, ".aws"), 0o755))
	creds := filepath.Join(home, ".aws", "credentials")
	w.as(t, victimUID, home, nil, "/bin/sh", "-c", "printf '[other]\\nregion = eu-west-1\\n' > "+creds+" && chmod 644 "+creds)

	res := w.as(t, victimUID, home, nil, w.bin, append(append([]string{"write"}, prodArgs...), "--to", "session")...)
	if res.Code != 0 {
		t.Fatalf("write: %s", res)
	}
	if !strings.Contains(res.Stderr, "tightened it to 0600") {
		t.Errorf("write did not say it tightened the file: %q", res.Stderr)
	}
	if m := modeOf(t, creds).Perm(); m != 0o600 {
		t.Errorf("credentials file mode %04o after write, want 0600", m)
	}
	if ownerOf(t, creds) != victimUID {
		t.Errorf("credentials file now belongs to uid %d", ownerOf(t, creds))
	}
	read := w.as(t, attackerUID, w.base, nil, "/bin/cat", creds)
	if read.Code == 0 || strings.Contains(read.Stdout, "aws_session_token") {
		t.Errorf("another user read the written credentials: %s", read)
	}
}

// TestTrustSignInURLScheme (finding 10): a verification URL from the
// sign-in endpoint that is not https — a local file, a UNC path that
// Windows would run, another scheme — is shown but never handed to the
// browser opener.
func TestTrustSignInURLScheme(t *testing.T) {
	for _, hostile := range []string{"file:///etc/passwd", `\\attacker.example\share\run.exe`, "ms-msdt:/id PCWDiagnostic", "http://attacker.example/", "https://x.example/\x1b]0;pwned\x07\x1b[2J"} {
		t.Run(strings.ToValidUTF8(strings.Map(func(r rune) rune {
			if r < 0x20 {
				return '?'
			}
			return r
		}, hostile), "?"), func(t *testing.T) {
			env, srv := newSSOEnv(t)
			srv.VerificationURI = hostile
			opened := filepath.Join(env.Dir, "opened")
			shims := filepath.Join(env.Dir, "shims")
			must(t, os.Mkdir(shims, 0o700))
			must(t, os.WriteFile(filepath.Join(shims, "xdg-open"), []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" >> "+shellQuote([]string{opened})+"\n"), 0o700))
			res := env.RunWith(t, []string{"DISPLAY=:0", "PATH=" + shims + ":" + env.Get("PATH")}, "login", "sso-dev", "--use-device-code")
			if res.Code != 0 {
				t.Fatalf("login: %s", res)
			}
			if b, err := os.ReadFile(opened); err == nil {
				t.Errorf("the opener was given %q", b)
			}
			if strings.ContainsAny(res.Stderr, "\x1b\x07") {
				t.Errorf("control characters from the network reached the terminal: %q", res.Stderr)
			}
			if !strings.Contains(res.Stderr, "rolehop did not open it") {
				t.Errorf("stderr does not say the URL was not opened: %q", res.Stderr)
			}
		})
	}
}

// TestTrustServeTokenFile: `serve --token-file` into another user's
// directory is refused before any STS call, and nothing is written there.
func TestTrustServeTokenFile(t *testing.T) {
	w := newTrustWorld(t)
	home := w.home(t, victimUID)
	theirs := filepath.Join(w.shared, "theirs")
	w.attacker(t, "mkdir -m 777 "+theirs)
	token := filepath.Join(theirs, "token")
	res := w.as(t, victimUID, home, nil, w.bin, append(append([]string{"serve"}, prodArgs...), "--token-file", token)...)
	wantCLIError(t, w.env, res, 1, "--token-file", theirs, "owned by uid 2001")
	if _, err := os.Lstat(token); err == nil {
		t.Error("the token was written into the attacker's directory")
	}
	mustCalls(t, w.env.Proxy, "AssumeRole", 0)
}
