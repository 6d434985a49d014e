//go:build unix

package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// imdsRole is the instance profile role name the test IMDS serves.
const imdsRole = "rolehop-e2e-instance-role"

// IMDSServer is a local EC2 instance metadata service speaking IMDSv2 as
// aws-sdk-go-v2 and botocore expect it, on a loopback address and a
// non-default port (as IAM Roles Anywhere's `aws_signing_helper serve`
// does): PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds
// (1–21600) hands out a session token; GET
// /latest/meta-data/iam/security-credentials/ and …/<role> answer only
// requests carrying a live token in X-aws-ec2-metadata-token (401
// otherwise). With AllowV1, tokenless GETs are served too and token PUTs
// are refused with 403, as an IMDSv1-only emulator does.
type IMDSServer struct {
	// URL is the endpoint, for AWS_EC2_METADATA_SERVICE_ENDPOINT.
	URL  string
	Keys Keys

	allowV1 bool

	mu           sync.Mutex
	tokens       map[string]time.Time
	tokenPuts    int
	ttls         []int
	credGets     int // credential GETs answered
	unauthorized int // GETs without a live token
	tokenless    int // GETs without any token
}

// newIMDSServer starts an IMDSv2 server on addr ("127.0.0.1:0", "[::1]:0")
// serving keys.
func newIMDSServer(t *testing.T, addr string, keys Keys, allowV1 bool) *IMDSServer {
	t.Helper()
	s := &IMDSServer{Keys: keys, allowV1: allowV1, tokens: map[string]time.Time{}}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("IMDS test server: listen on %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *IMDSServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == "/latest/api/token" {
		s.tokenPuts++
		ttl, err := strconv.Atoi(r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
		switch {
		case r.Method != http.MethodPut:
			w.WriteHeader(http.StatusMethodNotAllowed)
		case s.allowV1:
			w.WriteHeader(http.StatusForbidden)
		case r.Header.Get("X-Forwarded-For") != "":
			// EC2 refuses token requests that went through a proxy.
			w.WriteHeader(http.StatusForbidden)
		case err != nil || ttl < 1 || ttl > 21600:
			w.WriteHeader(http.StatusBadRequest)
		default:
			s.ttls = append(s.ttls, ttl)
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			tok := hex.EncodeToString(b)
			s.tokens[tok] = time.Now().Add(time.Duration(ttl) * time.Second)
			w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", strconv.Itoa(ttl))
			_, _ = w.Write([]byte(tok))
		}
		return
	}
	if r.Method != http.MethodGet {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	tok := r.Header.Get("X-aws-ec2-metadata-token")
	if tok == "" {
		s.tokenless++
	}
	if exp, ok := s.tokens[tok]; (!ok || time.Now().After(exp)) && !(s.allowV1 && tok == "") {
		s.unauthorized++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	switch r.URL.Path {
	case "/latest/meta-data/iam/security-credentials/", "/latest/meta-data/iam/security-credentials":
		_, _ = w.Write([]byte(imdsRole))
	case "/latest/meta-data/iam/security-credentials/" + imdsRole:
		s.credGets++
		w.Header().Set("Content-Type", "text/plain")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"Code":            "Success",
			"LastUpdated":     time.Now().UTC().Format(time.RFC3339),
			"Type":            "AWS-HMAC",
			"AccessKeyId":     s.Keys.AccessKeyID,
			"SecretAccessKey": s.Keys.SecretAccessKey,
			"Token":           s.Keys.SessionToken,
			"Expiration":      s.Keys.Expiration.UTC().Format(time.RFC3339),
		})
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// IMDSCounts is what an IMDSServer saw.
type IMDSCounts struct {
	TokenPuts, CredGets, Unauthorized, Tokenless int
	TTLs                                         []int
}

// Counts returns what the server saw so far.
func (s *IMDSServer) Counts() IMDSCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return IMDSCounts{s.tokenPuts, s.credGets, s.unauthorized, s.tokenless, append([]int(nil), s.ttls...)}
}

// wantIMDSv2 asserts that the client used the IMDSv2 flow only: a token
// first, credentials read with it, no tokenless request.
func (s *IMDSServer) wantIMDSv2(t *testing.T) {
	t.Helper()
	c := s.Counts()
	if c.TokenPuts == 0 || len(c.TTLs) == 0 || c.CredGets == 0 || c.Unauthorized != 0 || c.Tokenless != 0 {
		t.Errorf("IMDS saw %+v; want token PUTs with a TTL, credential GETs, no unauthorized or tokenless request", c)
	}
}

// newIMDSEnv is a test environment with instance metadata enabled and an
// IMDSv2 server on addr serving dev-role credentials minted at moto.
func newIMDSEnv(t *testing.T, addr string, allowV1 bool) (*TestEnv, *IMDSServer) {
	t.Helper()
	env := newTestEnv(t)
	seed := seedAccounts(t)
	env.Unset("AWS_EC2_METADATA_DISABLED")
	srv := newIMDSServer(t, addr, motoAssumeRole(t, seed.CIUser, devRoleARN, "imds"), allowV1)
	return env, srv
}

// ipv6Loopback skips the test when ::1 cannot be listened on.
func ipv6Loopback(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	l.Close()
}

// TestIMDSExec: `rolehop exec` gets its source credentials from an
// instance metadata endpoint named by the environment or a profile (how
// IAM Roles Anywhere's `aws_signing_helper serve` is used), alone and as
// the source of a role hop, and the AWS CLI child runs with them. The AWS
// CLI itself, given the same settings, finds the same credentials (the
// oracle for the settings' meaning and for the test server).
func TestIMDSExec(t *testing.T) {
	t.Parallel()
	imdsARN := assumedARN(devAccount, "dev", "imds")

	t.Run("endpoint from the environment", func(t *testing.T) {
		t.Parallel()
		env, srv := newIMDSEnv(t, "127.0.0.1:0", false)
		env.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
		arn, res := execCallerARN(t, env)
		if arn != imdsARN {
			t.Fatalf("child ran as %q, want %q", arn, imdsARN)
		}
		srv.wantIMDSv2(t)
		gci := env.Proxy.Calls("GetCallerIdentity")
		if len(gci) == 0 || gci[len(gci)-1].AccessKeyID != srv.Keys.AccessKeyID {
			t.Errorf("child's call not signed with the instance role key %s: %s", srv.Keys.AccessKeyID, callList(gci))
		}
		assertNoSecrets(t, "rolehop output", res.Stdout+res.Stderr, secretsOf(env, srv.Keys))
		if got := callerARN(t, env); got != imdsARN {
			t.Errorf("AWS CLI with the same environment ran as %q, want %q", got, imdsARN)
		}
	})

	t.Run("endpoint from a profile", func(t *testing.T) {
		t.Parallel()
		env, srv := newIMDSEnv(t, "127.0.0.1:0", false)
		env.WriteConfig("[profile roles-anywhere]\nregion = us-east-1\nec2_metadata_service_endpoint = " + srv.URL + "\n")
		// A mode in the environment does not outrank an endpoint (SDK rule):
		// with IPv6 mode winning, nothing would answer.
		env.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6")
		if arn, _ := execCallerARN(t, env, "roles-anywhere"); arn != imdsARN {
			t.Fatalf("child ran as %q, want %q", arn, imdsARN)
		}
		srv.wantIMDSv2(t)
		if got := callerARN(t, env, "AWS_PROFILE=roles-anywhere"); got != imdsARN {
			t.Errorf("AWS CLI with AWS_PROFILE=roles-anywhere ran as %q, want %q", got, imdsARN)
		}
	})

	t.Run("endpoint from the default profile, no profile named", func(t *testing.T) {
		t.Parallel()
		env, srv := newIMDSEnv(t, "127.0.0.1:0", false)
		env.WriteConfig("[default]\nregion = us-east-1\nec2_metadata_service_endpoint = " + srv.URL + "\n")
		if arn, _ := execCallerARN(t, env); arn != imdsARN {
			t.Fatalf("child ran as %q, want %q", arn, imdsARN)
		}
		srv.wantIMDSv2(t)
	})

	t.Run("source of a role hop", func(t *testing.T) {
		t.Parallel()
		env, srv := newIMDSEnv(t, "127.0.0.1:0", false)
		env.WriteConfig("[profile prod]\nrole_arn = " + prodRoleARN + "\ncredential_source = Ec2InstanceMetadata\nrole_session_name = via-imds\nec2_metadata_service_endpoint = " + srv.URL + "\n")
		arn, res := execCallerARN(t, env, "prod")
		if want := assumedARN(prodAccount, "prod", "via-imds"); arn != want {
			t.Fatalf("child ran as %q, want %q", arn, want)
		}
		call := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
		wantParam(t, call, "RoleArn", prodRoleARN)
		if call.AccessKeyID != srv.Keys.AccessKeyID {
			t.Errorf("AssumeRole signed with %q, want the instance role's %q", call.AccessKeyID, srv.Keys.AccessKeyID)
		}
		srv.wantIMDSv2(t)
		assertNoSecrets(t, "rolehop output", res.Stdout+res.Stderr, secretsOf(env, srv.Keys))
	})

	t.Run("ad hoc --role-arn from the endpoint in the environment", func(t *testing.T) {
		t.Parallel()
		env, srv := newIMDSEnv(t, "127.0.0.1:0", false)
		env.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL+"/")
		if arn, _ := execCallerARN(t, env, "--role-arn", prodRoleARN, "--role-session-name", "adhoc"); arn != assumedARN(prodAccount, "prod", "adhoc") {
			t.Fatalf("child ran as %q", arn)
		}
		if call := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]; call.AccessKeyID != srv.Keys.AccessKeyID {
			t.Errorf("AssumeRole signed with %q, want %q", call.AccessKeyID, srv.Keys.AccessKeyID)
		}
	})

	t.Run("IPv6 loopback endpoint", func(t *testing.T) {
		t.Parallel()
		ipv6Loopback(t)
		env, srv := newIMDSEnv(t, "[::1]:0", false)
		if !strings.HasPrefix(srv.URL, "http://[::1]:") {
			t.Fatalf("server URL %q", srv.URL)
		}
		env.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
		if arn, _ := execCallerARN(t, env); arn != imdsARN {
			t.Fatalf("child ran as %q, want %q", arn, imdsARN)
		}
		srv.wantIMDSv2(t)
	})

	t.Run("IMDSv2 only: no fallback to IMDSv1", func(t *testing.T) {
		t.Parallel()
		env, srv := newIMDSEnv(t, "127.0.0.1:0", true)
		env.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
		env.Set("AWS_EC2_METADATA_V1_DISABLED", "false")
		res := env.Run(t, "exec", "--", "true")
		wantCLIError(t, env, res, 1, "IMDSv2", srv.URL, "/latest/api/token")
		if c := srv.Counts(); c.Tokenless != 0 || c.CredGets != 0 {
			t.Errorf("rolehop fell back to IMDSv1: %+v", c)
		}
		// The AWS CLI does fall back (botocore's default): rolehop
		// differs on purpose.
		if got := callerARN(t, env); got != imdsARN {
			t.Errorf("AWS CLI ran as %q, want %q through IMDSv1", got, imdsARN)
		}
	})
}

