//go:build unix

package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestErrors: every failure is one stderr line starting "rolehop: ", exit
// code 2 for usage/config errors and 1 for runtime failures, and no secret
// ever appears on stderr.
func TestErrors(t *testing.T) {
	t.Parallel()
	// configLine matches "<…>/.aws/config:<line>".
	configLine := func(n int) *regexp.Regexp {
		return regexp.MustCompile(fmt.Sprintf(`\.aws/config:%d\b`, n))
	}
	anyConfigLine := regexp.MustCompile(`\.aws/config:\d+\b`)

	for _, tc := range []struct {
		name string
		// keys puts ci-user's keys into the environment.
		keys bool
		// config is written to AWS_CONFIG_FILE when non-empty (dedented).
		config string
		// setup runs after the env is built (inject errors, extra vars).
		setup func(env *TestEnv)
		args  []string
		code  int
		// fragments must each appear in stderr (case-insensitive); a
		// fragment "a|b" is satisfied by either alternative.
		fragments []string
		// re, when set, must match stderr.
		re *regexp.Regexp
		// maxDuration bounds the run (0 = the harness's 30 s timeout).
		maxDuration time.Duration
	}{
		{
			name: "unknown profile suggests a near name",
			config: `
				[profile production]
				role_arn = ` + prodRoleARN + `
				credential_source = Environment
			`,
			keys:      true,
			args:      []string{"whoami", "prodution"},
			code:      2,
			fragments: []string{"prodution", "did you mean", "production"},
		},
		{
			name: "source_profile cycle names file:line",
			config: `
				[profile ring-a]
				role_arn = ` + devRoleARN + `
				source_profile = ring-b

				[profile ring-b]
				role_arn = ` + prodRoleARN + `
				source_profile = ring-a
			`,
			args:      []string{"whoami", "ring-a"},
			code:      2,
			fragments: []string{"cycle|loop|circular", "ring-a|ring-b"},
			re:        anyConfigLine,
		},
		{
			name: "role profile without source_profile or credential_source",
			config: `
				[profile orphan]
				role_arn = ` + prodRoleARN + `
			`,
			keys:      true,
			args:      []string{"whoami", "orphan"},
			code:      2,
			fragments: []string{"orphan", "source_profile"},
		},
		{
			name: "source_profile names a missing profile",
			config: `
				[profile dangling]
				role_arn = ` + prodRoleARN + `
				source_profile = nowhere
			`,
			keys:      true,
			args:      []string{"whoami", "dangling"},
			code:      2,
			fragments: []string{"nowhere"},
		},
		{
			name: "source_profile and credential_source together",
			config: `
				[profile both]
				role_arn = ` + prodRoleARN + `
				source_profile = both-src
				credential_source = Environment

				[profile both-src]
				region = us-east-1
			`,
			keys:      true,
			args:      []string{"whoami", "both"},
			code:      2,
			fragments: []string{"source_profile", "credential_source"},
		},
		{
			name: "unknown credential_source",
			config: `
				[profile bogus]
				role_arn = ` + prodRoleARN + `
				credential_source = Ec2InstanceMetadataX
			`,
			keys:      true,
			args:      []string{"whoami", "bogus"},
			code:      2,
			fragments: []string{"Ec2InstanceMetadataX"},
		},
		{
			name: "malformed INI line",
			config: `
				[profile ok]
				region = us-east-1
				this line is not ini
				[profile other]
				region = us-east-1
			`,
			keys: true,
			args: []string{"whoami", "ok"},
			code: 2,
			re:   configLine(3),
		},
		{
			name:      "invalid role ARN",
			keys:      true,
			args:      []string{"whoami", "--role-arn", "not-an-arn"},
			code:      2,
			fragments: []string{"not-an-arn"},
		},
		{
			name:      "duration below 900",
			keys:      true,
			args:      []string{"whoami", "--role-arn", prodRoleARN, "--duration-seconds", "100"},
			code:      2,
			fragments: []string{"duration", "100"},
		},
		{
			name:      "token code of 5 digits",
			keys:      true,
			args:      []string{"whoami", "--role-arn", prodRoleARN, "--serial-number", ciMFASerial, "--token-code", "12345"},
			code:      2,
			fragments: []string{"token"},
		},
		{
			name:      "exec without a command",
			keys:      true,
			args:      []string{"exec", "--role-arn", prodRoleARN},
			code:      2,
			fragments: []string{"command"},
		},
		{
			name:      "exec with -- and no command",
			keys:      true,
			args:      []string{"exec", "--role-arn", prodRoleARN, "--"},
			code:      2,
			fragments: []string{"command"},
		},
		{
			name:      "unknown export format",
			keys:      true,
			args:      []string{"export", "--role-arn", prodRoleARN, "--format", "xml"},
			code:      2,
			fragments: []string{"xml"},
		},
		{
			name:        "no credentials anywhere",
			args:        []string{"whoami"},
			code:        1,
			fragments:   []string{"credential"},
			maxDuration: 15 * time.Second,
		},
		{
			name:        "no credentials anywhere, with a role",
			args:        []string{"exec", "--role-arn", prodRoleARN, "--", "true"},
			code:        1,
			fragments:   []string{"credential"},
			maxDuration: 15 * time.Second,
		},
		{
			name: "STS AccessDenied names the role",
			keys: true,
			setup: func(env *TestEnv) {
				env.Proxy.InjectAccessDenied(10, ciUserARN, auditRoleARN)
			},
			args:      []string{"whoami", "--role-arn", auditRoleARN},
			code:      1,
			fragments: []string{"AccessDenied|not authorized", auditRoleARN},
		},
		{
			name: "STS ExpiredToken",
			keys: true,
			setup: func(env *TestEnv) {
				env.Proxy.InjectExpiredToken("AssumeRole", 10)
			},
			args:      []string{"whoami", "--role-arn", auditRoleARN},
			code:      1,
			fragments: []string{"expired"},
		},
		{
			name: "STS unreachable",
			keys: true,
			setup: func(env *TestEnv) {
				port, err := freePort()
				if err != nil {
					panic(err)
				}
				closed := fmt.Sprintf("http://127.0.0.1:%d", port)
				env.Set("AWS_ENDPOINT_URL_STS", closed)
				env.Set("AWS_ENDPOINT_URL", closed)
			},
			args:        []string{"whoami", "--role-arn", auditRoleARN},
			code:        1,
			maxDuration: 30 * time.Second,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			if tc.keys {
				useEnvKeys(env, seedAccounts(t).CIUser)
			}
			if tc.config != "" {
				env.WriteConfig(tc.config)
			}
			if tc.setup != nil {
				tc.setup(env)
			}
			res := env.Run(t, tc.args...)
			var plain []string
			for _, f := range tc.fragments {
				if !strings.Contains(f, "|") {
					plain = append(plain, f)
					continue
				}
				ok := false
				for _, alt := range strings.Split(f, "|") {
					ok = ok || strings.Contains(strings.ToLower(res.Stderr), strings.ToLower(alt))
				}
				if !ok {
					t.Errorf("stderr %q mentions none of %q", strings.TrimSpace(res.Stderr), f)
				}
			}
			wantCLIError(t, env, res, tc.code, plain...)
			if tc.re != nil && !tc.re.MatchString(res.Stderr) {
				t.Errorf("stderr %q does not match %s", strings.TrimSpace(res.Stderr), tc.re)
			}
			if tc.maxDuration > 0 && (res.TimedOut || res.Duration > tc.maxDuration) {
				t.Errorf("took %s, want under %s", res.Duration, tc.maxDuration)
			}
		})
	}
}
