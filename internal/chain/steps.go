package chain

import (
	"github.com/rolehop/rolehop/internal/cache"
	"github.com/rolehop/rolehop/internal/plan"
)

// Step is one cacheable step of a plan, in chain order.
type Step struct {
	Key  string
	Meta cache.Meta
	Hop  int // index into Plan.Hops; -1 for the source
}

// The structs below are what a cache key is made of: everything that
// defines a step's result, and no secret. A step after the first is keyed
// by the key of the step before it, so a key names its whole chain.
type (
	processKey struct {
		Kind, Profile, Command string
	}
	ssoKey struct {
		Kind, TokenKey, StartURL, Region, AccountID, RoleName, Endpoint string
	}
	webIdentityKey struct {
		Kind, RoleARN, TokenFile, SessionName, Region, Endpoint string
	}
	mfaKey struct {
		Kind, Source, Serial, Region, Endpoint string
		Seconds                                int
	}
	hopKey struct {
		Kind, Source, RoleARN, SessionName string
		SessionNameFromCaller              bool
		DurationSeconds                    int
		ExternalID, Serial, MFAVia         string
		Policy                             string
		PolicyARNs                         []string
		Tags                               []plan.Tag
		TransitiveTagKeys                  []string
		SourceIdentity, Region, Endpoint   string
	}
)

// Steps lists the cacheable steps of p with their keys: the
// credential_process source (if any), then per hop an optional MFA session
// and the AssumeRole itself. Build and `cache clear` both use it, so the
// keys they see are the same.
func Steps(p *plan.Plan) []Step {
	var steps []Step
	prev := sourceIdentity(p.Source)
	switch p.Source.Kind {
	case plan.SourceProcess:
		prev = cache.Key(processKey{cache.KindProcess, p.Source.Profile, p.Source.Command})
		steps = append(steps, Step{Key: prev, Hop: -1, Meta: cache.Meta{Kind: cache.KindProcess, Profile: p.Source.Profile}})
	case plan.SourceSSO:
		s := p.Source.SSO
		prev = cache.Key(ssoKey{cache.KindSSO, s.TokenKey(), s.StartURL, s.Region, s.AccountID, s.RoleName, s.PortalEndpoint})
		steps = append(steps, Step{Key: prev, Hop: -1, Meta: cache.Meta{Kind: cache.KindSSO, Profile: p.Source.Profile,
			RoleARN: s.AccountID + "/" + s.RoleName, Source: p.Source.Describe(), SSO: s.TokenKey()}})
	case plan.SourceWebIdent:
		s := p.Source
		prev = cache.Key(webIdentityKey{cache.KindWebIdent, s.WebIdentityRole.Value, s.WebIdentityTokenFile.Value, s.WebIdentitySessionName.Value, p.STSRegion, p.STSEndpoint.Value})
		profile := s.Profile
		if profile == "" {
			profile = p.Profile.Value
		}
		steps = append(steps, Step{Key: prev, Hop: -1, Meta: cache.Meta{Kind: cache.KindWebIdent, Profile: profile,
			RoleARN: s.WebIdentityRole.Value, SessionName: s.WebIdentitySessionName.Value, Source: s.Describe()}})
	}
	for i, h := range p.Hops {
		profile := h.Profile
		if profile == "" {
			profile = p.Profile.Value
		}
		if h.MFA.Via == plan.MFAViaSession {
			prev = cache.Key(mfaKey{cache.KindMFASession, prev, h.SerialNumber.Value, p.STSRegion, p.STSEndpoint.Value, p.MFASessionSeconds})
			steps = append(steps, Step{Key: prev, Hop: i, Meta: cache.Meta{Kind: cache.KindMFASession, Profile: profile,
				Serial: h.SerialNumber.Value, Source: p.Source.Describe()}})
		}
		prev = cache.Key(hopKey{
			Kind: cache.KindAssumeRole, Source: prev, RoleARN: h.RoleARN.Value,
			SessionName: h.SessionName.Value, SessionNameFromCaller: h.SessionNameFromCaller,
			DurationSeconds: h.DurationSeconds, ExternalID: h.ExternalID.Value, Serial: h.SerialNumber.Value, MFAVia: h.MFA.Via,
			Policy: h.Policy.Value, PolicyARNs: h.PolicyARNs, Tags: h.Tags, TransitiveTagKeys: h.TransitiveTagKeys,
			SourceIdentity: h.SourceIdentity.Value, Region: p.STSRegion, Endpoint: p.STSEndpoint.Value,
		})
		name := h.SessionName.Value
		if h.SessionNameFromCaller {
			name = "<caller's name>"
		}
		steps = append(steps, Step{Key: prev, Hop: i, Meta: cache.Meta{Kind: cache.KindAssumeRole, Profile: profile,
			RoleARN: h.RoleARN.Value, SessionName: name, Serial: h.SerialNumber.Value}})
	}
	return steps
}

// sourceIdentity names the first credentials of a chain without a secret:
// the access key id for keys, the endpoint or command otherwise.
func sourceIdentity(s plan.Source) string {
	switch s.Kind {
	case plan.SourceEnv, plan.SourceStatic:
		return "keys:" + s.AccessKeyID
	case plan.SourceContainer:
		return "container:" + s.ContainerURL
	case plan.SourceIMDS:
		return "imds:" + s.IMDSEndpoint
	case plan.SourceProcess:
		return "process:" + s.Profile + ":" + s.Command
	}
	return string(s.Kind)
}
