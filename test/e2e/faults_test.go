//go:build unix

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault injection against STS and IAM Identity Center: every fault the
// proxy (or the test IAM Identity Center) can produce, against every
// command that hands out credentials. Retryable faults (throttling, 5xx,
// resets, timeouts) are retried by the SDK's standard retryer — 3 attempts,
// jittered backoff — then reported in one line that says what to do; the
// others are reported after one attempt. Nothing is cached from a failed
// call, exec never starts its child, and the next run after the fault
// clears succeeds.
//
// The scenarios of TestFaults run concurrently in goroutines of one test
// (their time is mostly backoff, which would hold a -parallel slot each),
// then are checked one subtest each. The figures (injected, outcome,
// attempts, time to report) are logged as a table; bench/faults.sh prints it.

// faultHTTPTimeout is the ROLEHOP_HTTP_TIMEOUT of the timeout scenarios.
const faultHTTPTimeout = "1s"

// stsFault is one kind of fault injected into AssumeRole.
type stsFault struct {
	name   string
	inject func(env *TestEnv, n int)
	// persistent is how many calls are injected for the failing run and
	// attempts how many the command makes before it reports.
	persistent, attempts int
	// transient, when > 0, is how many calls are injected for a run that
	// must succeed after transient+1 attempts.
	transient int
	// want are fragments of the one-line error (case-insensitive).
	want []string
	env  []string // extra environment
	args []string // extra rolehop flags
}

func stsFaults() []stsFault {
	html := func(status int, body string) func(env *TestEnv, n int) {
		return func(env *TestEnv, n int) {
			env.Proxy.InjectFault("AssumeRole", n, Fault{Status: status, ContentType: "text/html; charset=utf-8", Body: body})
		}
	}
	retry := func(name string, inject func(env *TestEnv, n int), want ...string) stsFault {
		return stsFault{name: name, inject: inject, persistent: 3, attempts: 3, transient: 2, want: want}
	}
	once := func(name string, inject func(env *TestEnv, n int), want ...string) stsFault {
		return stsFault{name: name, inject: inject, persistent: 1, attempts: 1, want: want}
	}
	timeout := retry("timeout", func(env *TestEnv, n int) { env.Proxy.Delay("AssumeRole", n, 3*time.Second) },
		"no answer within "+faultHTTPTimeout, "(3 attempts)", "ROLEHOP_HTTP_TIMEOUT")
	timeout.env = []string{"ROLEHOP_HTTP_TIMEOUT=" + faultHTTPTimeout}
	chaining := once("role-chaining ValidationError", func(env *TestEnv, n int) { env.Proxy.InjectChainingLimit(n) },
		"role chaining", "3600 or less")
	chaining.args = []string{"--duration-seconds", "7200"}
	skew := stsFault{name: "signature expired, STS clock 20 min ahead",
		inject: func(env *TestEnv, n int) {
			env.Proxy.ShiftDate(20 * time.Minute)
			env.Proxy.InjectSignatureExpired("AssumeRole", n)
		},
		// The SDK corrects its clock from STS's Date and retries once;
		// a second refusal is final.
		persistent: 3, attempts: 2, transient: 1, want: []string{"signing time", "local clock", "NTP"}}
	return []stsFault{
		retry("throttling", func(env *TestEnv, n int) { env.Proxy.InjectThrottling("AssumeRole", n) },
			"throttled", "(3 attempts)", "Throttling: Rate exceeded", "wait a minute"),
		retry("HTTP 500", func(env *TestEnv, n int) {
			env.Proxy.InjectServerError("AssumeRole", n, http.StatusInternalServerError)
		},
			"HTTP 500", "(3 attempts)", "InternalFailure", "run again"),
		retry("HTTP 503", func(env *TestEnv, n int) { env.Proxy.InjectServerError("AssumeRole", n, http.StatusServiceUnavailable) },
			"HTTP 503", "(3 attempts)", "ServiceUnavailable", "run again"),
		retry("connection reset", func(env *TestEnv, n int) { env.Proxy.InjectReset("AssumeRole", n) },
			"cannot reach STS", "(3 attempts)", "connection reset", "check the network"),
		timeout,
		retry("proxy 502 HTML page", html(http.StatusBadGateway, "<html><body><h1>502 Bad Gateway</h1></body></html>"),
			"not an STS response", "HTTP 502", "(3 attempts)", "AWS_ENDPOINT_URL_STS"),
		once("truncated XML", func(env *TestEnv, n int) {
			env.Proxy.InjectMalformed("AssumeRole", n, "text/xml", `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIA`)
		}, "not an STS response", "HTTP 200", "AWS_ENDPOINT_URL_STS"),
		once("proxy sign-in page (HTTP 200 HTML)", html(http.StatusOK, "<!DOCTYPE html><html><body><form>Sign in to the proxy</form></body></html>"),
			"not an STS response", "HTTP 200"),
		once("HTTP 200 without credentials", func(env *TestEnv, n int) {
			env.Proxy.InjectMalformed("AssumeRole", n, "text/xml", `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult></AssumeRoleResult></AssumeRoleResponse>`)
		}, "without credentials", "not an STS response"),
		once("ExpiredToken", func(env *TestEnv, n int) { env.Proxy.InjectExpiredToken("AssumeRole", n) },
			"ExpiredToken", "refresh the source credentials"),
		once("signature expired", func(env *TestEnv, n int) { env.Proxy.InjectSignatureExpired("AssumeRole", n) },
			"signing time", "Signature expired", "local clock", "NTP"),
		skew,
		once("RegionDisabledException", func(env *TestEnv, n int) { env.Proxy.InjectRegionDisabled("AssumeRole", n, prodAccount) },
			"not activated in region us-east-1", "--region"),
		once("AccessDenied", func(env *TestEnv, n int) { env.Proxy.InjectAccessDenied(n, ciUserARN, prodRoleARN) },
			"AccessDenied", ciUserARN, "trust policy"),
		chaining,
	}
}

