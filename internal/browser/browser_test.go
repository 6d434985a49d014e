//go:build !windows

package browser

import (
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://signin.aws.amazon.com/federation?Action=login&SigninToken=abc", true},
		{"https://device.sso.us-east-1.amazonaws.com/?user_code=ABCD-EFGH", true},
		{"http://127.0.0.1:8080/federation?x=1", true},
		{"http://localhost:9/authorize", true},
		{"http://[::1]:9/authorize", true},
		{"http://signin.aws.amazon.com/federation", false},
		{"http://127.0.0.1.evil.example/", false},
		{"file:///etc/passwd", false},
		{`\\attacker\share\run.exe`, false},
		{"file://attacker/share/run.exe", false},
		{"javascript:alert(1)", false},
		{"ms-msdt:/id PCWDiagnostic", false},
		{"https:opaque", false},
		{"https:///no-host", false},
		{"https://ok.example/\nfile:///x", false},
		{"https://ok.example/ x", false},
		{"", false},
	} {
		err := CheckURL(tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("CheckURL(%q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("CheckURL(%q): error not one line: %q", tc.url, err)
		}
	}
}

// recorder is a --browser-command that writes its arguments to a file.
func recorder(t *testing.T) (command, log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "argv")
	command = filepath.Join(dir, "browser")
	script := "#!/bin/sh\nfor a in \"$0\" \"$@\"; do printf '%s\\n' \"$a\"; done > " + log + "\n"
	if err := os.WriteFile(command, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return command, log
}

func waitFile(t *testing.T, path string) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return string(b)
		}
	}
	t.Fatalf("%s was not written", path)
	return ""
}

var refresh = regexp.MustCompile(`<meta http-equiv="refresh" content="0;url=([^"]*)">`)

func TestOpenKeepsTheURLOutOfArgv(t *testing.T) {
	command, log := recorder(t)
	base := t.TempDir()
	url := "https://signin.aws.amazon.com/federation?Action=login&Destination=https%3A%2F%2Fconsole.aws.amazon.com%2F&Issuer=rolehop&SigninToken=SECRET-TOKEN-123"
	page, err := Open(url, Options{Command: command, TempDir: base, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	argv := waitFile(t, log)
	if strings.Contains(argv, "SECRET-TOKEN") || strings.Contains(argv, "signin.aws") {
		t.Errorf("the URL reached the opener's argv: %q", argv)
	}
	if got := strings.Split(strings.TrimSpace(argv), "\n"); len(got) != 2 || got[1] != page {
		t.Errorf("opener argv %q, want [command %s]", got, page)
	}
	if filepath.Dir(filepath.Dir(page)) != base {
		t.Errorf("page %s is not in a directory of its own under %s", page, base)
	}
	for path, want := range map[string]os.FileMode{page: 0o600, filepath.Dir(page): 0o700} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %04o", path, fi.Mode().Perm(), err, want)
		}
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	m := refresh.FindSubmatch(b)
	if m == nil || html.UnescapeString(string(m[1])) != url {
		t.Errorf("the page does not redirect to the URL:\n%s", b)
	}
	if !strings.Contains(string(b), `name="referrer" content="no-referrer"`) {
		t.Error("the page may send the sign-in URL as a referrer")
	}
}

func TestOpenRefusesWhatIsNotHTTPS(t *testing.T) {
	command, log := recorder(t)
	for _, url := range []string{"file:///etc/passwd", `\\attacker\share\x`, "http://example.com/"} {
		if _, err := Open(url, Options{Command: command, TempDir: t.TempDir()}); err == nil {
			t.Errorf("Open(%q) succeeded", url)
		}
	}
	if _, err := os.Stat(log); err == nil {
		t.Error("the opener was started for a refused URL")
	}
}

func TestOpenRemovesStalePages(t *testing.T) {
	command, log := recorder(t)
	base := t.TempDir()
	now := time.Now()
	opts := Options{Command: command, TempDir: base, Now: func() time.Time { return now }}
	old, err := Open("https://example.com/old", opts)
	if err != nil {
		t.Fatal(err)
	}
	waitFile(t, log)
	stale := now.Add(-PageLifetime - time.Minute)
	if err := os.Chtimes(old, stale, stale); err != nil {
		t.Fatal(err)
	}
	fresh, err := Open("https://example.com/fresh", opts)
	if err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(base, dirPrefix+"not-mine")
	if err := os.Mkdir(foreign, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(foreign, 0o777); err != nil { // not private: not the user's page
		t.Fatal(err)
	}
	if _, err := Open("https://example.com/third", opts); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(old)); !os.IsNotExist(err) {
		t.Errorf("a page older than %s was kept: %v", PageLifetime, err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh page was removed: %v", err)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("a directory that is not the user's own was removed: %v", err)
	}
}

func TestAvailable(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	if !Available(env("DISPLAY", ":0")) || !Available(env("WAYLAND_DISPLAY", "wayland-0")) {
		t.Error("a desktop session has no browser")
	}
	if Available(env("DISPLAY", ":0", "SSH_CONNECTION", "1 2 3 4")) || Available(env()) {
		t.Error("SSH or no display has a browser")
	}
}
