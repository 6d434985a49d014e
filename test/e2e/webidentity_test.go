//go:build unix

package e2e

import (
	"strings"
	"testing"
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