// oneShot is a command that fetches credentials once.
type oneShot struct {
	name string
	args func(marker string) []string
}

var oneShots = []oneShot{
	{"credential-process", func(string) []string { return []string{"credential-process", "--role-arn", prodRoleARN} }},
	{"export", func(string) []string { return []string{"export", "--role-arn", prodRoleARN} }},
	// The child creates marker: it must not exist after a failure.
	{"exec", func(marker string) []string {
		return []string{"exec", "--role-arn", prodRoleARN, "--", "/bin/sh", "-c", `: > "$0"`, marker}
	}},
}

// faultRun is the outcome of one scenario.
type faultRun struct {
	name     string
	fault    string
	variant  string // persistent (the command fails) or transient (it recovers)
	command  string
	injected int
	env      *TestEnv
	marker   string

	res         Result
	runErr      error
	attempts    int      // requests of the faulty operation that reached the proxy/server
	cacheAfter  []string // cache entries after the run
	childRan    bool
	recovered   Result // the next run, after the fault cleared
	recoverErr  error
	recoverCall int // requests the recovery run made
	cacheFinal  []string
	childRanRec bool
	notes       []string // scenario-specific failures found while running
	// check runs in the scenario's subtest.
	check func(t *testing.T, r *faultRun)
}

func (r *faultRun) notef(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// runRolehop runs rolehop like TestEnv.Run but without a *testing.T, so
// scenarios can run in goroutines.
func runRolehop(env *TestEnv, extraEnv []string, args ...string) (Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := env.Command(ctx, rolehopBin, args...)
	cmd.Env = env.Environ(extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String(), Duration: time.Since(start)}
	res.Code, res.Signal = exitStatus(cmd, err)
	res.TimedOut = ctx.Err() == context.DeadlineExceeded
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return res, err
	}
	return res, nil
}

