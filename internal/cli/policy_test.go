package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rolehop/rolehop/internal/iampolicy"
)

func TestPolicyUsageErrors(t *testing.T) {
	const caller = "--caller-arn=arn:aws:iam::111111111111:user/ci"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"policy", "prod", "--format", "yaml", caller}, `unknown --format "yaml"`},
		{[]string{"policy", "prod", "--document", "trust", caller}, "--document needs --hop"},
		{[]string{"policy", "prod", "--hop", "1", "--document", "both", caller}, `unknown --document "both"`},
		{[]string{"policy", "prod", "--hop", "1", "--document", "trust", "--format", "terraform", caller}, "does not combine with --format terraform"},
		{[]string{"policy", "prod", "--account", "222222222222", caller}, "add --format cloudformation"},
		{[]string{"policy", "prod", "--hop", "3", caller}, "--hop 3: the chain has hops 1"},
		{[]string{"policy", "prod", "--caller-arn", "arn:aws:sts::111111111111:federated-user/bob"}, "cannot call sts:AssumeRole"},
		{[]string{"policy", "prod", "--caller-arn", "bob"}, "is not an ARN"},
		{[]string{"policy", "base", caller}, "there is no role to write a policy for"},
		{[]string{"policy", caller}, "(its source is --caller-arn arn:aws:iam::111111111111:user/ci): there is no role"},
		{[]string{"policy", "prod", "--format", "cloudformation", "--account", "333333333333", caller}, "its accounts are 222222222222, 111111111111"},
	}
	for _, tc := range tests {
		code, stdout, stderr := run(t, testConfig, nil, tc.args...)
		if code != 2 || !strings.HasPrefix(stderr, "rolehop: ") || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

// TestPolicyCallerARNWithoutCredentials: --caller-arn and --role-arn need
// no credentials at all (the source is "provided").
func TestPolicyCallerARNWithoutCredentials(t *testing.T) {
	code, stdout, stderr := run(t, "", nil, "policy", "--role-arn", "arn:aws:iam::222222222222:role/deploy",
		"--caller-arn", "arn:aws:sts::111111111111:assumed-role/ci/run-1", "--hop", "1", "--document", "trust")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	d, err := iampolicy.Parse(stdout)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"Version":"2012-10-17","Statement":[{"Sid":"RolehopHop1","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/ci"},"Action":"sts:AssumeRole"}]}`
	if d.Compact() != want {
		t.Errorf("trust policy %s, want %s", d.Compact(), want)
	}
	// Without --caller-arn and without credentials: say to pass it.
	code, _, stderr = run(t, "", nil, "policy", "--role-arn", "arn:aws:iam::222222222222:role/deploy")
	if code != 1 || !strings.Contains(stderr, "pass --caller-arn") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestPolicyJSONSteps(t *testing.T) {
	code, stdout, stderr := run(t, testConfig, nil, "policy", "prod", "--caller-arn", "arn:aws:iam::111111111111:user/ci")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var out struct {
		Steps []struct {
			Hop              int
			RoleARN          string `json:"role_arn"`
			Caller           string
			PermissionTarget string `json:"permission_target"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Steps) != 1 || out.Steps[0].Hop != 1 || out.Steps[0].RoleARN != "arn:aws:iam::222222222222:role/prod" ||
		out.Steps[0].Caller != "arn:aws:iam::111111111111:user/ci" || !strings.Contains(out.Steps[0].PermissionTarget, "IAM user ci") {
		t.Errorf("steps %+v", out.Steps)
	}
}

func TestPolicyWebIdentityOutsideGitHub(t *testing.T) {
	code, stdout, stderr := run(t, "", map[string]string{"GITHUB_REPOSITORY": "octo/repo"}, "policy", "--web-identity", "github",
		"--role-arn", "arn:aws:iam::111111111111:role/ci", "--hop", "0", "--document", "trust")
	if code != 0 || !strings.Contains(stdout, `"token.actions.githubusercontent.com:sub": "repo:octo/repo:*"`) {
		t.Fatalf("exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
	code, _, stderr = run(t, "", nil, "policy", "--web-identity", "github", "--role-arn", "arn:aws:iam::111111111111:role/ci",
		"--caller-arn", "arn:aws:iam::111111111111:user/ci")
	if code != 2 || !strings.Contains(stderr, "--caller-arn does not apply") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
