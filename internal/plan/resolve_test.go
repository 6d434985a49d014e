package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/winetest"
)

const (
	roleDev   = "arn:aws:iam::111111111111:role/dev"
	roleProd  = "arn:aws:iam::222222222222:role/prod"
	roleAudit = "arn:aws:iam::222222222222:role/audit"
)

// baseConfig is shared by most cases: base (keys) → dev → prod.
const baseConfig = `[profile dev]
role_arn = arn:aws:iam::111111111111:role/dev
source_profile = base

[profile prod]
role_arn = arn:aws:iam::222222222222:role/prod
source_profile = dev
external_id = ext-123
duration_seconds = 7200

[profile env-role]
role_arn = arn:aws:iam::222222222222:role/prod
credential_source = Environment

[profile ecs-role]
role_arn = arn:aws:iam::222222222222:role/prod
credential_source = EcsContainer

[profile imds-role]
role_arn = arn:aws:iam::222222222222:role/prod
credential_source = Ec2InstanceMetadata

[profile proc]
credential_process = /bin/creds --json

[profile proc-role]
role_arn = arn:aws:iam::222222222222:role/prod
source_profile = proc

[profile tagged]
role_arn = arn:aws:iam::222222222222:role/prod
source_profile = base
session_tags = team=core, env=dev
transitive_session_tags = team
policy_arns = arn:aws:iam::aws:policy/ReadOnlyAccess
source_identity = alice
mfa_serial = arn:aws:iam::111111111111:mfa/ci-user
role_session_name = given name
region = eu-west-1

[profile webid]
role_arn = arn:aws:iam::222222222222:role/prod
web_identity_token_file = /var/run/token
role_session_name = wi
`

const baseCredentials = `[base]
aws_access_key_id = AKIABASEKEY000000001
aws_secret_access_key = basesecret
`

type env map[string]string

func (e env) get(k string) string { return e[k] }

