//go:build unix

package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// authMoto is a private moto_server in auth mode (SigV4 checked, IAM
// policies evaluated): auth mode is server-wide, so the shared one cannot
// be used. Its IAM world, all in 111111111111:
//
//	doc-user    inline policy: sts:AssumeRole, iam:GetRole on *
//	doc-getrole inline policy: iam:GetRole only
//	doc-gone    its access key was deleted
//	ext-role      trusts doc-user if sts:ExternalId = "abc123"
//	mfa-role      trusts doc-user if aws:MultiFactorAuthPresent
//	other-role    trusts user somebody-else only
//	username-role trusts doc-user if sts:RoleSessionName = ${aws:username}
//	open-role     trusts doc-user and doc-getrole
type authMoto struct {
	url                   string
	user, getRole, gone   Keys
	userARN, getRoleARN   string
	extRole, mfaRole      string
	otherRole, userRole   string
	openRole              string
	keys                  []Keys
	closeServer, cleanups func()
}

func authRole(name string) string { return "arn:aws:iam::" + devAccount + ":role/" + name }

// startAuthMoto starts, seeds and switches on an auth-mode moto_server,
// stopped at the end of t.
func startAuthMoto(t *testing.T) *authMoto {
	t.Helper()
	requireHarness(t)
	url, stop, err := startMotoServer(t.TempDir(), "moto-auth.log")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	m := &authMoto{url: url}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := seedIAMClient(url)
	user := func(name, policy string) (Keys, string) {
		out, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
		if err != nil {
			t.Fatalf("CreateUser %s: %v", name, err)
		}
		if policy != "" {
			if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}); err != nil {
				t.Fatalf("PutUserPolicy %s: %v", name, err)
			}
		}
		key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
		if err != nil {
			t.Fatalf("CreateAccessKey %s: %v", name, err)
		}
		k := Keys{AccessKeyID: aws.ToString(key.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey)}
		m.keys = append(m.keys, k)
		return k, aws.ToString(out.User.Arn)
	}
	m.user, m.userARN = user("doc-user", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","iam:GetRole"],"Resource":"*"}]}`)
	m.getRole, m.getRoleARN = user("doc-getrole", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"*"}]}`)
	m.gone, _ = user("doc-gone", "")
	if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("doc-gone"), AccessKeyId: aws.String(m.gone.AccessKeyID)}); err != nil {
		t.Fatalf("DeleteAccessKey: %v", err)
	}
	role := func(name, principal, condition string) string {
		doc := `{"Version":"2012-10-17","Statement":[{"Sid":"Trust","Effect":"Allow","Principal":{"AWS":` + principal + `},"Action":"sts:AssumeRole"`
		if condition != "" {
			doc += `,"Condition":` + condition
		}
		doc += `}]}`
		if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(doc)}); err != nil {
			t.Fatalf("CreateRole %s: %v", name, err)
		}
		return authRole(name)
	}
	q := func(s string) string { return `"` + s + `"` }
	m.extRole = role("ext-role", q(m.userARN), `{"StringEquals":{"sts:ExternalId":"abc123"}}`)
	m.mfaRole = role("mfa-role", q(m.userARN), `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`)
	m.otherRole = role("other-role", q("arn:aws:iam::"+devAccount+":user/somebody-else"), "")
	m.userRole = role("username-role", q(m.userARN), `{"StringEquals":{"sts:RoleSessionName":"${aws:username}"}}`)
	m.openRole = role("open-role", `[`+q(m.userARN)+`,`+q(m.getRoleARN)+`]`, "")

	switchOnAuth(ctx, t, url)
	return m
}

// env is a test environment whose proxy fronts the auth-mode moto.
func (m *authMoto) env(t *testing.T, k Keys) *TestEnv {
	t.Helper()
	env := newTestEnv(t)
	env.Proxy = newProxy(t, m.url)
	env.Set("AWS_ENDPOINT_URL_STS", env.Proxy.URL)
	env.Set("AWS_ENDPOINT_URL", env.Proxy.URL)
	useEnvKeys(env, k)
	return env
}

// TestDoctorAuthMode: failures produced by moto's real SigV4 and policy
// checks (or, for what moto never checks, an injected AccessDenied in
// front of moto's real trust policy).
func TestDoctorAuthMode(t *testing.T) {
	t.Parallel()
	m := startAuthMoto(t)

	t.Run("deleted access key", func(t *testing.T) {
		t.Parallel()
		env := m.env(t, m.gone)
		rep := doctorJSON(t, env, 1, m.keys, "--role-arn", m.extRole)
		wantDoctorFinding(t, rep, "source", "invalid-key", "does not know", "deleted", "create a new access key")
	})

	t.Run("wrong external id", func(t *testing.T) {
		t.Parallel()
		env := m.env(t, m.user)
		rep := doctorJSON(t, env, 1, m.keys, "--role-arn", m.extRole, "--external-id", "wrong-id")
		wantDoctorFinding(t, rep, "hop 1", "trust-policy", `statement 1 (Sid "Trust")`, "sts:ExternalId", `wants "abc123"`, `sends "wrong-id"`, "--external-id")
		if c := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]; c.Injected || c.Status != http.StatusForbidden {
			t.Errorf("AssumeRole %s: want moto's own 403", c)
		}
		mustCalls(t, env.Proxy, "GetRole", 1)
	})

	t.Run("external id not sent", func(t *testing.T) {
		t.Parallel()
		env := m.env(t, m.user)
		// moto lets a missing external id pass; STS would not.
		env.Proxy.InjectAccessDenied(10, m.userARN, m.extRole)
		rep := doctorJSON(t, env, 1, m.keys, "--role-arn", m.extRole)
		wantDoctorFinding(t, rep, "hop 1", "trust-policy", "sts:ExternalId", "sends no external id", "--external-id abc123")
	})

	t.Run("MFA required", func(t *testing.T) {
		t.Parallel()
		env := m.env(t, m.user)
		env.Proxy.InjectAccessDenied(10, m.userARN, m.mfaRole) // moto never checks MFA
		rep := doctorJSON(t, env, 1, m.keys, "--role-arn", m.mfaRole)
		wantDoctorFinding(t, rep, "hop 1", "trust-policy", "aws:MultiFactorAuthPresent", "mfa_serial = arn:aws:iam::"+devAccount+":mfa/doc-user", "--serial-number")
	})

	t.Run("trusts another principal", func(t *testing.T) {
		t.Parallel()
		env := m.env(t, m.user)
		rep := doctorJSON(t, env, 1, m.keys, "--role-arn", m.otherRole)
		wantDoctorFinding(t, rep, "hop 1", "trust-policy", "trusts arn:aws:iam::"+devAccount+":user/somebody-else, not the caller "+m.userARN, `add "`+m.userARN+`" to its Principal`)
	})

	t.Run("session name must be the user name", func(t *testing.T) {
		t.Parallel()
		env := m.env(t, m.user)
		env.Proxy.InjectAccessDenied(10, m.userARN, m.userRole) // moto does not check sts:RoleSessionName
		rep := doctorJSON(t, env, 1, m.keys, "--role-arn", m.userRole, "--role-session-name", "laptop")
		wantDoctorFinding(t, rep, "hop 1", "trust-policy", "sts:RoleSessionName", `(= "doc-user")`, `sends "laptop"`, "-u (--username-session)")
	})

	t.Run("trust allows, caller lacks sts:AssumeRole", func(t *testing.T) {
		t.Parallel()
		env := m.env(t, m.getRole)
		rep := doctorJSON(t, env, 1, m.keys, "--role-arn", m.openRole)
		wantDoctorFinding(t, rep, "hop 1", "caller-permission", "allows "+m.getRoleARN, "own permissions", "sts:AssumeRole on "+m.openRole, "rolehop policy")
		if c := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]; c.Injected {
			t.Errorf("AssumeRole %s: want moto's own denial", c)
		}
	})

	t.Run("and -u fixes the session name", func(t *testing.T) {
		t.Parallel()
		env := m.env(t, m.user)
		rep := doctorJSON(t, env, 0, m.keys, "--role-arn", m.userRole, "-u")
		if got := rep.Steps[1].Identity; got == nil || got.ARN != assumedARN(devAccount, "username-role", "doc-user") {
			t.Errorf("hop 1 identity %+v", got)
		}
	})
}

// seedIAMClient is an IAM client of moto at url, in the dev account, for
// seeding it before auth mode is on.
func seedIAMClient(url string) *iam.Client {
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "seed"}, nil
		})}
	cfg.APIOptions = append(cfg.APIOptions, smithyhttp.AddHeaderValue("x-moto-account-id", devAccount))
	return iam.NewFromConfig(cfg)
}

// switchOnAuth turns on moto's auth mode from the next request on (MOTO.md).
func switchOnAuth(ctx context.Context, t *testing.T, url string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/moto-api/reset-auth", strings.NewReader("0"))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("reset-auth: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset-auth: HTTP %d", resp.StatusCode)
	}
}
