package iampolicy

import (
	"strings"
	"testing"
	"time"
)

const (
	acct     = "111111111111"
	userARN  = "arn:aws:iam::111111111111:user/ci-user"
	roleARN  = "arn:aws:iam::111111111111:role/team/dev"
	sessARN  = "arn:aws:sts::111111111111:assumed-role/dev/alice"
	otherARN = "arn:aws:iam::222222222222:user/bob"
)

func userCall() AssumeRole {
	return AssumeRole{
		Caller:      Caller{ARN: userARN, Account: acct, UserID: "AIDAEXAMPLEUSERID01"},
		MFA:         KeyValue{State: KeyAbsent, Why: "long-term access keys without an MFA code carry no MFA"},
		SessionName: "ci-user",
	}
}

func sessionCall() AssumeRole {
	return AssumeRole{
		Caller:      Caller{ARN: sessARN, RoleARN: roleARN, Account: acct, UserID: "AROAEXAMPLEROLEID01:alice"},
		MFA:         KeyValue{State: KeyPresent, Values: []string{"false"}},
		SessionName: "alice",
	}
}

func policy(statements string) string {
	return `{"Version":"2012-10-17","Statement":[` + statements + `]}`
}

func allow(principal, condition string) string {
	s := `{"Effect":"Allow","Principal":` + principal + `,"Action":"sts:AssumeRole"`
	if condition != "" {
		s += `,"Condition":` + condition
	}
	return s + "}"
}

