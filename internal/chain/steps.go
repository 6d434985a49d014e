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
	// CappedKey, for a hop that may turn out to be role chaining at run time
	// (MayBeChained), is the key of the same hop at plan.ChainedMaxSeconds:
	// where its credentials are cached when STS caps it. "" otherwise.
	CappedKey string
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
		key := hopKey{
			Kind: cache.KindAssumeRole, Source: prev, RoleARN: h.RoleARN.Value,
			SessionName: h.SessionName.Value, SessionNameFromCaller: h.SessionNameFromCaller,
			DurationSeconds: h.DurationSeconds, ExternalID: h.ExternalID.Value, Serial: h.SerialNumber.Value, MFAVia: h.MFA.Via,
			Policy: h.Policy.Value, PolicyARNs: h.PolicyARNs, Tags: h.Tags, TransitiveTagKeys: h.TransitiveTagKeys,
			SourceIdentity: h.SourceIdentity.Value, Region: p.STSRegion, Endpoint: p.STSEndpoint.Value,
		}
		capped := ""
		if MayBeChained(p, i) {
			// The same request at 3600 s: the key a hop planned at 3600 s
			// has, so that entry also serves a config fixed to 3600.
			key.DurationSeconds = plan.ChainedMaxSeconds
			capped = cache.Key(key)
			key.DurationSeconds = h.DurationSeconds
		}
		prev = cache.Key(key)
		name := h.SessionName.Value
		if h.SessionNameFromCaller {
			name = "<caller's name>"
		}
		steps = append(steps, Step{Key: prev, Hop: i, CappedKey: capped, Meta: cache.Meta{Kind: cache.KindAssumeRole, Profile: profile,
			RoleARN: h.RoleARN.Value, SessionName: name, Serial: h.SerialNumber.Value}})
	}
	return steps
}

// MayBeChained reports whether hop i of p asks for more than the 1-hour
// role-chaining cap although the plan could not tell whether its caller is
// a role session: the first hop after a source whose kind does not say
// (container endpoint, credential_process, caller-provided credentials) or
// after temporary keys (a session token may belong to a role session or to
// GetSessionToken, which AWS caps the same way). Later hops, and hops after
// known role sessions, are capped when the plan is made; EC2 instance
// roles are exempt from the cap (AWS-SEMANTICS §4).
func MayBeChained(p *plan.Plan, i int) bool {
	h := p.Hops[i]
	if i != 0 || h.Chained || h.DurationSeconds <= plan.ChainedMaxSeconds {
		return false
	}
	temporary, known := p.Source.Temporary()
	return !known || (temporary && p.Source.Kind != plan.SourceIMDS)
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
