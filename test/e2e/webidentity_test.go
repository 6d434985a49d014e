//go:build unix

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeJWT is what an OIDC provider would issue; moto accepts any token.
const fakeJWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9yZy9yZXBvIn0.c2ln"

// TestWebIdentityFromEnvironment: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
// (EKS, GitLab, any OIDC CI) become an AssumeRoleWithWebIdentity source, and
// a further --role-arn hop is role chaining (capped at 3600 s).
func TestWebIdentityFromEnvironment(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	seedAccounts(t)
	env.Set("AWS_WEB_IDENTITY_TOKEN_FILE", env.WriteFile("token", fakeJWT))
	env.Set("AWS_ROLE_ARN", devRoleARN)
	env.Set("AWS_ROLE_SESSION_NAME", "ci-run-1")

	w, _ := whoami(t, env)
	if want := assumedARN(devAccount, "dev", "ci-run-1"); w.Arn != want {
		t.Fatalf("identity %q, want %q", w.Arn, want)
	}
	c := mustCalls(t, env.Proxy, "AssumeRoleWithWebIdentity", 1)[0]
	wantParam(t, c, "RoleArn", devRoleARN)
	wantParam(t, c, "WebIdentityToken", fakeJWT)
	wantParam(t, c, "RoleSessionName", "ci-run-1")
	if c.AccessKeyID != "" {
		t.Errorf("AssumeRoleWithWebIdentity was signed (key %q); it must be anonymous", c.AccessKeyID)
	}

	// One more hop, asking for 2 hours: chained, so capped.
	w, res := whoami(t, env, "--role-arn", prodRoleARN, "--duration-seconds", "7200")
	if want := assumedARN(prodAccount, "prod", "ci-run-1"); w.Arn != want {
		t.Fatalf("identity %q, want %q", w.Arn, want)
	}
	hop := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
	wantParam(t, hop, "DurationSeconds", "3600")
	if !strings.Contains(res.Stderr, "3600") {
		t.Errorf("no cap warning on stderr: %q", res.Stderr)
	}
	// The web identity step was cached: no second AssumeRoleWithWebIdentity.
	mustCalls(t, env.Proxy, "AssumeRoleWithWebIdentity", 1)
}

// TestWebIdentityProfile: web_identity_token_file + role_arn in a profile,
// used directly and as the source_profile of a chained role.
func TestWebIdentityProfile(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	seedAccounts(t)
	token := env.WriteFile("token", fakeJWT)
	env.WriteConfig(`
		[profile oidc]
		role_arn = ` + devRoleARN + `
		web_identity_token_file = ` + token + `
		role_session_name = oidc-session

		[profile deploy]
		role_arn = ` + prodRoleARN + `
		source_profile = oidc
	`)
	arn, _ := execCallerARN(t, env, "deploy")
	// The chained hop carries the web identity session's name.
	if want := assumedARN(prodAccount, "prod", "oidc-session"); arn != want {
		t.Fatalf("identity %q, want %q", arn, want)
	}
	mustCalls(t, env.Proxy, "AssumeRoleWithWebIdentity", 1)
	mustCalls(t, env.Proxy, "AssumeRole", 1)
}

// TestWebIdentityGitHub: --web-identity github asks GitHub Actions' OIDC
// endpoint for a token (bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN, audience
// sts.amazonaws.com) and assumes the first --role-arn with it.
func TestWebIdentityGitHub(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	seedAccounts(t)
	oidc := newGitHubOIDC(t, "request-token-123")
	env.Set("ACTIONS_ID_TOKEN_REQUEST_URL", oidc.URL)
	env.Set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", oidc.RequestToken)
	env.Set("GITHUB_RUN_ID", "987")

	arn, res := execCallerARN(t, env, "--web-identity", "github", "--role-arn", devRoleARN)
	if want := assumedARN(devAccount, "dev", "gh-987"); arn != want {
		t.Fatalf("identity %q, want %q", arn, want)
	}
	if oidc.asked.Load() != 1 || oidc.refused.Load() != 0 {
		t.Errorf("OIDC endpoint asked %d times, %d refused", oidc.asked.Load(), oidc.refused.Load())
	}
	wantParam(t, mustCalls(t, env.Proxy, "AssumeRoleWithWebIdentity", 1)[0], "WebIdentityToken", fakeJWT)
	assertNoSecrets(t, "stderr", res.Stderr, append(secretsOf(env), "request-token-123", fakeJWT))

	// A wrong request token is a clear error that names the permission.
	env.Set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "wrong")
	bad := env.Run(t, "exec", "--no-cache", "--web-identity", "github", "--role-arn", devRoleARN, "--", "true")
	wantCLIError(t, env, bad, 1, "id-token: write")
}

