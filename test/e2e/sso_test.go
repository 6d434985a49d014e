//go:build unix

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// IAM Identity Center (SSO) end to end: rolehop and the AWS CLI against the
// test IAM Identity Center of sso_server_test.go, whose role credentials
// are real moto sessions of AWSReservedSSO_<role>_… roles.

const (
	ssoStartURL    = "https://corp.awsapps.com/start"
	ssoRegion      = "us-east-1"
	legacyStartURL = "https://legacy.awsapps.com/start"
	ssoUser        = "alice@example.com"
)

// ssoConfig is the config of every SSO test: sso-dev, sso-ro, sso-prod,
// sso-admin and sso-audit (new style, sso-session corp), roleb and rolec (roles assumed with sso-dev's
// credentials; rolec asks for 2 hours) and legacy (old style).
const ssoConfig = `
	[profile sso-dev]
	sso_session = corp
	sso_account_id = ` + devAccount + `
	sso_role_name = Developer
	region = us-east-1

	[profile sso-ro]
	sso_session = corp
	sso_account_id = ` + devAccount + `
	sso_role_name = ReadOnly

	[profile sso-prod]
	sso_session = corp
	sso_account_id = ` + prodAccount + `
	sso_role_name = Developer

	[profile sso-admin]
	sso_session = corp
	sso_account_id = ` + prodAccount + `
	sso_role_name = Admin

	[profile sso-audit]
	sso_session = corp
	sso_account_id = 333333333333
	sso_role_name = ReadOnly

	[sso-session corp]
	sso_start_url = ` + ssoStartURL + `
	sso_region = ` + ssoRegion + `
	sso_registration_scopes = sso:account:access

	[profile roleb]
	role_arn = ` + prodRoleARN + `
	source_profile = sso-dev

	[profile rolec]
	role_arn = ` + auditRoleARN + `
	source_profile = sso-dev
	duration_seconds = 7200

	[profile legacy]
	sso_start_url = ` + legacyStartURL + `
	sso_region = ` + ssoRegion + `
	sso_account_id = ` + prodAccount + `
	sso_role_name = Admin
`

// newSSOEnv is a test environment with ssoConfig and its own test IAM
// Identity Center.
func newSSOEnv(t *testing.T) (*TestEnv, *SSOServer) {
	t.Helper()
	env := newTestEnv(t)
	seedAccounts(t)
	srv := newSSOServer(t)
	useSSOServer(env, srv)
	env.WriteConfig(ssoConfig)
	return env, srv
}

// seedSSOToken logs in behind the clients' back: a token valid for ttl
// (with a refresh token and client registration) in the corp session's
// cache file, written the AWS CLI's way.
func seedSSOToken(t *testing.T, env *TestEnv, srv *SSOServer, ttl time.Duration) (SSOToken, string) {
	t.Helper()
	tok := srv.IssueToken(ttl)
	return tok, writeSSOCache(t, env, "corp", ssoStartURL, ssoRegion, tok)
}

var ssoTimeRe = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// wantSSOTime asserts a token-cache timestamp is in the AWS CLI's format
// and within slack of want.
func wantSSOTime(t *testing.T, field, got string, want time.Time, slack time.Duration) {
	t.Helper()
	if !ssoTimeRe.MatchString(got) {
		t.Errorf("%s = %q, want the AWS CLI's format %%Y-%%m-%%dT%%H:%%M:%%SZ", field, got)
		return
	}
	ts, _ := time.Parse(ssoCacheTime, got)
	if d := ts.Sub(want); d < -slack || d > slack {
		t.Errorf("%s = %s, want %s ± %s", field, got, want.UTC().Format(ssoCacheTime), slack)
	}
}

// wantSSOCalls asserts the number of calls of an operation.
func wantSSOCalls(t *testing.T, srv *SSOServer, op string, n int) []SSOCall {
	t.Helper()
	calls := srv.Calls(op)
	if len(calls) != n {
		t.Fatalf("IAM Identity Center saw %d %s calls, want %d:\n%s", len(calls), op, n, srv.CallLog())
	}
	return calls
}

// wantLoginHint asserts rolehop failed with one line that tells to run
// `rolehop login` and names the profile or the sso-session.
func wantLoginHint(t *testing.T, env *TestEnv, res Result, names ...string) {
	t.Helper()
	wantCLIError(t, env, res, 1, "rolehop login")
	for _, n := range names {
		if strings.Contains(res.Stderr, n) {
			return
		}
	}
	t.Errorf("stderr names none of %q: %q", names, res.Stderr)
}

