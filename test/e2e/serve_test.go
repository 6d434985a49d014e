//go:build unix

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The tests of `rolehop serve` and `rolehop exec --server`: a container
// credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI +
// AWS_CONTAINER_AUTHORIZATION_TOKEN) consumed by the real AWS CLI, by
// aws-sdk-go-v2's endpointcreds provider, and by rolehop itself; each proves
// the identity with moto's GetCallerIdentity.

// ServeRoute is one profile's block of `rolehop serve` output.
type ServeRoute struct {
	Profile string // from the path (and the "# profile NAME" line)
	URL     string // AWS_CONTAINER_CREDENTIALS_FULL_URI
	Token   string // AWS_CONTAINER_AUTHORIZATION_TOKEN, or the _TOKEN_FILE's content
	Vars    map[string]string
}

// ServeProc is a running `rolehop serve`.
type ServeProc struct {
	Routes []ServeRoute

	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	err    error // cmd.Wait's error, once done is closed
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var hexToken = regexp.MustCompile(`^[0-9a-f]{64}$`)

// startServe starts `rolehop ARGS…` (a serve command) in the background and
// waits until it has printed routes blocks and logged as many "serving"
// lines. The process is killed at the end of the test if still running.
func startServe(t *testing.T, env *TestEnv, routes int, args ...string) *ServeProc {
	t.Helper()
	bin := requireRolehop(t)
	ctx, cancel := context.WithCancel(context.Background())
	s := &ServeProc{cmd: env.Command(ctx, bin, args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting rolehop %s: %v", shellQuote(args), err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		cancel() // kills the process group if still running
		<-s.done
	})

	// stdout and stderr arrive through separate pipes: wait for both.
	ready := func() bool {
		out := s.stdout.String()
		return strings.Count(s.stderr.String(), "rolehop: serving ") >= routes &&
			strings.Count(out, "export AWS_CONTAINER_AUTHORIZATION_TOKEN") >= routes && strings.HasSuffix(out, "\n")
	}
	deadline := time.After(20 * time.Second)
	for !ready() {
		select {
		case <-s.done:
			t.Fatalf("rolehop %s exited before serving: %v\n--- stdout:\n%s\n--- stderr:\n%s", shellQuote(args), s.err, s.stdout, s.stderr)
		case <-deadline:
			t.Fatalf("rolehop %s did not start serving within 20 s\n--- stdout:\n%s\n--- stderr:\n%s", shellQuote(args), s.stdout, s.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Logf("$ rolehop %s & → serving; stderr: %s", shellQuote(args), strings.TrimSpace(s.stderr.String()))
	s.Routes = parseServeOutput(t, s.stdout.String())
	if len(s.Routes) != routes {
		t.Fatalf("rolehop %s printed %d blocks, want %d:\n%s", shellQuote(args), len(s.Routes), routes, s.stdout)
	}
	return s
}

// parseServeOutput parses the sh-format lines of `rolehop serve`: an
// optional "# profile NAME" line opens each block, then "unset …" and
// "export NAME='VALUE'" lines.
func parseServeOutput(t *testing.T, out string) []ServeRoute {
	t.Helper()
	var routes []ServeRoute
	var cur *ServeRoute
	open := func(profile string) {
		routes = append(routes, ServeRoute{Profile: profile, Vars: map[string]string{}})
		cur = &routes[len(routes)-1]
	}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "# profile "):
			open(strings.TrimPrefix(line, "# profile "))
		case strings.HasPrefix(line, "unset "):
			if cur == nil || len(cur.Vars) > 0 {
				open("")
			}
		case strings.HasPrefix(line, "export "):
			k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			if !ok || len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' || strings.Contains(v[1:len(v)-1], "'") {
				t.Fatalf("unexpected export line %q in:\n%s", line, out)
			}
			if cur == nil {
				open("")
			}
			cur.Vars[k] = v[1 : len(v)-1]
		case strings.TrimSpace(line) == "":
		default:
			t.Fatalf("unexpected line %q in serve output:\n%s", line, out)
		}
	}
	for i := range routes {
		r := &routes[i]
		r.URL, r.Token = r.Vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"], r.Vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
		if f := r.Vars["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]; f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatalf("block %d: token file: %v", i+1, err)
			}
			r.Token = string(b)
		}
		u, err := url.Parse(r.URL)
		if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" || !strings.HasPrefix(u.Path, "/v1/credentials/") {
			t.Fatalf("block %d: AWS_CONTAINER_CREDENTIALS_FULL_URI %q is not http://127.0.0.1:PORT/v1/credentials/PROFILE", i+1, r.URL)
		}
		if name := strings.TrimPrefix(u.Path, "/v1/credentials/"); r.Profile == "" {
			r.Profile = name
		} else if name != r.Profile {
			t.Errorf("block %q serves path %s", r.Profile, u.Path)
		}
		if !hexToken.MatchString(r.Token) {
			t.Fatalf("block %d: AWS_CONTAINER_AUTHORIZATION_TOKEN %q is not 64 hex digits", i+1, r.Token)
		}
	}
	return routes
}

