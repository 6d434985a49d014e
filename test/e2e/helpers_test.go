//go:build unix

package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Identity is what `aws sts get-caller-identity --output json` prints.
type Identity struct {
	UserId  string
	Account string
	Arn     string
}

// callerARN runs the real AWS CLI (`aws sts get-caller-identity --output
// json`) with the test's environment plus extraEnv (KEY=VALUE, or bare KEY to
// remove) and returns the Arn.
func callerARN(t *testing.T, env *TestEnv, extraEnv ...string) string {
	t.Helper()
	res := env.RunCmdWith(t, extraEnv, awsBin, "sts", "get-caller-identity", "--output", "json")
	if res.Code != 0 {
		t.Fatalf("aws sts get-caller-identity failed: %s", res)
	}
	return parseIdentity(t, res.Stdout).Arn
}

// parseIdentity parses get-caller-identity JSON output.
func parseIdentity(t *testing.T, out string) Identity {
	t.Helper()
	var id Identity
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &id); err != nil {
		t.Fatalf("parsing get-caller-identity output %q: %v", out, err)
	}
	if id.Arn == "" {
		t.Fatalf("get-caller-identity output without Arn: %q", out)
	}
	return id
}

// execCallerARN runs `rolehop exec ARGS… -- aws sts get-caller-identity
// --output json` and returns the Arn the child saw.
func execCallerARN(t *testing.T, env *TestEnv, args ...string) (string, Result) {
	t.Helper()
	full := append(append([]string{"exec"}, args...), "--", awsBin, "sts", "get-caller-identity", "--output", "json")
	res := env.Run(t, full...)
	if res.Code != 0 {
		t.Fatalf("rolehop exec failed: %s", res)
	}
	return parseIdentity(t, res.Stdout).Arn, res
}

// WhoAmI is what `rolehop whoami --json` prints.
type WhoAmI struct {
	Account    string
	Arn        string
	UserId     string
	Expiration string
}

// whoami runs `rolehop whoami ARGS… --json` and parses the output.
func whoami(t *testing.T, env *TestEnv, args ...string) (WhoAmI, Result) {
	t.Helper()
	res := env.Run(t, append(append([]string{"whoami"}, args...), "--json")...)
	if res.Code != 0 {
		t.Fatalf("rolehop whoami failed: %s", res)
	}
	var w WhoAmI
	if err := json.Unmarshal([]byte(strings.TrimSpace(res.Stdout)), &w); err != nil {
		t.Fatalf("parsing whoami --json output %q: %v", res.Stdout, err)
	}
	return w, res
}

// ciCredentials is a shared-credentials file section with ci-user's key.
func ciCredentials(section string, k Keys) string {
	return fmt.Sprintf("[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", section, k.AccessKeyID, k.SecretAccessKey)
}

// useEnvKeys puts keys into AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
// (/AWS_SESSION_TOKEN).
func useEnvKeys(env *TestEnv, k Keys) {
	env.Set("AWS_ACCESS_KEY_ID", k.AccessKeyID)
	env.Set("AWS_SECRET_ACCESS_KEY", k.SecretAccessKey)
	if k.SessionToken != "" {
		env.Set("AWS_SESSION_TOKEN", k.SessionToken)
	}
}

// mustCalls asserts the number of recorded calls of action and returns them.
func mustCalls(t *testing.T, p *Proxy, action string, n int) []Call {
	t.Helper()
	calls := p.Calls(action)
	if len(calls) != n {
		t.Fatalf("proxy saw %d %s calls, want %d:\n%s", len(calls), action, n, callList(p.Calls("")))
	}
	return calls
}

func callList(calls []Call) string {
	if len(calls) == 0 {
		return "  (none)"
	}
	var b strings.Builder
	for i, c := range calls {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, c)
	}
	return b.String()
}

// wantParam asserts one request parameter's exact value.
func wantParam(t *testing.T, c Call, key, want string) {
	t.Helper()
	if got, ok := c.Params[key]; !ok {
		t.Errorf("%s: parameter %s missing, want %q (call: %s)", c.Action, key, want, c)
	} else if len(got) != 1 || got[0] != want {
		t.Errorf("%s: %s = %q, want %q", c.Action, key, got, want)
	}
}

// noParam asserts a request parameter is absent.
func noParam(t *testing.T, c Call, key string) {
	t.Helper()
	if v, ok := c.Params[key]; ok {
		t.Errorf("%s: unexpected parameter %s = %q", c.Action, key, v)
	}
}

// secretsOf lists every secret the test's world knows about: the seeded
// secret key, the given extra keys, and every secret key and session token
// moto returned through the test's proxy.
func secretsOf(env *TestEnv, extra ...Keys) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 8 {
			out = append(out, s)
		}
	}
	seedMu.Lock()
	if seedDone != nil {
		add(seedDone.CIUser.SecretAccessKey)
	}
	seedMu.Unlock()
	for _, k := range extra {
		add(k.SecretAccessKey)
		add(k.SessionToken)
	}
	for _, c := range env.Proxy.Calls("") {
		_, secret, token := c.ReturnedCredentials()
		add(secret)
		add(token)
	}
	return out
}

// assertNoSecrets fails when text contains any secret key or session token.
func assertNoSecrets(t *testing.T, what, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s leaks a secret (%.6s…): %q", what, s, text)
		}
	}
}

// wantCLIError asserts rolehop failed with the given exit code and exactly
// one stderr line starting "rolehop: " that contains every fragment
// (case-insensitive), and that stderr holds no secret.
func wantCLIError(t *testing.T, env *TestEnv, res Result, code int, fragments ...string) {
	t.Helper()
	if res.Code != code {
		t.Errorf("exit code %d, want %d: %s", res.Code, code, res)
	}
	stderr := strings.TrimRight(res.Stderr, "\n")
	if strings.Contains(stderr, "\n") {
		t.Errorf("stderr has more than one line:\n%s", res.Stderr)
	}
	if !strings.HasPrefix(stderr, "rolehop: ") {
		t.Errorf("stderr does not start with %q: %q", "rolehop: ", res.Stderr)
	}
	low := strings.ToLower(stderr)
	for _, f := range fragments {
		if !strings.Contains(low, strings.ToLower(f)) {
			t.Errorf("stderr %q does not mention %q", stderr, f)
		}
	}
	secrets := secretsOf(env)
	assertNoSecrets(t, "stderr", res.Stderr, secrets)
	assertNoSecrets(t, "stdout", res.Stdout, secrets)
}

// stderrLines is the stderr's non-empty lines.
func stderrLines(res Result) []string {
	var out []string
	for _, l := range strings.Split(res.Stderr, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
