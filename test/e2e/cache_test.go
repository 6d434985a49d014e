//go:build unix

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// CacheEntry is one object of `rolehop cache list --json`.
type CacheEntry struct {
	Kind             string  `json:"kind"`
	RoleARN          string  `json:"role_arn"`
	SessionName      string  `json:"session_name"`
	Profile          string  `json:"profile"`
	Expiration       string  `json:"expiration"`
	RemainingSeconds float64 `json:"remaining_seconds"`
}

// cacheList runs `rolehop cache list --json` and parses it, checking that
// it holds no secret.
func cacheList(t *testing.T, env *TestEnv) []CacheEntry {
	t.Helper()
	res := env.Run(t, "cache", "list", "--json")
	if res.Code != 0 {
		t.Fatalf("rolehop cache list --json: %s", res)
	}
	assertNoSecrets(t, "cache list --json", res.Stdout+res.Stderr, secretsOf(env))
	var entries []CacheEntry
	if err := json.Unmarshal([]byte(res.Stdout), &entries); err != nil {
		t.Fatalf("cache list --json is not a JSON array of entries: %v\n%s", err, res.Stdout)
	}
	// Every entry carries the fields docs/json-output.md does not call
	// optional (role_arn, session_name and profile are: an MFA session has
	// no role, a chain from the environment no profile).
	var raw []map[string]any
	_ = json.Unmarshal([]byte(res.Stdout), &raw)
	for i, e := range raw {
		for _, k := range []string{"kind", "expiration", "remaining_seconds", "key"} {
			if _, ok := e[k]; !ok {
				t.Errorf("cache list --json entry %d lacks %q: %v", i, k, e)
			}
		}
	}
	for _, e := range entries {
		exp, err := time.Parse(time.RFC3339, e.Expiration)
		if err != nil {
			t.Errorf("cache entry expiration %q is not RFC 3339: %v", e.Expiration, err)
			continue
		}
		if d := time.Until(exp).Seconds() - e.RemainingSeconds; d < -30 || d > 30 {
			t.Errorf("cache entry remaining_seconds %v disagrees with expiration %s", e.RemainingSeconds, e.Expiration)
		}
	}
	return entries
}

// entryFor returns the cache entry of roleARN (and session name when not "").
func entryFor(entries []CacheEntry, roleARN, session string) (CacheEntry, bool) {
	for _, e := range entries {
		if e.RoleARN == roleARN && (session == "" || e.SessionName == session) {
			return e, true
		}
	}
	return CacheEntry{}, false
}

// cacheEntryFiles walks a cache directory, checks that every directory is
// 0700 and every file 0600, and returns the files holding a JSON object
// (the entries, as opposed to lock files) with their contents.
func cacheEntryFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if perm := info.Mode().Perm(); perm != 0o700 {
				t.Errorf("cache directory %s has mode %04o, want 0700", path, perm)
			}
		case info.Mode().IsRegular():
			if perm := info.Mode().Perm(); perm != 0o600 {
				t.Errorf("cache file %s has mode %04o, want 0600", path, perm)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			var obj map[string]any
			if len(bytes.TrimSpace(b)) > 0 && json.Unmarshal(b, &obj) == nil {
				files[path] = string(b)
			}
		default:
			t.Errorf("unexpected non-regular file in the cache: %s (%v)", path, info.Mode())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking the cache directory %s: %v", dir, err)
	}
	return files
}

// ProcessCreds is credential_process Version 1 JSON.
type ProcessCreds struct {
	Version         int
	AccessKeyId     string
	SecretAccessKey string
	SessionToken    string
	Expiration      string
}

func parseProcessCreds(t *testing.T, out string) ProcessCreds {
	t.Helper()
	var c ProcessCreds
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("credential-process output is not JSON: %v\n%s", err, out)
	}
	if c.Version != 1 || c.AccessKeyId == "" || c.SecretAccessKey == "" || c.SessionToken == "" || c.Expiration == "" {
		t.Fatalf("credential-process output incomplete: %s", out)
	}
	return c
}