// TestSSOLoginDeviceCode: `rolehop login` runs the device authorization
// flow (the server says authorization_pending twice), shows the URL and
// code on stderr, and writes the AWS CLI's token cache file; the token then
// gives the role's credentials.
func TestSSOLoginDeviceCode(t *testing.T) {
	t.Parallel()
	env, srv := newSSOEnv(t)
	srv.SetDeviceScript(AnswerPending, AnswerPending)

	res := env.Run(t, "login", "sso-dev", "--no-browser", "--use-device-code")
	if res.Code != 0 {
		t.Fatalf("rolehop login failed: %s\nSSO calls:\n%s", res, srv.CallLog())
	}

	reg := wantSSOCalls(t, srv, "RegisterClient", 1)[0]
	if reg.Body["clientType"] != "public" {
		t.Errorf("RegisterClient clientType = %v, want public", reg.Body["clientType"])
	}
	if got := strList(reg.Body["scopes"]); len(got) != 1 || got[0] != "sso:account:access" {
		t.Errorf("RegisterClient scopes = %q, want the session's sso_registration_scopes [sso:account:access]", got)
	}
	dev := wantSSOCalls(t, srv, "StartDeviceAuthorization", 1)[0]
	if dev.Body["startUrl"] != ssoStartURL || dev.ClientID != reg.Str("clientId") || dev.Body["clientSecret"] != reg.Str("clientSecret") {
		t.Errorf("StartDeviceAuthorization body %v, want startUrl %s and the registered client", dev.Body, ssoStartURL)
	}
	polls := srv.TokenCalls(deviceGrantType)
	if len(polls) != 3 {
		t.Fatalf("%d device-code CreateToken polls, want 3 (pending, pending, token):\n%s", len(polls), srv.CallLog())
	}
	for i, p := range polls {
		if p.ClientID != reg.Str("clientId") || p.DeviceCode != dev.Str("deviceCode") {
			t.Errorf("poll %d: client %q device code %q, want the registered client and the device code", i+1, p.ClientID, p.DeviceCode)
		}
		if i > 0 {
			if gap := p.Time.Sub(polls[i-1].Time); gap < time.Second-50*time.Millisecond {
				t.Errorf("poll %d came %s after the previous one; interval is 1 s", i+1, gap.Round(time.Millisecond))
			}
		}
	}

	// The URL and the code, on stderr, on one line.
	complete, code := dev.Str("verificationUriComplete"), dev.Str("userCode")
	found := false
	for _, l := range stderrLines(res) {
		if strings.Contains(l, complete) && strings.Contains(l, code) {
			found = true
		}
	}
	if !found {
		t.Errorf("stderr has no line with the URL %s and the code %s:\n%s", complete, code, res.Stderr)
	}
	if strings.Contains(res.Stdout, complete) {
		t.Errorf("the URL went to stdout: %q", res.Stdout)
	}

	// The token cache file, exactly where and as the AWS CLI keeps it.
	// sha1("corp"), as CPython's hashlib gives it.
	path := filepath.Join(env.Home, ".aws", "sso", "cache", "ee0bfd2552fbd840c02cc48b6e823320543c450f.json")
	if path != ssoCachePath(env, "corp") {
		t.Fatalf("ssoCachePath(corp) = %s, want %s", ssoCachePath(env, "corp"), path)
	}
	f := readSSOCache(t, path)
	if f.Mode != 0o600 {
		t.Errorf("token cache mode %v, want 0600", f.Mode)
	}
	tok := polls[2]
	if f.StartURL != ssoStartURL || f.Region != ssoRegion {
		t.Errorf("startUrl %q region %q, want %q %q", f.StartURL, f.Region, ssoStartURL, ssoRegion)
	}
	if f.AccessToken != tok.Str("accessToken") || f.RefreshToken != tok.Str("refreshToken") || f.RefreshToken == "" {
		t.Errorf("accessToken/refreshToken in the file are not the ones CreateToken returned")
	}
	if f.ClientID != reg.Str("clientId") || f.ClientSecret != reg.Str("clientSecret") {
		t.Errorf("clientId/clientSecret in the file are not the registered client's")
	}
	wantSSOTime(t, "expiresAt", f.ExpiresAt, time.Now().Add(8*time.Hour), time.Minute)
	wantSSOTime(t, "registrationExpiresAt", f.RegistrationExpiresAt, time.Unix(reg.Num("clientSecretExpiresAt"), 0), 0)
	assertNoSecrets(t, "stderr", res.Stderr, []string{f.AccessToken, f.RefreshToken, f.ClientSecret})

	// The token works.
	w, _ := whoami(t, env, "sso-dev")
	if want := ssoAssumedARN(devAccount, "Developer", ssoUser); w.Arn != want {
		t.Fatalf("identity %q, want %q", w.Arn, want)
	}
	grc := wantSSOCalls(t, srv, "GetRoleCredentials", 1)[0]
	if grc.BearerToken != f.AccessToken || grc.Query.Get("account_id") != devAccount || grc.Query.Get("role_name") != "Developer" {
		t.Errorf("GetRoleCredentials %s, want the new token, %s, Developer", grc, devAccount)
	}
	wantSSOCalls(t, srv, "CreateToken", 3)
}

