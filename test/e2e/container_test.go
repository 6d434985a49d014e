//go:build unix

package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c.URL = srv.URL + containerCredsPath
	return c
}

// Requests is how many requests the endpoint received (any token).
func (c *ContainerEndpoint) Requests() int64 { return c.requests.Load() }

// Unauthorized is how many requests presented a wrong token.
func (c *ContainerEndpoint) Unauthorized() int64 { return c.unauthorized.Load() }
