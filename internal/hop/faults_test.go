package hop

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rolehop/rolehop/internal/awsclient"
	"github.com/rolehop/rolehop/internal/plan"
)

// chainingMsg is what STS answers when a role session asks for more than
// an hour.
const chainingMsg = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."

// stubSTS answers AssumeRole with handler and records the requests.
type stubSTS struct {
	mu      sync.Mutex
	calls   []url.Values
	handler func(n int, form url.Values, w http.ResponseWriter)
}

func (s *stubSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.mu.Lock()
	s.calls = append(s.calls, r.PostForm)
	n := len(s.calls)
	s.mu.Unlock()
	s.handler(n, r.PostForm, w)
}

func (s *stubSTS) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func (s *stubSTS) call(i int) url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[i]
}

func stsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>r</RequestId></ErrorResponse>`, code, msg)
}

func stsSuccess(w http.ResponseWriter, form url.Values) {
	seconds, _ := strconv.Atoi(form.Get("DurationSeconds"))
	exp := time.Now().Add(time.Duration(seconds) * time.Second).UTC().Format(time.RFC3339)
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIASTUB%s</AccessKeyId><SecretAccessKey>stubsecret</SecretAccessKey><SessionToken>stubtoken</SessionToken><Expiration>%s</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::222222222222:assumed-role/prod/s1</Arn><AssumedRoleId>AROA:s1</AssumedRoleId></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>`, form.Get("DurationSeconds"), exp)
}

func stubHop(t *testing.T, s *stubSTS, h plan.Hop, opts Options) *Provider {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	opts.Region, opts.Endpoint = "us-east-1", srv.URL
	if opts.AWS.HTTPClient == nil {
		opts.AWS.HTTPClient = &http.Client{Timeout: 2 * time.Second}
	}
	return New(h, 0, credentials.NewStaticCredentialsProvider("ASIACONTAINER0000001", "containersecret", "containertoken"), opts)
}

