package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rolehop/rolehop/internal/buildinfo"
	"github.com/rolehop/rolehop/internal/upgrade"
)

// releasesServer answers like GitHub's releases/latest, with status and
// body, and counts the requests. Its URL goes into ROLEHOP_RELEASES_URL.
func releasesServer(t *testing.T, status int, header http.Header, body []byte) (url string, requests *atomic.Int32, userAgent *atomic.Value) {
	t.Helper()
	requests, userAgent = new(atomic.Int32), new(atomic.Value)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		userAgent.Store(r.Header.Get("User-Agent"))
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/repos/rolehop/rolehop/releases/latest", requests, userAgent
}

// githubLatest is a real-shaped releases/latest answer for v1.3.0.
func githubLatest(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../upgrade/testdata/latest.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const releasePage = "https://github.com/rolehop/rolehop/releases/tag/v1.3.0"

var brewProbe = upgrade.Probe{Exe: "/opt/homebrew/Cellar/rolehop/1.2.3/bin/rolehop", GOOS: "darwin", GOARCH: "arm64"}

func releaseInfo(version string) buildinfo.Info {
	i := fakeInfo()
	i.Version, i.Modified = version, false
	return i
}

func TestVersionCheck(t *testing.T) {
	url, requests, ua := releasesServer(t, 200, nil, githubLatest(t))
	env := map[string]string{upgrade.URLEnv: url}
	tests := []struct {
		info buildinfo.Info
		want string
	}{
		{releaseInfo("1.2.3"), "rolehop 1.2.3 is installed; 1.3.0 is the latest release (2026-12-01): " + releasePage + "\nto upgrade: brew upgrade rolehop\n"},
		{releaseInfo("1.3.0"), "rolehop 1.3.0 is up to date: it is the latest release (2026-12-01): " + releasePage + "\n"},
		{releaseInfo("devel"), "rolehop devel is a development build, not a release; 1.3.0 is the latest release (2026-12-01): " + releasePage +
			"\nto install it: brew upgrade rolehop\n"},
		{fakeInfo(), "rolehop 1.2.3 is a development build, not a release; 1.3.0 is the latest release (2026-12-01): " + releasePage +
			"\nto install it: brew upgrade rolehop\n"},
	}
	for _, tc := range tests {
		out, err := runToolingWith(t, tc.info, env, brewProbe, "version", "--check")
		if err != nil || out != tc.want {
			t.Errorf("%s: %v\ngot  %q\nwant %q", tc.info.Version, err, out, tc.want)
		}
	}
	if n := requests.Load(); n != int32(len(tests)) {
		t.Errorf("%d requests for %d checks", n, len(tests))
	}
	if got := ua.Load(); got != "rolehop/1.2.3" {
		t.Errorf("User-Agent %q", got)
	}
}

func TestVersionCheckJSON(t *testing.T) {
	url, _, _ := releasesServer(t, 200, nil, githubLatest(t))
	out, err := runToolingWith(t, releaseInfo("1.2.3"), map[string]string{upgrade.URLEnv: url}, brewProbe, "version", "--check", "-o", "json")
	var got map[string]any
	if err != nil || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := map[string]any{
		// the build's fields, as without --check
		"version": "1.2.3", "commit": "4c64b9c", "commit_time": "2026-11-30T12:00:00Z", "modified": false,
		"go": "go1.26.8", "os": "linux", "arch": "amd64",
		// the check's
		"latest": "1.3.0", "published_at": "2026-12-01T10:04:39Z", "release_url": releasePage, "status": "update-available",
		"update_available": true, "install_method": "homebrew", "upgrade": "brew upgrade rolehop",
	}
	if len(got) != len(want) {
		t.Errorf("fields %v\nwant %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

// Without --check nothing is asked, even with ROLEHOP_RELEASES_URL set;
// a usage error is found before the request.
func TestVersionNoCheckNoRequest(t *testing.T) {
	url, requests, _ := releasesServer(t, 200, nil, githubLatest(t))
	env := map[string]string{upgrade.URLEnv: url}
	for _, args := range [][]string{{"version"}, {"version", "-o", "json"}, {"--version"}} {
		if _, err := runToolingWith(t, releaseInfo("1.2.3"), env, brewProbe, args...); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
	if _, err := runToolingWith(t, releaseInfo("1.2.3"), env, brewProbe, "version", "--check", "-o", "yaml"); !isUsage(err) {
		t.Errorf("--check -o yaml: %v, want a usage error", err)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests", n)
	}
}

// A failed check is one line on stderr and exit status 1; nothing on
// stdout.
func TestVersionCheckErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   string
	}{
		{"rate limited", 403, http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"4102444800"}},
			`{"message":"API rate limit exceeded for 192.0.2.1."}`, "rate limit for this address is used up until 2100-01-01 00:00 UTC"},
		{"no release", 404, nil, `{"message":"Not Found","status":"404"}`, "(404): check ROLEHOP_RELEASES_URL"},
		{"not JSON", 200, nil, `<html>`, "is not a GitHub release"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url, _, _ := releasesServer(t, tc.status, tc.header, []byte(tc.body))
			for _, args := range [][]string{{"version", "--check"}, {"version", "--check", "-o", "json"}} {
				code, stdout, stderr := run(t, "", map[string]string{upgrade.URLEnv: url}, args...)
				if code != exitFailure || stdout != "" || !strings.HasPrefix(stderr, "rolehop: ") || !strings.Contains(stderr, tc.want) ||
					strings.Count(stderr, "\n") != 1 {
					t.Errorf("%q: code %d, stdout %q, stderr %q; want 1 and one line with %q", args, code, stdout, stderr, tc.want)
				}
			}
		})
	}
	// Nobody answers.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	code, _, stderr := run(t, "", map[string]string{upgrade.URLEnv: srv.URL}, "version", "--check")
	if code != exitFailure || !strings.Contains(stderr, "cannot reach 127.0.0.1:") {
		t.Errorf("offline: code %d, stderr %q", code, stderr)
	}
}
