package iampolicy

import (
	"testing"
)

// FuzzExplain: evaluating any document Parse accepts never panics, and
// every action gets a valid decision.
func FuzzExplain(f *testing.F) {
	for _, seed := range []string{
		policy(allow(`"*"`, "")),
		policy(allow(`{"AWS":["111111111111","`+userARN+`"],"Service":"ec2.amazonaws.com"}`, `{"StringLike":{"sts:RoleSessionName":"${aws:username}*"},"BoolIfExists":{"aws:MultiFactorAuthPresent":true}}`)),
		policy(`{"Effect":"Deny","NotPrincipal":{"AWS":"` + sessARN + `"},"NotAction":"sts:Tag*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]},"Null":{"sts:ExternalId":"true"},"NumericLessThan":{"aws:EpochTime":1}}}`),
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::${aws:PrincipalAccount}:role/${?}${*}${$}${"}}}}`,
		"%7B%22Statement%22%3A%5B%5D%7D",
	} {
		f.Add(seed)
	}
	valid := map[Decision]bool{Allowed: true, ExplicitDeny: true, ImplicitDeny: true, CannotTell: true}
	f.Fuzz(func(t *testing.T, text string) {
		d, err := Parse(text)
		if err != nil {
			return
		}
		calls := []AssumeRole{userCall(), sessionCall(), withTime(userCall())}
		calls[1].Tags = []Tag{{"a", "b"}}
		calls[1].SourceIdentity = "x"
		calls[2].MFA = KeyValue{}
		calls[2].SessionName = ""
		for _, c := range calls {
			ex := Explain(d, c.Request())
			if !valid[ex.Decision] {
				t.Fatalf("invalid decision %q", ex.Decision)
			}
			for _, a := range ex.Actions {
				if !valid[a.Decision] || len(a.Statements) != len(d.Statement) {
					t.Fatalf("action %s: decision %q, %d statement results for %d statements", a.Action, a.Decision, len(a.Statements), len(d.Statement))
				}
			}
		}
	})
}