// cacheEntries lists the entries of a rolehop cache directory.
func cacheEntries(dir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	return files
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// checkOneLine asserts a failed run: exit 1, one stderr line "rolehop: …"
// with every fragment, nothing on stdout, no secret.
func checkOneLine(t *testing.T, r *faultRun, res Result, fragments ...string) {
	t.Helper()
	wantCLIError(t, r.env, res, 1, fragments...)
	if res.Stdout != "" {
		t.Errorf("a failed run printed on stdout: %q", res.Stdout)
	}
}

// TestFaults runs every STS fault against credential-process, export and
// exec, the IAM Identity Center faults against an SSO profile, and the
// role-chaining retry against a container source.
func TestFaults(t *testing.T) {
	t.Parallel()
	requireRolehop(t)
	seed := seedAccounts(t)

	var runs []*faultRun
	var scenarios []func(r *faultRun)
	add := func(r *faultRun, scenario func(r *faultRun)) {
		runs = append(runs, r)
		scenarios = append(scenarios, scenario)
	}

	for _, f := range stsFaults() {
		for _, c := range oneShots {
			variants := []struct {
				kind string
				n    int
			}{{"persistent", f.persistent}}
			if f.transient > 0 {
				variants = append(variants, struct {
					kind string
					n    int
				}{"transient", f.transient})
			}
			for _, v := range variants {
				env := newTestEnv(t)
				useEnvKeys(env, seed.CIUser)
				r := &faultRun{name: fmt.Sprintf("%s/%s/%s", f.name, c.name, v.kind), fault: f.name, variant: v.kind, command: c.name, injected: v.n, env: env,
					marker: filepath.Join(env.Dir, "child-ran")}
				args := append(c.args(r.marker), f.args...)
				add(r, func(r *faultRun) {
					f.inject(r.env, v.n)
					r.res, r.runErr = runRolehop(r.env, f.env, args...)
					r.attempts = r.env.Proxy.Arrived("AssumeRole")
					r.cacheAfter = cacheEntries(r.env.CacheDir)
					r.childRan = exists(r.marker)
					if v.kind == "transient" {
						return
					}
					r.env.Proxy.ClearInjections()
					r.env.Proxy.ShiftDate(0)
					r.recovered, r.recoverErr = runRolehop(r.env, f.env, args...)
					r.recoverCall = r.env.Proxy.Arrived("AssumeRole") - r.attempts
					r.cacheFinal = cacheEntries(r.env.CacheDir)
					r.childRanRec = exists(r.marker)
				})
				r.check = func(t *testing.T, r *faultRun) {
					if v.kind == "transient" {
						if r.res.Code != 0 {
							t.Fatalf("%d injected %s: the run failed, want success after the retries: %s", v.n, f.name, r.res)
						}
						if r.attempts != v.n+1 {
							t.Errorf("%d AssumeRole attempts, want %d", r.attempts, v.n+1)
						}
						if len(r.cacheAfter) != 1 {
							t.Errorf("cache entries after success: %v, want 1", r.cacheAfter)
						}
						if c.name == "exec" && !r.childRan {
							t.Errorf("exec succeeded but its child did not run")
						}
						assertNoSecrets(t, "stderr", r.res.Stderr, secretsOf(r.env))
						return
					}
					checkOneLine(t, r, r.res, append([]string{prodRoleARN}, f.want...)...)
					if r.attempts != f.attempts {
						t.Errorf("%d AssumeRole attempts before the report, want %d", r.attempts, f.attempts)
					}
					if len(r.cacheAfter) != 0 {
						t.Errorf("a failed call left cache entries: %v", r.cacheAfter)
					}
					if r.childRan {
						t.Errorf("exec started its child although the credentials failed")
					}
					if r.recovered.Code != 0 {
						t.Fatalf("the run after the fault cleared failed: %s", r.recovered)
					}
					if r.recoverCall != 1 || len(r.cacheFinal) != 1 {
						t.Errorf("the run after the fault made %d calls and left %v in the cache, want 1 call and 1 entry", r.recoverCall, r.cacheFinal)
					}
					if c.name == "exec" && !r.childRanRec {
						t.Errorf("the child did not run after the fault cleared")
					}
				}
			}
		}
	}

	// A bad ROLEHOP_HTTP_TIMEOUT is a usage error, before any call.
	{
		env := newTestEnv(t)
		useEnvKeys(env, seed.CIUser)
		r := &faultRun{name: "bad ROLEHOP_HTTP_TIMEOUT", fault: "ROLEHOP_HTTP_TIMEOUT=5", variant: "usage error", command: "credential-process", env: env}
		add(r, func(r *faultRun) {
			r.res, r.runErr = runRolehop(r.env, []string{"ROLEHOP_HTTP_TIMEOUT=5"}, "credential-process", "--role-arn", prodRoleARN)
			r.attempts = r.env.Proxy.Arrived("")
		})
		r.check = func(t *testing.T, r *faultRun) {
			wantCLIError(t, r.env, r.res, 2, "ROLEHOP_HTTP_TIMEOUT", `"5"`, "5s")
			if r.attempts != 0 {
				t.Errorf("%d requests with a bad ROLEHOP_HTTP_TIMEOUT, want none", r.attempts)
			}
		}
	}

	addSSOFaults(t, add)
	addChainingRetry(t, seed, add)

	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range runs {
		wg.Add(1)
		go func(r *faultRun, scenario func(*faultRun)) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			scenario(r)
		}(runs[i], scenarios[i])
	}
	wg.Wait()

	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			if r.runErr != nil || r.recoverErr != nil {
				t.Fatalf("running rolehop: %v %v", r.runErr, r.recoverErr)
			}
			for _, n := range r.notes {
				t.Error(n)
			}
			t.Logf("run: %s", r.res.brief())
			if r.recovered.Duration > 0 {
				t.Logf("after the fault: %s", r.recovered.brief())
			}
			r.check(t, r)
		})
	}
	t.Logf("fault figures (time to report = wall time of the failing run):\n%s", faultTable(runs))
}

