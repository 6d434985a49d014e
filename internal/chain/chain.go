// Package chain builds the credentials provider for a whole plan: the
// source, then each hop wrapping the provider before it. Every step that
// calls STS (and a credential_process with an expiry) sits behind the shared
// on-disk cache, keyed by everything that defines its result, and behind an
// in-process cache.Memo.
package chain

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rolehop/rolehop/internal/awsclient"
	"github.com/rolehop/rolehop/internal/cache"
	"github.com/rolehop/rolehop/internal/hop"
	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/prompt"
	"github.com/rolehop/rolehop/internal/source"
)

// DefaultMinTTL is how much validity cached credentials must have left to
// be used: the aws-sdk-go-v2 refresh window.
const DefaultMinTTL = 5 * time.Minute

// Options are the injectable parts of a chain.
type Options struct {
	// HTTPClient for AWS calls and the credential endpoints; nil means a
	// client with the plan's per-attempt timeout (ROLEHOP_HTTP_TIMEOUT,
	// plan.Retry). Retries follow the plan's retry settings either way.
	HTTPClient *http.Client
	// Prompt asks for MFA codes on a terminal; nil means there is none.
	Prompt func(ctx context.Context, serial string) (string, error)
	// Provided is the source for plans whose source is SourceProvided.
	Provided aws.CredentialsProvider
	// Getenv reads the environment (GitHub OIDC variables); nil: os.Getenv.
	Getenv func(string) string
	// Stderr receives an mfa_process's stderr.
	Stderr io.Writer
	// Store is the on-disk cache; nil disables it (--no-cache).
	Store *cache.Store
	// MinTTL is the validity a cached or in-process credential must still
	// have to be used; 0 means DefaultMinTTL.
	MinTTL time.Duration
	// FinalMinTTL, when larger than MinTTL, applies to the last step only:
	// it forces credentials newer than a known set (write --watch) without
	// renewing the steps before it (an MFA session, say).
	FinalMinTTL time.Duration
	// Warn prints warnings for a person (a hop retried at 3600 s); nil
	// discards them.
	Warn func(format string, args ...any)
	// NoChainingRetry reports a hop that STS finds to be role chaining as a
	// failure instead of retrying it at 3600 s (doctor).
	NoChainingRetry bool
}

// DefaultHTTPTimeout bounds one HTTP attempt (connect, send, answer):
// plan.DefaultAttemptTimeout, which says why.
const DefaultHTTPTimeout = plan.DefaultAttemptTimeout

// DefaultHTTPClient bounds how long an unreachable endpoint can stall a run.
// Code with a plan uses awsclient.New(p.Retry) instead, which honours
// ROLEHOP_HTTP_TIMEOUT and the retry settings.
func DefaultHTTPClient() *http.Client { return awsclient.NewHTTPClient(DefaultHTTPTimeout) }

