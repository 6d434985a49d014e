package policy

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/winetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// scenario is a chain resolved by plan.Resolve from config files, as the
// CLI does, and the caller it starts from.
type scenario struct {
	name        string
	config      string
	credentials string
	req         plan.Request
	env         map[string]string
	in          Input
}

var scenarios = []scenario{
	{
		// Three hops across two accounts: MFA and -u on hop 1 (an IAM user
		// caller), external id and source identity on hop 2 (a role with a
		// path), a session tag on hop 3.
		name: "chain",
		config: `[profile dev]
role_arn = arn:aws:iam::111111111111:role/dev
source_profile = base
mfa_serial = arn:aws:iam::111111111111:mfa/ci-user

[profile ops]
role_arn = arn:aws:iam::222222222222:role/teams/ops
source_profile = dev
external_id = ext-123
source_identity = alice

[profile prod]
role_arn = arn:aws:iam::222222222222:role/prod
source_profile = ops
session_tags = Project=blue
`,
		credentials: "[base]\naws_access_key_id = AKIAEXAMPLEKEY000001\naws_secret_access_key = not-a-real-secret\n",
		req:         plan.Request{Profile: "prod", ProfileFrom: "argument", UsernameSession: true},
		in:          Input{CallerARN: "arn:aws:iam::111111111111:user/ci-user"},
	},
	{
		name: "sso",
		config: `[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1

[profile role-a]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = RoleA

[profile role-b]
role_arn = arn:aws:iam::222222222222:role/RoleB
source_profile = role-a
`,
		req: plan.Request{Profile: "role-b", ProfileFrom: "argument"},
	},
	{
		name: "github",
		req: plan.Request{WebIdentity: "github", RoleARNs: []string{
			"arn:aws:iam::111111111111:role/ci/github", "arn:aws:iam::222222222222:role/deploy",
		}},
		env: map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.example/", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "x"},
		in:  Input{GitHubRepository: "octo-org/octo-repo"},
	},
}

// resolve builds the scenario's plan with plan.Resolve.
func (s scenario) resolve(t *testing.T) *plan.Plan {
	t.Helper()
	dir := winetest.TempDir(t)
	cfgPath, credPath := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	if err := os.WriteFile(cfgPath, []byte(s.config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(credPath, []byte(s.credentials), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := awsconfig.Load(cfgPath, credPath)
	if err != nil {
		t.Fatal(err)
	}
	req := s.req
	req.Config, req.LocalUser = cfg, "tester"
	req.Getenv = func(k string) string { return s.env[k] }
	p, err := plan.Resolve(req)
	if err != nil {
		t.Fatalf("%s: resolve: %v", s.name, err)
	}
	return p
}

func (s scenario) generate(t *testing.T) *Result {
	t.Helper()
	in := s.in
	in.Plan = s.resolve(t)
	r, err := Generate(in)
	if err != nil {
		t.Fatalf("%s: Generate: %v", s.name, err)
	}
	return r
}

// formats are the golden outputs of a result.
func formats(t *testing.T, r *Result) map[string][]byte {
	t.Helper()
	cfn, err := CloudFormation(r, "")
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{".json": JSON(r), ".cloudformation.yaml": cfn, ".tf": Terraform(r)}
}

func TestGolden(t *testing.T) {
	for _, s := range scenarios {
		for ext, got := range formats(t, s.generate(t)) {
			path := filepath.Join("testdata", s.name+ext)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/policy -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file (go test ./internal/policy -update rewrites it):\n%s", path, got)
			}
		}
	}
}
