package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rolehop/rolehop/internal/winetest"
)

func TestOutputFlag(t *testing.T) {
	for _, args := range [][]string{
		{"explain", "prod", "--output", "json"},
		{"explain", "prod", "-o", "json"},
		{"explain", "prod", "--json"}, // the older flag, hidden
	} {
		code, stdout, stderr := run(t, testConfig, nil, args...)
		var plan struct {
			Hops []struct {
				RoleARN struct{ Value string } `json:"role_arn"`
			} `json:"hops"`
		}
		if code != 0 || json.Unmarshal([]byte(stdout), &plan) != nil || len(plan.Hops) != 1 || plan.Hops[0].RoleARN.Value != "arn:aws:iam::222222222222:role/prod" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	code, stdout, _ := run(t, testConfig, nil, "explain", "prod", "-o", "text")
	if code != 0 || !strings.HasPrefix(stdout, "Profile: prod") {
		t.Errorf("-o text: exit %d, %q", code, stdout)
	}
	for _, cmd := range [][]string{{"explain", "prod"}, {"whoami", "prod"}, {"doctor", "prod"}, {"cache", "list"}} {
		code, stdout, stderr := run(t, testConfig, nil, append(cmd, "--output", "yaml")...)
		if code != 2 || stdout != "" || strings.TrimSpace(stderr) != `rolehop: unknown --output "yaml": use text or json` {
			t.Errorf("%v --output yaml: exit %d, stdout %q, stderr %q", cmd, code, stdout, stderr)
		}
	}
}

func TestQuiet(t *testing.T) {
	env := map[string]string{"ROLEHOP_CACHE_DIR": winetest.TempDir(t)}
	code, _, stderr := run(t, testConfig, env, "cache", "clear")
	if code != 0 || !strings.Contains(stderr, "rolehop: removed 0 cached credential(s)") {
		t.Fatalf("cache clear: exit %d, stderr %q", code, stderr)
	}
	for _, q := range []string{"--quiet", "-q"} {
		code, stdout, stderr := run(t, testConfig, env, "cache", "clear", q)
		if code != 0 || stdout != "" || stderr != "" {
			t.Errorf("cache clear %s: exit %d, stdout %q, stderr %q; want silence", q, code, stdout, stderr)
		}
	}
	// Errors still print.
	code, _, stderr = run(t, testConfig, nil, "explain", "nope", "-q")
	if code != 2 || !strings.Contains(stderr, `profile "nope" not found`) {
		t.Errorf("-q hid an error: exit %d, stderr %q", code, stderr)
	}
}
