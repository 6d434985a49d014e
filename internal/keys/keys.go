// Package keys is what `rolehop keys` does with long-term access keys:
// store them in the OS keychain (add), list and forget them, move them out
// of ~/.aws/credentials or aws-vault's keychain (import), and rotate them
// in IAM (rotate). The keychain itself is internal/keychain; this package
// decides the order of steps so that a failure at any step leaves a working
// key stored.
package keys

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolehop/rolehop/internal/awsclient"
	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/awserr"
	"github.com/rolehop/rolehop/internal/keychain"
	"github.com/rolehop/rolehop/internal/plan"
)

// Env is what every keys operation works with.
type Env struct {
	Getenv func(string) string
	// Config is the parsed ~/.aws/config and ~/.aws/credentials.
	Config *awsconfig.Config
	// Keychain reaches the stores (passphrase prompt, pass's stderr).
	Keychain keychain.Settings
	// Notice tells the person what happened, one sentence a call
	// (stderr); Warn what they should act on.
	Notice, Warn func(format string, args ...any)
	// Out receives a command's result (keys list).
	Out io.Writer
	// HTTPClient, if set, carries every AWS call (tests inject faults).
	HTTPClient awsclient.Settings
	// Now tells the time; nil means time.Now.
	Now func() time.Time
	// MFA returns a code for an MFA device serial (the terminal prompt or
	// --mfa-process); nil: no way to ask.
	MFA func(ctx context.Context, serial string) (string, error)
}

func (e *Env) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

func (e *Env) notice(format string, args ...any) {
	if e.Notice != nil {
		e.Notice(format, args...)
	}
}

func (e *Env) warn(format string, args ...any) {
	if e.Warn != nil {
		e.Warn(format, args...)
	}
}

// target is where a profile's AWS calls go: the region and endpoints the
// AWS CLI would use for it, and the run's retry settings.
type target struct {
	region      string
	stsEndpoint string
	iamEndpoint string
	settings    awsclient.Settings
}

// targetFor resolves the AWS calls of profile: region from AWS_REGION,
// AWS_DEFAULT_REGION, the profile's region, else us-east-1; endpoints from
// AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_IAM, then AWS_ENDPOINT_URL, unless
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true; retries as every command
// (plan.ResolveRetry).
func (e *Env) targetFor(profile string) (target, error) {
	r, err := plan.ResolveRetry(e.Config, profile, e.Getenv)
	if err != nil {
		return target{}, err
	}
	t := target{region: cmp.Or(e.Getenv("AWS_REGION"), e.Getenv("AWS_DEFAULT_REGION"))}
	if t.region == "" {
		if p, ok := e.Config.Profile(profile); ok {
			if v, ok := p.Get("region"); ok {
				t.region = strings.TrimSpace(v.Value)
			}
		}
	}
	if t.region == "" {
		t.region = "us-east-1"
	}
	if !strings.EqualFold(e.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		t.stsEndpoint = cmp.Or(e.Getenv("AWS_ENDPOINT_URL_STS"), e.Getenv("AWS_ENDPOINT_URL"))
		t.iamEndpoint = cmp.Or(e.Getenv("AWS_ENDPOINT_URL_IAM"), e.Getenv("AWS_ENDPOINT_URL"))
	}
	t.settings = awsclient.New(r)
	if e.HTTPClient.HTTPClient != nil {
		t.settings.HTTPClient = e.HTTPClient.HTTPClient
	}
	return t, nil
}

func provider(k keychain.Keys) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, "")
}

func (t target) sts(creds aws.CredentialsProvider) *sts.Client {
	return sts.NewFromConfig(t.settings.Config(t.region, creds), func(o *sts.Options) {
		if t.stsEndpoint != "" {
			o.BaseEndpoint = aws.String(t.stsEndpoint)
		}
	})
}

// iam is an IAM client; IAM is global, signed in us-east-1 (the aws-cn and
// aws-us-gov partitions sign in their own regions).
func (t target) iam(creds aws.CredentialsProvider) *iam.Client {
	region := "us-east-1"
	switch {
	case strings.HasPrefix(t.region, "cn-"):
		region = "cn-north-1"
	case strings.HasPrefix(t.region, "us-gov-"):
		region = "us-gov-west-1"
	}
	return iam.NewFromConfig(t.settings.Config(region, creds), func(o *iam.Options) {
		if t.iamEndpoint != "" {
			o.BaseEndpoint = aws.String(t.iamEndpoint)
		}
	})
}

// whoami is one GetCallerIdentity with k: the ARN the keys sign as.
func (t target) whoami(ctx context.Context, k keychain.Keys) (string, error) {
	out, err := t.sts(provider(k)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("the keys %s do not work: %s", plan.MaskKeyID(k.AccessKeyID), t.explain("STS", t.stsEndpoint, "AWS_ENDPOINT_URL_STS", err))
	}
	return aws.ToString(out.Arn), nil
}

// CheckKeys refuses what cannot be a pair of long-term access keys, without
// ever quoting the secret.
func CheckKeys(k keychain.Keys) error {
	id := strings.TrimSpace(k.AccessKeyID)
	switch {
	case id == "":
		return fmt.Errorf("the access key id is empty")
	case strings.HasPrefix(id, "ASIA"):
		return fmt.Errorf("%s is a temporary key (ASIA…): the keychain holds long-term IAM user keys (AKIA…); temporary credentials belong in the cache", plan.MaskKeyID(id))
	case len(id) < 16 || len(id) > 128 || strings.ContainsAny(id, " \t\r\n"):
		return fmt.Errorf("%q is not an access key id (16 to 128 letters and digits, like AKIAIOSFODNN7EXAMPLE)", plan.MaskKeyID(id))
	case k.SecretAccessKey == "":
		return fmt.Errorf("the secret access key is empty")
	case strings.ContainsAny(k.SecretAccessKey, " \t\r\n"):
		return fmt.Errorf("the secret access key of %s has white space in it: paste it again", plan.MaskKeyID(id))
	}
	return nil
}

// explain is one line for a failed call: the service's own error code and
// message, or what awserr makes of a throttle, an outage or a non-AWS
// answer.
func (t target) explain(service, endpoint, envVar string, err error) string {
	f := awserr.Classify(err, t.settings.Timeout())
	if endpoint == "" {
		endpoint = service + " in " + t.region
	}
	if msg, ok := f.Describe(service, endpoint, envVar); ok {
		return msg
	}
	if f.Code != "" {
		return f.Code + ": " + f.Message
	}
	return f.Cause
}
