//go:build unix

package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// federation is a test AWS sign-in federation endpoint: it checks and
// records getSigninToken requests and answers {"SigninToken": …}.
type federation struct {
	*httptest.Server
	mu       sync.Mutex
	requests []url.Values
}

func newFederation(t *testing.T) *federation {
	f := &federation{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f.mu.Lock()
		f.requests = append(f.requests, q)
		f.mu.Unlock()
		var s struct{ SessionID, SessionKey, SessionToken string }
		if q.Get("Action") != "getSigninToken" || json.Unmarshal([]byte(q.Get("Session")), &s) != nil || s.SessionID == "" || s.SessionKey == "" || s.SessionToken == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(`{"SigninToken":"signin-token-for-` + s.SessionID + `"}`))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *federation) last(t *testing.T) url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("no getSigninToken request")
	}
	return f.requests[len(f.requests)-1]
}

func TestConsoleURL(t *testing.T) {
	t.Parallel()
	env, seed := newChainEnv(t)
	fed := newFederation(t)

	check := func(res Result, wantKeyFrom string) url.Values {
		t.Helper()
		if res.Code != 0 {
			t.Fatalf("rolehop console failed: %s", res)
		}
		u, err := url.Parse(strings.TrimSpace(res.Stdout))
		if err != nil || u.Scheme+"://"+u.Host != fed.URL || u.Query().Get("Action") != "login" || u.Query().Get("Issuer") != "rolehop" {
			t.Fatalf("login URL %q", res.Stdout)
		}
		q := fed.last(t)
		var s struct{ SessionID string }
		_ = json.Unmarshal([]byte(q.Get("Session")), &s)
		if u.Query().Get("SigninToken") != "signin-token-for-"+s.SessionID || (wantKeyFrom != "" && s.SessionID != wantKeyFrom) {
			t.Errorf("sign-in token %q for session key %q, want key %q", u.Query().Get("SigninToken"), s.SessionID, wantKeyFrom)
		}
		return u.Query()
	}

	// The 2-hop chain's final role credentials, default destination, no
	// SessionDuration (the role is chained).
	res := env.Run(t, "console", "prod", "--print", "--federation-endpoint", fed.URL)
	final := checkChainCalls(t, env, seed)
	q := check(res, final)
	if q.Get("Destination") != "https://console.aws.amazon.com/" || fed.last(t).Has("SessionDuration") {
		t.Errorf("destination %q, SessionDuration sent: %v", q.Get("Destination"), fed.last(t).Has("SessionDuration"))
	}
	// --duration is refused for a chained role, with a one-line reason.
	wantCLIError(t, env, env.Run(t, "console", "prod", "--print", "--duration", "2h", "--federation-endpoint", fed.URL), 2, "--duration works only")

	// One hop from the user's keys may ask for a console session length.
	env.Proxy.Reset()
	env.Set("ROLEHOP_FEDERATION_ENDPOINT", fed.URL)
	res = env.Run(t, "console", "dev", "--print", "--duration", "2h", "--destination", "https://console.aws.amazon.com/s3/")
	check(res, "")
	if got := fed.last(t).Get("SessionDuration"); got != "7200" {
		t.Errorf("SessionDuration %q, want 7200", got)
	}

	// Long-term keys: GetFederationToken first, and no SessionDuration.
	env.Proxy.Reset()
	res = env.Run(t, "console", "base", "--print")
	check(res, "")
	gft := mustCalls(t, env.Proxy, "GetFederationToken", 1)[0]
	if gft.AccessKeyID != seed.CIUser.AccessKeyID || gft.Get("Policy") == "" {
		t.Errorf("GetFederationToken signed with %q, policy %q", gft.AccessKeyID, gft.Get("Policy"))
	}
	if fed.last(t).Has("SessionDuration") {
		t.Error("SessionDuration sent with GetFederationToken credentials")
	}
	assertNoSecrets(t, "stderr", res.Stderr, secretsOf(env))
}
