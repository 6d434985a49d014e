package chain

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/cache"
	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/source"
	"github.com/rolehop/rolehop/internal/winetest"
)

// jwt is a token with the given claims (header and signature are not
// looked at).
func jwt(t *testing.T, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","kid":"1"}`)) + "." + enc(b) + "." + enc([]byte("sig"))
}

// githubClaims are a GitHub Actions token's claims for main of org/app,
// issued at iat; edit changes them.
func githubClaims(iat int64, edit func(map[string]any)) map[string]any {
	c := map[string]any{
		"iss": "https://token.actions.githubusercontent.com", "aud": "sts.amazonaws.com",
		"sub": "repo:org/app:ref:refs/heads/main", "repository": "org/app", "ref": "refs/heads/main",
		"job_workflow_ref": "org/app/.github/workflows/deploy.yml@refs/heads/main", "environment": "prod", "run_id": "42",
		"iat": iat, "nbf": iat, "exp": iat + 300, "jti": fmt.Sprint("jti-", iat),
	}
	if edit != nil {
		edit(c)
	}
	return c
}

// webIdentPlan is a web identity (role dev) with one hop (role prod).
func webIdentPlan() *plan.Plan {
	return &plan.Plan{
		Source: plan.Source{Kind: plan.SourceWebIdent, WebIdentityRole: plan.Setting{Value: "arn:aws:iam::111111111111:role/dev"},
			WebIdentityTokenFile: plan.Setting{Value: "/run/token"}, WebIdentitySessionName: plan.Setting{Value: "runner-1"}},
		Hops: []plan.Hop{
			{RoleARN: plan.Setting{Value: "arn:aws:iam::222222222222:role/prod"}, SessionName: plan.Setting{Value: "runner-1"}, DurationSeconds: 3600, Chained: true},
		},
		STSRegion: "us-east-1",
	}
}

func keysFor(t *testing.T, claims map[string]any) []string {
	t.Helper()
	h, err := source.ClaimsHash([]byte(jwt(t, claims)))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, st := range StepsWith(webIdentPlan(), RunFacts{WebIdentityClaims: h}) {
		keys = append(keys, st.Key)
	}
	return keys
}

func TestWebIdentityKeysFollowTokenClaims(t *testing.T) {
	const iat = 1_800_000_000
	base := keysFor(t, githubClaims(iat, nil))
	if len(base) != 2 {
		t.Fatalf("%d steps, want web identity and hop", len(base))
	}
	for _, tc := range []struct {
		name string
		edit func(map[string]any)
		same bool
	}{
		{"pull request subject", func(c map[string]any) { c["sub"] = "repo:org/app:pull_request" }, false},
		{"other ref", func(c map[string]any) { c["ref"] = "refs/heads/feature" }, false},
		{"other repository", func(c map[string]any) { c["repository"] = "org/fork" }, false},
		{"other workflow", func(c map[string]any) { c["job_workflow_ref"] = "org/app/.github/workflows/pr.yml@refs/heads/main" }, false},
		{"other environment", func(c map[string]any) { c["environment"] = "dev" }, false},
		{"no environment", func(c map[string]any) { delete(c, "environment") }, false},
		{"other run", func(c map[string]any) { c["run_id"] = "43" }, false},
		{"other issuer", func(c map[string]any) { c["iss"] = "https://gitlab.example.com" }, false},
		{"other audience", func(c map[string]any) { c["aud"] = []string{"sts.amazonaws.com", "other"} }, false},
		{"new iat, nbf, exp, jti", func(c map[string]any) {
			c["iat"], c["nbf"], c["exp"], c["jti"] = iat+600, iat+600, iat+900, "another"
		}, true},
		{"no exp, iat, nbf, jti", func(c map[string]any) {
			for _, k := range []string{"exp", "iat", "nbf", "jti"} {
				delete(c, k)
			}
		}, true},
	} {
		got := keysFor(t, githubClaims(iat, tc.edit))
		for i := range got {
			if (got[i] == base[i]) != tc.same {
				t.Errorf("%s: step %d key equal to main's: %v, want %v", tc.name, i, got[i] == base[i], tc.same)
			}
		}
	}
}

func TestLineage(t *testing.T) {
	sso := func() *plan.Plan {
		p := basePlan()
		p.Source = plan.Source{Kind: plan.SourceSSO, Profile: "sso-dev", SSO: &plan.SSO{Session: "corp", StartURL: "https://corp.awsapps.com/start",
			Region: "us-east-1", AccountID: "111111111111", RoleName: "Developer"}}
		return p
	}
	withMFASession := func(p *plan.Plan) *plan.Plan {
		p.Hops[1].SerialNumber.Value = "arn:aws:iam::111111111111:mfa/alice"
		p.Hops[1].MFA.Via = plan.MFAViaSession
		p.MFASessionSeconds = plan.MFASessionSeconds
		return p
	}
	origin := Steps(webIdentPlan())[0].Key
	for _, tc := range []struct {
		name        string
		p           *plan.Plan
		steps       int
		sso, origin string
	}{
		{"SSO, two hops", sso(), 3, "corp", ""},
		{"SSO, MFA session, two hops", withMFASession(sso()), 4, "corp", ""},
		{"web identity, one hop", webIdentPlan(), 2, "", origin},
		{"keys, two hops", basePlan(), 2, "", ""},
	} {
		steps := StepsWith(tc.p, RunFacts{WebIdentityClaims: "c1aa"})
		if len(steps) != tc.steps {
			t.Fatalf("%s: %d steps, want %d", tc.name, len(steps), tc.steps)
		}
		for i, st := range steps {
			if st.Meta.SSO != tc.sso || st.Meta.Origin != tc.origin {
				t.Errorf("%s: step %d (%s): SSO %q Origin %q, want %q %q", tc.name, i, st.Meta.Kind, st.Meta.SSO, st.Meta.Origin, tc.sso, tc.origin)
			}
		}
	}
	// The origin is the claim-less key, which no entry has once claims are known.
	if k := StepsWith(webIdentPlan(), RunFacts{WebIdentityClaims: "c1aa"})[0].Key; k == origin {
		t.Error("the web identity step's key does not hold the token's claims")
	}
}