// TestSSOLoginSlowDown: after slow_down the client waits interval + 5 s
// before each later poll (RFC 8628 §3.5; botocore keeps the longer
// interval too).
func TestSSOLoginSlowDown(t *testing.T) {
	t.Parallel()
	env, srv := newSSOEnv(t)
	srv.SetDeviceScript(AnswerSlowDown, AnswerPending)

	res := env.Run(t, "login", "--sso-session", "corp", "--no-browser", "--use-device-code")
	if res.Code != 0 {
		t.Fatalf("rolehop login --sso-session corp failed: %s\nSSO calls:\n%s", res, srv.CallLog())
	}
	polls := srv.TokenCalls(deviceGrantType)
	if len(polls) != 3 {
		t.Fatalf("%d polls, want 3 (slow_down, pending, token):\n%s", len(polls), srv.CallLog())
	}
	const want = 6*time.Second - 50*time.Millisecond // interval 1 s + 5 s
	for i := 1; i < 3; i++ {
		if gap := polls[i].Time.Sub(polls[i-1].Time); gap < want {
			t.Errorf("poll %d came %s after poll %d; after slow_down the interval is 1 s + 5 s", i+1, gap.Round(time.Millisecond), i)
		}
	}
	f := readSSOCache(t, ssoCachePath(env, "corp"))
	if f.AccessToken != polls[2].Str("accessToken") {
		t.Errorf("the cache file does not hold the new token")
	}
}

// TestSSOTokenFromRolehopUsedByAWSCLI: a token rolehop's login wrote is
// used by the AWS CLI (botocore's SSO provider, through
// AWS_ENDPOINT_URL_SSO).
func TestSSOTokenFromRolehopUsedByAWSCLI(t *testing.T) {
	t.Parallel()
	env, srv := newSSOEnv(t)
	if res := env.Run(t, "login", "sso-dev", "--no-browser", "--use-device-code"); res.Code != 0 {
		t.Fatalf("rolehop login failed: %s\nSSO calls:\n%s", res, srv.CallLog())
	}
	f := readSSOCache(t, ssoCachePath(env, "corp"))

	res := env.RunCmd(t, awsBin, "sts", "get-caller-identity", "--output", "json", "--profile", "sso-dev")
	if res.Code != 0 {
		t.Fatalf("aws sts get-caller-identity --profile sso-dev: %s\nSSO calls:\n%s", res, srv.CallLog())
	}
	id := parseIdentity(t, res.Stdout)
	if want := ssoAssumedARN(devAccount, "Developer", ssoUser); id.Arn != want || id.Account != devAccount {
		t.Fatalf("AWS CLI identity %q in %s, want %q in %s", id.Arn, id.Account, want, devAccount)
	}
	if grc := wantSSOCalls(t, srv, "GetRoleCredentials", 1)[0]; grc.BearerToken != f.AccessToken {
		t.Errorf("the AWS CLI did not use rolehop's token")
	}
}

// TestSSOTokenFromAWSCLIUsedByRolehop: a cache file as `aws sso login`
// writes it serves rolehop, which leaves it untouched when it is fresh.
func TestSSOTokenFromAWSCLIUsedByRolehop(t *testing.T) {
	t.Parallel()
	env, srv := newSSOEnv(t)
	tok, path := seedSSOToken(t, env, srv, 8*time.Hour)
	before, _ := os.ReadFile(path)

	w, res := whoami(t, env, "sso-dev")
	if want := ssoAssumedARN(devAccount, "Developer", ssoUser); w.Arn != want || w.Account != devAccount {
		t.Fatalf("identity %q in %s, want %q", w.Arn, w.Account, want)
	}
	if grc := wantSSOCalls(t, srv, "GetRoleCredentials", 1)[0]; grc.BearerToken != tok.AccessToken {
		t.Errorf("GetRoleCredentials did not use the AWS CLI's token")
	}
	wantSSOCalls(t, srv, "CreateToken", 0)
	wantSSOCalls(t, srv, "RegisterClient", 0)
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("rolehop rewrote a fresh token file:\nbefore %s\nafter  %s", before, after)
	}
	// The role credentials expire when the portal says (its epoch
	// milliseconds), not later.
	is := srv.Issued()[0]
	if exp, err := time.Parse(time.RFC3339, w.Expiration); err != nil || exp.After(is.Expiration.Add(time.Second)) || exp.Before(is.Expiration.Add(-time.Second)) {
		t.Errorf("whoami Expiration %q, want the portal's %s", w.Expiration, is.Expiration.UTC().Format(time.RFC3339))
	}
	assertNoSecrets(t, "stderr", res.Stderr, []string{tok.AccessToken, tok.RefreshToken, tok.ClientSecret, is.SecretAccessKey, is.SessionToken})
}

