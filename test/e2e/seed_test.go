//go:build unix

package e2e

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Accounts and roles seeded into moto.
const (
	devAccount  = "111111111111"
	prodAccount = "222222222222"

	ciUserName = "ci-user"
	ciUserARN  = "arn:aws:iam::" + devAccount + ":user/" + ciUserName

	devRoleARN   = "arn:aws:iam::" + devAccount + ":role/dev"
	prodRoleARN  = "arn:aws:iam::" + prodAccount + ":role/prod"
	auditRoleARN = "arn:aws:iam::" + prodAccount + ":role/audit"
)

// assumedARN is the ARN moto (and STS) gives an assumed-role session.
func assumedARN(account, role, session string) string {
	return "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + session
}

// Keys is a static credential set.
type Keys struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// Seed is what seedAccounts created.
type Seed struct {
	// CIUser holds ci-user's access key (account 111111111111).
	CIUser Keys
}

var (
	seedMu   sync.Mutex
	seedDone *Seed
)

// seedAccounts creates, once per package run (moto's state is shared by all
// tests), user ci-user with an access key in 111111111111, role dev in
// 111111111111 and roles prod and audit in 222222222222.
func seedAccounts(t testing.TB) Seed {
	t.Helper()
	requireHarness(t)
	seedMu.Lock()
	defer seedMu.Unlock()
	if seedDone != nil {
		return *seedDone
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + devAccount + `:root"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`

	dev := motoIAM(devAccount)
	if _, err := dev.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(ciUserName)}); err != nil && !isAlreadyExists(err) {
		t.Fatalf("seed: CreateUser %s: %v", ciUserName, err)
	}
	key, err := dev.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(ciUserName)})
	if err != nil {
		t.Fatalf("seed: CreateAccessKey: %v", err)
	}
	for _, r := range []struct {
		account, name string
	}{{devAccount, "dev"}, {prodAccount, "prod"}, {prodAccount, "audit"}} {
		_, err := motoIAM(r.account).CreateRole(ctx, &iam.CreateRoleInput{
			RoleName:                 aws.String(r.name),
			AssumeRolePolicyDocument: aws.String(trust),
			MaxSessionDuration:       aws.Int32(43200),
		})
		if err != nil && !isAlreadyExists(err) {
			t.Fatalf("seed: CreateRole %s in %s: %v", r.name, r.account, err)
		}
	}
	seedDone = &Seed{CIUser: Keys{
		AccessKeyID:     aws.ToString(key.AccessKey.AccessKeyId),
		SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey),
	}}
	return *seedDone
}

func isAlreadyExists(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "EntityAlreadyExists"
}

// motoConfig is an aws.Config talking straight to moto (not through a test's
// proxy) with the given credentials.
func motoConfig(k Keys) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, k.SessionToken),
		BaseEndpoint: aws.String(motoURL),
	}
}

// motoIAM is an IAM client for one moto account (header x-moto-account-id).
func motoIAM(account string) *iam.Client {
	cfg := motoConfig(Keys{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "seed"})
	cfg.APIOptions = append(cfg.APIOptions, smithyhttp.AddHeaderValue("x-moto-account-id", account))
	return iam.NewFromConfig(cfg)
}

// motoAssumeRole assumes a role directly at moto (not recorded by any proxy)
// and returns the session's credentials.
func motoAssumeRole(t testing.TB, with Keys, roleARN, session string) Keys {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := sts.NewFromConfig(motoConfig(with)).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(roleARN),
		RoleSessionName: aws.String(session),
	})
	if err != nil {
		t.Fatalf("moto AssumeRole %s: %v", roleARN, err)
	}
	c := out.Credentials
	return Keys{
		AccessKeyID:     aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken:    aws.ToString(c.SessionToken),
		Expiration:      aws.ToTime(c.Expiration),
	}
}
