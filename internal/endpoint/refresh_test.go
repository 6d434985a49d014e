package endpoint_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rolehop/rolehop/internal/endpoint"
)

// loopKey marks the context given to Run, so a Fetch can tell the background
// refresher's calls from those a request makes.
type loopKey struct{}

// call is one Fetch call as the fake source saw it.
type call struct {
	n          int
	loop       bool
	atLeast    time.Duration
	remaining  time.Duration // validity left on the credentials last handed out
	start, end time.Time
	err        error
}

// source is a fake chain handing out short-lived credentials with a new
// AccessKeyId each call. Expirations have fractions of a second, as SSO's
// do; the answer shows whole seconds.
type source struct {
	lifetime time.Duration
	first    time.Duration         // lifetime of Prime's credentials, if not 0
	slow     map[int]time.Duration // call number (1-based) -> extra latency
	fail     func(n int) error     // nil or nil error: succeed

	mu      sync.Mutex
	calls   []call
	lastExp time.Time
}

func (s *source) fetch(ctx context.Context, atLeast time.Duration) (aws.Credentials, error) {
	s.mu.Lock()
	n := len(s.calls) + 1
	c := call{n: n, loop: ctx.Value(loopKey{}) != nil, atLeast: atLeast, start: time.Now()}
	if !s.lastExp.IsZero() {
		c.remaining = time.Until(s.lastExp)
	}
	s.calls = append(s.calls, c)
	s.mu.Unlock()

	time.Sleep(s.slow[n])
	var err error
	if s.fail != nil {
		err = s.fail(n)
	}
	now := time.Now()
	lifetime := s.lifetime
	if n == 1 && s.first != 0 {
		lifetime = s.first
	}
	exp := now.Add(lifetime)
	for exp.Sub(now) <= atLeast { // honour atLeast, as the chain does
		exp = exp.Add(time.Second)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[n-1].end = time.Now()
	s.calls[n-1].err = err
	if err != nil {
		return aws.Credentials{}, err
	}
	s.lastExp = exp
	return aws.Credentials{
		AccessKeyID:     fmt.Sprintf("ASIAKEY%04d", n),
		SecretAccessKey: fmt.Sprintf("secret-%d", n),
		SessionToken:    fmt.Sprintf("session-%d", n),
		CanExpire:       true,
		Expires:         exp,
	}, nil
}

func (s *source) snapshot() []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.calls...)
}

// poll is one request of a polling client.
type poll struct {
	sent, got time.Time
	status    int
	body      []byte
	keyID     string
	exp       time.Time
}

// get requests url; on error, it fails the test (it may run on any
// goroutine) and returns status 0.
func get(t *testing.T, client *http.Client, url, tok string) poll {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", tok)
	p := poll{sent: time.Now()}
	resp, err := client.Do(req)
	if err != nil {
		t.Errorf("GET: %v", err)
		return p
	}
	p.body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	p.got, p.status = time.Now(), resp.StatusCode
	if p.status == 200 {
		var w wire
		if err := json.Unmarshal(p.body, &w); err != nil {
			t.Errorf("answer %q: %v", p.body, err)
		}
		p.keyID = w.AccessKeyID
		if p.exp, err = time.Parse(time.RFC3339, w.Expiration); err != nil {
			t.Errorf("Expiration %q: %v", w.Expiration, err)
		}
	}
	return p
}

