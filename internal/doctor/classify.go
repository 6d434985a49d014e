package doctor

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"strings"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/rolehop/rolehop/internal/hop"
	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/source"
)

// failureContext is what classifying one step's failure needs.
type failureContext struct {
	d    *Doctor
	plan *plan.Plan
	hop  int        // -1 for the source
	prev *stepState // the previous step, nil for the source
}

// awsError is an AWS error reduced to what classification looks at.
type awsError struct {
	code, message string
	status        int
	err           error
}

// apiError extracts the AWS error code, message and HTTP status of err.
// When the SDK could not parse the error body ("UnknownError", as with
// moto's auth layer), the recorded raw response supplies the code.
func (fc failureContext) apiError(err error) (awsError, bool) {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return awsError{}, false
	}
	ae := awsError{code: api.ErrorCode(), message: api.ErrorMessage(), err: err}
	var re *awshttp.ResponseError
	requestID := ""
	if errors.As(err, &re) {
		ae.status = re.HTTPStatusCode()
		requestID = re.ServiceRequestID()
	}
	if ae.code == "" || ae.code == "UnknownError" {
		if code, msg := fc.d.rec.rawError(requestID); code != "" {
			ae.code, ae.message = code, html.UnescapeString(msg)
		}
	}
	return ae, true
}

func (ae awsError) String() string {
	s := ae.code
	if ae.message != "" && ae.message != ae.code {
		s += ": " + ae.message
	}
	if ae.status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", ae.status)
	}
	return s
}

// stepName is "the source" or "hop 2 (arn…)".
func (fc failureContext) stepName() string {
	if fc.hop < 0 {
		return "the source (" + fc.plan.Source.Describe() + ")"
	}
	return fmt.Sprintf("hop %d (%s)", fc.hop+1, fc.plan.Hops[fc.hop].RoleARN.Value)
}

// callerName is who signs this step's STS calls.
func (fc failureContext) callerName() string {
	if fc.hop < 0 {
		return "the source credentials (" + fc.plan.Source.Describe() + ")"
	}
	if fc.prev != nil && fc.prev.identity != nil {
		return fc.prev.identity.ARN
	}
	return "the previous step's credentials"
}

// retrieveFailed classifies a failure to get a step's credentials.
func (fc failureContext) retrieveFailed(ctx context.Context, err error) []Finding {
	var se *source.Error
	var he *hop.Error
	switch {
	case errors.As(err, &se):
		return []Finding{fc.sourceFailed(se)}
	case errors.As(err, &he):
		if he.Err == nil {
			// Failed before calling STS: the MFA code, -u's caller name.
			return []Finding{{Code: hopCode(he.Msg), Severity: SeverityError, Problem: he.Msg, Fix: hopFix(he.Msg)}}
		}
		if he.Role == "" {
			return fc.mfaSessionFailed(he)
		}
		return fc.stsFailed(ctx, he.Err, true)
	}
	return fc.stsFailed(ctx, err, fc.hop >= 0)
}

// identityFailed classifies a failed sts:GetCallerIdentity with the step's
// fresh credentials.
func (fc failureContext) identityFailed(err error) []Finding {
	return fc.stsFailed(context.Background(), err, false)
}

func hopCode(msg string) string {
	if strings.Contains(msg, "MFA") {
		return CodeMFA
	}
	return CodeSTSError
}

func hopFix(msg string) string {
	switch {
	case strings.Contains(msg, "no terminal"):
		return "pass --token-code with the current 6-digit code, or set mfa_process in the profile (e.g. ykman oath accounts code -s NAME)"
	case strings.Contains(msg, "MFA code"):
		return "enter the current 6-digit code of the MFA device"
	case strings.Contains(msg, "-u:"):
		return "pass --role-session-name instead of -u"
	}
	return "see the message above"
}

