package plan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// retryConfig: the default profile, a role profile with its own settings
// whose source_profile has others (never read), and a profile with bad
// values. Line numbers matter to the origins checked below.
const retryConfig = `[default]
max_attempts = 4
retry_mode = adaptive

[profile prod]
role_arn = arn:aws:iam::222222222222:role/prod
source_profile = slow
max_attempts = 6

[profile slow]
role_arn = arn:aws:iam::111111111111:role/dev
source_profile = base
max_attempts = 9
retry_mode = legacy

[profile plain]
role_arn = arn:aws:iam::111111111111:role/dev
source_profile = base

[profile legacy]
role_arn = arn:aws:iam::111111111111:role/dev
source_profile = base
retry_mode = legacy

[profile zero]
role_arn = arn:aws:iam::111111111111:role/dev
source_profile = base
max_attempts = 0

[profile comment]
role_arn = arn:aws:iam::111111111111:role/dev
source_profile = base
max_attempts = 5 # five

[profile upper]
role_arn = arn:aws:iam::111111111111:role/dev
source_profile = base
retry_mode = Standard

[profile fast]
role_arn = arn:aws:iam::111111111111:role/dev
source_profile = base
retry_mode = fast
`

// retryCredentials holds base's keys and a retry setting in the
// credentials file, which botocore merges into the profile (and the Go SDK
// reads for max_attempts and retry_mode).
const retryCredentials = `[base]
aws_access_key_id = AKIABASEKEY000000001
aws_secret_access_key = basesecret

[plain]
max_attempts = 2
`

