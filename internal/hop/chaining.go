package hop

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/rolehop/rolehop/internal/plan"
)

// IsChainingLimit reports whether err is STS refusing a DurationSeconds
// over 1 hour because the caller is a role session. AWS limits a role
// assumed with role credentials ("role chaining") to 1 hour and answers
// ValidationError "The requested DurationSeconds exceeds the 1 hour session
// limit for roles assumed by role chaining." Source: IAM User Guide, "Roles
// terms and concepts" (role chaining) and the STS AssumeRole reference
// (DurationSeconds).
func IsChainingLimit(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "ValidationError" && strings.Contains(api.ErrorMessage(), "role chaining")
}

// Capped returns hop p asking for seconds instead of its planned
// DurationSeconds: the retry after STS refused p's duration as role
// chaining. It resends the request p sent last, so the session name (-u)
// and the MFA code are not asked for again; with no such request it builds
// a new one.
func (p *Provider) Capped(seconds int) aws.CredentialsProvider {
	return cappedHop{p: p, seconds: seconds}
}

// remember keeps the request just built for Capped.
func (p *Provider) remember(in *sts.AssumeRoleInput) {
	p.mu.Lock()
	p.last = in
	p.mu.Unlock()
}

// takeLast returns the request remembered last (once) or nil.
func (p *Provider) takeLast() *sts.AssumeRoleInput {
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.last
	p.last = nil
	return in
}

type cappedHop struct {
	p       *Provider
	seconds int
}

// Retrieve implements aws.CredentialsProvider.
func (c cappedHop) Retrieve(ctx context.Context) (aws.Credentials, error) {
	in := c.p.takeLast()
	if in == nil {
		var err error
		if in, err = c.p.input(ctx); err != nil {
			return aws.Credentials{}, err
		}
	}
	again := *in
	again.DurationSeconds = aws.Int32(int32(c.seconds))
	return c.p.assume(ctx, &again)
}

// ChainingRetry is the hop whose source may hand out role credentials
// without the plan knowing (container endpoint, credential_process,
// temporary env keys, caller-provided credentials) and that asks for more
// than 1 hour. It tries Full (the hop as planned, behind its cache entry);
// when STS answers that the hop is role chaining, it warns and returns
// Capped (the hop at 3600 s, behind the cache entry of a 3600 s hop, so a
// cache entry always holds what its key asked for and a later run with a
// non-chained source still gets the duration it asks for).
type ChainingRetry struct {
	Full, Capped aws.CredentialsProvider
	label        string
	requested    int
	warn         func(format string, args ...any)
}

// NewChainingRetry returns the ChainingRetry of hop p: full is p behind
// its cache, capped is p.Capped(plan.ChainedMaxSeconds) behind its cache.
func NewChainingRetry(p *Provider, full, capped aws.CredentialsProvider) *ChainingRetry {
	return &ChainingRetry{Full: full, Capped: capped, label: p.label, requested: p.hop.DurationSeconds, warn: p.opts.Warn}
}

// Retrieve implements aws.CredentialsProvider.
func (r *ChainingRetry) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := r.Full.Retrieve(ctx)
	if err == nil || !IsChainingLimit(err) {
		return creds, err
	}
	if r.warn != nil {
		r.warn("%s: STS capped this hop at %d s: the source's credentials are a role session (role chaining, 1 hour at most); retried with DurationSeconds %d instead of %d — set duration_seconds or --duration-seconds to %d to skip the refused call",
			r.label, plan.ChainedMaxSeconds, plan.ChainedMaxSeconds, r.requested, plan.ChainedMaxSeconds)
	}
	return r.Capped.Retrieve(ctx)
}
