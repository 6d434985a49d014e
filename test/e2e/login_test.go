//go:build unix

package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/signin/types"
)

// loginConfig is an `aws login` profile with a two-account role chain on
// top of it, and a credential_process profile for the AWS CLI.
func loginConfig(session string) string {
	return fmt.Sprintf(`
	[profile console]
	login_session = %s
	region = us-east-1

	[profile dev]
	role_arn = %s
	source_profile = console
	role_session_name = e2e

	[profile prod]
	role_arn = %s
	source_profile = dev
	role_session_name = e2e

	[profile prod-proc]
	credential_process = %s credential-process prod
	`, session, devRoleARN, prodRoleARN, rolehopBin)
}

// newLoginEnv is a test world with the sign-in test server, a session of
// it cached as the AWS CLI caches it (expiring at exp, with a field rolehop
// does not know), and loginConfig.
func newLoginEnv(t *testing.T, exp time.Time) (*TestEnv, *SigninServer, *SigninSession, string) {
	t.Helper()
	requireRolehop(t)
	env := newTestEnv(t)
	seedAccounts(t)
	srv := newSigninServer(t)
	useSigninServer(env, srv, "")
	sess := srv.IssueSession(t, 12*time.Hour)
	path := WriteLoginCache(t, loginCacheDir(env), sess.LoginSession, sess, exp, LoginCacheExtra("futureField", "kept"))
	env.WriteConfig(loginConfig(sess.LoginSession))
	return env, srv, sess, path
}

// TestLoginChain: an `aws login` session is the source of a role chain
// across two accounts, for exec, for the AWS CLI through credential_process
// and through serve; a valid session costs no sign-in call.
func TestLoginChain(t *testing.T) {
	t.Parallel()
	env, srv, sess, _ := newLoginEnv(t, time.Now().Add(time.Hour))
	want := assumedARN(prodAccount, "prod", "e2e")

	arn, _ := execCallerARN(t, env, "prod")
	if arn != want {
		t.Fatalf("exec prod: identity %s, want %s", arn, want)
	}
	calls := mustCalls(t, env.Proxy, "AssumeRole", 2)
	if id, _, _ := calls[0].ReturnedCredentials(); id == "" || !strings.HasSuffix(calls[0].Params["RoleArn"][0], "role/dev") {
		t.Errorf("first hop: %s", calls[0])
	}
	if got := callerARN(t, env, "AWS_PROFILE=prod-proc"); got != want {
		t.Errorf("aws CLI through credential_process: %s, want %s", got, want)
	}
	// The session itself, directly.
	if got, _ := execCallerARN(t, env, "console"); got != sess.LoginSession {
		t.Errorf("exec console: %s, want the signed-in principal %s", got, sess.LoginSession)
	}

	s := startServe(t, env, 1, "serve", "prod")
	r := s.Routes[0]
	got := callerARN(t, env, "AWS_CONTAINER_CREDENTIALS_FULL_URI="+r.URL, "AWS_CONTAINER_AUTHORIZATION_TOKEN="+r.Token,
		"AWS_CONFIG_FILE=/dev/null", "AWS_PROFILE", "AWS_ENDPOINT_URL_SIGNIN")
	if got != want {
		t.Errorf("aws CLI through serve: %s, want %s", got, want)
	}
	if n := srv.Count(); n != 0 {
		t.Errorf("%d sign-in calls for a valid session, want 0:\n%s", n, srv.CallLog())
	}

	// explain shows where the session is and until when, never a token.
	res := env.Run(t, "explain", "prod")
	for _, w := range []string{"aws login session of profile \"console\"", LoginCachePath(loginCacheDir(env), sess.LoginSession), "valid until", "Hop 2"} {
		if !strings.Contains(res.Stdout, w) {
			t.Errorf("explain does not show %q:\n%s", w, res.Stdout)
		}
	}
	for _, secret := range []string{sess.RefreshToken, sess.Keys.SecretAccessKey, sess.Keys.SessionToken, "BEGIN EC"} {
		if strings.Contains(res.Stdout+res.Stderr, secret) {
			t.Errorf("explain prints a secret (%.8s…)", secret)
		}
	}
}

