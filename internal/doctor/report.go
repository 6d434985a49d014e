package doctor

import "time"

// SchemaVersion is the version of the JSON report; it changes only when a
// field changes meaning or disappears (new fields may be added).
const SchemaVersion = 1

// Severities.
const (
	SeverityError   = "error"   // the step fails because of it
	SeverityWarning = "warning" // works now, but something is off
)

// Step statuses.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"
	StatusSkipped = "skipped" // an earlier step failed
)

// Finding codes, stable for scripts.
const (
	CodeNoCredentials     = "no-credentials"
	CodeSourceFailed      = "source-failed"
	CodeExpired           = "expired-credentials"
	CodeInvalidKey        = "invalid-key"
	CodeWrongSecret       = "wrong-secret"
	CodeClockSkew         = "clock-skew"
	CodeAccessDenied      = "access-denied"        // denied; the trust policy could not be read
	CodeTrustPolicy       = "trust-policy"         // the trust policy does not allow the caller
	CodeTrustPolicyDeny   = "trust-policy-deny"    // a Deny statement of the trust policy applies
	CodeTrustPolicyMaybe  = "trust-policy-unknown" // the verdict depends on what rolehop cannot know
	CodeCallerPermission  = "caller-permission"    // the trust policy allows; the caller's own policies do not
	CodeRoleNotFound      = "role-not-found"
	CodeDurationOverMax   = "duration-over-max"
	CodeChainingCap       = "chaining-cap"
	CodeRegionDisabled    = "region-disabled"
	CodeThrottled         = "throttled"
	CodeUnreachable       = "unreachable"
	CodeMFA               = "mfa"
	CodeSTSError          = "sts-error"
	CodeIdentityCheckFail = "identity-check-failed"
)

// Report is the outcome of `rolehop doctor`.
type Report struct {
	SchemaVersion int    `json:"schema_version"`
	OK            bool   `json:"ok"`
	Profile       string `json:"profile,omitempty"`
	// FailedStep names the first step that failed ("source", "hop 2").
	FailedStep string `json:"failed_step,omitempty"`
	Steps      []Step `json:"steps"`
	// Findings are not tied to one step (the local clock).
	Findings []Finding `json:"findings,omitempty"`
	// ClockSkewSeconds is STS's clock (Date header) minus the local clock,
	// when any STS or IAM response was seen.
	ClockSkewSeconds *float64 `json:"clock_skew_seconds,omitempty"`
	Warnings         []string `json:"warnings,omitempty"`
}

// Step is one step of the chain: the source or one hop.
type Step struct {
	Name        string `json:"step"`   // "source", "hop 1", …
	Status      string `json:"status"` // ok, failed, skipped
	Kind        string `json:"kind"`   // the source kind, or "assume-role"
	Description string `json:"description"`
	Profile     string `json:"profile,omitempty"`
	From        string `json:"from,omitempty"` // where the source or role_arn was set

	// Hops only.
	RoleARN         string `json:"role_arn,omitempty"`
	SessionName     string `json:"session_name,omitempty"`
	DurationSeconds int    `json:"duration_seconds,omitempty"`
	MFA             string `json:"mfa,omitempty"` // "direct", "session" or ""

	Identity *Identity `json:"identity,omitempty"`
	// Expiration of the step's credentials; nil for long-term keys.
	Expiration *time.Time `json:"expiration,omitempty"`
	Findings   []Finding  `json:"findings,omitempty"`
}

// Identity is sts:GetCallerIdentity's answer for a step's credentials.
type Identity struct {
	ARN     string `json:"arn"`
	Account string `json:"account"`
	UserID  string `json:"user_id"`
}

// Finding is one diagnosed problem and what to do about it.
type Finding struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Problem  string `json:"problem"`
	Fix      string `json:"fix"`
	// Error is the AWS error behind it, one line, when there is one.
	Error string `json:"error,omitempty"`
}
