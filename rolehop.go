// Package rolehop assumes AWS roles — one, or a chain across accounts — and
// returns an aws.Config whose credentials refresh themselves. It is the
// library behind the rolehop command: the same resolution of profiles,
// environment and options, the same AssumeRole steps and the same caches.
//
// The returned config is safe for concurrent use and is meant to be kept:
// in a Lambda function, build it once outside the handler and every warm
// invocation reuses the credentials, calling STS again only when less than
// the refresh window (5 minutes by default) of validity remains.
//
//	cfg, err := rolehop.AssumeRole(ctx, "arn:aws:iam::222222222222:role/bot",
//		rolehop.WithSessionName("bot"), rolehop.WithRegion("ap-northeast-1"))
//	s3Client := s3.NewFromConfig(cfg)
//
// Without WithBaseConfig the first credentials are found like the CLI
// finds them: a profile named by AWS_PROFILE (whose roles come first), else
// env keys, web identity, the default profile, the container endpoint, then
// instance metadata (the Lambda execution role's keys are in the
// environment). The returned config then holds only the region and the
// credentials; to keep endpoints, retryers and other settings of your own,
// pass your config with WithBaseConfig.
//
// rolehop's own calls (STS, IAM Identity Center) are retried and timed out
// as the CLI's are: max_attempts and retry_mode of the profile, or
// AWS_MAX_ATTEMPTS and AWS_RETRY_MODE, and ROLEHOP_HTTP_TIMEOUT; the
// retryer of a WithBaseConfig config governs only the clients built from
// the returned config.
package rolehop

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/cache"
	"github.com/rolehop/rolehop/internal/chain"
	"github.com/rolehop/rolehop/internal/keychain"
	"github.com/rolehop/rolehop/internal/plan"
)

// Option configures Config, AssumeRole and Profile.
type Option func(*options)

type options struct {
	flags      plan.HopFlags
	tags       map[string]string
	region     string
	base       *aws.Config
	cacheDir   string
	minTTL     time.Duration
	httpClient *http.Client
	getenv     func(string) string
}

// WithSessionName sets the RoleSessionName of the last hop (2–64 characters
// of [A-Za-z0-9+=,.@_-]; other characters become '-').
func WithSessionName(name string) Option { return func(o *options) { o.flags.RoleSessionName = name } }

// WithDuration sets the lifetime of the last hop's credentials (15 minutes
// to 12 hours; a chained hop is capped at 1 hour by AWS).
func WithDuration(d time.Duration) Option {
	return func(o *options) { o.flags.DurationSeconds = strconv.Itoa(int(d / time.Second)) }
}

// WithExternalID sets the external id the last role's trust policy requires.
func WithExternalID(id string) Option { return func(o *options) { o.flags.ExternalID = id } }

// WithRegion sets the region of the returned config and of the STS calls.
func WithRegion(region string) Option { return func(o *options) { o.region = region } }

// WithPolicy scopes the last hop's session down with an inline policy (JSON).
func WithPolicy(json string) Option { return func(o *options) { o.flags.Policy = json } }

// WithPolicyARNs scopes the last hop's session down with managed policies.
func WithPolicyARNs(arns ...string) Option {
	return func(o *options) { o.flags.PolicyARNs = append(o.flags.PolicyARNs, arns...) }
}

// WithTags sets session tags on the last hop.
func WithTags(tags map[string]string) Option { return func(o *options) { o.tags = tags } }

// WithTransitiveTagKeys marks session tags that pass on to later sessions.
func WithTransitiveTagKeys(keys ...string) Option {
	return func(o *options) { o.flags.TransitiveTagKeys = append(o.flags.TransitiveTagKeys, keys...) }
}

// WithSourceIdentity sets the source identity of the last hop.
func WithSourceIdentity(id string) Option { return func(o *options) { o.flags.SourceIdentity = id } }

// WithBaseConfig makes cfg's credentials the source of the chain, and the
// returned config a copy of cfg (its HTTP client, retryer, region, …) with
// the role's credentials.
func WithBaseConfig(cfg aws.Config) Option { return func(o *options) { o.base = &cfg } }

// WithCacheDir shares credentials across processes through rolehop's disk
// cache in dir (the CLI's is $XDG_CACHE_HOME/rolehop). Without it only the
// returned config keeps them, in memory. It cannot be combined with
// WithBaseConfig, whose credentials rolehop cannot name in a cache key.
func WithCacheDir(dir string) Option { return func(o *options) { o.cacheDir = dir } }

// WithMinTTL sets how much validity credentials must have left to be
// reused (default 5 minutes).
func WithMinTTL(d time.Duration) Option { return func(o *options) { o.minTTL = d } }

