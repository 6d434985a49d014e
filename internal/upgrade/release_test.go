package upgrade

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// latestJSON is what api.github.com answers for releases/latest, trimmed
// to two assets.
func latestJSON(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/latest.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serve answers every request with status, headers and body, and records
// the request.
func serve(t *testing.T, status int, header http.Header, body []byte) (*httptest.Server, *http.Request) {
	t.Helper()
	seen := new(http.Request)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*seen = *r.Clone(context.Background())
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

func TestLatest(t *testing.T) {
	srv, req := serve(t, 200, http.Header{"Content-Type": {"application/json; charset=utf-8"}}, latestJSON(t))
	r, err := Fetcher{URL: srv.URL + "/repos/rolehop/rolehop/releases/latest", UserAgent: "rolehop/1.2.3"}.Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := Release{Version: "1.3.0", Tag: "v1.3.0", URL: "https://github.com/rolehop/rolehop/releases/tag/v1.3.0",
		Published: time.Date(2026, 12, 1, 10, 4, 39, 0, time.UTC)}
	if r.Version != want.Version || r.Tag != want.Tag || r.URL != want.URL || !r.Published.Equal(want.Published) {
		t.Errorf("got %+v\nwant %+v", r, want)
	}
	if req.Method != "GET" || req.URL.Path != "/repos/rolehop/rolehop/releases/latest" {
		t.Errorf("request %s %s", req.Method, req.URL)
	}
	for k, v := range map[string]string{"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
		"User-Agent": "rolehop/1.2.3", "Authorization": ""} {
		if got := req.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
}

func TestLatestErrors(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	reset := now.Add(23*time.Minute + 10*time.Second).Unix()
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   string
	}{
		{"rate limited (403)", 403, http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {itoa(reset)}},
			`{"message":"API rate limit exceeded for 192.0.2.1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}`,
			"GitHub's API rate limit for this address is used up until 2026-12-01 10:23 UTC (in 23m): try again then"},
		{"rate limited (429)", 429, http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {itoa(now.Add(2 * time.Hour).Unix())}}, ``,
			"used up until 2026-12-01 12:00 UTC (in 2h): try again then"},
		{"secondary rate limit", 403, http.Header{"Retry-After": {"60"}}, `{"message":"You have exceeded a secondary rate limit."}`,
			"used up until 2026-12-01 10:01 UTC (in 1m): try again then"},
		{"rate limited, no reset", 429, http.Header{"X-Ratelimit-Remaining": {"0"}}, ``, "used up: try again in an hour"},
		{"forbidden otherwise", 403, nil, `{"message":"Repository access blocked"}`, "answered 403 Forbidden: Repository access blocked; try again later"},
		{"no release yet", 404, nil, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/releases/releases#get-the-latest-release","status":"404"}`,
			"/latest (404): check ROLEHOP_RELEASES_URL"},
		{"server error", 502, nil, `<html>bad gateway</html>`, "answered 502 Bad Gateway; try again later"},
		{"not JSON", 200, nil, `<!DOCTYPE html><html>`, "is not a GitHub release (invalid character '<'"},
		{"truncated JSON", 200, nil, `{"tag_name":"v1.3.0","html_url":"https://github.com/`, "is not a GitHub release (unexpected end of JSON input)"},
		{"no tag", 200, nil, `{"html_url":"https://github.com/rolehop/rolehop/releases/tag/v1.3.0"}`, `has tag_name "", not a version like v1.2.3`},
		{"tag not semver", 200, nil, `{"tag_name":"nightly","html_url":"https://github.com/x"}`, `has tag_name "nightly"`},
		{"short tag", 200, nil, `{"tag_name":"v1.3","html_url":"https://github.com/x"}`, `has tag_name "v1.3"`},
		{"terminal escape in the URL", 200, nil, `{"tag_name":"v1.3.0","html_url":"https://github.com/\u001b[2J"}`, `has html_url "https://github.com/?[2J", not a web address`},
		{"bad time", 200, nil, `{"tag_name":"v1.3.0","html_url":"https://github.com/x","published_at":"yesterday"}`, `has published_at "yesterday"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := serve(t, tc.status, tc.header, []byte(tc.body))
			_, err := Fetcher{URL: srv.URL + "/latest", Now: func() time.Time { return now }}.Latest(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v\nwant one line with %q", err, tc.want)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// GitHub's own 404 names rolehop/rolehop: nothing has been released.
func TestLatestNotFoundAtGitHub(t *testing.T) {
	srv, _ := serve(t, 404, nil, []byte(`{"message":"Not Found"}`))
	f := Fetcher{URL: DefaultURL, Client: &http.Client{Transport: rewrite{srv.URL}}}
	_, err := f.Latest(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "GitHub has no published release of rolehop/rolehop yet") {
		t.Errorf("error %v", err)
	}
}

// rewrite sends every request to a test server instead.
type rewrite struct{ base string }

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	u := *r.URL
	r.URL = &u
	r.URL.Scheme, r.URL.Host = "http", strings.TrimPrefix(rw.base, "http://")
	return http.DefaultTransport.RoundTrip(r)
}

func TestLatestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/latest"
	srv.Close()
	_, err := Fetcher{URL: url}.Latest(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "cannot reach 127.0.0.1:") ||
		!strings.HasSuffix(err.Error(), "check your network connection and proxy (HTTPS_PROXY)") || strings.Contains(err.Error(), "Get ") {
		t.Errorf("error %v", err)
	}
}

func TestLatestTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	_, err := Fetcher{URL: srv.URL, Client: &http.Client{Timeout: 50 * time.Millisecond}}.Latest(context.Background())
	if err == nil || !strings.Contains(err.Error(), "did not answer within 50ms") {
		t.Errorf("error %v", err)
	}
}

func TestLatestBadURL(t *testing.T) {
	for _, u := range []string{"ftp://mirror/latest", "api.github.com/repos/rolehop/rolehop/releases/latest", "http://"} {
		_, err := Fetcher{URL: u}.Latest(context.Background())
		if err == nil || !strings.Contains(err.Error(), "ROLEHOP_RELEASES_URL") {
			t.Errorf("%q: error %v", u, err)
		}
	}
}

func TestDefaultClient(t *testing.T) {
	c := NewHTTPClient()
	tr := c.Transport.(*http.Transport)
	if c.Timeout != 10*time.Second || tr.Proxy == nil {
		t.Errorf("timeout %s, proxy set %v", c.Timeout, tr.Proxy != nil)
	}
}
