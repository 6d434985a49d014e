package sso

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/winetest"
)

func TestCachePathMatchesTheAWSCLI(t *testing.T) {
	// AWS-SEMANTICS §9: session "my-sso" → 0ad3…031c.json (CPython sha1).
	got := CachePath("/home/a", "my-sso")
	if want := filepath.FromSlash("/home/a/.aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json"); got != want {
		t.Errorf("CachePath = %s, want %s", got, want)
	}
}

func TestTokenRoundTripKeepsForeignFields(t *testing.T) {
	path := filepath.Join(winetest.TempDir(t), "t.json")
	cli := `{"startUrl": "https://corp.awsapps.com/start", "region": "us-east-1", "accessToken": "at-1", "expiresAt": "2030-01-02T03:04:05Z",
		"clientId": "cid", "clientSecret": "csec", "registrationExpiresAt": "2030-02-01T00:00:00Z", "refreshToken": "rt", "futureField": 7}`
	if err := os.WriteFile(path, []byte(cli), 0o600); err != nil {
		t.Fatal(err)
	}
	tok, err := ReadToken(path)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "at-1" || !tok.ExpiresAt.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) || !tok.canRefresh(time.Now()) {
		t.Fatalf("token = %+v", tok)
	}
	tok.AccessToken = "at-2"
	if err := tok.Write(path); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["accessToken"] != "at-2" || raw["futureField"] != float64(7) || raw["expiresAt"] != "2030-01-02T03:04:05Z" {
		t.Errorf("rewritten file: %s", b)
	}
	if st, _ := os.Stat(path); runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 { // Unix permission bits
		t.Errorf("mode %v", st.Mode().Perm())
	}
}

func TestAccessTokenNeedsLogin(t *testing.T) {
	home := winetest.TempDir(t)
	s := &plan.SSO{Session: "corp", StartURL: "https://x/start", Region: "us-east-1"}
	o := Options{Home: home, LoginHint: "rolehop login sso-dev"}
	_, err := AccessToken(context.Background(), s, o)
	if !errors.Is(err, ErrLoginNeeded) || !strings.Contains(err.Error(), "rolehop login sso-dev") {
		t.Fatalf("no token: err = %v", err)
	}
	// Expired, no refresh token.
	tok := &Token{StartURL: s.StartURL, Region: s.Region, AccessToken: "old", ExpiresAt: time.Now().Add(-time.Minute)}
	if err := tok.Write(CachePath(home, "corp")); err != nil {
		t.Fatal(err)
	}
	_, err = AccessToken(context.Background(), s, o)
	if !errors.Is(err, ErrLoginNeeded) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired: err = %v", err)
	}
	// Close to expiry but not refreshable: still usable.
	tok.ExpiresAt = time.Now().Add(5 * time.Minute)
	_ = tok.Write(CachePath(home, "corp"))
	if got, err := AccessToken(context.Background(), s, o); err != nil || got != "old" {
		t.Fatalf("near expiry: %q, %v", got, err)
	}
}

// TestAccessTokenTightensTheCache: a token cache that others could read
// (the AWS CLI creates ~/.aws/sso/cache with the umask's mode) is made
// private when rolehop uses it, and rolehop says so; a cache directory
// that others may write is refused and left as it is.
func TestAccessTokenTightensTheCache(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permission bits")
	}
	home := winetest.TempDir(t)
	s := &plan.SSO{Session: "corp", StartURL: "https://x/start", Region: "us-east-1"}
	path := CachePath(home, s.TokenKey())
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	tok := `{"startUrl":"https://x/start","region":"us-east-1","accessToken":"at-1","expiresAt":"2099-01-01T00:00:00Z"}`
	if err := os.WriteFile(path, []byte(tok), 0o644); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{filepath.Dir(path): 0o755, path: 0o644} { // whatever the umask
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	var notices []string
	o := Options{Home: home, Notice: func(f string, a ...any) { notices = append(notices, fmt.Sprintf(f, a...)) }}
	if at, err := AccessToken(context.Background(), s, o); err != nil || at != "at-1" {
		t.Fatalf("AccessToken = %q, %v", at, err)
	}
	for p, want := range map[string]os.FileMode{filepath.Dir(path): 0o700, path: 0o600} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %04o", p, st.Mode().Perm(), want)
		}
	}
	if len(notices) != 2 {
		t.Errorf("notices %q, want one for the directory and one for the file", notices)
	}

	if err := os.Chmod(filepath.Dir(path), 0o777); err != nil {
		t.Fatal(err)
	}
	_, err := AccessToken(context.Background(), s, o)
	if err == nil || !strings.Contains(err.Error(), "writable by every user") || errors.Is(err, ErrLoginNeeded) {
		t.Errorf("a cache directory every user may write: err = %v", err)
	}
	if st, _ := os.Stat(filepath.Dir(path)); st.Mode().Perm() != 0o777 {
		t.Errorf("a refused directory was changed to %v", st.Mode().Perm())
	}
}