// webIdentSTS answers AssumeRoleWithWebIdentity and AssumeRole and records
// the tokens it was sent.
type webIdentSTS struct {
	mu     sync.Mutex
	tokens []string
	calls  map[string]int
}

func (f *webIdentSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	action := form.Get("Action")
	f.mu.Lock()
	f.calls[action]++
	n := f.calls[action]
	if action == "AssumeRoleWithWebIdentity" {
		f.tokens = append(f.tokens, form.Get("WebIdentityToken"))
	}
	f.mu.Unlock()
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%[1]sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><%[1]sResult>
<Credentials><AccessKeyId>ASIA%[1]s%[2]d</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>%[3]s</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::111111111111:assumed-role/r/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
</%[1]sResult></%[1]sResponse>`, action, n, exp)
}

// TestBuildStepsKeysWebIdentityByToken runs a web identity and a hop behind
// the on-disk cache with tokens of two identities: a token whose claims
// have no entry goes to STS, a new token of a cached identity does not;
// the token STS gets is the one read for the key, even if the file
// changes in between; without the cache the token is not read up front.
func TestBuildStepsKeysWebIdentityByToken(t *testing.T) {
	f := &webIdentSTS{calls: map[string]int{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	dir := winetest.TempDir(t)
	tokenFile := filepath.Join(dir, "token")
	p := webIdentPlan()
	p.Source.WebIdentityTokenFile.Value = tokenFile
	p.STSEndpoint = plan.Setting{Value: srv.URL}
	store := cache.Open(filepath.Join(dir, "cache"))
	opts := Options{HTTPClient: srv.Client(), Store: store}
	write := func(tok string) {
		t.Helper()
		if err := os.WriteFile(tokenFile, []byte(tok), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(what string, wantWebIdent, wantHops int) {
		t.Helper()
		prov, err := Build(p, opts)
		if err != nil {
			t.Fatalf("%s: Build: %v", what, err)
		}
		if _, err := prov.Retrieve(context.Background()); err != nil {
			t.Fatalf("%s: Retrieve: %v", what, err)
		}
		if f.calls["AssumeRoleWithWebIdentity"] != wantWebIdent || f.calls["AssumeRole"] != wantHops {
			t.Errorf("%s: calls %v, want %d AssumeRoleWithWebIdentity and %d AssumeRole in all", what, f.calls, wantWebIdent, wantHops)
		}
	}
	const iat = 1_800_000_000
	main := jwt(t, githubClaims(iat, nil))
	pr := jwt(t, githubClaims(iat, func(c map[string]any) { c["sub"] = "repo:org/app:pull_request" }))
	mainAgain := jwt(t, githubClaims(iat+60, nil))

	write(main)
	run("token of main", 1, 1)
	write(pr)
	run("token of a pull request", 2, 2)
	write(mainAgain)
	run("new token of main", 2, 2)
	if f.tokens[0] != main || f.tokens[1] != pr {
		t.Errorf("STS got other tokens than the files held")
	}
	entries, _ := store.List()
	if len(entries) != 4 {
		t.Errorf("%d cache entries, want 4", len(entries))
	}
	origin := Steps(p)[0].Key
	for _, e := range entries {
		if e.Meta.Origin != origin {
			t.Errorf("entry %s (%s) has Origin %q, want %q", e.Key, e.Meta.Kind, e.Meta.Origin, origin)
		}
	}

	// The token read for the key is the token sent. (An empty cache in a
	// new directory, not store.Clear: this is not a test of deleting, which
	// Wine 8.0 cannot do through os.Root.)
	opts.Store = cache.Open(filepath.Join(dir, "cache2"))
	write(pr)
	prov, err := Build(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	write(main)
	if _, err := prov.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.tokens[len(f.tokens)-1]; got != pr {
		t.Errorf("STS got the token written after Build, want the one read for the key")
	}

	// Not a JWT: a one-line error at Build that does not quote the token;
	// without the cache, nothing is read before STS is called.
	const opaque = "opaque-secret-token-value"
	write(opaque)
	_, err = Build(p, opts)
	if err == nil || strings.Contains(err.Error(), opaque) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "not a JWT") {
		t.Errorf("Build with an opaque token: %v", err)
	}
	if _, err := Build(p, Options{HTTPClient: srv.Client()}); err != nil {
		t.Errorf("Build without the cache read the token: %v", err)
	}
}
