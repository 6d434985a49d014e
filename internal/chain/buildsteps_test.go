package chain

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rolehop/rolehop/internal/plan"
)

// fakeSTS answers AssumeRole and GetSessionToken with fresh credentials
// and counts the calls per action.
type fakeSTS struct {
	mu    sync.Mutex
	calls map[string]int
}

func (f *fakeSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	action := form.Get("Action")
	f.mu.Lock()
	f.calls[action]++
	n := f.calls[action]
	f.mu.Unlock()
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%[1]sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><%[1]sResult>
<Credentials><AccessKeyId>ASIA%[1]s%[2]d</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>%[3]s</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::111111111111:assumed-role/r/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
</%[1]sResult></%[1]sResponse>`, action, n, exp)
}

func TestBuildStepsExposesEveryStep(t *testing.T) {
	f := &fakeSTS{calls: map[string]int{}}
	srv := httptest.NewServer(f)
	defer srv.Close()

	p := basePlan()
	p.Source = plan.Source{Kind: plan.SourceProvided}
	p.STSEndpoint = plan.Setting{Value: srv.URL}
	p.MFASessionSeconds = 43200
	p.Hops[1].SerialNumber = plan.Setting{Value: "arn:aws:iam::111111111111:mfa/alice"}
	p.Hops[1].TokenCode = "123456"
	p.Hops[1].MFA = plan.MFAPath{Via: plan.MFAViaSession}
	opts := Options{HTTPClient: srv.Client(), Provided: credentials.NewStaticCredentialsProvider("AKIAPROVIDED", "s", "")}

	steps, err := BuildSteps(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 3 {
		t.Fatalf("got %d steps, want source + 2 hops", len(steps))
	}
	for i, want := range []int{-1, 0, 1} {
		if steps[i].Hop != want {
			t.Errorf("step %d: Hop = %d, want %d", i, steps[i].Hop, want)
		}
	}
	if steps[1].MFASession != nil || steps[2].MFASession == nil {
		t.Errorf("MFASession: hop 1 %v, hop 2 %v; want only hop 2's set", steps[1].MFASession, steps[2].MFASession)
	}

	ctx := context.Background()
	got := make([]aws.Credentials, len(steps))
	for i, st := range steps {
		if got[i], err = st.Provider.Retrieve(ctx); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if got[0].AccessKeyID != "AKIAPROVIDED" || got[1].AccessKeyID != "ASIAAssumeRole1" || got[2].AccessKeyID != "ASIAAssumeRole2" {
		t.Errorf("key ids %q %q %q", got[0].AccessKeyID, got[1].AccessKeyID, got[2].AccessKeyID)
	}
	// Each step retrieved once: hop 2 reused hop 1's credentials.
	if f.calls["AssumeRole"] != 2 || f.calls["GetSessionToken"] != 1 {
		t.Errorf("calls %v, want 2 AssumeRole and 1 GetSessionToken", f.calls)
	}

	last, err := Build(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := last.Retrieve(ctx)
	if err != nil || !strings.HasPrefix(c.AccessKeyID, "ASIAAssumeRole") {
		t.Errorf("Build: %q, %v", c.AccessKeyID, err)
	}
}

// TestBuildStepsRetrySettings: the hops of a chain make the attempts the
// plan's retry settings say, with the given HTTP client.
func TestBuildStepsRetrySettings(t *testing.T) {
	for _, attempts := range []int{1, 4} {
		var mu sync.Mutex
		n := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			mu.Lock()
			n++
			mu.Unlock()
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>`)
		}))
		p := basePlan()
		p.Source = plan.Source{Kind: plan.SourceProvided}
		p.STSEndpoint = plan.Setting{Value: srv.URL}
		p.Retry = plan.Retry{MaxAttempts: attempts, MaxAttemptsFrom: "test", MaxBackoffMS: 1, MaxBackoffFrom: "test"}
		prov, err := Build(p, Options{HTTPClient: srv.Client(), Provided: credentials.NewStaticCredentialsProvider("AKIAPROVIDED", "s", "")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := prov.Retrieve(context.Background()); err == nil {
			t.Fatal("no error from a throttling STS")
		}
		srv.Close()
		if n != attempts {
			t.Errorf("max_attempts %d: %d AssumeRole attempts", attempts, n)
		}
	}
}
