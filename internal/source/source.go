// Package source builds the credentials provider for the first step of a
// chain (env keys, profile keys, credential_process, container endpoint,
// instance metadata) from a resolved plan.Source. It reuses aws-sdk-go-v2's
// own providers for each kind.
package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/smithy-go"

	"github.com/rolehop/rolehop/internal/awsclient"
	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/sso"
)

// Options are the injectable parts of source providers.
type Options struct {
	// HTTPClient is used for the container and instance-metadata endpoints.
	HTTPClient *http.Client
	// AWS is the HTTP client and retry settings of the AWS API clients a
	// source builds (STS for web identity, IAM Identity Center): build them
	// with AWS.Config, never with options of their own. Without an
	// AWS.HTTPClient they use HTTPClient.
	AWS awsclient.Settings
	// Clock tells the time for expiry checks; nil means time.Now.
	Clock func() time.Time
	// STSRegion and STSEndpoint are for AssumeRoleWithWebIdentity.
	STSRegion, STSEndpoint string
	// Getenv reads the GitHub Actions OIDC variables; nil means os.Getenv.
	Getenv func(string) string
	// Provided is the credentials of a SourceProvided plan.
	Provided aws.CredentialsProvider
	// Notice is told when a token cache was tightened; nil: nobody.
	Notice func(format string, args ...any)
	// MinTTL is the validity the chain needs its source's credentials to
	// have left (--min-ttl): a source that refreshes itself (an aws login
	// session) refreshes when less is left.
	MinTTL time.Duration
	// WebIdentityToken, when set, is where a SourceWebIdent source gets its
	// token (ReadWebIdentityToken); nil reads it on every call.
	WebIdentityToken *WebIdentityToken
}

// New returns a provider for src whose failures are *Error. The caller
// wraps it in a cache.
func New(src plan.Source, opts Options) (aws.CredentialsProvider, error) {
	p, err := newProvider(src, opts)
	if err != nil {
		return nil, err
	}
	return &described{src: src, p: p, clock: opts.Clock}, nil
}

func newProvider(src plan.Source, opts Options) (aws.CredentialsProvider, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.AWS.HTTPClient == nil {
		opts.AWS.HTTPClient = opts.HTTPClient // nil: one with the settings' timeout
	}
	switch src.Kind {
	case plan.SourceWebIdent:
		return webIdentity(src, opts), nil
	case plan.SourceProvided:
		if opts.Provided == nil {
			return nil, fmt.Errorf("the plan expects caller-provided credentials but none were given")
		}
		return opts.Provided, nil
	case plan.SourceSSO:
		return &sso.RoleProvider{SSO: src.SSO, Opts: sso.Options{
			Home: awsconfig.HomeDir(opts.Getenv), AWS: opts.AWS, Now: opts.Clock, LoginHint: LoginHint(src), Notice: opts.Notice,
		}}, nil
	case plan.SourceLogin:
		return newLogin(src, opts), nil
	case plan.SourceKeychain:
		return keychainKeys{src: src, opts: opts}, nil
	case plan.SourceEnv, plan.SourceStatic:
		p := credentials.NewStaticCredentialsProvider(src.AccessKeyID, src.SecretAccessKey.Reveal(), src.SessionToken.Reveal())
		return p, nil
	case plan.SourceProcess:
		return quietProcess{processcreds.NewProvider(src.Command)}, nil
	case plan.SourceContainer:
		return endpointcreds.New(src.ContainerURL, func(o *endpointcreds.Options) {
			if opts.HTTPClient != nil {
				o.HTTPClient = opts.HTTPClient
			}
			if src.ContainerTokenFile != "" {
				o.AuthorizationTokenProvider = tokenFile(src.ContainerTokenFile)
			} else {
				o.AuthorizationToken = src.ContainerToken.Reveal()
			}
		}), nil
	case plan.SourceIMDS:
		return ec2rolecreds.New(func(o *ec2rolecreds.Options) {
			o.Client = imdsClient(src, opts)
		}), nil
	}
	return nil, fmt.Errorf("unknown credential source %q", src.Kind)
}

