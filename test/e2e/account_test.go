//go:build unix

package e2e

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// dynamoParams matches botocore's debug line for the DynamoDB endpoint
// rules, the only rules here with AccountId and AccountIdEndpointMode
// parameters; botocore fills AccountId from the credentials' account id.
var (
	dynamoParams  = regexp.MustCompile(`Calling endpoint provider with parameters: (\{.*'AccountIdEndpointMode'.*\})`)
	accountParam  = regexp.MustCompile(`'AccountId': '([^']*)'`)
	modeParam     = regexp.MustCompile(`'AccountIdEndpointMode': '([^']*)'`)
	endpointFound = regexp.MustCompile(`Endpoint provider result: (\S+)`)
)

// cliAccount runs argv (the AWS CLI, or rolehop exec … -- the AWS CLI)
// with `dynamodb list-tables --debug` appended and returns the account id
// and the account endpoint mode the CLI passed to the DynamoDB endpoint
// rules ("" when none), which is how the CLI shows what account it took
// its credentials to be in.
func cliAccount(t *testing.T, env *TestEnv, extraEnv []string, argv ...string) (account, mode string, res Result) {
	t.Helper()
	argv = append(argv, "dynamodb", "list-tables", "--debug")
	res = env.RunCmdWith(t, extraEnv, argv[0], argv[1:]...)
	all := dynamoParams.FindAllStringSubmatch(res.Stderr, -1)
	if len(all) == 0 {
		t.Fatalf("%s: no DynamoDB endpoint parameters in the debug output: %s", strings.Join(argv, " "), res)
	}
	params := all[len(all)-1][1]
	if m := accountParam.FindStringSubmatch(params); m != nil {
		account = m[1]
	}
	if m := modeParam.FindStringSubmatch(params); m != nil {
		mode = m[1]
	}
	return account, mode, res
}

// explainAccount returns source.account_id of `rolehop explain --output json`.
func explainAccount(t *testing.T, env *TestEnv, args ...string) string {
	t.Helper()
	res := env.Run(t, append([]string{"explain", "--output", "json"}, args...)...)
	if res.Code != 0 {
		t.Fatalf("rolehop explain %s: %s", strings.Join(args, " "), res)
	}
	var p struct {
		Source struct {
			AccountID struct{ Value string } `json:"account_id"`
		}
	}
	if err := json.Unmarshal([]byte(res.Stdout), &p); err != nil {
		t.Fatalf("explain JSON: %v\n%s", err, res.Stdout)
	}
	return p.Source.AccountID.Value
}