// TestFaultMessages: each STS fault gives one line that names the hop, says
// what happened and what to do, after the attempts the retryer makes.
func TestFaultMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		handler  func(n int, form url.Values, w http.ResponseWriter)
		attempts int
		want     []string
	}{
		{"throttling", func(_ int, _ url.Values, w http.ResponseWriter) { stsError(w, 400, "Throttling", "Rate exceeded") },
			3, []string{"hop 1 (arn:aws:iam::222222222222:role/prod)", "STS throttled the request (3 attempts): Throttling: Rate exceeded", "wait a minute"}},
		{"signature expired", func(_ int, _ url.Values, w http.ResponseWriter) {
			stsError(w, 403, "SignatureDoesNotMatch", "Signature expired: 20240102T030405Z is now earlier than 20240102T031505Z (20240102T032005Z - 5 min.)")
		}, 1, []string{"signing time", "Signature expired", "local clock", "NTP"}},
		{"role chaining", func(_ int, _ url.Values, w http.ResponseWriter) { stsError(w, 400, "ValidationError", chainingMsg) },
			1, []string{"role chaining", "3600 or less"}},
		{"max session duration", func(_ int, _ url.Values, w http.ResponseWriter) {
			stsError(w, 400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
		}, 1, []string{"MaxSessionDuration", "raise the role's maximum session duration"}},
		{"truncated XML", func(_ int, _ url.Values, w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprint(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIA`)
		}, 1, []string{"answered something that is not an STS response", "HTTP 200", "AWS_ENDPOINT_URL_STS"}},
		{"200 without credentials", func(_ int, _ url.Values, w http.ResponseWriter) { fmt.Fprint(w, "hello, not XML") },
			1, []string{"answered AssumeRole without credentials", "not an STS response"}},
		{"HTML error page", func(_ int, _ url.Values, w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, "<html><body>blocked by policy</body></html>")
		}, 1, []string{"not an STS response", "HTTP 403", "proxy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &stubSTS{handler: tc.handler}
			h := testHop()
			_, err := stubHop(t, s, h, Options{}).Retrieve(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			t.Logf("%s", msg)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "containersecret") || strings.Contains(msg, "deserialization") {
				t.Errorf("message is not one clean line: %q", msg)
			}
			if got := s.count(); got != tc.attempts {
				t.Errorf("%d attempts, want %d", got, tc.attempts)
			}
		})
	}
}

// TestFaultTimeout: an STS that does not answer within the HTTP client's
// timeout is retried, then reported with the timeout and its variable.
func TestFaultTimeout(t *testing.T) {
	t.Parallel()
	s := &stubSTS{handler: func(_ int, _ url.Values, w http.ResponseWriter) { time.Sleep(400 * time.Millisecond) }}
	_, err := stubHop(t, s, testHop(), Options{AWS: awsclient.Settings{HTTPClient: &http.Client{Timeout: 100 * time.Millisecond}}}).Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no answer within 100ms (3 attempts)") || !strings.Contains(err.Error(), "ROLEHOP_HTTP_TIMEOUT") {
		t.Errorf("err = %v", err)
	}
	if s.count() != 3 {
		t.Errorf("%d attempts, want 3", s.count())
	}
}

// chainingSTS refuses more than 3600 s as role chaining, as STS does for a
// role session caller.
func chainingSTS() *stubSTS {
	return &stubSTS{handler: func(_ int, form url.Values, w http.ResponseWriter) {
		if d, _ := strconv.Atoi(form.Get("DurationSeconds")); d > plan.ChainedMaxSeconds {
			stsError(w, 400, "ValidationError", chainingMsg)
			return
		}
		stsSuccess(w, form)
	}}
}

// TestChainingRetry: a hop refused as role chaining is retried once at
// 3600 s with the same request (the MFA code is asked once), and a warning
// names the hop and the cap.
func TestChainingRetry(t *testing.T) {
	t.Parallel()
	s := chainingSTS()
	h := testHop()
	h.DurationSeconds = 7200
	h.SerialNumber = plan.Setting{Value: "arn:aws:iam::111111111111:mfa/alice"}
	asked := 0
	var warnings []string
	opts := Options{
		Prompt: func(context.Context, string) (string, error) { asked++; return "123456", nil },
		Warn:   func(format string, args ...any) { warnings = append(warnings, fmt.Sprintf(format, args...)) },
	}
	p := stubHop(t, s, h, opts)
	creds, err := NewChainingRetry(p, p, p.Capped(plan.ChainedMaxSeconds)).Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(creds.Expires); left > time.Hour || left < 59*time.Minute {
		t.Errorf("credentials last %s, want 1 hour", left)
	}
	if s.count() != 2 {
		t.Fatalf("%d AssumeRole calls, want 2", s.count())
	}
	first, second := s.call(0), s.call(1)
	if first.Get("DurationSeconds") != "7200" || second.Get("DurationSeconds") != "3600" {
		t.Errorf("DurationSeconds sent: %s then %s, want 7200 then 3600", first.Get("DurationSeconds"), second.Get("DurationSeconds"))
	}
	for _, k := range []string{"RoleArn", "RoleSessionName", "SerialNumber", "TokenCode"} {
		if first.Get(k) != second.Get(k) {
			t.Errorf("the retry changed %s: %q → %q", k, first.Get(k), second.Get(k))
		}
	}
	if asked != 1 {
		t.Errorf("the MFA code was asked %d times, want 1", asked)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "hop 1 (arn:aws:iam::222222222222:role/prod)") ||
		!strings.Contains(warnings[0], "3600") || !strings.Contains(warnings[0], "7200") || !strings.Contains(warnings[0], "role chaining") {
		t.Errorf("warnings = %q, want one naming the hop, the cap and the duration asked", warnings)
	}

	// A capped provider with nothing to resend builds its own request.
	s2 := chainingSTS()
	p2 := stubHop(t, s2, testHop(), Options{})
	if _, err := p2.Capped(plan.ChainedMaxSeconds).Retrieve(context.Background()); err != nil || s2.count() != 1 || s2.call(0).Get("DurationSeconds") != "3600" {
		t.Errorf("Capped alone: err %v, calls %d", err, s2.count())
	}
}

// TestChainingRetryOnlyForChaining: other failures are not retried, and a
// second refusal of the capped request is reported as it is.
func TestChainingRetryOnlyForChaining(t *testing.T) {
	t.Parallel()
	denied := &stubSTS{handler: func(_ int, _ url.Values, w http.ResponseWriter) { stsError(w, 403, "AccessDenied", "not authorized") }}
	h := testHop()
	h.DurationSeconds = 7200
	warned := false
	p := stubHop(t, denied, h, Options{Warn: func(string, ...any) { warned = true }})
	_, err := NewChainingRetry(p, p, p.Capped(plan.ChainedMaxSeconds)).Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") || warned {
		t.Errorf("AccessDenied: err %v, warned %v", err, warned)
	}
	// AccessDenied also asks GetCallerIdentity (for the message): 2 requests, 1 AssumeRole.
	assumes := 0
	for i := 0; i < denied.count(); i++ {
		if denied.call(i).Get("Action") == "AssumeRole" {
			assumes++
		}
	}
	if assumes != 1 {
		t.Errorf("%d AssumeRole calls for AccessDenied, want 1", assumes)
	}

	always := &stubSTS{handler: func(_ int, _ url.Values, w http.ResponseWriter) { stsError(w, 400, "ValidationError", chainingMsg) }}
	p = stubHop(t, always, h, Options{})
	_, err = NewChainingRetry(p, p, p.Capped(plan.ChainedMaxSeconds)).Retrieve(context.Background())
	if err == nil || !IsChainingLimit(err) || always.count() != 2 {
		t.Errorf("refused twice: err %v after %d calls, want the chaining error after 2", err, always.count())
	}
}