func (fc failureContext) sourceFailed(se *source.Error) Finding {
	f := Finding{Code: CodeSourceFailed, Severity: SeverityError, Problem: se.Error(), Error: oneLine(se.Err.Error())}
	if ae, ok := fc.apiError(se.Err); ok {
		if c := credentialFinding(ae, "the source"); c != nil {
			c.Problem = se.Error() + ": " + c.Problem
			return *c
		}
	}
	s := fc.plan.Source
	switch s.Kind {
	case plan.SourceProcess:
		f.Fix = fmt.Sprintf("run the credential_process of profile %q (%s) by hand and fix what it prints", s.Profile, s.Command)
	case plan.SourceContainer:
		f.Fix = "check that the container credentials endpoint " + s.ContainerURL + " is running and AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE) is current"
	case plan.SourceSSO:
		f.Fix = "sign in again: " + source.LoginHint(s)
	case plan.SourceLogin:
		f.Fix = "the aws login session (" + s.Login.CacheFile + ") needs a new sign-in or the error above fixed: " + source.LoginHint(s)
	case plan.SourceWebIdent:
		f.Fix = "check the web identity token (" + s.WebIdentityTokenFile.Value + ") and that " + s.WebIdentityRole.Value + " trusts its issuer and audience"
	case plan.SourceIMDS:
		f.Fix = "attach an instance profile to the EC2 instance, or provide credentials another way"
		if s.IMDSEndpoint != "" && s.IMDSEndpoint != plan.IMDSEndpointIPv4 && s.IMDSEndpoint != plan.IMDSEndpointIPv6 {
			f.Fix = "check that the instance metadata endpoint " + s.IMDSEndpoint + " (" + s.IMDSEndpointFrom + ") is running and speaks IMDSv2, e.g. `aws_signing_helper serve`"
		}
	default:
		f.Fix = "check the source credentials"
	}
	return f
}

func (fc failureContext) mfaSessionFailed(he *hop.Error) []Finding {
	h := fc.plan.Hops[fc.hop]
	ae, ok := fc.apiError(he.Err)
	if ok && ae.code == "AccessDenied" {
		return []Finding{{
			Code: CodeMFA, Severity: SeverityError, Error: ae.String(),
			Problem: fmt.Sprintf("sts:GetSessionToken with MFA device %s was refused", h.SerialNumber.Value),
			Fix: fmt.Sprintf("check mfa_serial (%s) is the ARN of the MFA device of %s, and enter a fresh code (each code works once)",
				fromOr(h.SerialNumber.From, "--serial-number"), fc.callerName()),
		}}
	}
	return fc.stsFailed(context.Background(), he.Err, false)
}

// stsFailed classifies an STS (or transport) error. assume is true for an
// AssumeRole that failed, false for calls made with the step's own
// credentials (GetCallerIdentity, GetSessionToken).
func (fc failureContext) stsFailed(ctx context.Context, err error, assume bool) []Finding {
	ae, ok := fc.apiError(err)
	if !ok {
		return []Finding{fc.transportFailed(err)}
	}
	whose := "the credentials of " + fc.stepName()
	if assume {
		whose = "the caller's credentials (" + fc.callerName() + ")"
	}
	if isClock, msgSkew, known := isClockError(ae.code, ae.message); isClock {
		return []Finding{fc.clockFailed(ae, msgSkew, known)}
	}
	if f := credentialFinding(ae, whose); f != nil {
		return []Finding{*f}
	}
	switch {
	case ae.code == "RegionDisabledException":
		return []Finding{fc.regionDisabled(ae)}
	case isThrottle(ae.code):
		return []Finding{{Code: CodeThrottled, Severity: SeverityError, Error: ae.String(),
			Problem: "STS throttled the requests (after the SDK's retries)",
			Fix:     "wait a minute and run again; reduce parallel STS calls (rolehop's shared cache, which doctor bypasses, makes one call per step)"}}
	case assume && (ae.code == "AccessDenied" || ae.code == "AccessDeniedException" || (ae.status == 403 && ae.code == "UnknownError")):
		return fc.accessDenied(ctx, ae)
	case assume && ae.code == "ValidationError" && strings.Contains(ae.message, "MaxSessionDuration"):
		return []Finding{fc.durationOverMax(ctx, ae)}
	case assume && ae.code == "ValidationError" && strings.Contains(ae.message, "role chaining"):
		return []Finding{fc.chainingCap(ae)}
	case assume && (ae.code == "MalformedPolicyDocument" || ae.code == "PackedPolicyTooLarge"):
		h := fc.plan.Hops[fc.hop]
		return []Finding{{Code: CodeSTSError, Severity: SeverityError, Error: ae.String(),
			Problem: "STS refused the hop's session policy or tags: " + ae.message,
			Fix:     fmt.Sprintf("shorten or correct the session policy (%s), policy_arns and session tags", fromOr(h.Policy.From, "--policy"))}}
	}
	return []Finding{{Code: CodeSTSError, Severity: SeverityError, Error: ae.String(),
		Problem: fmt.Sprintf("STS refused %s: %s", fc.stepName(), ae.String()),
		Fix:     "see the AWS error; rolehop has no specific advice for it"}}
}

