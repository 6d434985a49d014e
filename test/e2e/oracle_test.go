//go:build unix

package e2e

import (
	"strings"
	"testing"
)

// TestAWSCLIOracle runs the real AWS CLI and rolehop on the same config
// files, where the two are meant to agree, and compares the AssumeRole calls
// each made at the recording proxy: role ARNs in order, external ids, MFA
// serials and session names that the config sets, and the key that signed
// each call's source. The AWS CLI is the specification of config semantics
// (AWS-SEMANTICS.md); this is where rolehop proves it reads files the same.
func TestAWSCLIOracle(t *testing.T) {
	t.Parallel()
	seed := seedAccounts(t)
	cases := []struct {
		name, profile, config, credentials string
		envKeys                            bool // ci-user keys in the environment (with --profile, the CLI ignores them)
	}{
		{name: "two hops across accounts", profile: "prod", config: chainConfig, credentials: ciCredentials("base", seed.CIUser)},
		{name: "static keys win over role_arn in a source profile", profile: "dev2",
			config: `
				[profile base]
				role_arn = ` + auditRoleARN + `
				source_profile = other
				[profile dev2]
				role_arn = ` + devRoleARN + `
				source_profile = base
				external_id = x-1`,
			credentials: ciCredentials("base", seed.CIUser)},
		{name: "role profile written in the credentials file (CloudShell habit)", profile: "prod",
			config: `
				[profile dev]
				role_arn = ` + devRoleARN + `
				source_profile = base`,
			credentials: ciCredentials("base", seed.CIUser) + `
[prod]
role_arn = ` + prodRoleARN + `
source_profile = dev
role_session_name = from-credentials-file
`},
		{name: "credentials file overrides one key of a config profile", profile: "prod",
			config: chainConfig,
			credentials: ciCredentials("base", seed.CIUser) + `
[prod]
external_id = overridden
`},
		{name: "quoted profile name with a space", profile: "my prod",
			config: `
				[profile "my prod"]
				role_arn = ` + prodRoleARN + `
				source_profile = base
				role_session_name = quoted`,
			credentials: ciCredentials("base", seed.CIUser)},
		{name: "credential_source Environment via --profile", profile: "envrole", envKeys: true,
			config: `
				[profile envrole]
				role_arn = ` + prodRoleARN + `
				credential_source = Environment
				role_session_name = from-env`},
		{name: "mfa_serial and self-referencing source_profile with keys", profile: "self",
			config: `
				[profile self]
				role_arn = ` + devRoleARN + `
				source_profile = self
				mfa_serial = arn:aws:iam::111111111111:mfa/ci-user
				role_session_name = selfie`,
			credentials: ciCredentials("self", seed.CIUser)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			env.WriteConfig(tc.config)
			env.WriteCredentials(tc.credentials)
			if tc.envKeys {
				useEnvKeys(env, seed.CIUser)
			}
			mfa := strings.Contains(tc.config, "mfa_serial")

			// The AWS CLI prompts for the MFA code on stdin; rolehop takes --token-code.
			var cli Result
			if mfa {
				cli = env.RunCmdWithInput(t, "123456\n", "aws", "sts", "get-caller-identity", "--profile", tc.profile)
			} else {
				cli = env.RunCmd(t, "aws", "sts", "get-caller-identity", "--profile", tc.profile)
			}
			if cli.Code != 0 {
				t.Fatalf("aws CLI failed: %s", cli)
			}
			cliCalls := env.Proxy.Calls("AssumeRole")
			env.Proxy.Reset()

			args := []string{"exec", tc.profile}
			if mfa {
				args = append(args, "--token-code", "123456")
			}
			res := env.Run(t, append(args, "--", "true")...)
			if res.Code != 0 {
				t.Fatalf("rolehop failed: %s", res)
			}
			ours := env.Proxy.Calls("AssumeRole")
			if len(cliCalls) == 0 || len(ours) != len(cliCalls) {
				t.Fatalf("AssumeRole calls: aws CLI made %d, rolehop %d\nCLI:\n%s\nrolehop:\n%s", len(cliCalls), len(ours), callList(cliCalls), callList(ours))
			}
			// Where they differ on purpose: for mfa_serial on a first hop
			// from long-term keys, rolehop sends the code once to
			// GetSessionToken (MFA once) instead of with AssumeRole.
			var mfaSession []Call
			if mfa {
				mfaSession = mustCalls(t, env.Proxy, "GetSessionToken", 1)
			}
			for i := range cliCalls {
				for _, key := range []string{"RoleArn", "ExternalId", "SerialNumber", "TokenCode"} {
					got := ours[i].Get(key)
					if mfa && i == 0 && (key == "SerialNumber" || key == "TokenCode") {
						got = mfaSession[0].Get(key)
						noParam(t, ours[i], key)
					}
					if want := cliCalls[i].Get(key); want != got {
						t.Errorf("call %d %s: aws CLI sent %q, rolehop %q", i+1, key, want, got)
					}
				}
				// Session names agree where the config sets one; the CLI's
				// default is botocore-session-<time>, rolehop's names the user.
				if strings.Contains(tc.config+tc.credentials, "role_session_name") && i == len(cliCalls)-1 {
					if a, b := cliCalls[i].Get("RoleSessionName"), ours[i].Get("RoleSessionName"); a != b {
						t.Errorf("call %d RoleSessionName: aws CLI sent %q, rolehop %q", i+1, a, b)
					}
				}
			}
			// The first STS call is signed by the same long-term key in both.
			first := ours[0]
			if mfa {
				first = mfaSession[0]
			}
			if cliCalls[0].AccessKeyID != first.AccessKeyID {
				t.Errorf("first call signed with %q by the CLI and %q by rolehop", cliCalls[0].AccessKeyID, first.AccessKeyID)
			}
		})
	}
}
