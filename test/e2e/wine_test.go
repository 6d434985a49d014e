//go:build unix

package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The Windows build of rolehop, run under Wine (scripts/wine.sh) against
// the shared moto: the code paths only Windows takes (the PATHEXT lookup,
// the environment block, exit codes, the file locks and ACL checks on the
// config and cache) with real credentials.

var (
	wineOnce    sync.Once
	winePrefix  string // the Wine prefix scripts/wine.sh prepared
	wineRolehop string // rolehop.exe, built for windows/amd64
	wineScript  string
	wineErr     error
	wineMissing bool // Wine or MinGW is not installed
)

// requireWine prepares the Wine prefix and builds rolehop.exe, once per
// package run. Without Wine the test skips, or fails with CI=true.
func requireWine(t *testing.T) {
	t.Helper()
	requireHarness(t)
	wineOnce.Do(func() {
		root, err := repoRoot()
		if err != nil {
			wineErr = err
			return
		}
		wineScript = filepath.Join(root, "scripts", "wine.sh")
		out, err := exec.Command(wineScript, "prefix").Output()
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 125 {
			wineMissing, wineErr = true, errors.New(strings.TrimSpace(string(ee.Stderr)))
			return
		}
		if err != nil {
			wineErr = errors.New("scripts/wine.sh prefix: " + strings.TrimSpace(err.Error()+" "+string(stderrOf(err))))
			return
		}
		winePrefix = strings.TrimSpace(string(out))
		wineRolehop = filepath.Join(workDir, "rolehop.exe")
		build := exec.Command("go", "build", "-o", wineRolehop, "./cmd/rolehop")
		build.Dir = root
		build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			wineErr = errors.New("GOOS=windows go build ./cmd/rolehop: " + err.Error() + "\n" + string(out))
		}
	})
	switch {
	case wineMissing && os.Getenv("CI") == "true":
		t.Fatalf("%v (required when CI=true)", wineErr)
	case wineMissing:
		t.Skipf("%v (set CI=true to make this a failure)", wineErr)
	case wineErr != nil:
		t.Fatal(wineErr)
	}
}

func stderrOf(err error) []byte {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.Stderr
	}
	return nil
}

// winPath is a Unix path as Windows programs under Wine name it: drive Z:
// is the Unix root.
func winPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

// runWine runs rolehop.exe ARGS… under Wine with the test's environment,
// its paths given the Windows way.
func runWine(t *testing.T, env *TestEnv, args ...string) Result {
	t.Helper()
	extra := []string{
		"ROLEHOP_WINEPREFIX=" + winePrefix,
		"HOME=" + winPath(env.Home),
		"AWS_CONFIG_FILE=" + winPath(env.ConfigFile),
		"AWS_SHARED_CREDENTIALS_FILE=" + winPath(env.CredentialsFile),
		"ROLEHOP_CACHE_DIR=" + winPath(env.CacheDir),
	}
	return env.RunCmdWith(t, extra, wineScript, append([]string{"run", wineRolehop}, args...)...)
}

// TestWineCredentialProcessAndExec: rolehop.exe, under Wine, assumes a role
// from static keys for credential_process, and runs programs with a chain's
// credentials in their environment (a Windows program found through
// PATHEXT, and rolehop.exe itself), passing on their exit codes.
func TestWineCredentialProcessAndExec(t *testing.T) {
	t.Parallel()
	requireWine(t)
	env, seed := newChainEnv(t)

	// credential-process: base's static keys → dev.
	res := runWine(t, env, "credential-process", "dev")
	if res.Code != 0 {
		t.Fatalf("rolehop.exe credential-process dev: %s", res)
	}
	var creds struct {
		Version                                    int
		AccessKeyId, SecretAccessKey, SessionToken string
		Expiration                                 string
	}
	if err := json.Unmarshal([]byte(res.Stdout), &creds); err != nil || creds.Version != 1 || creds.SessionToken == "" || creds.Expiration == "" {
		t.Fatalf("credential-process output is not credential_process JSON with a session (%v)", err)
	}
	calls := mustCalls(t, env.Proxy, "AssumeRole", 1)
	wantParam(t, calls[0], "RoleArn", devRoleARN)
	if calls[0].AccessKeyID != seed.CIUser.AccessKeyID {
		t.Errorf("AssumeRole signed with %q, want ci-user's %q", calls[0].AccessKeyID, seed.CIUser.AccessKeyID)
	}
	if key, _, _ := calls[0].ReturnedCredentials(); creds.AccessKeyId != key {
		t.Errorf("credential-process returned the key %q, STS handed out %q", creds.AccessKeyId, key)
	}
	id := callerWith(t, env, map[string]string{"AWS_ACCESS_KEY_ID": creds.AccessKeyId, "AWS_SECRET_ACCESS_KEY": creds.SecretAccessKey, "AWS_SESSION_TOKEN": creds.SessionToken})
	if want := "arn:aws:sts::" + devAccount + ":assumed-role/dev/"; !strings.HasPrefix(id.Arn, want) {
		t.Errorf("the credentials are %s's, want the role dev's (%s…)", id.Arn, want)
	}
	assertNoSecrets(t, "credential-process stderr", res.Stderr, secretsOf(env, seed.CIUser))

	// exec: base → dev → prod, the child rolehop.exe whoami sees prod.
	res = runWine(t, env, "exec", "prod", "--", winPath(wineRolehop), "whoami", "--json")
	if res.Code != 0 {
		t.Fatalf("rolehop.exe exec prod -- rolehop.exe whoami: %s", res)
	}
	var who WhoAmI
	if err := json.Unmarshal([]byte(strings.TrimSpace(res.Stdout)), &who); err != nil {
		t.Fatalf("whoami --json output %q: %v", res.Stdout, err)
	}
	if want := assumedARN(prodAccount, "prod", "alice"); who.Arn != want {
		t.Errorf("the child ran as %q, want %q", who.Arn, want)
	}
	final := checkChainCalls(t, env, seed)
	if gci := env.Proxy.Calls("GetCallerIdentity"); len(gci) == 0 || gci[len(gci)-1].AccessKeyID != final {
		t.Errorf("the child's GetCallerIdentity was not signed with prod's key %q:\n%s", final, callList(gci))
	}
	assertNoSecrets(t, "exec output", res.Stdout+res.Stderr, secretsOf(env, seed.CIUser))

	// exec: "cmd" found on PATH through PATHEXT; the child's environment
	// holds prod's key and a session token; its exit code is rolehop's.
	env.Set("WANT_KEY", final) // not in the logged command line
	res = runWine(t, env, "exec", "prod", "--", "cmd", "/c", "if %AWS_ACCESS_KEY_ID%==%WANT_KEY% (if defined AWS_SESSION_TOKEN exit 7) else exit 3")
	if res.Code != 7 {
		t.Errorf("rolehop.exe exec prod -- cmd /c …: exit %d, want 7 (3: AWS_ACCESS_KEY_ID is not prod's key; 0: no AWS_SESSION_TOKEN): %s", res.Code, res)
	}
}