// TestSinkAccountIDOracle: the account id rolehop finds for a source —
// AWS_ACCOUNT_ID with env keys, aws_account_id of a static-keys profile
// from the file that holds the keys, a credential_process's AccountId or
// else the profile's aws_account_id — is the one the real AWS CLI uses for
// the same files (botocore passes it to DynamoDB's endpoint rules), and
// `rolehop exec` hands it to the CLI in the child as AWS_ACCOUNT_ID.
// moto does not check signatures for DynamoDB, so the keys are made up.
func TestSinkAccountIDOracle(t *testing.T) {
	t.Parallel()
	const keys = "aws_access_key_id = AKIAEXAMPLEKEY000001\naws_secret_access_key = secret\n"
	process := func(withAccount bool) string {
		doc := `{"Version": 1, "AccessKeyId": "AKIAEXAMPLEKEY000002", "SecretAccessKey": "secret"`
		if withAccount {
			doc += `, "AccountId": "444444444444"`
		}
		return "#!/bin/sh\ncat <<'EOF'\n" + doc + "}\nEOF\n"
	}
	cases := []struct {
		name, config, credentials string
		env                       []string
		script                    string // credential_process script, written as creds.sh
		profile                   string // "" for no --profile
		want                      string
		// explain is what explain shows when it differs from want: for a
		// credential_process, the profile's fallback (the output is
		// known only when the process runs).
		explain string
	}{
		{name: "env keys with AWS_ACCOUNT_ID",
			env:  []string{"AWS_ACCESS_KEY_ID=AKIAEXAMPLEKEY000003", "AWS_SECRET_ACCESS_KEY=secret", "AWS_ACCOUNT_ID=333333333333"},
			want: "333333333333"},
		{name: "env keys without AWS_ACCOUNT_ID",
			env: []string{"AWS_ACCESS_KEY_ID=AKIAEXAMPLEKEY000003", "AWS_SECRET_ACCESS_KEY=secret"}},
		{name: "config profile with aws_account_id", profile: "s",
			config: "[profile s]\n" + keys + "aws_account_id = 111111111111\n", want: "111111111111"},
		{name: "credentials profile with aws_account_id", profile: "s",
			credentials: "[s]\n" + keys + "aws_account_id = 222222222222\n", want: "222222222222"},
		{name: "keys in credentials, aws_account_id in config", profile: "s",
			config: "[profile s]\naws_account_id = 111111111111\n", credentials: "[s]\n" + keys},
		{name: "keys in config, aws_account_id in credentials", profile: "s",
			config: "[profile s]\n" + keys, credentials: "[s]\naws_account_id = 222222222222\n"},
		{name: "aws_account_id in both files", profile: "s",
			config: "[profile s]\naws_account_id = 111111111111\n", credentials: "[s]\n" + keys + "aws_account_id = 222222222222\n",
			want: "222222222222"},
		{name: "AWS_ACCOUNT_ID does not go with profile keys", profile: "s",
			config: "[profile s]\n" + keys, env: []string{"AWS_ACCOUNT_ID=333333333333"}},
		{name: "credential_process AccountId wins over aws_account_id", profile: "p", script: process(true),
			config: "[profile p]\ncredential_process = ./creds.sh\naws_account_id = 111111111111\n", want: "444444444444", explain: "111111111111"},
		{name: "credential_process without AccountId: aws_account_id", profile: "p", script: process(false),
			config: "[profile p]\ncredential_process = ./creds.sh\naws_account_id = 111111111111\n", want: "111111111111"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			env.WriteConfig(tc.config)
			env.WriteCredentials(tc.credentials)
			for _, kv := range tc.env {
				k, v, _ := strings.Cut(kv, "=")
				env.Set(k, v)
			}
			if tc.script != "" {
				if err := os.Chmod(env.WriteFile("creds.sh", tc.script), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			var profile []string
			if tc.profile != "" {
				profile = []string{tc.profile}
			}
			cliArgs := []string{awsBin}
			if tc.profile != "" {
				cliArgs = append(cliArgs, "--profile", tc.profile)
			}
			cli, _, res := cliAccount(t, env, nil, cliArgs...)
			if res.Code != 0 {
				t.Fatalf("aws: %s", res)
			}
			if cli != tc.want {
				t.Fatalf("the AWS CLI uses account %q, this case expects %q: the oracle disagrees with the test", cli, tc.want)
			}
			wantExplain := tc.want
			if tc.explain != "" {
				wantExplain = tc.explain
			}
			if got := explainAccount(t, env, profile...); got != wantExplain {
				t.Errorf("rolehop explain: source account id %q, want %q", got, wantExplain)
			}
			child, _, res := cliAccount(t, env, nil, append(append([]string{requireRolehop(t), "exec"}, profile...), "--", awsBin)...)
			if res.Code != 0 {
				t.Fatalf("rolehop exec -- aws: %s", res)
			}
			if child != tc.want {
				t.Errorf("the AWS CLI under rolehop exec uses account %q, want %q", child, tc.want)
			}
		})
	}
}

// TestCredentialProcessAccountID: `credential-process` prints AccountId
// (the account of the last role's ARN), and the AWS CLI reads it back
// through `credential_process = rolehop credential-process prod`: botocore
// 1.43 (AWS CLI v1 here) passes it to DynamoDB's endpoint rules, and
// get-caller-identity answers for that account. The CLI's own format name,
// `export --format process`, prints no AccountId, as AWS CLI v2 does: the
// CLI then has no account id.
func TestCredentialProcessAccountID(t *testing.T) {
	t.Parallel()
	env, _ := newChainEnv(t)
	bin := requireRolehop(t)
	env.WriteConfig(dedent(chainConfig) + dedent(`
		[profile viaprocess]
		credential_process = `+bin+` credential-process prod
		[profile viaexport]
		credential_process = `+bin+` export prod --format process
	`))

	out := env.Run(t, "credential-process", "prod")
	if out.Code != 0 {
		t.Fatalf("rolehop credential-process prod: %s", out)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out.Stdout), &doc); err != nil {
		t.Fatalf("credential-process output: %v\n%s", err, out.Stdout)
	}
	if doc["AccountId"] != prodAccount {
		t.Errorf("credential-process AccountId = %v, want %s", doc["AccountId"], prodAccount)
	}

	res := env.RunCmd(t, awsBin, "sts", "get-caller-identity", "--profile", "viaprocess", "--output", "json")
	if res.Code != 0 {
		t.Fatalf("aws --profile viaprocess sts get-caller-identity: %s", res)
	}
	if id := parseIdentity(t, res.Stdout); id.Account != prodAccount {
		t.Errorf("aws --profile viaprocess runs in account %q, want %s", id.Account, prodAccount)
	}
	if account, _, res := cliAccount(t, env, nil, awsBin, "--profile", "viaprocess"); res.Code != 0 || account != prodAccount {
		t.Errorf("the AWS CLI read account %q from rolehop credential-process, want %s: %s", account, prodAccount, res)
	}

	exp := env.Run(t, "export", "prod", "--format", "process")
	if exp.Code != 0 || strings.Contains(exp.Stdout, "AccountId") || !strings.Contains(exp.Stdout, "+00:00\"\n}") {
		t.Errorf("export --format process is not the AWS CLI's document (no AccountId, +00:00 expiry): %s", exp)
	}
	if account, _, res := cliAccount(t, env, nil, awsBin, "--profile", "viaexport"); res.Code != 0 || account != "" {
		t.Errorf("through export --format process the AWS CLI read account %q, want none: %s", account, res)
	}
	assertNoSecrets(t, "stderr", out.Stderr+exp.Stderr, secretsOf(env))
}

