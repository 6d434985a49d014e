//go:build unix

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Retry settings end to end: max_attempts / AWS_MAX_ATTEMPTS and
// retry_mode / AWS_RETRY_MODE govern every AWS client rolehop builds — the
// chain's STS hops, IAM Identity Center's portal and OIDC, and the STS
// clients of whoami, policy, console and doctor — counted at the
// fault-injecting proxy and the test IAM Identity Center. Every scenario
// but one sets ROLEHOP_RETRY_MAX_BACKOFF=1ms, so that retries cost no time;
// the fault tests (faults_test.go) run with the SDK's own backoff.

// fastRetry caps the wait between attempts.
const fastRetry = "ROLEHOP_RETRY_MAX_BACKOFF=1ms"

// retryProfileConfig: a role profile from the environment's keys that
// makes one attempt per call.
const retryProfileConfig = `
	[profile once]
	role_arn = ` + prodRoleARN + `
	credential_source = Environment
	role_session_name = retries
	max_attempts = 1
`

// retryRun is one scenario: a command against an endpoint that fails
// persistently (or, with ok, for fewer calls than the attempts).
type retryRun struct {
	name     string
	env      *TestEnv
	extra    []string // environment of the command
	args     []string
	inject   func()
	count    func() int // attempts of the faulty operation
	attempts int
	ok       bool
	want     []string // fragments of the one-line error
	code     int      // exit status of a failure; 0 means 1
	maxTime  time.Duration

	res Result
	err error
	got int
}

