// Command cross-account is a bot that runs in account A and works in an S3
// bucket of account B, then — through B — in a bucket of account A again:
// the two directions of a cross-account Lambda bot, with rolehop building
// the credentials instead of hand-written AssumeRole code.
//
//	go run ./examples/cross-account \
//		-role-b arn:aws:iam::222222222222:role/bot-in-b -bucket-b reports-b \
//		-role-a arn:aws:iam::111111111111:role/bot-back-in-a -bucket-a reports-a \
//		-region ap-northeast-1
//
// The program is split the way a Lambda function should be: newBot builds
// every aws.Config and client once (at init, outside the handler), and
// handle is what each invocation runs. rolehop's credentials live in those
// configs, so warm invocations reuse them and STS is called again only when
// less than five minutes of validity remain. In a Lambda function main
// would end with lambda.Start(b.handle) instead of calling it once.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolehop/rolehop"
)

// sessionName names the bot's last session in each direction; it shows up
// in CloudTrail and in the assumed-role ARN, so whoever reads the logs
// knows which bot acted. (WithSessionName names the last hop, like
// --role-session-name: the hop through B in direction 2 gets rolehop's
// default name unless a profile names it.)
const sessionName = "cross-account-bot"

// flags are the program's settings; in a Lambda function they would be
// environment variables of the function.
type flags struct {
	roleB, bucketB string // a role in account B and B's bucket
	roleA, bucketA string // a role in account A (trusting role B) and A's bucket
	region         string
	key            string
	pathStyle      bool
}

// target is one account the bot works in.
type target struct {
	name   string // for the log lines: "B", "A via B"
	bucket string
	cfg    aws.Config
	s3     *s3.Client
}

// bot holds everything built once per process.
type bot struct {
	key     string
	targets []target
}

func main() {
	log.SetFlags(0)
	var f flags
	flag.StringVar(&f.roleB, "role-b", "", "ARN of the role to assume in account B (required)")
	flag.StringVar(&f.bucketB, "bucket-b", "", "bucket owned by account B (required)")
	flag.StringVar(&f.roleA, "role-a", "", "ARN of a role in account A that role B may assume (optional, with -bucket-a)")
	flag.StringVar(&f.bucketA, "bucket-a", "", "bucket owned by account A, written with the credentials of -role-a")
	flag.StringVar(&f.region, "region", "", "AWS region (default: AWS_REGION or the profile's region)")
	flag.StringVar(&f.key, "key", "rolehop-cross-account.txt", "object key to write and read back")
	flag.BoolVar(&f.pathStyle, "path-style", false, "address S3 as endpoint/bucket/key (needed by S3 emulators such as moto)")
	flag.Parse()
	if f.roleB == "" || f.bucketB == "" || (f.roleA == "") != (f.bucketA == "") {
		fmt.Fprintln(os.Stderr, "usage: cross-account -role-b ARN -bucket-b NAME [-role-a ARN -bucket-a NAME] [-region R]")
		flag.PrintDefaults()
		os.Exit(2)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Init: once per process (in Lambda, once per cold start).
	b, err := newBot(ctx, f)
	if err != nil {
		log.Fatal(err)
	}
	// Handler: once per invocation (in Lambda: lambda.Start(b.handle)).
	if err := b.handle(ctx); err != nil {
		log.Fatal(err)
	}
}

// newBot loads the ambient configuration and derives one config per account
// from it. Nothing here calls STS: rolehop assumes the roles on first use.
func newBot(ctx context.Context, f flags) (*bot, error) {
	// The ambient configuration: in Lambda, the execution role of account A
	// (its keys are in the environment). Loading it with the SDK keeps the
	// SDK's region, retry and endpoint settings (AWS_ENDPOINT_URL_S3, …);
	// rolehop returns copies of it that carry the role's credentials.
	var loadOpts []func(*config.LoadOptions) error
	if f.region != "" {
		loadOpts = append(loadOpts, config.WithRegion(f.region))
	}
	base, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}

	// Direction 1: A → B. Role B's trust policy names account A's
	// execution role as principal.
	inB, err := rolehop.AssumeRole(ctx, f.roleB,
		rolehop.WithBaseConfig(base),
		rolehop.WithSessionName(sessionName))
	if err != nil {
		return nil, err
	}
	b := &bot{key: f.key}
	b.add("B", f.bucketB, inB, f.pathStyle)

	// Direction 2: A → B → A. Role A's trust policy names role B, so the
	// bot reaches it through B: a two-hop chain from the same ambient
	// credentials. (rolehop.AssumeRole(ctx, f.roleA,
	// rolehop.WithBaseConfig(inB)) would do the same and share B's session
	// with direction 1.) A chained session lasts at most one hour; rolehop
	// renews it before that.
	if f.roleA != "" {
		viaB, err := rolehop.Config(ctx, []string{f.roleB, f.roleA},
			rolehop.WithBaseConfig(base),
			rolehop.WithSessionName(sessionName))
		if err != nil {
			return nil, err
		}
		b.add("A via B", f.bucketA, viaB, f.pathStyle)
	}
	return b, nil
}

func (b *bot) add(name, bucket string, cfg aws.Config, pathStyle bool) {
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle })
	b.targets = append(b.targets, target{name: name, bucket: bucket, cfg: cfg, s3: client})
}

// handle is one invocation: in each account, who am I, what is in the
// bucket, and a write read back.
func (b *bot) handle(ctx context.Context) error {
	for _, t := range b.targets {
		if err := b.roundTrip(ctx, t); err != nil {
			return fmt.Errorf("account %s: %w", t.name, err)
		}
	}
	return nil
}

func (b *bot) roundTrip(ctx context.Context, t target) error {
	id, err := sts.NewFromConfig(t.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("sts:GetCallerIdentity: %w", err)
	}
	fmt.Printf("[%s] identity: %s (account %s)\n", t.name, aws.ToString(id.Arn), aws.ToString(id.Account))

	list, err := t.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(t.bucket), MaxKeys: aws.Int32(10)})
	if err != nil {
		return fmt.Errorf("s3:ListObjectsV2 %s: %w", t.bucket, err)
	}
	fmt.Printf("[%s] s3://%s holds %d object(s)\n", t.name, t.bucket, aws.ToInt32(list.KeyCount))

	body := fmt.Sprintf("hello from %s\n", aws.ToString(id.Arn))
	_, err = t.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(t.bucket),
		Key:         aws.String(b.key),
		Body:        strings.NewReader(body),
		ContentType: aws.String("text/plain"),
	})
	if err != nil {
		return fmt.Errorf("s3:PutObject s3://%s/%s: %w", t.bucket, b.key, err)
	}

	got, err := t.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(t.bucket), Key: aws.String(b.key)})
	if err != nil {
		return fmt.Errorf("s3:GetObject s3://%s/%s: %w", t.bucket, b.key, err)
	}
	defer got.Body.Close()
	data, err := io.ReadAll(got.Body)
	if err != nil {
		return fmt.Errorf("reading s3://%s/%s: %w", t.bucket, b.key, err)
	}
	if !bytes.Equal(data, []byte(body)) {
		return fmt.Errorf("s3://%s/%s: read back %q, wrote %q", t.bucket, b.key, data, body)
	}
	fmt.Printf("[%s] s3://%s/%s round trip ok: %q\n", t.name, t.bucket, b.key, strings.TrimSpace(body))
	return nil
}
