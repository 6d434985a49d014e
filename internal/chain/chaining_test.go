package chain

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rolehop/rolehop/internal/cache"
	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/winetest"
)

func TestMayBeChained(t *testing.T) {
	long := func(p *plan.Plan) { p.Hops[0].DurationSeconds = 7200 }
	for _, tc := range []struct {
		name string
		edit func(p *plan.Plan)
		want bool
	}{
		{"long-term keys", long, false},
		{"temporary env keys", func(p *plan.Plan) { long(p); p.Source.Kind, p.Source.SessionToken = plan.SourceEnv, "tok" }, true},
		{"container", func(p *plan.Plan) {
			long(p)
			p.Source = plan.Source{Kind: plan.SourceContainer, ContainerURL: "http://127.0.0.1/c"}
		}, true},
		{"credential_process", func(p *plan.Plan) { long(p); p.Source = plan.Source{Kind: plan.SourceProcess, Command: "x"} }, true},
		{"provided", func(p *plan.Plan) { long(p); p.Source = plan.Source{Kind: plan.SourceProvided} }, true},
		{"instance role", func(p *plan.Plan) { long(p); p.Source = plan.Source{Kind: plan.SourceIMDS} }, false},
		{"container, 3600 s", func(p *plan.Plan) { p.Source = plan.Source{Kind: plan.SourceContainer} }, false},
		{"known chained", func(p *plan.Plan) {
			long(p)
			p.Source = plan.Source{Kind: plan.SourceContainer}
			p.Hops[0].Chained = true
		}, false},
	} {
		p := basePlan()
		tc.edit(p)
		steps := Steps(p)
		if got := MayBeChained(p, 0); got != tc.want {
			t.Errorf("%s: MayBeChained = %v, want %v", tc.name, got, tc.want)
		}
		if got := steps[len(steps)-2].CappedKey != ""; got != tc.want {
			t.Errorf("%s: hop 1 has a capped key: %v, want %v", tc.name, got, tc.want)
		}
		if steps[len(steps)-1].CappedKey != "" {
			t.Errorf("%s: hop 2 (capped by the plan) has a capped key", tc.name)
		}
	}
	// The capped key is the key of the same hop planned at 3600 s, and the
	// next hop's key does not depend on which one was used.
	p := basePlan()
	p.Source = plan.Source{Kind: plan.SourceContainer, ContainerURL: "http://127.0.0.1/c"}
	p.Hops[0].DurationSeconds = 7200
	capped := Steps(p)[0]
	p.Hops[0].DurationSeconds = 3600
	if planned := Steps(p)[0]; planned.Key != capped.CappedKey || capped.Key == capped.CappedKey {
		t.Errorf("capped key %s, want the 3600 s hop's key %s (and not the 7200 s key %s)", capped.CappedKey, planned.Key, capped.Key)
	}
}

// chainingSTS refuses more than 3600 s as role chaining.
type chainingSTS struct {
	mu        sync.Mutex
	durations []string
}

func (f *chainingSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	d := form.Get("DurationSeconds")
	f.mu.Lock()
	f.durations = append(f.durations, d)
	n := len(f.durations)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	if s, _ := strconv.Atoi(d); s > plan.ChainedMaxSeconds {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.</Message></Error><RequestId>r</RequestId></ErrorResponse>`)
		return
	}
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIACAPPED%d</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>%s</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::111111111111:assumed-role/dev/alice</Arn><AssumedRoleId>AROA:alice</AssumedRoleId></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>`, n, exp)
}

func (f *chainingSTS) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.durations...)
}

// TestChainingRetryCache: the capped credentials are stored under the
// 3600 s key, never under the 7200 s one; the next run asks for 7200 s
// again (the source may have changed) and then finds them; a run planned
// at 3600 s uses them without a call; doctor's NoChainingRetry reports
// the refusal.
func TestChainingRetryCache(t *testing.T) {
	f := &chainingSTS{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	p := basePlan()
	p.Hops = p.Hops[:1]
	p.Source = plan.Source{Kind: plan.SourceProvided}
	p.Hops[0].DurationSeconds = 7200
	p.STSEndpoint = plan.Setting{Value: srv.URL}
	store := cache.Open(winetest.TempDir(t))
	var warnings []string
	opts := Options{HTTPClient: srv.Client(), Store: store, Provided: credentials.NewStaticCredentialsProvider("ASIAPROVIDED", "s", "t"),
		Warn: func(format string, args ...any) { warnings = append(warnings, fmt.Sprintf(format, args...)) }}
	run := func(p *plan.Plan, opts Options) (string, error) {
		t.Helper()
		prov, err := Build(p, opts)
		if err != nil {
			t.Fatal(err)
		}
		c, err := prov.Retrieve(context.Background())
		return c.AccessKeyID, err
	}
	st := Steps(p)[0]

	key, err := run(p, opts)
	if err != nil || key != "ASIACAPPED2" {
		t.Fatalf("first run: key %q, err %v", key, err)
	}
	if got := f.sent(); fmt.Sprint(got) != "[7200 3600]" {
		t.Errorf("first run sent DurationSeconds %v, want [7200 3600]", got)
	}
	if _, ok := store.Get(st.Key); ok {
		t.Error("capped credentials stored under the 7200 s key")
	}
	if e, ok := store.Get(st.CappedKey); !ok || e.Credentials.AccessKeyID != "ASIACAPPED2" {
		t.Errorf("capped credentials not stored under the 3600 s key: %+v", e)
	}
	if len(warnings) != 1 {
		t.Errorf("warnings %q, want 1", warnings)
	}

	key, err = run(p, opts)
	if err != nil || key != "ASIACAPPED2" || fmt.Sprint(f.sent()) != "[7200 3600 7200]" || len(warnings) != 2 {
		t.Errorf("second run: key %q err %v, sent %v, %d warnings; want the cached capped key after one refused 7200 s call", key, err, f.sent(), len(warnings))
	}

	fixed := basePlan()
	fixed.Hops = fixed.Hops[:1]
	fixed.Source, fixed.STSEndpoint = p.Source, p.STSEndpoint
	if key, err = run(fixed, opts); err != nil || key != "ASIACAPPED2" || len(f.sent()) != 3 {
		t.Errorf("run planned at 3600 s: key %q err %v after %d calls, want the cached entry and no call", key, err, len(f.sent()))
	}

	doctor := opts
	doctor.Store = nil
	doctor.NoChainingRetry = true
	if _, err = run(p, doctor); err == nil || len(f.sent()) != 4 {
		t.Errorf("NoChainingRetry: err %v after %d calls, want the refusal after 1 more", err, len(f.sent()))
	}
}

func TestHTTPClientFromEnv(t *testing.T) {
	for v, want := range map[string]time.Duration{"": DefaultHTTPTimeout, "1s": time.Second, "250ms": 250 * time.Millisecond, "1m30s": 90 * time.Second} {
		c, err := HTTPClientFromEnv(func(string) string { return v })
		if err != nil {
			t.Errorf("ROLEHOP_HTTP_TIMEOUT=%q: %v", v, err)
		} else if c.Timeout != want {
			t.Errorf("ROLEHOP_HTTP_TIMEOUT=%q: timeout %v, want %v", v, c.Timeout, want)
		}
	}
	for _, v := range []string{"5", "abc", "-1s", "0s", "10ms", "11m", " 5s"} {
		if _, err := HTTPClientFromEnv(func(string) string { return v }); err == nil {
			t.Errorf("ROLEHOP_HTTP_TIMEOUT=%q accepted", v)
		}
	}
}
