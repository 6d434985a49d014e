// Package awserr turns a failed aws-sdk-go-v2 call into what a person needs
// to read: which kind of failure it was (throttled, an AWS-side error, a
// network failure, a timeout, an answer that is not from the service at
// all), how many attempts the SDK's retryer made, and one line that says
// what to do. STS hops and IAM Identity Center share it so that the same
// fault reads the same way everywhere.
package awserr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Kind is the class of a failure.
type Kind int

// Failure kinds. Throttled, ServerError, Unreachable and Timeout are the
// ones the SDK's standard retryer retries; the others fail at once.
const (
	// API is an error the service answered in its own format (AccessDenied,
	// ExpiredToken, …): the caller interprets the code.
	API Kind = iota
	// Throttled is a throttling error code (Throttling, TooManyRequestsException, …).
	Throttled
	// ServerError is an HTTP 5xx answer in the service's error format.
	ServerError
	// Unreachable is a failure to connect, or a connection reset or closed
	// before an answer.
	Unreachable
	// Timeout is no answer within the HTTP client's timeout.
	Timeout
	// NotAWS is an answer that is not the service's: a body that does not
	// parse, or an error status without the service's error format (a
	// proxy, a captive portal, a wrong endpoint).
	NotAWS
	// Other is anything else (a canceled context, a signing failure).
	Other
)

// Failure is a classified SDK error.
type Failure struct {
	Kind Kind
	// Status is the HTTP status of the answer; 0 when there was none.
	Status int
	// Code and Message are the service's error, when it sent one.
	Code, Message string
	// Attempts is how many attempts the retryer made when it gave up after
	// its maximum; 0 when it did not retry up to its maximum.
	Attempts int
	// Cause is a short description of a transport failure or of the
	// unparsable answer.
	Cause string
	// Err is the error classified.
	Err error
}

// Classify inspects err, the result of an SDK operation. timeout is the HTTP
// client's timeout (0 if unknown), named in the message of a Timeout.
func Classify(err error, timeout time.Duration) Failure {
	f := Failure{Kind: Other, Err: err, Cause: oneLine(err)}
	var maxAttempts *retry.MaxAttemptsError
	if errors.As(err, &maxAttempts) {
		f.Attempts = maxAttempts.Attempt
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.Response != nil {
		f.Status = resp.HTTPStatusCode()
	}
	var api smithy.APIError
	var deser *smithy.DeserializationError
	var send *smithyhttp.RequestSendError
	switch {
	case errors.As(err, &api):
		f.Code, f.Message = api.ErrorCode(), api.ErrorMessage()
		switch {
		case f.Code == "UnknownError" || f.Code == "":
			// The SDK found no error in the body: not the service talking.
			f.Kind, f.Cause = NotAWS, "no error in the service's format"
		case isThrottle(f.Code):
			f.Kind = Throttled
		case f.Status >= 500:
			f.Kind = ServerError
		default:
			f.Kind = API
		}
	case errors.As(err, &deser):
		f.Kind, f.Cause = NotAWS, "the body does not parse: "+oneLine(deser.Err)
	case errors.As(err, &send):
		f.Kind, f.Cause = Unreachable, transportCause(send.Err)
		var ne net.Error
		if errors.As(send.Err, &ne) && ne.Timeout() && !isDial(send.Err) {
			f.Kind, f.Cause = Timeout, "no answer"
			if timeout > 0 {
				f.Cause = fmt.Sprintf("no answer within %s", timeout)
			}
		}
	case errors.Is(err, context.DeadlineExceeded):
		f.Kind, f.Cause = Timeout, "no answer before the deadline"
	}
	return f
}

// Retryable reports whether the SDK's standard retryer retries this kind.
func (f Failure) Retryable() bool {
	switch f.Kind {
	case Throttled, ServerError, Unreachable, Timeout:
		return true
	}
	return false
}

// Describe is the one-line explanation of a failure that is not an API
// error: service names the service ("STS"), endpoint where it was called,
// envVar the variable that points rolehop at another endpoint. ok is false
// for API and Other failures, which the caller explains from the code.
func (f Failure) Describe(service, endpoint, envVar string) (msg string, ok bool) {
	after := ""
	if f.Attempts > 1 {
		after = fmt.Sprintf(" (%d attempts)", f.Attempts)
	}
	api := f.Code
	if f.Message != "" {
		api += ": " + f.Message
	}
	switch f.Kind {
	case Throttled:
		return fmt.Sprintf("%s throttled the request%s: %s — too many calls in this account and region: wait a minute and run again", service, after, api), true
	case ServerError:
		return fmt.Sprintf("%s failed with HTTP %d%s: %s — a temporary failure on the AWS side: run again in a minute", service, f.Status, after, api), true
	case Timeout:
		return fmt.Sprintf("%s at %s: %s%s — check the network and proxy settings (ROLEHOP_HTTP_TIMEOUT sets the limit)", service, endpoint, f.Cause, after), true
	case Unreachable:
		return fmt.Sprintf("cannot reach %s at %s%s: %s — check the network, proxy settings or %s", service, endpoint, after, f.Cause, envVar), true
	case NotAWS:
		status := ""
		if f.Status != 0 {
			status = fmt.Sprintf("HTTP %d, ", f.Status)
		}
		return fmt.Sprintf("%s at %s answered something that is not an %s response%s: %s%s — check %s and any proxy or firewall in between", service, endpoint, service, after, status, f.Cause, envVar), true
	}
	return "", false
}

// isThrottle reports whether code is one of the SDK's throttling codes.
func isThrottle(code string) bool {
	_, ok := retry.DefaultThrottleErrorCodes[code]
	return ok
}

// isDial reports whether err is a failure to connect.
func isDial(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// transportCause shortens a failed round trip to what happened.
func transportCause(err error) string {
	var op *net.OpError
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns):
		return oneLine(dns)
	case errors.As(err, &op):
		return oneLine(op)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection was closed before an answer"
	}
	return oneLine(err)
}

func oneLine(err error) string {
	if err == nil {
		return ""
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}