// faultTable renders the figures of every scenario, one row each.
func faultTable(runs []*faultRun) string {
	sorted := append([]*faultRun(nil), runs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].fault < sorted[j].fault })
	var b strings.Builder
	b.WriteString("| fault | variant | command | injected | outcome | attempts | time |\n|---|---|---|---|---|---|---|\n")
	for _, r := range sorted {
		outcome := fmt.Sprintf("exit %d", r.res.Code)
		if r.res.Code == 0 {
			outcome = "ok"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %d | %s |\n", r.fault, r.variant, r.command, r.injected, outcome, r.attempts, r.res.Duration.Round(10*time.Millisecond))
	}
	return b.String()
}

// addSSOFaults adds the IAM Identity Center scenarios: portal
// GetRoleCredentials and OIDC CreateToken (the refresh of an expired
// access token), through `credential-process sso-dev`.
func addSSOFaults(t *testing.T, add func(*faultRun, func(*faultRun))) {
	t.Helper()
	portalErr := func(status int, errType, msg string) func(s *SSOServer, op string, n int) {
		return func(s *SSOServer, op string, n int) { s.InjectError(op, n, status, errType, msg) }
	}
	reset := func(s *SSOServer, op string, n int) { s.InjectFault(op, n, Fault{Reset: true}) }
	malformed := func(body string) func(s *SSOServer, op string, n int) {
		return func(s *SSOServer, op string, n int) {
			s.InjectFault(op, n, Fault{Status: http.StatusOK, ContentType: "application/json", Body: body})
		}
	}
	for _, tc := range []struct {
		name   string
		op     string
		inject func(s *SSOServer, op string, n int)
		n      int
		// tokenTTL of the cached access token: negative (expired) makes
		// rolehop refresh it with CreateToken; 5 min is within the refresh
		// window but still valid.
		tokenTTL time.Duration
		attempts int
		ok       bool
		want     []string
	}{
		{"429 TooManyRequestsException", "GetRoleCredentials", portalErr(0, "TooManyRequestsException", "Rate exceeded"), 3, 8 * time.Hour, 3, false,
			[]string{"IAM Identity Center throttled the request (3 attempts)", "TooManyRequestsException", "wait a minute"}},
		{"429 TooManyRequestsException", "GetRoleCredentials", portalErr(0, "TooManyRequestsException", "Rate exceeded"), 2, 8 * time.Hour, 3, true, nil},
		{"HTTP 500", "GetRoleCredentials", portalErr(500, "InternalServerException", "Internal error"), 3, 8 * time.Hour, 3, false,
			[]string{"HTTP 500", "(3 attempts)", "run again"}},
		{"connection reset", "GetRoleCredentials", reset, 3, 8 * time.Hour, 3, false,
			[]string{"cannot reach IAM Identity Center", "connection reset", "AWS_ENDPOINT_URL_SSO"}},
		{"connection reset", "GetRoleCredentials", reset, 2, 8 * time.Hour, 3, true, nil},
		{"malformed JSON", "GetRoleCredentials", malformed(`{"roleCredentials":{"accessKeyId":"ASIA`), 1, 8 * time.Hour, 1, false,
			[]string{"not an IAM Identity Center response", "HTTP 200", "AWS_ENDPOINT_URL_SSO"}},
		{"HTTP 200 without credentials", "GetRoleCredentials", malformed(`{}`), 1, 8 * time.Hour, 1, false,
			[]string{"without role credentials", "not a portal response"}},
		{"UnauthorizedException", "GetRoleCredentials", portalErr(0, "UnauthorizedException", "Session token not found or invalid"), 1, 8 * time.Hour, 1, false,
			[]string{"refused the access token", "rolehop login sso-dev"}},
		{"HTTP 500", "CreateToken", portalErr(500, "InternalServerException", "Internal error"), 3, -time.Minute, 3, false,
			[]string{"expired and refreshing it failed", "HTTP 500", "(3 attempts)", "run again"}},
		{"HTTP 500", "CreateToken", portalErr(500, "InternalServerException", "Internal error"), 2, -time.Minute, 3, true, nil},
		{"HTTP 500, token still valid", "CreateToken", portalErr(500, "InternalServerException", "Internal error"), 3, 5 * time.Minute, 3, true, nil},
		{"connection reset", "CreateToken", reset, 3, -time.Minute, 3, false,
			[]string{"refreshing it failed", "connection reset", "AWS_ENDPOINT_URL_SSO_OIDC"}},
		{"malformed JSON", "CreateToken", malformed(`{"accessToken": "tok`), 1, -time.Minute, 1, false,
			[]string{"refreshing it failed", "not an IAM Identity Center response"}},
	} {
		env, srv := newSSOEnv(t)
		_, tokenPath := seedSSOToken(t, env, srv, tc.tokenTTL)
		tokenBefore := readFile(t, tokenPath)
		kind := "persistent"
		if tc.ok {
			kind = "transient"
		}
		r := &faultRun{name: fmt.Sprintf("SSO %s %s/%s/%s", tc.op, tc.name, "credential-process", kind), fault: "SSO " + tc.op + " " + tc.name,
			variant: kind, command: "credential-process", injected: tc.n, env: env}
		add(r, func(r *faultRun) {
			tc.inject(srv, tc.op, tc.n)
			r.res, r.runErr = runRolehop(r.env, nil, "credential-process", "sso-dev")
			r.attempts = srv.Count(tc.op)
			r.cacheAfter = cacheEntries(r.env.CacheDir)
			if tokenAfter, err := os.ReadFile(tokenPath); err != nil || (!tc.ok && string(tokenAfter) != tokenBefore) {
				r.notef("the token cache changed after a failed call (err %v)", err)
			}
			if tc.ok {
				return
			}
			r.recovered, r.recoverErr = runRolehop(r.env, nil, "credential-process", "sso-dev")
			r.recoverCall = srv.Count(tc.op) - r.attempts
			r.cacheFinal = cacheEntries(r.env.CacheDir)
		})
		r.check = func(t *testing.T, r *faultRun) {
			if r.attempts != tc.attempts {
				t.Errorf("%d %s calls, want %d:\n%s", r.attempts, tc.op, tc.attempts, srv.CallLog())
			}
			if tc.ok {
				if r.res.Code != 0 {
					t.Fatalf("want success: %s", r.res)
				}
				parseProcessCreds(t, r.res.Stdout)
				if len(r.cacheAfter) != 1 {
					t.Errorf("cache entries %v, want 1", r.cacheAfter)
				}
				return
			}
			checkOneLine(t, r, r.res, tc.want...)
			if len(r.cacheAfter) != 0 {
				t.Errorf("a failed call left cache entries: %v", r.cacheAfter)
			}
			if tc.name == "UnauthorizedException" {
				return // the token is refused until a new login
			}
			if r.recovered.Code != 0 || r.recoverCall != 1 || len(r.cacheFinal) != 1 {
				t.Errorf("the run after the fault: %s\n(%d %s calls, cache %v; want success, 1 call, 1 entry)", r.recovered, r.recoverCall, tc.op, r.cacheFinal)
			}
		}
	}
}

