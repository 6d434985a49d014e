package hop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rolehop/rolehop/internal/awsarn"
	"github.com/rolehop/rolehop/internal/plan"
)

// fakeSTS answers in the STS query-protocol XML that aws-sdk-go-v2 parses.
// Fault injection only: the happy paths are tested against moto in test/e2e.
type fakeSTS struct {
	mu       sync.Mutex
	calls    []url.Values
	callerID string // GetCallerIdentity Arn
	errCode  string // AssumeRole error code, "" for success
	status   int
}

func (f *fakeSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	f.calls = append(f.calls, r.PostForm)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	switch r.PostForm.Get("Action") {
	case "GetCallerIdentity":
		fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>%s</Arn><UserId>AIDAEXAMPLE</UserId><Account>%s</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, f.callerID, awsarn.Account(f.callerID))
	case "AssumeRole":
		if f.errCode != "" {
			w.WriteHeader(f.status)
			fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>injected %s</Message></Error><RequestId>r2</RequestId></ErrorResponse>`, f.errCode, f.errCode)
			return
		}
		role := r.PostForm.Get("RoleArn")
		fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIAHOPTEST000000001</AccessKeyId><SecretAccessKey>hopsecret</SecretAccessKey><SessionToken>hoptoken</SessionToken><Expiration>2030-01-02T03:04:05Z</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::%s:assumed-role/x/%s</Arn><AssumedRoleId>AROAX:%s</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r3</RequestId></ResponseMetadata></AssumeRoleResponse>`, awsarn.Account(role), r.PostForm.Get("RoleSessionName"), r.PostForm.Get("RoleSessionName"))
	default:
		http.Error(w, "unexpected action", http.StatusBadRequest)
	}
}

func (f *fakeSTS) assumeCalls() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []url.Values
	for _, c := range f.calls {
		if c.Get("Action") == "AssumeRole" {
			out = append(out, c)
		}
	}
	return out
}

func newHop(t *testing.T, f *fakeSTS, h plan.Hop, prompt func(context.Context, string) (string, error)) *Provider {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	src := credentials.NewStaticCredentialsProvider("AKIASOURCE0000000001", "sourcesecret", "")
	return New(h, 0, src, Options{Region: "us-east-1", Endpoint: srv.URL, Prompt: prompt})
}

func testHop() plan.Hop {
	return plan.Hop{RoleARN: plan.Setting{Value: "arn:aws:iam::222222222222:role/prod"}, SessionName: plan.Setting{Value: "s1"}, DurationSeconds: 3600}
}

func TestRetrieveParsesCredentials(t *testing.T) {
	f := &fakeSTS{callerID: "arn:aws:iam::111111111111:user/ci-user"}
	h := testHop()
	h.Tags = []plan.Tag{{Key: "team", Value: "core"}}
	h.TransitiveTagKeys = []string{"team"}
	h.PolicyARNs = []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}
	c, err := newHop(t, f, h, nil).Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if c.AccessKeyID != "ASIAHOPTEST000000001" || c.SecretAccessKey != "hopsecret" || c.SessionToken != "hoptoken" ||
		!c.CanExpire || !c.Expires.Equal(want) || c.AccountID != "222222222222" {
		t.Errorf("credentials = %+v", c)
	}
	call := f.assumeCalls()[0]
	for k, v := range map[string]string{"RoleSessionName": "s1", "DurationSeconds": "3600", "Tags.member.1.Key": "team",
		"TransitiveTagKeys.member.1": "team", "PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"} {
		if call.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, call.Get(k), v)
		}
	}
}

func TestUsernameSession(t *testing.T) {
	for caller, want := range map[string]string{
		"arn:aws:iam::111111111111:user/path/ci-user":            "ci-user",
		"arn:aws:sts::111111111111:assumed-role/dev/alice@x.com": "alice@x.com",
		"arn:aws:sts::111111111111:federated-user/bob":           "bob",
	} {
		f := &fakeSTS{callerID: caller}
		h := testHop()
		h.SessionNameFromCaller = true
		if _, err := newHop(t, f, h, nil).Retrieve(context.Background()); err != nil {
			t.Fatalf("%s: %v", caller, err)
		}
		if got := f.assumeCalls()[0].Get("RoleSessionName"); got != want {
			t.Errorf("caller %s: RoleSessionName = %q, want %q", caller, got, want)
		}
	}
	f := &fakeSTS{callerID: "arn:aws:iam::111111111111:root"}
	h := testHop()
	h.SessionNameFromCaller = true
	_, err := newHop(t, f, h, nil).Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "--role-session-name") {
		t.Errorf("root caller: err = %v, want a hint to pass --role-session-name", err)
	}
}