// TestRetrySettings runs every scenario concurrently, then checks each in
// its own subtest.
func TestRetrySettings(t *testing.T) {
	t.Parallel()
	requireRolehop(t)
	seed := seedAccounts(t)
	var runs []*retryRun

	// The chain's STS hop (AssumeRole): default, environment, profile,
	// environment over profile, a transient fault, adaptive and legacy.
	sts := func(name string, profile bool, extra []string, injected, attempts int, ok bool, want ...string) {
		env := newTestEnv(t)
		useEnvKeys(env, seed.CIUser)
		args := []string{"credential-process", "--role-arn", prodRoleARN}
		if profile {
			env.WriteConfig(retryProfileConfig)
			args = []string{"credential-process", "once"}
		}
		runs = append(runs, &retryRun{name: "AssumeRole/" + name, env: env, extra: append([]string{fastRetry}, extra...), args: args,
			inject: func() { env.Proxy.InjectThrottling("AssumeRole", injected) }, count: func() int { return env.Proxy.Arrived("AssumeRole") },
			attempts: attempts, ok: ok, want: append([]string{prodRoleARN, "throttled"}, want...)})
	}
	sts("default 3", false, nil, 6, 3, false, "(3 attempts)")
	sts("AWS_MAX_ATTEMPTS=5", false, []string{"AWS_MAX_ATTEMPTS=5"}, 6, 5, false, "(5 attempts)")
	sts("max_attempts = 1 in the profile", true, nil, 3, 1, false)
	sts("AWS_MAX_ATTEMPTS=4 over the profile's 1", true, []string{"AWS_MAX_ATTEMPTS=4"}, 6, 4, false, "(4 attempts)")
	sts("AWS_MAX_ATTEMPTS=5, transient", false, []string{"AWS_MAX_ATTEMPTS=5"}, 4, 5, true)
	sts("adaptive, 2 attempts", false, []string{"AWS_RETRY_MODE=adaptive", "AWS_MAX_ATTEMPTS=2"}, 3, 2, false, "(2 attempts)")
	sts("legacy runs as standard", false, []string{"AWS_RETRY_MODE=legacy"}, 6, 3, false, "(3 attempts)")
	// Two hops, the first throttled: hop 2's client must not retry hop
	// 1's failure (which would make attempts² calls).
	{
		env := newTestEnv(t)
		useEnvKeys(env, seed.CIUser)
		runs = append(runs, &retryRun{name: "AssumeRole/two hops, the first throttled, AWS_MAX_ATTEMPTS=2", env: env,
			extra: []string{fastRetry, "AWS_MAX_ATTEMPTS=2"}, args: []string{"credential-process", "--role-arn", devRoleARN, "--role-arn", prodRoleARN},
			inject: func() { env.Proxy.InjectThrottling("AssumeRole", 10) }, count: func() int { return env.Proxy.Arrived("AssumeRole") },
			attempts: 2, want: []string{"hop 1 (" + devRoleARN, "throttled", "(2 attempts)"}})
	}

	// IAM Identity Center: the portal (GetRoleCredentials) and OIDC
	// (CreateToken, the refresh of an expired token).
	sso := func(name, profile, op string, tokenTTL time.Duration, extra []string, inject func(s *SSOServer), attempts int, want ...string) {
		env, srv := newSSOEnv(t)
		env.WriteConfig(ssoConfig + `
	[profile sso-once]
	sso_session = corp
	sso_account_id = ` + devAccount + `
	sso_role_name = Developer
	max_attempts = 1
`)
		seedSSOToken(t, env, srv, tokenTTL)
		runs = append(runs, &retryRun{name: "SSO " + op + "/" + name, env: env, extra: append([]string{fastRetry}, extra...), args: []string{"credential-process", profile},
			inject: func() { inject(srv) }, count: func() int { return srv.Count(op) }, attempts: attempts, want: want})
	}
	throttle := func(s *SSOServer) {
		s.InjectError("GetRoleCredentials", 6, 0, "TooManyRequestsException", "Rate exceeded")
	}
	sso("AWS_MAX_ATTEMPTS=4", "sso-dev", "GetRoleCredentials", 8*time.Hour, []string{"AWS_MAX_ATTEMPTS=4"}, throttle, 4, "(4 attempts)", "TooManyRequestsException")
	sso("max_attempts = 1 in the profile", "sso-once", "GetRoleCredentials", 8*time.Hour, nil, throttle, 1, "TooManyRequestsException")
	sso("a hop after it, AWS_MAX_ATTEMPTS=2", "roleb", "GetRoleCredentials", 8*time.Hour, []string{"AWS_MAX_ATTEMPTS=2"}, throttle, 2, "(2 attempts)", "TooManyRequestsException")
	sso("AWS_MAX_ATTEMPTS=2 over the profile's 1", "sso-once", "CreateToken", -time.Minute, []string{"AWS_MAX_ATTEMPTS=2"},
		func(s *SSOServer) { s.InjectError("CreateToken", 6, 500, "InternalServerException", "Internal error") }, 2, "refreshing it failed", "(2 attempts)")

	// The STS clients beside the chain: whoami's and policy's
	// GetCallerIdentity, console's GetFederationToken, doctor's checks.
	beside := func(name, action string, extra []string, args []string, attempts, code int, want ...string) *retryRun {
		env := newTestEnv(t)
		useEnvKeys(env, seed.CIUser)
		r := &retryRun{name: name, env: env, extra: append([]string{fastRetry}, extra...), args: args,
			inject: func() { env.Proxy.InjectThrottling(action, 6) }, count: func() int { return env.Proxy.Arrived(action) },
			attempts: attempts, code: code, want: want}
		runs = append(runs, r)
		return r
	}
	beside("whoami/AWS_MAX_ATTEMPTS=4", "GetCallerIdentity", []string{"AWS_MAX_ATTEMPTS=4"}, []string{"whoami"}, 4, 1, "GetCallerIdentity", "maximum number of attempts, 4")
	pol := beside("policy/max_attempts = 1 in the default profile", "GetCallerIdentity", nil, []string{"policy", "--role-arn", prodRoleARN}, 1, 1, "GetCallerIdentity", "pass --caller-arn")
	pol.env.WriteConfig("[default]\nmax_attempts = 1\n")
	beside("console/AWS_MAX_ATTEMPTS=2", "GetFederationToken", []string{"AWS_MAX_ATTEMPTS=2"}, []string{"console", "--print"}, 2, 1, "GetFederationToken", "maximum number of attempts, 2")
	doc := beside("doctor/AWS_MAX_ATTEMPTS=2", "GetCallerIdentity", []string{"AWS_MAX_ATTEMPTS=2"}, []string{"doctor", "--role-arn", prodRoleARN, "--json"}, 2, 1)
	doc.want = nil // a report on stdout, not an error line

	// whoami honours ROLEHOP_HTTP_TIMEOUT: the first GetCallerIdentity is
	// held 3 s, past the 1 s limit, and the second attempt answers.
	{
		env := newTestEnv(t)
		useEnvKeys(env, seed.CIUser)
		runs = append(runs, &retryRun{name: "whoami/ROLEHOP_HTTP_TIMEOUT=1s", env: env, extra: []string{fastRetry, "ROLEHOP_HTTP_TIMEOUT=1s"}, args: []string{"whoami"},
			inject: func() { env.Proxy.Delay("GetCallerIdentity", 1, 3*time.Second) }, count: func() int { return env.Proxy.Arrived("GetCallerIdentity") },
			attempts: 2, ok: true, maxTime: 2900 * time.Millisecond})
	}

	// Invalid settings: a usage error before any call.
	usage := func(name string, extra []string, config string, want ...string) {
		env := newTestEnv(t)
		useEnvKeys(env, seed.CIUser)
		if config != "" {
			env.WriteConfig(config)
		}
		runs = append(runs, &retryRun{name: "usage/" + name, env: env, extra: extra, args: []string{"credential-process", "--role-arn", prodRoleARN},
			inject: func() {}, count: func() int { return env.Proxy.Arrived("") }, attempts: 0, code: 2, want: want})
	}
	usage("max_attempts = 0", nil, "[default]\nregion = us-east-1\nmax_attempts = 0\n", `max_attempts = "0" in profile "default"`, "config:3", "1 or more")
	usage("AWS_RETRY_MODE=Adaptive", []string{"AWS_RETRY_MODE=Adaptive"}, "", `AWS_RETRY_MODE="Adaptive"`, `did you mean "adaptive"`)
	usage("AWS_MAX_ATTEMPTS=three", []string{"AWS_MAX_ATTEMPTS=three"}, "", `AWS_MAX_ATTEMPTS="three"`, "counts the first attempt")
	usage("ROLEHOP_RETRY_MAX_BACKOFF=2", []string{"ROLEHOP_RETRY_MAX_BACKOFF=2"}, "", `ROLEHOP_RETRY_MAX_BACKOFF="2"`, "between 1ms and 5m")

	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Go(func() {
			r.inject()
			r.res, r.err = runRolehop(r.env, r.extra, r.args...)
			r.got = r.count()
		})
	}
	wg.Wait()

	var table strings.Builder
	table.WriteString("| scenario | attempts | outcome | time |\n|---|---|---|---|\n")
	for _, r := range runs {
		fmt.Fprintf(&table, "| %s | %d | exit %d | %s |\n", r.name, r.got, r.res.Code, r.res.Duration.Round(10*time.Millisecond))
		t.Run(r.name, func(t *testing.T) {
			if r.err != nil {
				t.Fatalf("running rolehop: %v", r.err)
			}
			t.Logf("%s", r.res.brief())
			if r.got != r.attempts {
				t.Errorf("%d attempts, want %d: %s", r.got, r.attempts, r.res)
			}
			if r.maxTime > 0 && r.res.Duration > r.maxTime {
				t.Errorf("took %s, want under %s", r.res.Duration, r.maxTime)
			}
			if r.ok {
				if r.res.Code != 0 {
					t.Errorf("want success: %s", r.res)
				}
				assertNoSecrets(t, "stderr", r.res.Stderr, secretsOf(r.env))
				return
			}
			code := r.code
			if code == 0 {
				code = 1
			}
			if r.want == nil {
				if r.res.Code != code {
					t.Errorf("exit %d, want %d: %s", r.res.Code, code, r.res)
				}
				return
			}
			wantCLIError(t, r.env, r.res, code, r.want...)
		})
	}
	t.Logf("attempts per scenario:\n%s", table.String())

	// doctor names the throttling of the source step.
	var rep DoctorReport
	if err := json.Unmarshal([]byte(doc.res.Stdout), &rep); err != nil || len(rep.Steps) == 0 || len(rep.Steps[0].Findings) == 0 || rep.Steps[0].Findings[0].Code != "throttled" {
		t.Errorf("doctor: want a throttled finding on the source step: %v\n%s", err, doc.res.Stdout)
	}
}