// imdsClient is the instance metadata client of an IMDS source. The plan
// has resolved the endpoint (ec2_metadata_service_endpoint, the endpoint
// mode, the default) and AWS_EC2_METADATA_DISABLED, so the client is told
// both and the SDK reads neither from the process environment (imds.New
// would otherwise read AWS_EC2_METADATA_SERVICE_ENDPOINT and
// AWS_EC2_METADATA_DISABLED itself). IMDSv1 fallback is off: rolehop only
// speaks IMDSv2, whatever AWS_EC2_METADATA_V1_DISABLED says.
func imdsClient(src plan.Source, opts Options) *imds.Client {
	endpoint := src.IMDSEndpoint
	if endpoint == "" {
		endpoint = plan.IMDSEndpointIPv4
	}
	o := imds.Options{
		Endpoint:          endpoint,
		ClientEnableState: imds.ClientEnabled,
		EnableFallback:    aws.FalseTernary,
	}
	if opts.HTTPClient != nil {
		o.HTTPClient = opts.HTTPClient
	}
	return imds.New(o)
}

// quietProcess is processcreds' provider without the process output in its
// errors: when the output is not valid JSON, the SDK's error quotes it
// whole ("parse failed of process output: <output>, error: …"), and a
// process that prints its JSON with a stray line, a trailing comma or a
// shell warning would put its SecretAccessKey into rolehop's error message.
type quietProcess struct{ p *processcreds.Provider }

// Retrieve implements aws.CredentialsProvider.
func (q quietProcess) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := q.p.Retrieve(ctx)
	var pe *processcreds.ProviderError
	if err != nil && errors.As(err, &pe) && strings.HasPrefix(pe.Err.Error(), "parse failed of process output") {
		err = fmt.Errorf("its output is not credential_process JSON: %s", jsonProblem(errors.Unwrap(pe.Err)))
	}
	return c, err
}

// jsonProblem describes a decoding error of credential_process output
// without quoting the output: a syntax error says where, a type error which
// field, and an unparseable Expiration says so without its value.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tpe *time.ParseError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s is a JSON %s, not a %s", typ.Field, typ.Value, typ.Type)
	case errors.As(err, &tpe):
		return "Expiration is not an RFC 3339 time (e.g. 2030-01-02T03:04:05Z)"
	case errors.Is(err, io.ErrUnexpectedEOF), err == nil:
		return "the JSON document is incomplete"
	}
	return "not a JSON object of credentials"
}

// LoginHint is the command that logs in for an SSO source.
func LoginHint(src plan.Source) string {
	if src.Kind == plan.SourceLogin {
		return "aws login --profile " + src.Profile
	}
	if src.Profile != "" {
		return "rolehop login " + src.Profile
	}
	return "rolehop login --sso-session " + src.SSO.Session
}

// tokenFile reads the container authorization token from a file on every
// request, as botocore and the Go SDK do (the file may be rotated).
type tokenFile string

// GetToken implements endpointcreds.AuthTokenProvider.
func (f tokenFile) GetToken() (string, error) {
	b, err := os.ReadFile(string(f))
	if err != nil {
		return "", fmt.Errorf("read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: %w", err)
	}
	// AWS-SEMANTICS §7: the file is not trimmed, and a token containing CR
	// or LF is rejected by both SDKs; say so instead of sending a bad header.
	if strings.ContainsAny(string(b), "\r\n") {
		return "", fmt.Errorf("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s contains a line break (often a trailing newline): write the token without one", string(f))
	}
	return string(b), nil
}

// tokenRefused reports whether an instance metadata failure is the IMDSv2
// token request failing other than by a refused connection or an unknown
// host: answered with an HTTP error, or timing out (a container on EC2
// whose hop limit drops the answer), where an SDK with IMDSv1 fallback
// would have gone on without a token. The SDK does not keep the cause in
// the error chain (its retryableError has no Unwrap), so this reads the
// message: a refused connection in the OS's words (errConnRefused: on
// Windows not "connection refused").
func tokenRefused(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "failed to get API token") &&
		!strings.Contains(msg, errConnRefused.Error()) && !strings.Contains(msg, "no such host")
}