func newRefreshServer(t *testing.T, src *source, log *syncBuffer) (*running, string) {
	t.Helper()
	tok := mustToken(t)
	opts := endpoint.Options{}
	if log != nil {
		opts.Log = log
	}
	srv, err := endpoint.New([]endpoint.Route{{Name: "prod", Path: "/v1/credentials/prod", Token: tok, Fetch: src.fetch}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	mark := func(ctx context.Context) context.Context { return context.WithValue(ctx, loopKey{}, true) }
	s := serve(t, srv, mark, func(*endpoint.Server) {
		if calls := src.snapshot(); len(calls) != 1 || calls[0].atLeast != 0 {
			t.Errorf("Prime made calls %+v, want one with atLeast 0", calls)
		}
	})
	return s, tok
}

// TestRefresh: with 2-second credentials, a client polling every 20 ms is
// always answered at once with unexpired credentials, which change as the
// refresher renews them ahead of expiry.
func TestRefresh(t *testing.T) {
	t.Parallel()
	const slowFetch = 300 * time.Millisecond
	// 2 s credentials (1 to 2 s as shown, in whole seconds), refreshed
	// with a quarter left; Prime's get 3 s, so that the slow refresh ends
	// well before they expire.
	src := &source{first: 3 * time.Second, lifetime: 2 * time.Second, slow: map[int]time.Duration{2: slowFetch}}
	log := &syncBuffer{}
	s, tok := newRefreshServer(t, src, log)
	client := &http.Client{Timeout: 5 * time.Second}

	var polls []poll
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		polls = append(polls, get(t, client, s.base+"/v1/credentials/prod", tok))
	}

	changes := 0
	for i, p := range polls {
		if p.status != 200 {
			t.Fatalf("poll %d at %s: status %d: %s", i, p.sent.Format("15:04:05.000"), p.status, p.body)
		}
		if !p.exp.After(p.got) {
			t.Errorf("poll %d received at %s credentials %s with Expiration %s", i, p.got.Format("15:04:05.000"), p.keyID, p.exp.Format(time.RFC3339))
		}
		if i > 0 && p.keyID != polls[i-1].keyID {
			changes++
		}
	}
	if changes < 2 {
		t.Errorf("AccessKeyId changed %d times in 5 s of 2 s credentials, want at least 2", changes)
	}

	calls := src.snapshot()
	if len(calls) < 3 {
		t.Fatalf("Fetch called %d times, want Prime and at least 2 refreshes", len(calls))
	}
	for _, c := range calls[1:] {
		if !c.loop {
			t.Errorf("call %d came from a request, not the refresher: %+v", c.n, c)
			continue
		}
		// Credentials that do not outlive the current ones are no progress:
		// atLeast must rule out the ones a cache would hand back.
		if c.atLeast <= c.remaining {
			t.Errorf("refresh %d asked for atLeast %s, but the current credentials have %s left", c.n, c.atLeast, c.remaining)
		}
		// ...and it happens ahead of expiry, with a quarter of the lifetime left.
		if c.remaining <= 0 || c.remaining > 1500*time.Millisecond {
			t.Errorf("refresh %d ran with %s left, want between 0 and 1.5 s", c.n, c.remaining)
		}
	}

	// The second Fetch slept: the requests meanwhile were answered from the
	// current credentials without waiting for it. Only requests sent and
	// answered inside the slow Fetch count: on a loaded machine a request
	// sent just before its end may be served after the new credentials are
	// in place, which is correct. (How fast they were answered is for
	// bench/endpoint.sh, not a pass/fail test.)
	slow := calls[1]
	var during int
	for _, p := range polls {
		if p.sent.Before(slow.start) || !p.got.Before(slow.end) {
			continue
		}
		during++
		if p.keyID != "ASIAKEY0001" {
			t.Errorf("a request answered during the slow refresh got %s, want the primed ASIAKEY0001", p.keyID)
		}
	}
	if during < 5 {
		t.Errorf("only %d requests were answered during the %s refresh", during, slowFetch)
	}
	if !strings.Contains(log.String(), "rolehop: serve prod: refreshed, valid until ") {
		t.Errorf("log has no refresh line:\n%s", log)
	}
}

// TestSourceGone: the source starts failing. Requests are answered while
// the current credentials are valid, then refused with a 503 that says why;
// the log says what failed and what is still served.
func TestSourceGone(t *testing.T) {
	t.Parallel()
	expired := errors.New("hop 1 (arn:aws:iam::123456789012:role/prod): ExpiredToken: The security token included in the request is expired")
	var mu sync.Mutex
	recovered := false
	src := &source{lifetime: 1500 * time.Millisecond, fail: func(n int) error {
		mu.Lock()
		defer mu.Unlock()
		if n == 1 || recovered {
			return nil
		}
		return expired
	}}
	log := &syncBuffer{}
	s, tok := newRefreshServer(t, src, log)
	client := &http.Client{Timeout: 5 * time.Second}
	url := s.base + "/v1/credentials/prod"

	src.mu.Lock()
	expiry := src.lastExp.Truncate(time.Second) // as the answer shows it
	src.mu.Unlock()

	// Until expiry: 200 with the primed credentials. After: 503. Keep going
	// until the refresher has failed three times, so that it retries once
	// the credentials have been expired for over a second.
	var saw200, saw503 int
	deadline := time.Now().Add(8 * time.Second)
	for {
		loopFails := 0
		for _, c := range src.snapshot() {
			if c.loop && c.err != nil {
				loopFails++
			}
		}
		if loopFails >= 3 && saw503 > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 8 s: %d failed refreshes, %d answers 503\nlog:\n%s", loopFails, saw503, log)
		}
		p := get(t, client, url, tok)
		switch {
		case p.status == 200 && !p.exp.After(p.got):
			t.Fatalf("200 at %s with Expiration %s: the answer had expired", p.got.Format(time.RFC3339Nano), p.exp.Format(time.RFC3339))
		case p.got.Before(expiry.Add(-50 * time.Millisecond)):
			if p.status != 200 || p.keyID != "ASIAKEY0001" {
				t.Fatalf("before expiry: status %d: %s", p.status, p.body)
			}
			saw200++
		case p.sent.After(expiry):
			if p.status != 503 {
				t.Fatalf("after expiry: status %d: %s", p.status, p.body)
			}
			var e map[string]string
			if err := json.Unmarshal(p.body, &e); err != nil || len(e) != 2 {
				t.Fatalf("503 body %q is not {code,message}", p.body)
			}
			if e["code"] != "CredentialsUnavailable" || !strings.Contains(e["message"], "prod") || !strings.Contains(e["message"], expired.Error()) {
				t.Errorf("503 body %q does not name the route and the error", p.body)
			}
			saw503++
		}
		time.Sleep(20 * time.Millisecond)
	}
	if saw200 == 0 {
		t.Errorf("no request answered while the credentials were valid")
	}

	for _, c := range src.snapshot() {
		if c.atLeast < 0 {
			t.Errorf("call %d (loop %v) asked for credentials with more than %s left: expired ones would do", c.n, c.loop, c.atLeast)
		}
	}

	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	var fails []string
	for _, l := range lines {
		if strings.Contains(l, "refresh failed") {
			fails = append(fails, l)
			if !strings.HasPrefix(l, "rolehop: serve prod: refresh failed (") || !strings.Contains(l, expired.Error()) || !strings.Contains(l, "retrying in ") {
				t.Errorf("log line %q does not name the route, the error and the retry", l)
			}
			if strings.Contains(l, "expire in -") {
				t.Errorf("log line %q says expired credentials are still served", l)
			}
		}
		for _, secret := range []string{tok, "secret-1", "session-1"} {
			if strings.Contains(l, secret) {
				t.Errorf("log line %q has a secret", l)
			}
		}
	}
	if len(fails) < 3 {
		t.Fatalf("log has %d refresh failures:\n%s", len(fails), log)
	}
	// The retry comes when the log says: 1 s, then 2 s.
	var loopCalls []call
	for _, c := range src.snapshot() {
		if c.loop {
			loopCalls = append(loopCalls, c)
		}
	}
	for i, want := range []time.Duration{time.Second, 2 * time.Second} {
		if !strings.Contains(fails[i], fmt.Sprintf("retrying in %s:", want)) {
			t.Errorf("failure %d %q, want retrying in %s", i+1, fails[i], want)
		}
		if gap := loopCalls[i+1].start.Sub(loopCalls[i].end); gap < want-100*time.Millisecond || gap > want+400*time.Millisecond {
			t.Errorf("retry %d came %s after failure %d, whose log line says %s", i+1, gap, i+1, want)
		}
	}
	if !strings.Contains(fails[0], "still serving credentials that expire in ") {
		t.Errorf("first failure %q does not say what is still served", fails[0])
	}
	if last := fails[len(fails)-1]; !strings.Contains(last, "expired") {
		t.Errorf("failure after expiry %q does not say the credentials expired", last)
	}

	// The source comes back: the next request is answered at once.
	mu.Lock()
	recovered = true
	mu.Unlock()
	if p := get(t, client, url, tok); p.status != 200 || !p.exp.After(time.Now()) {
		t.Errorf("after the source recovered: status %d: %s", p.status, p.body)
	}
}

