//go:build unix

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/awsconfig"
)

// oddCredentials is a credentials file with comments, odd spacing, a
// section rolehop may overwrite (prod-creds: session credentials), one it
// must not overwrite without --force (other: long-term keys) and no final
// newline. %s is ci-user's [base] section.
const oddCredentials = "# rolehop e2e credentials file\n" +
	"# comments, odd spacing and other sections must survive byte for byte\n" +
	"\n" +
	"%s" +
	"\n" +
	"; a semicolon comment\n" +
	"[other]\n" +
	"aws_access_key_id=AKIAOTHER00000000001\n" +
	"aws_secret_access_key   =   otherSecretValue00000000000000000000000   \n" +
	"region\t=\teu-west-1\n" +
	"\n" +
	"[prod-creds]\n" +
	"aws_access_key_id = ASIAOLD0000000000001\n" +
	"aws_secret_access_key = oldSecretValue\n" +
	"aws_session_token = oldSessionToken\n" +
	"\n" +
	"[   spaced   ]\n" +
	"aws_access_key_id    =    AKIASPACED0000000001\n" +
	"aws_secret_access_key=spaced\n" +
	"   # an indented comment\n" +
	"\n" +
	"[last]\n" +
	"aws_access_key_id = AKIALAST000000000001\n" +
	"aws_secret_access_key = last  # not a comment in configparser"

// sectionSpan returns the byte range of section title in a file: from the
// start of its header line to the start of the next header line (or EOF).
func sectionSpan(t *testing.T, content, title string) (start, end int, ok bool) {
	t.Helper()
	header := "[" + title + "]"
	pos := 0
	start = -1
	for _, line := range strings.SplitAfter(content, "\n") {
		trimmed := strings.TrimSpace(line)
		if start < 0 && trimmed == header {
			start = pos
		} else if start >= 0 && strings.HasPrefix(line, "[") {
			return start, pos, true
		}
		pos += len(line)
	}
	if start < 0 {
		return 0, 0, false
	}
	return start, len(content), true
}

// wantOnlySectionChanged asserts that after differs from before only inside
// section title (which must exist in after).
func wantOnlySectionChanged(t *testing.T, before, after, title string) {
	t.Helper()
	as, ae, ok := sectionSpan(t, after, title)
	if !ok {
		t.Fatalf("the credentials file has no [%s] section after the write:\n%s", title, after)
	}
	bs, be, ok := sectionSpan(t, before, title)
	if !ok {
		// A new section: everything before must be kept as it was, as a
		// prefix (a newline may be added when the file did not end in one).
		prefix := after[:as]
		if prefix != before && prefix != before+"\n" && prefix != before+"\n\n" {
			t.Errorf("appending [%s] changed the rest of the file:\n--- before:\n%s\n--- after:\n%s", title, before, after)
		}
		if ae != len(after) {
			t.Errorf("the new [%s] section is not at the end of the file:\n%s", title, after)
		}
		return
	}
	if before[:bs] != after[:as] {
		t.Errorf("bytes before [%s] changed:\n--- before:\n%q\n--- after:\n%q", title, before[:bs], after[:as])
	}
	if before[be:] != after[ae:] {
		t.Errorf("bytes after [%s] changed:\n--- before:\n%q\n--- after:\n%q", title, before[be:], after[ae:])
	}
}

// sectionKeys parses a credentials file with rolehop's own parser and
// returns each section's keys (title → key → value).
func sectionKeys(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	pf, err := awsconfig.Parse(path, data)
	if err != nil {
		t.Fatalf("the credentials file no longer parses: %v\n%s", err, data)
	}
	out := map[string]map[string]string{}
	for _, s := range pf.Sections {
		keys := map[string]string{}
		for k, v := range s.Keys {
			keys[k] = v.Value
		}
		out[s.Header] = keys
	}
	return out
}