// TestSSOServerWithAWSCLI checks the test server and the endpoint variables
// against botocore alone (no rolehop): AWS_ENDPOINT_URL_SSO reaches the
// portal, and a token with less than 15 minutes left is refreshed through
// AWS_ENDPOINT_URL_SSO_OIDC and written back; a legacy profile's file is
// named by its start URL.
func TestSSOServerWithAWSCLI(t *testing.T) {
	t.Parallel()
	env, srv := newSSOEnv(t)
	tok, path := seedSSOToken(t, env, srv, 5*time.Minute)

	res := env.RunCmd(t, awsBin, "sts", "get-caller-identity", "--output", "json", "--profile", "sso-ro")
	if res.Code != 0 {
		t.Fatalf("aws --profile sso-ro: %s\nSSO calls:\n%s", res, srv.CallLog())
	}
	if got, want := parseIdentity(t, res.Stdout).Arn, ssoAssumedARN(devAccount, "ReadOnly", ssoUser); got != want {
		t.Fatalf("identity %q, want %q", got, want)
	}
	ref := srv.TokenCalls("refresh_token")
	if len(ref) != 1 || ref[0].RefreshToken != tok.RefreshToken || ref[0].ClientID != tok.ClientID {
		t.Fatalf("botocore did not refresh through AWS_ENDPOINT_URL_SSO_OIDC:\n%s", srv.CallLog())
	}
	f := readSSOCache(t, path)
	if f.AccessToken != ref[0].Str("accessToken") || f.AccessToken == tok.AccessToken {
		t.Errorf("botocore did not write the refreshed token back")
	}
	wantSSOTime(t, "expiresAt (botocore)", f.ExpiresAt, time.Now().Add(8*time.Hour), time.Minute)
	if grc := wantSSOCalls(t, srv, "GetRoleCredentials", 1)[0]; grc.BearerToken != f.AccessToken {
		t.Errorf("GetRoleCredentials used %s, want the refreshed token", grc)
	}

	// Legacy: the file is named by the start URL; never refreshed.
	legacy := srv.IssueToken(time.Hour)
	legacy.RefreshToken, legacy.ClientID = "", ""
	writeSSOCache(t, env, legacyStartURL, legacyStartURL, ssoRegion, legacy)
	res = env.RunCmd(t, awsBin, "sts", "get-caller-identity", "--output", "json", "--profile", "legacy")
	if res.Code != 0 {
		t.Fatalf("aws --profile legacy: %s\nSSO calls:\n%s", res, srv.CallLog())
	}
	if got, want := parseIdentity(t, res.Stdout).Arn, ssoAssumedARN(prodAccount, "Admin", ssoUser); got != want {
		t.Fatalf("identity %q, want %q", got, want)
	}
}

// TestSSOChainedRole: a role profile whose source_profile is an SSO profile
// assumes the role with the SSO credentials; that is role chaining, so
// duration_seconds = 7200 becomes 3600 with a warning.
func TestSSOChainedRole(t *testing.T) {
	t.Parallel()
	env, srv := newSSOEnv(t)
	seedSSOToken(t, env, srv, 8*time.Hour)

	arn, _ := execCallerARN(t, env, "roleb")
	if !strings.HasPrefix(arn, "arn:aws:sts::"+prodAccount+":assumed-role/prod/") {
		t.Fatalf("identity %q, want role prod in %s", arn, prodAccount)
	}
	issued := srv.Issued()
	if len(issued) != 1 || issued[0].AccountID != devAccount || issued[0].RoleName != "Developer" {
		t.Fatalf("GetRoleCredentials answers %+v, want one for Developer in %s", issued, devAccount)
	}
	hop := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
	wantParam(t, hop, "RoleArn", prodRoleARN)
	if hop.AccessKeyID != issued[0].AccessKeyID {
		t.Errorf("AssumeRole signed with %q, want the SSO credentials' key %q", hop.AccessKeyID, issued[0].AccessKeyID)
	}

	// Two hours asked, one hour sent, and said so.
	w, res := whoami(t, env, "rolec")
	if !strings.HasPrefix(w.Arn, "arn:aws:sts::"+prodAccount+":assumed-role/audit/") {
		t.Fatalf("identity %q, want role audit", w.Arn)
	}
	c := mustCalls(t, env.Proxy, "AssumeRole", 2)[1]
	wantParam(t, c, "RoleArn", auditRoleARN)
	wantParam(t, c, "DurationSeconds", "3600")
	if !strings.Contains(res.Stderr, "3600") {
		t.Errorf("no warning about the 3600 s cap on stderr: %q", res.Stderr)
	}
	// The SSO step came from rolehop's cache the second time.
	if n := srv.Count("GetRoleCredentials"); n != 1 {
		t.Errorf("%d GetRoleCredentials calls, want 1 (the second chain reuses the cached SSO credentials):\n%s", n, srv.CallLog())
	}
	assertNoSecrets(t, "stderr", res.Stderr, secretsOf(env, issued[0].Keys))
}

