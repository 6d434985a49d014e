// Package hop is one sts:AssumeRole step of a chain: it turns the previous
// step's credentials into the role's credentials, deciding at run time what
// only the network can tell (the caller's name for -u, the MFA code), and
// explains STS failures in one line.
package hop

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/rolehop/rolehop/internal/awsarn"
	"github.com/rolehop/rolehop/internal/awsclient"
	"github.com/rolehop/rolehop/internal/plan"
)

// Options configure the STS client and the interactive parts of a hop.
type Options struct {
	Region   string
	Endpoint string // "" for the AWS default
	// AWS is the run's HTTP client and retry settings (awsclient.New).
	AWS awsclient.Settings
	// Prompt asks for the MFA code of serial. Nil means no terminal: a hop
	// that needs a code and has none fails with a clear error.
	Prompt func(ctx context.Context, serial string) (string, error)
	// Warn prints a warning for the person running rolehop (ui.Output.Warnf);
	// nil discards warnings.
	Warn func(format string, args ...any)
}

// step is what every STS step shares: a lazily built client (so a run
// served from the cache never builds one), the MFA prompt, and the
// one-line error messages.
type step struct {
	index  int    // 0-based position of the hop in the chain
	role   string // role ARN, or "" for an MFA session
	label  string // "hop 2 (arn…, profile \"x\")"
	prev   aws.CredentialsProvider
	opts   Options
	once   sync.Once
	client *sts.Client
}

func (s *step) sts() *sts.Client {
	s.once.Do(func() { s.client = NewSTSClient(s.prev, s.opts) })
	return s.client
}

// Provider assumes one role with the credentials of the step before it.
type Provider struct {
	step
	hop plan.Hop

	mu   sync.Mutex
	last *sts.AssumeRoleInput // the request sent last, for Capped
}

// New returns the provider for hop number index (0-based) whose caller
// credentials come from prev.
func New(h plan.Hop, index int, prev aws.CredentialsProvider, opts Options) *Provider {
	label := fmt.Sprintf("hop %d (%s", index+1, h.RoleARN.Value)
	if h.Profile != "" {
		label += fmt.Sprintf(", profile %q", h.Profile)
	}
	return &Provider{step: step{index: index, role: h.RoleARN.Value, label: label + ")", prev: prev, opts: opts}, hop: h}
}

// NewSTSClient returns an STS client signing with creds, with the run's
// HTTP client and retry settings (opts.AWS).
func NewSTSClient(creds aws.CredentialsProvider, opts Options) *sts.Client {
	return sts.NewFromConfig(opts.AWS.Config(opts.Region, creds), func(o *sts.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
	})
}

