package sso

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"

	"github.com/rolehop/rolehop/internal/awserr"
	"github.com/rolehop/rolehop/internal/plan"
)

// RoleProvider returns the role credentials of an IAM Identity Center
// profile (portal GetRoleCredentials with the cached access token).
type RoleProvider struct {
	SSO  *plan.SSO
	Opts Options
}

// Retrieve implements aws.CredentialsProvider.
func (p *RoleProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	token, err := AccessToken(ctx, p.SSO, p.Opts)
	if err != nil {
		return aws.Credentials{}, err
	}
	out, err := p.client().GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{
		AccessToken: aws.String(token), AccountId: aws.String(p.SSO.AccountID), RoleName: aws.String(p.SSO.RoleName),
	})
	if err != nil {
		var unauthorized *ssotypes.UnauthorizedException
		if errors.As(err, &unauthorized) {
			return aws.Credentials{}, fmt.Errorf("%w: IAM Identity Center refused the access token of %s: run `%s`", ErrLoginNeeded, describe(p.SSO), p.Opts.LoginHint)
		}
		return aws.Credentials{}, fmt.Errorf("GetRoleCredentials for %s in %s: %s", p.SSO.RoleName, p.SSO.AccountID, describeErr(err, p.portalEndpoint(), "AWS_ENDPOINT_URL_SSO", p.Opts.AWS.Timeout()))
	}
	c := out.RoleCredentials
	if c == nil || aws.ToString(c.AccessKeyId) == "" || aws.ToString(c.SecretAccessKey) == "" || c.Expiration == 0 {
		// The SDK takes an HTTP 200 without the expected body as a success.
		return aws.Credentials{}, fmt.Errorf("GetRoleCredentials for %s in %s: IAM Identity Center at %s answered without role credentials, which is not a portal response — check AWS_ENDPOINT_URL_SSO and any proxy or firewall in between",
			p.SSO.RoleName, p.SSO.AccountID, p.portalEndpoint())
	}
	return aws.Credentials{
		AccessKeyID:     aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken:    aws.ToString(c.SessionToken),
		CanExpire:       true,
		// The portal gives the expiry in epoch milliseconds.
		Expires:   time.UnixMilli(c.Expiration).UTC(),
		AccountID: p.SSO.AccountID,
		Source:    "rolehop:sso",
	}, nil
}

// portalEndpoint is where GetRoleCredentials goes.
func (p *RoleProvider) portalEndpoint() string {
	if p.SSO.PortalEndpoint != "" {
		return p.SSO.PortalEndpoint
	}
	return "portal.sso." + p.SSO.Region + ".amazonaws.com"
}

// client is the portal client with the run's settings: its retryer (3
// attempts and jittered backoff by default) retries
// TooManyRequestsException (HTTP 429), 5xx, resets and timeouts; one
// GetRoleCredentials per chain needs no more. `sso populate`, which lists
// hundreds of accounts, has its own defaults (populate.NewPortal).
func (p *RoleProvider) client() *sso.Client {
	return sso.NewFromConfig(p.Opts.AWS.Config(p.SSO.Region, nil), func(o *sso.Options) {
		if p.SSO.PortalEndpoint != "" {
			o.BaseEndpoint = aws.String(p.SSO.PortalEndpoint)
		}
	})
}

// Logout ends the portal session (best effort), and removes the token file.
func Logout(ctx context.Context, s *plan.SSO, o Options) (removed bool, err error) {
	path := CachePath(o.Home, s.TokenKey())
	t, rerr := ReadToken(path)
	if rerr == nil && t.ExpiresAt.After(o.now()) {
		_, _ = (&RoleProvider{SSO: s, Opts: o}).client().Logout(ctx, &sso.LogoutInput{AccessToken: aws.String(t.AccessToken)})
	}
	if err := removeToken(path); err != nil {
		return false, err
	}
	return rerr == nil, nil
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// describeErr is the one-line cause of a failed IAM Identity Center call,
// with what to do for faults that are not API errors.
func describeErr(err error, endpoint, envVar string, timeout time.Duration) string {
	f := awserr.Classify(err, timeout)
	if msg, ok := f.Describe("IAM Identity Center", endpoint, envVar); ok {
		return msg
	}
	if f.Kind == awserr.API {
		if f.Message != "" {
			return f.Code + ": " + f.Message
		}
		return f.Code
	}
	return f.Cause
}