// TestLoginRefreshOnce: 50 processes started together on an expired
// session refresh it once (the refresh token rotates: a second refresh
// would end the session), assume each role once, and all succeed; the
// file rolehop writes back is the AWS CLI's format with the field it does
// not know, and serves the next run without a refresh.
func TestLoginRefreshOnce(t *testing.T) {
	t.Parallel()
	env, srv, sess, path := newLoginEnv(t, time.Now().Add(-time.Minute))
	var wg sync.WaitGroup
	results := make([]Result, 50)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = env.Run(t, "credential-process", "prod")
		}()
	}
	wg.Wait()
	keys := map[string]bool{}
	for _, r := range results {
		if r.Code != 0 {
			t.Fatalf("a process failed: %s\n%s", r, srv.CallLog())
		}
		keys[parseProcessCreds(t, r.Stdout).AccessKeyId] = true
	}
	if n := srv.Refreshes(); n != 1 || srv.Count() != 1 {
		t.Errorf("%d refreshes in %d sign-in calls, want 1:\n%s", n, srv.Count(), srv.CallLog())
	}
	mustCalls(t, env.Proxy, "AssumeRole", 2)
	if len(keys) != 1 {
		t.Errorf("%d different credential sets handed out, want 1", len(keys))
	}
	f := ReadLoginCache(t, path)
	exp, err := f.ExpiresAt()
	if err != nil || !exp.After(time.Now().Add(10*time.Minute)) || f.RefreshToken != srv.CurrentRefreshToken(sess) || f.Mode != 0o600 {
		t.Errorf("session file after the refresh: expires %v (%v), rotated refresh token %v, mode %v", exp, err, f.RefreshToken == srv.CurrentRefreshToken(sess), f.Mode)
	}
	if f.Raw["futureField"] != "kept" || f.IDToken == "" || f.AccessToken.AccountID != devAccount || !strings.HasSuffix(f.AccessToken.ExpiresAt, "Z") || strings.Contains(f.AccessToken.ExpiresAt, ".") {
		t.Errorf("the file is not the CLI's format with every field kept: %s", f.Bytes)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("a temp copy was left: %s", e.Name())
		}
	}
	// A later run with an empty rolehop cache reads the refreshed session.
	if res := env.Run(t, "cache", "clear"); res.Code != 0 {
		t.Fatal(res)
	}
	if res := env.Run(t, "credential-process", "console"); res.Code != 0 || parseProcessCreds(t, res.Stdout).AccessKeyId != f.AccessToken.AccessKeyID {
		t.Errorf("second run: %s", res)
	}
	if n := srv.Count(); n != 1 {
		t.Errorf("the refreshed session was refreshed again: %d calls", n)
	}
}

