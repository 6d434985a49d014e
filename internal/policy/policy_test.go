package policy

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/rolehop/rolehop/internal/plan"
)

const (
	roleA = "arn:aws:iam::222222222222:role/a"
	roleB = "arn:aws:iam::333333333333:role/path/b"
	user  = "arn:aws:iam::111111111111:user/ci-user"
)

func hop(arn string, mod ...func(*plan.Hop)) plan.Hop {
	h := plan.Hop{RoleARN: plan.Setting{Value: arn, From: "--role-arn"}, DurationSeconds: 3600}
	for _, m := range mod {
		m(&h)
	}
	return h
}

func set(v string) plan.Setting { return plan.Setting{Value: v, From: "test"} }

func keys(hops ...plan.Hop) *plan.Plan {
	return &plan.Plan{Source: plan.Source{Kind: plan.SourceEnv, AccessKeyID: "AKIAEXAMPLE000000001"}, Hops: hops}
}

type want struct {
	hop        int
	trust      string // compact JSON
	permission string // compact JSON; "" means none
	target     string // substring of permission_target
	note       string // substring of one note
}

func TestRules(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want []want
	}{
		{
			name: "IAM user caller, plain hop",
			in:   Input{Plan: keys(hop(roleA)), CallerARN: user},
			want: []want{{1,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopHop1","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/ci-user"},"Action":"sts:AssumeRole"}]}`,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopAssumeHop1","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::222222222222:role/a"}]}`,
				"IAM user ci-user in account 111111111111", "not part of this output"}},
		},
		{
			name: "assumed-role caller becomes the role, path unknown; aws-cn partition kept",
			in:   Input{Plan: keys(hop("arn:aws-cn:iam::222222222222:role/a")), CallerARN: "arn:aws-cn:sts::111111111111:assumed-role/builder/i-0abc"},
			want: []want{{1,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopHop1","Effect":"Allow","Principal":{"AWS":"arn:aws-cn:iam::111111111111:role/builder"},"Action":"sts:AssumeRole"}]}`,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopAssumeHop1","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws-cn:iam::222222222222:role/a"}]}`,
				"IAM role builder in account 111111111111", "does not show the role's path"}},
		},
		{
			name: "account root: principal as is, no permission policy",
			in:   Input{Plan: keys(hop(roleA)), CallerARN: "arn:aws-us-gov:iam::111111111111:root"},
			want: []want{{1,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopHop1","Effect":"Allow","Principal":{"AWS":"arn:aws-us-gov:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`,
				"", "none: the account root user", "root keys are a risk"}},
		},
		{
			name: "MFA, external id, -u with a user caller",
			in: Input{Plan: keys(hop(roleA, func(h *plan.Hop) {
				h.SerialNumber, h.ExternalID, h.SessionNameFromCaller = set("arn:aws:iam::111111111111:mfa/me"), set("ext-1"), true
			})), CallerARN: user},
			want: []want{{1,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopHop1","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/ci-user"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"},"StringEquals":{"sts:ExternalId":"ext-1","sts:RoleSessionName":"${aws:username}"}}}]}`,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopAssumeHop1","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::222222222222:role/a"}]}`,
				"IAM user", ""}},
		},
		{
			name: "-u with a role caller: a note, no condition",
			in:   Input{Plan: keys(hop(roleA, func(h *plan.Hop) { h.SessionNameFromCaller = true })), CallerARN: "arn:aws:iam::111111111111:role/ci"},
			want: []want{{1,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopHop1","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/ci"},"Action":"sts:AssumeRole"}]}`,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopAssumeHop1","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::222222222222:role/a"}]}`,
				"IAM role ci", "${aws:username} does not exist"}},
		},
		{
			name: "source identity on hop 1 persists: hop 2's trust needs sts:SetSourceIdentity, its caller does not",
			in:   Input{Plan: keys(hop(roleA, func(h *plan.Hop) { h.SourceIdentity = set("alice") }), hop(roleB)), CallerARN: user},
			want: []want{{1,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopHop1","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/ci-user"},"Action":["sts:AssumeRole","sts:SetSourceIdentity"],"Condition":{"StringEquals":{"sts:SourceIdentity":"alice"}}}]}`,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopAssumeHop1","Effect":"Allow","Action":["sts:AssumeRole","sts:SetSourceIdentity"],"Resource":"arn:aws:iam::222222222222:role/a"}]}`,
				"", ""}, {2,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopHop2","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/a"},"Action":["sts:AssumeRole","sts:SetSourceIdentity"]}]}`,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopAssumeHop2","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::333333333333:role/path/b"}]}`,
				"IAM role a in account 222222222222", "create arn:aws:iam::222222222222:role/a before this role"}},
		},
		{
			name: "transitive tags on hop 1: hop 2's trust needs sts:TagSession",
			in: Input{Plan: keys(hop(roleA, func(h *plan.Hop) {
				h.Tags, h.TransitiveTagKeys = []plan.Tag{{Key: "team", Value: "core"}, {Key: "env", Value: "dev"}}, []string{"team"}
			}), hop(roleB)), CallerARN: user},
			want: []want{{1,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopHop1","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/ci-user"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:RequestTag/env":"dev","aws:RequestTag/team":"core"}}}]}`,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopAssumeHop1","Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession"],"Resource":"arn:aws:iam::222222222222:role/a"}]}`,
				"", ""}, {2,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopHop2","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/a"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopAssumeHop2","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::333333333333:role/path/b"}]}`,
				"", ""}},
		},
		{
			name: "tags that are not transitive: hop 2 plain",
			in:   Input{Plan: keys(hop(roleA, func(h *plan.Hop) { h.Tags = []plan.Tag{{Key: "k", Value: "v"}} }), hop(roleB)), CallerARN: user},
			want: []want{{2,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopHop2","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/a"},"Action":"sts:AssumeRole"}]}`,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopAssumeHop2","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::333333333333:role/path/b"}]}`,
				"", ""}},
		},
		{
			name: "IAM Identity Center: the account root narrowed by aws:PrincipalArn; the permission set holds the permission",
			in: Input{Plan: &plan.Plan{Source: plan.Source{Kind: plan.SourceSSO, SSO: &plan.SSO{AccountID: "111111111111", RoleName: "Admin"}},
				Hops: []plan.Hop{hop(roleA, func(h *plan.Hop) { h.Chained = true })}}},
			want: []want{{1,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopHop1","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Admin_*"}}}]}`,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopAssumeHop1","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::222222222222:role/a"}]}`,
				"permission set Admin", "AWSReservedSSO_Admin_<hash>"}},
		},
		{
			name: "a long first hop needs a longer MaxSessionDuration",
			in:   Input{Plan: keys(hop(roleA, func(h *plan.Hop) { h.DurationSeconds = 43200 })), CallerARN: user},
			want: []want{{1,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopHop1","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/ci-user"},"Action":"sts:AssumeRole"}]}`,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopAssumeHop1","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::222222222222:role/a"}]}`,
				"", "asks for 43200 s"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Generate(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				checkStep(t, r, w)
			}
		})
	}
}

