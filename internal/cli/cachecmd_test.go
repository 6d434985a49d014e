package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rolehop/rolehop/internal/cache"
	"github.com/rolehop/rolehop/internal/chain"
	"github.com/rolehop/rolehop/internal/winetest"
)

// lineageConfig has a web identity (oidc) with two chains from it (deploy,
// audit), an IAM Identity Center session with a 2-hop chain (sso-dev →
// role-a → role-b), and access keys with a role (prod). The token file
// does not exist: clear and logout must not need it.
const lineageConfig = testConfig + `[profile oidc]
role_arn = arn:aws:iam::111111111111:role/dev
web_identity_token_file = /nonexistent/rolehop-test/token
role_session_name = runner-1
[profile deploy]
role_arn = arn:aws:iam::222222222222:role/prod
source_profile = oidc
[profile audit]
role_arn = arn:aws:iam::222222222222:role/audit
source_profile = oidc
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
[profile sso-dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Developer
[profile role-a]
role_arn = arn:aws:iam::111111111111:role/a
source_profile = sso-dev
[profile role-b]
role_arn = arn:aws:iam::222222222222:role/b
source_profile = role-a
`

// seedLineage caches every step of deploy and audit for the tokens of two
// identities, of role-b, and of prod, as a run of each would.
func seedLineage(t *testing.T, cacheDir string) {
	t.Helper()
	dir := winetest.TempDir(t)
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, []byte(lineageConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"HOME": dir, "AWS_CONFIG_FILE": cfg, "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"), "USER": "tester"}
	keepInside(vars, dir)
	sys := IO{Getenv: func(k string) string { return vars[k] }}
	store := cache.Open(cacheDir)
	creds := aws.Credentials{AccessKeyID: "ASIASEEDED", SecretAccessKey: "s", SessionToken: "t", CanExpire: true, Expires: time.Now().Add(time.Hour)}
	for _, seed := range []struct {
		profile string
		claims  []string
	}{{"deploy", []string{"main", "pull-request"}}, {"audit", []string{"main"}}, {"role-b", []string{""}}, {"prod", []string{""}}} {
		var o chainOptions
		p, err := o.resolve(sys, seed.profile)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range seed.claims {
			for _, st := range chain.StepsWith(p, chain.RunFacts{WebIdentityClaims: c}) {
				if err := store.Put(st.Key, st.Meta, creds); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

func TestCacheClearAndLogoutFindDerivedEntries(t *testing.T) {
	winetest.SkipNoPOSIXDelete(t) // the cache deletes entries through os.Root
	for _, tc := range []struct {
		args    []string
		notice  string
		remains []string // profiles of the entries left
	}{
		// 2 web identity entries (main's, shared by deploy and audit, and
		// the pull request's) and 3 hops, of any token, found without one.
		{[]string{"cache", "clear", "deploy"}, "removed 5 cached credential(s)", []string{"prod", "role-a", "role-b", "sso-dev"}},
		{[]string{"cache", "clear", "oidc"}, "removed 5 cached credential(s)", []string{"prod", "role-a", "role-b", "sso-dev"}},
		{[]string{"cache", "clear", "role-b"}, "removed 3 cached credential(s)", []string{"audit", "deploy", "deploy", "oidc", "oidc", "prod"}},
		{[]string{"logout", "--sso-session", "corp"}, "3 cached credential(s) removed", []string{"audit", "deploy", "deploy", "oidc", "oidc", "prod"}},
		{[]string{"logout", "role-b"}, "3 cached credential(s) removed", []string{"audit", "deploy", "deploy", "oidc", "oidc", "prod"}},
	} {
		cacheDir := winetest.TempDir(t)
		seedLineage(t, cacheDir)
		code, _, stderr := run(t, lineageConfig, map[string]string{"ROLEHOP_CACHE_DIR": cacheDir}, tc.args...)
		if code != 0 || !strings.Contains(stderr, tc.notice) {
			t.Errorf("%v: exit %d, stderr %q; want %q", tc.args, code, stderr, tc.notice)
		}
		entries, err := cache.Open(cacheDir).List()
		if err != nil {
			t.Fatal(err)
		}
		var left []string
		for _, e := range entries {
			left = append(left, e.Meta.Profile)
		}
		slices.Sort(left)
		if !slices.Equal(left, tc.remains) {
			t.Errorf("%v: entries left of %q, want %q", tc.args, left, tc.remains)
		}
	}
}