// Stderr is what the server logged so far.
func (s *ServeProc) Stderr() string { return s.stderr.String() }

// Stdout is what the server printed.
func (s *ServeProc) Stdout() string { return s.stdout.String() }

// Stop sends SIGINT and asserts a clean exit (code 0) within 10 s.
func (s *ServeProc) Stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Errorf("SIGINT: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
		t.Fatalf("rolehop serve did not exit within 10 s of SIGINT\n--- stderr:\n%s", s.Stderr())
	}
	if code, sig := exitStatus(s.cmd, s.err); code != 0 {
		t.Errorf("rolehop serve exited with code %d (signal %v) after SIGINT, want 0\n--- stderr:\n%s", code, sig, s.Stderr())
	}
}

// ContainerEnv is the two variables a consumer needs.
func (r ServeRoute) ContainerEnv() []string {
	return []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + r.URL, "AWS_CONTAINER_AUTHORIZATION_TOKEN=" + r.Token}
}

// endpointCreds is a successful answer of the endpoint.
type endpointCreds struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	Token           string
	Expiration      string
	RoleArn         string
}

// endpointError is an error answer of the endpoint.
type endpointError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

var endpointClient = &http.Client{Timeout: 5 * time.Second}

// getEndpoint GETs url with `Authorization: token` (none when token is "").
func getEndpoint(rawURL, token string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := endpointClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// fetchCreds GETs a route's credentials and checks the answer is complete
// and not expired at the moment it arrived.
func fetchCreds(r ServeRoute) (endpointCreds, error) {
	status, body, err := getEndpoint(r.URL, r.Token)
	received := time.Now()
	if err != nil {
		return endpointCreds{}, err
	}
	if status != http.StatusOK {
		return endpointCreds{}, fmt.Errorf("HTTP %d: %s", status, body)
	}
	var c endpointCreds
	if err := json.Unmarshal(body, &c); err != nil {
		return c, fmt.Errorf("answer is not JSON (%v): %.200s", err, body)
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" || c.Token == "" {
		return c, fmt.Errorf("answer lacks AccessKeyId, SecretAccessKey or Token (key %q)", c.AccessKeyID)
	}
	exp, err := time.Parse(time.RFC3339, c.Expiration)
	if err != nil {
		return c, fmt.Errorf("Expiration %q: %v", c.Expiration, err)
	}
	if !exp.After(received) {
		return c, fmt.Errorf("Expiration %s is not in the future (answer received at %s)", c.Expiration, received.UTC().Format(time.RFC3339Nano))
	}
	return c, nil
}

// stsVia is an STS client through the test's proxy (so calls are recorded)
// with the given credentials provider.
func stsVia(env *TestEnv, prov aws.CredentialsProvider) *sts.Client {
	return sts.New(sts.Options{
		Region:       "us-east-1",
		Credentials:  aws.NewCredentialsCache(prov),
		BaseEndpoint: aws.String(env.Proxy.URL),
	})
}

// sdkCallerARN calls GetCallerIdentity through the proxy with prov.
func sdkCallerARN(env *TestEnv, prov aws.CredentialsProvider) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := stsVia(env, prov).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Arn), nil
}

