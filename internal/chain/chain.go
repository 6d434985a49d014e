// Package chain builds the credentials provider for a whole plan: the
// source, then each hop wrapping the provider before it. Every step is
// behind an aws.CredentialsCache so a refresh of a later hop reuses earlier
// credentials that are still valid.
package chain

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/rolehop/rolehop/internal/hop"
	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/source"
)

// Options are the injectable parts of a chain.
type Options struct {
	// HTTPClient for STS and the credential endpoints; nil means a client
	// with bounded connect and request timeouts.
	HTTPClient *http.Client
	// Prompt asks for MFA codes; nil means there is no terminal.
	Prompt func(ctx context.Context, serial string) (string, error)
}

// DefaultHTTPClient bounds how long an unreachable endpoint can stall a run.
func DefaultHTTPClient() *http.Client {
	tr := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = 5 * time.Second }).
		GetTransport()
	return &http.Client{Timeout: 20 * time.Second, Transport: tr}
}

// Cause strips the SDK's cache wrapping ("failed to refresh cached
// credentials, …") from a chain failure so that the one-line message of the
// step that failed is what the user sees.
func Cause(err error) error {
	var he *hop.Error
	var se *source.Error
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &se):
		return se
	}
	return err
}

// Build returns the provider of the plan's final credentials.
func Build(p *plan.Plan, opts Options) (aws.CredentialsProvider, error) {
	if opts.HTTPClient == nil {
		opts.HTTPClient = DefaultHTTPClient()
	}
	src, err := source.New(p.Source, source.Options{HTTPClient: opts.HTTPClient})
	if err != nil {
		return nil, err
	}
	var prov aws.CredentialsProvider = aws.NewCredentialsCache(src)
	for i, h := range p.Hops {
		prov = aws.NewCredentialsCache(hop.New(h, i, prov, hop.Options{
			Region:     p.STSRegion,
			Endpoint:   p.STSEndpoint.Value,
			HTTPClient: opts.HTTPClient,
			Prompt:     opts.Prompt,
		}))
	}
	return prov, nil
}
