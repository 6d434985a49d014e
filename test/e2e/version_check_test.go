//go:build unix

package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// releasesAPI is a stand-in for GitHub's releases/latest: it answers
// status, headers and body, and keeps the requests' headers.
type releasesAPI struct {
	URL string

	mu      sync.Mutex
	headers []http.Header
}

func newReleasesAPI(t *testing.T, status int, header http.Header, body []byte) *releasesAPI {
	t.Helper()
	api := &releasesAPI{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.mu.Lock()
		api.headers = append(api.headers, r.Header.Clone())
		api.mu.Unlock()
		if r.Method != http.MethodGet || r.URL.Path != "/repos/rolehop/rolehop/releases/latest" {
			http.NotFound(w, r)
			return
		}
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	api.URL = srv.URL + "/repos/rolehop/rolehop/releases/latest"
	return api
}

func (a *releasesAPI) requests() []http.Header {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]http.Header(nil), a.headers...)
}

// githubLatestRelease is a real-shaped releases/latest answer for v1.3.0
// (internal/upgrade/testdata).
func githubLatestRelease(t *testing.T) []byte {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "internal", "upgrade", "testdata", "latest.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// buildRelease builds rolehop as a release build of version (the -X flag
// .goreleaser.yaml sets) into a directory of the test.
func buildRelease(t *testing.T, version string) string {
	t.Helper()
	requireRolehop(t)
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "rolehop")
	cmd := exec.Command("go", "build", "-ldflags", "-X github.com/rolehop/rolehop/internal/buildinfo.Version="+version, "-o", bin, "./cmd/rolehop")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

const releasePage = "https://github.com/rolehop/rolehop/releases/tag/v1.3.0"

// TestVersionCheckRelease: a release build, unpacked from an archive into
// a directory of its own, learns of 1.3.0 and how to replace itself, or
// that it is the latest; the request is the one GitHub documents, without
// a token.
func TestVersionCheckRelease(t *testing.T) {
	bin := buildRelease(t, "1.2.3")
	env := newTestEnv(t)
	api := newReleasesAPI(t, 200, http.Header{"Content-Type": {"application/json; charset=utf-8"}}, githubLatestRelease(t))
	env.Set("ROLEHOP_RELEASES_URL", api.URL)
	env.Set("GITHUB_TOKEN", "test-token-never-sent")

	res := env.RunCmd(t, bin, "version", "--check")
	archive := "rolehop_1.3.0_" + runtime.GOOS + "_" + runtime.GOARCH + ".tar.gz"
	want := "rolehop 1.2.3 is installed; 1.3.0 is the latest release (2026-12-01): " + releasePage + "\n" +
		"to upgrade: download " + archive + " and checksums.txt from " + releasePage +
		", check the archive's SHA-256 and replace " + bin + " with the rolehop in it\n"
	if res.Code != 0 || res.Stdout != want || res.Stderr != "" {
		t.Errorf("version --check: %s\nwant stdout %q", res, want)
	}

	res = env.RunCmd(t, bin, "version", "--check", "-o", "json")
	var got map[string]any
	if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &got) != nil {
		t.Fatalf("version --check -o json: %s", res)
	}
	for k, v := range map[string]any{"version": "1.2.3", "latest": "1.3.0", "published_at": "2026-12-01T10:04:39Z",
		"release_url": releasePage, "status": "update-available", "update_available": true, "install_method": "archive"} {
		if got[k] != v {
			t.Errorf("-o json: %s = %v, want %v", k, got[k], v)
		}
	}

	reqs := api.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	for _, h := range reqs {
		if h.Get("User-Agent") != "rolehop/1.2.3" || h.Get("Accept") != "application/vnd.github+json" ||
			h.Get("X-GitHub-Api-Version") != "2022-11-28" || h.Get("Authorization") != "" {
			t.Errorf("request headers %v", h)
		}
	}

	// Without --check there is no request.
	if res := env.RunCmd(t, bin, "version"); res.Code != 0 || !strings.HasPrefix(res.Stdout, "rolehop 1.2.3 ") {
		t.Errorf("version: %s", res)
	}
	if n := len(api.requests()); n != 2 {
		t.Errorf("plain version sent a request (%d in all)", n)
	}

	// When 1.2.3 is the latest release, one line says so.
	page := strings.ReplaceAll(releasePage, "1.3.0", "1.2.3")
	latest := strings.ReplaceAll(string(githubLatestRelease(t)), "1.3.0", "1.2.3")
	env.Set("ROLEHOP_RELEASES_URL", newReleasesAPI(t, 200, nil, []byte(latest)).URL)
	res = env.RunCmd(t, bin, "version", "--check")
	if want := "rolehop 1.2.3 is up to date: it is the latest release (2026-12-01): " + page + "\n"; res.Code != 0 || res.Stdout != want {
		t.Errorf("%s\nwant %q", res, want)
	}
}

// TestVersionCheckDevelopment: the suite's binary is a build of the
// checkout, never "up to date".
func TestVersionCheckDevelopment(t *testing.T) {
	env := newTestEnv(t)
	requireRolehop(t)
	env.Set("ROLEHOP_RELEASES_URL", newReleasesAPI(t, 200, nil, githubLatestRelease(t)).URL)
	res := env.Run(t, "version", "--check")
	if res.Code != 0 || !strings.Contains(res.Stdout, " is a development build, not a release; 1.3.0 is the latest release (2026-12-01): "+releasePage+"\n") ||
		!strings.Contains(res.Stdout, "\nto install it: download rolehop_1.3.0_") {
		t.Errorf("%s", res)
	}
}

// TestVersionCheckFails: a failed check is one line on stderr, exit status
// 1, nothing on stdout.
func TestVersionCheckFails(t *testing.T) {
	env := newTestEnv(t)
	requireRolehop(t)
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   string
	}{
		{"rate limited", 403, http.Header{"X-Ratelimit-Limit": {"60"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"4102444800"}},
			`{"message":"API rate limit exceeded for 192.0.2.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}`,
			"rolehop: GitHub's API rate limit for this address is used up until 2100-01-01 00:00 UTC"},
		{"no release", 404, nil, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/releases/releases#get-the-latest-release","status":"404"}`,
			"(404): check ROLEHOP_RELEASES_URL"},
		{"not JSON", 200, nil, "<!DOCTYPE html>\n<html>captive portal</html>\n", "is not a GitHub release"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env.Set("ROLEHOP_RELEASES_URL", newReleasesAPI(t, tc.status, tc.header, []byte(tc.body)).URL)
			res := env.Run(t, "version", "--check")
			if res.Code != 1 || res.Stdout != "" || !strings.Contains(res.Stderr, tc.want) || strings.Count(res.Stderr, "\n") != 1 {
				t.Errorf("%s\nwant exit 1 and one line with %q", res, tc.want)
			}
		})
	}
}
