//go:build unix

package e2e

import (
	"reflect"
	"strings"
	"testing"
)

const (
	sessionPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	readOnlyARN   = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	ciMFASerial   = "arn:aws:iam::" + devAccount + ":mfa/ci-user"
)

// TestAllHopParametersFromFlags: every AssumeRole parameter given as a flag
// reaches STS exactly.
func TestAllHopParametersFromFlags(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	seed := seedAccounts(t)
	useEnvKeys(env, seed.CIUser)

	arn, res := execCallerARN(t, env,
		"--role-arn", prodRoleARN,
		"--role-session-name", "s1",
		"--duration-seconds", "1800",
		"--external-id", "e1",
		"--serial-number", ciMFASerial,
		"--token-code", "123456",
		"--policy", sessionPolicy,
		"--policy-arns", readOnlyARN,
		"--source-identity", "alice",
		"--tags", "team=core,env=dev",
		"--transitive-tag-keys", "team",
	)
	if want := assumedARN(prodAccount, "prod", "s1"); arn != want {
		t.Fatalf("child ran as %q, want %q", arn, want)
	}
	c := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
	if c.AccessKeyID != seed.CIUser.AccessKeyID {
		t.Errorf("AssumeRole signed with %q, want %q", c.AccessKeyID, seed.CIUser.AccessKeyID)
	}
	wantParam(t, c, "RoleArn", prodRoleARN)
	wantParam(t, c, "RoleSessionName", "s1")
	wantParam(t, c, "DurationSeconds", "1800")
	wantParam(t, c, "ExternalId", "e1")
	wantParam(t, c, "SerialNumber", ciMFASerial)
	wantParam(t, c, "TokenCode", "123456")
	wantParam(t, c, "Policy", sessionPolicy)
	wantParam(t, c, "SourceIdentity", "alice")
	if got := c.Members("PolicyArns", "arn"); !reflect.DeepEqual(got, []string{readOnlyARN}) {
		t.Errorf("PolicyArns %q, want [%s]", got, readOnlyARN)
	}
	if got := c.Tags(); !reflect.DeepEqual(got, map[string]string{"team": "core", "env": "dev"}) {
		t.Errorf("Tags %v, want team=core env=dev", got)
	}
	if got := c.Members("TransitiveTagKeys", ""); !reflect.DeepEqual(got, []string{"team"}) {
		t.Errorf("TransitiveTagKeys %q, want [team]", got)
	}
	assertNoSecrets(t, "stderr", res.Stderr, secretsOf(env))
}

// TestPolicyFromFileAndSeveralPolicyArns: --policy file://… sends the file's
// content; --policy-arns takes a comma-separated list.
func TestPolicyFromFileAndSeveralPolicyArns(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	seed := seedAccounts(t)
	useEnvKeys(env, seed.CIUser)
	path := env.WriteFile("policy.json", sessionPolicy)
	second := "arn:aws:iam::" + prodAccount + ":policy/boundary"

	w, _ := whoami(t, env, "--role-arn", devRoleARN, "--role-session-name", "pf",
		"--policy", "file://"+path, "--policy-arns", readOnlyARN+","+second)
	if want := assumedARN(devAccount, "dev", "pf"); w.Arn != want {
		t.Fatalf("whoami Arn %q, want %q", w.Arn, want)
	}
	c := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
	if got := strings.TrimSpace(c.Get("Policy")); got != sessionPolicy {
		t.Errorf("Policy %q, want the file's %q", got, sessionPolicy)
	}
	if got := c.Members("PolicyArns", "arn"); !reflect.DeepEqual(got, []string{readOnlyARN, second}) {
		t.Errorf("PolicyArns %q, want [%s %s]", got, readOnlyARN, second)
	}
}

