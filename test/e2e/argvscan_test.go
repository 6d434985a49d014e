//go:build unix

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The argument lists of the processes rolehop starts are readable by every
// user of the machine (ps, /proc/PID/cmdline) and end up in shell history
// and audit logs: TestSecretScan records each one through PATH shims
// (test/internal/argvshim) and scans them for every secret.

// argvRunVar names the run a shim invocation belongs to.
const argvRunVar = "ARGVSCAN_RUN"

// Programs rolehop may start in the scan's runs. Openers exit 0 at once
// (the test plays the browser where one must answer); the others run the
// real program, found on the original PATH.
func shimOpeners() []string { return []string{"xdg-open", "open", "rundll32", "scan-browser"} }

func shimReal() []string { return []string{"sh", "env", "true", "aws"} }

// shimOptional are real programs shimmed where they are installed: pass,
// and the gpg it runs, for the keys scenario's pass store (which needs
// them, and fails without them when CI=true; keyringtest.Require).
func shimOptional() []string { return []string{"pass", "gpg"} }

// argvShims is a directory of shims (first on PATH in the scan's runs) and
// the log they append to.
type argvShims struct {
	bin string // the directory put first on PATH
	log string // JSON lines, one argvRecord per invocation
}

// argvRecord is one process a shim saw start (argvshim.Record).
type argvRecord struct {
	Prog string   `json:"prog"`
	Argv []string `json:"argv"`
	Run  string   `json:"run"`
	PID  int      `json:"pid"`
	PPID int      `json:"ppid"`
}

