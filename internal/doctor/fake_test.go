package doctor

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/awsclient"
	"github.com/rolehop/rolehop/internal/chain"
	"github.com/rolehop/rolehop/internal/plan"
)

// fakeAWS is STS and IAM in one test server: GetCallerIdentity names the
// caller by access key, AssumeRole hands out keys "ASIA<n>" (or fails as
// told), GetRole returns the configured role (or fails as told).
type fakeAWS struct {
	mu sync.Mutex
	// fail maps an action to the canned error for it; n < 0: every call.
	fail map[string]*cannedError
	// trust and maxSession describe every role GetRole returns.
	trust      string
	maxSession int
	// dateOffset shifts the Date header of every response.
	dateOffset time.Duration
	// sessions maps an issued access key id to its assumed-role ARN.
	sessions map[string]string
	calls    []string
}

type cannedError struct {
	status        int
	code, message string
	moto          bool // moto's auth-layer format: <ErrorResponse><Errors><Error>…
	n             int  // calls to fail; < 0: all
	skip          int  // calls to let through first
}

const (
	srcKeyID  = "AKIASOURCEKEY0000001"
	srcSecret = "source-secret-never-printed"
	userARN   = "arn:aws:iam::111111111111:user/ci-user"
)

func newFakeAWS(t *testing.T) (*fakeAWS, *httptest.Server) {
	f := &fakeAWS{fail: map[string]*cannedError{}, sessions: map[string]string{}, maxSession: 3600,
		trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// failNext makes the next n calls of action fail (n < 0: all).
func (f *fakeAWS) failNext(action string, n, status int, code, message string) *cannedError {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := &cannedError{status: status, code: code, message: message, n: n}
	f.fail[action] = c
	return c
}

var keyRe = regexp.MustCompile(`Credential=([^/]+)/`)

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	action := form.Get("Action")
	key := ""
	if m := keyRe.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		key = m[1]
	}
	f.mu.Lock()
	f.calls = append(f.calls, action)
	w.Header().Set("Date", time.Now().Add(f.dateOffset).UTC().Format(http.TimeFormat))
	w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("req-%d", len(f.calls)))
	c := f.fail[action]
	if c != nil && c.skip > 0 {
		c.skip--
		c = nil
	}
	if c != nil && c.n != 0 {
		c.n--
		f.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(c.status)
		var msg strings.Builder
		_ = xml.EscapeText(&msg, []byte(c.message))
		if c.moto {
			fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<ErrorResponse><Errors><Error><Code>%s</Code><Message>%s</Message><Type>Sender</Type></Error></Errors></ErrorResponse>`, c.code, msg.String())
			return
		}
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>x</RequestId></ErrorResponse>`, c.code, msg.String())
		return
	}
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	switch action {
	case "GetCallerIdentity":
		arn := userARN
		if s, ok := f.sessions[key]; ok {
			arn = s
		}
		acct := strings.Split(arn, ":")[4]
		fmt.Fprintf(w, `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>%s</Arn><UserId>AIDAEXAMPLE</UserId><Account>%s</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`, arn, acct)
	case "AssumeRole":
		role := form.Get("RoleArn")
		parts := strings.Split(role, ":")
		name := role[strings.LastIndex(role, "/")+1:]
		arn := fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", parts[4], name, form.Get("RoleSessionName"))
		id := fmt.Sprintf("ASIAFAKE%012d", len(f.sessions)+1)
		f.sessions[id] = arn
		exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		fmt.Fprintf(w, `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>session-secret</SecretAccessKey><SessionToken>session-token</SessionToken><Expiration>%s</Expiration></Credentials><AssumedRoleUser><Arn>%s</Arn><AssumedRoleId>AROA:x</AssumedRoleId></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>`, id, exp, arn)
	case "GetRole":
		name := form.Get("RoleName")
		fmt.Fprintf(w, `<GetRoleResponse><GetRoleResult><Role><Path>/</Path><RoleName>%s</RoleName><RoleId>AROAX</RoleId><Arn>arn:aws:iam::111111111111:role/%s</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate><AssumeRolePolicyDocument>%s</AssumeRolePolicyDocument><MaxSessionDuration>%d</MaxSessionDuration></Role></GetRoleResult></GetRoleResponse>`,
			name, name, url.QueryEscape(f.trust), f.maxSession)
	default:
		w.WriteHeader(400)
	}
}

// testPlan is ci-user's keys, then one hop per role ARN.
func testPlan(srv *httptest.Server, roles ...string) *plan.Plan {
	p := &plan.Plan{
		Profile:     plan.Setting{Value: "prod", From: "argument"},
		Source:      plan.Source{Kind: plan.SourceEnv, From: "env", AccessKeyID: srcKeyID, SecretAccessKey: srcSecret},
		STSRegion:   "us-east-1",
		STSEndpoint: plan.Setting{Value: srv.URL, From: "env AWS_ENDPOINT_URL_STS"},
	}
	for i, r := range roles {
		p.Hops = append(p.Hops, plan.Hop{
			Profile: "prod", RoleARN: plan.Setting{Value: r, From: "~/.aws/config:" + fmt.Sprint(3+4*i)},
			SessionName: plan.Setting{Value: "laptop", From: "default"}, DurationSeconds: 3600, DurationFrom: "default",
			Chained: i > 0,
		})
	}
	return p
}

// diagnose runs the doctor on p against srv.
func diagnose(t *testing.T, srv *httptest.Server, p *plan.Plan) *Report {
	t.Helper()
	env := map[string]string{"AWS_ENDPOINT_URL_IAM": srv.URL}
	d := New(Options{AWS: awsclient.Settings{HTTPClient: &http.Client{Timeout: 10 * time.Second}}, Getenv: func(k string) string { return env[k] }})
	steps, err := chain.BuildSteps(p, chain.Options{HTTPClient: d.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return d.Run(ctx, p, steps)
}