// endpointProvider is aws-sdk-go-v2's container-credentials provider for r.
func endpointProvider(r ServeRoute) aws.CredentialsProvider {
	return endpointcreds.New(r.URL, func(o *endpointcreds.Options) { o.AuthorizationToken = r.Token })
}

// lastSignedBy asserts that the last recorded call of action was signed
// with key.
func lastSignedBy(t *testing.T, env *TestEnv, action, key, who string) {
	t.Helper()
	calls := env.Proxy.Calls(action)
	if len(calls) == 0 || calls[len(calls)-1].AccessKeyID != key || key == "" {
		t.Errorf("%s's %s was not signed with the served key %q:\n%s", who, action, key, callList(env.Proxy.Calls("")))
	}
}

// TestServeAWSCLIAndGoSDK: `rolehop serve prod` in the background; the AWS
// CLI with only the two container variables, the printed lines eval'd in a
// shell full of conflicting variables, and aws-sdk-go-v2's endpointcreds
// provider all run as prod; SIGINT stops the server with exit 0.
func TestServeAWSCLIAndGoSDK(t *testing.T) {
	t.Parallel()
	env, seed := newChainEnv(t)
	srv := startServe(t, env, 1, "serve", "prod")
	r := srv.Routes[0]
	if r.Profile != "prod" || r.Vars["AWS_REGION"] != "us-east-1" {
		t.Errorf("block: profile %q, AWS_REGION %q; want prod, us-east-1", r.Profile, r.Vars["AWS_REGION"])
	}
	if out := srv.Stdout(); !strings.HasPrefix(out, "unset ") || !strings.Contains(strings.SplitN(out, "\n", 2)[0], " AWS_ACCESS_KEY_ID") ||
		!strings.Contains(strings.SplitN(out, "\n", 2)[0], " AWS_PROFILE") {
		t.Errorf("stdout does not start by unsetting AWS_ACCESS_KEY_ID and AWS_PROFILE:\n%s", out)
	}
	if !strings.Contains(srv.Stderr(), "rolehop: serving prod at "+r.URL) {
		t.Errorf("stderr does not log the URL:\n%s", srv.Stderr())
	}
	served := checkChainCalls(t, env, seed)

	// (a) The real AWS CLI with only the container variables: no config,
	// no credentials file.
	empty := env.WriteFile("empty/config", "")
	arn := callerARN(t, env, append(r.ContainerEnv(), "AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty)...)
	want := assumedARN(prodAccount, "prod", "alice")
	if arn != want {
		t.Errorf("aws CLI via the endpoint ran as %q, want %q", arn, want)
	}
	lastSignedBy(t, env, "GetCallerIdentity", served, "the AWS CLI")

	// (a') What the user does: eval the printed lines in a shell whose
	// environment would otherwise win (env keys, AWS_PROFILE=dev).
	res := env.RunCmdWith(t, []string{
		"AWS_ACCESS_KEY_ID=" + seed.CIUser.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + seed.CIUser.SecretAccessKey,
		"AWS_PROFILE=dev", "SERVE_LINES=" + srv.Stdout(),
	}, shBin, "-c", `eval "$SERVE_LINES" && exec "$0" sts get-caller-identity --output json`, awsBin)
	if res.Code != 0 {
		t.Fatalf("eval'd serve lines + aws sts get-caller-identity: %s", res)
	}
	if got := parseIdentity(t, res.Stdout).Arn; got != want {
		t.Errorf("after eval of the serve lines the AWS CLI ran as %q, want %q", got, want)
	}
	lastSignedBy(t, env, "GetCallerIdentity", served, "the eval'd shell's AWS CLI")

	// (b) aws-sdk-go-v2's container provider as a real client.
	arn, err := sdkCallerARN(env, endpointProvider(r))
	if err != nil {
		t.Fatalf("aws-sdk-go-v2 endpointcreds → GetCallerIdentity: %v", err)
	}
	if arn != want {
		t.Errorf("aws-sdk-go-v2 via the endpoint ran as %q, want %q", arn, want)
	}
	lastSignedBy(t, env, "GetCallerIdentity", served, "aws-sdk-go-v2")

	// The consumers assumed nothing themselves: the 2 calls are serve's.
	mustCalls(t, env.Proxy, "AssumeRole", 2)
	srv.Stop(t)
	assertNoSecrets(t, "serve stderr", srv.Stderr(), secretsOf(env))
}

// TestServeTokenFile: with --token-file the token is in a 0600 file
// without a newline (botocore and the Go SDK reject one), the lines name it
// in AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, and the AWS CLI reads it.
func TestServeTokenFile(t *testing.T) {
	t.Parallel()
	env, _ := newChainEnv(t)
	tokenFile := filepath.Join(env.Dir, "tokens", "serve-token")
	if err := os.MkdirAll(filepath.Dir(tokenFile), 0o700); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, env, 1, "serve", "prod", "--token-file", tokenFile)
	r := srv.Routes[0]
	if got := r.Vars["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]; got != tokenFile {
		t.Errorf("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = %q, want %q", got, tokenFile)
	}
	if v, ok := r.Vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"]; ok {
		t.Errorf("the token is also printed: AWS_CONTAINER_AUTHORIZATION_TOKEN=%.8s…", v)
	}
	if st, err := os.Stat(tokenFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode: %v (%v), want 0600", st.Mode(), err)
	}
	if strings.Contains(srv.Stdout(), r.Token) {
		t.Errorf("stdout holds the token itself")
	}
	res := env.RunCmdWith(t, []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + r.URL, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=" + tokenFile},
		awsBin, "sts", "get-caller-identity", "--output", "json")
	if res.Code != 0 {
		t.Fatalf("aws with the token file: %s", res)
	}
	if got, want := parseIdentity(t, res.Stdout).Arn, assumedARN(prodAccount, "prod", "alice"); got != want {
		t.Errorf("aws CLI via the token file ran as %q, want %q", got, want)
	}
	srv.Stop(t)
}

