package plan

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rolehop/rolehop/internal/awsconfig"
)

// What rolehop's AWS clients do when nothing is set (docs/aws-semantics.md,
// "Retries and timeouts of rolehop's own AWS calls").
const (
	// DefaultMaxAttempts is how many times a call is attempted, the first
	// included: the standard retry mode's default in the AWS CLI and the
	// SDKs, for throttling too. A retried STS step costs at most 0+2+4 s of
	// backoff; commands that run for long (serve, write --watch) retry on
	// their own schedule. Sources: AWS SDKs and Tools Reference Guide,
	// "Retry behavior"; aws-sdk-go-v2 aws/retry/standard.go
	// (DefaultMaxAttempts).
	DefaultMaxAttempts = 3
	// DefaultRetryMode is the AWS CLI v2's and aws-sdk-go-v2's default.
	DefaultRetryMode = RetryStandard
	// DefaultMaxBackoff caps the jittered exponential wait between two
	// attempts: aws-sdk-go-v2's retry.DefaultMaxBackoff.
	DefaultMaxBackoff = 20 * time.Second
	// DefaultAttemptTimeout bounds one HTTP attempt (connect, send,
	// answer). With 3 attempts and at most 6 s of backoff, a step that
	// never answers fails within about 36 s: inside the 1 minute after
	// which aws-sdk-go-v2's credential_process provider kills the process
	// (processcreds.DefaultTimeout), so a consumer sees rolehop's message.
	// STS answers in well under a second.
	DefaultAttemptTimeout = 10 * time.Second
)

// The values of retry_mode and AWS_RETRY_MODE, as botocore validates them
// (config.py _validate_retry_configuration): case-sensitive.
const (
	RetryStandard = "standard"
	RetryAdaptive = "adaptive"
	// RetryLegacy is botocore's retry handler from before the standard
	// mode. aws-sdk-go-v2 has no such mode (aws.ParseRetryMode refuses
	// it); rolehop accepts it, so that a profile shared with the AWS CLI
	// and boto3 keeps working, and runs the standard mode.
	RetryLegacy = "legacy"
)

// FromDefault is the origin of a retry setting that nothing set.
const FromDefault = "default"

// Retry is how rolehop's own AWS clients (STS, IAM, IAM Identity Center's
// sso and sso-oidc, sign-in) retry and how long one attempt may take, each
// value with its origin: "env AWS_MAX_ATTEMPTS", "~/.aws/config:7" or
// FromDefault. ResolveRetry resolves it; awsclient.New builds the clients'
// HTTP client and retryers from it.
type Retry struct {
	// MaxAttempts counts every attempt, the first included (1: no retry).
	MaxAttempts     int    `json:"max_attempts"`
	MaxAttemptsFrom string `json:"max_attempts_from"`
	// Mode is RetryStandard, RetryAdaptive or RetryLegacy (run as
	// standard), as configured.
	Mode     string `json:"mode"`
	ModeFrom string `json:"mode_from"`
	// MaxBackoffMS caps the wait between two attempts
	// (ROLEHOP_RETRY_MAX_BACKOFF), in milliseconds.
	MaxBackoffMS   int64  `json:"max_backoff_ms"`
	MaxBackoffFrom string `json:"max_backoff_from"`
	// AttemptTimeoutMS bounds one HTTP attempt (ROLEHOP_HTTP_TIMEOUT), in
	// milliseconds.
	AttemptTimeoutMS   int64  `json:"attempt_timeout_ms"`
	AttemptTimeoutFrom string `json:"attempt_timeout_from"`
}

// MaxBackoff is MaxBackoffMS as a duration; DefaultMaxBackoff when unset.
func (r Retry) MaxBackoff() time.Duration {
	if r.MaxBackoffMS <= 0 {
		return DefaultMaxBackoff
	}
	return time.Duration(r.MaxBackoffMS) * time.Millisecond
}

// AttemptTimeout is AttemptTimeoutMS as a duration; DefaultAttemptTimeout
// when unset.
func (r Retry) AttemptTimeout() time.Duration {
	if r.AttemptTimeoutMS <= 0 {
		return DefaultAttemptTimeout
	}
	return time.Duration(r.AttemptTimeoutMS) * time.Millisecond
}

// Attempts is MaxAttempts; DefaultMaxAttempts when unset.
func (r Retry) Attempts() int {
	if r.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return r.MaxAttempts
}

// SDKMode is the mode the clients run: RetryAdaptive, or RetryStandard for
// everything else (legacy and unset).
func (r Retry) SDKMode() string {
	if r.Mode == RetryAdaptive {
		return RetryAdaptive
	}
	return RetryStandard
}

// MaxAttemptsSet reports whether max_attempts or AWS_MAX_ATTEMPTS set
// MaxAttempts; clients with defaults of their own (doctor's IAM call,
// `sso populate`) keep them otherwise.
func (r Retry) MaxAttemptsSet() bool { return isSet(r.MaxAttemptsFrom) }

