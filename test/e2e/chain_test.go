//go:build unix

package e2e

import (
	"strings"
	"testing"
)

// chainConfig is the 2-hop cross-account chain used by several tests:
// base (ci-user keys) → dev (111111111111) → prod (222222222222).
const chainConfig = `
	[profile base]
	region = us-east-1

	[profile dev]
	role_arn = ` + devRoleARN + `
	source_profile = base

	[profile prod]
	role_arn = ` + prodRoleARN + `
	source_profile = dev
	role_session_name = alice
	external_id = ext-123
	duration_seconds = 3600
`

// newChainEnv is a test env with chainConfig and ci-user's keys in the
// credentials file under [base].
func newChainEnv(t *testing.T) (*TestEnv, Seed) {
	t.Helper()
	env := newTestEnv(t)
	seed := seedAccounts(t)
	env.WriteCredentials(ciCredentials("base", seed.CIUser))
	env.WriteConfig(chainConfig)
	return env, seed
}

// checkChainCalls asserts the two AssumeRole calls of chainConfig's prod and
// returns the final credentials' access key id.
func checkChainCalls(t *testing.T, env *TestEnv, seed Seed) string {
	t.Helper()
	calls := mustCalls(t, env.Proxy, "AssumeRole", 2)
	first, second := calls[0], calls[1]

	wantParam(t, first, "RoleArn", devRoleARN)
	if first.AccessKeyID != seed.CIUser.AccessKeyID {
		t.Errorf("hop 1 signed with %q, want ci-user's %q", first.AccessKeyID, seed.CIUser.AccessKeyID)
	}
	noParam(t, first, "ExternalId")

	wantParam(t, second, "RoleArn", prodRoleARN)
	wantParam(t, second, "RoleSessionName", "alice")
	wantParam(t, second, "ExternalId", "ext-123")
	wantParam(t, second, "DurationSeconds", "3600")
	hop1Key, _, _ := first.ReturnedCredentials()
	if hop1Key == "" || second.AccessKeyID != hop1Key {
		t.Errorf("hop 2 signed with %q, want hop 1's session key %q", second.AccessKeyID, hop1Key)
	}
	final, _, _ := second.ReturnedCredentials()
	return final
}

// TestExecTwoHopChainByProfile: `rolehop exec prod -- aws sts
// get-caller-identity` resolves base → dev → prod across accounts.
func TestExecTwoHopChainByProfile(t *testing.T) {
	t.Parallel()
	env, seed := newChainEnv(t)

	arn, res := execCallerARN(t, env, "prod")
	if want := assumedARN(prodAccount, "prod", "alice"); arn != want {
		t.Fatalf("child ran as %q, want %q", arn, want)
	}
	final := checkChainCalls(t, env, seed)

	// The child's own call was signed with the final hop's credentials.
	gci := env.Proxy.Calls("GetCallerIdentity")
	if len(gci) == 0 || gci[len(gci)-1].AccessKeyID != final {
		t.Errorf("child's GetCallerIdentity not signed with the final session key %q:\n%s", final, callList(gci))
	}
	assertNoSecrets(t, "stderr", res.Stderr, secretsOf(env))
}

