package source

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rolehop/rolehop/internal/login"
	"github.com/rolehop/rolehop/internal/plan"
)

// loginProvider hands out the credentials of an `aws login` session
// (internal/login: read from the AWS CLI's cache, refreshed under a lock).
type loginProvider struct {
	src  plan.Source
	opts login.Options
}

func newLogin(src plan.Source, opts Options) *loginProvider {
	return &loginProvider{src: src, opts: login.Options{
		Region: src.Login.Region, Endpoint: src.Login.Endpoint, AWS: opts.AWS,
		Now: opts.Clock, Notice: opts.Notice, MinTTL: opts.MinTTL, LoginHint: LoginHint(src),
	}}
}

// Retrieve implements aws.CredentialsProvider.
func (p *loginProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	return login.Credentials(ctx, p.src.Login.CacheDir, p.src.Login.Session, p.opts)
}