// TestExportCLIFormatsRunAWSCLI: the AWS CLI's format names, used as the
// CLI documents them, give the shell the role's credentials: `eval` of
// env in sh, bash and zsh, env-no-export followed by an export, and fish
// (rolehop's format under the CLI's name) piped into source. Their lines are
// the CLI's: unquoted, the four variables in the CLI's order, the expiry
// with +00:00.
func TestExportCLIFormatsRunAWSCLI(t *testing.T) {
	t.Parallel()
	env, _ := newChainEnv(t)
	bin := requireRolehop(t)
	want := assumedARN(prodAccount, "prod", "alice")

	res := env.Run(t, "export", "prod", "--format", "env")
	if res.Code != 0 {
		t.Fatalf("export --format env: %s", res)
	}
	line := regexp.MustCompile(`^export (AWS_[A-Z_]+)=[A-Za-z0-9_./+=:,@%-]+$`)
	var names []string
	for _, l := range strings.Split(strings.TrimSuffix(res.Stdout, "\n"), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("env line %q is not an unquoted export", l)
		}
		names = append(names, m[1])
	}
	if got := strings.Join(names, " "); got != "AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_CREDENTIAL_EXPIRATION" {
		t.Errorf("env exports %s, want the AWS CLI's four variables in its order", got)
	}
	if !regexp.MustCompile(`AWS_CREDENTIAL_EXPIRATION=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00\n$`).MatchString(res.Stdout) {
		t.Errorf("env expiry is not Python's isoformat:\n%s", res.Stdout)
	}

	cmd := shellQuote([]string{bin})
	shells := map[string]string{"sh": shBin}
	for _, name := range []string{"bash", "zsh"} {
		if p, err := exec.LookPath(name); err == nil {
			shells[name] = p
		}
	}
	for name, path := range shells {
		for format, script := range map[string]string{
			"env":           `eval "$(` + cmd + ` export prod --format env)"; exec aws sts get-caller-identity --output json`,
			"env-no-export": `unset AWS_ACCESS_KEY_ID; eval "$(` + cmd + ` export prod --format env-no-export)"; export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN; exec aws sts get-caller-identity --output json`,
		} {
			res := env.RunCmd(t, path, "-c", "set -e; "+script)
			if res.Code != 0 {
				t.Errorf("%s, %s: %s", name, format, res)
				continue
			}
			if got := parseIdentity(t, res.Stdout).Arn; got != want {
				t.Errorf("%s, %s: ran as %q, want %q", name, format, got, want)
			}
		}
	}
	if fish := requireFishE2E(t); fish != "" {
		res := env.RunCmd(t, fish, "--no-config", "-c", cmd+" export prod --format fish | source; and aws sts get-caller-identity --output json")
		if res.Code != 0 {
			t.Fatalf("fish: %s", res)
		}
		if got := parseIdentity(t, res.Stdout).Arn; got != want {
			t.Errorf("fish ran as %q, want %q", got, want)
		}
	}
	win := env.Run(t, "export", "prod", "--format", "windows-cmd")
	if win.Code != 0 || !regexp.MustCompile(`^set AWS_ACCESS_KEY_ID=\S+\nset AWS_SECRET_ACCESS_KEY=\S+\nset AWS_SESSION_TOKEN=\S+\nset AWS_CREDENTIAL_EXPIRATION=\S+\+00:00\n$`).MatchString(win.Stdout) {
		t.Errorf("windows-cmd is not the AWS CLI's lines: %s", win)
	}
}

