package login

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/signin"

	"github.com/rolehop/rolehop/internal/winetest"
)

const testSession = "arn:aws:iam::111111111111:user/alice"

// writeSession writes a cache file as the AWS CLI does, expiring at exp,
// with a fresh DPoP key, into a new private directory; it returns the
// directory.
func writeSession(t *testing.T, exp time.Time) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	file := map[string]any{
		"accessToken": map[string]any{"accessKeyId": "ASIAOLD", "secretAccessKey": "old-secret", "sessionToken": "old-token",
			"accountId": "111111111111", "expiresAt": exp.UTC().Format(timeFormat)},
		"tokenType": "aws_sigv4", "clientId": "arn:aws:signin:::devtools/same-device", "refreshToken": "rt-old",
		"idToken": "id-token", "dpopKey": string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})), "unknown": 42,
	}
	b, err := json.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(winetest.TempDir(t), "cache")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName(testSession)), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tokenServer answers CreateOAuth2Token with answer, counting calls and
// keeping the last DPoP header.
type tokenServer struct {
	*httptest.Server
	calls  atomic.Int32
	mu     sync.Mutex
	dpop   string
	body   map[string]any
	answer func(w http.ResponseWriter)
}

func newTokenServer(t *testing.T, answer func(w http.ResponseWriter)) *tokenServer {
	s := &tokenServer{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.dpop = r.Header.Get("DPoP")
		_ = json.Unmarshal(b, &s.body)
		s.mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/v1/token" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		s.answer(w)
	}))
	t.Cleanup(s.Close)
	return s
}

// success answers with new credentials and a rotated refresh token, in the
// wire format of service/signin's response snapshot.
func success(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"accessToken":{"accessKeyId":"ASIANEW","secretAccessKey":"new-secret","sessionToken":"new-token"},"expiresIn":900,"idToken":"new-id","refreshToken":"rt-new","tokenType":"aws_sigv4"}`)
}

func denied(code string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"AccessDeniedException","error":%q,"message":"denied"}`, code)
	}
}

func options(srv *tokenServer) Options {
	return Options{Region: "us-east-1", Endpoint: srv.URL, LoginHint: "aws login --profile console",
		ClientOptions: []func(*signin.Options){func(o *signin.Options) { o.RetryMaxAttempts = 1 }}}
}

func readFile(t *testing.T, dir string) *Session {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, FileName(testSession)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestValidSessionNeedsNoNetwork(t *testing.T) {
	srv := newTokenServer(t, success)
	dir := writeSession(t, time.Now().Add(time.Hour))
	c, err := Credentials(context.Background(), dir, testSession, options(srv))
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != "ASIAOLD" || c.AccountID != "111111111111" || srv.calls.Load() != 0 {
		t.Errorf("credentials %s, account %s, %d calls; want the cached ones and no call", c.AccessKeyID, c.AccountID, srv.calls.Load())
	}
}

func TestRefresh(t *testing.T) {
	srv := newTokenServer(t, success)
	dir := writeSession(t, time.Now().Add(2*time.Minute)) // inside the 5-minute window
	before := time.Now()
	c, err := Credentials(context.Background(), dir, testSession, options(srv))
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != "ASIANEW" || c.SecretAccessKey != "new-secret" || c.AccountID != "111111111111" {
		t.Errorf("credentials %+v", c)
	}
	if d := c.Expires.Sub(before); d < 899*time.Second || d > 902*time.Second {
		t.Errorf("expires in %s, want about 900s", d)
	}
	s := readFile(t, dir)
	if s.AccessKeyID != "ASIANEW" || s.RefreshToken != "rt-new" || s.AccountID != "111111111111" {
		t.Errorf("file after refresh: %+v", s)
	}
	var raw map[string]json.RawMessage
	b, _ := os.ReadFile(filepath.Join(dir, FileName(testSession)))
	_ = json.Unmarshal(b, &raw)
	if string(raw["unknown"]) != "42" || string(raw["idToken"]) != `"id-token"` {
		t.Errorf("fields rolehop does not know were not kept: %s", b)
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(filepath.Join(dir, FileName(testSession))); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v", fi.Mode().Perm())
		}
	}
	t.Run("the temp copy is removed", func(t *testing.T) {
		winetest.SkipNoPOSIXDelete(t) // refresh removes it through os.Root
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp-") {
				t.Errorf("a temp copy was left: %s", e.Name())
			}
		}
	})
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.body["grantType"] != "refresh_token" || srv.body["refreshToken"] != "rt-old" || srv.body["clientId"] != "arn:aws:signin:::devtools/same-device" {
		t.Errorf("request body %v", srv.body)
	}
	parts := strings.Split(srv.dpop, ".")
	if len(parts) != 3 {
		t.Fatalf("DPoP header %q is not a JWT", srv.dpop)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct{ Htm, Htu string }
	if json.Unmarshal(payload, &claims) != nil || claims.Htm != "POST" || claims.Htu != srv.URL+"/v1/token" {
		t.Errorf("DPoP claims %s", payload)
	}
}