// WithHTTPClient sets the HTTP client for STS and credential endpoints.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// withGetenv replaces os.Getenv (tests).
func withGetenv(f func(string) string) Option { return func(o *options) { o.getenv = f } }

// AssumeRole returns a config that acts as roleARN.
func AssumeRole(ctx context.Context, roleARN string, opts ...Option) (aws.Config, error) {
	return Config(ctx, []string{roleARN}, opts...)
}

// Config returns a config that acts as the last of roleARNs, each role
// assumed with the credentials of the one before it. The options that name
// one hop (session name, duration, external id, policies, tags, source
// identity) apply to the last one; earlier hops get rolehop's default
// session name (rolehop-<user>), and each hop without a name of its own
// carries the previous hop's.
func Config(ctx context.Context, roleARNs []string, opts ...Option) (aws.Config, error) {
	if len(roleARNs) == 0 {
		return aws.Config{}, errors.New("rolehop: no role to assume: give at least one role ARN")
	}
	return build(ctx, plan.Request{RoleARNs: roleARNs}, opts)
}

// Profile returns a config for a profile of the shared config files, with
// the CLI's semantics (role chains, credential_source, SSO, web identity,
// credential_process). Hop options apply to the profile's last role.
func Profile(ctx context.Context, name string, opts ...Option) (aws.Config, error) {
	return build(ctx, plan.Request{Profile: name, ProfileFrom: "rolehop.Profile"}, opts)
}

func build(ctx context.Context, req plan.Request, opts []Option) (aws.Config, error) {
	o := options{getenv: os.Getenv, minTTL: chain.DefaultMinTTL}
	for _, opt := range opts {
		opt(&o)
	}
	if o.base != nil && o.cacheDir != "" {
		return aws.Config{}, errors.New("rolehop: WithCacheDir cannot be combined with WithBaseConfig")
	}
	if o.base != nil && req.Profile != "" {
		return aws.Config{}, errors.New("rolehop: Profile takes its credentials from the profile: WithBaseConfig cannot be combined with it")
	}
	cfg, err := awsconfig.LoadEnv(o.getenv)
	if err != nil {
		return aws.Config{}, err
	}
	req.Flags = o.flags
	req.Flags.Tags, err = tagList(o.tags)
	if err != nil {
		return aws.Config{}, err
	}
	req.Region, req.Getenv, req.Config, req.ReadFile = o.region, o.getenv, cfg, os.ReadFile
	if o.base == nil {
		// profiles whose keys `rolehop keys add` put in the OS keychain
		if req.Keychain, err = keychain.LoadIndex(o.getenv); err != nil {
			return aws.Config{}, fmt.Errorf("rolehop: %w", err)
		}
	}
	if req.Region == "" && o.base != nil {
		req.Region = o.base.Region
	}
	req.Provided = o.base != nil
	if u, err := user.Current(); err == nil {
		req.LocalUser = u.Username
	}
	p, err := plan.Resolve(req)
	if err != nil {
		return aws.Config{}, fmt.Errorf("rolehop: %w", err)
	}
	copts := chain.Options{HTTPClient: o.httpClient, MinTTL: o.minTTL, Getenv: o.getenv}
	if o.base != nil {
		copts.Provided = o.base.Credentials
		if copts.Provided == nil {
			return aws.Config{}, errors.New("rolehop: WithBaseConfig: the config has no Credentials")
		}
	}
	if o.cacheDir != "" {
		copts.Store = cache.Open(o.cacheDir)
	}
	prov, err := chain.Build(p, copts)
	if err != nil {
		return aws.Config{}, fmt.Errorf("rolehop: %w", err)
	}
	out := aws.Config{}
	if o.base != nil {
		out = o.base.Copy()
	}
	out.Credentials = &provider{prov}
	if o.httpClient != nil {
		out.HTTPClient = o.httpClient
	}
	if p.Region.IsSet() {
		out.Region = p.Region.Value
	}
	return out, nil
}

// provider surfaces the failing step's one-line message.
type provider struct{ p aws.CredentialsProvider }

// Retrieve implements aws.CredentialsProvider.
func (p *provider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.p.Retrieve(ctx)
	if err != nil {
		return c, fmt.Errorf("rolehop: %w", chain.Cause(err))
	}
	return c, nil
}

// tagList renders tags in key order as the plan's "K=V,K2=V2" form.
func tagList(tags map[string]string) (string, error) {
	keys := make([]string, 0, len(tags))
	for k, v := range tags {
		if strings.ContainsAny(k, ",=") || strings.Contains(v, ",") {
			return "", fmt.Errorf("rolehop: session tag %q: keys cannot contain ',' or '=' and values cannot contain ','", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + tags[k]
	}
	return strings.Join(parts, ","), nil
}
