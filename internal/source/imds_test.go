package source

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/winetest"
)

// imdsServer is an IMDSv2 endpoint as the SDK expects it: PUT
// /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds hands out a
// token; the credential paths answer only requests carrying it. With
// v1Only it refuses tokens (403), as an IMDSv1-only emulator does.
type imdsServer struct {
	*httptest.Server
	v1Only bool

	mu       sync.Mutex
	puts     int
	ttls     []string
	tokened  int // GETs with the token
	tokenles int // GETs without it
}

const imdsToken = "imds-session-token-0001"

func newIMDSServer(t *testing.T, v1Only bool) *imdsServer {
	t.Helper()
	s := &imdsServer{v1Only: v1Only}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *imdsServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == "/latest/api/token" {
		s.puts++
		s.ttls = append(s.ttls, r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
		switch {
		case s.v1Only:
			w.WriteHeader(http.StatusForbidden)
		case r.Method != http.MethodPut:
			w.WriteHeader(http.StatusMethodNotAllowed)
		case r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "":
			w.WriteHeader(http.StatusBadRequest)
		default:
			w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
			_, _ = w.Write([]byte(imdsToken))
		}
		return
	}
	if r.Header.Get("X-aws-ec2-metadata-token") != imdsToken {
		s.tokenles++
		if !s.v1Only {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	} else {
		s.tokened++
	}
	switch r.URL.Path {
	case "/latest/meta-data/iam/security-credentials/":
		_, _ = w.Write([]byte("imds-role"))
	case "/latest/meta-data/iam/security-credentials/imds-role":
		exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		_, _ = w.Write([]byte(`{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAIMDS000000000001","SecretAccessKey":"isecret","Token":"itoken","Expiration":"` + exp + `"}`))
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (s *imdsServer) counts() (puts, tokened, tokenless int, ttls []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.puts, s.tokened, s.tokenles, append([]string(nil), s.ttls...)
}

// TestIMDSv2 reads credentials through the IMDSv2 token flow from the
// endpoint the plan resolved.
func TestIMDSv2(t *testing.T) {
	srv := newIMDSServer(t, false)
	id, err := retrieve(t, plan.Source{Kind: plan.SourceIMDS, IMDSEndpoint: srv.URL})
	if err != nil || id != "ASIAIMDS000000000001" {
		t.Fatalf("got %q, %v", id, err)
	}
	puts, tokened, tokenless, ttls := srv.counts()
	if puts != 1 || tokened != 2 || tokenless != 0 || ttls[0] == "" {
		t.Errorf("token PUTs %d (ttl %q), GETs with token %d, without %d; want 1, 2, 0", puts, ttls, tokened, tokenless)
	}
}

// TestIMDSv2Only: an endpoint that refuses the token (an IMDSv1-only
// emulator, or a container on EC2 whose hop limit drops the answer) is an
// error that says why; rolehop never falls back to tokenless IMDSv1 GETs,
// although the SDK's default would.
func TestIMDSv2Only(t *testing.T) {
	srv := newIMDSServer(t, true)
	_, err := retrieve(t, plan.Source{Kind: plan.SourceIMDS, IMDSEndpoint: srv.URL})
	if err == nil || !strings.Contains(err.Error(), "IMDSv2 only") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want a one-line error about IMDSv2", err)
	}
	if _, _, tokenless, _ := srv.counts(); tokenless != 0 {
		t.Errorf("%d IMDSv1 (tokenless) requests, want none", tokenless)
	}
}

// TestIMDSIgnoresProcessEnvironment: the plan decides the endpoint and
// whether instance metadata is allowed; the SDK client must not re-read
// AWS_EC2_METADATA_SERVICE_ENDPOINT or AWS_EC2_METADATA_DISABLED from the
// process (a library caller's Getenv, or a plan made for another
// environment, would otherwise be overruled).
func TestIMDSIgnoresProcessEnvironment(t *testing.T) {
	srv := newIMDSServer(t, false)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	id, err := retrieve(t, plan.Source{Kind: plan.SourceIMDS, IMDSEndpoint: srv.URL})
	if err != nil || id != "ASIAIMDS000000000001" {
		t.Fatalf("got %q, %v", id, err)
	}
}

// TestIMDSErrorNamesEndpoint: the "no credentials" message of an ambient
// instance metadata source says which endpoint was asked.
func TestIMDSErrorNamesEndpoint(t *testing.T) {
	srv := newIMDSServer(t, false)
	srv.Close()
	src := plan.Source{Kind: plan.SourceIMDS, IMDSEndpoint: srv.URL, Tried: []string{"environment (AWS_ACCESS_KEY_ID not set)"}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := New(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Retrieve(ctx)
	if err == nil || !strings.Contains(err.Error(), "no AWS credentials found") || !strings.Contains(err.Error(), "instance metadata (IMDSv2) at "+srv.URL) {
		t.Fatalf("err = %v", err)
	}
	// A refused connection gets no IMDSv2 hint, a timeout does. Windows
	// can take a second or more to refuse a connection to a closed loopback
	// port (it retries the SYN after the reset), longer than the SDK's
	// 250 ms IMDS dial timeout: there this may be a timeout.
	timedOut := strings.Contains(err.Error(), "i/o timeout")
	if strings.Contains(err.Error(), "hop limit") != timedOut {
		t.Fatalf("err = %v; want the hop limit hint only after a timeout", err)
	}
}

// TestContainerTokenFileReadEachTime: the token file is read on every
// fetch, as aws-sdk-go-v2 and botocore do, so a rotated token (EKS Pod
// Identity rotates it) is picked up without a restart.
func TestContainerTokenFileReadEachTime(t *testing.T) {
	var mu sync.Mutex
	want := "token-1"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") != want {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"code":"Unauthorized","message":"bad token"}`))
			return
		}
		_, _ = w.Write([]byte(validBody()))
	}))
	t.Cleanup(srv.Close)
	file := filepath.Join(winetest.TempDir(t), "token")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("token-1")
	p, err := New(plan.Source{Kind: plan.SourceContainer, ContainerURL: srv.URL, ContainerTokenFile: file, ContainerToken: "token-1"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Retrieve(context.Background()); err != nil {
		t.Fatalf("first fetch: %v", err)
	}
	mu.Lock()
	want = "token-2"
	mu.Unlock()
	write("token-2")
	if _, err := p.Retrieve(context.Background()); err != nil {
		t.Fatalf("fetch after the token file rotated: %v", err)
	}
}
