//go:build unix

package e2e

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// policyStep is one step of `rolehop policy --format json`.
type policyStep struct {
	Hop              int             `json:"hop"`
	Kind             string          `json:"kind"`
	RoleARN          string          `json:"role_arn"`
	Account          string          `json:"account"`
	Caller           string          `json:"caller"`
	TrustPolicy      json.RawMessage `json:"trust_policy"`
	PermissionPolicy json.RawMessage `json:"permission_policy"`
	PermissionTarget string          `json:"permission_target"`
	Notes            []string        `json:"notes"`
}

// policyChain writes a 3-hop chain across two accounts with role names
// unique to this run (moto's IAM state is shared): base (ci-user's keys) →
// dev (111111111111, MFA) → teams/ops (222222222222, external id, source
// identity) → prod (222222222222, a session tag).
func policyChain(t *testing.T, env *TestEnv, seed Seed) (dev, ops, prod string) {
	t.Helper()
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	dev = "arn:aws:iam::" + devAccount + ":role/pdev-" + suffix
	ops = "arn:aws:iam::" + prodAccount + ":role/teams/pops-" + suffix
	prod = "arn:aws:iam::" + prodAccount + ":role/pprod-" + suffix
	env.WriteCredentials(ciCredentials("base", seed.CIUser))
	env.WriteConfig(fmt.Sprintf(`
		[profile p-dev]
		role_arn = %s
		source_profile = base
		mfa_serial = arn:aws:iam::%s:mfa/ci-user

		[profile p-ops]
		role_arn = %s
		source_profile = p-dev
		external_id = ext-123
		source_identity = alice

		[profile p-prod]
		role_arn = %s
		source_profile = p-ops
		session_tags = Project=blue
		`, dev, devAccount, ops, prod))
	return dev, ops, prod
}

func policySteps(t *testing.T, res Result) []policyStep {
	t.Helper()
	if res.Code != 0 {
		t.Fatalf("rolehop policy failed: %s", res)
	}
	var out struct{ Steps []policyStep }
	if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil {
		t.Fatalf("rolehop policy output is not JSON: %v\n%s", err, res.Stdout)
	}
	return out.Steps
}

// decoded is a JSON value as encoding/json decodes it.
func decoded(t *testing.T, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, raw)
	}
	return v
}

// iamAs runs the real AWS CLI's `aws iam …` with keys of one moto account
// (moto puts a call in the account its access key belongs to).
func iamAs(t *testing.T, env *TestEnv, k Keys, args ...string) Result {
	t.Helper()
	extra := []string{"AWS_ACCESS_KEY_ID=" + k.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + k.SecretAccessKey, "AWS_SESSION_TOKEN"}
	if k.SessionToken != "" {
		extra[2] = "AWS_SESSION_TOKEN=" + k.SessionToken
	}
	return env.RunCmdWith(t, extra, awsBin, append(append([]string{"iam"}, args...), "--output", "json")...)
}

// arnName splits an IAM ARN into account, path and name.
func arnName(arn string) (account, path, name string) {
	f := strings.SplitN(arn, ":", 6)
	res := f[5][strings.Index(f[5], "/")+1:]
	path, name = "/", res
	if i := strings.LastIndex(res, "/"); i >= 0 {
		path, name = "/"+res[:i+1], res[i+1:]
	}
	return f[4], path, name
}

