//go:build unix

package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// containerCredsPath is the path AWS CloudShell serves its credentials on
// (http://localhost:1338/latest/meta-data/container/security-credentials).
const containerCredsPath = "/latest/meta-data/container/security-credentials"

// ContainerEndpoint is a test container credentials endpoint, like the ones
// of ECS and CloudShell: it requires `Authorization: <Token>` verbatim and
// serves Keys as JSON.
type ContainerEndpoint struct {
	// URL is the full credentials URL, suitable for
	// AWS_CONTAINER_CREDENTIALS_FULL_URI.
	URL   string
	Token string
	Keys  Keys

	requests     atomic.Int64
	unauthorized atomic.Int64
}

// newContainerEndpoint starts a container credentials endpoint on 127.0.0.1
// serving keys to callers presenting token.
func newContainerEndpoint(t testing.TB, token string, keys Keys) *ContainerEndpoint {
	t.Helper()
	return newContainerEndpointOn(t, "127.0.0.1:0", token, keys)
}

// newContainerEndpointOn is newContainerEndpoint listening on addr (e.g.
// "[::1]:0"); URL names the address it listens on.
func newContainerEndpointOn(t testing.TB, addr, token string, keys Keys) *ContainerEndpoint {
	t.Helper()
	c := &ContainerEndpoint{Token: token, Keys: keys}
	if c.Keys.Expiration.IsZero() {
		c.Keys.Expiration = time.Now().Add(time.Hour)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(containerCredsPath, func(w http.ResponseWriter, r *http.Request) {
		c.requests.Add(1)
		if r.Header.Get("Authorization") != c.Token {
			c.unauthorized.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"code":"Unauthorized","message":"invalid authorization token"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"Code":            "Success",
			"Type":            "AWS-HMAC",
			"AccessKeyId":     c.Keys.AccessKeyID,
			"SecretAccessKey": c.Keys.SecretAccessKey,
			"Token":           c.Keys.SessionToken,
			"Expiration":      c.Keys.Expiration.UTC().Format(time.RFC3339),
			"LastUpdated":     time.Now().UTC().Format(time.RFC3339),
		})
	})
	srv := httptest.NewUnstartedServer(mux)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("container endpoint: listen on %s: %v", addr, err)
	}
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	c.URL = srv.URL + containerCredsPath
	return c
}

// Requests is how many requests the endpoint received (any token).
func (c *ContainerEndpoint) Requests() int64 { return c.requests.Load() }

// Unauthorized is how many requests presented a wrong token.
func (c *ContainerEndpoint) Unauthorized() int64 { return c.unauthorized.Load() }

