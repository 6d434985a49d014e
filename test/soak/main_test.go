//go:build unix

package soak

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/rolehop/rolehop/test/internal/harness"
)

// Package-wide state set up by TestMain.
var (
	// skipReason, when non-empty, makes every soak skip (moto_server missing
	// and not running in CI).
	skipReason string
	// rolehopBin is the rolehop binary under test.
	rolehopBin string
	// motoURL is the base URL of the package's moto_server.
	motoURL string
	// shBin is the shell exec's child runs in.
	shBin string
	// baseKeys is ci-user's access key, the source of every chain.
	baseKeys Keys
)

// Keys is a static credential set.
type Keys struct{ AccessKeyID, SecretAccessKey string }

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	tools, missing := harness.LookTools("moto_server", "sh")
	if len(missing) > 0 {
		msg := "soak: " + strings.Join(missing, ", ") + " not found on PATH"
		if harness.InCI() {
			fmt.Fprintf(os.Stderr, "FAIL: %s (required when CI=true)\n", msg)
			return 1
		}
		skipReason = msg + "; skipping the soaks (set CI=true to make this a failure)"
		fmt.Fprintln(os.Stderr, skipReason)
		return m.Run()
	}
	shBin = tools["sh"]
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "FAIL: soak: %v\n", err)
		return 1
	}
	// Not at the same time as test/e2e: the soaks load the machine on
	// purpose, and e2e's timeouts are not made for that.
	release, err := harness.Serialize()
	if err != nil {
		return fail(err)
	}
	defer release()
	dir, err := os.MkdirTemp("", "rolehop-soak-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	if bin := os.Getenv("SOAK_ROLEHOP_BIN"); bin != "" {
		if rolehopBin, err = filepath.Abs(bin); err != nil {
			return fail(err)
		}
	} else if rolehopBin, err = harness.BuildRolehop(dir); err != nil {
		return fail(fmt.Errorf("building rolehop: %w", err))
	}
	url, stop, err := harness.StartMoto(dir, "moto.log")
	if err != nil {
		return fail(err)
	}
	defer stop()
	motoURL = url
	if baseKeys, err = seed(); err != nil {
		return fail(fmt.Errorf("seeding moto: %w", err))
	}
	return m.Run()
}

// Accounts and roles of the soak's chains: base (ci-user) → dev, then
// prod, audit or ops — three chains sharing their first hop.
const (
	devAccount  = "111111111111"
	prodAccount = "222222222222"
	opsAccount  = "333333333333"
)

// role is one hop's role.
type role struct{ account, name, session string }

func (r role) arn() string { return "arn:aws:iam::" + r.account + ":role/" + r.name }

// assumedARN is what GetCallerIdentity answers for the role's sessions.
func (r role) assumedARN() string {
	return "arn:aws:sts::" + r.account + ":assumed-role/" + r.name + "/" + r.session
}

var (
	devRole   = role{devAccount, "dev", "soak"}
	prodRole  = role{prodAccount, "prod", "alice"}
	auditRole = role{prodAccount, "audit", "auditor"}
	opsRole   = role{opsAccount, "ops", "operator"}
)

// profiles maps each chain's profile to its last role.
var profiles = map[string]role{"prod": prodRole, "audit": auditRole, "ops": opsRole}

// seed creates user ci-user with an access key, and the roles.
func seed() (Keys, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iamFor := func(account string) *iam.Client {
		cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(motoURL),
			Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "seed", "")}
		cfg.APIOptions = append(cfg.APIOptions, smithyhttp.AddHeaderValue("x-moto-account-id", account))
		return iam.NewFromConfig(cfg)
	}
	dev := iamFor(devAccount)
	if _, err := dev.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ci-user")}); err != nil {
		return Keys{}, err
	}
	key, err := dev.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ci-user")})
	if err != nil {
		return Keys{}, err
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + devAccount + `:root"},"Action":"sts:AssumeRole"}]}`
	for _, r := range []role{devRole, prodRole, auditRole, opsRole} {
		_, err := iamFor(r.account).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(r.name), AssumeRolePolicyDocument: aws.String(trust)})
		var ae smithy.APIError
		if err != nil && !(errors.As(err, &ae) && ae.ErrorCode() == "EntityAlreadyExists") {
			return Keys{}, fmt.Errorf("CreateRole %s: %w", r.arn(), err)
		}
	}
	return Keys{aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)}, nil
}

// requireHarness skips the test when the tools are missing.
func requireHarness(t testing.TB) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// envInt reads a positive integer setting.
func envInt(t testing.TB, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// envDuration reads a duration setting (0 allowed).
func envDuration(t testing.TB, name string, def time.Duration) time.Duration {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		t.Fatalf("%s=%q: want a duration such as 30s", name, s)
	}
	return d
}