// clockFailed explains an STS refusal of the request's time, measuring the
// skew from STS's Date header when it shows one over the limit, else from
// the times in the error message.
func (fc failureContext) clockFailed(ae awsError, msgSkew time.Duration, msgKnown bool) Finding {
	dateSkew, haveDate := fc.d.rec.skew()
	var f Finding
	switch {
	case haveDate && absDuration(dateSkew) > skewLimit:
		f = clockFinding(dateSkew, SeverityError, "from the Date header of STS's response")
	case msgKnown:
		f = clockFinding(msgSkew, SeverityError, "from the times in STS's error message")
	case haveDate:
		f = clockFinding(dateSkew, SeverityError, "")
		f.Problem = fmt.Sprintf("STS refused the request's time (%s) although its Date header is within %s of the local clock: "+
			"the request was delayed on its way (a proxy?) or the clock jumped", ae.code, absDuration(dateSkew).Round(time.Second))
		f.Fix = "run again; if it persists, " + syncClockFix + ", and check HTTPS_PROXY"
	default:
		f = clockFinding(0, SeverityError, "")
		f.Problem = "STS refused the request's time (" + ae.code + "): the local clock is off by more than 5 minutes"
	}
	f.Error = ae.String()
	return f
}

// credentialFinding recognizes STS's verdicts on the signing credentials.
func credentialFinding(ae awsError, whose string) *Finding {
	f := &Finding{Severity: SeverityError, Error: ae.String()}
	switch ae.code {
	case "ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired":
		f.Code = CodeExpired
		f.Problem = whose + " have expired"
		f.Fix = "refresh them: get new session credentials (or sign in again) and run again"
	case "InvalidClientTokenId", "UnrecognizedClientException":
		f.Code = CodeInvalidKey
		f.Problem = whose + " use an access key id AWS does not know: the key was deleted or deactivated, is mistyped, or belongs to another partition"
		f.Fix = "create a new access key (IAM console or aws iam create-access-key) and update the credentials; check the key id for typos"
	case "SignatureDoesNotMatch":
		f.Code = CodeWrongSecret
		f.Problem = whose + " have a secret access key that does not match the access key id"
		f.Fix = "correct the secret access key (copy it again, without extra spaces or quotes), or create a new access key"
	default:
		return nil
	}
	return f
}

func isThrottle(code string) bool {
	switch code {
	case "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
		"TooManyRequestsException", "RequestLimitExceeded", "SlowDown", "PriorRequestNotComplete":
		return true
	}
	return false
}

func (fc failureContext) regionDisabled(ae awsError) Finding {
	account := ""
	if fc.prev != nil && fc.prev.identity != nil {
		account = " for account " + fc.prev.identity.Account
	}
	region := fc.plan.STSRegion
	return Finding{Code: CodeRegionDisabled, Severity: SeverityError, Error: ae.String(),
		Problem: fmt.Sprintf("STS is not activated in region %s%s", region, account),
		Fix: fmt.Sprintf("activate %s in IAM → Account settings → Security Token Service (STS) regions, or use --region with an active region, "+
			"or the global endpoint (AWS_ENDPOINT_URL_STS=https://sts.amazonaws.com)", region)}
}