// addChainingRetry adds the new behaviour: a hop after the container
// endpoint (whose kind does not say whether it hands out role credentials)
// asks for 7200 s; STS answers the role-chaining ValidationError; rolehop
// retries once at 3600 s, warns naming the hop and the cap, and caches the
// 1-hour credentials under the key of a 3600 s hop: a later run asks for
// 7200 s again (and gets it when STS allows), and a run planned at 3600 s
// reuses the capped entry without a call.
func addChainingRetry(t *testing.T, seed Seed, add func(*faultRun, func(*faultRun))) {
	t.Helper()
	env := newTestEnv(t)
	devSession := motoAssumeRole(t, seed.CIUser, devRoleARN, "cloudshell")
	container := newContainerEndpoint(t, "container-token-0123456789", devSession)
	env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", container.URL)
	env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", container.Token)
	args := []string{"credential-process", "--role-arn", prodRoleARN, "--duration-seconds", "7200"}
	r := &faultRun{name: "role chaining from the container source/credential-process", fault: "role-chaining ValidationError, container source",
		variant: "retried at 3600 s", command: "credential-process", injected: 1, env: env}
	var second, third Result
	var secondErr, thirdErr error
	var entriesAfterSecond, entriesAfterThird []string
	add(r, func(r *faultRun) {
		r.env.Proxy.InjectChainingLimit(1)
		r.res, r.runErr = runRolehop(r.env, nil, args...)
		r.attempts = r.env.Proxy.Arrived("AssumeRole")
		r.cacheAfter = cacheEntries(r.env.CacheDir)
		second, secondErr = runRolehop(r.env, nil, args...)
		entriesAfterSecond = cacheEntries(r.env.CacheDir)
		third, thirdErr = runRolehop(r.env, nil, "credential-process", "--role-arn", prodRoleARN, "--duration-seconds", "3600")
		entriesAfterThird = cacheEntries(r.env.CacheDir)
	})
	r.check = func(t *testing.T, r *faultRun) {
		if secondErr != nil || thirdErr != nil {
			t.Fatal(secondErr, thirdErr)
		}
		if r.res.Code != 0 {
			t.Fatalf("want success after the retry at 3600 s: %s", r.res)
		}
		calls := r.env.Proxy.Calls("AssumeRole")
		if len(calls) < 2 {
			t.Fatalf("AssumeRole calls:\n%s", callList(calls))
		}
		wantParam(t, calls[0], "DurationSeconds", "7200")
		wantParam(t, calls[1], "DurationSeconds", "3600")
		if !calls[0].Injected || calls[1].Injected || calls[1].Get("RoleSessionName") != calls[0].Get("RoleSessionName") {
			t.Errorf("want the refused call then the same request at 3600 s:\n%s", callList(calls))
		}
		if calls[0].AccessKeyID != devSession.AccessKeyID {
			t.Errorf("the hop signed with %s, want the container's %s", calls[0].AccessKeyID, devSession.AccessKeyID)
		}
		var warning string
		for _, l := range stderrLines(r.res) {
			if strings.Contains(l, "STS capped this hop") {
				warning = l
			}
		}
		if !strings.HasPrefix(warning, "rolehop: warning: hop 1 ("+prodRoleARN) || !strings.Contains(warning, "3600") || !strings.Contains(warning, "7200") {
			t.Errorf("no warning naming the hop and the 3600 s cap on stderr:\n%s", r.res.Stderr)
		}
		c := parseProcessCreds(t, r.res.Stdout)
		if exp, err := time.Parse(time.RFC3339, c.Expiration); err != nil || time.Until(exp) > time.Hour+time.Minute {
			t.Errorf("Expiration %s, want about 1 hour from now", c.Expiration)
		}
		if len(r.cacheAfter) != 1 {
			t.Errorf("cache entries after the retry: %v, want 1 (the 3600 s hop's)", r.cacheAfter)
		}
		// moto does not enforce the cap: the next run gets its 7200 s.
		if second.Code != 0 || len(calls) != 3 {
			t.Fatalf("second run: %s\n%d calls:\n%s", second, len(calls), callList(calls))
		}
		wantParam(t, calls[2], "DurationSeconds", "7200")
		if strings.Contains(second.Stderr, "STS capped") || len(entriesAfterSecond) != 2 {
			t.Errorf("second run: want no warning and a second entry (the 7200 s hop's): entries %v, stderr %q", entriesAfterSecond, second.Stderr)
		}
		if c2 := parseProcessCreds(t, second.Stdout); c2.AccessKeyId == c.AccessKeyId {
			t.Errorf("the 7200 s run was served the capped 1-hour credentials")
		}
		// Planned at 3600 s: the capped entry serves it.
		if third.Code != 0 || len(r.env.Proxy.Calls("AssumeRole")) != 3 || len(entriesAfterThird) != 2 {
			t.Errorf("run at 3600 s: %s (calls %d, entries %v; want the capped entry and no call)", third, len(r.env.Proxy.Calls("AssumeRole")), entriesAfterThird)
		} else if c3 := parseProcessCreds(t, third.Stdout); c3.AccessKeyId != c.AccessKeyId {
			t.Errorf("the 3600 s run got %s, want the capped entry's %s", c3.AccessKeyId, c.AccessKeyId)
		}
		assertNoSecrets(t, "stderr", r.res.Stderr+second.Stderr+third.Stderr, secretsOf(r.env, devSession))
	}
}