// wantSessionSection asserts that section holds session credentials with a
// future expiry and returns its access key id.
func wantSessionSection(t *testing.T, sections map[string]map[string]string, title string) string {
	t.Helper()
	keys, ok := sections[title]
	if !ok {
		t.Fatalf("no [%s] section", title)
	}
	for _, k := range []string{"aws_access_key_id", "aws_secret_access_key", "aws_session_token"} {
		if keys[k] == "" {
			t.Errorf("[%s] lacks %s: %v", title, k, keysList(keys))
		}
	}
	var expiry string
	for k, v := range keys {
		if strings.Contains(k, "expir") {
			expiry = v
		}
	}
	if expiry == "" {
		t.Errorf("[%s] has no expiry key: %v", title, keysList(keys))
	} else if exp, err := time.Parse(time.RFC3339, expiry); err != nil {
		t.Errorf("[%s] expiry %q is not RFC 3339: %v", title, expiry, err)
	} else if !exp.After(time.Now()) {
		t.Errorf("[%s] expiry %s is not in the future", title, expiry)
	}
	return keys["aws_access_key_id"]
}

func keysList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Errorf("%s has mode %04o, want %04o", filepath.Base(path), got, want)
	}
}

// profileARN runs `aws sts get-caller-identity --profile NAME`.
func profileARN(t *testing.T, env *TestEnv, profile string) string {
	t.Helper()
	res := env.RunCmd(t, awsBin, "sts", "get-caller-identity", "--profile", profile, "--output", "json")
	if res.Code != 0 {
		t.Fatalf("aws sts get-caller-identity --profile %s: %s", profile, res)
	}
	return parseIdentity(t, res.Stdout).Arn
}

// newWriteEnv is newChainEnv with oddCredentials as the credentials file.
func newWriteEnv(t *testing.T) (*TestEnv, Seed) {
	t.Helper()
	env, seed := newChainEnv(t)
	env.WriteCredentials(fmt.Sprintf(oddCredentials, ciCredentials("base", seed.CIUser)))
	return env, seed
}

// TestWrite: `rolehop write` changes only its section, keeps the file
// private, refuses to overwrite long-term keys without --force.
func TestWrite(t *testing.T) {
	t.Parallel()
	env, _ := newWriteEnv(t)
	prodAlice := assumedARN(prodAccount, "prod", "alice")

	// Overwrite an existing session section in the middle of the file.
	before := readFile(t, env.CredentialsFile)
	res := env.Run(t, "write", "prod", "--to", "prod-creds")
	if res.Code != 0 {
		t.Fatalf("rolehop write prod --to prod-creds: %s", res)
	}
	assertNoSecrets(t, "write output", res.Stdout+res.Stderr, secretsOf(env))
	after := readFile(t, env.CredentialsFile)
	wantOnlySectionChanged(t, before, after, "prod-creds")
	wantMode(t, env.CredentialsFile, 0o600)
	key := wantSessionSection(t, sectionKeys(t, env.CredentialsFile), "prod-creds")
	if key == "ASIAOLD0000000000001" {
		t.Errorf("[prod-creds] still holds the old key")
	}
	if got := profileARN(t, env, "prod-creds"); got != prodAlice {
		t.Errorf("--profile prod-creds runs as %q, want %q", got, prodAlice)
	}

	// A new section is appended; nothing else moves.
	before = after
	if res := env.Run(t, "write", "prod", "--to", "fresh"); res.Code != 0 {
		t.Fatalf("rolehop write prod --to fresh: %s", res)
	}
	after = readFile(t, env.CredentialsFile)
	wantOnlySectionChanged(t, before, after, "fresh")
	wantSessionSection(t, sectionKeys(t, env.CredentialsFile), "fresh")
	if got := profileARN(t, env, "fresh"); got != prodAlice {
		t.Errorf("--profile fresh runs as %q, want %q", got, prodAlice)
	}

	// Long-term keys are not overwritten without --force.
	before = after
	res = env.Run(t, "write", "prod", "--to", "other")
	wantCLIError(t, env, res, 1, "--force")
	if got := readFile(t, env.CredentialsFile); got != before {
		t.Errorf("a refused write changed the file:\n%s", got)
	}
	res = env.Run(t, "write", "prod", "--to", "other", "--force")
	if res.Code != 0 {
		t.Fatalf("rolehop write prod --to other --force: %s", res)
	}
	after = readFile(t, env.CredentialsFile)
	wantOnlySectionChanged(t, before, after, "other")
	wantSessionSection(t, sectionKeys(t, env.CredentialsFile), "other")
	if got := profileARN(t, env, "other"); got != prodAlice {
		t.Errorf("--profile other runs as %q, want %q", got, prodAlice)
	}
	wantMode(t, env.CredentialsFile, 0o600)
	// The source profile's keys in the same file are untouched and work.
	if got := profileARN(t, env, "base"); got != ciUserARN {
		t.Errorf("--profile base runs as %q, want %q", got, ciUserARN)
	}
}