// Retrieve implements aws.CredentialsProvider.
func (p *Provider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	in, err := p.input(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	p.remember(in)
	return p.assume(ctx, in)
}

// assume sends one AssumeRole request.
func (p *Provider) assume(ctx context.Context, in *sts.AssumeRoleInput) (aws.Credentials, error) {
	out, err := p.sts().AssumeRole(ctx, in)
	if err != nil {
		return aws.Credentials{}, p.explain(ctx, err)
	}
	creds := Credentials(out.Credentials, "rolehop:AssumeRole")
	if err := p.complete(creds, "AssumeRole"); err != nil {
		return aws.Credentials{}, err
	}
	if u := out.AssumedRoleUser; u != nil {
		creds.AccountID = awsarn.Account(aws.ToString(u.Arn))
	}
	return creds, nil
}

// complete refuses a successful answer without usable credentials: the
// SDK accepts an HTTP 200 whose body holds no result at all (a proxy's
// page that happens to parse, an empty body) as a success with nil
// Credentials, which must not reach a program as empty keys.
func (p *step) complete(c aws.Credentials, action string) error {
	if c.AccessKeyID != "" && c.SecretAccessKey != "" && c.SessionToken != "" && c.CanExpire {
		return nil
	}
	return p.errorf("STS at %s answered %s without credentials, which is not an STS response — check AWS_ENDPOINT_URL_STS and any proxy or firewall in between", p.endpoint(), action)
}

// Credentials converts STS credentials to aws.Credentials.
func Credentials(c *ststypes.Credentials, source string) aws.Credentials {
	if c == nil {
		return aws.Credentials{Source: source}
	}
	creds := aws.Credentials{
		AccessKeyID:     aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken:    aws.ToString(c.SessionToken),
		Source:          source,
		CanExpire:       c.Expiration != nil,
	}
	if c.Expiration != nil {
		creds.Expires = *c.Expiration
	}
	return creds
}

// input builds the AssumeRole request, resolving the session name and MFA code.
func (p *Provider) input(ctx context.Context) (*sts.AssumeRoleInput, error) {
	h := p.hop
	name := h.SessionName.Value
	if h.SessionNameFromCaller {
		var err error
		if name, err = p.callerSessionName(ctx); err != nil {
			return nil, err
		}
	}
	in := &sts.AssumeRoleInput{
		RoleArn:         aws.String(h.RoleARN.Value),
		RoleSessionName: aws.String(name),
		DurationSeconds: aws.Int32(int32(h.DurationSeconds)),
	}
	set := func(dst **string, s plan.Setting) {
		if s.IsSet() {
			*dst = aws.String(s.Value)
		}
	}
	set(&in.ExternalId, h.ExternalID)
	set(&in.Policy, h.Policy)
	set(&in.SourceIdentity, h.SourceIdentity)
	set(&in.SerialNumber, h.SerialNumber)
	for _, arn := range h.PolicyARNs {
		in.PolicyArns = append(in.PolicyArns, ststypes.PolicyDescriptorType{Arn: aws.String(arn)})
	}
	for _, t := range h.Tags {
		in.Tags = append(in.Tags, ststypes.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
	}
	in.TransitiveTagKeys = h.TransitiveTagKeys
	if h.SerialNumber.IsSet() {
		code, err := p.tokenCode(ctx, h.SerialNumber.Value, h.TokenCode.Reveal())
		if err != nil {
			return nil, err
		}
		in.TokenCode = aws.String(code)
	}
	return in, nil
}

// tokenCode returns given, or asks for the code of serial.
func (p *step) tokenCode(ctx context.Context, serial, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	if p.opts.Prompt == nil {
		return "", p.errorf("MFA code needed for %s but there is no terminal to ask on: pass --token-code", serial)
	}
	code, err := p.opts.Prompt(ctx, serial)
	if err != nil {
		return "", p.errorf("MFA code for %s: %v (pass --token-code to avoid the prompt)", serial, err)
	}
	code = strings.TrimSpace(code)
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return "", p.errorf("MFA code for %s must be exactly 6 digits", serial)
	}
	return code, nil
}

// callerSessionName implements -u: the IAM user name, or the session name of
// an assumed-role or federated caller, from sts:GetCallerIdentity.
func (p *Provider) callerSessionName(ctx context.Context) (string, error) {
	arn, err := p.caller(ctx)
	if err != nil {
		return "", p.explain(ctx, err)
	}
	name, ok := awsarn.CallerName(arn)
	if !ok {
		return "", p.errorf("-u: the caller %s has no user or session name (the account root?): pass --role-session-name", arn)
	}
	clean, err := plan.SanitizeSessionName(name)
	if err != nil {
		return "", p.errorf("-u: the caller's name %q %v: pass --role-session-name", name, err)
	}
	return clean, nil
}

// caller returns the ARN of the credentials this step calls STS with.
func (p *step) caller(ctx context.Context) (string, error) {
	out, err := p.sts().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Arn), nil
}

// Error is a failed hop, with a one-line message that names the role.
type Error struct {
	Index int
	Role  string
	Msg   string
	Err   error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// RetryableError tells the SDK's retryer (aws/retry.RetryableError) never to
// retry a call because this step failed. The step's own client has already
// retried its calls: without this, the next hop's client, which gets its
// signing credentials from this step on every attempt, would see the
// wrapped throttling or 5xx error as its own and retry, and a chain of k
// hops would make max_attempts^k calls to a failing first hop.
func (e *Error) RetryableError() bool { return false }

func (p *step) errorf(format string, args ...any) error {
	return &Error{Index: p.index, Role: p.role, Msg: p.label + ": " + fmt.Sprintf(format, args...)}
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