func TestMFA(t *testing.T) {
	h := testHop()
	h.SerialNumber = plan.Setting{Value: "arn:aws:iam::111111111111:mfa/ci-user"}

	f := &fakeSTS{}
	_, err := newHop(t, f, h, nil).Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no terminal") || !strings.Contains(err.Error(), "--token-code") {
		t.Errorf("no prompt: err = %v", err)
	}
	if len(f.assumeCalls()) != 0 {
		t.Error("AssumeRole was called without an MFA code")
	}

	asked := ""
	prompt := func(_ context.Context, serial string) (string, error) { asked = serial; return " 654321\n", nil }
	f = &fakeSTS{}
	if _, err := newHop(t, f, h, prompt).Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	if asked != h.SerialNumber.Value || f.assumeCalls()[0].Get("TokenCode") != "654321" || f.assumeCalls()[0].Get("SerialNumber") != h.SerialNumber.Value {
		t.Errorf("asked %q, sent %v", asked, f.assumeCalls()[0])
	}

	bad := func(context.Context, string) (string, error) { return "12ab56", nil }
	if _, err := newHop(t, &fakeSTS{}, h, bad).Retrieve(context.Background()); err == nil || !strings.Contains(err.Error(), "6 digits") {
		t.Errorf("bad code: err = %v", err)
	}

	h.TokenCode = "111222"
	f = &fakeSTS{}
	if _, err := newHop(t, f, h, prompt).Retrieve(context.Background()); err != nil || f.assumeCalls()[0].Get("TokenCode") != "111222" {
		t.Errorf("--token-code: err %v, calls %v", err, f.assumeCalls())
	}
}

func TestErrorsAreOneLineAndActionable(t *testing.T) {
	tests := []struct {
		code   string
		status int
		want   []string
	}{
		{"AccessDenied", 403, []string{"hop 1 (arn:aws:iam::222222222222:role/prod)", "AccessDenied", "arn:aws:iam::111111111111:user/ci-user is not allowed", "trust policy"}},
		{"ExpiredToken", 400, []string{"ExpiredToken", "expired or invalid", "refresh the source credentials"}},
		{"InvalidClientTokenId", 403, []string{"InvalidClientTokenId", "expired or invalid"}},
		{"RegionDisabledException", 403, []string{"not activated in region us-east-1"}},
		{"MalformedPolicyDocument", 400, []string{"MalformedPolicyDocument: injected"}},
	}
	for _, tc := range tests {
		f := &fakeSTS{callerID: "arn:aws:iam::111111111111:user/ci-user", errCode: tc.code, status: tc.status}
		_, err := newHop(t, f, testHop(), nil).Retrieve(context.Background())
		if err == nil {
			t.Fatalf("%s: no error", tc.code)
		}
		msg := err.Error()
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: message %q lacks %q", tc.code, msg, w)
			}
		}
		if strings.Contains(msg, "\n") || strings.Contains(msg, "sourcesecret") {
			t.Errorf("%s: message not one line or leaks the secret: %q", tc.code, msg)
		}
	}
}

func TestUnreachableSTS(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	src := credentials.NewStaticCredentialsProvider("AKIASOURCE0000000001", "sourcesecret", "")
	p := New(testHop(), 0, aws.NewCredentialsCache(src), Options{Region: "us-east-1", Endpoint: "http://" + addr})
	_, err = p.Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot reach STS at http://"+addr) || !strings.Contains(err.Error(), errConnRefused.Error()) || !errors.Is(err, errConnRefused) {
		t.Errorf("err = %v; want it to say and wrap %q", err, errConnRefused)
	}
}