// TestSSORefresh: a cached token with 5 minutes left is refreshed once
// with its refresh token, the file is rewritten (0600, registration kept)
// and the new token is used.
func TestSSORefresh(t *testing.T) {
	t.Parallel()
	env, srv := newSSOEnv(t)
	old, path := seedSSOToken(t, env, srv, 5*time.Minute)

	w, _ := whoami(t, env, "sso-dev")
	if want := ssoAssumedARN(devAccount, "Developer", ssoUser); w.Arn != want {
		t.Fatalf("identity %q, want %q", w.Arn, want)
	}
	ref := srv.TokenCalls("refresh_token")
	if len(ref) != 1 {
		t.Fatalf("%d refresh_token calls, want 1:\n%s", len(ref), srv.CallLog())
	}
	if ref[0].RefreshToken != old.RefreshToken || ref[0].ClientID != old.ClientID || ref[0].Body["clientSecret"] != old.ClientSecret {
		t.Errorf("refresh sent %s, want the file's refresh token and client", ref[0])
	}
	f := readSSOCache(t, path)
	if f.AccessToken == old.AccessToken || f.AccessToken != ref[0].Str("accessToken") {
		t.Errorf("the file's accessToken was not replaced by the refreshed one")
	}
	if f.RefreshToken != old.RefreshToken || f.ClientID != old.ClientID || f.ClientSecret != old.ClientSecret ||
		f.StartURL != ssoStartURL || f.Region != ssoRegion {
		t.Errorf("refresh lost fields of the file: %+v", f.Raw)
	}
	wantSSOTime(t, "expiresAt", f.ExpiresAt, time.Now().Add(8*time.Hour), time.Minute)
	wantSSOTime(t, "registrationExpiresAt", f.RegistrationExpiresAt, old.RegistrationExpiresAt, 0)
	if f.Mode != 0o600 {
		t.Errorf("token cache mode %v after refresh, want 0600", f.Mode)
	}
	if grc := wantSSOCalls(t, srv, "GetRoleCredentials", 1)[0]; grc.BearerToken != f.AccessToken {
		t.Errorf("GetRoleCredentials used %s, want the refreshed token", grc)
	}

	// Fresh now: another role of the session needs no refresh.
	w, _ = whoami(t, env, "sso-ro")
	if want := ssoAssumedARN(devAccount, "ReadOnly", ssoUser); w.Arn != want {
		t.Fatalf("identity %q, want %q", w.Arn, want)
	}
	wantSSOCalls(t, srv, "CreateToken", 1)
}

// TestSSORefreshConcurrent: 20 processes start together with a token that
// needs refreshing and no cached role credentials: one refresh, one
// GetRoleCredentials, the same credentials for all. Then 20 processes for
// four different roles of the session (so rolehop's credential cache does
// not serialize them): still one refresh, one GetRoleCredentials per role.
func TestSSORefreshConcurrent(t *testing.T) {
	t.Parallel()
	env, srv := newSSOEnv(t)
	seedSSOToken(t, env, srv, 5*time.Minute)

	profiles := make([]string, 20)
	for i := range profiles {
		profiles[i] = "sso-dev"
	}
	keys := concurrentCredentialProcess(t, env, profiles)
	if got := len(srv.TokenCalls("refresh_token")); got != 1 {
		t.Errorf("%d refresh_token calls from 20 processes, want 1:\n%s", got, srv.CallLog())
	}
	if got := srv.Count("GetRoleCredentials"); got != 1 {
		t.Errorf("%d GetRoleCredentials calls from 20 processes, want 1", got)
	}
	if len(keys["sso-dev"]) != 1 {
		t.Errorf("the processes got %d different access keys, want 1: %v", len(keys["sso-dev"]), keys)
	}

	// The token needs refreshing again; four roles, five processes each.
	seedSSOToken(t, env, srv, 5*time.Minute)
	for i := range profiles {
		profiles[i] = []string{"sso-ro", "sso-prod", "sso-admin", "sso-audit"}[i%4]
	}
	keys = concurrentCredentialProcess(t, env, profiles)
	if got := len(srv.TokenCalls("refresh_token")); got != 2 {
		t.Errorf("%d refresh_token calls from 20 more processes, want 1 more:\n%s", got-1, srv.CallLog())
	}
	if got := srv.Count("GetRoleCredentials"); got != 5 {
		t.Errorf("%d GetRoleCredentials calls for 4 more roles, want 4 more:\n%s", got-1, srv.CallLog())
	}
	for p, k := range keys {
		if len(k) != 1 {
			t.Errorf("%s: %d different access keys, want 1", p, len(k))
		}
	}
}

// concurrentCredentialProcess starts `rolehop credential-process P` for
// every P at once, asserts they all succeed, and returns the access keys
// each profile got (with how many processes got each).
func concurrentCredentialProcess(t *testing.T, env *TestEnv, profiles []string) map[string]map[string]int {
	t.Helper()
	bin := requireRolehop(t)
	type out struct {
		code           int
		stdout, stderr string
	}
	outs := make([]out, len(profiles))
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, p := range profiles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := env.Command(ctx, bin, "credential-process", p)
			var so, se bytes.Buffer
			cmd.Stdout, cmd.Stderr = &so, &se
			<-start
			err := cmd.Run()
			code, _ := exitStatus(cmd, err)
			outs[i] = out{code, so.String(), se.String()}
		}()
	}
	close(start)
	wg.Wait()

	keys := map[string]map[string]int{}
	for i, o := range outs {
		if o.code != 0 {
			t.Errorf("credential-process %s (#%d): exit %d: %s", profiles[i], i, o.code, o.stderr)
			continue
		}
		var cp struct {
			Version     int
			AccessKeyId string
		}
		if err := json.Unmarshal([]byte(o.stdout), &cp); err != nil || cp.Version != 1 || cp.AccessKeyId == "" {
			t.Errorf("credential-process %s (#%d): bad output %q", profiles[i], i, o.stdout)
			continue
		}
		if keys[profiles[i]] == nil {
			keys[profiles[i]] = map[string]int{}
		}
		keys[profiles[i]][cp.AccessKeyId]++
	}
	return keys
}

