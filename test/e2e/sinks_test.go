//go:build unix

package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestExportShEval: `eval "$(rolehop export prod)"` in a POSIX shell gives
// the shell the role's credentials.
func TestExportShEval(t *testing.T) {
	t.Parallel()
	env, seed := newChainEnv(t)
	bin := requireRolehop(t)

	script := `set -e; eval "$(` + shellQuote([]string{bin}) + ` export prod --format sh)"; exec aws sts get-caller-identity --output json`
	res := env.RunCmd(t, shBin, "-c", script)
	if res.Code != 0 {
		t.Fatalf("sh -c eval export: %s", res)
	}
	if got, want := parseIdentity(t, res.Stdout).Arn, assumedARN(prodAccount, "prod", "alice"); got != want {
		t.Fatalf("shell ran as %q, want %q", got, want)
	}
	checkChainCalls(t, env, seed)
	assertNoSecrets(t, "stderr", res.Stderr, secretsOf(env))

	// sh is the default format and every line is `export K='v'`.
	out := env.Run(t, "export", "prod")
	if out.Code != 0 {
		t.Fatalf("rolehop export prod: %s", out)
	}
	line := regexp.MustCompile(`^export [A-Z_][A-Z0-9_]*='[^']*'$`)
	// rolehop may also clear stale credential variables other tools read.
	unset := regexp.MustCompile(`^unset( [A-Z_][A-Z0-9_]*)+$`)
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(out.Stdout), "\n") {
		if unset.MatchString(l) {
			for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
				if strings.Contains(l+" ", " "+k+" ") {
					t.Errorf("export unsets %s: %q", k, l)
				}
			}
			continue
		}
		if !line.MatchString(l) {
			t.Errorf("default export line %q is not `export K='v'`", l)
			continue
		}
		seen[strings.TrimPrefix(l[:strings.Index(l, "=")], "export ")] = true
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if !seen[k] {
			t.Errorf("default export lacks %s:\n%s", k, out.Stdout)
		}
	}
}

// TestExportDotenv: `--format dotenv` prints KEY=VALUE lines usable as a
// process environment (docker --env-file).
func TestExportDotenv(t *testing.T) {
	t.Parallel()
	env, seed := newChainEnv(t)

	res := env.Run(t, "export", "prod", "--format", "dotenv")
	if res.Code != 0 {
		t.Fatalf("rolehop export --format dotenv: %s", res)
	}
	vars := parseDotenv(t, res.Stdout)
	var extra []string
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if vars[k] == "" {
			t.Fatalf("dotenv output lacks %s:\n%s", k, res.Stdout)
		}
		extra = append(extra, k+"="+vars[k])
	}
	final := checkChainCalls(t, env, seed)
	if vars["AWS_ACCESS_KEY_ID"] != final {
		t.Errorf("dotenv AWS_ACCESS_KEY_ID %q, want the final hop's %q", vars["AWS_ACCESS_KEY_ID"], final)
	}
	if got, want := callerARN(t, env, extra...), assumedARN(prodAccount, "prod", "alice"); got != want {
		t.Fatalf("dotenv credentials are %q, want %q", got, want)
	}
	assertNoSecrets(t, "stderr", res.Stderr, secretsOf(env))
}

// parseDotenv reads KEY=VALUE lines (values optionally quoted).
func parseDotenv(t *testing.T, s string) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Errorf("dotenv line without '=': %q", l)
			continue
		}
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		vars[k] = v
	}
	return vars
}

// TestExportFormats: every documented format works and carries the session
// token.
func TestExportFormats(t *testing.T) {
	t.Parallel()
	env, _ := newChainEnv(t)
	for _, format := range []string{"sh", "fish", "powershell", "cmd", "dotenv", "json"} {
		res := env.Run(t, "export", "prod", "--format", format)
		if res.Code != 0 {
			t.Errorf("--format %s: %s", format, res)
			continue
		}
		if !strings.Contains(res.Stdout, "AWS_SESSION_TOKEN") && !strings.Contains(res.Stdout, "SessionToken") {
			t.Errorf("--format %s output carries no session token:\n%s", format, res.Stdout)
		}
		if format == "json" && !json.Valid([]byte(res.Stdout)) {
			t.Errorf("--format json is not JSON:\n%s", res.Stdout)
		}
	}
}

// TestCredentialProcessProfile: rolehop as the credential_process of an AWS
// CLI profile.
func TestCredentialProcessProfile(t *testing.T) {
	t.Parallel()
	env, seed := newChainEnv(t)
	bin := requireRolehop(t)
	env.WriteConfig(dedent(chainConfig) + dedent(`
		[profile viaprocess]
		credential_process = `+bin+` credential-process prod
	`))

	res := env.RunCmd(t, awsBin, "sts", "get-caller-identity", "--profile", "viaprocess", "--output", "json")
	if res.Code != 0 {
		t.Fatalf("aws --profile viaprocess: %s", res)
	}
	if got, want := parseIdentity(t, res.Stdout).Arn, assumedARN(prodAccount, "prod", "alice"); got != want {
		t.Fatalf("aws --profile viaprocess ran as %q, want %q", got, want)
	}
	checkChainCalls(t, env, seed)

	// The raw output is credential_process Version 1 JSON.
	out := env.Run(t, "credential-process", "prod")
	if out.Code != 0 {
		t.Fatalf("rolehop credential-process prod: %s", out)
	}
	var cp struct {
		Version         int
		AccessKeyId     string
		SecretAccessKey string
		SessionToken    string
		Expiration      string
	}
	if err := json.Unmarshal([]byte(out.Stdout), &cp); err != nil {
		t.Fatalf("credential-process output is not JSON: %v\n%s", err, out.Stdout)
	}
	if cp.Version != 1 || cp.AccessKeyId == "" || cp.SecretAccessKey == "" || cp.SessionToken == "" {
		t.Errorf("credential-process output incomplete: %s", out.Stdout)
	}
	if exp, err := time.Parse(time.RFC3339, cp.Expiration); err != nil || !exp.After(time.Now()) {
		t.Errorf("credential-process Expiration %q is not a future RFC 3339 time (%v)", cp.Expiration, err)
	}
	assertNoSecrets(t, "stderr", out.Stderr, secretsOf(env))
}