// TestExpiredDuringRefresh: requests that find the credentials expired while
// a refresh is under way wait for it and share its result, rather than each
// fetching again once it is done.
func TestExpiredDuringRefresh(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var fromRequests, calls int
	var primedExp time.Time
	tok := mustToken(t)
	srv, err := endpoint.New([]endpoint.Route{{Name: "prod", Path: "/p", Token: tok, Fetch: func(ctx context.Context, atLeast time.Duration) (aws.Credentials, error) {
		mu.Lock()
		calls++
		n := calls
		if ctx.Value(loopKey{}) == nil && n > 1 {
			fromRequests++
		}
		mu.Unlock()
		if n == 1 {
			// 0.4 to 1.4 s, refreshed with at most 0.35 s left.
			mu.Lock()
			defer mu.Unlock()
			primedExp = time.Now().Add(1400 * time.Millisecond).Truncate(time.Second)
			return aws.Credentials{AccessKeyID: "KEY1", SecretAccessKey: "s", CanExpire: true, Expires: primedExp}, nil
		}
		if n == 2 {
			time.Sleep(800 * time.Millisecond) // expiry comes meanwhile
		}
		return aws.Credentials{AccessKeyID: fmt.Sprintf("KEY%d", n), SecretAccessKey: "s", CanExpire: true, Expires: time.Now().Add(time.Hour)}, nil
	}}}, endpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mark := func(ctx context.Context) context.Context { return context.WithValue(ctx, loopKey{}, true) }
	s := serve(t, srv, mark, nil)
	mu.Lock()
	wake := time.Until(primedExp.Add(100 * time.Millisecond))
	mu.Unlock()
	time.Sleep(wake)

	client := &http.Client{Timeout: 5 * time.Second}
	var wg sync.WaitGroup
	polls := make([]poll, 10)
	for i := range polls {
		wg.Go(func() { polls[i] = get(t, client, s.base+"/p", tok) })
	}
	wg.Wait()
	for i, p := range polls {
		if p.status != 200 || !p.exp.After(p.got) {
			t.Errorf("request %d: status %d, Expiration %s: %s", i, p.status, p.exp, p.body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if fromRequests > 1 {
		t.Errorf("%d waiting requests fetched again after the refresh they waited for (%d calls in all)", fromRequests, calls)
	}
}