// envOf is the KEY=VALUE environment that makes a consumer use creds.
func (c ProcessCreds) envOf() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + c.AccessKeyId,
		"AWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + c.SessionToken,
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE",
	}
}

// credProcess runs `rolehop credential-process ARGS…`, which must succeed.
func credProcess(t *testing.T, env *TestEnv, args ...string) (ProcessCreds, Result) {
	t.Helper()
	res := env.Run(t, append([]string{"credential-process"}, args...)...)
	if res.Code != 0 {
		t.Fatalf("rolehop credential-process %s: %s", strings.Join(args, " "), res)
	}
	return parseProcessCreds(t, res.Stdout), res
}

// wantNewCalls asserts that the proxy has recorded exactly want more calls
// of action than before, and returns the new total.
func wantNewCalls(t *testing.T, env *TestEnv, action string, before, want int, what string) int {
	t.Helper()
	now := len(env.Proxy.Calls(action))
	if now-before != want {
		t.Errorf("%s: %d new %s calls, want %d:\n%s", what, now-before, action, want, callList(env.Proxy.Calls("")))
	}
	return now
}

// TestCacheWarmPath: a second run reuses the cached hops without any STS
// call; --no-cache bypasses the cache; `cache clear` empties it; a changed
// session name only re-assumes the last hop; the cache is private and
// `cache list` shows no secret.
func TestCacheWarmPath(t *testing.T) {
	t.Parallel()
	env, seed := newChainEnv(t)
	// A cache directory rolehop must create itself (umask is not enough).
	cacheDir := filepath.Join(env.Dir, "fresh", "rolehop-cache")
	env.Set("ROLEHOP_CACHE_DIR", cacheDir)

	cold, coldRes := credProcess(t, env, "prod")
	checkChainCalls(t, env, seed)
	warmRes := env.Run(t, "credential-process", "prod")
	if warmRes.Code != 0 {
		t.Fatalf("warm run: %s", warmRes)
	}
	mustCalls(t, env.Proxy, "AssumeRole", 2)
	if warmRes.Stdout != coldRes.Stdout {
		t.Errorf("warm output differs from the cold one:\ncold: %s\nwarm: %s", coldRes.Stdout, warmRes.Stdout)
	}
	if got, want := callerARN(t, env, cold.envOf()...), assumedARN(prodAccount, "prod", "alice"); got != want {
		t.Errorf("cached credentials are %q, want %q", got, want)
	}
	calls := len(env.Proxy.Calls("AssumeRole"))

	// The cache: 0700 directory, 0600 files, one JSON entry per hop.
	info, err := os.Stat(cacheDir)
	if err != nil {
		t.Fatalf("ROLEHOP_CACHE_DIR %s was not created: %v", cacheDir, err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("cache directory mode %04o, want 0700", perm)
	}
	files := cacheEntryFiles(t, cacheDir)
	if len(files) != 2 {
		t.Errorf("cache holds %d JSON entries, want 2 (one per hop): %v", len(files), keysOf(files))
	}

	// cache list: one row per hop, no secret.
	list := env.Run(t, "cache", "list")
	if list.Code != 0 {
		t.Fatalf("rolehop cache list: %s", list)
	}
	for _, want := range []string{devRoleARN, prodRoleARN, "alice"} {
		if !strings.Contains(list.Stdout, want) {
			t.Errorf("cache list does not show %s:\n%s", want, list.Stdout)
		}
	}
	assertNoSecrets(t, "cache list", list.Stdout+list.Stderr, secretsOf(env))
	entries := cacheList(t, env)
	if len(entries) != 2 {
		t.Errorf("cache list --json has %d entries, want 2: %+v", len(entries), entries)
	}
	if e, ok := entryFor(entries, prodRoleARN, "alice"); !ok {
		t.Errorf("cache list --json has no entry for %s session alice: %+v", prodRoleARN, entries)
	} else {
		if e.Profile != "prod" {
			t.Errorf("prod hop's entry has profile %q, want prod", e.Profile)
		}
		if e.RemainingSeconds < 3000 || e.RemainingSeconds > 3600 {
			t.Errorf("prod hop's entry has %v s left, want about 3600 (duration_seconds = 3600)", e.RemainingSeconds)
		}
		if e.Kind == "" {
			t.Errorf("prod hop's entry has no kind: %+v", e)
		}
	}
	if _, ok := entryFor(entries, devRoleARN, ""); !ok {
		t.Errorf("cache list --json has no entry for %s: %+v", devRoleARN, entries)
	}

	// --no-cache: both hops again, and the cache is neither read nor written.
	nc, _ := credProcess(t, env, "prod", "--no-cache")
	calls = wantNewCalls(t, env, "AssumeRole", calls, 2, "--no-cache")
	if nc.AccessKeyId == cold.AccessKeyId {
		t.Errorf("--no-cache returned the cached key %s", nc.AccessKeyId)
	}
	if after := cacheEntryFiles(t, cacheDir); !equalMaps(after, files) {
		t.Errorf("--no-cache changed the cache: before %v, after %v", keysOf(files), keysOf(after))
	}
	again := env.Run(t, "credential-process", "prod")
	if again.Stdout != coldRes.Stdout {
		t.Errorf("after --no-cache, the cached run no longer prints the cached credentials")
	}
	calls = wantNewCalls(t, env, "AssumeRole", calls, 0, "warm run after --no-cache")

	// A different session name for the last hop: only that hop is assumed.
	bob, _ := credProcess(t, env, "prod", "--role-session-name", "bob")
	calls = wantNewCalls(t, env, "AssumeRole", calls, 1, "--role-session-name bob")
	if c := env.Proxy.Calls("AssumeRole"); len(c) > 0 {
		last := c[len(c)-1]
		wantParam(t, last, "RoleArn", prodRoleARN)
		wantParam(t, last, "RoleSessionName", "bob")
	}
	if got, want := callerARN(t, env, bob.envOf()...), assumedARN(prodAccount, "prod", "bob"); got != want {
		t.Errorf("--role-session-name bob credentials are %q, want %q", got, want)
	}
	entries = cacheList(t, env)
	if len(entries) != 3 {
		t.Errorf("cache list --json has %d entries after the bob session, want 3: %+v", len(entries), entries)
	}
	if _, ok := entryFor(entries, prodRoleARN, "bob"); !ok {
		t.Errorf("no cache entry for session bob: %+v", entries)
	}
	credProcess(t, env, "prod", "--role-session-name", "bob")
	credProcess(t, env, "prod")
	calls = wantNewCalls(t, env, "AssumeRole", calls, 0, "warm runs of both session names")

	// cache clear prod: prod's chain is forgotten, so both hops again.
	if res := env.Run(t, "cache", "clear", "prod"); res.Code != 0 {
		t.Fatalf("rolehop cache clear prod: %s", res)
	}
	entries = cacheList(t, env)
	for _, e := range entries {
		switch {
		case e.RoleARN == devRoleARN || e.RoleARN == prodRoleARN && e.SessionName == "alice":
			t.Errorf("`cache clear prod` left an entry of prod's chain: %+v", e)
		case e.Profile == "prod":
			// The entry made by `prod --role-session-name bob`: cache list
			// calls it prod's, so `cache clear prod` must remove it too.
			t.Errorf("`cache clear prod` left an entry that cache list shows with profile prod: %+v", e)
		}
	}
	credProcess(t, env, "prod")
	calls = wantNewCalls(t, env, "AssumeRole", calls, 2, "after cache clear prod")

	// cache clear (everything).
	if res := env.Run(t, "cache", "clear"); res.Code != 0 {
		t.Fatalf("rolehop cache clear: %s", res)
	}
	if entries := cacheList(t, env); len(entries) != 0 {
		t.Errorf("cache list after `cache clear` still has %d entries: %+v", len(entries), entries)
	}
	credProcess(t, env, "prod")
	wantNewCalls(t, env, "AssumeRole", calls, 2, "after cache clear")
}

// TestCacheClearOtherProfileKeepsEntries: clearing one profile's chain
// leaves another chain's entries alone.
func TestCacheClearOtherProfileKeepsEntries(t *testing.T) {
	t.Parallel()
	env, _ := newChainEnv(t)
	env.WriteConfig(dedent(chainConfig) + dedent(`
		[profile audit]
		role_arn = `+auditRoleARN+`
		source_profile = base
	`))
	credProcess(t, env, "prod")
	credProcess(t, env, "audit")
	calls := len(mustCalls(t, env.Proxy, "AssumeRole", 3))
	if res := env.Run(t, "cache", "clear", "audit"); res.Code != 0 {
		t.Fatalf("rolehop cache clear audit: %s", res)
	}
	entries := cacheList(t, env)
	if _, ok := entryFor(entries, auditRoleARN, ""); ok {
		t.Errorf("audit's entry survived `cache clear audit`: %+v", entries)
	}
	if _, ok := entryFor(entries, prodRoleARN, "alice"); !ok {
		t.Errorf("`cache clear audit` removed prod's entry: %+v", entries)
	}
	credProcess(t, env, "prod")
	wantNewCalls(t, env, "AssumeRole", calls, 0, "prod after cache clear audit")
}

// TestCacheDirXDG: without ROLEHOP_CACHE_DIR the cache lives in
// $XDG_CACHE_HOME/rolehop.
func TestCacheDirXDG(t *testing.T) {
	t.Parallel()
	env, _ := newChainEnv(t)
	env.Unset("ROLEHOP_CACHE_DIR")
	xdg := filepath.Join(env.Dir, "xdg")
	env.Set("XDG_CACHE_HOME", xdg)
	credProcess(t, env, "prod")
	credProcess(t, env, "prod")
	mustCalls(t, env.Proxy, "AssumeRole", 2)
	if files := cacheEntryFiles(t, filepath.Join(xdg, "rolehop")); len(files) != 2 {
		t.Errorf("$XDG_CACHE_HOME/rolehop holds %d JSON entries, want 2", len(files))
	}
}

// runConcurrently starts n rolehop processes with args at the same moment
// and waits for all of them (each bounded by timeout).
func runConcurrently(t *testing.T, env *TestEnv, n int, timeout time.Duration, args ...string) []Result {
	t.Helper()
	bin := requireRolehop(t)
	results := make([]Result, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			defer done.Done()
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			cmd := env.Command(ctx, bin, args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			ready.Done()
			<-start
			t0 := time.Now()
			err := cmd.Run()
			r := Result{Stdout: stdout.String(), Stderr: stderr.String(), Duration: time.Since(t0)}
			r.Code, r.Signal = exitStatus(cmd, err)
			if ctx.Err() == context.DeadlineExceeded {
				r.TimedOut = true
			}
			if r.Code == -1 && r.Signal == 0 && err != nil && r.Stderr == "" {
				r.Stderr = err.Error()
			}
			results[i] = r
		}(i)
	}
	ready.Wait()
	close(start)
	done.Wait()
	return results
}

// TestCacheSingleFlight: 50 cold processes at once make exactly one
// AssumeRole per hop and all print the same working credentials.
func TestCacheSingleFlight(t *testing.T) {
	t.Parallel()
	env, seed := newChainEnv(t)
	const n = 50
	results := runConcurrently(t, env, n, 120*time.Second, "credential-process", "prod")

	var first string
	failed := 0
	var slowest time.Duration
	for i, r := range results {
		slowest = max(slowest, r.Duration)
		if r.Code != 0 || r.TimedOut {
			failed++
			if failed <= 3 {
				t.Errorf("process %d failed: %s", i, r)
			}
			continue
		}
		if first == "" {
			first = r.Stdout
		} else if r.Stdout != first {
			t.Errorf("process %d printed other credentials than the first:\n%s\nvs\n%s", i, r.Stdout, first)
		}
		assertNoSecrets(t, "stderr", r.Stderr, secretsOf(env))
	}
	t.Logf("%d processes, slowest %s", n, slowest.Round(time.Millisecond))
	if failed > 0 {
		t.Fatalf("%d of %d processes failed", failed, n)
	}
	checkChainCalls(t, env, seed)
	if got := env.Proxy.Arrived("AssumeRole"); got != 2 {
		t.Errorf("%d AssumeRole requests reached the proxy, want 2", got)
	}
	creds := parseProcessCreds(t, first)
	if got, want := callerARN(t, env, creds.envOf()...), assumedARN(prodAccount, "prod", "alice"); got != want {
		t.Errorf("the shared credentials are %q, want %q", got, want)
	}
}

// TestCacheDeadLockHolder: a process waiting on the entry's lock proceeds
// as soon as the holder is SIGKILLed in the middle of its STS call.
func TestCacheDeadLockHolder(t *testing.T) {
	t.Parallel()
	env, _ := newChainEnv(t)
	bin := requireRolehop(t)
	// The first AssumeRole (the holder's hop 1) hangs at the proxy.
	env.Proxy.Delay("AssumeRole", 1, 60*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	holder := env.Command(ctx, bin, "credential-process", "prod")
	var hStderr bytes.Buffer
	holder.Stderr = &hStderr
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	holderDone := make(chan error, 1)
	go func() { holderDone <- holder.Wait() }()
	env.Proxy.WaitArrived(t, "AssumeRole", 1, 20*time.Second)

	// A second process now waits on the lock the holder keeps during its
	// STS call: it must not call STS itself.
	waiter := env.Command(ctx, bin, "credential-process", "prod")
	var wStdout, wStderr bytes.Buffer
	waiter.Stdout, waiter.Stderr = &wStdout, &wStderr
	if err := waiter.Start(); err != nil {
		t.Fatal(err)
	}
	waiterDone := make(chan error, 1)
	go func() { waiterDone <- waiter.Wait() }()
	select {
	case err := <-waiterDone:
		t.Fatalf("the second process finished while the first held the entry's lock (err %v)\nstdout: %s\nstderr: %s", err, wStdout.String(), wStderr.String())
	case <-time.After(1500 * time.Millisecond):
	}
	if got := env.Proxy.Arrived("AssumeRole"); got != 1 {
		t.Errorf("%d AssumeRole requests while the lock was held, want 1 (the holder's)", got)
	}

	// Kill the holder outright: the OS must release its lock at once.
	if err := holder.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-holderDone
	killed := time.Now()
	select {
	case err := <-waiterDone:
		code, sig := exitStatus(waiter, err)
		if code != 0 {
			t.Fatalf("the waiter failed after the holder died: exit %d signal %v\nstderr: %s", code, sig, wStderr.String())
		}
		if d := time.Since(killed); d > 10*time.Second {
			t.Errorf("the waiter took %s after the holder died, want well under the 60 s lock wait", d.Round(time.Millisecond))
		}
		t.Logf("waiter finished %s after the holder was killed", time.Since(killed).Round(time.Millisecond))
	case <-time.After(20 * time.Second):
		t.Fatalf("the waiter is still blocked 20 s after the lock holder was killed\nstderr: %s", wStderr.String())
	}
	creds := parseProcessCreds(t, wStdout.String())
	if got, want := callerARN(t, env, creds.envOf()...), assumedARN(prodAccount, "prod", "alice"); got != want {
		t.Errorf("the waiter's credentials are %q, want %q", got, want)
	}
	mustCalls(t, env.Proxy, "AssumeRole", 2)

	// The waiter's entries serve the next run.
	if res := env.Run(t, "credential-process", "prod"); res.Code != 0 || res.Stdout != wStdout.String() {
		t.Errorf("the next run does not reuse the waiter's entry: %s", res)
	}
	mustCalls(t, env.Proxy, "AssumeRole", 2)
}

// TestCacheLockTimeout: a process waiting for an entry's lock gives up after
// the bounded wait (60 s) with a one-line error. Slow: runs only with
// E2E_SLOW=1.
func TestCacheLockTimeout(t *testing.T) {
	if os.Getenv("E2E_SLOW") != "1" {
		t.Skip("waits for the 60 s lock timeout; set E2E_SLOW=1 to run it")
	}
	t.Parallel()
	env, _ := newChainEnv(t)
	bin := requireRolehop(t)
	env.Proxy.Delay("AssumeRole", 1, 150*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	holder := env.Command(ctx, bin, "credential-process", "prod")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = syscall.Kill(-holder.Process.Pid, syscall.SIGKILL)
		_ = holder.Wait()
	}()
	env.Proxy.WaitArrived(t, "AssumeRole", 1, 20*time.Second)
	// Freeze the holder in the middle of its STS call: it keeps its lock,
	// and its own HTTP timeout cannot fire while it is stopped.
	if err := holder.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}

	waiter := env.Command(ctx, bin, "credential-process", "prod")
	var stdout, stderr bytes.Buffer
	waiter.Stdout, waiter.Stderr = &stdout, &stderr
	start := time.Now()
	err := waiter.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String(), Duration: time.Since(start)}
	res.Code, res.Signal = exitStatus(waiter, err)
	t.Logf("waiter: %s", res.brief())
	// A notice that it waits may come first; the error is the last line.
	if res.Code != 1 {
		t.Errorf("the waiter exited with %d, want 1: %s", res.Code, res)
	}
	lines := stderrLines(res)
	if len(lines) == 0 {
		t.Fatalf("the waiter failed without a message")
	}
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "rolehop: ") || !strings.Contains(last, "timed out") || !strings.Contains(last, "waiting") {
		t.Errorf("the waiter's last stderr line is not a `rolehop: …timed out…waiting…` error: %q", last)
	}
	assertNoSecrets(t, "stderr", res.Stderr, secretsOf(env))
	if res.Stdout != "" {
		t.Errorf("the waiter printed something on stdout: %q", res.Stdout)
	}
	if res.Duration < 50*time.Second || res.Duration > 90*time.Second {
		t.Errorf("the waiter gave up after %s, want about 60 s", res.Duration.Round(time.Second))
	}
	if got := env.Proxy.Arrived("AssumeRole"); got != 1 {
		t.Errorf("%d AssumeRole requests, want only the holder's", got)
	}
}