// HTTPClientFromEnv is DefaultHTTPClient with the attempt timeout from
// ROLEHOP_HTTP_TIMEOUT (a Go duration such as 3s or 1m30s, from 100ms to
// 10m) when it is set. Code with a plan uses awsclient.New(p.Retry).
func HTTPClientFromEnv(getenv func(string) string) (*http.Client, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	r, err := plan.ResolveRetry(nil, "", func(k string) string {
		if k == "ROLEHOP_HTTP_TIMEOUT" {
			return getenv(k)
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	return awsclient.NewHTTPClient(r.AttemptTimeout()), nil
}

// Clients are the AWS client settings of a chain for p: the plan's retry
// settings with hc, or, when hc is nil, an HTTP client with the plan's
// per-attempt timeout. Commands that call AWS beside the chain (whoami,
// console, policy, doctor) build their clients from the same settings.
func Clients(p *plan.Plan, hc *http.Client) awsclient.Settings {
	s := awsclient.New(p.Retry)
	if hc != nil {
		s.HTTPClient = hc
	}
	return s
}

// Cause strips the SDK's cache wrapping ("failed to refresh cached
// credentials, …") from a chain failure so that the one-line message of the
// step that failed is what the user sees.
func Cause(err error) error {
	var he *hop.Error
	var se *source.Error
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &se):
		return se
	}
	return err
}

// StepProvider is the provider of one step of a chain as a user sees it:
// the source, or one hop. Each provider wraps the one before it, so
// retrieving a hop's credentials retrieves (or reuses, through the
// in-process cache.Memo) those of every step before it.
type StepProvider struct {
	// Hop is the index into Plan.Hops, or -1 for the source.
	Hop int
	// Provider hands out the step's credentials.
	Provider aws.CredentialsProvider
	// MFASession is, for a hop whose MFA path is plan.MFAViaSession, the
	// GetSessionToken step between the previous step and the hop; nil
	// otherwise.
	MFASession aws.CredentialsProvider
}

// Build returns the provider of the plan's final credentials: the last
// element of BuildSteps.
func Build(p *plan.Plan, opts Options) (aws.CredentialsProvider, error) {
	steps, err := BuildSteps(p, opts)
	if err != nil {
		return nil, err
	}
	return steps[len(steps)-1].Provider, nil
}

// BuildSteps returns the providers of every step of the plan: the source
// first, then one per hop in order. The last one is the chain's result.
func BuildSteps(p *plan.Plan, opts Options) ([]StepProvider, error) {
	clients := Clients(p, opts.HTTPClient)
	opts.HTTPClient = clients.HTTPClient
	if opts.MinTTL == 0 {
		opts.MinTTL = DefaultMinTTL
	}
	sopts := source.Options{HTTPClient: opts.HTTPClient, AWS: clients, STSRegion: p.STSRegion, STSEndpoint: p.STSEndpoint.Value, Getenv: opts.Getenv, Provided: opts.Provided, Notice: opts.Warn, MinTTL: opts.MinTTL}
	var facts RunFacts
	if opts.Store != nil && p.Source.Kind == plan.SourceWebIdent {
		// The cache keys of a web identity's chain hold the token's
		// claims (webIdentityKey.Claims), so the token is read now, once,
		// and the first AssumeRoleWithWebIdentity sends these same bytes.
		// Without the cache nothing is keyed: the token is read when
		// needed, as the SDK does.
		tok, err := source.ReadWebIdentityToken(p.Source, sopts)
		if err != nil {
			return nil, err
		}
		facts.WebIdentityClaims = tok.Claims()
		sopts.WebIdentityToken = tok
	}
	src, err := source.New(p.Source, sopts)
	if err != nil {
		return nil, err
	}
	var prov aws.CredentialsProvider = &cache.Memo{Next: src, MinTTL: opts.MinTTL}
	out := []StepProvider{{Hop: -1, Provider: prov}}
	var mfaSession aws.CredentialsProvider
	steps := StepsWith(p, facts)
	for i, st := range steps {
		minTTL := opts.MinTTL
		if i == len(steps)-1 && opts.FinalMinTTL > minTTL {
			minTTL = opts.FinalMinTTL
		}
		var next aws.CredentialsProvider
		switch st.Meta.Kind {
		case cache.KindProcess, cache.KindWebIdent, cache.KindSSO:
			next = src
		case cache.KindMFASession:
			h := p.Hops[st.Hop]
			next = hop.NewSessionToken(h, p.MFASessionSeconds, prov, hopOptions(p, h, opts, clients))
		case cache.KindAssumeRole:
			h := p.Hops[st.Hop]
			if h.MFA.Via == plan.MFAViaSession {
				// The MFA session carries the MFA context to STS.
				h.SerialNumber, h.TokenCode = plan.Setting{}, ""
			}
			hp := hop.New(h, st.Hop, prov, hopOptions(p, h, opts, clients))
			next = cached(opts.Store, st.Key, st.Meta, minTTL, hp)
			if st.CappedKey != "" && !opts.NoChainingRetry {
				// Each cache entry holds what its key asked for: the
				// capped credentials go to the entry of a 3600 s hop.
				capped := cached(opts.Store, st.CappedKey, st.Meta, minTTL, hp.Capped(plan.ChainedMaxSeconds))
				next = hop.NewChainingRetry(hp, next, capped)
			}
		}
		if st.Meta.Kind != cache.KindAssumeRole {
			next = cached(opts.Store, st.Key, st.Meta, minTTL, next)
		}
		prov = &cache.Memo{Next: next, MinTTL: minTTL}
		switch {
		case st.Hop < 0:
			out[0].Provider = prov
		case st.Meta.Kind == cache.KindMFASession:
			mfaSession = prov
		default:
			out = append(out, StepProvider{Hop: st.Hop, Provider: prov, MFASession: mfaSession})
			mfaSession = nil
		}
	}
	return out, nil
}

// cached puts next behind the cache entry key; without a store (--no-cache)
// it is next itself.
func cached(store *cache.Store, key string, meta cache.Meta, minTTL time.Duration, next aws.CredentialsProvider) aws.CredentialsProvider {
	if store == nil {
		return next
	}
	return &cache.Provider{Store: store, Key: key, Meta: meta, MinTTL: minTTL, Next: next}
}

func hopOptions(p *plan.Plan, h plan.Hop, opts Options, clients awsclient.Settings) hop.Options {
	o := hop.Options{Region: p.STSRegion, Endpoint: p.STSEndpoint.Value, AWS: clients, Prompt: opts.Prompt, Warn: opts.Warn}
	if cmd := h.MFA.Process.Value; cmd != "" {
		stderr := opts.Stderr
		if stderr == nil {
			stderr = io.Discard
		}
		o.Prompt = func(ctx context.Context, _ string) (string, error) { return prompt.FromProcess(ctx, cmd, stderr) }
	}
	return o
}