// applyPolicies feeds every document to the AWS CLI against moto — create-role
// with the trust policy, put-user-policy / put-role-policy with the
// permission policy — and reads each back to check what IAM stored.
func applyPolicies(t *testing.T, env *TestEnv, steps []policyStep, keys map[string]Keys) {
	t.Helper()
	for _, st := range steps {
		acct, path, name := arnName(st.RoleARN)
		res := iamAs(t, env, keys[acct], "create-role", "--role-name", name, "--path", path, "--assume-role-policy-document", string(st.TrustPolicy))
		if res.Code != 0 {
			t.Fatalf("hop %d: aws iam create-role refused the trust policy: %s", st.Hop, res)
		}
		res = iamAs(t, env, keys[acct], "get-role", "--role-name", name)
		var got struct {
			Role struct {
				Arn, Path                string
				AssumeRolePolicyDocument json.RawMessage
			}
		}
		if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &got) != nil {
			t.Fatalf("hop %d: get-role: %s", st.Hop, res)
		}
		if got.Role.Arn != st.RoleARN || got.Role.Path != path {
			t.Errorf("hop %d: IAM created %s (path %s), want %s", st.Hop, got.Role.Arn, got.Role.Path, st.RoleARN)
		}
		// The CLI shows a stored document that is valid JSON as an object;
		// anything else stays a URL-encoded string and fails here.
		if g, w := decoded(t, got.Role.AssumeRolePolicyDocument), decoded(t, st.TrustPolicy); !reflect.DeepEqual(g, w) {
			t.Errorf("hop %d: IAM stored trust policy\n%v\nwant\n%v", st.Hop, g, w)
		}
		if st.PermissionPolicy == nil {
			continue
		}
		cAcct, _, cName := arnName(st.Caller)
		policyName := fmt.Sprintf("rolehop-hop%d", st.Hop)
		kind, flag := "role", "--role-name"
		if strings.Contains(st.Caller, ":user/") {
			kind, flag = "user", "--user-name"
		}
		res = iamAs(t, env, keys[cAcct], "put-"+kind+"-policy", flag, cName, "--policy-name", policyName, "--policy-document", string(st.PermissionPolicy))
		if res.Code != 0 {
			t.Fatalf("hop %d: aws iam put-%s-policy refused the permission policy: %s", st.Hop, kind, res)
		}
		res = iamAs(t, env, keys[cAcct], "get-"+kind+"-policy", flag, cName, "--policy-name", policyName)
		var pol struct{ PolicyDocument json.RawMessage }
		if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &pol) != nil {
			t.Fatalf("hop %d: get-%s-policy: %s", st.Hop, kind, res)
		}
		if g, w := decoded(t, pol.PolicyDocument), decoded(t, st.PermissionPolicy); !reflect.DeepEqual(g, w) {
			t.Errorf("hop %d: IAM stored permission policy\n%v\nwant\n%v", st.Hop, g, w)
		}
	}
}

// TestPolicyDocumentsAcceptedByIAM: `rolehop policy` for a 3-hop chain,
// with the caller found by one real sts:GetCallerIdentity, and every
// document it prints created in moto through the real AWS CLI.
func TestPolicyDocumentsAcceptedByIAM(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	seed := seedAccounts(t)
	dev, ops, prod := policyChain(t, env, seed)

	steps := policySteps(t, env.Run(t, "policy", "p-prod", "-u"))
	// Exactly one STS call: GetCallerIdentity with ci-user's keys; no hop is
	// assumed and no MFA code asked for.
	calls := env.Proxy.Calls("")
	if len(calls) != 1 || calls[0].Action != "GetCallerIdentity" || calls[0].AccessKeyID != seed.CIUser.AccessKeyID {
		t.Fatalf("want one GetCallerIdentity signed by ci-user, got:\n%s", callList(calls))
	}
	if len(steps) != 3 || steps[0].RoleARN != dev || steps[1].RoleARN != ops || steps[2].RoleARN != prod {
		t.Fatalf("steps %+v", steps)
	}
	if steps[0].Caller != ciUserARN || steps[1].Caller != dev || steps[2].Caller != ops {
		t.Errorf("callers %q %q %q", steps[0].Caller, steps[1].Caller, steps[2].Caller)
	}
	// The conditions the chain's settings need.
	for i, want := range []string{
		`"sts:RoleSessionName":"${aws:username}"`, `"sts:ExternalId":"ext-123"`, `"aws:RequestTag/Project":"blue"`,
	} {
		if !strings.Contains(string(mustCompact(t, steps[i].TrustPolicy)), want) {
			t.Errorf("hop %d trust policy lacks %s: %s", i+1, want, steps[i].TrustPolicy)
		}
	}

	keys := map[string]Keys{devAccount: seed.CIUser, prodAccount: motoAssumeRole(t, seed.CIUser, prodRoleARN, "policy-setup")}
	applyPolicies(t, env, steps, keys)

	// The bare document of one hop is what the JSON format holds.
	res := env.Run(t, "policy", "p-prod", "--caller-arn", ciUserARN, "--hop", "2", "--document", "trust")
	if res.Code != 0 || !reflect.DeepEqual(decoded(t, []byte(res.Stdout)), decoded(t, steps[1].TrustPolicy)) {
		t.Errorf("--hop 2 --document trust: %s\nwant %s", res, steps[1].TrustPolicy)
	}
}