// TestProfileNamingWays: a role profile is assumed whichever way it is named
// (positional, --profile, AWS_PROFILE, AWS_DEFAULT_PROFILE), even when env
// keys are present.
func TestProfileNamingWays(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		args     []string
		env      map[string]string
		withKeys bool
	}{
		{name: "positional", args: []string{"prod"}},
		{name: "flag", args: []string{"--profile", "prod"}},
		{name: "AWS_PROFILE", env: map[string]string{"AWS_PROFILE": "prod"}},
		{name: "AWS_DEFAULT_PROFILE", env: map[string]string{"AWS_DEFAULT_PROFILE": "prod"}},
		{name: "AWS_PROFILE with env keys", env: map[string]string{"AWS_PROFILE": "prod"}, withKeys: true},
		{name: "positional with env keys", args: []string{"prod"}, withKeys: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env, seed := newChainEnv(t)
			for k, v := range tc.env {
				env.Set(k, v)
			}
			if tc.withKeys {
				// Unrelated keys in the environment must not hijack the
				// profile's source (base's keys are in the credentials file).
				other := motoAssumeRole(t, seed.CIUser, auditRoleARN, "ambient")
				useEnvKeys(env, other)
			}
			w, res := whoami(t, env, tc.args...)
			if want := assumedARN(prodAccount, "prod", "alice"); w.Arn != want {
				t.Errorf("whoami Arn %q, want %q", w.Arn, want)
			}
			if w.Account != prodAccount || w.UserId == "" || w.Expiration == "" {
				t.Errorf("whoami --json incomplete: %+v", w)
			}
			checkChainCalls(t, env, seed)
			assertNoSecrets(t, "stderr", res.Stderr, secretsOf(env))
		})
	}
}

// TestEnvKeysWithRoleProfilePitfall is the pitfall of seed 004: a CI job has
// a user's access keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and sets
// AWS_PROFILE to a role profile (credential_source = Environment). The AWS CLI
// and the SDKs give env credentials precedence over AWS_PROFILE, so
// `aws sts get-caller-identity` silently runs as the USER and never assumes
// the role. `rolehop exec` must assume the role in that exact situation.
func TestEnvKeysWithRoleProfilePitfall(t *testing.T) {
	t.Parallel()
	env, seed := newPitfallEnv(t)

	// The pitfall, as the real AWS CLI shows it: the user, zero AssumeRole.
	if got := callerARN(t, env); got != ciUserARN {
		t.Fatalf("plain aws CLI ran as %q; expected the pitfall (the user %q)", got, ciUserARN)
	}
	mustCalls(t, env.Proxy, "AssumeRole", 0)

	arn, res := execCallerARN(t, env)
	if want := "arn:aws:sts::" + prodAccount + ":assumed-role/prod/"; !strings.HasPrefix(arn, want) {
		t.Fatalf("rolehop exec child ran as %q, want %s…", arn, want)
	}
	call := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
	wantParam(t, call, "RoleArn", prodRoleARN)
	if call.AccessKeyID != seed.CIUser.AccessKeyID {
		t.Errorf("AssumeRole signed with %q, want the env keys %q", call.AccessKeyID, seed.CIUser.AccessKeyID)
	}
	assertNoSecrets(t, "stderr", res.Stderr, secretsOf(env))
}

// TestAWSRoleARNEnv: AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME) without a web
// identity token is one AssumeRole from the ambient source (arar's contract).
func TestAWSRoleARNEnv(t *testing.T) {
	t.Parallel()

	t.Run("env keys", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		seed := seedAccounts(t)
		useEnvKeys(env, seed.CIUser)
		env.Set("AWS_ROLE_ARN", auditRoleARN)
		env.Set("AWS_ROLE_SESSION_NAME", "ci-session")

		arn, _ := execCallerARN(t, env)
		if want := assumedARN(prodAccount, "audit", "ci-session"); arn != want {
			t.Fatalf("child ran as %q, want %q", arn, want)
		}
		call := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
		wantParam(t, call, "RoleArn", auditRoleARN)
		wantParam(t, call, "RoleSessionName", "ci-session")
		if call.AccessKeyID != seed.CIUser.AccessKeyID {
			t.Errorf("AssumeRole signed with %q, want env key %q", call.AccessKeyID, seed.CIUser.AccessKeyID)
		}
	})

	t.Run("default profile", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		seed := seedAccounts(t)
		env.WriteCredentials(ciCredentials("default", seed.CIUser))
		env.Set("AWS_ROLE_ARN", auditRoleARN)

		w, _ := whoami(t, env)
		if want := "arn:aws:sts::" + prodAccount + ":assumed-role/audit/"; !strings.HasPrefix(w.Arn, want) {
			t.Fatalf("whoami Arn %q, want %s…", w.Arn, want)
		}
		call := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
		wantParam(t, call, "RoleArn", auditRoleARN)
		if call.AccessKeyID != seed.CIUser.AccessKeyID {
			t.Errorf("AssumeRole signed with %q, want default profile's %q", call.AccessKeyID, seed.CIUser.AccessKeyID)
		}
	})

	t.Run("container endpoint", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		seed := seedAccounts(t)
		ctr := newContainerEndpoint(t, "cloudshell-token", motoAssumeRole(t, seed.CIUser, devRoleARN, "cloudshell"))
		env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", ctr.URL)
		env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", ctr.Token)
		env.Set("AWS_ROLE_ARN", prodRoleARN)
		env.Set("AWS_ROLE_SESSION_NAME", "from-container")

		w, _ := whoami(t, env)
		if want := assumedARN(prodAccount, "prod", "from-container"); w.Arn != want {
			t.Fatalf("whoami Arn %q, want %q", w.Arn, want)
		}
		call := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
		if call.AccessKeyID != ctr.Keys.AccessKeyID {
			t.Errorf("AssumeRole signed with %q, want the container's %q", call.AccessKeyID, ctr.Keys.AccessKeyID)
		}
		if ctr.Requests() == 0 || ctr.Unauthorized() != 0 {
			t.Errorf("container endpoint: %d requests, %d unauthorized", ctr.Requests(), ctr.Unauthorized())
		}
	})
}

