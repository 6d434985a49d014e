//go:build unix

package e2e

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// githubOIDC is a test GitHub Actions OIDC token endpoint (what
// ACTIONS_ID_TOKEN_REQUEST_URL points at): it answers fakeJWT to the right
// bearer request token, audience sts.amazonaws.com and api-version 2.0, and
// a 401 otherwise.
type githubOIDC struct {
	URL, RequestToken string
	asked, refused    atomic.Int32
}

func newGitHubOIDC(t *testing.T, requestToken string) *githubOIDC {
	t.Helper()
	o := &githubOIDC{RequestToken: requestToken}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.asked.Add(1)
		q := r.URL.Query()
		if r.Header.Get("Authorization") != "bearer "+o.RequestToken || q.Get("audience") != "sts.amazonaws.com" || q.Get("api-version") != "2.0" {
			o.refused.Add(1)
			http.Error(w, `{"message":"bad request token"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"count":1,"value":"` + fakeJWT + `"}`))
	}))
	t.Cleanup(srv.Close)
	o.URL = srv.URL + "/_apis/distributedtask/token?api-version=2.0"
	return o
}
