//go:build unix

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TestHarnessSmoke proves the harness itself with only moto and the AWS CLI:
// seeding, the recording proxy (parameters, signing key, returned
// credentials), error injection in a format the SDKs parse, the container
// endpoint and callerARN.
func TestHarnessSmoke(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	seed := seedAccounts(t)
	useEnvKeys(env, seed.CIUser)

	// The seeded user is who the env keys belong to.
	if got := callerARN(t, env); got != ciUserARN {
		t.Fatalf("env keys: caller %q, want %q", got, ciUserARN)
	}
	gci := mustCalls(t, env.Proxy, "GetCallerIdentity", 1)[0]
	if gci.AccessKeyID != seed.CIUser.AccessKeyID || gci.Service != "sts" {
		t.Errorf("GetCallerIdentity recorded with key %q service %q, want %q sts", gci.AccessKeyID, gci.Service, seed.CIUser.AccessKeyID)
	}

	// aws sts assume-role through the proxy: every parameter is recorded.
	res := env.RunCmd(t, awsBin, "sts", "assume-role", "--output", "json",
		"--role-arn", prodRoleARN, "--role-session-name", "smoke",
		"--duration-seconds", "1800", "--external-id", "x-1",
		"--tags", "Key=team,Value=core", "Key=env,Value=dev",
		"--transitive-tag-keys", "team",
		"--policy-arns", "arn=arn:aws:iam::aws:policy/ReadOnlyAccess")
	if res.Code != 0 {
		t.Fatalf("aws sts assume-role: %s", res)
	}
	ar := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
	wantParam(t, ar, "RoleArn", prodRoleARN)
	wantParam(t, ar, "RoleSessionName", "smoke")
	wantParam(t, ar, "DurationSeconds", "1800")
	wantParam(t, ar, "ExternalId", "x-1")
	if got := ar.Tags(); got["team"] != "core" || got["env"] != "dev" || len(got) != 2 {
		t.Errorf("tags %v", got)
	}
	if got := ar.Members("TransitiveTagKeys", ""); len(got) != 1 || got[0] != "team" {
		t.Errorf("transitive tag keys %v", got)
	}
	if got := ar.Members("PolicyArns", "arn"); len(got) != 1 || got[0] != "arn:aws:iam::aws:policy/ReadOnlyAccess" {
		t.Errorf("policy arns %v", got)
	}
	if ar.AccessKeyID != seed.CIUser.AccessKeyID {
		t.Errorf("AssumeRole signed with %q, want %q", ar.AccessKeyID, seed.CIUser.AccessKeyID)
	}

	var out struct {
		Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken string }
	}
	if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil {
		t.Fatalf("assume-role output: %v", err)
	}
	kid, secret, token := ar.ReturnedCredentials()
	if kid != out.Credentials.AccessKeyId || secret != out.Credentials.SecretAccessKey || token != out.Credentials.SessionToken {
		t.Errorf("proxy parsed returned credentials %q/%q…, CLI got %q", kid, secret[:min(4, len(secret))], out.Credentials.AccessKeyId)
	}

	// The returned credentials are the role in 222222222222.
	if got, want := callerARN(t, env,
		"AWS_ACCESS_KEY_ID="+kid, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_SESSION_TOKEN="+token),
		assumedARN(prodAccount, "prod", "smoke"); got != want {
		t.Fatalf("assumed role: caller %q, want %q", got, want)
	}

	// A profile chain resolved by the AWS CLI itself through the proxy.
	env.WriteCredentials(ciCredentials("base", seed.CIUser))
	env.WriteConfig(`
		[profile base]
		region = us-east-1
		[profile dev]
		role_arn = ` + devRoleARN + `
		source_profile = base
		[profile prod]
		role_arn = ` + prodRoleARN + `
		source_profile = dev
		role_session_name = alice
	`)
	env.Proxy.Reset()
	if got, want := callerARN(t, env, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE=prod"),
		assumedARN(prodAccount, "prod", "alice"); got != want {
		t.Fatalf("CLI profile chain: caller %q, want %q", got, want)
	}
	chain := mustCalls(t, env.Proxy, "AssumeRole", 2)
	if k, _, _ := chain[0].ReturnedCredentials(); chain[1].AccessKeyID != k || k == "" {
		t.Errorf("second hop signed with %q, want first hop's key %q", chain[1].AccessKeyID, k)
	}

	// Injected STS errors reach the client as real STS errors.
	env.Proxy.InjectAccessDenied(1, ciUserARN, auditRoleARN)
	res = env.RunCmd(t, awsBin, "sts", "assume-role", "--role-arn", auditRoleARN, "--role-session-name", "denied")
	if res.Code == 0 || !strings.Contains(res.Stderr, "AccessDenied") || !strings.Contains(res.Stderr, auditRoleARN) {
		t.Errorf("injected AccessDenied not seen by the CLI: %s", res)
	}
	if c := env.Proxy.Calls("AssumeRole"); !c[len(c)-1].Injected || c[len(c)-1].Status != http.StatusForbidden {
		t.Errorf("injected call not recorded: %s", c[len(c)-1])
	}
	env.Proxy.InjectExpiredToken("GetCallerIdentity", 1)
	res = env.RunCmd(t, awsBin, "sts", "get-caller-identity")
	if res.Code == 0 || !strings.Contains(res.Stderr, "ExpiredToken") {
		t.Errorf("injected ExpiredToken not seen by the CLI: %s", res)
	}

	// … and aws-sdk-go-v2's STS client parses them into API errors.
	for _, tc := range []struct {
		inject func()
		code   string
		status int
	}{
		{func() { env.Proxy.InjectAccessDenied(1, ciUserARN, auditRoleARN) }, "AccessDenied", http.StatusForbidden},
		{func() { env.Proxy.InjectExpiredToken("AssumeRole", 1) }, "ExpiredToken", http.StatusBadRequest},
	} {
		tc.inject()
		cfg := motoConfig(seed.CIUser)
		cfg.BaseEndpoint = aws.String(env.Proxy.URL)
		_, err := sts.NewFromConfig(cfg).AssumeRole(context.Background(), &sts.AssumeRoleInput{
			RoleArn: aws.String(auditRoleARN), RoleSessionName: aws.String("sdk"),
		})
		var ae smithy.APIError
		var re *smithyhttp.ResponseError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.code || !errors.As(err, &re) || re.HTTPStatusCode() != tc.status {
			t.Errorf("Go SDK on injected %s: %v", tc.code, err)
		}
	}

	// The container endpoint serves moto credentials the CLI accepts.
	ctr := newContainerEndpoint(t, "smoke-token", motoAssumeRole(t, seed.CIUser, devRoleARN, "container"))
	if got, want := callerARN(t, env, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI="+ctr.URL, "AWS_CONTAINER_AUTHORIZATION_TOKEN="+ctr.Token),
		assumedARN(devAccount, "dev", "container"); got != want {
		t.Fatalf("container credentials: caller %q, want %q", got, want)
	}
	if ctr.Requests() == 0 || ctr.Unauthorized() != 0 {
		t.Errorf("container endpoint: %d requests, %d unauthorized", ctr.Requests(), ctr.Unauthorized())
	}
	last := env.Proxy.Calls("GetCallerIdentity")
	if got := last[len(last)-1].AccessKeyID; got != ctr.Keys.AccessKeyID {
		t.Errorf("container call signed with %q, want %q", got, ctr.Keys.AccessKeyID)
	}
	resp, err := http.Get(ctr.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || ctr.Unauthorized() != 1 {
		t.Errorf("no token: status %d, unauthorized count %d", resp.StatusCode, ctr.Unauthorized())
	}
}
