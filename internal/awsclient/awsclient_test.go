package awsclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolehop/rolehop/internal/plan"
)

// throttling is an endpoint that throttles every request, in the STS (XML)
// or the IAM Identity Center (JSON) format, and counts them.
func throttling(t *testing.T, json bool) (url string, count func() int) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		if json {
			w.Header().Set("X-Amzn-ErrorType", "TooManyRequestsException")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"message":"Rate exceeded"}`))
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() int { return int(n.Load()) }
}

// fast is a plan.Retry with a 1 ms backoff cap, so retries cost no time.
func fast(attempts int, mode string) plan.Retry {
	r := plan.Retry{MaxAttempts: attempts, MaxAttemptsFrom: "test", Mode: mode, ModeFrom: "test", MaxBackoffMS: 1, MaxBackoffFrom: "test"}
	if attempts == 0 {
		r.MaxAttemptsFrom = plan.FromDefault
	}
	return r
}

// TestAttempts: an STS and a portal client built from Settings make the
// number of attempts the settings say, the first included, in both modes,
// and report it in the SDK's MaxAttemptsError.
func TestAttempts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		retry plan.Retry
		want  int
	}{
		{"default", fast(0, ""), 3},
		{"max_attempts 5", fast(5, plan.RetryStandard), 5},
		{"max_attempts 1", fast(1, plan.RetryStandard), 1},
		{"legacy runs as standard", fast(4, plan.RetryLegacy), 4},
		// Adaptive mode waits for its rate limiter after a throttle (about
		// 2 s in a new client): 2 attempts keep the test short.
		{"adaptive", fast(2, plan.RetryAdaptive), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New(tc.retry)
			url, count := throttling(t, false)
			client := sts.NewFromConfig(s.Config("us-east-1", credentials.NewStaticCredentialsProvider("AKIAEXAMPLE", "secret", "")), func(o *sts.Options) {
				o.BaseEndpoint = aws.String(url)
			})
			start := time.Now()
			_, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if got := count(); got != tc.want {
				t.Errorf("STS: %d attempts, want %d (err %v)", got, tc.want, err)
			}
			var max *retry.MaxAttemptsError
			if !errors.As(err, &max) || max.Attempt != tc.want {
				t.Errorf("STS: err %v, want a MaxAttemptsError after %d attempts", err, tc.want)
			}
			if d := time.Since(start); tc.retry.Mode != plan.RetryAdaptive && d > 2*time.Second {
				t.Errorf("%d attempts took %s with a 1 ms backoff cap", tc.want, d)
			}

			if tc.retry.Mode == plan.RetryAdaptive {
				return // another 2 s for the same check
			}
			url, count = throttling(t, true)
			portal := sso.NewFromConfig(s.Config("us-east-1", nil), func(o *sso.Options) { o.BaseEndpoint = aws.String(url) })
			_, err = portal.GetRoleCredentials(context.Background(), &sso.GetRoleCredentialsInput{AccessToken: aws.String("t"), AccountId: aws.String("111111111111"), RoleName: aws.String("r")})
			if got := count(); got != tc.want {
				t.Errorf("portal: %d attempts, want %d (err %v)", got, tc.want, err)
			}
		})
	}
}

// TestRetryer: the retryer's kind, attempts and backoff cap, and a new
// retryer for each client.
func TestRetryer(t *testing.T) {
	t.Parallel()
	if _, ok := New(fast(0, plan.RetryAdaptive)).NewRetryer().(*retry.AdaptiveMode); !ok {
		t.Errorf("adaptive mode: %T, want *retry.AdaptiveMode", New(fast(0, plan.RetryAdaptive)).NewRetryer())
	}
	for _, mode := range []string{"", plan.RetryStandard, plan.RetryLegacy} {
		r := Settings{}.NewRetryer()
		if mode != "" {
			r = New(fast(0, mode)).NewRetryer()
		}
		if _, ok := r.(*retry.Standard); !ok || r.MaxAttempts() != plan.DefaultMaxAttempts {
			t.Errorf("mode %q: %T with %d attempts, want *retry.Standard with 3", mode, r, r.MaxAttempts())
		}
	}
	r := New(plan.Retry{MaxBackoffMS: 50}).NewRetryer()
	for attempt := 1; attempt < 8; attempt++ {
		if d, err := r.RetryDelay(attempt, errors.New("x")); err != nil || d > 50*time.Millisecond {
			t.Errorf("delay before attempt %d: %s %v, want at most 50ms", attempt+1, d, err)
		}
	}
	s := New(plan.Retry{})
	a, b := s.Config("us-east-1", nil), s.Config("us-east-1", nil)
	if a.Retryer() == b.Retryer() || a.Retryer() == a.Retryer() {
		t.Error("clients share a retryer: its quota and rate would be shared")
	}
	if a.HTTPClient != s.HTTPClient || a.AppID != AppID || a.HTTPClient.(*http.Client).Timeout != plan.DefaultAttemptTimeout {
		t.Errorf("config %+v: want the settings' HTTP client (10s) and AppID %q", a, AppID)
	}
	if got := New(plan.Retry{AttemptTimeoutMS: 1500}).Timeout(); got != 1500*time.Millisecond {
		t.Errorf("Timeout() = %s, want 1.5s", got)
	}
}

// TestWithDefaultMaxAttempts: a client's own default gives way to a
// max_attempts setting.
func TestWithDefaultMaxAttempts(t *testing.T) {
	t.Parallel()
	unset := New(plan.Retry{MaxAttempts: 3, MaxAttemptsFrom: plan.FromDefault})
	if got := unset.WithDefaultMaxAttempts(2).NewRetryer().MaxAttempts(); got != 2 {
		t.Errorf("unset: %d attempts, want the client's 2", got)
	}
	set := New(plan.Retry{MaxAttempts: 5, MaxAttemptsFrom: "env AWS_MAX_ATTEMPTS"})
	if got := set.WithDefaultMaxAttempts(2).NewRetryer().MaxAttempts(); got != 5 {
		t.Errorf("set: %d attempts, want the setting's 5", got)
	}
}