// TestSSOExpiredNeedsLogin: an expired token whose refresh token the
// server refuses, or that has none, or that the portal refuses, is a
// one-line error that says to run `rolehop login`.
func TestSSOExpiredNeedsLogin(t *testing.T) {
	t.Parallel()
	env, srv := newSSOEnv(t)
	tok, path := seedSSOToken(t, env, srv, -time.Minute)
	srv.RevokeRefreshToken(tok.RefreshToken)

	res := env.Run(t, "whoami", "sso-dev", "--json")
	wantLoginHint(t, env, res, "sso-dev", "corp")
	if got := len(srv.TokenCalls("refresh_token")); got != 1 {
		t.Errorf("%d refresh attempts, want 1:\n%s", got, srv.CallLog())
	}
	if got := srv.Calls("CreateToken"); len(got) == 1 && got[0].ErrorType != "InvalidGrantException" {
		t.Errorf("the refresh was answered %s, want InvalidGrantException", got[0])
	}
	wantSSOCalls(t, srv, "GetRoleCredentials", 0)
	assertNoSecrets(t, "stderr", res.Stderr, []string{tok.AccessToken, tok.RefreshToken, tok.ClientSecret})

	// No refresh token at all: no refresh attempt, the same hint.
	tok.RefreshToken = ""
	writeSSOCache(t, env, "corp", ssoStartURL, ssoRegion, tok)
	res = env.Run(t, "credential-process", "sso-dev")
	wantLoginHint(t, env, res, "sso-dev", "corp")
	if got := len(srv.TokenCalls("refresh_token")); got != 1 {
		t.Errorf("refresh attempted without a refresh token:\n%s", srv.CallLog())
	}
	wantSSOCalls(t, srv, "GetRoleCredentials", 0)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the token file is gone: %v", err)
	}

	// The file says 8 hours, but the portal no longer accepts the token
	// (signed out elsewhere, session revoked): the same hint.
	tok, _ = seedSSOToken(t, env, srv, 8*time.Hour)
	srv.ExpireAccessToken(tok.AccessToken)
	res = env.Run(t, "whoami", "sso-dev", "--json")
	wantLoginHint(t, env, res, "sso-dev", "corp")
	if grc := wantSSOCalls(t, srv, "GetRoleCredentials", 1)[0]; grc.ErrorType != "UnauthorizedException" || grc.Status != http.StatusUnauthorized {
		t.Errorf("GetRoleCredentials answered %s, want 401 UnauthorizedException", grc)
	}
}

// TestSSOLegacyProfile: sso_start_url/sso_region in the profile itself;
// the token file is named by the start URL, and the AWS CLI reads it.
func TestSSOLegacyProfile(t *testing.T) {
	t.Parallel()
	env, srv := newSSOEnv(t)
	res := env.Run(t, "login", "legacy", "--no-browser", "--use-device-code")
	if res.Code != 0 {
		t.Fatalf("rolehop login legacy failed: %s\nSSO calls:\n%s", res, srv.CallLog())
	}
	if got := srv.Calls("StartDeviceAuthorization"); len(got) != 1 || got[0].Body["startUrl"] != legacyStartURL {
		t.Fatalf("StartDeviceAuthorization: %v", got)
	}
	path := ssoCachePath(env, legacyStartURL)
	f := readSSOCache(t, path)
	if f.StartURL != legacyStartURL || f.AccessToken == "" || f.Mode != 0o600 {
		t.Errorf("legacy token file %s: %+v mode %v", path, f.Raw, f.Mode)
	}
	if _, err := os.Stat(ssoCachePath(env, "corp")); err == nil {
		t.Errorf("a legacy login wrote the corp session's file")
	}

	w, _ := whoami(t, env, "legacy")
	if want := ssoAssumedARN(prodAccount, "Admin", ssoUser); w.Arn != want {
		t.Fatalf("identity %q, want %q", w.Arn, want)
	}
	res = env.RunCmd(t, awsBin, "sts", "get-caller-identity", "--output", "json", "--profile", "legacy")
	if res.Code != 0 {
		t.Fatalf("aws --profile legacy: %s", res)
	}
	if got, want := parseIdentity(t, res.Stdout).Arn, ssoAssumedARN(prodAccount, "Admin", ssoUser); got != want {
		t.Fatalf("AWS CLI identity %q, want %q", got, want)
	}
}