// TestProfileKeysPerHop: profile keys apply to their own hop; flags apply to
// the last hop only.
func TestProfileKeysPerHop(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	seed := seedAccounts(t)
	env.WriteCredentials(ciCredentials("base", seed.CIUser))
	env.WriteConfig(`
		[profile base]
		region = us-east-1

		[profile tagged]
		role_arn = ` + devRoleARN + `
		source_profile = base
		role_session_name = hop1
		duration_seconds = 900
		source_identity = bob
		session_tags = team=core,env=dev
		transitive_session_tags = team
		policy_arns = ` + readOnlyARN + `

		[profile guarded]
		role_arn = ` + prodRoleARN + `
		source_profile = tagged
		role_session_name = hop2
		mfa_serial = ` + ciMFASerial + `
		external_id = ext-2
		policy = ` + sessionPolicy + `
	`)

	w, res := whoami(t, env, "guarded", "--token-code", "654321", "--role-session-name", "from-flag")
	if want := assumedARN(prodAccount, "prod", "from-flag"); w.Arn != want {
		t.Fatalf("whoami Arn %q, want %q", w.Arn, want)
	}
	calls := mustCalls(t, env.Proxy, "AssumeRole", 2)
	h1, h2 := calls[0], calls[1]

	wantParam(t, h1, "RoleArn", devRoleARN)
	wantParam(t, h1, "RoleSessionName", "hop1")
	wantParam(t, h1, "DurationSeconds", "900")
	wantParam(t, h1, "SourceIdentity", "bob")
	if got := h1.Tags(); !reflect.DeepEqual(got, map[string]string{"team": "core", "env": "dev"}) {
		t.Errorf("hop 1 Tags %v, want team=core env=dev", got)
	}
	if got := h1.Members("TransitiveTagKeys", ""); !reflect.DeepEqual(got, []string{"team"}) {
		t.Errorf("hop 1 TransitiveTagKeys %q, want [team]", got)
	}
	if got := h1.Members("PolicyArns", "arn"); !reflect.DeepEqual(got, []string{readOnlyARN}) {
		t.Errorf("hop 1 PolicyArns %q", got)
	}
	for _, k := range []string{"SerialNumber", "TokenCode", "ExternalId", "Policy"} {
		noParam(t, h1, k)
	}

	wantParam(t, h2, "RoleArn", prodRoleARN)
	wantParam(t, h2, "RoleSessionName", "from-flag")
	wantParam(t, h2, "SerialNumber", ciMFASerial)
	wantParam(t, h2, "TokenCode", "654321")
	wantParam(t, h2, "ExternalId", "ext-2")
	wantParam(t, h2, "Policy", sessionPolicy)
	for _, k := range []string{"Tags.member.1.Key", "TransitiveTagKeys.member.1", "PolicyArns.member.1.arn"} {
		noParam(t, h2, k)
	}
	assertNoSecrets(t, "stderr", res.Stderr, secretsOf(env))
}

// TestChainedDurationCapped: AWS caps role-chaining sessions at 1 hour, and
// moto does not enforce it, so rolehop must send 3600 and say so.
func TestChainedDurationCapped(t *testing.T) {
	t.Parallel()

	t.Run("profile", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		seed := seedAccounts(t)
		env.WriteCredentials(ciCredentials("base", seed.CIUser))
		env.WriteConfig(`
			[profile dev]
			role_arn = ` + devRoleARN + `
			source_profile = base

			[profile long]
			role_arn = ` + prodRoleARN + `
			source_profile = dev
			role_session_name = long
			duration_seconds = 7200
		`)
		w, res := whoami(t, env, "long")
		if want := assumedARN(prodAccount, "prod", "long"); w.Arn != want {
			t.Fatalf("whoami Arn %q, want %q", w.Arn, want)
		}
		calls := mustCalls(t, env.Proxy, "AssumeRole", 2)
		wantParam(t, calls[1], "DurationSeconds", "3600")
		wantCapWarning(t, res)
	})

	t.Run("flags", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		seed := seedAccounts(t)
		useEnvKeys(env, seed.CIUser)
		w, res := whoami(t, env, "--role-arn", devRoleARN, "--role-arn", prodRoleARN,
			"--role-session-name", "long2", "--duration-seconds", "7200")
		if want := assumedARN(prodAccount, "prod", "long2"); w.Arn != want {
			t.Fatalf("whoami Arn %q, want %q", w.Arn, want)
		}
		calls := mustCalls(t, env.Proxy, "AssumeRole", 2)
		wantParam(t, calls[0], "RoleArn", devRoleARN)
		wantParam(t, calls[1], "RoleArn", prodRoleARN)
		wantParam(t, calls[1], "DurationSeconds", "3600")
		if calls[1].AccessKeyID == seed.CIUser.AccessKeyID {
			t.Errorf("hop 2 was not made with hop 1's session")
		}
		wantCapWarning(t, res)
	})

	t.Run("not chained", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		seed := seedAccounts(t)
		useEnvKeys(env, seed.CIUser)
		whoami(t, env, "--role-arn", prodRoleARN, "--role-session-name", "long3", "--duration-seconds", "7200")
		c := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
		wantParam(t, c, "DurationSeconds", "7200")
	})
}

func wantCapWarning(t *testing.T, res Result) {
	t.Helper()
	lines := stderrLines(res)
	n := 0
	for _, l := range lines {
		if strings.Contains(l, "3600") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("want exactly one stderr line mentioning 3600, got:\n%s", res.Stderr)
	}
}