// lineCollector gathers a pipe's lines while a process runs.
type lineCollector struct {
	mu    sync.Mutex
	lines []string
	done  chan struct{}
}

func collectLines(r *os.File) *lineCollector {
	c := &lineCollector{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			c.mu.Lock()
			c.lines = append(c.lines, sc.Text())
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *lineCollector) count(substr string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, l := range c.lines {
		if strings.Contains(strings.ToLower(l), substr) {
			n++
		}
	}
	return n
}

func (c *lineCollector) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
}

// TestWriteWatch: --watch rewrites the section before the credentials run
// out, survives a throttled STS call, and exits 0 on SIGINT.
func TestWriteWatch(t *testing.T) {
	t.Parallel()
	env, _ := newWriteEnv(t)
	bin := requireRolehop(t)
	env.Proxy.SetExpiration("AssumeRole", 4*time.Second)
	before := readFile(t, env.CredentialsFile)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := env.Command(ctx, bin, "write", "prod", "--to", "w", "--watch", "--refresh-at", "0.5", "--min-ttl", "1s")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	stderr := collectLines(pr)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}()

	// seen lists the distinct access key ids [w] has held, in order.
	var seen []string
	started := time.Now()
	waitFor := func(what string, timeout time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for {
			if data, err := os.ReadFile(env.CredentialsFile); err == nil {
				if pf, err := awsconfig.Parse(env.CredentialsFile, data); err != nil {
					t.Errorf("the credentials file does not parse during --watch: %v", err)
				} else {
					for _, s := range pf.Sections {
						if k := s.Keys["aws_access_key_id"].Value; s.Header == "w" && k != "" && (len(seen) == 0 || seen[len(seen)-1] != k) {
							seen = append(seen, k)
						}
					}
				}
			}
			if cond() {
				t.Logf("%s after %s", what, time.Since(started).Round(time.Millisecond))
				return
			}
			select {
			case err := <-done:
				code, sig := exitStatus(cmd, err)
				t.Fatalf("write --watch exited (code %d, signal %v) while waiting for %s\nstderr:\n%s", code, sig, what, stderr.text())
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s within %s (keys seen: %d, refreshed lines: %d)\nstderr:\n%s", what, timeout, len(seen), stderr.count("refreshed"), stderr.text())
			}
		}
	}

	// Lifetime 4 s, refresh at half: the first refresh comes ~2 s in.
	waitFor("a first refresh", 15*time.Second, func() bool { return len(seen) >= 2 && stderr.count("refreshed") >= 1 })
	// A throttled STS call is retried, not fatal.
	env.Proxy.InjectSTSError("AssumeRole", 1, 400, "Throttling", "Rate exceeded")
	waitFor("two more refreshes", 25*time.Second, func() bool { return len(seen) >= 4 && stderr.count("refreshed") >= 3 })
	injected := 0
	for _, c := range env.Proxy.Calls("AssumeRole") {
		if c.Injected {
			injected++
		}
	}
	if injected != 1 {
		t.Errorf("the throttling error was served %d times, want 1", injected)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if code, sig := exitStatus(cmd, err); code != 0 {
			t.Errorf("write --watch exited with code %d (signal %v) on SIGINT, want 0\nstderr:\n%s", code, sig, stderr.text())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("write --watch did not exit within 10 s of SIGINT\nstderr:\n%s", stderr.text())
	}
	<-stderr.done
	assertNoSecrets(t, "write --watch stderr", stderr.text(), secretsOf(env))

	after := readFile(t, env.CredentialsFile)
	wantOnlySectionChanged(t, before, after, "w")
	wantMode(t, env.CredentialsFile, 0o600)
	keys := sectionKeys(t, env.CredentialsFile)["w"]
	for _, k := range []string{"aws_access_key_id", "aws_secret_access_key", "aws_session_token"} {
		if keys[k] == "" {
			t.Errorf("[w] lacks %s after --watch ended", k)
		}
	}
	if got, want := profileARN(t, env, "w"), assumedARN(prodAccount, "prod", "alice"); got != want {
		t.Errorf("--profile w runs as %q, want %q", got, want)
	}
}

