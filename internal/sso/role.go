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
		return aws.Credentials{}, fmt.Errorf("GetRoleCredentials for %s in %s: %s", p.SSO.RoleName, p.SSO.AccountID, oneLine(err))
	}
	c := out.RoleCredentials
	if c == nil {
		return aws.Credentials{}, fmt.Errorf("GetRoleCredentials for %s in %s returned no credentials", p.SSO.RoleName, p.SSO.AccountID)
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

func (p *RoleProvider) client() *sso.Client {
	opts := sso.Options{Region: p.SSO.Region, AppID: "rolehop", RetryMaxAttempts: 3}
	if p.Opts.HTTPClient != nil {
		opts.HTTPClient = p.Opts.HTTPClient
	}
	if p.SSO.PortalEndpoint != "" {
		opts.BaseEndpoint = aws.String(p.SSO.PortalEndpoint)
	}
	return sso.New(opts)
}

// Logout ends the portal session (best effort), and removes the token file.
func Logout(ctx context.Context, s *plan.SSO, o Options) (removed bool, err error) {
	path := CachePath(o.Home, s.TokenKey())
	t, rerr := ReadToken(path)
	if rerr == nil && t.ExpiresAt.After(o.now()) {
		_, _ = (&RoleProvider{SSO: s, Opts: o}).client().Logout(ctx, &sso.LogoutInput{AccessToken: aws.String(t.AccessToken)})
	}
	if err := removeIfExists(path); err != nil {
		return false, err
	}
	return rerr == nil, nil
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
