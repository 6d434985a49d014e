// Package awsclient is the one place where rolehop's AWS SDK clients get
// their HTTP client and retryer: STS (hops, web identity, whoami, console,
// policy, doctor), IAM (doctor), IAM Identity Center (sso, sso-oidc) and
// any new one, such as the sign-in client of an `aws login` source. Every
// client built from a Settings honours the run's settings, resolved with
// their precedence in the plan (plan.ResolveRetry):
//
//   - max_attempts / AWS_MAX_ATTEMPTS: attempts, the first included;
//   - retry_mode / AWS_RETRY_MODE: standard, adaptive, or legacy (run as
//     standard: aws-sdk-go-v2 has no legacy mode);
//   - ROLEHOP_RETRY_MAX_BACKOFF: the cap of the wait between attempts;
//   - ROLEHOP_HTTP_TIMEOUT: how long one attempt may take.
//
// A new client takes them with one call. Each service package of
// aws-sdk-go-v2 has NewFromConfig, so for the sign-in service:
//
//	client := signin.NewFromConfig(settings.Config(region, nil), func(o *signin.Options) {
//		if endpoint != "" {
//			o.BaseEndpoint = aws.String(endpoint)
//		}
//	})
//
// where settings comes from the plan, New(p.Retry), or from the options the
// chain hands a source or a hop (source.Options.AWS, hop.Options.AWS).
// Container and instance-metadata credential endpoints are not AWS API
// clients and keep the SDK's own retryers, as in aws-sdk-go-v2, whose
// max_attempts and retry_mode reach only service clients.
package awsclient

import (
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/rolehop/rolehop/internal/plan"
)

// AppID goes into the User-Agent of every call.
const AppID = "rolehop"

// dialTimeout bounds connecting, within the attempt's timeout.
const dialTimeout = 5 * time.Second

// Settings are what every AWS client of a run shares. The zero value is
// usable: rolehop's defaults and a new HTTP client per client.
type Settings struct {
	// HTTPClient carries every attempt; its Timeout bounds one attempt.
	// Sharing it lets the clients of a run reuse connections.
	HTTPClient *http.Client
	// Retry is the resolved retry behaviour (plan.Plan.Retry).
	Retry plan.Retry
}

// New returns the settings of r with a new HTTP client whose per-attempt
// timeout is r's (ROLEHOP_HTTP_TIMEOUT).
func New(r plan.Retry) Settings {
	return Settings{HTTPClient: NewHTTPClient(r.AttemptTimeout()), Retry: r}
}

// NewHTTPClient is an HTTP client that gives up on an attempt after
// timeout, with the SDK's transport.
func NewHTTPClient(timeout time.Duration) *http.Client {
	tr := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = min(dialTimeout, timeout) }).
		GetTransport()
	return &http.Client{Timeout: timeout, Transport: tr}
}

// Client is s.HTTPClient, or a new one with the plan's timeout when unset.
func (s Settings) Client() *http.Client {
	if s.HTTPClient != nil {
		return s.HTTPClient
	}
	return NewHTTPClient(s.Retry.AttemptTimeout())
}

// Timeout is the per-attempt limit of the HTTP client, for messages.
func (s Settings) Timeout() time.Duration {
	if s.HTTPClient != nil {
		return s.HTTPClient.Timeout
	}
	return s.Retry.AttemptTimeout()
}

// WithDefaultMaxAttempts returns s with n attempts when neither
// max_attempts nor AWS_MAX_ATTEMPTS is set: for a client whose default
// differs from rolehop's (doctor's best-effort IAM read).
func (s Settings) WithDefaultMaxAttempts(n int) Settings {
	if !s.Retry.MaxAttemptsSet() {
		s.Retry.MaxAttempts = n
	}
	return s
}

// NewRetryer returns a new retryer with the settings: the SDK's standard
// retryer (jittered exponential backoff capped at the max backoff, the
// retry quota) or its adaptive one (the same, plus client-side rate
// limiting after throttling), making at most Retry.Attempts() attempts.
// Retryers hold state (the quota, the measured rate): give each client its
// own.
func (s Settings) NewRetryer() aws.Retryer {
	return s.NewRetryerWith()
}

// NewRetryerWith is NewRetryer with further standard options applied after
// the settings' (a client's own backoff or rate limiter).
func (s Settings) NewRetryerWith(more ...func(*retry.StandardOptions)) aws.Retryer {
	std := append([]func(*retry.StandardOptions){func(o *retry.StandardOptions) {
		o.MaxAttempts = s.Retry.Attempts()
		o.MaxBackoff = s.Retry.MaxBackoff()
	}}, more...)
	if s.Retry.SDKMode() == plan.RetryAdaptive {
		return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, std...)
		})
	}
	return retry.NewStandard(std...)
}

// Config is the aws.Config of one client signing with creds (nil for the
// unsigned IAM Identity Center and sign-in calls) in region: pass it to the
// service package's NewFromConfig. Each call gives the client a retryer of
// its own.
func (s Settings) Config(region string, creds aws.CredentialsProvider) aws.Config {
	return aws.Config{
		Region:      region,
		Credentials: creds,
		HTTPClient:  s.Client(),
		Retryer:     s.NewRetryer,
		AppID:       AppID,
	}
}