// TestContainerHosts: AWS_CONTAINER_CREDENTIALS_FULL_URI accepts what the
// SDKs accept. Loopback endpoints (127.0.0.1, localhost, [::1]) are
// reached for real and their credentials run the AWS CLI child; the
// ECS/EKS link-local hosts (169.254.170.2, 169.254.170.23, fd00:ec2::23)
// cannot be bound here, so their acceptance is shown by explain; https goes
// to any host; other plain-http hosts are a usage error.
func TestContainerHosts(t *testing.T) {
	t.Parallel()
	containerARN := assumedARN(devAccount, "dev", "container")
	for _, tc := range []struct {
		name, listen string
		url          func(port string) string
	}{
		{"127.0.0.1", "127.0.0.1:0", func(port string) string { return "http://127.0.0.1:" + port + containerCredsPath }},
		{"localhost", "127.0.0.1:0", func(port string) string { return "http://localhost:" + port + containerCredsPath }},
		{"[::1]", "[::1]:0", func(port string) string { return "http://[::1]:" + port + containerCredsPath }},
	} {
		t.Run("reached at "+tc.name, func(t *testing.T) {
			t.Parallel()
			if strings.HasPrefix(tc.listen, "[") {
				ipv6Loopback(t)
			}
			env := newTestEnv(t)
			seed := seedAccounts(t)
			ctr := newContainerEndpointOn(t, tc.listen, "eks-pod-identity-token", motoAssumeRole(t, seed.CIUser, devRoleARN, "container"))
			_, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.TrimSuffix(ctr.URL, containerCredsPath), "http://"))
			env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", tc.url(port))
			env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", env.WriteFile("token", ctr.Token))
			arn, res := execCallerARN(t, env)
			if arn != containerARN {
				t.Fatalf("child ran as %q, want %q", arn, containerARN)
			}
			if ctr.Requests() == 0 || ctr.Unauthorized() != 0 {
				t.Errorf("container endpoint: %d requests, %d unauthorized", ctr.Requests(), ctr.Unauthorized())
			}
			assertNoSecrets(t, "rolehop output", res.Stdout+res.Stderr, secretsOf(env, ctr.Keys))
		})
	}

	for _, url := range []string{
		"http://169.254.170.2/v2/credentials/abc",
		"http://169.254.170.23/v1/credentials",
		"http://[fd00:ec2::23]/v1/credentials",
		"https://credentials.example.com/creds",
	} {
		t.Run("accepted "+url, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", url)
			src := explainSource(t, env)
			if src["kind"] != "container" || src["container_url"] != url || src["container_url_from"] != "env AWS_CONTAINER_CREDENTIALS_FULL_URI" {
				t.Errorf("source %v", src)
			}
			mustCalls(t, env.Proxy, "", 0)
		})
	}

	for _, url := range []string{
		"http://169.254.170.3/v1/credentials",
		"http://[fd00:ec2::24]/v1/credentials",
		"http://169.254.169.254/latest/meta-data/iam/security-credentials/x",
		"http://credentials.example.com/creds",
		"http://localhost.example.com/creds",
	} {
		t.Run("refused "+url, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", url)
			for _, args := range [][]string{{"explain"}, {"exec", "--", "true"}} {
				wantCLIError(t, env, env.Run(t, args...), 2, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "(env)", "loopback", "169.254.170.23", "fd00:ec2::23", "https")
			}
			mustCalls(t, env.Proxy, "", 0)
		})
	}
}

// TestContainerTokenFileOutranksToken: with both set, the token file is
// what is sent, even when the variable holds the right token; a token file
// ending in a newline is refused, as by botocore and aws-sdk-go-v2.
func TestContainerTokenFileOutranksToken(t *testing.T) {
	t.Parallel()
	t.Run("wrong file, right variable: refused", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		seed := seedAccounts(t)
		ctr := newContainerEndpoint(t, "right-token-0123456789", motoAssumeRole(t, seed.CIUser, devRoleARN, "container"))
		env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", ctr.URL)
		env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", ctr.Token)
		env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", env.WriteFile("token", "stale-token-9876543210"))
		res := env.Run(t, "exec", "--", "true")
		wantCLIError(t, env, res, 1, "container credentials endpoint", "Unauthorized")
		for _, tok := range []string{ctr.Token, "stale-token-9876543210"} {
			if strings.Contains(res.Stderr, tok) {
				t.Errorf("stderr shows a token: %q", res.Stderr)
			}
		}
		if ctr.Unauthorized() == 0 || ctr.Unauthorized() != ctr.Requests() {
			t.Errorf("container endpoint: %d requests, %d unauthorized; want only the file's token", ctr.Requests(), ctr.Unauthorized())
		}
	})
	t.Run("token file with a trailing newline", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		seed := seedAccounts(t)
		ctr := newContainerEndpoint(t, "right-token-0123456789", motoAssumeRole(t, seed.CIUser, devRoleARN, "container"))
		env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", ctr.URL)
		env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", env.WriteFile("token", ctr.Token+"\n"))
		wantCLIError(t, env, env.Run(t, "exec", "--", "true"), 1, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "line break")
		if ctr.Requests() != 0 {
			t.Errorf("the endpoint got %d requests with a bad token", ctr.Requests())
		}
		// The AWS CLI refuses it too.
		if res := env.RunCmd(t, awsBin, "sts", "get-caller-identity"); res.Code == 0 {
			t.Errorf("AWS CLI accepted a token file ending in a newline: %s", res)
		}
	})
}