// TestWriteCrashSafety: killing `rolehop write` at any moment leaves a
// credentials file that parses, with every other section intact.
func TestWriteCrashSafety(t *testing.T) {
	t.Parallel()
	env, _ := newWriteEnv(t)
	bin := requireRolehop(t)
	// End the file with a newline so the original is an exact prefix of
	// any later version (x is appended at the end).
	env.WriteCredentials(readFile(t, env.CredentialsFile) + "\n")
	orig := readFile(t, env.CredentialsFile)
	origSections := sectionKeys(t, env.CredentialsFile)
	awsDir := filepath.Dir(env.CredentialsFile)

	killedEarly := 0
	for i := 0; i < 30; i++ {
		args := []string{"write", "prod", "--to", "x"}
		if i%3 == 1 {
			args = append(args, "--no-cache")
		}
		ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
		cmd := env.Command(ctx, bin, args...)
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.IntN(51)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		cancel()
		if _, sig := exitStatus(cmd, err); sig == syscall.SIGKILL {
			killedEarly++
		}

		got := readFile(t, env.CredentialsFile)
		if !strings.HasPrefix(got, orig) {
			t.Fatalf("run %d: the file's original part changed:\n%s", i, got)
		}
		sections := sectionKeys(t, env.CredentialsFile)
		for title, keys := range origSections {
			if !equalMaps(sections[title], keys) {
				t.Fatalf("run %d: section [%s] changed: %v", i, title, sections[title])
			}
		}
		if x, ok := sections["x"]; ok {
			for _, k := range []string{"aws_access_key_id", "aws_secret_access_key", "aws_session_token"} {
				if x[k] == "" {
					t.Fatalf("run %d: a torn [x] section without %s:\n%s", i, k, got)
				}
			}
		}
		wantMode(t, env.CredentialsFile, 0o600)
	}
	t.Logf("%d of 30 runs were killed before they finished", killedEarly)

	// A last, uninterrupted write works and the AWS CLI reads it.
	if res := env.Run(t, "write", "prod", "--to", "x"); res.Code != 0 {
		t.Fatalf("rolehop write prod --to x after the crashes: %s", res)
	}
	key := wantSessionSection(t, sectionKeys(t, env.CredentialsFile), "x")
	res := env.RunCmd(t, awsBin, "configure", "get", "aws_access_key_id", "--profile", "x")
	if res.Code != 0 || strings.TrimSpace(res.Stdout) != key {
		t.Errorf("aws configure get aws_access_key_id --profile x = %q, want %q: %s", strings.TrimSpace(res.Stdout), key, res)
	}
	if entries, err := os.ReadDir(awsDir); err == nil {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Logf("files left in ~/.aws after the crashes: %v", names)
	}
}