// TestRefreshForMinTTL: a chain that needs more validity than the refresh
// window (--min-ttl) gets a refreshed session.
func TestRefreshForMinTTL(t *testing.T) {
	srv := newTokenServer(t, success)
	dir := writeSession(t, time.Now().Add(20*time.Minute))
	o := options(srv)
	if c, err := Credentials(context.Background(), dir, testSession, o); err != nil || c.AccessKeyID != "ASIAOLD" {
		t.Fatalf("with the default window: %s, %v", c.AccessKeyID, err)
	}
	o.MinTTL = 30 * time.Minute
	if c, err := Credentials(context.Background(), dir, testSession, o); err != nil || c.AccessKeyID != "ASIANEW" || srv.calls.Load() != 1 {
		t.Errorf("with --min-ttl 30m: %s, %v, %d calls; want a refresh", c.AccessKeyID, err, srv.calls.Load())
	}
}

// TestRefreshOnce: processes (here goroutines, each with its own lock
// file handle, as flock sees processes) that find the session expired
// together refresh it once; the others wait and read the new file.
func TestRefreshOnce(t *testing.T) {
	srv := newTokenServer(t, func(w http.ResponseWriter) { time.Sleep(50 * time.Millisecond); success(w) })
	dir := writeSession(t, time.Now().Add(-time.Minute))
	var wg sync.WaitGroup
	keys := make(chan string, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Credentials(context.Background(), dir, testSession, options(srv))
			if err != nil {
				t.Error(err)
				return
			}
			keys <- c.AccessKeyID
		}()
	}
	wg.Wait()
	close(keys)
	for k := range keys {
		if k != "ASIANEW" {
			t.Errorf("a process got %s", k)
		}
	}
	if n := srv.calls.Load(); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
}

func TestRefreshFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter)
		login  bool // ErrLoginNeeded
		want   []string
	}{
		{"token expired", denied("TOKEN_EXPIRED"), true, []string{"session has ended", "run `aws login --profile console`"}},
		{"password changed", denied("USER_CREDENTIALS_CHANGED"), true, []string{"password changed", "aws login --profile console"}},
		{"no permission", denied("INSUFFICIENT_PERMISSIONS"), false, []string{"signin:CreateOAuth2Token"}},
		{"server error", func(w http.ResponseWriter) { http.Error(w, "boom", http.StatusInternalServerError) }, false, []string{"AWS Sign-In"}},
		{"html page", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>Sign in to the proxy</body></html>")
		}, false, nil},
		{"200 without credentials", func(w http.ResponseWriter) { w.Header().Set("Content-Type", "application/json"); fmt.Fprint(w, `{}`) }, false, []string{"without new credentials"}},
		{"clock skew", func(w http.ResponseWriter) {
			w.Header().Set("Date", time.Now().Add(2*time.Hour).UTC().Format(http.TimeFormat))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"ValidationException","error":"invalid_request","message":"invalid DPoP proof"}`)
		}, false, []string{"clock is 2h0m0s off", "NTP"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTokenServer(t, tc.answer)
			dir := writeSession(t, time.Now().Add(-time.Minute))
			before, _ := os.ReadFile(filepath.Join(dir, FileName(testSession)))
			_, err := Credentials(context.Background(), dir, testSession, options(srv))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			t.Log(msg)
			if strings.Contains(msg, "\n") || strings.Contains(msg, "old-secret") || strings.Contains(msg, "rt-old") || strings.Contains(msg, "BEGIN EC") {
				t.Errorf("error is not one secret-free line: %q", msg)
			}
			if errors.Is(err, ErrLoginNeeded) != tc.login {
				t.Errorf("ErrLoginNeeded = %v, want %v: %s", errors.Is(err, ErrLoginNeeded), tc.login, msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if after, _ := os.ReadFile(filepath.Join(dir, FileName(testSession))); string(after) != string(before) {
				t.Error("a failed refresh changed the session file")
			}
		})
	}
}

func TestNoSession(t *testing.T) {
	srv := newTokenServer(t, success)
	for name, dir := range map[string]string{"no directory": filepath.Join(winetest.TempDir(t), "none"), "no file": winetest.TempDir(t)} {
		_, err := Credentials(context.Background(), dir, testSession, options(srv))
		if !errors.Is(err, ErrLoginNeeded) || !strings.Contains(err.Error(), "run `aws login --profile console`") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	dir := writeSession(t, time.Now().Add(time.Hour))
	if err := os.WriteFile(filepath.Join(dir, FileName(testSession)), []byte(`{"accessToken":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Credentials(context.Background(), dir, testSession, options(srv))
	if err == nil || !strings.Contains(err.Error(), "lacks accessToken.accessKeyId") || !strings.Contains(err.Error(), "to replace it") {
		t.Errorf("a file without fields: %v", err)
	}
	if runtime.GOOS != "windows" {
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		_, err = Credentials(context.Background(), dir, testSession, options(srv))
		if err == nil || !strings.Contains(err.Error(), "writable by every user") {
			t.Errorf("a cache every user may write: %v", err)
		}
	}
}