// testJWT is a token shaped as an OIDC provider issues it (header, claims,
// signature; moto checks none of it) with the given claims.
func testJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT","kid":"k1"}`)) + "." + enc(body) + "." + enc([]byte("signature"))
}

// githubClaims are the claims of a GitHub Actions OIDC token for subject
// sub and ref, issued at iat (exp, nbf and jti follow from it).
func githubClaims(sub, ref string, iat int64) map[string]any {
	return map[string]any{
		"iss": "https://token.actions.githubusercontent.com", "aud": "sts.amazonaws.com", "sub": sub,
		"repository": "org/app", "repository_owner": "org", "ref": ref,
		"job_workflow_ref": "org/app/.github/workflows/deploy.yml@" + ref, "run_id": "4242",
		"iat": iat, "nbf": iat - 5, "exp": iat + 300, "jti": fmt.Sprintf("jti-%d", iat),
	}
}

// TestWebIdentityCacheKeyedByToken (audit finding 3): on a persistent
// runner with a fixed session name, a job whose token names another
// subject (a pull request instead of main) must not get the cached
// credentials of a trusted job: STS must see its token. A new token with
// the same claims (only iat, nbf, exp, jti differ) is the same identity
// and uses the cache. Hops after the web identity are separated too, and
// `cache clear --role-arn` finds every entry without reading a token.
func TestWebIdentityCacheKeyedByToken(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	seedAccounts(t)
	now := time.Now().Unix()
	tokMain := testJWT(t, githubClaims("repo:org/app:ref:refs/heads/main", "refs/heads/main", now))
	tokPR := testJWT(t, githubClaims("repo:org/app:pull_request", "refs/pull/7/merge", now))
	tokMainAgain := testJWT(t, githubClaims("repo:org/app:ref:refs/heads/main", "refs/heads/main", now+60))
	tokenFile := env.WriteFile("token", tokMain)
	env.Set("AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile)
	env.Set("AWS_ROLE_ARN", devRoleARN)
	env.Set("AWS_ROLE_SESSION_NAME", "runner-1")
	webIdent, hops := 0, 0
	run := func(token string, newWebIdent, newHops int, what string) {
		t.Helper()
		env.WriteFile("token", token)
		arn, _ := execCallerARN(t, env)
		if want := assumedARN(devAccount, "dev", "runner-1"); arn != want {
			t.Fatalf("%s: identity %q, want %q", what, arn, want)
		}
		arn, _ = execCallerARN(t, env, "--role-arn", prodRoleARN)
		if want := assumedARN(prodAccount, "prod", "runner-1"); arn != want {
			t.Fatalf("%s, one more hop: identity %q, want %q", what, arn, want)
		}
		webIdent = wantNewCalls(t, env, "AssumeRoleWithWebIdentity", webIdent, newWebIdent, what)
		hops = wantNewCalls(t, env, "AssumeRole", hops, newHops, what+", one more hop")
		if newWebIdent > 0 {
			calls := env.Proxy.Calls("AssumeRoleWithWebIdentity")
			wantParam(t, calls[len(calls)-1], "WebIdentityToken", token)
		}
	}
	run(tokMain, 1, 1, "token of main")
	run(tokPR, 1, 1, "token of a pull request, same role and session name")
	run(tokMainAgain, 0, 0, "a new token of main (same claims, new iat/exp/jti)")

	entries := cacheList(t, env)
	if len(entries) != 4 {
		t.Fatalf("%d cache entries, want 4 (web identity and hop for each of two identities): %+v", len(entries), entries)
	}

	// Without the token, clear still finds the entries of both identities.
	if err := os.Remove(tokenFile); err != nil {
		t.Fatal(err)
	}
	if res := env.Run(t, "cache", "clear", "--role-arn", prodRoleARN); res.Code != 0 || !strings.Contains(res.Stderr, "removed 4 ") {
		t.Fatalf("cache clear --role-arn without a token file: %s", res)
	}
	if entries := cacheList(t, env); len(entries) != 0 {
		t.Errorf("entries left after cache clear: %+v", entries)
	}

	// A token that is not a JWT: one line, never the token; --no-cache
	// does not need its claims.
	const opaque = "opaque-token-0123456789abcdef"
	env.WriteFile("token", opaque)
	res := env.Run(t, "exec", "--", "true")
	wantCLIError(t, env, res, 1, "not a JWT", "--no-cache")
	assertNoSecrets(t, "stderr", res.Stderr, []string{opaque, tokMain, tokPR})
	if res := env.Run(t, "exec", "--no-cache", "--", "true"); res.Code != 0 {
		t.Errorf("exec --no-cache with an opaque token: %s", res)
	}
}