// newArgvShims builds argvshim and links every name of shimOpeners and
// shimReal to it, in a directory outside every scanned tree (the log holds
// what it finds).
func newArgvShims(t *testing.T) *argvShims {
	t.Helper()
	root := t.TempDir()
	repo, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "argvshim")
	cmd := exec.Command("go", "build", "-o", bin, "./test/internal/argvshim")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./test/internal/argvshim: %v\n%s", err, out)
	}
	s := &argvShims{bin: filepath.Join(root, "bin"), log: filepath.Join(root, "argv.jsonl")}
	if err := os.Mkdir(s.bin, 0o700); err != nil {
		t.Fatal(err)
	}
	real := map[string]string{}
	for _, name := range shimOpeners() {
		real[name] = ""
	}
	for _, name := range shimReal() {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("%s, needed behind its shim: %v", name, err)
		}
		if p, err = filepath.Abs(p); err != nil {
			t.Fatal(err)
		}
		real[name] = p
	}
	for _, name := range shimOptional() {
		if p, err := exec.LookPath(name); err == nil {
			if p, err = filepath.Abs(p); err != nil {
				t.Fatal(err)
			}
			real[name] = p
		}
	}
	cfg, err := json.Marshal(map[string]any{"log": s.log, "real": real})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "argvshim.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	for name := range real {
		if err := os.Symlink(bin, filepath.Join(s.bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// apply puts the shims first on env's PATH.
func (s *argvShims) apply(env *TestEnv) {
	env.Set("PATH", s.bin+string(os.PathListSeparator)+env.Get("PATH"))
}

// records reads every invocation logged so far.
func (s *argvShims) records() ([]argvRecord, error) {
	b, err := os.ReadFile(s.log)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []argvRecord
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r argvRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.Prog == "" || len(r.Argv) == 0 {
			return nil, fmt.Errorf("%s: a record that is not argvshim's JSON (%v): %q", s.log, err, sc.Text())
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// collectArgv reads the shims' log into sc.argv once every run that must
// have started a program has a record of it, or after 5 s (an opener is
// started without being waited for, so its record may land after rolehop
// has exited).
func (s *scanner) collectArgv(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		recs, err := s.shims.records()
		if err != nil {
			t.Error(err)
			return
		}
		s.mu.Lock()
		s.argv = recs
		s.mu.Unlock()
		if len(s.spawnFindings()) == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// spawnFindings checks each run's expectations on the programs it started
// against the records read so far.
func (s *scanner) spawnFindings() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	started := map[string][]string{}
	for _, r := range s.argv {
		started[r.Run] = append(started[r.Run], r.Prog)
	}
	var out []string
	if len(s.argv) == 0 {
		out = append(out, "the PATH shims recorded no process at all: the argv scan saw nothing")
	}
	for _, r := range s.runs {
		what := fmt.Sprintf("[%s] rolehop %s", r.scenario, shellQuote(r.args))
		for _, p := range r.spawns {
			if !slices.Contains(started[r.id], p) {
				out = append(out, fmt.Sprintf("%s: no %s was started through the PATH shims (started: %q), so its argument list was not scanned", what, p, started[r.id]))
			}
		}
		if r.spawnsNothing && len(started[r.id]) > 0 {
			out = append(out, fmt.Sprintf("%s: started %q, want nothing", what, started[r.id]))
		}
	}
	return out
}

// argvFindings scans every recorded argument list for every secret: no
// argv may hold one, whatever the program (a browser opener included).
func (s *scanner) argvFindings(found func(string) []scanSecret, desc func(scanSecret) string) []string {
	byID := map[string]scanRun{}
	for _, r := range s.runs {
		if r.id != "" {
			byID[r.id] = r
		}
	}
	var out []string
	for _, rec := range s.argv {
		what := fmt.Sprintf("[?] a process started outside every scanned run (%s=%q)", argvRunVar, rec.Run)
		if r, ok := byID[rec.Run]; ok {
			what = fmt.Sprintf("[%s] rolehop %s", r.scenario, shellQuote(r.args))
		}
		// Arguments joined by NUL: a secret split across two is not one.
		for _, sec := range found(strings.Join(rec.Argv, "\x00")) {
			out = append(out, fmt.Sprintf("%s: started %s with a %s in its argument list (visible to every user in ps and /proc): %q", what, rec.Prog, desc(sec), rec.Argv))
		}
	}
	return out
}

// argvCounts is "prog n, …" over the records.
func (s *scanner) argvCounts() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := map[string]int{}
	for _, r := range s.argv {
		n[r.Prog]++
	}
	var out []string
	for p, c := range n {
		out = append(out, fmt.Sprintf("%s %d", p, c))
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// browse plays the browser for run id: it waits for the run to start an
// opener (xdg-open or a --browser-command shim), then loads what the
// opener was given as its last argument, following redirects, and wants
// 200 at the end (rolehop's loopback callback page). done waits up to 5 s
// for the browser to finish, then gives up, and returns its error.
func (e *scanEnv) browse(id string) (done func() error) {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	result := make(chan error, 1)
	go func() {
		result <- func() error {
			for {
				recs, err := e.sc.shims.records()
				if err != nil {
					return err
				}
				for _, r := range recs {
					if r.Run == id && slices.Contains(shimOpeners(), r.Prog) {
						return load(ctx, r.Argv[len(r.Argv)-1])
					}
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("no browser was opened: %w", ctx.Err())
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
	}()
	return func() error {
		defer cancel()
		select {
		case err := <-result:
			return err
		case <-time.After(5 * time.Second):
			cancel()
			return <-result
		}
	}
}

// urlInPageRe finds the address a hand-off page sends the browser to.
var urlInPageRe = regexp.MustCompile(`https?://[^\s"'<>]+`)

// load is what a browser does with what an opener passes it: an http(s)
// URL is loaded; anything else is a local file (a path or a file:// URL,
// for example a page that redirects) whose first http(s) address is
// loaded.
func load(ctx context.Context, arg string) error {
	target, err := openerTarget(arg)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the page at the end of the redirects answered %s", resp.Status)
	}
	return nil
}

// openerTarget is the address a browser goes to for an opener's argument:
// an http(s) URL itself, or the first http(s) address in the local page (a
// path or a file:// URL) that the argument names.
func openerTarget(arg string) (string, error) {
	if strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://") {
		return arg, nil
	}
	path := arg
	if u, err := url.Parse(arg); err == nil && u.Scheme == "file" {
		path = u.Path
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("the opener's argument is neither an http(s) URL nor a readable file: %v", err)
	}
	m := urlInPageRe.Find(b)
	if m == nil {
		return "", fmt.Errorf("%s holds no http(s) address", path)
	}
	return html.UnescapeString(string(m)), nil
}

// TestSecretScanBrowserLoad: the scan's browser loads an opener's argument
// whether it is a URL or a local page that sends the browser on (a path or
// a file:// URL, the address HTML-escaped), and fails on anything else.
func TestSecretScanBrowserLoad(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/start" && r.URL.Query().Get("a") == "1" && r.URL.Query().Get("b") == "2":
			http.Redirect(w, r, "/end", http.StatusFound)
		case r.URL.Path == "/end":
			_, _ = io.WriteString(w, "signed in")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	page := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	start := srv.URL + "/start?a=1&amp;b=2"
	redirect := page("redirect.html", `<!doctype html><meta http-equiv="refresh" content="0;url=`+start+`"><a href="`+start+`">continue</a>`)
	for _, tc := range []struct {
		arg  string
		fail bool
	}{
		{arg: srv.URL + "/start?a=1&b=2"},
		{arg: redirect},
		{arg: (&url.URL{Scheme: "file", Path: redirect}).String()},
		{arg: srv.URL + "/start?a=1", fail: true},                       // 404 at the end
		{arg: page("empty.html", "<p>nothing to load</p>"), fail: true}, // no address
		{arg: filepath.Join(dir, "missing.html"), fail: true},
	} {
		err := load(context.Background(), tc.arg)
		if (err != nil) != tc.fail {
			t.Errorf("load(%q) = %v, want failure %v", tc.arg, err, tc.fail)
		}
	}
}
