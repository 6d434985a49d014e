// Package upgrade answers `rolehop version --check`: it asks GitHub for
// rolehop's latest release (one HTTP GET, only when asked), compares it with
// the running build, and tells how to upgrade with whatever installed this
// binary (Homebrew, Scoop, winget, a .deb/.rpm/.apk package, the container
// image, go install, the GitHub Action, or a release archive).
package upgrade

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/mod/semver"
)

// DefaultURL is GitHub's REST endpoint for the latest release of
// rolehop/rolehop (drafts and pre-releases are never "latest").
const DefaultURL = "https://api.github.com/repos/rolehop/rolehop/releases/latest"

// URLEnv names the environment variable that replaces DefaultURL, for a
// mirror or a test server. It must answer like GitHub's releases/latest.
const URLEnv = "ROLEHOP_RELEASES_URL"

// Timeout bounds the whole request, connecting included.
const Timeout = 10 * time.Second

// maxBody caps the answer read: a release with long notes and many assets
// is tens of KiB.
const maxBody = 4 << 20

// Release is the latest release as GitHub describes it.
type Release struct {
	// Version is the tag without its "v": 1.3.0.
	Version string
	// Tag is the git tag: v1.3.0.
	Tag string
	// URL is the release page (html_url).
	URL string
	// Published is published_at; zero when the answer had none.
	Published time.Time
}

// NewHTTPClient is the client Latest uses by default: Timeout for the whole
// request, the proxy from HTTPS_PROXY/HTTP_PROXY/NO_PROXY.
func NewHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyFromEnvironment
	return &http.Client{Timeout: Timeout, Transport: tr}
}

// Fetcher asks for the latest release. The zero value asks GitHub with
// NewHTTPClient.
type Fetcher struct {
	// Client sends the request; nil means NewHTTPClient().
	Client *http.Client
	// URL is the endpoint; "" means DefaultURL.
	URL string
	// UserAgent is sent as User-Agent (GitHub refuses requests without
	// one): rolehop/1.2.3.
	UserAgent string
	// Now is the clock for rate-limit messages; nil means time.Now.
	Now func() time.Time
}

// Latest sends one GET for the latest release. No token is sent: GitHub
// allows 60 such requests an hour per address. Every error is one line that
// says what went wrong and what to do.
func (f Fetcher) Latest(ctx context.Context) (Release, error) {
	endpoint := f.URL
	if endpoint == "" {
		endpoint = DefaultURL
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Release{}, fmt.Errorf("%s %q is not an http(s) URL: unset it to ask GitHub", URLEnv, endpoint)
	}
	client := f.Client
	if client == nil {
		client = NewHTTPClient()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return Release{}, fmt.Errorf("checking for a newer release: %v", err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", cmpOr(f.UserAgent, "rolehop"))

	resp, err := client.Do(req)
	if err != nil {
		return Release{}, f.transportError(u.Host, client.Timeout, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return Release{}, f.transportError(u.Host, client.Timeout, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Release{}, f.statusError(endpoint, resp, body)
	}
	if len(body) > maxBody {
		return Release{}, fmt.Errorf("the answer from %s is over %d MiB, not a release: check %s", endpoint, maxBody>>20, URLEnv)
	}
	return parseRelease(endpoint, body)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// transportError is a failure to get an answer at all.
func (f Fetcher) transportError(host string, timeout time.Duration, err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("%s did not answer within %s: check your network connection and proxy (HTTPS_PROXY), then try again", host, timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its message repeats the method and URL
	}
	return fmt.Errorf("cannot reach %s to check for a newer release (%v): check your network connection and proxy (HTTPS_PROXY)", host, err)
}

// statusError explains an answer other than 200 OK.
func (f Fetcher) statusError(endpoint string, resp *http.Response, body []byte) error {
	status := resp.Status
	if status == "" {
		status = strconv.Itoa(resp.StatusCode)
	}
	limited := resp.Header.Get("X-RateLimit-Remaining") == "0"
	if (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests) &&
		(limited || resp.Header.Get("Retry-After") != "") {
		return f.rateLimitError(resp.Header)
	}
	if resp.StatusCode == http.StatusNotFound {
		if f.URL == "" || f.URL == DefaultURL {
			return errors.New("GitHub has no published release of rolehop/rolehop yet (404 from " + endpoint + "): nothing to upgrade to")
		}
		return fmt.Errorf("no release at %s (404): check %s", endpoint, URLEnv)
	}
	msg := ""
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		msg = ": " + printable(e.Message, 200)
	}
	return fmt.Errorf("%s answered %s%s; try again later", endpoint, status, msg)
}

// rateLimitError says when GitHub's limit for unauthenticated requests
// (per address) resets, from X-RateLimit-Reset (Unix seconds) or, for its
// secondary limit, Retry-After (seconds).
func (f Fetcher) rateLimitError(h http.Header) error {
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	t := now()
	var reset time.Time
	if s, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil && s > 0 {
		reset = time.Unix(s, 0)
	} else if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s >= 0 {
		reset = t.Add(time.Duration(s) * time.Second)
	}
	if reset.IsZero() {
		return errors.New("GitHub's API rate limit for this address is used up: try again in an hour")
	}
	wait := max(reset.Sub(t).Round(time.Minute), time.Minute)
	return fmt.Errorf("GitHub's API rate limit for this address is used up until %s (in %s): try again then",
		reset.UTC().Format("2006-01-02 15:04 UTC"), minutes(wait))
}

// minutes is d, whole minutes, as 23m or 2h5m or 2h.
func minutes(d time.Duration) string {
	s := strings.TrimSuffix(d.String(), "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// githubRelease is the part of GitHub's release object that is read.
type githubRelease struct {
	TagName     string `json:"tag_name"`
	HTMLURL     string `json:"html_url"`
	PublishedAt string `json:"published_at"`
}

func parseRelease(endpoint string, body []byte) (Release, error) {
	var g githubRelease
	if err := json.Unmarshal(body, &g); err != nil {
		return Release{}, fmt.Errorf("the answer from %s is not a GitHub release (%v): check %s, or try again later", endpoint, err, URLEnv)
	}
	tag := g.TagName
	v := tag
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	if tag == "" || !semver.IsValid(v) || strings.Count(strings.SplitN(v, "-", 2)[0], ".") != 2 {
		return Release{}, fmt.Errorf("the latest release at %s has tag_name %q, not a version like v1.2.3", endpoint, printable(tag, 80))
	}
	r := Release{Version: v[1:], Tag: tag, URL: g.HTMLURL}
	if u, err := url.Parse(g.HTMLURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		strings.ContainsFunc(g.HTMLURL, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) {
		return Release{}, fmt.Errorf("the latest release at %s has html_url %q, not a web address", endpoint, printable(g.HTMLURL, 80))
	}
	if g.PublishedAt != "" {
		t, err := time.Parse(time.RFC3339, g.PublishedAt)
		if err != nil {
			return Release{}, fmt.Errorf("the latest release at %s has published_at %q, not a time like 2026-12-01T10:00:00Z", endpoint, printable(g.PublishedAt, 80))
		}
		r.Published = t
	}
	return r, nil
}

// printable is s with control and other unprintable characters replaced,
// cut to n runes, for text from the network shown on a terminal.
func printable(s string, n int) string {
	var b strings.Builder
	for i, r := range []rune(s) {
		if i == n {
			b.WriteString("…")
			break
		}
		if !unicode.IsPrint(r) {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}
