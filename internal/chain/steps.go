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
		// Claims is source.ClaimsHash of the token (audit finding 3).
		// Role, token path, session name and region do not say whose
		// token it is: on a persistent CI runner with a fixed session
		// name, a job the role's trust policy refuses (another branch,
		// a pull request, another repository) would get a trusted job's
		// cached credentials without STS ever seeing its token. The
		// claims that name the identity (iss, sub, aud, repository, ref,
		// …) do; exp, iat, nbf and jti are left out, since every token
		// of the same identity has new ones and the cache would never
		// serve a second run. Every later step is keyed by this step's
		// key, so its hops are separated too.
		Claims string
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

// RunFacts are what the cache keys of a plan's steps need beyond the
// plan: facts known only when the chain runs. BuildSteps gathers them.
type RunFacts struct {
	// WebIdentityClaims is source.ClaimsHash of the token a web-identity
	// source uses in this run.
	WebIdentityClaims string
}

// Steps lists the cacheable steps of p with the keys the plan alone
// defines: StepsWith without run-time facts. `cache clear` uses it: for a
// chain that starts with a web identity, whose entries are keyed by the
// token's claims, those keys name no entry, but Meta.Origin of every step
// is the Origin of every entry of that chain, whatever the token.
func Steps(p *plan.Plan) []Step { return StepsWith(p, RunFacts{}) }

// StepsWith lists the cacheable steps of p with their keys: the source
// (credential_process, web identity, IAM Identity Center) if it is
// cached, then per hop an optional MFA session and the AssumeRole itself.
// Every step carries in its Meta the lineage of its source (Meta.SSO,
// Meta.Origin): how logout and cache clear find all the entries of a
// chain.
func StepsWith(p *plan.Plan, facts RunFacts) []Step {
	var steps []Step
	// lineage holds the Meta fields every entry of the chain inherits
	// from its source, however many hops down.
	var lineage cache.Meta
	prev := sourceIdentity(p.Source)
	if p.Source.Kind == plan.SourceLogin {
		// Logout ends the session: everything derived from it goes too.
		lineage.Login = p.Source.Login.Session
	}
	switch p.Source.Kind {
	case plan.SourceProcess:
		prev = cache.Key(processKey{cache.KindProcess, p.Source.Profile, p.Source.Command})
		steps = append(steps, Step{Key: prev, Hop: -1, Meta: cache.Meta{Kind: cache.KindProcess, Profile: p.Source.Profile}})
	case plan.SourceSSO:
		s := p.Source.SSO
		// Logout ends the session: everything derived from it goes too.
		lineage.SSO = s.TokenKey()
		prev = cache.Key(ssoKey{cache.KindSSO, s.TokenKey(), s.StartURL, s.Region, s.AccountID, s.RoleName, s.PortalEndpoint})
		steps = append(steps, Step{Key: prev, Hop: -1, Meta: inherit(lineage, cache.Meta{Kind: cache.KindSSO, Profile: p.Source.Profile,
			RoleARN: s.AccountID + "/" + s.RoleName, Source: p.Source.Describe()})})
	case plan.SourceWebIdent:
		s := p.Source
		key := webIdentityKey{cache.KindWebIdent, s.WebIdentityRole.Value, s.WebIdentityTokenFile.Value, s.WebIdentitySessionName.Value, p.STSRegion, p.STSEndpoint.Value, ""}
		// The key without the token: what `cache clear` can compute.
		lineage.Origin = cache.Key(key)
		key.Claims = facts.WebIdentityClaims
		prev = cache.Key(key)
		profile := s.Profile
		if profile == "" {
			profile = p.Profile.Value
		}
		steps = append(steps, Step{Key: prev, Hop: -1, Meta: inherit(lineage, cache.Meta{Kind: cache.KindWebIdent, Profile: profile,
			RoleARN: s.WebIdentityRole.Value, SessionName: s.WebIdentitySessionName.Value, Source: s.Describe()})})
	}
	for i, h := range p.Hops {
		profile := h.Profile
		if profile == "" {
			profile = p.Profile.Value
		}
		if h.MFA.Via == plan.MFAViaSession {
			prev = cache.Key(mfaKey{cache.KindMFASession, prev, h.SerialNumber.Value, p.STSRegion, p.STSEndpoint.Value, p.MFASessionSeconds})
			steps = append(steps, Step{Key: prev, Hop: i, Meta: inherit(lineage, cache.Meta{Kind: cache.KindMFASession, Profile: profile,
				Serial: h.SerialNumber.Value, Source: p.Source.Describe()})})
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
		steps = append(steps, Step{Key: prev, Hop: i, CappedKey: capped, Meta: inherit(lineage, cache.Meta{Kind: cache.KindAssumeRole, Profile: profile,
			RoleARN: h.RoleARN.Value, SessionName: name, Serial: h.SerialNumber.Value})})
	}
	return steps
}

// inherit returns m with the lineage fields of a chain's source: the IAM
// Identity Center session (SSO) or the web identity without its token
// (Origin) that all of the chain's credentials come from. A new source of
// that kind (an `aws login` session, say) adds its field to cache.Meta,
// sets it in lineage in StepsWith and copies it here; the command that
// ends it deletes the entries whose field names it.
func inherit(lineage, m cache.Meta) cache.Meta {
	m.SSO = lineage.SSO
	m.Origin = lineage.Origin
	m.Login = lineage.Login
	return m
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
	case plan.SourceEnv, plan.SourceStatic, plan.SourceKeychain:
		return "keys:" + s.AccessKeyID
	case plan.SourceContainer:
		return "container:" + s.ContainerURL
	case plan.SourceIMDS:
		return "imds:" + s.IMDSEndpoint
	case plan.SourceProcess:
		return "process:" + s.Profile + ":" + s.Command
	case plan.SourceLogin:
		return "login:" + s.Login.Session + ":" + s.Login.CacheFile
	}
	return string(s.Kind)
}