// requireFishE2E returns the path of fish, "" when it is missing (a failure
// with CI=true, where .ci/run installs it).
func requireFishE2E(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("fish")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fish is required with CI=true (.ci/run installs it): %v", err)
		}
		t.Log("fish is not installed: the fish part is skipped")
		return ""
	}
	return p
}

// TestSinkAccountIDEndpointMode: exec sets AWS_ACCOUNT_ID for the child
// from the last role's ARN, passes AWS_ACCOUNT_ID_ENDPOINT_MODE on
// unchanged, and chokes on no value of it (rolehop's STS calls use no
// account-based endpoint; STS's endpoint rules have no AccountId). With
// the AWS endpoint (no AWS_ENDPOINT_URL) the child's CLI picks the
// account-based DynamoDB endpoint; a proxy that accepts and closes every
// connection keeps the request on this machine.
func TestSinkAccountIDEndpointMode(t *testing.T) {
	t.Parallel()
	env, _ := newChainEnv(t)
	bin := requireRolehop(t)

	// botocore passes the account id to the rules in every mode; the rules
	// leave it out of the endpoint when the mode is disabled.
	for mode, want := range map[string]string{"required": prodAccount, "preferred": prodAccount, "disabled": prodAccount} {
		account, got, res := cliAccount(t, env, []string{"AWS_ACCOUNT_ID_ENDPOINT_MODE=" + mode}, bin, "exec", "prod", "--", awsBin)
		if res.Code != 0 || account != want || got != mode {
			t.Errorf("mode %s: the child's CLI saw account %q, mode %q (want %q, %s): %s", mode, account, got, want, mode, res)
		}
	}
	// A value the SDKs refuse is the child's business, not rolehop's.
	for _, extra := range [][]string{{"AWS_ACCOUNT_ID_ENDPOINT_MODE=bogus"}} {
		res := env.RunWith(t, extra, "exec", "prod", "--", shBin, "-c", `printf '%s %s' "$AWS_ACCOUNT_ID_ENDPOINT_MODE" "$AWS_ACCOUNT_ID"`)
		if res.Code != 0 || res.Stdout != "bogus "+prodAccount {
			t.Errorf("exec with %v: %s", extra, res)
		}
	}
	env.WriteConfig(dedent(chainConfig) + "\n[profile prod-mode]\nrole_arn = " + prodRoleARN + "\nsource_profile = dev\naccount_id_endpoint_mode = bogus\n")
	if res := env.Run(t, "explain", "prod-mode"); res.Code != 0 {
		t.Errorf("explain of a profile with account_id_endpoint_mode = bogus: %s", res)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	offline := []string{"AWS_ENDPOINT_URL", "HTTPS_PROXY=http://" + ln.Addr().String(), "AWS_MAX_ATTEMPTS=1", "AWS_ACCOUNT_ID_ENDPOINT_MODE=required"}
	_, _, res := cliAccount(t, env, offline, bin, "exec", "prod", "--", awsBin, "--cli-connect-timeout", "2")
	m := endpointFound.FindAllStringSubmatch(res.Stderr, -1)
	if len(m) == 0 || m[len(m)-1][1] != "https://"+prodAccount+".ddb.us-east-1.amazonaws.com" {
		t.Errorf("the child's CLI did not choose the account-based endpoint of %s: %s", prodAccount, res)
	}
}