// TestUsernameSession: -u/--username-session sets RoleSessionName to the
// caller's IAM user name (sts:RoleSessionName = ${aws:username}).
func TestUsernameSession(t *testing.T) {
	t.Parallel()

	t.Run("-u whoami", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		seed := seedAccounts(t)
		useEnvKeys(env, seed.CIUser)

		w, _ := whoami(t, env, "--role-arn", devRoleARN, "-u")
		if want := assumedARN(devAccount, "dev", ciUserName); w.Arn != want {
			t.Fatalf("whoami Arn %q, want %q", w.Arn, want)
		}
		call := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
		wantParam(t, call, "RoleSessionName", ciUserName)
		gci := env.Proxy.Calls("GetCallerIdentity")
		if len(gci) == 0 || gci[0].AccessKeyID != seed.CIUser.AccessKeyID {
			t.Errorf("the user name was not looked up with the source credentials:\n%s", callList(env.Proxy.Calls("")))
		}
	})

	t.Run("--username-session exec with AWS_ROLE_ARN", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		seed := seedAccounts(t)
		useEnvKeys(env, seed.CIUser)
		env.Set("AWS_ROLE_ARN", auditRoleARN)

		arn, _ := execCallerARN(t, env, "--username-session")
		if want := assumedARN(prodAccount, "audit", ciUserName); arn != want {
			t.Fatalf("child ran as %q, want %q", arn, want)
		}
		call := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
		wantParam(t, call, "RoleArn", auditRoleARN)
		wantParam(t, call, "RoleSessionName", ciUserName)
	})
}

