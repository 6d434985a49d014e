package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rolehop/rolehop/internal/winetest"
)

// run calls Main with a private environment holding config.
func run(t *testing.T, config string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	dir := winetest.TempDir(t)
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"HOME": dir, "AWS_CONFIG_FILE": cfg, "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "USER": "tester"}
	keepInside(vars, dir)
	for k, v := range env {
		vars[k] = v
	}
	var out, errb bytes.Buffer
	sys := IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(k string) string { return vars[k] },
		Environ: func() []string { return nil }}
	code = Main(context.Background(), args, sys)
	return code, out.String(), errb.String()
}

// keepInside points rolehop's configuration and cache directories (the key
// index, the file keychain, the credential cache) into dir on Windows,
// where they are the process's %AppData% and %LocalAppData%
// (os.UserConfigDir, os.UserCacheDir), not under HOME: without it the tests
// there would share the user's real ones.
func keepInside(vars map[string]string, dir string) {
	if runtime.GOOS == "windows" {
		vars["XDG_CONFIG_HOME"] = filepath.Join(dir, ".config")
		vars["XDG_CACHE_HOME"] = filepath.Join(dir, ".cache")
	}
}

const testConfig = `[profile base]
aws_access_key_id = AKIATESTKEY000000001
aws_secret_access_key = topsecret
[profile prod]
role_arn = arn:aws:iam::222222222222:role/prod
source_profile = base
`

func TestUsageErrorsExit2(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"exec", "prod"}, "exec needs a command after --"},
		{[]string{"exec", "prod", "aws", "s3", "ls"}, "put the command after --"},
		{[]string{"exec", "prod", "--"}, "exec needs a command"},
		{[]string{"exec", "a", "b", "--", "true"}, "at most one PROFILE"},
		{[]string{"export", "prod", "--format", "yaml"}, `unknown --format "yaml"`},
		{[]string{"explain", "prod", "--profile", "other"}, "profile given twice"},
		{[]string{"explain", "a", "b"}, "at most one PROFILE"},
		{[]string{"explain", "--duration-seconds"}, "flag needs an argument"},
		{[]string{"explain", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"explain", "prdo"}, `profile "prdo" not found`},
		{[]string{"frobnicate"}, "unknown command"},
	}
	for _, tc := range tests {
		code, stdout, stderr := run(t, testConfig, nil, tc.args...)
		if code != 2 || !strings.HasPrefix(stderr, "rolehop: ") || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 || stdout != "" {
			t.Errorf("%q: code %d, stdout %q, stderr %q; want 2 and one line with %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

func TestNoCredentialsExit1(t *testing.T) {
	code, _, stderr := run(t, "", nil, "credential-process", "--role-arn", "arn:aws:iam::222222222222:role/prod")
	if code != 1 || !strings.Contains(stderr, "no AWS credentials found") || !strings.Contains(stderr, "container endpoint") {
		t.Errorf("code %d, stderr %q", code, stderr)
	}
}

func TestExplainPrintsNoSecret(t *testing.T) {
	code, stdout, stderr := run(t, testConfig, map[string]string{"AWS_PROFILE": "prod", "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "envsecret"}, "explain")
	if code != 0 || !strings.Contains(stdout, "arn:aws:iam::222222222222:role/prod") || !strings.Contains(stdout, "would silently use the keys") {
		t.Fatalf("code %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	code, js, _ := run(t, testConfig, nil, "explain", "prod", "--json")
	var plan struct {
		Hops []struct {
			RoleARN struct{ Value string } `json:"role_arn"`
		}
	}
	if code != 0 || json.Unmarshal([]byte(js), &plan) != nil || len(plan.Hops) != 1 {
		t.Fatalf("explain --json: code %d, %s", code, js)
	}
	for _, out := range []string{stdout, js} {
		if strings.Contains(out, "topsecret") || strings.Contains(out, "envsecret") || strings.Contains(out, "AKIATESTKEY000000001") {
			t.Errorf("explain leaks a secret:\n%s", out)
		}
	}
}

func TestHelpHasExamples(t *testing.T) {
	for _, cmd := range []string{"exec", "export", "credential-process", "whoami", "explain"} {
		code, stdout, _ := run(t, "", nil, cmd, "--help")
		if code != 0 || !strings.Contains(stdout, "Examples:") || !strings.Contains(stdout, "--role-session-name") {
			t.Errorf("%s --help: code %d\n%s", cmd, code, stdout)
		}
	}
}