func TestExplain(t *testing.T) {
	withMFA := userCall()
	withMFA.MFA = KeyValue{State: KeyPresent, Values: []string{"true"}}
	withExt := userCall()
	withExt.ExternalID = "abc"
	wrongExt := userCall()
	wrongExt.ExternalID = "xyz"
	unknownMFA := userCall()
	unknownMFA.MFA = KeyValue{State: KeyUnknown, Why: "a container source may or may not carry MFA"}
	tagged := userCall()
	tagged.Tags = []Tag{{"team", "blue"}, {"env", "prod"}}
	withSI := userCall()
	withSI.SourceIdentity = "alice"
	unknownName := userCall()
	unknownName.SessionName = ""
	noRoleARN := sessionCall()
	noRoleARN.Caller.RoleARN = ""

	for _, tc := range []struct {
		name   string
		doc    string
		call   AssumeRole
		want   Decision
		reason []string // fragments of the failure reasons, all statements
	}{
		{"star principal", policy(allow(`"*"`, "")), userCall(), Allowed, nil},
		{"AWS star", policy(allow(`{"AWS":"*"}`, "")), userCall(), Allowed, nil},
		{"account id", policy(allow(`{"AWS":"111111111111"}`, "")), userCall(), Allowed, nil},
		{"account root", policy(allow(`{"AWS":"arn:aws:iam::111111111111:root"}`, "")), userCall(), Allowed, nil},
		{"other account root", policy(allow(`{"AWS":"arn:aws:iam::222222222222:root"}`, "")), userCall(), ImplicitDeny,
			[]string{"trusts arn:aws:iam::222222222222:root, not the caller " + userARN}},
		{"user ARN exact", policy(allow(`{"AWS":"`+userARN+`"}`, "")), userCall(), Allowed, nil},
		{"other user", policy(allow(`{"AWS":["`+otherARN+`"]}`, "")), userCall(), ImplicitDeny, []string{otherARN}},
		{"role ARN matches its sessions", policy(allow(`{"AWS":"`+roleARN+`"}`, "")), sessionCall(), Allowed, nil},
		{"role ARN by name when path unknown", policy(allow(`{"AWS":"`+roleARN+`"}`, "")), noRoleARN, Allowed, nil},
		{"role ARN without path matches a session of the role with a path", policy(allow(`{"AWS":"arn:aws:iam::111111111111:role/dev"}`, "")), sessionCall(), Allowed, nil},
		{"role of another account", policy(allow(`{"AWS":"arn:aws:iam::222222222222:role/dev"}`, "")), sessionCall(), ImplicitDeny, nil},
		{"empty principal", policy(allow(`{"AWS":[]}`, "")), userCall(), ImplicitDeny, []string{"lists nobody"}},
		{"role ARN does not match a user", policy(allow(`{"AWS":"`+roleARN+`"}`, "")), userCall(), ImplicitDeny, []string{roleARN}},
		{"session ARN exact", policy(allow(`{"AWS":"`+sessARN+`"}`, "")), sessionCall(), Allowed, nil},
		{"other session name", policy(allow(`{"AWS":"arn:aws:sts::111111111111:assumed-role/dev/bob"}`, "")), sessionCall(), ImplicitDeny, nil},
		{"service principal", policy(allow(`{"Service":"ec2.amazonaws.com"}`, "")), userCall(), ImplicitDeny,
			[]string{"service ec2.amazonaws.com", "not an IAM user or role"}},
		{"federated principal", policy(allow(`{"Federated":"arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"}`, "")), userCall(), ImplicitDeny,
			[]string{"federated"}},
		{"deleted principal shows as unique id", policy(allow(`{"AWS":"AIDAOLDDELETEDUSER12"}`, "")), userCall(), ImplicitDeny, []string{"deleted user or role"}},
		{"unique id of the caller", policy(allow(`{"AWS":"AIDAEXAMPLEUSERID01"}`, "")), userCall(), Allowed, nil},

		{"MFA required, none", policy(allow(`{"AWS":"111111111111"}`, `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`)), userCall(), ImplicitDeny,
			[]string{"aws:MultiFactorAuthPresent", `wants "true"`, "carry no MFA"}},
		{"MFA required, bare boolean", policy(allow(`{"AWS":"111111111111"}`, `{"Bool":{"aws:MultiFactorAuthPresent":true}}`)), withMFA, Allowed, nil},
		{"MFA required, session without", policy(allow(`{"AWS":"111111111111"}`, `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`)), sessionCall(), ImplicitDeny,
			[]string{`sends "false"`}},
		{"MFA unknown", policy(allow(`{"AWS":"111111111111"}`, `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`)), unknownMFA, CannotTell,
			[]string{"cannot tell", "container"}},
		{"BoolIfExists false deny hits long-term keys", policy(allow(`"*"`, "") + `,{"Effect":"Deny","Principal":"*","Action":"sts:*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}`),
			userCall(), ExplicitDeny, nil},
		{"NumericLessThan MFA age absent", policy(allow(`"*"`, `{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}`)), userCall(), ImplicitDeny, nil},

		{"external id missing", policy(allow(`{"AWS":"111111111111"}`, `{"StringEquals":{"sts:ExternalId":"abc"}}`)), userCall(), ImplicitDeny,
			[]string{"sts:ExternalId", `wants "abc"`, "sends no external id"}},
		{"external id right", policy(allow(`{"AWS":"111111111111"}`, `{"StringEquals":{"sts:ExternalId":"abc"}}`)), withExt, Allowed, nil},
		{"external id wrong", policy(allow(`{"AWS":"111111111111"}`, `{"StringEquals":{"sts:ExternalId":["abc","def"]}}`)), wrongExt, ImplicitDeny,
			[]string{`one of ["abc", "def"]`, `sends "xyz"`}},
		{"StringEquals is case-sensitive", policy(allow(`"*"`, `{"StringEquals":{"sts:ExternalId":"ABC"}}`)), withExt, ImplicitDeny, nil},
		{"StringEqualsIgnoreCase", policy(allow(`"*"`, `{"StringEqualsIgnoreCase":{"sts:ExternalId":"ABC"}}`)), withExt, Allowed, nil},
		{"StringNotEqualsIgnoreCase", policy(allow(`"*"`, `{"StringNotEqualsIgnoreCase":{"sts:ExternalId":"ABC"}}`)), withExt, ImplicitDeny, []string{"excludes"}},
		{"StringNotEquals absent key holds", policy(allow(`"*"`, `{"StringNotEquals":{"sts:ExternalId":"abc"}}`)), userCall(), Allowed, nil},
		{"StringEqualsIfExists absent holds", policy(allow(`"*"`, `{"StringEqualsIfExists":{"sts:ExternalId":"abc"}}`)), userCall(), Allowed, nil},
		{"StringEqualsIfExists present checked", policy(allow(`"*"`, `{"StringEqualsIfExists":{"sts:ExternalId":"abc"}}`)), wrongExt, ImplicitDeny, nil},
		{"StringLike wildcards", policy(allow(`"*"`, `{"StringLike":{"sts:ExternalId":"a?c*"}}`)), withExt, Allowed, nil},
		{"StringNotLike", policy(allow(`"*"`, `{"StringNotLike":{"sts:ExternalId":"x*"}}`)), wrongExt, ImplicitDeny, nil},
		{"Null true on absent", policy(allow(`"*"`, `{"Null":{"sts:ExternalId":"true"}}`)), userCall(), Allowed, nil},
		{"Null false on absent", policy(allow(`"*"`, `{"Null":{"sts:ExternalId":"false"}}`)), userCall(), ImplicitDeny, []string{"to be present"}},

		{"session name = username", policy(allow(`{"AWS":"111111111111"}`, `{"StringEquals":{"sts:RoleSessionName":"${aws:username}"}}`)), userCall(), Allowed, nil},
		{"session name != username", policy(allow(`{"AWS":"111111111111"}`, `{"StringEquals":{"sts:RoleSessionName":"${aws:username}"}}`)), sessionOf(userCall(), "laptop"), ImplicitDeny,
			[]string{"sts:RoleSessionName", "${aws:username}", `sends "laptop"`}},
		{"session name unknown", policy(allow(`"*"`, `{"StringEquals":{"sts:RoleSessionName":"${aws:username}"}}`)), unknownName, CannotTell, nil},
		{"username absent for a role session", policy(allow(`"*"`, `{"StringEquals":{"sts:RoleSessionName":"${aws:username}"}}`)), sessionCall(), ImplicitDeny, nil},
		{"variable default", policy(allow(`"*"`, `{"StringEquals":{"sts:RoleSessionName":"${aws:username, 'alice'}"}}`)), sessionCall(), Allowed, nil},
		{"variables are literal in the 2008 version", `{"Version":"2008-10-17","Statement":[` + allow(`"*"`, `{"StringEquals":{"sts:RoleSessionName":"${aws:username}"}}`) + `]}`, userCall(), ImplicitDeny, nil},
		{"escaped star is literal", policy(allow(`"*"`, `{"StringLike":{"sts:RoleSessionName":"ci${*}"}}`)), userCall(), ImplicitDeny, nil},
		{"escaped star matches a star", policy(allow(`"*"`, `{"StringLike":{"sts:RoleSessionName":"ci${*}*"}}`)), sessionOf(userCall(), "ci*x"), Allowed, nil},

		{"PrincipalArn ArnLike", policy(allow(`"*"`, `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/team/*"}}`)), sessionCall(), Allowed, nil},
		{"PrincipalArn ArnEquals wildcard", policy(allow(`"*"`, `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::*:user/ci-*"}}`)), userCall(), Allowed, nil},
		{"PrincipalArn ArnNotLike", policy(allow(`"*"`, `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:user/*"}}`)), userCall(), ImplicitDeny, nil},
		{"PrincipalArn unknown role path", policy(allow(`"*"`, `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/team/*"}}`)), noRoleARN, CannotTell, nil},
		{"PrincipalAccount", policy(allow(`"*"`, `{"StringEquals":{"aws:PrincipalAccount":"222222222222"}}`)), userCall(), ImplicitDeny, nil},
		{"unknown key", policy(allow(`"*"`, `{"StringEquals":{"aws:PrincipalOrgID":"o-123"}}`)), userCall(), CannotTell, []string{"aws:PrincipalOrgID"}},
		{"unsupported operator", policy(allow(`"*"`, `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`)), userCall(), CannotTell, []string{"IpAddress"}},

		{"source identity needs SetSourceIdentity", policy(allow(`"*"`, "")), withSI, ImplicitDeny, []string{"does not cover sts:SetSourceIdentity"}},
		{"source identity allowed", policy(`{"Effect":"Allow","Principal":"*","Action":["sts:AssumeRole","sts:SetSourceIdentity"],"Condition":{"StringLike":{"sts:SourceIdentity":"a*"}}}`), withSI, Allowed, nil},
		{"source identity required", policy(allow(`"*"`, `{"StringLike":{"sts:SourceIdentity":"*"}}`)), userCall(), ImplicitDeny, []string{"sets no source identity"}},
		{"tags need TagSession", policy(allow(`"*"`, "")), tagged, ImplicitDeny, []string{"sts:TagSession"}},
		{"sts wildcard covers TagSession", policy(`{"Effect":"Allow","Principal":"*","Action":"sts:*"}`), tagged, Allowed, nil},
		{"Assume* does not cover TagSession", policy(`{"Effect":"Allow","Principal":"*","Action":"sts:Assume*"}`), tagged, ImplicitDeny, nil},
		{"star action, any case", policy(`{"Effect":"Allow","Principal":"*","Action":"STS:assumerole"}`), userCall(), Allowed, nil},
		{"NotAction", policy(`{"Effect":"Allow","Principal":"*","NotAction":"sts:TagSession"}`), tagged, ImplicitDeny, []string{"NotAction"}},
		{"RequestTag", policy(`{"Effect":"Allow","Principal":"*","Action":"sts:*","Condition":{"StringEquals":{"aws:RequestTag/team":"blue"}}}`), tagged, Allowed, nil},
		{"RequestTag absent", policy(`{"Effect":"Allow","Principal":"*","Action":"sts:*","Condition":{"StringEquals":{"aws:RequestTag/cost":"1"}}}`), tagged, ImplicitDeny, []string{"no session tag cost"}},
		{"TagKeys ForAllValues", policy(`{"Effect":"Allow","Principal":"*","Action":"sts:*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}}`), tagged, Allowed, nil},
		{"TagKeys ForAllValues extra key", policy(`{"Effect":"Allow","Principal":"*","Action":"sts:*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}}`), tagged, ImplicitDeny, nil},
		{"TagKeys ForAllValues vacuous", policy(`{"Effect":"Allow","Principal":"*","Action":"sts:*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}}`), userCall(), Allowed, nil},
		{"TagKeys ForAnyValue", policy(`{"Effect":"Allow","Principal":"*","Action":"sts:*","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":"e*"}}}`), tagged, Allowed, nil},
		{"TagKeys ForAnyValue absent", policy(`{"Effect":"Allow","Principal":"*","Action":"sts:*","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":"e*"}}}`), userCall(), ImplicitDeny, nil},
		{"multivalued without set operator", policy(`{"Effect":"Allow","Principal":"*","Action":"sts:*","Condition":{"StringEquals":{"aws:TagKeys":"team"}}}`), tagged, CannotTell, nil},
		{"numeric", policy(allow(`"*"`, `{"NumericGreaterThan":{"aws:EpochTime":"1000"}}`)), withTime(userCall()), Allowed, nil},
		{"date", policy(allow(`"*"`, `{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`)), withTime(userCall()), ImplicitDeny, nil},

		{"explicit deny wins", policy(allow(`"*"`, "") + `,{"Effect":"Deny","Principal":{"AWS":"` + userARN + `"},"Action":"sts:AssumeRole"}`), userCall(), ExplicitDeny, nil},
		{"deny that cannot be told", policy(allow(`"*"`, "") + `,{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"}}}`), userCall(), CannotTell, nil},
		{"NotPrincipal deny excludes the user with its account", policy(allow(`"*"`, "") + `,{"Effect":"Deny","NotPrincipal":{"AWS":["` + userARN + `","111111111111"]},"Action":"sts:AssumeRole"}`), userCall(), Allowed, nil},
		{"NotPrincipal deny without the account", policy(allow(`"*"`, "") + `,{"Effect":"Deny","NotPrincipal":{"AWS":["` + userARN + `"]},"Action":"sts:AssumeRole"}`), userCall(), ExplicitDeny, nil},
		{"NotPrincipal session needs role and session", policy(allow(`"*"`, "") + `,{"Effect":"Deny","NotPrincipal":{"AWS":["` + sessARN + `","arn:aws:iam::111111111111:root"]},"Action":"sts:AssumeRole"}`), sessionCall(), ExplicitDeny, nil},
		{"NotPrincipal session fully listed", policy(allow(`"*"`, "") + `,{"Effect":"Deny","NotPrincipal":{"AWS":["` + sessARN + `","` + roleARN + `","arn:aws:iam::111111111111:root"]},"Action":"sts:AssumeRole"}`), sessionCall(), Allowed, nil},
		{"single statement object", `{"Version":"2012-10-17","Statement":` + allow(`"*"`, "") + `}`, userCall(), Allowed, nil},
		{"no statements", `{"Version":"2012-10-17","Statement":[]}`, userCall(), ImplicitDeny, nil},
		{"several conditions all must hold", policy(allow(`"*"`, `{"StringEquals":{"sts:ExternalId":"abc"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}`)), withExt, ImplicitDeny, []string{"MultiFactorAuthPresent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			ex := Explain(d, tc.call.Request())
			if ex.Decision != tc.want {
				t.Errorf("decision %s, want %s\n%s", ex.Decision, tc.want, dump(ex))
			}
			var all []string
			for _, a := range ex.Actions {
				for _, s := range a.Statements {
					all = append(all, s.Failures()...)
				}
			}
			text := strings.Join(all, "\n")
			for _, f := range tc.reason {
				if !strings.Contains(text, f) {
					t.Errorf("reasons do not mention %q:\n%s", f, text)
				}
			}
		})
	}
}