// MaxBackoffSet reports whether ROLEHOP_RETRY_MAX_BACKOFF set MaxBackoffMS.
func (r Retry) MaxBackoffSet() bool { return isSet(r.MaxBackoffFrom) }

func isSet(from string) bool { return from != "" && from != FromDefault }

// The limits of rolehop's own variables.
const (
	minAttemptTimeout = 100 * time.Millisecond
	maxAttemptTimeout = 10 * time.Minute
	minMaxBackoff     = time.Millisecond
	maxMaxBackoff     = 5 * time.Minute
)

// ResolveRetry resolves the retry settings of a run whose active profile is
// profile ("" means "default"; a profile that does not exist sets
// nothing). As in the AWS CLI and aws-sdk-go-v2, the environment
// (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE) outranks the profile's max_attempts
// and retry_mode, only the active profile is read (not its source_profile),
// and an empty variable counts as unset. ROLEHOP_RETRY_MAX_BACKOFF and
// ROLEHOP_HTTP_TIMEOUT are rolehop's own. An invalid value is an *Error
// naming the setting, where it came from and the accepted values.
func ResolveRetry(cfg *awsconfig.Config, profile string, getenv func(string) string) (Retry, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if profile == "" {
		profile = "default"
	}
	prof, _ := cfg.Profile(profile)
	r := Retry{
		MaxAttempts: DefaultMaxAttempts, MaxAttemptsFrom: FromDefault,
		Mode: DefaultRetryMode, ModeFrom: FromDefault,
		MaxBackoffMS: DefaultMaxBackoff.Milliseconds(), MaxBackoffFrom: FromDefault,
		AttemptTimeoutMS: DefaultAttemptTimeout.Milliseconds(), AttemptTimeoutFrom: FromDefault,
	}

	if v, what, from, ok := lookup(prof, getenv, "AWS_MAX_ATTEMPTS", "max_attempts"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return Retry{}, errorf("%s is not a number of attempts rolehop accepts: give a whole number, 1 or more, that counts the first attempt (1: no retry; default %d)", what, DefaultMaxAttempts)
		}
		r.MaxAttempts, r.MaxAttemptsFrom = n, from
	}

	if v, what, from, ok := lookup(prof, getenv, "AWS_RETRY_MODE", "retry_mode"); ok {
		switch v = strings.TrimSpace(v); v {
		case RetryStandard, RetryAdaptive, RetryLegacy:
			r.Mode, r.ModeFrom = v, from
		default:
			hint := fmt.Sprintf("use %s, %s or %s (legacy runs as standard; default %s)", RetryStandard, RetryAdaptive, RetryLegacy, DefaultRetryMode)
			for _, m := range []string{RetryStandard, RetryAdaptive, RetryLegacy} {
				if strings.EqualFold(v, m) {
					hint = fmt.Sprintf("did you mean %q? (the value is case-sensitive, as in the AWS CLI and SDKs)", m)
				}
			}
			return Retry{}, errorf("%s is not a retry mode rolehop accepts: %s", what, hint)
		}
	}

	if v := getenv("ROLEHOP_RETRY_MAX_BACKOFF"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < minMaxBackoff || d > maxMaxBackoff {
			return Retry{}, errorf("ROLEHOP_RETRY_MAX_BACKOFF=%q is not a wait rolehop accepts: give a duration with its unit between 1ms and 5m, e.g. 2s or 500ms (default %s)", v, DefaultMaxBackoff)
		}
		r.MaxBackoffMS, r.MaxBackoffFrom = max(d.Milliseconds(), 1), "env ROLEHOP_RETRY_MAX_BACKOFF"
	}

	if v := getenv("ROLEHOP_HTTP_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < minAttemptTimeout || d > maxAttemptTimeout {
			return Retry{}, errorf("ROLEHOP_HTTP_TIMEOUT=%q is not a timeout rolehop accepts: give a duration with its unit between 100ms and 10m, e.g. 5s or 1m30s (default %s)", v, DefaultAttemptTimeout)
		}
		r.AttemptTimeoutMS, r.AttemptTimeoutFrom = d.Milliseconds(), "env ROLEHOP_HTTP_TIMEOUT"
	}
	return r, nil
}

// lookup finds a setting in the environment, then in the profile. what
// names it for an error message (`AWS_MAX_ATTEMPTS="x"`, or
// `max_attempts = "x" in profile "p" (~/.aws/config:7)`) and from is its
// origin.
func lookup(prof *awsconfig.Profile, getenv func(string) string, envName, key string) (v, what, from string, ok bool) {
	if v := getenv(envName); v != "" {
		return v, fmt.Sprintf("%s=%q", envName, v), "env " + envName, true
	}
	if kv, found := prof.Get(key); found {
		return kv.Value, fmt.Sprintf("%s = %q in profile %q (%s)", key, kv.Value, prof.Name, kv.Origin()), kv.Origin(), true
	}
	return "", "", "", false
}
