package chain

import (
	"testing"

	"github.com/rolehop/rolehop/internal/cache"
	"github.com/rolehop/rolehop/internal/plan"
)

func basePlan() *plan.Plan {
	return &plan.Plan{
		Source: plan.Source{Kind: plan.SourceStatic, Profile: "base", AccessKeyID: "AKIABASE", SecretAccessKey: "s1"},
		Hops: []plan.Hop{
			{RoleARN: plan.Setting{Value: "arn:aws:iam::111111111111:role/dev"}, SessionName: plan.Setting{Value: "alice"}, DurationSeconds: 3600},
			{RoleARN: plan.Setting{Value: "arn:aws:iam::222222222222:role/prod"}, SessionName: plan.Setting{Value: "alice"}, DurationSeconds: 3600, Chained: true},
		},
		STSRegion: "us-east-1",
	}
}

func lastKey(p *plan.Plan) string {
	s := Steps(p)
	return s[len(s)-1].Key
}

func TestStepKeysChangeWithEveryDefiningParameter(t *testing.T) {
	base := lastKey(basePlan())
	if base != lastKey(basePlan()) {
		t.Fatal("identical plans have different keys")
	}
	changes := map[string]func(p *plan.Plan){
		"source key id":    func(p *plan.Plan) { p.Source.AccessKeyID = "AKIAOTHER" },
		"first hop role":   func(p *plan.Plan) { p.Hops[0].RoleARN.Value = "arn:aws:iam::111111111111:role/other" },
		"role":             func(p *plan.Plan) { p.Hops[1].RoleARN.Value = "arn:aws:iam::222222222222:role/other" },
		"session name":     func(p *plan.Plan) { p.Hops[1].SessionName.Value = "bob" },
		"name from caller": func(p *plan.Plan) { p.Hops[1].SessionNameFromCaller = true },
		"duration":         func(p *plan.Plan) { p.Hops[1].DurationSeconds = 900 },
		"external id":      func(p *plan.Plan) { p.Hops[1].ExternalID.Value = "x" },
		"serial":           func(p *plan.Plan) { p.Hops[1].SerialNumber.Value = "arn:aws:iam::1:mfa/a" },
		"policy":           func(p *plan.Plan) { p.Hops[1].Policy.Value = "{}" },
		"policy arns":      func(p *plan.Plan) { p.Hops[1].PolicyARNs = []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"} },
		"tags":             func(p *plan.Plan) { p.Hops[1].Tags = []plan.Tag{{Key: "a", Value: "b"}} },
		"tag value":        func(p *plan.Plan) { p.Hops[1].Tags = []plan.Tag{{Key: "a", Value: "c"}} },
		"transitive":       func(p *plan.Plan) { p.Hops[1].TransitiveTagKeys = []string{"a"} },
		"source identity":  func(p *plan.Plan) { p.Hops[1].SourceIdentity.Value = "me" },
		"region":           func(p *plan.Plan) { p.STSRegion = "eu-west-1" },
		"endpoint":         func(p *plan.Plan) { p.STSEndpoint.Value = "http://127.0.0.1:1" },
	}
	seen := map[string]string{}
	for name, change := range changes {
		p := basePlan()
		change(p)
		k := lastKey(p)
		if k == base {
			t.Errorf("changing %s keeps the key", name)
		}
		if other, dup := seen[k]; dup {
			t.Errorf("changing %s and %s give the same key", name, other)
		}
		seen[k] = name
	}
	// Secrets are not part of the key: a rotated secret with the same key id is the same source.
	p := basePlan()
	p.Source.SecretAccessKey = "rotated"
	if lastKey(p) != base {
		t.Error("the secret key is part of the cache key")
	}
}

func TestMFASessionSharedAcrossProfiles(t *testing.T) {
	withMFA := func(role string) *plan.Plan {
		p := basePlan()
		p.Hops = p.Hops[:1]
		p.Hops[0].RoleARN.Value = role
		p.Hops[0].SerialNumber.Value = "arn:aws:iam::111111111111:mfa/alice"
		p.Hops[0].MFA.Via = plan.MFAViaSession
		p.MFASessionSeconds = plan.MFASessionSeconds
		return p
	}
	a, b := Steps(withMFA("arn:aws:iam::111111111111:role/a")), Steps(withMFA("arn:aws:iam::222222222222:role/b"))
	if len(a) != 2 || a[0].Meta.Kind != cache.KindMFASession || a[1].Meta.Kind != cache.KindAssumeRole {
		t.Fatalf("steps = %+v", a)
	}
	if a[0].Key != b[0].Key {
		t.Error("two profiles with the same keys and serial do not share the MFA session")
	}
	if a[1].Key == b[1].Key {
		t.Error("different roles share a key")
	}
}