func TestResolveRetry(t *testing.T) {
	cfg := load(t, retryConfig, retryCredentials)
	tests := []struct {
		name        string
		env         env
		profile     string
		attempts    int
		attemptsAt  string // suffix of MaxAttemptsFrom
		mode        string
		modeAt      string
		backoff     time.Duration
		backoffFrom string
		timeout     time.Duration
		timeoutFrom string
	}{
		{name: "nothing set: the default profile", profile: "", attempts: 4, attemptsAt: "config:2", mode: RetryAdaptive, modeAt: "config:3"},
		{name: "defaults when no profile exists", profile: "missing", attempts: 3, attemptsAt: FromDefault, mode: RetryStandard, modeAt: FromDefault},
		{name: "the named profile only, not the default's mode", profile: "prod", attempts: 6, attemptsAt: "config:8", mode: RetryStandard, modeAt: FromDefault},
		{name: "env over profile", profile: "prod", env: env{"AWS_MAX_ATTEMPTS": "5", "AWS_RETRY_MODE": "standard"},
			attempts: 5, attemptsAt: "env AWS_MAX_ATTEMPTS", mode: RetryStandard, modeAt: "env AWS_RETRY_MODE"},
		{name: "env over the default profile", env: env{"AWS_RETRY_MODE": "legacy"}, attempts: 4, attemptsAt: "config:2", mode: RetryLegacy, modeAt: "env AWS_RETRY_MODE"},
		{name: "an empty variable is unset (as in the Go SDK)", profile: "prod", env: env{"AWS_MAX_ATTEMPTS": "", "AWS_RETRY_MODE": ""},
			attempts: 6, attemptsAt: "config:8", mode: RetryStandard, modeAt: FromDefault},
		{name: "max_attempts in the credentials file", profile: "plain", attempts: 2, attemptsAt: "credentials:6", mode: RetryStandard, modeAt: FromDefault},
		{name: "legacy is accepted", profile: "legacy", attempts: 3, attemptsAt: FromDefault, mode: RetryLegacy, modeAt: "config:23"},
		{name: "1 attempt, spaces and a sign as in botocore's int()", profile: "prod", env: env{"AWS_MAX_ATTEMPTS": " +1 "}, attempts: 1, attemptsAt: "env AWS_MAX_ATTEMPTS", mode: RetryStandard, modeAt: FromDefault},
		{name: "rolehop's own variables", profile: "missing", env: env{"ROLEHOP_RETRY_MAX_BACKOFF": "250ms", "ROLEHOP_HTTP_TIMEOUT": "1m30s"},
			attempts: 3, attemptsAt: FromDefault, mode: RetryStandard, modeAt: FromDefault,
			backoff: 250 * time.Millisecond, backoffFrom: "env ROLEHOP_RETRY_MAX_BACKOFF", timeout: 90 * time.Second, timeoutFrom: "env ROLEHOP_HTTP_TIMEOUT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ResolveRetry(cfg, tc.profile, tc.env.get)
			if err != nil {
				t.Fatal(err)
			}
			if r.MaxAttempts != tc.attempts || r.Attempts() != tc.attempts || !strings.HasSuffix(r.MaxAttemptsFrom, tc.attemptsAt) {
				t.Errorf("max attempts %d from %q, want %d from …%s", r.MaxAttempts, r.MaxAttemptsFrom, tc.attempts, tc.attemptsAt)
			}
			if r.Mode != tc.mode || !strings.HasSuffix(r.ModeFrom, tc.modeAt) {
				t.Errorf("mode %q from %q, want %q from …%s", r.Mode, r.ModeFrom, tc.mode, tc.modeAt)
			}
			if r.MaxAttemptsSet() != (tc.attemptsAt != FromDefault) {
				t.Errorf("MaxAttemptsSet = %v", r.MaxAttemptsSet())
			}
			wantBackoff, wantBackoffFrom := cmpOr(tc.backoff, DefaultMaxBackoff), cmpOr(tc.backoffFrom, FromDefault)
			if r.MaxBackoff() != wantBackoff || r.MaxBackoffFrom != wantBackoffFrom || r.MaxBackoffSet() != (tc.backoffFrom != "") {
				t.Errorf("max backoff %s from %q, want %s from %q", r.MaxBackoff(), r.MaxBackoffFrom, wantBackoff, wantBackoffFrom)
			}
			wantTimeout, wantTimeoutFrom := cmpOr(tc.timeout, DefaultAttemptTimeout), cmpOr(tc.timeoutFrom, FromDefault)
			if r.AttemptTimeout() != wantTimeout || r.AttemptTimeoutFrom != wantTimeoutFrom {
				t.Errorf("attempt timeout %s from %q, want %s from %q", r.AttemptTimeout(), r.AttemptTimeoutFrom, wantTimeout, wantTimeoutFrom)
			}
			wantSDK := RetryStandard
			if tc.mode == RetryAdaptive {
				wantSDK = RetryAdaptive
			}
			if r.SDKMode() != wantSDK {
				t.Errorf("SDKMode %q, want %q", r.SDKMode(), wantSDK)
			}
		})
	}
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// TestResolveRetryInvalid: every invalid value is a one-line *Error that
// names the setting, where it came from, and what is accepted.
func TestResolveRetryInvalid(t *testing.T) {
	cfg := load(t, retryConfig, retryCredentials)
	for _, tc := range []struct {
		name    string
		env     env
		profile string
		want    []string
	}{
		{"0 attempts in the profile", nil, "zero", []string{`max_attempts = "0" in profile "zero"`, "config:28", "1 or more", "counts the first attempt", "default 3"}},
		{"an inline comment is part of the value (botocore)", nil, "comment", []string{`max_attempts = "5 # five"`, "config:33"}},
		{"a negative number in the environment", env{"AWS_MAX_ATTEMPTS": "-1"}, "prod", []string{`AWS_MAX_ATTEMPTS="-1"`, "1 or more"}},
		{"a word in the environment, over a valid profile", env{"AWS_MAX_ATTEMPTS": "three"}, "prod", []string{`AWS_MAX_ATTEMPTS="three"`}},
		{"a capitalised mode", nil, "upper", []string{`retry_mode = "Standard" in profile "upper"`, "config:38", `did you mean "standard"?`, "case-sensitive"}},
		{"an unknown mode", nil, "fast", []string{`retry_mode = "fast"`, "config:43", "standard, adaptive or legacy"}},
		{"an unknown mode in the environment", env{"AWS_RETRY_MODE": "ADAPTIVE"}, "", []string{`AWS_RETRY_MODE="ADAPTIVE"`, `did you mean "adaptive"?`}},
		{"a backoff without a unit", env{"ROLEHOP_RETRY_MAX_BACKOFF": "2"}, "", []string{`ROLEHOP_RETRY_MAX_BACKOFF="2"`, "between 1ms and 5m"}},
		{"a backoff too long", env{"ROLEHOP_RETRY_MAX_BACKOFF": "1h"}, "", []string{`ROLEHOP_RETRY_MAX_BACKOFF="1h"`}},
		{"a timeout without a unit", env{"ROLEHOP_HTTP_TIMEOUT": "5"}, "", []string{`ROLEHOP_HTTP_TIMEOUT="5"`, "5s", "between 100ms and 10m"}},
		{"a timeout too short", env{"ROLEHOP_HTTP_TIMEOUT": "10ms"}, "", []string{`ROLEHOP_HTTP_TIMEOUT="10ms"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ResolveRetry(cfg, tc.profile, tc.env.get)
			if err == nil {
				t.Fatal("no error")
			}
			if !IsError(err) {
				t.Errorf("%T is not a usage error (*plan.Error)", err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("more than one line: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q lacks %q", msg, w)
				}
			}
		})
	}
}

// TestResolvePlanRetry: Resolve reads the retry settings from the profile
// the command names (the AWS CLI's active profile), not from the profiles
// down its chain; explain shows them with their origins, in text and JSON;
// a bad value fails the whole resolution as a usage error.
func TestResolvePlanRetry(t *testing.T) {
	cfg := load(t, retryConfig, retryCredentials)
	p, err := resolve(t, cfg, env{"AWS_RETRY_MODE": "legacy"}, Request{Profile: "prod", ProfileFrom: "argument"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Retry.MaxAttempts != 6 || p.Retry.Mode != RetryLegacy {
		t.Errorf("retry %+v, want 6 attempts from prod and legacy from the environment (slow's 9 and default's 4 unused)", p.Retry)
	}
	wantNote(t, p, "aws-sdk-go-v2 has no legacy mode")
	var text bytes.Buffer
	if err := p.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Retries of each AWS call", "up to 6, the first included", "config:8", "legacy, run as standard", "env AWS_RETRY_MODE", "at most 20s", "attempt timeout  10s"} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("explain text lacks %q:\n%s", w, text.String())
		}
	}
	var js bytes.Buffer
	if err := p.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Retry map[string]any `json:"retry"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"max_attempts": 6.0, "mode": "legacy", "mode_from": "env AWS_RETRY_MODE", "max_backoff_ms": 20000.0, "max_backoff_from": "default", "attempt_timeout_ms": 10000.0} {
		if doc.Retry[k] != v {
			t.Errorf("JSON retry.%s = %v, want %v (%s)", k, doc.Retry[k], v, js.String())
		}
	}

	// No profile named: the default profile's settings, as for the region.
	p, err = resolve(t, cfg, env{"AWS_ACCESS_KEY_ID": "AKIAENVKEY0000000001", "AWS_SECRET_ACCESS_KEY": "s"}, Request{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Retry.MaxAttempts != 4 || p.Retry.Mode != RetryAdaptive {
		t.Errorf("retry %+v, want the default profile's 4 attempts, adaptive", p.Retry)
	}
	// AWS_PROFILE names the active profile.
	p, err = resolve(t, cfg, env{"AWS_PROFILE": "plain"}, Request{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Retry.MaxAttempts != 2 || p.Retry.Mode != RetryStandard {
		t.Errorf("retry %+v, want plain's 2 attempts, standard", p.Retry)
	}

	_, err = resolve(t, cfg, nil, Request{Profile: "fast", ProfileFrom: "argument"})
	if !IsError(err) || !strings.Contains(err.Error(), `retry_mode = "fast"`) {
		t.Errorf("err = %v, want the retry_mode usage error", err)
	}
}
