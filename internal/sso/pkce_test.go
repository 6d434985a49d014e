package sso

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/winetest"
)

// oidcServer is a minimal IAM Identity Center OIDC service for the
// authorization-code flow, speaking the restJson1 wire format the ssooidc
// client parses: RegisterClient (POST /client/register), the browser's GET
// /authorize, which redirects to the loopback redirect_uri with a code and
// the state, and CreateToken (POST /token), which checks the code, the
// redirect URI and the PKCE verifier.
type oidcServer struct {
	*httptest.Server
	deny string // /authorize redirects with this error instead of a code

	mu        sync.Mutex
	clients   map[string]string // clientId → clientSecret
	codes     map[string]authCode
	exchanges int // successful CreateToken calls
}

type authCode struct{ clientID, redirect, challenge string }

func newOIDCServer(t *testing.T) *oidcServer {
	s := &oidcServer{clients: map[string]string{}, codes: map[string]authCode{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *oidcServer) serve(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	str := func(k string) string { v, _ := body[k].(string); return v }
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/client/register":
		grants, _ := body["grantTypes"].([]any)
		redirects, _ := body["redirectUris"].([]any)
		if str("clientType") != "public" || len(grants) == 0 || grants[0] != "authorization_code" || len(redirects) != 1 {
			oidcError(w, http.StatusBadRequest, "InvalidClientMetadataException", "invalid_client_metadata")
			return
		}
		id, secret := randomString(22), randomString(40)
		s.clients[id] = secret
		writeJSON(w, map[string]any{"clientId": id, "clientSecret": secret,
			"clientIdIssuedAt": time.Now().Unix(), "clientSecretExpiresAt": time.Now().Add(90 * 24 * time.Hour).Unix()})
	case r.Method == http.MethodGet && r.URL.Path == "/authorize":
		q := r.URL.Query()
		back, err := url.Parse(q.Get("redirect_uri"))
		if _, ok := s.clients[q.Get("client_id")]; !ok || err != nil || back.Hostname() != "127.0.0.1" || q.Get("code_challenge_method") != "S256" {
			http.Error(w, "bad authorize request", http.StatusBadRequest)
			return
		}
		v := url.Values{"state": {q.Get("state")}}
		if s.deny != "" {
			v.Set("error", s.deny)
			v.Set("error_description", "The user\ndenied\x1b[31m access")
		} else {
			code := randomString(32)
			s.codes[code] = authCode{q.Get("client_id"), back.String(), q.Get("code_challenge")}
			v.Set("code", code)
		}
		back.RawQuery = v.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	case r.Method == http.MethodPost && r.URL.Path == "/token":
		c, ok := s.codes[str("code")]
		sum := sha256.Sum256([]byte(str("codeVerifier")))
		if secret, known := s.clients[str("clientId")]; !known || secret != str("clientSecret") {
			oidcError(w, http.StatusUnauthorized, "InvalidClientException", "invalid_client")
			return
		}
		if str("grantType") != "authorization_code" || !ok || c.clientID != str("clientId") || c.redirect != str("redirectUri") ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			oidcError(w, http.StatusBadRequest, "InvalidGrantException", "invalid_grant")
			return
		}
		delete(s.codes, str("code"))
		s.exchanges++
		writeJSON(w, map[string]any{"accessToken": "aoa-" + randomString(40), "tokenType": "Bearer", "expiresIn": 28800,
			"refreshToken": "aor-" + randomString(40)})
	default:
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// oidcError answers as the service does: the type in X-Amzn-ErrorType,
// the OAuth error code in the body.
func oidcError(w http.ResponseWriter, status int, errType, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", errType+":http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": code})
}

// hostile is a request to the callback port by someone who is not the
// browser coming back from /authorize.
type hostile struct {
	name  string
	path  string // with the query; STATE is replaced by this login's state
	allow int    // the status it must get
}

// Requests that must neither end the login nor learn anything from it.
var hostileRequests = []hostile{
	{"wrong state", "/oauth/callback?code=attacker-code&state=forged", http.StatusBadRequest},
	{"no state", "/oauth/callback?code=attacker-code", http.StatusBadRequest},
	{"empty state", "/oauth/callback?code=attacker-code&state=", http.StatusBadRequest},
	{"wrong state with an error", "/oauth/callback?error=access_denied&state=forged", http.StatusBadRequest},
	{"state one character short", "/oauth/callback?code=attacker-code&state=SHORTSTATE", http.StatusBadRequest},
	{"right path without code", "/oauth/callback", http.StatusBadRequest},
	{"right state, neither code nor error", "/oauth/callback?state=STATE", http.StatusBadRequest},
	{"other path", "/?code=attacker-code&state=STATE", http.StatusNotFound},
	{"callback prefix", "/oauth/callback/x?code=attacker-code&state=STATE", http.StatusNotFound},
}

// TestLoginPKCECallback (audit finding 8): anyone on the machine can reach
// the loopback callback port, so requests without this login's state, or
// to other paths, are refused and the login keeps waiting for the browser;
// the state never shows in a refusal. Only the authorization server's
// answer (the right state) ends the wait: with a code, or with an error.
func TestLoginPKCECallback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		hostile []hostile
		browse  bool          // the browser loads /authorize after the hostile requests
		deny    string        // /authorize answers with this error
		wait    time.Duration // the login's deadline
		wantErr string        // "" for success
	}{
		{name: "browser only", browse: true, wait: 30 * time.Second},
		{name: "hostile requests, then the browser", hostile: hostileRequests, browse: true, wait: 30 * time.Second},
		{name: "hostile requests and no browser", hostile: hostileRequests, wait: 500 * time.Millisecond,
			wantErr: "no answer from the browser: context deadline exceeded (use --use-device-code on machines without one)"},
		{name: "the server's error", hostile: hostileRequests[:2], browse: true, deny: "access_denied", wait: 30 * time.Second,
			wantErr: "sign-in to sso-session corp failed: access_denied The user denied[31m access"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newOIDCServer(t)
			srv.deny = tc.deny
			s := &plan.SSO{Session: "corp", StartURL: "https://corp.awsapps.com/start", Region: "us-east-1", OIDCEndpoint: srv.URL}
			var out bytes.Buffer
			var browsed []string // what the browser saw, for failures
			o := LoginOptions{Options: Options{Home: winetest.TempDir(t)}, Out: &out}
			// The browser: called once with the /authorize URL, while the
			// callback server listens. Hostile requests come first.
			o.OpenBrowser = func(authorize string) error {
				u, err := url.Parse(authorize)
				if err != nil {
					return err
				}
				state := u.Query().Get("state")
				back, err := url.Parse(u.Query().Get("redirect_uri"))
				if err != nil {
					return err
				}
				base := back.Scheme + "://" + back.Host
				for _, h := range tc.hostile {
					path := strings.ReplaceAll(h.path, "SHORTSTATE", state[:len(state)-1])
					path = strings.ReplaceAll(path, "STATE", url.QueryEscape(state))
					status, body := httpGet(t, base+path)
					browsed = append(browsed, fmt.Sprintf("%s → %d %q", h.name, status, body))
					if status != h.allow {
						t.Errorf("%s (GET %s): status %d, want %d: %q", h.name, path, status, h.allow, body)
					}
					if strings.Contains(body, state) {
						t.Errorf("%s: the refusal shows the state: %q", h.name, body)
					}
				}
				if tc.browse {
					status, body := httpGet(t, authorize)
					browsed = append(browsed, fmt.Sprintf("browser → %d %q", status, body))
					if want := http.StatusOK; tc.deny != "" {
						want = http.StatusBadRequest
						if status != want {
							t.Errorf("the callback answered the server's error with %d, want %d: %q", status, want, body)
						}
					} else if status != want {
						t.Errorf("the callback answered the browser with %d, want %d: %q", status, want, body)
					}
				}
				return nil
			}
			ctx, cancel := context.WithTimeout(context.Background(), tc.wait)
			defer cancel()
			tok, err := LoginPKCE(ctx, s, o)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("login failed: %v\nbrowser:\n%s", err, strings.Join(browsed, "\n"))
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
				t.Fatalf("login: err %v, want %q\nbrowser:\n%s", err, tc.wantErr, strings.Join(browsed, "\n"))
			case tc.wantErr != "":
				return
			}
			if !strings.HasPrefix(tok.AccessToken, "aoa-") || tok.RefreshToken == "" {
				t.Errorf("token %+v", tok)
			}
			if got, err := ReadToken(CachePath(o.Home, "corp")); err != nil || got.AccessToken != tok.AccessToken {
				t.Errorf("token cache: %+v, %v", got, err)
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if srv.exchanges != 1 {
				t.Errorf("%d code exchanges, want 1", srv.exchanges)
			}
		})
	}
}

// httpGet loads u as a browser does, following redirects (from /authorize
// to the callback).
func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Errorf("GET %s: %v", u, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