// TestCredentialSourceEcsContainer: credential_source = EcsContainer uses
// the container credentials endpoint (ECS, CloudShell) as the source.
func TestCredentialSourceEcsContainer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// setup configures the endpoint's token and the profile.
		setup func(env *TestEnv, ctr *ContainerEndpoint)
	}{
		{"token", func(env *TestEnv, ctr *ContainerEndpoint) {
			env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", ctr.Token)
			env.WriteConfig(ecsProfile("[profile prod]"))
		}},
		{"token file", func(env *TestEnv, ctr *ContainerEndpoint) {
			env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", env.WriteFile("token", ctr.Token))
			env.WriteConfig(ecsProfile("[profile prod]"))
		}},
		{"token file wins over token", func(env *TestEnv, ctr *ContainerEndpoint) {
			env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", env.WriteFile("token", ctr.Token))
			env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "stale-token")
			env.WriteConfig(ecsProfile("[profile prod]"))
		}},
		{"role profile in credentials file (CloudShell style)", func(env *TestEnv, ctr *ContainerEndpoint) {
			env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", ctr.Token)
			env.WriteCredentials(ecsProfile("[prod]"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			seed := seedAccounts(t)
			ctr := newContainerEndpoint(t, "Bearer-"+strings.ReplaceAll(t.Name(), "/", "-"), motoAssumeRole(t, seed.CIUser, devRoleARN, "cloudshell"))
			env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", ctr.URL)
			tc.setup(env, ctr)

			arn, res := execCallerARN(t, env, "prod")
			if want := assumedARN(prodAccount, "prod", "ecs"); arn != want {
				t.Fatalf("child ran as %q, want %q", arn, want)
			}
			call := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
			wantParam(t, call, "RoleArn", prodRoleARN)
			wantParam(t, call, "RoleSessionName", "ecs")
			if call.AccessKeyID != ctr.Keys.AccessKeyID {
				t.Errorf("AssumeRole signed with %q, want the container's key %q", call.AccessKeyID, ctr.Keys.AccessKeyID)
			}
			if ctr.Requests() == 0 || ctr.Unauthorized() != 0 {
				t.Errorf("container endpoint: %d requests, %d unauthorized", ctr.Requests(), ctr.Unauthorized())
			}
			assertNoSecrets(t, "stderr", res.Stderr, secretsOf(env, ctr.Keys))
		})
	}
}

func ecsProfile(header string) string {
	return header + `
role_arn = ` + prodRoleARN + `
credential_source = EcsContainer
role_session_name = ecs
`
}

// TestExplainNoNetwork: `rolehop explain` shows the plan without calling AWS,
// including the seed-004 pitfall (env keys + AWS_PROFILE naming a role
// profile).
func TestExplainNoNetwork(t *testing.T) {
	t.Parallel()

	t.Run("chain", func(t *testing.T) {
		t.Parallel()
		env, _ := newChainEnv(t)
		res := env.Run(t, "explain", "prod")
		if res.Code != 0 {
			t.Fatalf("rolehop explain prod: %s", res)
		}
		for _, want := range []string{devRoleARN, prodRoleARN} {
			if !strings.Contains(res.Stdout, want) {
				t.Errorf("explain does not show %s:\n%s", want, res.Stdout)
			}
		}
		if dev, prod := strings.Index(res.Stdout, devRoleARN), strings.Index(res.Stdout, prodRoleARN); dev > prod {
			t.Errorf("explain lists the hops out of order:\n%s", res.Stdout)
		}
		mustCalls(t, env.Proxy, "", 0)
		assertNoSecrets(t, "explain output", res.Stdout+res.Stderr, secretsOf(env))
	})

	t.Run("pitfall", func(t *testing.T) {
		t.Parallel()
		env, seed := newPitfallEnv(t)
		res := env.Run(t, "explain")
		if res.Code != 0 {
			t.Fatalf("rolehop explain: %s", res)
		}
		for _, want := range []string{prodRoleARN, "AWS_PROFILE", "AWS_ACCESS_KEY_ID"} {
			if !strings.Contains(res.Stdout, want) {
				t.Errorf("explain does not mention %s:\n%s", want, res.Stdout)
			}
		}
		mustCalls(t, env.Proxy, "", 0)
		assertNoSecrets(t, "explain output", res.Stdout+res.Stderr, secretsOf(env, seed.CIUser))
	})
}

// newPitfallEnv is seed 004's situation: ci-user's keys in the environment
// and AWS_PROFILE naming a role profile with credential_source = Environment.
func newPitfallEnv(t *testing.T) (*TestEnv, Seed) {
	t.Helper()
	env := newTestEnv(t)
	seed := seedAccounts(t)
	useEnvKeys(env, seed.CIUser)
	env.Set("AWS_PROFILE", "prod-env")
	env.WriteConfig(`
		[profile prod-env]
		role_arn = ` + prodRoleARN + `
		credential_source = Environment
	`)
	return env, seed
}