func load(t *testing.T, config, credentials string) *awsconfig.Config {
	t.Helper()
	dir := winetest.TempDir(t)
	cp, kp := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	if err := os.WriteFile(cp, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kp, []byte(credentials), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := awsconfig.Load(cp, kp)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func resolve(t *testing.T, cfg *awsconfig.Config, e env, req Request) (*Plan, error) {
	t.Helper()
	req.Config = cfg
	req.Getenv = e.get
	if req.LocalUser == "" {
		req.LocalUser = "alice"
	}
	req.ReadFile = os.ReadFile
	return Resolve(req)
}

func roles(p *Plan) []string {
	var out []string
	for _, h := range p.Hops {
		out = append(out, h.RoleARN.Value)
	}
	return out
}

func TestResolveChains(t *testing.T) {
	cfg := load(t, baseConfig, baseCredentials)
	envKeys := env{"AWS_ACCESS_KEY_ID": "AKIAENVKEY0000000001", "AWS_SECRET_ACCESS_KEY": "envsecret"}
	container := env{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://localhost:1338/latest/meta-data/container/security-credentials", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "tok"}
	tests := []struct {
		name       string
		env        env
		req        Request
		source     SourceKind
		sourceProf string
		roles      []string
		check      func(t *testing.T, p *Plan)
	}{
		{name: "two hops by argument", req: Request{Profile: "prod", ProfileFrom: "argument"},
			source: SourceStatic, sourceProf: "base", roles: []string{roleDev, roleProd},
			check: func(t *testing.T, p *Plan) {
				if p.Hops[1].ExternalID.Value != "ext-123" || !strings.Contains(p.Hops[1].ExternalID.From, "config:") {
					t.Errorf("external id = %+v, want ext-123 from the config file", p.Hops[1].ExternalID)
				}
				if !p.Hops[1].Chained || p.Hops[0].Chained {
					t.Errorf("chained flags = %v,%v, want false,true", p.Hops[0].Chained, p.Hops[1].Chained)
				}
			}},
		{name: "AWS_PROFILE with env keys still assumes the role (seed 004)", env: merge(envKeys, env{"AWS_PROFILE": "prod"}),
			source: SourceStatic, sourceProf: "base", roles: []string{roleDev, roleProd},
			check: func(t *testing.T, p *Plan) { wantNote(t, p, "would silently use the keys") }},
		{name: "AWS_DEFAULT_PROFILE", env: env{"AWS_DEFAULT_PROFILE": "dev"}, source: SourceStatic, roles: []string{roleDev}},
		{name: "AWS_PROFILE wins over AWS_DEFAULT_PROFILE", env: env{"AWS_PROFILE": "dev", "AWS_DEFAULT_PROFILE": "prod"}, source: SourceStatic, roles: []string{roleDev},
			check: func(t *testing.T, p *Plan) { wantNote(t, p, "AWS_DEFAULT_PROFILE") }},
		{name: "argument wins over AWS_PROFILE", env: env{"AWS_PROFILE": "prod"}, req: Request{Profile: "dev", ProfileFrom: "argument"}, source: SourceStatic, roles: []string{roleDev}},
		{name: "credential_source Environment", env: merge(envKeys, env{"AWS_PROFILE": "env-role"}), source: SourceEnv, roles: []string{roleProd}},
		{name: "credential_source EcsContainer", env: container, req: Request{Profile: "ecs-role"}, source: SourceContainer, roles: []string{roleProd},
			check: func(t *testing.T, p *Plan) {
				if p.Source.ContainerToken.Reveal() != "tok" || !strings.HasPrefix(p.Source.ContainerURL, "http://localhost:1338/") {
					t.Errorf("container source = %+v", p.Source)
				}
			}},
		{name: "credential_source Ec2InstanceMetadata", req: Request{Profile: "imds-role"}, source: SourceIMDS, roles: []string{roleProd}},
		{name: "credential_process as source profile", req: Request{Profile: "proc-role"}, source: SourceProcess, roles: []string{roleProd},
			check: func(t *testing.T, p *Plan) {
				if p.Source.Command != "/bin/creds --json" {
					t.Errorf("command = %q", p.Source.Command)
				}
			}},
		{name: "AWS_ROLE_ARN from env keys (arar)", env: merge(envKeys, env{"AWS_ROLE_ARN": roleProd, "AWS_ROLE_SESSION_NAME": "ci-run"}), source: SourceEnv, roles: []string{roleProd},
			check: func(t *testing.T, p *Plan) { wantSession(t, p, 0, "ci-run", "env AWS_ROLE_SESSION_NAME") }},
		{name: "env keys come before web identity, as in the SDKs", env: merge(envKeys, env{"AWS_ROLE_ARN": roleProd, "AWS_WEB_IDENTITY_TOKEN_FILE": "/tok"}), source: SourceEnv, roles: []string{roleProd}},
		{name: "web identity from the environment", env: env{"AWS_ROLE_ARN": roleProd, "AWS_WEB_IDENTITY_TOKEN_FILE": "/tok", "AWS_ROLE_SESSION_NAME": "ci"}, source: SourceWebIdent, roles: nil,
			check: func(t *testing.T, p *Plan) {
				if p.Source.WebIdentityRole.Value != roleProd || p.Source.WebIdentityTokenFile.Value != "/tok" || p.Source.WebIdentitySessionName.Value != "ci" {
					t.Errorf("source = %+v", p.Source)
				}
			}},
		{name: "web identity then a chained hop", env: env{"AWS_ROLE_ARN": roleDev, "AWS_WEB_IDENTITY_TOKEN_FILE": "/tok"}, req: Request{RoleARNs: []string{roleProd}, Flags: HopFlags{DurationSeconds: "7200"}}, source: SourceWebIdent, roles: []string{roleProd},
			check: func(t *testing.T, p *Plan) {
				if p.Hops[0].DurationSeconds != 3600 {
					t.Errorf("a hop after web identity is role chaining: duration %d", p.Hops[0].DurationSeconds)
				}
			}},
		{name: "web_identity_token_file in a profile", req: Request{Profile: "webid"}, source: SourceWebIdent, roles: nil,
			check: func(t *testing.T, p *Plan) {
				if p.Source.WebIdentitySessionName.Value != "wi" || !strings.Contains(p.Source.WebIdentityTokenFile.From, "config:") {
					t.Errorf("source = %+v", p.Source)
				}
			}},
		{name: "--web-identity github takes the first --role-arn", env: env{"ACTIONS_ID_TOKEN_REQUEST_URL": "http://x", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t", "GITHUB_RUN_ID": "42"},
			req: Request{WebIdentity: "github", RoleARNs: []string{roleDev, roleProd}}, source: SourceWebIdent, roles: []string{roleProd},
			check: func(t *testing.T, p *Plan) {
				if p.Source.WebIdentityRole.Value != roleDev || p.Source.WebIdentityTokenFile.Value != GitHubOIDC || p.Source.WebIdentitySessionName.Value != "gh-42" {
					t.Errorf("source = %+v", p.Source)
				}
			}},
		{name: "--web-identity github described outside GitHub Actions (policy)", req: Request{WebIdentity: "github", RoleARNs: []string{roleDev}, Describe: true}, source: SourceWebIdent, roles: nil,
			check: func(t *testing.T, p *Plan) {
				if p.Source.WebIdentityRole.Value != roleDev || p.Source.WebIdentityTokenFile.Value != GitHubOIDC {
					t.Errorf("source = %+v", p.Source)
				}
			}},
		{name: "--web-identity github outranks AWS_PROFILE", env: env{"AWS_PROFILE": "dev", "ACTIONS_ID_TOKEN_REQUEST_URL": "http://x", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t"},
			req: Request{WebIdentity: "github", RoleARNs: []string{roleProd}}, source: SourceWebIdent, roles: nil,
			check: func(t *testing.T, p *Plan) {
				if p.Profile.IsSet() || p.Source.WebIdentityRole.Value != roleProd || !strings.Contains(strings.Join(p.Notes, "\n"), `profile "dev" named by the environment`) {
					t.Errorf("profile %+v, source %+v, notes %q", p.Profile, p.Source, p.Notes)
				}
			}},
		{name: "--web-identity github: --role-session-name names the token's session when it is the only role", env: env{"ACTIONS_ID_TOKEN_REQUEST_URL": "http://x", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t", "GITHUB_RUN_ID": "7"},
			req: Request{WebIdentity: "github", RoleARNs: []string{roleProd}, Flags: HopFlags{RoleSessionName: "deploy"}}, source: SourceWebIdent, roles: nil,
			check: func(t *testing.T, p *Plan) {
				if s := p.Source.WebIdentitySessionName; s.Value != "deploy" || s.From != "--role-session-name" {
					t.Errorf("session = %+v", s)
				}
			}},
		{name: "--role-arn hops after a profile", req: Request{Profile: "dev", RoleARNs: []string{roleProd, roleAudit}}, source: SourceStatic, roles: []string{roleDev, roleProd, roleAudit}},
		{name: "ad hoc role from the container endpoint (CloudShell)", env: container, req: Request{RoleARNs: []string{roleProd}}, source: SourceContainer, roles: []string{roleProd}},
		{name: "ad hoc role falls back to instance metadata", req: Request{RoleARNs: []string{roleProd}}, source: SourceIMDS, roles: []string{roleProd},
			check: func(t *testing.T, p *Plan) {
				if len(p.Source.Tried) != 4 {
					t.Errorf("tried = %q, want env, web identity, default profile, container", p.Source.Tried)
				}
			}},
		{name: "ad hoc role env keys win over the container", env: merge(envKeys, container), req: Request{RoleARNs: []string{roleProd}}, source: SourceEnv, roles: []string{roleProd}},
		{name: "profile keys in the config file", req: Request{Profile: "tagged"}, source: SourceStatic, roles: []string{roleProd},
			check: func(t *testing.T, p *Plan) {
				h := p.Hops[0]
				if len(h.Tags) != 2 || h.Tags[1] != (Tag{"env", "dev"}) || len(h.TransitiveTagKeys) != 1 || h.SourceIdentity.Value != "alice" ||
					len(h.PolicyARNs) != 1 || h.SerialNumber.Value == "" {
					t.Errorf("hop = %+v", h)
				}
				wantSession(t, p, 0, "given-name", "config:")
				wantWarning(t, p, "not valid for STS")
				if p.Region.Value != "eu-west-1" || p.STSRegion != "eu-west-1" {
					t.Errorf("region = %+v / %s", p.Region, p.STSRegion)
				}
			}},
		{name: "flags override the last hop only", req: Request{Profile: "prod", Flags: HopFlags{RoleSessionName: "bob", DurationSeconds: "1800", ExternalID: "flag-ext"}},
			source: SourceStatic, roles: []string{roleDev, roleProd},
			check: func(t *testing.T, p *Plan) {
				wantSession(t, p, 1, "bob", "--role-session-name")
				if p.Hops[1].ExternalID.Value != "flag-ext" || p.Hops[0].ExternalID.IsSet() || p.Hops[1].DurationSeconds != 1800 {
					t.Errorf("hops = %+v", p.Hops)
				}
			}},
		{name: "chained hop over 3600 is capped with a warning", req: Request{Profile: "prod"}, source: SourceStatic, roles: []string{roleDev, roleProd},
			check: func(t *testing.T, p *Plan) {
				if p.Hops[1].DurationSeconds != 3600 || p.Hops[1].RequestedDuration != 7200 {
					t.Errorf("hop 2 duration = %d (asked %d)", p.Hops[1].DurationSeconds, p.Hops[1].RequestedDuration)
				}
				wantWarning(t, p, "capped to 3600s")
			}},
		{name: "first hop from long-term keys keeps 12 hours", req: Request{Profile: "dev", Flags: HopFlags{DurationSeconds: "43200"}}, source: SourceStatic, roles: []string{roleDev},
			check: func(t *testing.T, p *Plan) {
				if p.Hops[0].DurationSeconds != 43200 || len(p.Warnings) != 0 {
					t.Errorf("duration = %d, warnings %q", p.Hops[0].DurationSeconds, p.Warnings)
				}
			}},
		{name: "default session name names the local user and carries through the chain", req: Request{Profile: "prod"}, source: SourceStatic, roles: []string{roleDev, roleProd},
			check: func(t *testing.T, p *Plan) {
				wantSession(t, p, 0, "rolehop-alice", "default")
				wantSession(t, p, 1, "rolehop-alice", "carried from hop 1")
			}},
		{name: "-u reads the caller at run time and carries", req: Request{Profile: "prod", UsernameSession: true}, source: SourceStatic, roles: []string{roleDev, roleProd},
			check: func(t *testing.T, p *Plan) {
				if !p.Hops[0].SessionNameFromCaller || !p.Hops[1].SessionNameFromCaller {
					t.Errorf("from caller = %v,%v", p.Hops[0].SessionNameFromCaller, p.Hops[1].SessionNameFromCaller)
				}
			}},
		{name: "AWS_ROLE_SESSION_NAME beats -u", env: merge(envKeys, env{"AWS_ROLE_ARN": roleProd, "AWS_ROLE_SESSION_NAME": "envname"}), req: Request{UsernameSession: true}, source: SourceEnv, roles: []string{roleProd},
			check: func(t *testing.T, p *Plan) {
				wantSession(t, p, 0, "envname", "env AWS_ROLE_SESSION_NAME")
				if p.Hops[0].SessionNameFromCaller {
					t.Error("session name from caller despite AWS_ROLE_SESSION_NAME")
				}
			}},
		{name: "region precedence: flag > AWS_REGION > AWS_DEFAULT_REGION > profile", env: env{"AWS_REGION": "ap-northeast-1", "AWS_DEFAULT_REGION": "us-west-2"}, req: Request{Profile: "tagged"}, source: SourceStatic, roles: []string{roleProd},
			check: func(t *testing.T, p *Plan) {
				if p.Region != (Setting{"ap-northeast-1", "env AWS_REGION"}) {
					t.Errorf("region = %+v", p.Region)
				}
			}},
		{name: "STS endpoint from AWS_ENDPOINT_URL_STS", env: env{"AWS_ENDPOINT_URL": "http://a", "AWS_ENDPOINT_URL_STS": "http://b"}, req: Request{Profile: "dev"}, source: SourceStatic, roles: []string{roleDev},
			check: func(t *testing.T, p *Plan) {
				if p.STSEndpoint.Value != "http://b" {
					t.Errorf("endpoint = %+v", p.STSEndpoint)
				}
			}},
		{name: "policy from file:// is compacted", req: Request{Profile: "dev", Flags: HopFlags{Policy: "file://" + writeTemp(t, "{\n  \"Version\": \"2012-10-17\"\n}\n")}}, source: SourceStatic, roles: []string{roleDev},
			check: func(t *testing.T, p *Plan) {
				if p.Hops[0].Policy.Value != `{"Version":"2012-10-17"}` {
					t.Errorf("policy = %q", p.Hops[0].Policy.Value)
				}
			}},
		{name: "no profile, env keys only: no hop", env: envKeys, source: SourceEnv, roles: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := resolve(t, cfg, tc.env, tc.req)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if p.Source.Kind != tc.source {
				t.Errorf("source = %s (%s), want %s", p.Source.Kind, p.Source.From, tc.source)
			}
			if tc.sourceProf != "" && p.Source.Profile != tc.sourceProf {
				t.Errorf("source profile = %q, want %q", p.Source.Profile, tc.sourceProf)
			}
			if got := strings.Join(roles(p), " "); got != strings.Join(tc.roles, " ") {
				t.Errorf("roles = %s, want %s", got, strings.Join(tc.roles, " "))
			}
			if tc.check != nil {
				tc.check(t, p)
			}
			// explain must never show a secret.
			var text, js bytes.Buffer
			if err := p.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := p.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"basesecret", "envsecret", "AKIABASEKEY000000001", "AKIAENVKEY0000000001", `"tok"`} {
				if strings.Contains(text.String()+js.String(), secret) {
					t.Errorf("explain output contains %q", secret)
				}
			}
			if !json.Valid(js.Bytes()) {
				t.Errorf("WriteJSON is not JSON: %s", js.String())
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	config := baseConfig + `
[profile loop-a]
role_arn = arn:aws:iam::111111111111:role/a
source_profile = loop-b

[profile loop-b]
role_arn = arn:aws:iam::111111111111:role/b
source_profile = loop-a

[profile self-no-keys]
role_arn = arn:aws:iam::111111111111:role/a
source_profile = self-no-keys

[profile missing-src]
role_arn = arn:aws:iam::111111111111:role/a
source_profile = bsae

[profile both]
role_arn = arn:aws:iam::111111111111:role/a
source_profile = base
credential_source = Environment

[profile badsource]
role_arn = arn:aws:iam::111111111111:role/a
credential_source = environment

[profile badarn]
role_arn = arn:aws:iam::111111111111:user/a
source_profile = base

[profile nocreds]
region = us-east-1

[profile orphan-role]
role_arn = arn:aws:iam::111111111111:role/a
`
	cfg := load(t, config, baseCredentials+"[partial]\naws_access_key_id = AKIAPARTIAL\n")
	tests := []struct {
		name string
		env  env
		req  Request
		want []string // fragments of the one-line message
		noCr bool     // NoCredentialsError instead of *Error
	}{
		{name: "unknown profile suggests", req: Request{Profile: "prodd"}, want: []string{`profile "prodd" not found`, `did you mean "prod"`}},
		{name: "unknown profile from AWS_PROFILE", env: env{"AWS_PROFILE": "nope"}, want: []string{"from env AWS_PROFILE", "not found"}},
		{name: "source_profile cycle", req: Request{Profile: "loop-a"}, want: []string{"cycle", "loop-a → loop-b → loop-a", "config:"}},
		{name: "self reference without keys", req: Request{Profile: "self-no-keys"}, want: []string{"names the profile itself"}},
		{name: "missing source profile", req: Request{Profile: "missing-src"}, want: []string{`source_profile "bsae"`, "does not exist", `did you mean "base"`, "config:"}},
		{name: "source_profile and credential_source", req: Request{Profile: "both"}, want: []string{"both source_profile", "keep only one"}},
		{name: "unknown credential_source", req: Request{Profile: "badsource"}, want: []string{`unknown credential_source "environment"`, `did you mean "Environment"`}},
		{name: "Environment without keys", req: Request{Profile: "env-role"}, want: []string{"credential_source = Environment", "AWS_ACCESS_KEY_ID"}},
		{name: "EcsContainer without endpoint", req: Request{Profile: "ecs-role"}, want: []string{"EcsContainer", "AWS_CONTAINER_CREDENTIALS_FULL_URI"}},
		{name: "container full URI to a remote http host", env: env{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://example.com/creds"}, req: Request{Profile: "ecs-role"}, want: []string{"plain http is only allowed"}},
		{name: "invalid role ARN", req: Request{Profile: "badarn"}, want: []string{"invalid role ARN", ":user/a"}},
		{name: "invalid --role-arn", req: Request{Profile: "dev", RoleARNs: []string{"prod"}}, want: []string{`invalid role ARN "prod"`, "--role-arn"}},
		{name: "profile without credentials", req: Request{Profile: "nocreds"}, want: []string{`"nocreds"`, "has no credentials"}},
		{name: "role without a source", req: Request{Profile: "orphan-role"}, want: []string{"no source of credentials", "source_profile"}},
		{name: "partial keys", req: Request{Profile: "partial"}, want: []string{"partial credentials", "aws_secret_access_key is missing"}},
		{name: "duration too short", req: Request{Profile: "dev", Flags: HopFlags{DurationSeconds: "100"}}, want: []string{`duration "100"`, "900 to 43200"}},
		{name: "duration not a number", req: Request{Profile: "dev", Flags: HopFlags{DurationSeconds: "1h"}}, want: []string{`duration "1h"`}},
		{name: "token code not 6 digits", req: Request{Profile: "tagged", Flags: HopFlags{TokenCode: "12345"}}, want: []string{"exactly 6 digits"}},
		{name: "token code without serial", req: Request{Profile: "dev", Flags: HopFlags{TokenCode: "123456"}}, want: []string{"needs an MFA device"}},
		{name: "session name that cannot be made valid", req: Request{Profile: "dev", Flags: HopFlags{RoleSessionName: "日本"}}, want: []string{"cannot be made valid"}},
		{name: "hop flag without a role", env: env{"AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s"}, req: Request{Flags: HopFlags{ExternalID: "x1"}}, want: []string{"--external-id needs a role"}},
		{name: "policy not JSON", req: Request{Profile: "dev", Flags: HopFlags{Policy: "{nope"}}, want: []string{"not valid JSON"}},
		{name: "bad tag", req: Request{Profile: "dev", Flags: HopFlags{Tags: "novalue"}}, want: []string{`session tag "novalue"`}},
		{name: "transitive key not a tag", req: Request{Profile: "dev", Flags: HopFlags{Tags: "a=b", TransitiveTagKeys: []string{"c"}}}, want: []string{`transitive tag key "c"`}},
		{name: "bad policy arn", req: Request{Profile: "dev", Flags: HopFlags{PolicyARNs: []string{"ReadOnlyAccess"}}}, want: []string{"invalid policy ARN"}},
		{name: "source identity with aws: prefix", req: Request{Profile: "dev", Flags: HopFlags{SourceIdentity: "aws:me"}}, want: []string{"source identity"}},
		{name: "env key without secret", env: env{"AWS_ACCESS_KEY_ID": "AKIA1"}, req: Request{RoleARNs: []string{roleProd}}, want: []string{"AWS_SECRET_ACCESS_KEY is not"}},
		{name: "--web-identity github with a profile argument", env: env{"ACTIONS_ID_TOKEN_REQUEST_URL": "http://x", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t"}, req: Request{WebIdentity: "github", Profile: "dev", ProfileFrom: "argument", RoleARNs: []string{roleProd}}, want: []string{"does not combine with profile \"dev\"", "drop one"}},
		{name: "--web-identity github: a hop flag without a hop", env: env{"ACTIONS_ID_TOKEN_REQUEST_URL": "http://x", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t"}, req: Request{WebIdentity: "github", RoleARNs: []string{roleProd}, Flags: HopFlags{DurationSeconds: "900"}}, want: []string{"--duration-seconds needs an AssumeRole hop", "only --role-session-name"}},
		{name: "--web-identity github outside GitHub Actions", req: Request{WebIdentity: "github", RoleARNs: []string{roleProd}}, want: []string{"ACTIONS_ID_TOKEN_REQUEST_URL", "id-token: write"}},
		{name: "--web-identity github without a role", env: env{"ACTIONS_ID_TOKEN_REQUEST_URL": "http://x", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t"}, req: Request{WebIdentity: "github"}, want: []string{"needs the role"}},
		{name: "unknown --web-identity", req: Request{WebIdentity: "gitlab"}, want: []string{`"github"`}},
		{name: "token file without a role", env: env{"AWS_WEB_IDENTITY_TOKEN_FILE": "/tok"}, want: []string{"AWS_ROLE_ARN is not"}},
		{name: "no credentials anywhere", env: env{"AWS_EC2_METADATA_DISABLED": "true"}, req: Request{RoleARNs: []string{roleProd}}, noCr: true,
			want: []string{"no AWS credentials found", "environment", "default profile", "container endpoint", "disabled by AWS_EC2_METADATA_DISABLED"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := resolve(t, cfg, tc.env, tc.req)
			if err == nil {
				t.Fatal("Resolve succeeded, want an error")
			}
			var nc *NoCredentialsError
			if tc.noCr != errors.As(err, &nc) || tc.noCr == IsError(err) {
				t.Errorf("error type %T, want NoCredentialsError=%v", err, tc.noCr)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message has several lines: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "basesecret") {
				t.Errorf("message leaks a secret: %q", msg)
			}
		})
	}
}

func TestSanitizeSessionName(t *testing.T) {
	for in, want := range map[string]string{
		"alice":                   "alice",
		"alice smith":             "alice-smith",
		"a@b.example.com":         "a@b.example.com",
		"user/with:colon":         "user-with-colon",
		strings.Repeat("x", 70):   strings.Repeat("x", 64),
		"ab":                      "ab",
		"é-dupont":                "--dupont",
		"CI_runner+1=2,3":         "CI_runner+1=2,3",
		"rolehop-DOMAIN\\jdoe":    "rolehop-DOMAIN-jdoe",
		"name\twith\nwhitespace ": "name-with-whitespace-",
	} {
		got, err := SanitizeSessionName(in)
		if err != nil || got != want {
			t.Errorf("SanitizeSessionName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "a", "日本", "  "} {
		if got, err := SanitizeSessionName(bad); err == nil {
			t.Errorf("SanitizeSessionName(%q) = %q, want an error", bad, got)
		}
	}
}

func TestContainerURL(t *testing.T) {
	ok := map[[2]string]string{
		{"/v2/credentials/x", "http://evil.example/"}: "http://169.254.170.2/v2/credentials/x",
		{"", "http://127.0.0.1:8080/c"}:               "http://127.0.0.1:8080/c",
		{"", "http://[::1]:8080/c"}:                   "http://[::1]:8080/c",
		{"", "http://localhost:1338/latest"}:          "http://localhost:1338/latest",
		{"", "http://169.254.170.23/v1/credentials"}:  "http://169.254.170.23/v1/credentials",
		{"", "https://creds.example.com/x"}:           "https://creds.example.com/x",
		{"", ""}:                                      "",
		// aws-sdk-go-v2 config/resolve_credentials.go isIPAllowed; botocore
		// utils.py ContainerMetadataFetcher._ALLOWED_HOSTS.
		{"", "http://169.254.170.2/v2/credentials/x"}: "http://169.254.170.2/v2/credentials/x",
		{"", "http://[fd00:ec2::23]/v1/credentials"}:  "http://[fd00:ec2::23]/v1/credentials",
		{"", "http://[FD00:EC2:0::23]:80/c"}:          "http://[FD00:EC2:0::23]:80/c",
		{"", "http://127.0.0.2:1338/c"}:               "http://127.0.0.2:1338/c",
		{"", "http://LOCALHOST:1338/c"}:               "http://LOCALHOST:1338/c",
		{"", "https://10.0.0.1/c"}:                    "https://10.0.0.1/c",
	}
	for in, want := range ok {
		got, err := ContainerURL(in[0], in[1])
		if err != nil || got != want {
			t.Errorf("ContainerURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"http://10.0.0.1/c", "http://example.com/c", "ftp://localhost/c", "::nope",
		"http://169.254.170.3/c", "http://[fd00:ec2::24]/c", "http://[fd00:ec2::254]/c", "http://169.254.169.254/c", "http://0.0.0.0/c",
		"http://localhost.example.com/c", "http://127.0.0.1.nip.io/c", "http://:8080/c", "http://[::1/c"} {
		_, err := ContainerURL("", bad)
		if !IsError(err) {
			t.Errorf("ContainerURL(%q) = %v, want a usage error", bad, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "AWS_CONTAINER_CREDENTIALS_FULL_URI") || !strings.Contains(msg, "169.254.170.23") || strings.Contains(msg, "\n") {
			t.Errorf("ContainerURL(%q) error %q does not name the variable and the accepted hosts on one line", bad, msg)
		}
	}
	if _, err := ContainerURL("v2/credentials/x", ""); !IsError(err) || !strings.Contains(err.Error(), `must start with "/"`) {
		t.Errorf("relative URI without a slash: %v", err)
	}
}

func merge(envs ...env) env {
	out := env{}
	for _, e := range envs {
		for k, v := range e {
			out[k] = v
		}
	}
	return out
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(winetest.TempDir(t), "policy.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func wantSession(t *testing.T, p *Plan, i int, name, from string) {
	t.Helper()
	got := p.Hops[i].SessionName
	if got.Value != name || !strings.Contains(got.From, from) {
		t.Errorf("hop %d session name = %+v, want %q from %q", i+1, got, name, from)
	}
}

func wantNote(t *testing.T, p *Plan, fragment string) {
	t.Helper()
	for _, n := range p.Notes {
		if strings.Contains(n, fragment) {
			return
		}
	}
	t.Errorf("no note contains %q: %q", fragment, p.Notes)
}

func wantWarning(t *testing.T, p *Plan, fragment string) {
	t.Helper()
	for _, n := range p.Warnings {
		if strings.Contains(n, fragment) {
			return
		}
	}
	t.Errorf("no warning contains %q: %q", fragment, p.Warnings)
}