// Error wraps a failure to get the source credentials with what was tried.
type Error struct {
	Source plan.Source
	Err    error
}

func (e *Error) Error() string {
	detail := oneLine(e.Err)
	var api smithy.APIError
	if errors.As(e.Err, &api) && api.ErrorCode() != "" {
		detail = api.ErrorCode() + ": " + api.ErrorMessage()
	}
	msg := fmt.Sprintf("cannot get source credentials from %s: %s", e.Source.Describe(), detail)
	switch e.Source.Kind {
	case plan.SourceIMDS:
		if len(e.Source.Tried) > 0 {
			msg = "no AWS credentials found: tried " + strings.Join(e.Source.Tried, "; ") + "; " + e.Source.Describe() + ": " + oneLine(e.Err)
		}
		if tokenRefused(e.Err) {
			msg += " (rolehop speaks IMDSv2 only, with no IMDSv1 fallback: the endpoint must hand out a token on PUT /latest/api/token; in a container on EC2 that needs a metadata response hop limit of 2 or more)"
		}
	case plan.SourceContainer:
		token := "AWS_CONTAINER_AUTHORIZATION_TOKEN"
		if e.Source.ContainerTokenFile != "" {
			token = "the token in AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (it outranks AWS_CONTAINER_AUTHORIZATION_TOKEN)"
		}
		msg += " (check " + token + " and that the endpoint is running)"
	case plan.SourceProcess:
		msg += fmt.Sprintf(" (run the credential_process of profile %q by hand to see why)", e.Source.Profile)
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// RetryableError tells the SDK's retryer never to retry a hop's call
// because the source failed: the source's own client (IAM Identity Center,
// STS for web identity) has retried already (hop.Error.RetryableError).
func (e *Error) RetryableError() bool { return false }

// described wraps a provider so that its failures say which source failed.
type described struct {
	src   plan.Source
	p     aws.CredentialsProvider
	clock func() time.Time
}

// Retrieve implements aws.CredentialsProvider. It also refuses what no
// AWS client would accept (botocore requires both keys; aws-sdk-go-v2's
// endpoint provider does not check), so a broken endpoint fails here with a
// clear message instead of as a signature error at STS.
//
// A panic inside the SDK provider becomes an error too: aws-sdk-go-v2's
// endpointcreds dereferences a nil result when a container endpoint answers
// with the JSON value null (200 or an error status), and a broken or
// hostile endpoint must not crash rolehop or the endpoint it serves.
//
// Credentials without an account id get the one the configuration states
// (plan.Source.AccountID): the static providers carry none, and a
// credential_process's own AccountId wins over the profile's
// aws_account_id, as in botocore.
func (d *described) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := d.retrieve(ctx)
	if err == nil {
		err = check(c, d.now())
	}
	if err != nil {
		return aws.Credentials{}, &Error{Source: d.src, Err: err}
	}
	if c.AccountID == "" {
		c.AccountID = d.src.AccountID.Value
	}
	return c, nil
}

// retrieve calls the provider, turning a panic into an error.
func (d *described) retrieve(ctx context.Context) (c aws.Credentials, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = aws.Credentials{}, fmt.Errorf("the answer could not be read (the AWS SDK failed on it: %v)", r)
		}
	}()
	return d.p.Retrieve(ctx)
}

func (d *described) now() time.Time {
	if d.clock != nil {
		return d.clock()
	}
	return time.Now()
}

// check validates credentials handed out by a source.
func check(c aws.Credentials, now time.Time) error {
	switch {
	case c.AccessKeyID == "" && c.SecretAccessKey == "":
		return errors.New("the response holds no AccessKeyId and no SecretAccessKey")
	case c.AccessKeyID == "":
		return errors.New("the response holds no AccessKeyId")
	case c.SecretAccessKey == "":
		return errors.New("the response holds no SecretAccessKey")
	case c.CanExpire && !c.Expires.After(now):
		return fmt.Errorf("the credentials expired at %s", c.Expires.UTC().Format(time.RFC3339))
	}
	return nil
}

// oneLine folds an error message onto one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
