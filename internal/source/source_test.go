package source

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/winetest"
)

// containerEndpoint serves body to requests carrying token, like the ECS /
// CloudShell endpoint; anything else gets 401.
func containerEndpoint(t testing.TB, token string, body func() string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != token {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"code":"Unauthorized","message":"bad token"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body()))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func validBody() string {
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	return `{"AccessKeyId":"ASIACONTAINER0000001","SecretAccessKey":"csecret","Token":"ctoken","Expiration":"` + exp + `","Code":"Success"}`
}

func retrieve(t *testing.T, src plan.Source) (string, error) {
	t.Helper()
	p, err := New(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Retrieve(context.Background())
	return c.AccessKeyID, err
}

func TestContainer(t *testing.T) {
	srv, _ := containerEndpoint(t, "tok-123", validBody)
	dir := winetest.TempDir(t)
	goodFile := filepath.Join(dir, "token")
	newlineFile := filepath.Join(dir, "token-nl")
	if err := os.WriteFile(goodFile, []byte("tok-123"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(newlineFile, []byte("tok-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		src  plan.Source
		want string // error fragment, "" for success
	}{
		{"token", plan.Source{ContainerToken: "tok-123"}, ""},
		{"token file", plan.Source{ContainerTokenFile: goodFile}, ""},
		{"token file wins over token", plan.Source{ContainerTokenFile: goodFile, ContainerToken: "stale"}, ""},
		{"wrong token", plan.Source{ContainerToken: "wrong"}, "Unauthorized"},
		{"token file with a trailing newline", plan.Source{ContainerTokenFile: newlineFile}, "line break"},
		{"missing token file", plan.Source{ContainerTokenFile: filepath.Join(dir, "nope")}, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.src.Kind, tc.src.ContainerURL = plan.SourceContainer, srv.URL+"/creds"
			id, err := retrieve(t, tc.src)
			if tc.want == "" {
				if err != nil || id != "ASIACONTAINER0000001" {
					t.Fatalf("got %q, %v", id, err)
				}
				return
			}
			var se *Error
			if err == nil || !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want *Error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "csecret") || strings.Contains(err.Error(), "tok-123") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestContainerRejectsUnusableCredentials(t *testing.T) {
	past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	for body, want := range map[string]string{
		`{"SecretAccessKey":"s","Token":"t"}`: "no AccessKeyId",
		`{"AccessKeyId":"ASIA1","Token":"t"}`: "no SecretAccessKey",
		`{}`:                                  "no AccessKeyId and no SecretAccessKey",
		`{"AccessKeyId":"ASIA1","SecretAccessKey":"s","Expiration":"` + past + `"}`: "expired at",
		`not json`: "container credentials endpoint",
	} {
		body := body
		srv, _ := containerEndpoint(t, "t", func() string { return body })
		_, err := retrieve(t, plan.Source{Kind: plan.SourceContainer, ContainerURL: srv.URL, ContainerToken: "t"})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("body %s: err = %v, want %q", body, err, want)
		}
	}
}

func TestProcess(t *testing.T) {
	dir := winetest.TempDir(t)
	script := processScript(t, dir, "creds", `{"Version":1,"AccessKeyId":"AKIAPROCESS000000001","SecretAccessKey":"psecret"}`, "", 0)
	id, err := retrieve(t, plan.Source{Kind: plan.SourceProcess, Profile: "p", Command: script})
	if err != nil || id != "AKIAPROCESS000000001" {
		t.Fatalf("got %q, %v", id, err)
	}
	failing := processScript(t, dir, "fail", "", "sso expired", 3)
	_, err = retrieve(t, plan.Source{Kind: plan.SourceProcess, Profile: "p", Command: failing})
	if err == nil || !strings.Contains(err.Error(), `credential_process of profile "p"`) {
		t.Errorf("err = %v", err)
	}
}

func TestStatic(t *testing.T) {
	id, err := retrieve(t, plan.Source{Kind: plan.SourceEnv, AccessKeyID: "AKIAENV", SecretAccessKey: "s"})
	if err != nil || id != "AKIAENV" {
		t.Fatalf("got %q, %v", id, err)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