// TestSSOLogout: logout ends the portal session, deletes the token file and
// rolehop's cached role credentials of the session, so the next command
// asks for a login instead of using leftovers.
func TestSSOLogout(t *testing.T) {
	t.Parallel()
	env, srv := newSSOEnv(t)
	tok, path := seedSSOToken(t, env, srv, 8*time.Hour)
	whoami(t, env, "sso-dev")
	wantSSOCalls(t, srv, "GetRoleCredentials", 1)

	res := env.Run(t, "logout", "sso-dev")
	if res.Code != 0 {
		t.Fatalf("rolehop logout: %s", res)
	}
	if lo := wantSSOCalls(t, srv, "Logout", 1)[0]; lo.BearerToken != tok.AccessToken || lo.Status != 200 {
		t.Errorf("Logout call %s, want the session's token", lo)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("token file still there after logout (%v)", err)
	}
	res = env.Run(t, "whoami", "sso-dev", "--json")
	wantLoginHint(t, env, res, "sso-dev", "corp")
	wantSSOCalls(t, srv, "GetRoleCredentials", 1) // nothing left to use: no call, no cached credentials

	// By session name, with credentials of two profiles cached.
	tok, path = seedSSOToken(t, env, srv, 8*time.Hour)
	whoami(t, env, "sso-dev")
	whoami(t, env, "roleb")
	if res := env.Run(t, "logout", "--sso-session", "corp"); res.Code != 0 {
		t.Fatalf("rolehop logout --sso-session corp: %s", res)
	}
	if lo := wantSSOCalls(t, srv, "Logout", 2)[1]; lo.BearerToken != tok.AccessToken {
		t.Errorf("Logout call %s, want the session's token", lo)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("token file still there after logout --sso-session (%v)", err)
	}
	wantLoginHint(t, env, env.Run(t, "credential-process", "sso-dev"), "sso-dev", "corp")
	if n := srv.Count("GetRoleCredentials"); n != 2 {
		t.Errorf("%d GetRoleCredentials calls, want 2:\n%s", n, srv.CallLog())
	}
}