// TestCacheMinTTL: an entry with less than --min-ttl left is not reused, and
// exec/export warn when they hand out such credentials.
func TestCacheMinTTL(t *testing.T) {
	t.Parallel()
	env, _ := newChainEnv(t)
	env.Proxy.SetExpiration("AssumeRole", 2*time.Minute)

	credProcess(t, env, "prod")
	calls := len(mustCalls(t, env.Proxy, "AssumeRole", 2))
	credProcess(t, env, "prod")
	calls = wantNewCalls(t, env, "AssumeRole", calls, 2, "second run with 2 min left and the default --min-ttl 5m")

	for _, args := range [][]string{
		{"exec", "prod", "--", "true"},
		{"export", "prod"},
	} {
		res := env.Run(t, args...)
		if res.Code != 0 {
			t.Errorf("rolehop %s: %s", strings.Join(args, " "), res)
			continue
		}
		if !strings.Contains(res.Stderr, "min-ttl") {
			t.Errorf("rolehop %s hands out 2-minute credentials without a min-ttl warning; stderr: %q", strings.Join(args, " "), res.Stderr)
		}
		assertNoSecrets(t, "stderr", res.Stderr, secretsOf(env))
	}
	calls = len(env.Proxy.Calls("AssumeRole"))

	// With --min-ttl 1m, 2-minute credentials are good enough to reuse.
	credProcess(t, env, "prod", "--min-ttl", "1m")
	calls = len(env.Proxy.Calls("AssumeRole"))
	a, _ := credProcess(t, env, "prod", "--min-ttl", "1m")
	b, _ := credProcess(t, env, "prod", "--min-ttl", "1m")
	calls = wantNewCalls(t, env, "AssumeRole", calls, 0, "--min-ttl 1m with 2 min left")
	if a != b {
		t.Errorf("two --min-ttl 1m runs printed different credentials")
	}
	for _, args := range [][]string{
		{"exec", "prod", "--min-ttl", "1m", "--", "true"},
		{"export", "prod", "--min-ttl", "1m"},
	} {
		res := env.Run(t, args...)
		if res.Code != 0 {
			t.Errorf("rolehop %s: %s", strings.Join(args, " "), res)
			continue
		}
		if strings.Contains(res.Stderr, "min-ttl") {
			t.Errorf("rolehop %s warns although 2 min > --min-ttl 1m: %q", strings.Join(args, " "), res.Stderr)
		}
	}
	wantNewCalls(t, env, "AssumeRole", calls, 0, "exec/export with --min-ttl 1m")
}