func sessionOf(a AssumeRole, name string) AssumeRole {
	a.SessionName = name
	return a
}

func withTime(a AssumeRole) AssumeRole {
	a.Now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return a
}

func dump(ex Explanation) string {
	var b strings.Builder
	for _, a := range ex.Actions {
		b.WriteString(a.Action + ": " + string(a.Decision) + "\n")
		for _, s := range a.Statements {
			b.WriteString("  " + s.Name() + " applies=" + s.Applies.String() + ": " + strings.Join(s.Failures(), "; ") + "\n")
		}
	}
	return b.String()
}

func TestViaAccount(t *testing.T) {
	for _, tc := range []struct {
		principal string
		via       bool
	}{
		{`{"AWS":"111111111111"}`, true},
		{`{"AWS":"arn:aws:iam::111111111111:root"}`, true},
		{`"*"`, true},
		{`{"AWS":["111111111111","` + userARN + `"]}`, false},
	} {
		d, err := Parse(policy(allow(tc.principal, "")))
		if err != nil {
			t.Fatal(err)
		}
		ex := Explain(d, userCall().Request())
		if got := ex.Actions[0].Statements[0].ViaAccount; got != tc.via {
			t.Errorf("%s: ViaAccount %v, want %v", tc.principal, got, tc.via)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		fold   bool
		want   bool
	}{
		{"*", "", false, true},
		{"a*b*c", "aXXbYYc", false, true},
		{"a*b*c", "aXXbYY", false, false},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"sts:Assume*", "STS:ASSUMEROLE", true, true},
		{"sts:Assume*", "STS:ASSUMEROLE", false, false},
		{"**a", "a", false, true},
		{"ü?", "üx", false, true},
	} {
		if got := globPattern(tc.pat).match(tc.s, tc.fold); got != tc.want {
			t.Errorf("%q ~ %q (fold %v) = %v, want %v", tc.pat, tc.s, tc.fold, got, tc.want)
		}
	}
}
