// Package browser opens sign-in pages (the console's sign-in URL, IAM
// Identity Center's authorize and verification pages) in the user's
// browser without putting the URL in any process's argument list, where
// every local user can read it (ps, /proc/PID/cmdline): the console URL's
// SigninToken is a 15-minute console session. The URL goes into a page of
// its own, 0600 in a new 0700 directory, that redirects to it; the opener
// is given the page's path.
package browser

import (
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/rolehop/rolehop/internal/fsutil"
)

// PageLifetime is how long a redirect page is kept: a console sign-in
// token lasts 15 minutes, so a page older than that holds nothing of use.
// Pages are removed by the next Open after that.
const PageLifetime = 15 * time.Minute

// dirPrefix names the private directories of the pages.
const dirPrefix = "rolehop-browser-"

// pageName is the redirect page's file name in its directory.
const pageName = "sign-in.html"

// Available guesses whether a browser can open here: a desktop session
// (DISPLAY/WAYLAND_DISPLAY on Unix, always on macOS and Windows), not SSH.
func Available(getenv func(string) string) bool {
	if getenv("SSH_CONNECTION") != "" || getenv("SSH_TTY") != "" {
		return false
	}
	switch runtime.GOOS {
	case "darwin", "windows":
		return true
	}
	return getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
}

// RefusedError is a URL that CheckURL refuses.
type RefusedError struct {
	What string // what the URL is: "a file: URL", "an http: URL to another machine", …
}

func (e *RefusedError) Error() string {
	return "only https:// URLs (and http:// to this machine) are opened in a browser, not " + e.What
}

// CheckURL accepts what rolehop opens in a browser: https URLs, and http
// ones to a loopback address (local emulators and test servers). Anything
// else — file:, a UNC path, javascript:, a scheme some program registered
// — could run something on the user's machine, so a URL received from the
// network never gets there. Refusals are *RefusedError.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || strings.ContainsFunc(raw, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		return &RefusedError{What: "a malformed address"}
	}
	switch {
	case u.Scheme == "https" && u.Host != "" && u.Opaque == "":
		return nil
	case u.Scheme == "http" && u.Opaque == "" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "":
		return &RefusedError{What: "an address without a scheme"}
	case u.Scheme == "http":
		return &RefusedError{What: "an http: URL to another machine"}
	}
	return &RefusedError{What: "a " + u.Scheme + ": URL"}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Options say how to open a page.
type Options struct {
	// Command is the program given the page's path as its only argument;
	// "" means the platform's opener (xdg-open, open, rundll32).
	Command string
	// Getenv reads XDG_RUNTIME_DIR, the preferred home of the pages
	// (per user, in memory); nil: os.Getenv.
	Getenv func(string) string
	// TempDir is where the pages' directories go when XDG_RUNTIME_DIR is
	// not set or not the user's; "" means os.TempDir().
	TempDir string
	// Now is the clock that ages the pages; nil: time.Now.
	Now func() time.Time
}

// Open checks target with CheckURL, writes a page that redirects to it,
// starts the opener with the page's path, and returns the page's path.
// The pages of earlier runs older than PageLifetime are removed first.
func Open(target string, o Options) (string, error) {
	if err := CheckURL(target); err != nil {
		return "", err
	}
	base := o.base()
	removeStale(base, o.now())
	dir, err := os.MkdirTemp(base, dirPrefix) // 0700, a new name no one else holds
	if err != nil {
		return "", fmt.Errorf("cannot write the sign-in page: %w", err)
	}
	d, err := fsutil.OpenDir(dir, fsutil.DirOptions{Private: true})
	if err != nil {
		os.Remove(dir)
		return "", err
	}
	defer d.Close()
	var page strings.Builder
	if err := template.Must(template.New("page").Parse(pageHTML)).Execute(&page, target); err != nil {
		return "", err
	}
	if err := d.WriteFile(pageName, []byte(page.String()), 0o600); err != nil {
		os.Remove(dir)
		return "", fmt.Errorf("cannot write the sign-in page: %w", err)
	}
	path := d.Join(pageName)
	if err := opener(o.Command, path).Start(); err != nil {
		return path, err
	}
	return path, nil
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// base is the directory that holds the pages' directories.
func (o Options) base() string {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if d := getenv("XDG_RUNTIME_DIR"); d != "" {
		if dir, err := fsutil.OpenDir(d, fsutil.DirOptions{}); err == nil {
			dir.Close()
			return d
		}
	}
	if o.TempDir != "" {
		return o.TempDir
	}
	return os.TempDir()
}

// removeStale removes the pages (and their directories) of earlier runs
// once they are older than PageLifetime; only the user's own.
func removeStale(base string, now time.Time) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), dirPrefix) {
			continue
		}
		dir := filepath.Join(base, e.Name())
		d, err := fsutil.OpenDir(dir, fsutil.DirOptions{})
		if err != nil {
			continue // someone else's: not ours to touch
		}
		fi, err := d.Lstat(pageName)
		if err == nil && now.Sub(fi.ModTime()) < PageLifetime {
			d.Close()
			continue
		}
		if err == nil || errors.Is(err, os.ErrNotExist) {
			_ = d.Remove(pageName)
		}
		d.Close()
		_ = os.Remove(dir) // only when empty
	}
}

// opener is the command that opens the page at path.
func opener(command, path string) *exec.Cmd {
	if command != "" {
		return exec.Command(command, path)
	}
	switch runtime.GOOS {
	case "darwin":
		return exec.Command("open", path)
	case "windows":
		return exec.Command("rundll32", "url.dll,FileProtocolHandler", path)
	}
	return exec.Command("xdg-open", path)
}

// pageHTML redirects at once (meta refresh, and script for browsers that
// ignore it on local files) and sends no referrer. It is parsed when a page
// is written, not at every start of rolehop.
const pageHTML = `<!doctype html>
<html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0;url={{.}}">
<title>rolehop sign-in</title></head>
<body><p>Continuing to <a href="{{.}}" rel="noreferrer">the sign-in page</a>…</p>
<script>location.replace({{.}});</script></body></html>
`