// TestServeCloudShellPattern (seed 000): in CloudShell the shell's container
// variables are the source of a profile with credential_source =
// EcsContainer. Here they point at `rolehop serve prod`; both the AWS CLI
// and rolehop (consuming its own endpoint) switch to the audit role with
// the served prod credentials.
func TestServeCloudShellPattern(t *testing.T) {
	t.Parallel()
	env, seed := newChainEnv(t)
	env.WriteConfig(chainConfig + `
	[profile admin]
	role_arn = ` + auditRoleARN + `
	credential_source = EcsContainer
	role_session_name = cloudshell
	`)
	srv := startServe(t, env, 1, "serve", "prod")
	served := checkChainCalls(t, env, seed)
	r := srv.Routes[0]
	env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", r.URL)
	env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", r.Token)
	want := assumedARN(prodAccount, "audit", "cloudshell")

	res := env.RunCmd(t, awsBin, "sts", "get-caller-identity", "--profile", "admin", "--output", "json")
	if res.Code != 0 {
		t.Fatalf("aws sts get-caller-identity --profile admin: %s", res)
	}
	if got := parseIdentity(t, res.Stdout).Arn; got != want {
		t.Errorf("aws --profile admin ran as %q, want %q", got, want)
	}
	calls := mustCalls(t, env.Proxy, "AssumeRole", 3)
	wantParam(t, calls[2], "RoleArn", auditRoleARN)
	if calls[2].AccessKeyID != served {
		t.Errorf("the AWS CLI's AssumeRole was signed with %q, want the served prod key %q", calls[2].AccessKeyID, served)
	}

	arn, res := execCallerARN(t, env, "admin")
	if arn != want {
		t.Errorf("rolehop exec admin ran as %q, want %q", arn, want)
	}
	calls = mustCalls(t, env.Proxy, "AssumeRole", 4)
	wantParam(t, calls[3], "RoleArn", auditRoleARN)
	if calls[3].AccessKeyID != served {
		t.Errorf("rolehop exec admin's AssumeRole was signed with %q, want the served prod key %q", calls[3].AccessKeyID, served)
	}
	srv.Stop(t)
	secrets := secretsOf(env)
	assertNoSecrets(t, "serve stderr", srv.Stderr(), secrets)
	assertNoSecrets(t, "exec stderr", res.Stderr, secrets)
}