// TestExplainRetry: explain shows the resolved retry settings and where
// each came from, in text and JSON, without a network call.
func TestExplainRetry(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	env.WriteConfig(`
	[profile once]
	role_arn = ` + prodRoleARN + `
	credential_source = Environment
	retry_mode = adaptive
	max_attempts = 1
	`)
	env.Set("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE000000001")
	env.Set("AWS_SECRET_ACCESS_KEY", "explain-secret")
	extra := []string{"AWS_MAX_ATTEMPTS=5", "ROLEHOP_HTTP_TIMEOUT=2s"}
	res := env.RunWith(t, extra, "explain", "once")
	if res.Code != 0 {
		t.Fatalf("explain: %s", res)
	}
	for _, want := range []string{"Retries of each AWS call", "up to 5, the first included", "(env AWS_MAX_ATTEMPTS)", "adaptive", "config:4", "at most 20s", "(default)", "2s", "(env ROLEHOP_HTTP_TIMEOUT)"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("explain lacks %q:\n%s", want, res.Stdout)
		}
	}
	res = env.RunWith(t, extra, "explain", "once", "-o", "json")
	if res.Code != 0 {
		t.Fatalf("explain -o json: %s", res)
	}
	var doc struct {
		Retry struct {
			MaxAttempts        int    `json:"max_attempts"`
			MaxAttemptsFrom    string `json:"max_attempts_from"`
			Mode               string `json:"mode"`
			ModeFrom           string `json:"mode_from"`
			MaxBackoffMS       int64  `json:"max_backoff_ms"`
			AttemptTimeoutMS   int64  `json:"attempt_timeout_ms"`
			AttemptTimeoutFrom string `json:"attempt_timeout_from"`
		} `json:"retry"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &doc); err != nil {
		t.Fatal(err)
	}
	r := doc.Retry
	if r.MaxAttempts != 5 || r.MaxAttemptsFrom != "env AWS_MAX_ATTEMPTS" || r.Mode != "adaptive" || !strings.HasSuffix(r.ModeFrom, "config:4") ||
		r.MaxBackoffMS != 20000 || r.AttemptTimeoutMS != 2000 || r.AttemptTimeoutFrom != "env ROLEHOP_HTTP_TIMEOUT" {
		t.Errorf("retry = %+v", r)
	}
	if n := env.Proxy.Arrived(""); n != 0 {
		t.Errorf("explain made %d requests", n)
	}
}

// TestRetryOracle: the AWS CLI and rolehop read max_attempts from the same
// place — the profile named on the command line or by AWS_PROFILE, with
// AWS_MAX_ATTEMPTS over it — and make the same number of attempts against
// a throttling STS.
func TestRetryOracle(t *testing.T) {
	t.Parallel()
	requireRolehop(t)
	seed := seedAccounts(t)
	for _, tc := range []struct {
		name     string
		extra    []string
		cli      []string // where the CLI takes the profile from
		rolehop  []string
		attempts int
	}{
		{"--profile", nil, []string{"--profile", "p"}, []string{"p"}, 2},
		{"AWS_PROFILE", []string{"AWS_PROFILE=p"}, nil, nil, 2},
		{"AWS_MAX_ATTEMPTS over the profile", []string{"AWS_MAX_ATTEMPTS=1"}, []string{"--profile", "p"}, []string{"p"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			env.WriteCredentials(ciCredentials("p", seed.CIUser))
			env.WriteConfig("[profile p]\nmax_attempts = 2\nretry_mode = standard\n")
			env.Proxy.InjectSTSError("GetCallerIdentity", 10, http.StatusBadRequest, "Throttling", "Rate exceeded")
			cli := env.RunCmdWith(t, tc.extra, awsBin, append([]string{"sts", "get-caller-identity"}, tc.cli...)...)
			byCLI := env.Proxy.Arrived("GetCallerIdentity")
			res := env.RunWith(t, append([]string{fastRetry}, tc.extra...), append([]string{"whoami"}, tc.rolehop...)...)
			byRolehop := env.Proxy.Arrived("GetCallerIdentity") - byCLI
			if cli.Code == 0 || res.Code != 1 {
				t.Errorf("want both to fail: aws %s\nrolehop %s", cli, res)
			}
			if byCLI != tc.attempts || byRolehop != tc.attempts {
				t.Errorf("attempts: AWS CLI %d, rolehop %d, want %d each", byCLI, byRolehop, tc.attempts)
			}
		})
	}
}