// faultProfileConfig is one role profile from the environment's keys, for
// the long-running commands (serve needs a profile for its path).
const faultProfileConfig = `
	[profile faulty]
	role_arn = ` + prodRoleARN + `
	credential_source = Environment
	role_session_name = faults
`

// TestFaultsServe: while STS fails, `rolehop serve` keeps answering with
// the last good credentials as long as they are valid, says on stderr
// that the refresh failed, and serves new credentials once the fault
// stops. A malformed answer fails the refresh at once; throttling after
// the SDK's 3 attempts.
func TestFaultsServe(t *testing.T) {
	t.Parallel()
	seed := seedAccounts(t)
	type server struct {
		name    string
		ttl     time.Duration
		inject  func(p *Proxy)
		calls   int // injected AssumeRole calls that fail one refresh
		env     *TestEnv
		srv     *ServeProc
		started time.Time

		keys      []string
		lastExp   time.Time
		failedAt  time.Time
		recovered time.Time
		problems  []string
	}
	servers := []*server{
		// The first refresh comes at 3/4 of the lifetime (the window is a
		// quarter of it); throttling takes up to 0+2+4 s of backoff, so
		// 32 s keeps the old credentials valid throughout.
		{name: "throttling", ttl: 32 * time.Second, calls: 3, inject: func(p *Proxy) { p.InjectThrottling("AssumeRole", 3) }},
		{name: "truncated XML", ttl: 8 * time.Second, calls: 1, inject: func(p *Proxy) {
			p.InjectMalformed("AssumeRole", 1, "text/xml", "<AssumeRoleResponse><AssumeRoleResult><Creden")
		}},
	}
	for _, s := range servers {
		s.env = newTestEnv(t)
		useEnvKeys(s.env, seed.CIUser)
		s.env.WriteConfig(faultProfileConfig)
		s.env.Proxy.SetExpiration("AssumeRole", s.ttl)
		s.started = time.Now()
		s.srv = startServe(t, s.env, 1, "serve", "faulty", "--min-ttl", "1s")
		s.inject(s.env.Proxy)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		done := true
		for _, s := range servers {
			if !s.recovered.IsZero() {
				continue
			}
			done = false
			r := s.srv.Routes[0]
			c, err := fetchCreds(r)
			now := time.Now()
			switch {
			case err != nil && now.Before(s.lastExp):
				s.problems = append(s.problems, fmt.Sprintf("%s: %v while the last credentials (until %s) were still valid", now.Format("15:04:05.000"), err, s.lastExp.Format(time.RFC3339)))
			case err == nil:
				s.lastExp, _ = time.Parse(time.RFC3339, c.Expiration)
				if len(s.keys) == 0 || s.keys[len(s.keys)-1] != c.AccessKeyID {
					s.keys = append(s.keys, c.AccessKeyID)
				}
			}
			if s.failedAt.IsZero() && strings.Contains(s.srv.Stderr(), "refresh failed") {
				s.failedAt = now
			}
			if !s.failedAt.IsZero() && len(s.keys) >= 2 {
				s.recovered = now
			}
		}
		if done {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, s := range servers {
		s.srv.Stop(t)
		stderr := s.srv.Stderr()
		t.Logf("serve, %s: %d calls injected, refresh failure reported at +%s, recovered with new credentials by +%s, AssumeRole attempts %d",
			s.name, s.calls, s.failedAt.Sub(s.started).Round(100*time.Millisecond), s.recovered.Sub(s.started).Round(100*time.Millisecond), s.env.Proxy.Arrived("AssumeRole"))
		for _, p := range s.problems {
			t.Errorf("serve, %s: %s", s.name, p)
		}
		if s.failedAt.IsZero() || s.recovered.IsZero() {
			t.Errorf("serve, %s: failure reported %v, recovered %v (keys %d)\n--- stderr:\n%s", s.name, !s.failedAt.IsZero(), !s.recovered.IsZero(), len(s.keys), stderr)
			continue
		}
		// Prime, the failed refresh's attempts, the successful one.
		if got := s.env.Proxy.Arrived("AssumeRole"); got < 2+s.calls {
			t.Errorf("serve, %s: %d AssumeRole attempts, want at least %d", s.name, got, 2+s.calls)
		}
		if s.env.Proxy.Injected("AssumeRole") != s.calls {
			t.Errorf("serve, %s: %d injected calls served, want %d", s.name, s.env.Proxy.Injected("AssumeRole"), s.calls)
		}
		var failLine string
		for _, l := range strings.Split(stderr, "\n") {
			if strings.Contains(l, "refresh failed") {
				failLine = l
				break
			}
		}
		if !strings.Contains(failLine, "still serving credentials that expire in") || !strings.Contains(failLine, prodRoleARN) {
			t.Errorf("serve, %s: the failure line does not say what is still served and which hop failed: %q", s.name, failLine)
		}
		assertNoSecrets(t, "serve stderr", stderr, secretsOf(s.env))
	}
}

// TestFaultsWriteWatch: while STS fails, `write --watch` keeps the last
// good credentials in the file (still valid), reports the failed refresh
// on stderr, and writes new ones once the fault stops.
func TestFaultsWriteWatch(t *testing.T) {
	t.Parallel()
	seed := seedAccounts(t)
	bin := requireRolehop(t)
	type watcher struct {
		name     string
		inject   func(p *Proxy)
		calls    int
		env      *TestEnv
		cmd      *exec.Cmd
		stderr   *syncBuffer
		done     chan error
		started  time.Time
		keys     []string
		exps     []time.Time
		failedAt time.Time
		okAt     time.Time
		problems []string
	}
	// 12 s credentials rewritten at a fifth of their life: the first
	// refresh comes after about 2.4 s; throttling takes up to 6 s of backoff
	// and write's own retry 1 s, so the file's credentials stay valid.
	watchers := []*watcher{
		{name: "throttling", calls: 3, inject: func(p *Proxy) { p.InjectThrottling("AssumeRole", 3) }},
		{name: "truncated XML", calls: 1, inject: func(p *Proxy) {
			p.InjectMalformed("AssumeRole", 1, "text/xml", "<AssumeRoleResponse><AssumeRoleResult><Creden")
		}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, w := range watchers {
		w.env = newTestEnv(t)
		useEnvKeys(w.env, seed.CIUser)
		w.env.WriteConfig(faultProfileConfig)
		w.env.Proxy.SetExpiration("AssumeRole", 12*time.Second)
		w.cmd = w.env.Command(ctx, bin, "write", "faulty", "--to", "w", "--watch", "--refresh-at", "0.2", "--min-ttl", "1s")
		w.stderr = &syncBuffer{}
		w.cmd.Stderr = w.stderr
		if err := w.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		w.started = time.Now()
		w.done = make(chan error, 1)
		go func(w *watcher) { w.done <- w.cmd.Wait() }(w)
	}
	defer func() {
		for _, w := range watchers {
			if w.cmd.ProcessState == nil {
				_ = w.cmd.Process.Kill()
				<-w.done
			}
		}
	}()
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		all := true
		for _, w := range watchers {
			if !w.okAt.IsZero() {
				continue
			}
			all = false
			now := time.Now()
			keys := map[string]string{}
			if data, err := os.ReadFile(w.env.CredentialsFile); err == nil {
				for _, l := range strings.Split(string(data), "\n") {
					if k, v, ok := strings.Cut(l, "="); ok {
						keys[strings.TrimSpace(k)] = strings.TrimSpace(v)
					}
				}
			}
			if id := keys["aws_access_key_id"]; id != "" && (len(w.keys) == 0 || w.keys[len(w.keys)-1] != id) {
				w.keys = append(w.keys, id)
				exp, _ := time.Parse(time.RFC3339, keys[expiryKeyName])
				w.exps = append(w.exps, exp)
				if len(w.keys) == 1 {
					w.inject(w.env.Proxy) // the next refresh meets the fault
				}
			}
			if w.failedAt.IsZero() && strings.Contains(w.stderr.String(), "refresh failed") {
				w.failedAt = now
				if n := len(w.exps); n > 0 && !w.exps[n-1].After(now) {
					w.problems = append(w.problems, fmt.Sprintf("when the refresh failed, the file held credentials that had expired at %s", w.exps[n-1].Format(time.RFC3339)))
				}
				if len(w.keys) != 1 {
					w.problems = append(w.problems, fmt.Sprintf("the file changed %d times before the failure, want the first credentials kept", len(w.keys)-1))
				}
			}
			if !w.failedAt.IsZero() && len(w.keys) >= 2 {
				w.okAt = now
			}
			select {
			case err := <-w.done:
				w.done <- err
				w.problems = append(w.problems, fmt.Sprintf("write --watch exited: %v", err))
				w.okAt = now
			default:
			}
		}
		if all {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, w := range watchers {
		if w.cmd.ProcessState == nil {
			_ = w.cmd.Process.Signal(os.Interrupt)
			select {
			case <-w.done:
			case <-time.After(10 * time.Second):
				t.Errorf("write --watch, %s: no exit within 10 s of SIGINT", w.name)
			}
		}
		stderr := w.stderr.String()
		t.Logf("write --watch, %s: %d calls injected, failure reported at +%s, new credentials written by +%s, AssumeRole attempts %d",
			w.name, w.calls, w.failedAt.Sub(w.started).Round(100*time.Millisecond), w.okAt.Sub(w.started).Round(100*time.Millisecond), w.env.Proxy.Arrived("AssumeRole"))
		for _, p := range w.problems {
			t.Errorf("write --watch, %s: %s\n--- stderr:\n%s", w.name, p, stderr)
		}
		if w.failedAt.IsZero() || len(w.keys) < 2 {
			t.Errorf("write --watch, %s: failure reported %v, %d distinct keys written\n--- stderr:\n%s", w.name, !w.failedAt.IsZero(), len(w.keys), stderr)
			continue
		}
		if w.env.Proxy.Injected("AssumeRole") != w.calls {
			t.Errorf("write --watch, %s: %d injected calls served, want %d", w.name, w.env.Proxy.Injected("AssumeRole"), w.calls)
		}
		var failLine string
		for _, l := range strings.Split(stderr, "\n") {
			if strings.Contains(l, "refresh failed") {
				failLine = l
			}
		}
		if !strings.Contains(failLine, "retrying in") || !strings.Contains(failLine, prodRoleARN) {
			t.Errorf("write --watch, %s: the failure line %q does not say it retries and which hop failed", w.name, failLine)
		}
		if !strings.Contains(stderr, "refreshed [w]") {
			t.Errorf("write --watch, %s: no \"refreshed [w]\" after the fault:\n%s", w.name, stderr)
		}
		assertNoSecrets(t, "write --watch stderr", stderr, secretsOf(w.env))
	}
}

// expiryKeyName is the expiry key write puts next to the keys.
const expiryKeyName = "x_security_token_expires"