// TestExecServer: `rolehop exec --server prod -- CMD`: the child has no
// keys, only the container variables, and runs as prod; the exit code
// propagates; the endpoint is gone once the child has exited.
func TestExecServer(t *testing.T) {
	t.Parallel()
	env, seed := newChainEnv(t)
	// Ambient keys in rolehop's environment must not reach the child.
	useEnvKeys(env, seed.CIUser)
	env.Set("AWS_SESSION_TOKEN", "ambient-session-token")
	env.Set("AWS_CREDENTIAL_EXPIRATION", "2099-01-01T00:00:00Z")

	const sep = "----- identity -----"
	res := env.Run(t, "exec", "--server", "prod", "--", shBin, "-c", `env; echo "`+sep+`"; exec "$0" sts get-caller-identity --output json`, awsBin)
	if res.Code != 0 {
		t.Fatalf("rolehop exec --server: %s", res)
	}
	envOut, idOut, ok := strings.Cut(res.Stdout, sep+"\n")
	if !ok {
		t.Fatalf("child output lacks the separator:\n%s", res.Stdout)
	}
	child := map[string]string{}
	for _, l := range strings.Split(envOut, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			child[k] = v
		}
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE"} {
		if v, ok := child[k]; ok {
			t.Errorf("child has %s=%.8s…", k, v)
		}
	}
	uri, token := child["AWS_CONTAINER_CREDENTIALS_FULL_URI"], child["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Path != "/v1/credentials/prod" {
		t.Errorf("child's AWS_CONTAINER_CREDENTIALS_FULL_URI = %q, want http://127.0.0.1:PORT/v1/credentials/prod", uri)
	}
	if !hexToken.MatchString(token) {
		t.Errorf("child's AWS_CONTAINER_AUTHORIZATION_TOKEN = %q, want 64 hex digits", token)
	}
	if child["AWS_REGION"] != "us-east-1" {
		t.Errorf("child's AWS_REGION = %q, want us-east-1", child["AWS_REGION"])
	}
	if got, want := parseIdentity(t, idOut).Arn, assumedARN(prodAccount, "prod", "alice"); got != want {
		t.Errorf("child ran as %q, want %q", got, want)
	}
	served := checkChainCalls(t, env, seed)
	lastSignedBy(t, env, "GetCallerIdentity", served, "the child's AWS CLI")
	assertNoSecrets(t, "stdout+stderr", res.Stdout+res.Stderr, secretsOf(env))

	// The endpoint stopped with the child.
	if u != nil && u.Host != "" {
		if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
			c.Close()
			// Something listens there: only acceptable if it is not
			// rolehop's endpoint any more (the port was reused).
			if status, _, err := getEndpoint(uri, token); err == nil && status == http.StatusOK {
				t.Errorf("the endpoint %s still serves credentials after the child exited", uri)
			}
		}
	}

	if res := env.Run(t, "exec", "--server", "prod", "--", shBin, "-c", "exit 7"); res.Code != 7 {
		t.Errorf("child exit 7: %s", res)
	}
}