func (fc failureContext) transportFailed(err error) Finding {
	endpoint := fc.plan.STSEndpoint.Value
	if endpoint == "" {
		endpoint = "https://sts." + fc.plan.STSRegion + ".amazonaws.com"
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var nerr net.Error
	if errors.As(err, &opErr) || errors.As(err, &dnsErr) || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout()) {
		return Finding{Code: CodeUnreachable, Severity: SeverityError, Error: oneLine(err.Error()),
			Problem: "cannot reach STS at " + endpoint,
			Fix:     "check the network, DNS, HTTPS_PROXY/NO_PROXY, and AWS_ENDPOINT_URL_STS / the region (--region)"}
	}
	return Finding{Code: CodeSTSError, Severity: SeverityError, Error: oneLine(err.Error()),
		Problem: fc.stepName() + " failed: " + oneLine(err.Error()), Fix: "see the error"}
}

func (fc failureContext) durationOverMax(ctx context.Context, ae awsError) Finding {
	h := fc.plan.Hops[fc.hop]
	f := Finding{Code: CodeDurationOverMax, Severity: SeverityError, Error: ae.String()}
	max := 0
	if role, err := fc.getRole(ctx); err == nil && role.MaxSessionDuration != nil {
		max = int(*role.MaxSessionDuration)
	}
	if max > 0 {
		f.Problem = fmt.Sprintf("hop %d asks for %d s (duration_seconds, %s) but role %s allows at most %d s (its MaxSessionDuration)",
			fc.hop+1, h.DurationSeconds, fromOr(h.DurationFrom, "default"), h.RoleARN.Value, max)
		f.Fix = fmt.Sprintf("set duration_seconds = %d or less (%s, or --duration-seconds), or raise the role's maximum session duration (aws iam update-role --max-session-duration)",
			max, settingWhere(h, "duration_seconds"))
		return f
	}
	f.Problem = fmt.Sprintf("hop %d asks for %d s (duration_seconds, %s), more than role %s's MaxSessionDuration",
		fc.hop+1, h.DurationSeconds, fromOr(h.DurationFrom, "default"), h.RoleARN.Value)
	f.Fix = fmt.Sprintf("lower duration_seconds (%s, or --duration-seconds) to the role's maximum (3600 unless raised), or raise the role's maximum session duration", settingWhere(h, "duration_seconds"))
	return f
}

// chainingCap: AWS limits a role session assumed with role-session
// credentials to 1 hour (IAM User Guide, "Roles terms and concepts": role
// chaining).
func (fc failureContext) chainingCap(ae awsError) Finding {
	h := fc.plan.Hops[fc.hop]
	return Finding{Code: CodeChainingCap, Severity: SeverityError, Error: ae.String(),
		Problem: fmt.Sprintf("hop %d is role chaining (its caller %s is a role session) and asks for %d s; AWS caps chained role sessions at 3600 s",
			fc.hop+1, fc.callerName(), h.DurationSeconds),
		Fix: fmt.Sprintf("set duration_seconds = 3600 (%s, or --duration-seconds 3600), or assume the role directly from long-term access keys (a source_profile with aws_access_key_id)",
			settingWhere(h, "duration_seconds"))}
}

// settingWhere says where to change a profile key of hop h.
func settingWhere(h plan.Hop, key string) string {
	if h.Profile == "" {
		return "a flag"
	}
	if h.RoleARN.From != "" && h.RoleARN.From != "--role-arn" {
		return fmt.Sprintf("profile %q, next to role_arn at %s", h.Profile, h.RoleARN.From)
	}
	return fmt.Sprintf("profile %q", h.Profile)
}

func fromOr(from, alt string) string {
	if from != "" {
		return from
	}
	return alt
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
