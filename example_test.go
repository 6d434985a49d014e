package rolehop_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolehop/rolehop"
)

// These examples need AWS credentials and roles, so they are compiled but
// not run.

// Assume one role in another account with the credentials found in the
// environment, and use the config with any service client.
func ExampleAssumeRole() {
	ctx := context.Background()
	cfg, err := rolehop.AssumeRole(ctx, "arn:aws:iam::222222222222:role/deployer",
		rolehop.WithSessionName("deploy-bot"),
		rolehop.WithRegion("eu-west-1"))
	if err != nil {
		log.Fatal(err)
	}
	// STS is called on first use, and again whenever less than five
	// minutes of validity remain.
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(aws.ToString(id.Arn)) // arn:aws:sts::222222222222:assumed-role/deployer/deploy-bot
}

// Reach a role through another one: a jump role in a central account, then
// the target role that trusts only the jump role. Each hop is assumed with
// the credentials of the one before it; hop options apply to the last.
func ExampleConfig() {
	ctx := context.Background()
	cfg, err := rolehop.Config(ctx, []string{
		"arn:aws:iam::111111111111:role/jump",
		"arn:aws:iam::222222222222:role/ops",
	}, rolehop.WithSessionName("ops-bot"), rolehop.WithExternalID("ops-2024"))
	if err != nil {
		log.Fatal(err)
	}
	out, err := s3.NewFromConfig(cfg).ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range out.Buckets {
		fmt.Println(aws.ToString(b.Name))
	}
}

// Use a profile of ~/.aws/config as the AWS CLI would — role chains,
// source_profile, credential_source, SSO — with credentials that refresh.
func ExampleProfile() {
	ctx := context.Background()
	cfg, err := rolehop.Profile(ctx, "prod")
	if err != nil {
		log.Fatal(err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(aws.ToString(id.Account))
}

// In a Lambda function, build the config once, outside the handler: every
// warm invocation then reuses the role's credentials. The base config is
// the execution role's, with the SDK's region, retry and endpoint settings,
// which the returned config keeps.
func ExampleWithBaseConfig() {
	// Init: once per cold start (in a real function, package-level
	// variables set in init or main).
	ctx := context.Background()
	base, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := rolehop.AssumeRole(ctx, "arn:aws:iam::222222222222:role/bot",
		rolehop.WithBaseConfig(base),
		rolehop.WithSessionName("lambda-bot"))
	if err != nil {
		log.Fatal(err)
	}
	client := s3.NewFromConfig(cfg)

	// Handler: once per invocation, e.g. lambda.Start(handler).
	handler := func(ctx context.Context) (int, error) {
		out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("reports-in-b")})
		if err != nil {
			return 0, err
		}
		return int(aws.ToInt32(out.KeyCount)), nil
	}
	_ = handler
}