// TestWhoamiShowsRemaining: whoami tells how long the credentials remain
// valid.
func TestWhoamiShowsRemaining(t *testing.T) {
	t.Parallel()
	env, _ := newChainEnv(t)
	res := env.Run(t, "whoami", "prod")
	if res.Code != 0 {
		t.Fatalf("rolehop whoami prod: %s", res)
	}
	// A duration such as "(in 59m58s)", or words saying what is left.
	remaining := regexp.MustCompile(`(?i)\b\d+h\d+m|\b\d+m\d+s\b|\bremain|\bleft\b|\bvalid for\b`)
	if !remaining.MatchString(res.Stdout) {
		t.Errorf("whoami does not show the remaining validity:\n%s", res.Stdout)
	}
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, filepath.Base(k))
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestCacheCredentialProcess: credential_process output with an Expiration
// is cached (the process runs once); output without one is not.
func TestCacheCredentialProcess(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	seed := seedAccounts(t)
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	script := func(name string, withExpiration bool) (string, string) {
		counter := filepath.Join(env.Dir, name+".count")
		out := `{"Version": 1, "AccessKeyId": "` + seed.CIUser.AccessKeyID + `", "SecretAccessKey": "` + seed.CIUser.SecretAccessKey + `"`
		if withExpiration {
			out += `, "Expiration": "` + exp + `"`
		}
		out += "}"
		path := filepath.Join(env.Dir, name+".sh")
		body := "#!/bin/sh\necho ran >> " + shellQuote([]string{counter}) + "\ncat <<'JSON'\n" + out + "\nJSON\n"
		if err := os.WriteFile(path, []byte(body), 0o700); err != nil {
			t.Fatal(err)
		}
		return path, counter
	}
	expiring, expiringCount := script("expiring", true)
	static, staticCount := script("static", false)
	env.WriteConfig(`
		[profile cp]
		credential_process = ` + expiring + `

		[profile cp-static]
		credential_process = ` + static + `

		[profile viacp]
		role_arn = ` + devRoleARN + `
		source_profile = cp
		role_session_name = viacp
	`)
	count := func(path string) int {
		b, _ := os.ReadFile(path)
		return strings.Count(string(b), "\n")
	}

	for i := 0; i < 2; i++ {
		if res := env.Run(t, "export", "cp", "--format", "json"); res.Code != 0 {
			t.Fatalf("rolehop export cp: %s", res)
		}
	}
	if n := count(expiringCount); n != 1 {
		t.Errorf("a credential_process with an Expiration ran %d times for two runs, want 1 (cached)", n)
	}
	// The role profile on top of it reuses the cached process output.
	arn, _ := execCallerARN(t, env, "viacp")
	if want := assumedARN(devAccount, "dev", "viacp"); arn != want {
		t.Errorf("viacp ran as %q, want %q", arn, want)
	}
	if n := count(expiringCount); n != 1 {
		t.Errorf("the credential_process ran %d times after viacp, want 1 (cached)", n)
	}
	if c := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]; c.AccessKeyID != seed.CIUser.AccessKeyID {
		t.Errorf("viacp's AssumeRole signed with %q, want the process's key %q", c.AccessKeyID, seed.CIUser.AccessKeyID)
	}
	list := env.Run(t, "cache", "list")
	assertNoSecrets(t, "cache list", list.Stdout+list.Stderr, secretsOf(env, seed.CIUser))

	for i := 0; i < 2; i++ {
		if res := env.Run(t, "export", "cp-static", "--format", "json"); res.Code != 0 {
			t.Fatalf("rolehop export cp-static: %s", res)
		}
	}
	if n := count(staticCount); n != 2 {
		t.Errorf("a credential_process without an Expiration ran %d times for two runs, want 2 (never cached)", n)
	}
}