// explainJSON runs `rolehop explain -o json ARGS…` and decodes the source.
func explainSource(t *testing.T, env *TestEnv, args ...string) map[string]any {
	t.Helper()
	res := env.Run(t, append([]string{"explain", "-o", "json"}, args...)...)
	if res.Code != 0 {
		t.Fatalf("rolehop explain: %s", res)
	}
	var p struct {
		Source map[string]any `json:"source"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &p); err != nil {
		t.Fatalf("explain json: %v\n%s", err, res.Stdout)
	}
	return p.Source
}

// TestIMDSExplain: `rolehop explain` (json and text) shows the instance
// metadata endpoint and the setting it came from, for every way to set it,
// without a network call; malformed settings are one-line usage errors.
func TestIMDSExplain(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		env      []string
		config   string
		args     []string
		endpoint string
		from     string
	}{
		{name: "default", endpoint: "http://169.254.169.254", from: "default: IPv4"},
		{name: "IPv6 mode from the environment", env: []string{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6"},
			endpoint: "http://[fd00:ec2::254]", from: "env AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE = IPv6"},
		{name: "IPv6 mode from a profile", config: "[profile v6]\nec2_metadata_service_endpoint_mode = ipv6\n", args: []string{"v6"},
			endpoint: "http://[fd00:ec2::254]", from: `ec2_metadata_service_endpoint_mode, profile "v6", `},
		{name: "IPv4 mode in the environment beats IPv6 in the profile", env: []string{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv4"},
			config: "[default]\nec2_metadata_service_endpoint_mode = IPv6\n", endpoint: "http://169.254.169.254", from: "env AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE = IPv4"},
		{name: "endpoint from the environment beats the profile's", env: []string{"AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9911"},
			config: "[default]\nec2_metadata_service_endpoint = http://127.0.0.1:1\n", endpoint: "http://127.0.0.1:9911", from: "env AWS_EC2_METADATA_SERVICE_ENDPOINT"},
		{name: "endpoint beats IPv6 mode", env: []string{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6"},
			config: "[default]\nec2_metadata_service_endpoint = http://[::1]:9911\n", endpoint: "http://[::1]:9911", from: `ec2_metadata_service_endpoint, profile "default", `},
		{name: "role profile with credential_source", config: "[profile r]\nrole_arn = " + prodRoleARN + "\ncredential_source = Ec2InstanceMetadata\nec2_metadata_service_endpoint = http://localhost:9911\n",
			args: []string{"r"}, endpoint: "http://localhost:9911", from: `ec2_metadata_service_endpoint, profile "r", `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			env.Unset("AWS_EC2_METADATA_DISABLED")
			for _, kv := range tc.env {
				k, v, _ := strings.Cut(kv, "=")
				env.Set(k, v)
			}
			if tc.config != "" {
				env.WriteConfig(tc.config)
			}
			src := explainSource(t, env, tc.args...)
			if src["kind"] != "instance-metadata" || src["imds_endpoint"] != tc.endpoint || !strings.Contains(src["imds_endpoint_from"].(string), tc.from) {
				t.Errorf("source %v; want endpoint %s from …%s…", src, tc.endpoint, tc.from)
			}
			res := env.Run(t, append([]string{"explain"}, tc.args...)...)
			if res.Code != 0 || !strings.Contains(res.Stdout, "endpoint") || !strings.Contains(res.Stdout, tc.endpoint) || !strings.Contains(res.Stdout, tc.from) {
				t.Errorf("explain text does not show the endpoint and its origin: %s", res)
			}
			mustCalls(t, env.Proxy, "", 0)
		})
	}

	for _, tc := range []struct {
		name   string
		env    []string
		config string
		args   []string
		want   []string
		cli    string // what the AWS CLI says with the same settings, "" to skip
	}{
		{name: "bad mode in the environment", env: []string{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv5"},
			want: []string{`AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE "IPv5" (env)`, "IPv4 or IPv6"}, cli: "Invalid EC2 Instance Metadata endpoint mode"},
		{name: "bad mode in a profile", config: "[profile p]\nregion = us-east-1\nec2_metadata_service_endpoint_mode = dualstack\n", args: []string{"p"},
			want: []string{`ec2_metadata_service_endpoint_mode "dualstack"`, `profile "p"`, ".aws/config:3", "IPv4 or IPv6"}},
		{name: "endpoint without a scheme", env: []string{"AWS_EC2_METADATA_SERVICE_ENDPOINT=127.0.0.1:9911"},
			want: []string{`AWS_EC2_METADATA_SERVICE_ENDPOINT "127.0.0.1:9911" (env)`, "http://HOST[:PORT]"}, cli: "Invalid endpoint EC2 Instance Metadata endpoint"},
		{name: "IPv6 endpoint without brackets", env: []string{"AWS_EC2_METADATA_SERVICE_ENDPOINT=http://fd00:ec2::254"},
			want: []string{"needs brackets", "http://[fd00:ec2::254]"}},
		{name: "endpoint with a path", config: "[default]\nec2_metadata_service_endpoint = http://127.0.0.1:9911/imds\n",
			want: []string{"ec2_metadata_service_endpoint", `profile "default"`, "has a path"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			env.Unset("AWS_EC2_METADATA_DISABLED")
			for _, kv := range tc.env {
				k, v, _ := strings.Cut(kv, "=")
				env.Set(k, v)
			}
			if tc.config != "" {
				env.WriteConfig(tc.config)
			}
			for _, cmd := range [][]string{{"explain"}, {"explain", "-o", "json"}, {"exec"}} {
				args := append(append(cmd, tc.args...), "--", "true")
				if cmd[0] == "explain" {
					args = append(cmd, tc.args...)
				}
				wantCLIError(t, env, env.Run(t, args...), 2, tc.want...)
			}
			if tc.cli != "" {
				res := env.RunCmdWith(t, []string{"AWS_ACCESS_KEY_ID=AKIAORACLE0000000001", "AWS_SECRET_ACCESS_KEY=oracle-secret"}, awsBin, "sts", "get-caller-identity")
				if res.Code == 0 || !strings.Contains(res.Stderr, tc.cli) {
					t.Errorf("AWS CLI with the same setting: %s; want it to refuse with %q", res, tc.cli)
				}
			}
			mustCalls(t, env.Proxy, "", 0)
		})
	}

	t.Run("bad setting while another source is used: a warning", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		seed := seedAccounts(t)
		useEnvKeys(env, seed.CIUser)
		env.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5")
		res := env.Run(t, "explain")
		if res.Code != 0 || !strings.Contains(res.Stderr+res.Stdout, `"IPv5"`) || !strings.Contains(res.Stderr+res.Stdout, "AWS CLI refuses") {
			t.Errorf("explain with env keys and a bad mode: %s", res)
		}
	})
}
