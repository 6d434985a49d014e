package doctor

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/plan"
)

const (
	devRole   = "arn:aws:iam::111111111111:role/dev"
	prodRole  = "arn:aws:iam::222222222222:role/prod"
	chainMsg  = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
	maxDurMsg = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
)

func TestDoctorSuccess(t *testing.T) {
	_, srv := newFakeAWS(t)
	rep := diagnose(t, srv, testPlan(srv, devRole, prodRole))
	if !rep.OK || rep.FailedStep != "" || len(rep.Steps) != 3 {
		t.Fatalf("report: %s", dumpReport(rep))
	}
	want := []string{userARN, "arn:aws:sts::111111111111:assumed-role/dev/laptop", "arn:aws:sts::222222222222:assumed-role/prod/laptop"}
	for i, st := range rep.Steps {
		if st.Status != StatusOK || st.Identity == nil || st.Identity.ARN != want[i] {
			t.Errorf("step %d: %s %+v, want ok %s", i, st.Status, st.Identity, want[i])
		}
	}
	if rep.Steps[0].Expiration != nil || rep.Steps[1].Expiration == nil {
		t.Errorf("expirations: source %v, hop 1 %v", rep.Steps[0].Expiration, rep.Steps[1].Expiration)
	}
	if rep.ClockSkewSeconds == nil || *rep.ClockSkewSeconds > 2 || *rep.ClockSkewSeconds < -2 {
		t.Errorf("clock skew %v, want about 0", rep.ClockSkewSeconds)
	}
}

func TestDoctorClassifiesFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *fakeAWS, p *plan.Plan)
		roles []string
		step  string // the failed step
		code  string
		want  []string // fragments of problem + fix
	}{
		{name: "source expired", roles: []string{devRole}, step: "source", code: CodeExpired,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.failNext("GetCallerIdentity", -1, 400, "ExpiredToken", "The security token included in the request is expired")
			},
			want: []string{"expired", "refresh"}},
		{name: "source key deleted", roles: []string{devRole}, step: "source", code: CodeInvalidKey,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.failNext("GetCallerIdentity", -1, 403, "InvalidClientTokenId", "The security token included in the request is invalid.")
			},
			want: []string{"does not know", "deleted", "create a new access key"}},
		{name: "moto auth-layer format", roles: []string{devRole}, step: "source", code: CodeInvalidKey,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.failNext("GetCallerIdentity", -1, 403, "InvalidClientTokenId", "The security token included in the request is invalid.").moto = true
			},
			want: []string{"deleted"}},
		{name: "wrong secret", roles: []string{devRole}, step: "source", code: CodeWrongSecret,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.failNext("GetCallerIdentity", -1, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
			},
			want: []string{"secret access key"}},
		{name: "signature expired", roles: []string{devRole}, step: "source", code: CodeClockSkew,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.failNext("GetCallerIdentity", -1, 403, "SignatureDoesNotMatch", "Signature expired: 20240102T030000Z is now earlier than 20240102T031000Z (20240102T031500Z - 5 min.)")
			},
			want: []string{"15m0s behind", "from the times in STS's error message", "timedatectl"}},
		{name: "signature not yet current", roles: []string{devRole}, step: "hop 1", code: CodeClockSkew,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.failNext("AssumeRole", -1, 403, "SignatureDoesNotMatch", "Signature not yet current: 20240102T033000Z is still later than 20240102T032000Z (20240102T031500Z + 5 min.)")
			},
			want: []string{"15m0s ahead"}},
		{name: "request expired, clock fine", roles: []string{devRole}, step: "source", code: CodeClockSkew,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.failNext("GetCallerIdentity", -1, 400, "RequestExpired", "Request has expired.")
			},
			want: []string{"refused the request's time (RequestExpired)", "delayed", "run again"}},
		{name: "external id missing", roles: []string{devRole}, step: "hop 1", code: CodeTrustPolicy,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.trust = `{"Version":"2012-10-17","Statement":[{"Sid":"Vendor","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"abc"}}}]}`
				f.failNext("AssumeRole", -1, 403, "AccessDenied", "User: "+userARN+" is not authorized to perform: sts:AssumeRole on resource: "+devRole)
			},
			want: []string{`statement 1 (Sid "Vendor")`, "sts:ExternalId", "sends no external id", "external_id = abc", `profile "prod", next to role_arn at ~/.aws/config:3`}},
		{name: "MFA required", roles: []string{devRole}, step: "hop 1", code: CodeTrustPolicy,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`
				f.failNext("AssumeRole", -1, 403, "AccessDenied", "denied")
			},
			want: []string{"aws:MultiFactorAuthPresent", "mfa_serial = arn:aws:iam::111111111111:mfa/ci-user"}},
		{name: "session name must be the user name", roles: []string{devRole}, step: "hop 1", code: CodeTrustPolicy,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:RoleSessionName":"${aws:username}"}}}]}`
				f.failNext("AssumeRole", -1, 403, "AccessDenied", "denied")
			},
			want: []string{`(= "ci-user")`, `sends "laptop"`, "-u (--username-session)"}},
		{name: "other principal", roles: []string{devRole}, step: "hop 1", code: CodeTrustPolicy,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"sts:AssumeRole"}]}`
				f.failNext("AssumeRole", -1, 403, "AccessDenied", "denied")
			},
			want: []string{"trusts arn:aws:iam::111111111111:user/alice, not the caller " + userARN, `add "` + userARN + `" to its Principal`}},
		{name: "explicit deny", roles: []string{devRole}, step: "hop 1", code: CodeTrustPolicyDeny,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole"},{"Sid":"NoCI","Effect":"Deny","Principal":{"AWS":"` + userARN + `"},"Action":"sts:*"}]}`
				f.failNext("AssumeRole", -1, 403, "AccessDenied", "denied")
			},
			want: []string{"a Deny statement", `Deny statement 2 (Sid "NoCI")`}},
		{name: "condition rolehop cannot check", roles: []string{devRole}, step: "hop 1", code: CodeTrustPolicyMaybe,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}]}`
				f.failNext("AssumeRole", -1, 403, "AccessDenied", "denied")
			},
			want: []string{"cannot check", "aws:PrincipalOrgID", "if those hold, allow sts:AssumeRole"}},
		{name: "MFA session refused", roles: []string{devRole}, step: "hop 1", code: CodeMFA,
			setup: func(f *fakeAWS, p *plan.Plan) {
				p.Hops[0].SerialNumber = plan.Setting{Value: "arn:aws:iam::111111111111:mfa/ci-user", From: "~/.aws/config:4"}
				p.Hops[0].TokenCode = "123456"
				p.Hops[0].MFA = plan.MFAPath{Via: plan.MFAViaSession}
				p.MFASessionSeconds = 43200
				f.failNext("GetSessionToken", -1, 403, "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.")
			},
			want: []string{"GetSessionToken with MFA device arn:aws:iam::111111111111:mfa/ci-user was refused", "~/.aws/config:4", "fresh code"}},
		{name: "trust allows, caller lacks permission", roles: []string{devRole}, step: "hop 1", code: CodeCallerPermission,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.failNext("AssumeRole", -1, 403, "AccessDenied", "denied")
			},
			want: []string{"allows " + userARN, "statement 1", "sts:AssumeRole", "SCP", "rolehop policy prod --hop 1 --document permission"}},
		{name: "GetRole denied", roles: []string{devRole}, step: "hop 1", code: CodeAccessDenied,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.failNext("AssumeRole", -1, 403, "AccessDenied", "denied")
				f.failNext("GetRole", -1, 403, "AccessDenied", "User is not authorized to perform: iam:GetRole")
			},
			want: []string{"cannot read the role's trust policy", "iam:GetRole: AccessDenied", "sends no external id", "no mfa_serial", `"laptop"`}},
		{name: "role in another account", roles: []string{prodRole}, step: "hop 1", code: CodeAccessDenied,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.failNext("AssumeRole", -1, 403, "AccessDenied", "denied")
			},
			want: []string{"in account 222222222222", "cannot be read", "CloudTrail"}},
		{name: "role does not exist", roles: []string{devRole}, step: "hop 1", code: CodeRoleNotFound,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.failNext("AssumeRole", -1, 403, "AccessDenied", "denied")
				f.failNext("GetRole", -1, 404, "NoSuchEntity", "The role with name dev cannot be found.")
			},
			want: []string{"does not exist", "~/.aws/config:3"}},
		{name: "duration over the role's maximum", roles: []string{devRole}, step: "hop 1", code: CodeDurationOverMax,
			setup: func(f *fakeAWS, p *plan.Plan) {
				p.Hops[0].DurationSeconds, p.Hops[0].DurationFrom = 14400, "~/.aws/config:5"
				f.maxSession = 7200
				f.failNext("AssumeRole", -1, 400, "ValidationError", maxDurMsg)
			},
			want: []string{"14400 s", "~/.aws/config:5", "at most 7200 s", "duration_seconds = 7200"}},
		{name: "chaining cap", roles: []string{devRole, prodRole}, step: "hop 2", code: CodeChainingCap,
			setup: func(f *fakeAWS, p *plan.Plan) {
				p.Hops[1].DurationSeconds = 7200
				f.failNext("AssumeRole", -1, 400, "ValidationError", chainMsg).skip = 1 // hop 1 works
			},
			want: []string{"role chaining", "assumed-role/dev/laptop", "duration_seconds = 3600"}},
		{name: "region disabled", roles: []string{devRole}, step: "hop 1", code: CodeRegionDisabled,
			setup: func(f *fakeAWS, p *plan.Plan) {
				p.STSRegion = "ap-east-1"
				f.failNext("AssumeRole", -1, 403, "RegionDisabledException", "STS is not activated in this region for account:111111111111. Your account administrator can activate STS in this region using the IAM Console.")
			},
			want: []string{"not activated in region ap-east-1 for account 111111111111", "Account settings", "--region"}},
		{name: "throttled", roles: []string{devRole}, step: "hop 1", code: CodeThrottled,
			setup: func(f *fakeAWS, _ *plan.Plan) {
				f.failNext("AssumeRole", -1, 400, "Throttling", "Rate exceeded")
			},
			want: []string{"throttled"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, srv := newFakeAWS(t)
			p := testPlan(srv, tc.roles...)
			if tc.setup != nil {
				tc.setup(f, p)
			}
			rep := diagnose(t, srv, p)
			assertFinding(t, rep, tc.step, tc.code, tc.want...)
		})
	}
}

func TestDoctorUnreachable(t *testing.T) {
	t.Parallel()
	_, srv := newFakeAWS(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	p := testPlan(srv, devRole)
	p.STSEndpoint.Value = closed
	rep := diagnose(t, srv, p)
	assertFinding(t, rep, "source", CodeUnreachable, "cannot reach STS at "+closed)
}

func TestDoctorClockSkewWarning(t *testing.T) {
	f, srv := newFakeAWS(t)
	f.dateOffset = -12 * time.Minute
	rep := diagnose(t, srv, testPlan(srv, devRole))
	if !rep.OK {
		t.Fatalf("want ok: %s", dumpReport(rep))
	}
	if rep.ClockSkewSeconds == nil || *rep.ClockSkewSeconds > -710 || *rep.ClockSkewSeconds < -730 {
		t.Errorf("clock skew %v, want about -720", rep.ClockSkewSeconds)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Code != CodeClockSkew || rep.Findings[0].Severity != SeverityWarning ||
		!strings.Contains(rep.Findings[0].Problem, "12m0s ahead") {
		t.Errorf("findings: %s", dumpReport(rep))
	}
}

func TestDoctorNoCredentials(t *testing.T) {
	rep := NoCredentials(&plan.NoCredentialsError{Tried: []string{"environment", "profile \"default\""}}, "")
	assertFinding(t, rep, "source", CodeNoCredentials, "tried environment; profile \"default\"|tried environment profile", "AWS_ACCESS_KEY_ID")
}

// assertFinding checks the report failed at step with a finding of code
// whose problem and fix hold every fragment ("a|b": either), that later
// steps were skipped, and that no secret appears.
func assertFinding(t *testing.T, rep *Report, step, code string, fragments ...string) {
	t.Helper()
	js := dumpReport(rep)
	if rep.OK || rep.FailedStep != step {
		t.Fatalf("failed step %q (ok %v), want %q:\n%s", rep.FailedStep, rep.OK, step, js)
	}
	var f *Finding
	after := false
	for _, st := range rep.Steps {
		if after && st.Status != StatusSkipped {
			t.Errorf("%s after the failed step is %s, want skipped", st.Name, st.Status)
		}
		if st.Name == step {
			after = true
			for i := range st.Findings {
				if st.Findings[i].Code == code {
					f = &st.Findings[i]
				}
			}
		}
	}
	if f == nil {
		t.Fatalf("no %s finding at %s:\n%s", code, step, js)
	}
	text := f.Problem + "\n" + f.Fix
	for _, frag := range fragments {
		ok := false
		for _, alt := range strings.Split(frag, "|") {
			ok = ok || strings.Contains(text, alt)
		}
		if !ok {
			t.Errorf("finding does not mention %q:\n%s", frag, text)
		}
	}
	for _, secret := range []string{srcSecret, "session-secret", "session-token"} {
		if strings.Contains(js, secret) {
			t.Errorf("report leaks %q", secret)
		}
	}
}

func dumpReport(rep *Report) string {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Sprint(err)
	}
	return string(b)
}