func mustCompact(t *testing.T, raw json.RawMessage) []byte {
	t.Helper()
	b, err := json.Marshal(decoded(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPolicyMalformedDocumentRejected: the acceptance check above can fail.
// moto refuses a malformed permission policy through the same put-user-policy
// path, and a trust policy that is not valid JSON is not read back as the
// document (moto does not validate trust policies on create-role).
func TestPolicyMalformedDocumentRejected(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	seed := seedAccounts(t)
	const truncated = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::222222222222:role/x"}`
	res := iamAs(t, env, seed.CIUser, "put-user-policy", "--user-name", ciUserName, "--policy-name", "rolehop-malformed", "--policy-document", truncated)
	if res.Code == 0 || !strings.Contains(res.Stderr, "MalformedPolicyDocument") {
		t.Fatalf("moto accepted a malformed permission policy: %s", res)
	}
	noResource := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`
	res = iamAs(t, env, seed.CIUser, "put-user-policy", "--user-name", ciUserName, "--policy-name", "rolehop-malformed", "--policy-document", noResource)
	if res.Code == 0 || !strings.Contains(res.Stderr, "MalformedPolicyDocument") {
		t.Fatalf("moto accepted a permission policy without Resource: %s", res)
	}

	name := "pbad-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if res := iamAs(t, env, seed.CIUser, "create-role", "--role-name", name, "--assume-role-policy-document", truncated); res.Code != 0 {
		t.Fatalf("create-role: %s", res)
	}
	res = iamAs(t, env, seed.CIUser, "get-role", "--role-name", name)
	var got struct {
		Role struct{ AssumeRolePolicyDocument json.RawMessage }
	}
	if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &got) != nil {
		t.Fatalf("get-role: %s", res)
	}
	var asString string
	if json.Unmarshal(got.Role.AssumeRolePolicyDocument, &asString) != nil {
		t.Fatalf("a truncated trust policy came back as a JSON document: %s", got.Role.AssumeRolePolicyDocument)
	}
}

// TestPolicyCallerARNNoNetwork: with --caller-arn, policy makes no call at
// all — with a profile, and with only --role-arn and no credentials.
func TestPolicyCallerARNNoNetwork(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	seed := seedAccounts(t)
	dev, ops, _ := policyChain(t, env, seed)
	const caller = "arn:aws:sts::" + devAccount + ":assumed-role/ci/run-7"

	steps := policySteps(t, env.Run(t, "policy", "p-prod", "--caller-arn", caller))
	if len(steps) != 3 || steps[0].Caller != "arn:aws:iam::"+devAccount+":role/ci" {
		t.Fatalf("steps %+v", steps)
	}
	if !strings.Contains(strings.Join(steps[0].Notes, "\n"), "does not show the role's path") {
		t.Errorf("hop 1 notes %q lack the role path note", steps[0].Notes)
	}
	for _, format := range []string{"cloudformation", "terraform"} {
		if res := env.Run(t, "policy", "p-prod", "--caller-arn", caller, "--format", format); res.Code != 0 || !strings.Contains(res.Stdout, "pprod-") {
			t.Errorf("--format %s: %s", format, res)
		}
	}
	// No profile and no credentials at all (HOME has none, no env keys).
	env.WriteCredentials("")
	steps = policySteps(t, env.Run(t, "policy", "--role-arn", dev, "--role-arn", ops, "--caller-arn", caller))
	if len(steps) != 2 || steps[1].Caller != dev {
		t.Fatalf("steps %+v", steps)
	}
	if calls := env.Proxy.Calls(""); len(calls) != 0 {
		t.Fatalf("policy --caller-arn made calls:\n%s", callList(calls))
	}
	// Without --caller-arn and without credentials: a one-line error that
	// says to pass it.
	wantCLIError(t, env, env.Run(t, "policy", "--role-arn", dev), 1, "pass --caller-arn")
}
