package hop

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/rolehop/rolehop/internal/awserr"
	"github.com/rolehop/rolehop/internal/source"
)

// explain turns an STS or transport failure into a one-line *Error that
// says what to do. Failures of an earlier step pass through unchanged.
func (p *step) explain(ctx context.Context, err error) error {
	var he *Error
	var se *source.Error
	if errors.As(err, &he) {
		return he
	}
	if errors.As(err, &se) {
		return se
	}
	wrap := func(format string, args ...any) error {
		e := p.errorf(format, args...).(*Error)
		e.Err = err
		return e
	}
	f := awserr.Classify(err, p.timeout())
	if msg, ok := f.Describe("STS", p.endpoint(), "AWS_ENDPOINT_URL_STS"); ok {
		return wrap("%s", msg)
	}
	if f.Kind != awserr.API {
		return wrap("%s", f.Cause)
	}
	code, msg := f.Code, f.Message
	switch {
	case code == "AccessDenied":
		who := "the caller"
		if arn, cerr := p.caller(ctx); cerr == nil {
			who = arn
		}
		if p.role == "" {
			return wrap("AccessDenied for %s: %s — check the MFA serial and code", who, msg)
		}
		return wrap("AccessDenied: %s is not allowed to assume this role: %s — check the role's trust policy (principal, MFA and external id conditions) and the caller's sts:AssumeRole permission", who, msg)
	case isClockSkew(code, msg):
		// STS refuses a signature more than 5 minutes away from its clock
		// ("Signature expired: … is now earlier than …"); aws-sdk-go-v2
		// corrects its clock from the Date header and retries once, so
		// this is reached only when STS's Date did not show the skew.
		// Source: AWS General Reference, "Signature Version 4: elements of
		// a request" (time stamps within 5 minutes).
		return wrap("STS refused the request's signing time (%s: %s): the local clock is more than 5 minutes off STS's, or the request was held up on its way — set the clock right (NTP) and try again", code, msg)
	case code == "ExpiredToken", code == "ExpiredTokenException", code == "InvalidClientTokenId", code == "SignatureDoesNotMatch", code == "UnrecognizedClientException":
		return wrap("the credentials used for this hop were rejected (%s: %s): they are expired or invalid — refresh the source credentials and try again", code, msg)
	case code == "RegionDisabledException":
		return wrap("STS is not activated in region %s for this account (%s): activate it in IAM account settings or use --region", p.opts.Region, msg)
	case IsChainingLimit(err):
		return wrap("%s: %s — the caller's credentials are a role session, and AWS caps a role assumed with them (role chaining) at 1 hour: set duration_seconds or --duration-seconds to 3600 or less", code, msg)
	case code == "ValidationError" && strings.Contains(msg, "MaxSessionDuration"):
		return wrap("%s: %s — lower duration_seconds or --duration-seconds, or raise the role's maximum session duration", code, msg)
	}
	return wrap("%s: %s", code, msg)
}

// isClockSkew reports whether an STS error is about the request's signing
// time rather than its credentials.
func isClockSkew(code, msg string) bool {
	switch code {
	case "RequestExpired", "RequestTimeTooSkewed":
		return true
	case "SignatureDoesNotMatch", "InvalidSignatureException":
		return strings.HasPrefix(msg, "Signature expired") || strings.Contains(msg, "Signature not yet current")
	}
	return false
}

// endpoint is where this step's STS client sends its requests.
func (p *step) endpoint() string {
	if p.opts.Endpoint != "" {
		return p.opts.Endpoint
	}
	return "sts." + p.opts.Region + ".amazonaws.com"
}

// timeout is the HTTP client's limit on one attempt, when known.
func (p *step) timeout() time.Duration {
	return p.opts.AWS.Timeout()
}