// TestServeRefreshAcrossExpiry: with 4-second credentials the endpoint
// refreshes ahead of expiry, so clients never see a failure nor expired
// credentials over several lifetimes.
func TestServeRefreshAcrossExpiry(t *testing.T) {
	t.Parallel()
	const ttl = 4 * time.Second

	t.Run("serve", func(t *testing.T) {
		t.Parallel()
		env, _ := newChainEnv(t)
		env.Proxy.SetExpiration("AssumeRole", ttl)
		srv := startServe(t, env, 1, "serve", "prod", "--min-ttl", "1s")
		r := srv.Routes[0]
		want := assumedARN(prodAccount, "prod", "alice")

		var (
			fetches, identities int
			failures            []string
			keys                = map[string]bool{}
			latest              endpointCreds
		)
		fail := func(format string, args ...any) {
			failures = append(failures, time.Now().Format("15:04:05.000")+" "+fmt.Sprintf(format, args...))
		}
		start := time.Now()
		lastIdentity := time.Time{}
		for time.Since(start) < 14*time.Second {
			c, err := fetchCreds(r)
			fetches++
			if err != nil {
				fail("fetch %d: %v", fetches, err)
			} else {
				latest = c
				keys[c.AccessKeyID] = true
			}
			if latest.AccessKeyID != "" && time.Since(lastIdentity) >= 500*time.Millisecond {
				lastIdentity = time.Now()
				identities++
				arn, err := sdkCallerARN(env, credentials.NewStaticCredentialsProvider(latest.AccessKeyID, latest.SecretAccessKey, latest.Token))
				if err != nil {
					fail("GetCallerIdentity with %s: %v", latest.AccessKeyID, err)
				} else if arn != want {
					fail("GetCallerIdentity with %s: %s, want %s", latest.AccessKeyID, arn, want)
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		srv.Stop(t)
		t.Logf("%d fetches, %d GetCallerIdentity calls, %d distinct keys, %d AssumeRole calls", fetches, identities, len(keys), len(env.Proxy.Calls("AssumeRole")))
		if len(failures) > 0 {
			t.Errorf("%d of %d fetches/identity calls failed:\n  %s\n--- serve stderr:\n%s", len(failures), fetches+identities, strings.Join(failures, "\n  "), srv.Stderr())
		}
		if len(keys) < 3 {
			t.Errorf("saw %d distinct AccessKeyIds over 14 s of 4-second credentials, want at least 3", len(keys))
		}
		if n := strings.Count(srv.Stderr(), "refreshed"); n < 2 {
			t.Errorf("stderr has %d \"refreshed\" lines, want at least 2:\n%s", n, srv.Stderr())
		}
		assertNoSecrets(t, "serve stderr", srv.Stderr(), secretsOf(env))
	})

	t.Run("exec --server", func(t *testing.T) {
		t.Parallel()
		env, _ := newChainEnv(t)
		env.Proxy.SetExpiration("AssumeRole", ttl)
		// One AWS CLI call every ~2.5 s over ~10 s: each one fetches the
		// endpoint, which must have refreshed in between.
		const runs = 4
		script := `i=0
while [ $i -lt ` + fmt.Sprint(runs) + ` ]; do
	i=$((i+1))
	[ $i -gt 1 ] && sleep 2
	"$0" sts get-caller-identity --query Arn --output text || exit 90
done`
		res := env.Run(t, "exec", "--server", "prod", "--min-ttl", "1s", "--", shBin, "-c", script, awsBin)
		if res.Code != 0 {
			t.Fatalf("child loop of aws sts get-caller-identity: %s", res)
		}
		lines := strings.Fields(res.Stdout)
		want := assumedARN(prodAccount, "prod", "alice")
		if len(lines) != runs {
			t.Fatalf("%d identities, want %d:\n%s", len(lines), runs, res.Stdout)
		}
		for i, l := range lines {
			if l != want {
				t.Errorf("call %d ran as %q, want %q", i+1, l, want)
			}
		}
		signed := map[string]bool{}
		for _, c := range env.Proxy.Calls("GetCallerIdentity") {
			signed[c.AccessKeyID] = true
		}
		if len(signed) < 2 {
			t.Errorf("the child's %d calls over ~%s were signed with %d distinct keys, want at least 2 (a refresh):\n%s",
				runs, res.Duration.Round(time.Second), len(signed), callList(env.Proxy.Calls("")))
		}
		if !strings.Contains(res.Stderr, "refreshed") {
			t.Errorf("stderr has no \"refreshed\" line:\n%s", res.Stderr)
		}
		assertNoSecrets(t, "stderr", res.Stderr, secretsOf(env))
	})
}

// TestServeSourceGone: when STS refuses every later AssumeRole
// (ExpiredToken: the source is gone), the endpoint keeps serving the
// current credentials until they expire, then answers 503
// CredentialsUnavailable naming the failure; stderr says the refresh failed
// and holds no secret.
func TestServeSourceGone(t *testing.T) {
	t.Parallel()
	env, _ := newChainEnv(t)
	env.Proxy.SetExpiration("AssumeRole", 4*time.Second)
	srv := startServe(t, env, 1, "serve", "prod", "--min-ttl", "1s")
	r := srv.Routes[0]
	env.Proxy.InjectExpiredToken("AssumeRole", 1<<20)

	var (
		lastOK   endpointCreds
		lastExp  time.Time
		errBody  []byte
		gone     time.Time
		deadline = time.Now().Add(15 * time.Second)
		// stale counts 200 answers whose Expiration had already passed
		// when they arrived (botocore rejects those: "refreshed
		// credentials are still expired").
		stale      int
		staleFirst string
	)
	for time.Now().Before(deadline) {
		status, body, err := getEndpoint(r.URL, r.Token)
		received := time.Now()
		if err != nil {
			t.Fatalf("GET %s: %v", r.URL, err)
		}
		if status == http.StatusOK {
			if !gone.IsZero() {
				t.Fatalf("HTTP 200 again after a 503: %s", body)
			}
			if err := json.Unmarshal(body, &lastOK); err != nil {
				t.Fatalf("answer is not JSON: %v", err)
			}
			if lastExp, err = time.Parse(time.RFC3339, lastOK.Expiration); err != nil {
				t.Fatalf("Expiration %q: %v", lastOK.Expiration, err)
			}
			if !lastExp.After(received) {
				stale++
				if staleFirst == "" {
					staleFirst = fmt.Sprintf("Expiration %s served at %s", lastOK.Expiration, received.UTC().Format(time.RFC3339Nano))
				}
			}
		} else {
			if status != http.StatusServiceUnavailable {
				t.Fatalf("HTTP %d, want 200 or 503: %s", status, body)
			}
			if lastOK.AccessKeyID == "" {
				t.Fatalf("503 before any credentials were served: %s", body)
			}
			if received.Before(lastExp) {
				t.Errorf("503 at %s, before the served credentials expired (%s)", received.UTC().Format(time.RFC3339Nano), lastOK.Expiration)
			}
			if gone.IsZero() {
				gone, errBody = received, body
			}
			if received.Sub(gone) > time.Second {
				break // still 503 a second later
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if stale > 0 {
		t.Errorf("%d answers (HTTP 200) carried an Expiration already in the past, first: %s — an answer must expire in the future; 503 is due once the Expiration it shows has passed",
			stale, staleFirst)
	}
	if gone.IsZero() {
		t.Fatalf("no 503 within 15 s of the source going away (last Expiration %s)\n--- stderr:\n%s", lastOK.Expiration, srv.Stderr())
	}
	if late := gone.Sub(lastExp); late > 3*time.Second {
		t.Errorf("503 came %s after the credentials expired, want at most 3 s", late)
	}
	t.Logf("503 %s, %s after the last served Expiration", errBody, gone.Sub(lastExp).Round(time.Millisecond))
	var e endpointError
	if err := json.Unmarshal(errBody, &e); err != nil {
		t.Fatalf("503 body is not JSON: %v: %s", err, errBody)
	}
	if e.Code != "CredentialsUnavailable" {
		t.Errorf("503 code %q, want CredentialsUnavailable: %s", e.Code, errBody)
	}
	if low := strings.ToLower(e.Message); !strings.Contains(low, "expiredtoken") && !strings.Contains(low, "expired") {
		t.Errorf("503 message does not name the failure (ExpiredToken): %q", e.Message)
	}
	srv.Stop(t)
	stderr := srv.Stderr()
	if !strings.Contains(stderr, "refresh failed") {
		t.Errorf("stderr does not say the refresh failed:\n%s", stderr)
	}
	secrets := secretsOf(env)
	assertNoSecrets(t, "serve stderr", stderr, secrets)
	assertNoSecrets(t, "503 body", string(errBody), secrets)
}

// TestServeMultipleProfiles: `rolehop serve dev prod` prints one block per
// profile; each token opens only its own path; identities are dev and prod.
func TestServeMultipleProfiles(t *testing.T) {
	t.Parallel()
	env, _ := newChainEnv(t)
	srv := startServe(t, env, 2, "serve", "dev", "prod")
	dev, prod := srv.Routes[0], srv.Routes[1]
	if dev.Profile != "dev" || prod.Profile != "prod" {
		t.Fatalf("blocks for %q and %q, want dev and prod:\n%s", dev.Profile, prod.Profile, srv.Stdout())
	}
	if !strings.HasSuffix(dev.URL, "/v1/credentials/dev") || !strings.HasSuffix(prod.URL, "/v1/credentials/prod") {
		t.Errorf("URLs %s and %s", dev.URL, prod.URL)
	}
	if dev.Token == prod.Token {
		t.Errorf("both profiles have the same token")
	}
	nope := ServeRoute{Profile: "nope", URL: strings.TrimSuffix(dev.URL, "/dev") + "/nope"}
	for _, tc := range []struct {
		route ServeRoute
		token string
		want  int
	}{
		{dev, dev.Token, http.StatusOK},
		{prod, prod.Token, http.StatusOK},
		{dev, prod.Token, http.StatusUnauthorized},
		{prod, dev.Token, http.StatusUnauthorized},
		{prod, "", http.StatusUnauthorized},
		// Without a token an unknown profile looks like a served one
		// (audit finding 7); a token holder is told it does not exist.
		{nope, "", http.StatusUnauthorized},
		{nope, dev.Token, http.StatusNotFound},
	} {
		status, body, err := getEndpoint(tc.route.URL, tc.token)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.route.URL, err)
		}
		if status != tc.want {
			t.Errorf("GET %s with %s's token: HTTP %d, want %d", tc.route.Profile, tokenOwner(tc.token, dev, prod), status, tc.want)
		}
		if status != http.StatusOK && bytes.Contains(body, []byte("SecretAccessKey")) {
			t.Errorf("a %d answer holds credentials: %s", status, body)
		}
	}
	for _, tc := range []struct {
		route ServeRoute
		want  string
	}{
		{dev, "arn:aws:sts::" + devAccount + ":assumed-role/dev/"},
		{prod, assumedARN(prodAccount, "prod", "alice")},
	} {
		arn, err := sdkCallerARN(env, endpointProvider(tc.route))
		if err != nil {
			t.Fatalf("%s: GetCallerIdentity via the endpoint: %v", tc.route.Profile, err)
		}
		if !strings.HasPrefix(arn, tc.want) {
			t.Errorf("%s runs as %q, want %s…", tc.route.Profile, arn, tc.want)
		}
	}
	srv.Stop(t)
	assertNoSecrets(t, "serve stderr", srv.Stderr(), secretsOf(env))
}

func tokenOwner(token string, routes ...ServeRoute) string {
	for _, r := range routes {
		if r.Token == token {
			return r.Profile
		}
	}
	return "no"
}

// TestServeStartupFailures: serve fails fast, with one line on stderr and
// nothing on stdout, when it cannot serve.
func TestServeStartupFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		setup     func(env *TestEnv)
		args      []string
		code      int
		fragments []string
	}{
		{name: "unknown profile", args: []string{"serve", "nosuchprofile"}, code: 2, fragments: []string{"nosuchprofile"}},
		{name: "non-loopback address", args: []string{"serve", "prod", "--addr", "0.0.0.0:0"}, code: 2, fragments: []string{"loopback"}},
		{
			name:      "STS refuses",
			setup:     func(env *TestEnv) { env.Proxy.InjectAccessDenied(10, ciUserARN, devRoleARN) },
			args:      []string{"serve", "prod"},
			code:      1,
			fragments: []string{devRoleARN},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env, _ := newChainEnv(t)
			if tc.setup != nil {
				tc.setup(env)
			}
			res := env.Run(t, tc.args...)
			wantCLIError(t, env, res, tc.code, tc.fragments...)
			if res.Stdout != "" {
				t.Errorf("stdout not empty: %q", res.Stdout)
			}
			if res.TimedOut || res.Duration > 10*time.Second {
				t.Errorf("took %s, want a quick failure", res.Duration)
			}
		})
	}
}