func checkStep(t *testing.T, r *Result, w want) {
	t.Helper()
	st, ok := r.Find(w.hop)
	if !ok {
		t.Fatalf("no hop %d in %v", w.hop, r.Hops())
	}
	if got := st.TrustPolicy.Compact(); got != w.trust {
		t.Errorf("hop %d trust\n got %s\nwant %s", w.hop, got, w.trust)
	}
	switch {
	case w.permission == "" && st.PermissionPolicy != nil:
		t.Errorf("hop %d: unexpected permission policy %s", w.hop, st.PermissionPolicy.Compact())
	case w.permission != "" && st.PermissionPolicy == nil:
		t.Errorf("hop %d: no permission policy, want %s", w.hop, w.permission)
	case w.permission != "" && st.PermissionPolicy.Compact() != w.permission:
		t.Errorf("hop %d permission\n got %s\nwant %s", w.hop, st.PermissionPolicy.Compact(), w.permission)
	}
	if !strings.Contains(st.PermissionTarget, w.target) {
		t.Errorf("hop %d permission_target %q, want it to mention %q", w.hop, st.PermissionTarget, w.target)
	}
	if w.note != "" && !strings.Contains(strings.Join(st.Notes, "\n"), w.note) {
		t.Errorf("hop %d notes %q, want one mentioning %q", w.hop, st.Notes, w.note)
	}
}

func jwt(payload string) []byte {
	enc := base64.RawURLEncoding.EncodeToString
	return []byte(enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(payload)) + ".c2lnbmF0dXJl\n")
}

func webIdent(tokenFile string, hops ...plan.Hop) *plan.Plan {
	return &plan.Plan{Source: plan.Source{Kind: plan.SourceWebIdent, WebIdentityRole: set("arn:aws:iam::111111111111:role/ci"),
		WebIdentityTokenFile: set(tokenFile)}, Hops: hops}
}