// probeCallback sends what a hostile local process can send to the loopback
// callback of the /authorize URL u: requests without the login's state, and
// to other paths. Each must be refused (400, 404) without showing the state.
func probeCallback(ctx context.Context, u string) error {
	auth, err := url.Parse(u)
	if err != nil {
		return err
	}
	state := auth.Query().Get("state")
	back, err := url.Parse(auth.Query().Get("redirect_uri"))
	if err != nil || state == "" {
		return fmt.Errorf("/authorize URL without redirect_uri or state: %s", u)
	}
	base := back.Scheme + "://" + back.Host
	for _, p := range []struct {
		path string
		want int
	}{
		{"/oauth/callback?code=forged&state=forged", http.StatusBadRequest},
		{"/oauth/callback?code=forged", http.StatusBadRequest},
		{"/oauth/callback?error=access_denied", http.StatusBadRequest},
		{"/oauth/callback", http.StatusBadRequest},
		{"/?code=forged&state=" + url.QueryEscape(state), http.StatusNotFound},
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+p.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("probe %s: %v", p.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != p.want || strings.Contains(string(body), state) {
			return fmt.Errorf("probe %s: %s %q, want %d without the state", p.path, resp.Status, body, p.want)
		}
	}
	return nil
}

// TestSSOLogoutRemovesDerivedRoles (audit finding 4): logout removes every
// cached credential that came from the session, however many hops down
// (SSO → role-a → role-b), so `exec role-b` asks for a login instead of
// handing out the role's cached credentials; entries of other chains stay.
func TestSSOLogoutRemovesDerivedRoles(t *testing.T) {
	t.Parallel()
	env, srv := newSSOEnv(t)
	seed := seedAccounts(t)
	env.WriteConfig(ssoConfig + `
	[profile role-a]
	role_arn = ` + devRoleARN + `
	source_profile = sso-dev

	[profile role-b]
	role_arn = ` + prodRoleARN + `
	source_profile = role-a
`)
	if res := env.Run(t, "login", "sso-dev", "--no-browser", "--use-device-code"); res.Code != 0 {
		t.Fatalf("rolehop login failed: %s\nSSO calls:\n%s", res, srv.CallLog())
	}
	arn, _ := execCallerARN(t, env, "role-b")
	if !strings.HasPrefix(arn, "arn:aws:sts::"+prodAccount+":assumed-role/prod/") {
		t.Fatalf("identity %q, want role prod in %s", arn, prodAccount)
	}
	mustCalls(t, env.Proxy, "AssumeRole", 2)
	// A chain that has nothing to do with the session: env keys → audit.
	keys := []string{"AWS_ACCESS_KEY_ID=" + seed.CIUser.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + seed.CIUser.SecretAccessKey}
	if res := env.RunWith(t, keys, "exec", "--role-arn", auditRoleARN, "--", "true"); res.Code != 0 {
		t.Fatalf("exec --role-arn audit with ci-user's keys: %s", res)
	}
	if n := len(cacheList(t, env)); n != 4 {
		t.Fatalf("%d cache entries, want 4 (SSO, role-a, role-b, audit)", n)
	}

	res := env.Run(t, "logout", "sso-dev")
	if res.Code != 0 {
		t.Fatalf("rolehop logout: %s", res)
	}
	if !strings.Contains(res.Stderr, "3 cached credential(s) removed") {
		t.Errorf("logout does not say it removed the 3 cached credentials of the session: %q", res.Stderr)
	}
	res = env.Run(t, "exec", "role-b", "--", awsBin, "sts", "get-caller-identity", "--output", "json")
	wantLoginHint(t, env, res, "sso-dev", "corp")
	mustCalls(t, env.Proxy, "AssumeRole", 3) // the audit hop; nothing after logout
	entries := cacheList(t, env)
	if len(entries) != 1 || entries[0].RoleARN != auditRoleARN {
		t.Errorf("cache after logout: %+v, want only the audit role's entry", entries)
	}
}

// TestSSOLoginPKCE: the authorization-code flow with PKCE (what `aws sso
// login` does by default for an sso-session since CLI 2.22): rolehop
// registers for authorization_code with a loopback redirect URI, runs
// --browser-command with the /authorize URL appended, receives the code on
// its loopback callback and exchanges it with the code verifier. The
// "browser" here is the test: the command only hands the URL over, and a Go
// HTTP client follows the redirect to rolehop's callback.
//
// Contract only: rolehop has no --browser-command yet; the test skips until
// `rolehop login --help` mentions it.
func TestSSOLoginPKCE(t *testing.T) {
	t.Parallel()
	env, srv := newSSOEnv(t)
	if help := env.Run(t, "login", "--help"); !strings.Contains(help.Stdout+help.Stderr, "--browser-command") {
		t.Skip("rolehop login has no --browser-command yet (authorization-code + PKCE login not implemented)")
	}
	urls := env.WriteFile("urls", "")
	browser := env.WriteFile("browser.sh", "#!/bin/sh\nprintf '%s\\n' \"$1\" >> "+shellQuote([]string{urls})+"\n")
	if err := os.Chmod(browser, 0o700); err != nil {
		t.Fatal(err)
	}

	// The browser: wait for the URL, then load it, following redirects.
	// Before it, another local process probes the callback port (audit
	// finding 8): its requests are refused and the login goes on.
	browsed := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			b, _ := os.ReadFile(urls)
			if arg := strings.TrimSpace(string(b)); arg != "" {
				// Audit finding 5: the opener gets a private page, not the
				// URL (with its state) that every local user could read.
				if strings.Contains(arg, "state=") || strings.Contains(arg, "://") {
					browsed <- fmt.Errorf("the browser command was given the URL itself: %q", arg)
					return
				}
				u, err := openerTarget(arg)
				if err != nil {
					browsed <- err
					return
				}
				if err := probeCallback(ctx, u); err != nil {
					browsed <- err
					return
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("callback page answered %s", resp.Status)
					}
				}
				browsed <- err
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		browsed <- ctx.Err()
	}()

	res := env.Run(t, "login", "sso-dev", "--browser-command", browser)
	if res.Code != 0 {
		t.Fatalf("rolehop login --browser-command failed: %s\nSSO calls:\n%s", res, srv.CallLog())
	}
	if err := <-browsed; err != nil {
		t.Errorf("browser: %v", err)
	}

	reg := wantSSOCalls(t, srv, "RegisterClient", 1)[0]
	grants, redirects := strList(reg.Body["grantTypes"]), strList(reg.Body["redirectUris"])
	if !slices.Contains(grants, "authorization_code") || !slices.Contains(grants, "refresh_token") {
		t.Errorf("RegisterClient grantTypes %q, want authorization_code and refresh_token", grants)
	}
	if len(redirects) != 1 || !strings.HasPrefix(redirects[0], "http://127.0.0.1") {
		t.Errorf("RegisterClient redirectUris %q, want one loopback URI", redirects)
	}
	if reg.Body["issuerUrl"] != ssoStartURL {
		t.Errorf("RegisterClient issuerUrl %v, want %s", reg.Body["issuerUrl"], ssoStartURL)
	}
	auth := wantSSOCalls(t, srv, "Authorize", 1)[0]
	q := auth.Query
	if q.Get("code_challenge_method") != "S256" || q.Get("state") == "" || q.Get("client_id") != reg.Str("clientId") || q.Get("response_type") != "code" {
		t.Errorf("/authorize query %v", q)
	}
	if auth.Status != http.StatusFound {
		t.Errorf("/authorize answered %d (not redirected back): %s", auth.Status, auth)
	}
	ex := srv.TokenCalls("authorization_code")
	if len(ex) != 1 || ex[0].Status != http.StatusOK {
		t.Fatalf("code exchange: %v\n%s", ex, srv.CallLog())
	}
	if ex[0].Body["redirectUri"] != q.Get("redirect_uri") {
		t.Errorf("CreateToken redirectUri %v, want the /authorize one %s", ex[0].Body["redirectUri"], q.Get("redirect_uri"))
	}
	wantSSOCalls(t, srv, "StartDeviceAuthorization", 0)

	f := readSSOCache(t, ssoCachePath(env, "corp"))
	if f.AccessToken != ex[0].Str("accessToken") || f.RefreshToken == "" || f.ClientID != reg.Str("clientId") || f.Mode != 0o600 {
		t.Errorf("token file after PKCE login: %+v mode %v", f.Raw, f.Mode)
	}
	w, _ := whoami(t, env, "sso-dev")
	if want := ssoAssumedARN(devAccount, "Developer", ssoUser); w.Arn != want {
		t.Fatalf("identity %q, want %q", w.Arn, want)
	}
}
