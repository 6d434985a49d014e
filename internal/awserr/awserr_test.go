package awserr

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sso"
)

// TestClassifyRestJSON: the IAM Identity Center portal's faults, as
// aws-sdk-go-v2 reports them, fall into the right kinds (STS's query
// protocol is covered by internal/hop's tests).
func TestClassifyRestJSON(t *testing.T) {
	portalError := func(status int, errType, msg string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Amzn-ErrorType", errType+":http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"message":"` + msg + `"}`))
		}
	}
	for _, tc := range []struct {
		name     string
		handler  http.HandlerFunc
		kind     Kind
		attempts int
		want     string
	}{
		{"429", portalError(429, "TooManyRequestsException", "slow down"), Throttled, 3, "IAM Identity Center throttled the request (3 attempts): TooManyRequestsException: slow down"},
		{"500", portalError(500, "InternalServerException", "oops"), ServerError, 3, "failed with HTTP 500 (3 attempts): InternalServerException: oops"},
		{"unauthorized", portalError(401, "UnauthorizedException", "Session token not found or invalid"), API, 0, ""},
		{"truncated JSON", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"roleCredentials":{"accessKeyId":"ASIA`))
		}, NotAWS, 0, "answered something that is not an IAM Identity Center response: HTTP 200, the body does not parse"},
		{"reset", func(w http.ResponseWriter, _ *http.Request) {
			c, _, _ := w.(http.Hijacker).Hijack()
			_ = c.(*net.TCPConn).SetLinger(0)
			_ = c.Close()
		}, Unreachable, 3, connReset.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1); tc.handler(w, r) }))
			defer srv.Close()
			client := sso.New(sso.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: &http.Client{Timeout: time.Second},
				Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
					o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
				})})
			_, err := client.GetRoleCredentials(context.Background(), &sso.GetRoleCredentialsInput{AccessToken: aws.String("t"), AccountId: aws.String("111111111111"), RoleName: aws.String("r")})
			if tc.name == "reset" && !errors.Is(err, connReset) {
				t.Errorf("err = %v; want it to wrap %v", err, connReset)
			}
			f := Classify(err, time.Second)
			if f.Kind != tc.kind || f.Attempts != tc.attempts {
				t.Errorf("kind %d attempts %d, want %d and %d (err %v)", f.Kind, f.Attempts, tc.kind, tc.attempts, err)
			}
			if f.Retryable() != (int(n.Load()) > 1) {
				t.Errorf("Retryable() = %v after %d requests", f.Retryable(), n.Load())
			}
			msg, ok := f.Describe("IAM Identity Center", srv.URL, "AWS_ENDPOINT_URL_SSO")
			if ok != (tc.want != "") || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("Describe = %q, %v; want it to contain %q", msg, ok, tc.want)
			}
		})
	}
}