// TestLoginErrors: each failure is one line with the fix.
func TestLoginErrors(t *testing.T) {
	t.Parallel()
	t.Run("no session cached", func(t *testing.T) {
		env, _, _, path := newLoginEnv(t, time.Now().Add(time.Hour))
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		res := env.Run(t, "exec", "prod", "--", "true")
		wantCLIError(t, env, res, 1, "no aws login session", "run `aws login --profile console`")
	})
	t.Run("session ended", func(t *testing.T) {
		env, srv, sess, path := newLoginEnv(t, time.Now().Add(-time.Minute))
		srv.RevokeSession(sess, types.OAuth2ErrorCodeTokenExpired)
		before, _ := os.ReadFile(path)
		res := env.Run(t, "credential-process", "prod")
		wantCLIError(t, env, res, 1, "session has ended", "aws login --profile console")
		mustCalls(t, env.Proxy, "AssumeRole", 0)
		if after, _ := os.ReadFile(path); string(after) != string(before) {
			t.Error("a refused refresh changed the session file")
		}
	})
	t.Run("clock skew", func(t *testing.T) {
		env, srv, _, _ := newLoginEnv(t, time.Now().Add(-time.Minute))
		srv.SetClockSkew(time.Hour)
		res := env.Run(t, "whoami", "console")
		wantCLIError(t, env, res, 1, "clock is 1h0m0s off")
	})
	t.Run("not the CLI's file", func(t *testing.T) {
		env, _, _, path := newLoginEnv(t, time.Now().Add(time.Hour))
		if err := os.WriteFile(path, []byte(`{"accessToken": {"accessKeyId": "ASIA"}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		res := env.Run(t, "exec", "console", "--", "true")
		wantCLIError(t, env, res, 1, "lacks accessToken.secretAccessKey", "to replace it")
	})
	t.Run("a cache directory others may write", func(t *testing.T) {
		env, _, _, path := newLoginEnv(t, time.Now().Add(time.Hour))
		if err := os.Chmod(filepath.Dir(path), 0o777); err != nil {
			t.Fatal(err)
		}
		res := env.Run(t, "exec", "console", "--", "true")
		wantCLIError(t, env, res, 1, "writable by every user", "chmod o-w")
	})
}

// TestLoginLogout: logout removes the session's file, as `aws logout`
// does, and every role credential cached from it.
func TestLoginLogout(t *testing.T) {
	t.Parallel()
	env, _, _, path := newLoginEnv(t, time.Now().Add(time.Hour))
	if res := env.Run(t, "exec", "prod", "--", "true"); res.Code != 0 {
		t.Fatal(res)
	}
	res := env.Run(t, "logout", "prod")
	if res.Code != 0 || !strings.Contains(res.Stderr, "2 cached credential(s) removed") {
		t.Errorf("logout: %s", res)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the session file is still there: %v", err)
	}
	wantCLIError(t, env, env.Run(t, "exec", "prod", "--", "true"), 1, "aws login --profile console")
}

// TestLoginRefreshKilled: a rolehop killed at any moment of a refresh never
// leaves a torn session file: the file is always the old session or the
// new one, and the next run works.
func TestLoginRefreshKilled(t *testing.T) {
	t.Parallel()
	env, srv, _, path := newLoginEnv(t, time.Now().Add(-time.Minute))
	for i := range 20 {
		srv.Delay(1, time.Duration(50+rand.N(100))*time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
		cmd := env.Command(ctx, rolehopBin, "credential-process", "console")
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.N(250)) * time.Millisecond)
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		cancel()
		f := ReadLoginCache(t, path) // fails the test on a torn file
		if f.AccessToken.AccessKeyID == "" || f.RefreshToken == "" {
			t.Fatalf("iteration %d: session file without keys or refresh token: %s", i, f.Bytes)
		}
		// Start the next round from an expired session again.
		exp, _ := f.ExpiresAt()
		if exp.After(time.Now()) {
			raw := strings.Replace(string(f.Bytes), f.AccessToken.ExpiresAt, time.Now().Add(-time.Minute).UTC().Format("2006-01-02T15:04:05Z"), 1)
			if err := os.WriteFile(path, []byte(raw), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("%d sign-in requests arrived, %d refreshes completed at the service during 20 killed runs", srv.Arrived(), srv.Refreshes())
	if srv.Arrived() < 3 {
		t.Errorf("only %d runs reached the sign-in service before being killed: the test proved little", srv.Arrived())
	}
	// A kill after the service rotated the refresh token but before the
	// file was written loses the session (the AWS CLI has the same window);
	// anything else must leave a session the next run can use.
	res := env.Run(t, "credential-process", "console")
	if res.Code != 0 && !strings.Contains(res.Stderr, "aws login --profile console") {
		t.Errorf("after the kills: %s", res)
	}
}