func TestWebIdentity(t *testing.T) {
	const ghTrust = `{"Version":"2012-10-17","Statement":[{"Sid":"RolehopWebIdentity","Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},"StringLike":{"token.actions.githubusercontent.com:sub":"SUB"}}}]}`
	tests := []struct {
		name string
		in   Input
		want []want
	}{
		{
			name: "GitHub with GITHUB_REPOSITORY; the web identity role calls hop 1",
			in:   Input{Plan: webIdent(plan.GitHubOIDC, hop(roleA)), GitHubRepository: "octo/repo"},
			want: []want{{0, strings.Replace(ghTrust, "SUB", "repo:octo/repo:*", 1), "", "none: AssumeRoleWithWebIdentity is not signed", "narrow it"}, {1,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopHop1","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/ci"},"Action":"sts:AssumeRole"}]}`,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopAssumeHop1","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::222222222222:role/a"}]}`,
				"IAM role ci in account 111111111111", "create arn:aws:iam::111111111111:role/ci before this role"}},
		},
		{
			name: "GitHub without GITHUB_REPOSITORY: a placeholder to edit",
			in:   Input{Plan: webIdent(plan.GitHubOIDC)},
			want: []want{{0, strings.Replace(ghTrust, "SUB", "repo:OWNER/REPO:*", 1), "", "", "edit repo:OWNER/REPO:*"}},
		},
		{
			name: "token file: iss, aud (a list) and sub from the JWT, wildcards in sub escaped",
			in:   Input{Plan: webIdent("/var/run/token"), Token: jwt(`{"iss":"https://oidc.example.com/tenant/","aud":["a1","a2"],"sub":"system:serviceaccount:ns:*"}`)},
			want: []want{{0,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopWebIdentity","Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111111111111:oidc-provider/oidc.example.com/tenant"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.example.com/tenant:aud":["a1","a2"]},"StringLike":{"oidc.example.com/tenant:sub":"system:serviceaccount:ns:${*}"}}}]}`,
				"", "", "read from the token in /var/run/token"}},
		},
		{
			name: "token file that is not a JWT: placeholders and a note",
			in:   Input{Plan: webIdent("/var/run/token"), Token: []byte("not-a-jwt-secret-value")},
			want: []want{{0,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopWebIdentity","Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111111111111:oidc-provider/OIDC_ISSUER"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"OIDC_ISSUER:aud":"AUDIENCE"},"StringLike":{"OIDC_ISSUER:sub":"SUBJECT"}}}]}`,
				"", "", "is not a JWT"}},
		},
		{
			name: "unreadable token file",
			in:   Input{Plan: webIdent("/nope"), TokenError: "no such file"},
			want: []want{{0,
				`{"Version":"2012-10-17","Statement":[{"Sid":"RolehopWebIdentity","Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111111111111:oidc-provider/OIDC_ISSUER"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"OIDC_ISSUER:aud":"AUDIENCE"},"StringLike":{"OIDC_ISSUER:sub":"SUBJECT"}}}]}`,
				"", "", "could not be read (no such file)"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Generate(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				checkStep(t, r, w)
			}
			if s := string(JSON(r)); strings.Contains(s, "secret-value") || strings.Contains(s, "c2lnbmF0dXJl") {
				t.Errorf("the output holds the token: %s", s)
			}
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		in   Input
		want string
	}{
		{Input{Plan: keys()}, "there is no role to write a policy for"},
		{Input{Plan: keys(hop(roleA))}, "pass --caller-arn"},
		{Input{Plan: keys(hop(roleA)), CallerARN: "arn:aws:sts::111111111111:federated-user/bob"}, "cannot call sts:AssumeRole"},
		{Input{Plan: keys(hop(roleA)), CallerARN: "arn:aws:s3:::bucket"}, "not an IAM ARN"},
		{Input{Plan: keys(hop(roleA)), CallerARN: "arn:aws:iam::111111111111:group/devs"}, "not an IAM user, role"},
		{Input{Plan: keys(hop(roleA)), CallerARN: "arn:aws:sts::111111111111:assumed-role/only"}, "assumed-role/ROLE/SESSION"},
	}
	for _, tc := range tests {
		_, err := Generate(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Generate(caller %q): %v, want one line mentioning %q", tc.in.CallerARN, err, tc.want)
		}
	}
}

func TestParseCaller(t *testing.T) {
	tests := []struct{ arn, kind, principal, name, path string }{
		{"arn:aws:iam::111111111111:user/ci-user", "user", "arn:aws:iam::111111111111:user/ci-user", "ci-user", "/"},
		{"arn:aws:iam::111111111111:user/division/team/bob", "user", "arn:aws:iam::111111111111:user/division/team/bob", "bob", "/division/team/"},
		{"arn:aws:iam::111111111111:role/svc/deploy", "role", "arn:aws:iam::111111111111:role/svc/deploy", "deploy", "/svc/"},
		{"arn:aws:sts::111111111111:assumed-role/deploy/session@x", "role", "arn:aws:iam::111111111111:role/deploy", "deploy", "/"},
		{"arn:aws:iam::111111111111:root", "root", "arn:aws:iam::111111111111:root", "", ""},
	}
	for _, tc := range tests {
		c, err := ParseCaller(tc.arn)
		if err != nil || string(c.Kind) != tc.kind || c.ARN != tc.principal || c.Name != tc.name || c.Path != tc.path || c.Account != "111111111111" {
			t.Errorf("ParseCaller(%q) = %+v, %v", tc.arn, c, err)
		}
	}
}
