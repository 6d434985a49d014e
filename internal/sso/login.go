package sso

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"

	"github.com/rolehop/rolehop/internal/browser"
	"github.com/rolehop/rolehop/internal/plan"
)

// deviceGrant is the OAuth device-code grant type (RFC 8628).
const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

// LoginOptions configure a device-authorization login.
type LoginOptions struct {
	Options
	// Out receives the verification URL and code (stderr).
	Out io.Writer
	// OpenBrowser opens a URL; nil means print only (--no-browser).
	OpenBrowser func(url string) error
	// Sleep waits between polls; nil means a timer honouring ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Waiting shows that rolehop waits for the person to sign in (a
	// progress line); it returns the function that ends it. Nil: nothing.
	Waiting func(msg string) (stop func())
}

// waiting starts the progress line of a sign-in wait.
func (o LoginOptions) waiting(s *plan.SSO) (stop func()) {
	if o.Waiting == nil {
		return func() {}
	}
	return o.Waiting("waiting for the sign-in to " + describe(s) + " to be confirmed")
}

// LoginDevice runs the OAuth device authorization flow the way `aws sso
// login --use-device-code` does (AWS-SEMANTICS §9): RegisterClient,
// StartDeviceAuthorization, then CreateToken polls every `interval`
// seconds, 5 s more after each SlowDown, until the user approves or the
// code expires. The token is written to the AWS CLI's cache file.
func LoginDevice(ctx context.Context, s *plan.SSO, o LoginOptions) (*Token, error) {
	client := oidcClient(s, o.Options)
	reg, err := client.RegisterClient(ctx, &ssooidc.RegisterClientInput{
		ClientName: aws.String(fmt.Sprintf("rolehop-%d", o.now().Unix())),
		ClientType: aws.String("public"),
		Scopes:     s.Scopes,
	})
	if err != nil {
		return nil, fmt.Errorf("register with IAM Identity Center (%s): %s", s.Region, oneLine(err))
	}
	dev, err := client.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, StartUrl: aws.String(s.StartURL),
	})
	if err != nil {
		return nil, fmt.Errorf("start device authorization for %s: %s", s.StartURL, oneLine(err))
	}
	url := aws.ToString(dev.VerificationUriComplete)
	if url == "" {
		url = aws.ToString(dev.VerificationUri)
	}
	// Both come from the network: no control characters reach the terminal.
	fmt.Fprintf(o.Out, "rolehop: to sign in to %s, open %s and confirm the code %s\n", describe(s), printable(url), printable(aws.ToString(dev.UserCode)))
	if o.OpenBrowser != nil {
		var refused *browser.RefusedError
		if err := browser.CheckURL(url); errors.As(err, &refused) {
			fmt.Fprintf(o.Out, "rolehop: warning: IAM Identity Center sent a sign-in address that is %s, not https; rolehop did not open it: check sso_region, sso_start_url and AWS_ENDPOINT_URL_SSO_OIDC\n", refused.What)
		} else if err := o.OpenBrowser(url); err != nil {
			fmt.Fprintf(o.Out, "rolehop: could not open a browser (%v): open the URL yourself\n", err)
		}
	}
	sleep := o.Sleep
	if sleep == nil {
		sleep = func(ctx context.Context, d time.Duration) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
				return nil
			}
		}
	}
	interval := time.Duration(dev.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second
	}
	deadline := o.now().Add(time.Duration(dev.ExpiresIn) * time.Second)
	defer o.waiting(s)()
	for {
		if err := sleep(ctx, interval); err != nil {
			return nil, err
		}
		out, err := client.CreateToken(ctx, &ssooidc.CreateTokenInput{
			ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String(deviceGrant), DeviceCode: dev.DeviceCode,
		})
		var pending *oidctypes.AuthorizationPendingException
		var slow *oidctypes.SlowDownException
		var expired *oidctypes.ExpiredTokenException
		switch {
		case err == nil:
			return storeLogin(s, o.Options, reg, out)
		case errors.As(err, &pending):
		case errors.As(err, &slow):
			interval += 5 * time.Second
		case errors.As(err, &expired) || o.now().After(deadline):
			return nil, fmt.Errorf("the sign-in code expired before it was confirmed: run the login again")
		default:
			return nil, fmt.Errorf("sign-in to %s failed: %s", describe(s), oneLine(err))
		}
	}
}

// storeLogin writes a fresh login to the AWS CLI's token cache.
func storeLogin(s *plan.SSO, o Options, reg *ssooidc.RegisterClientOutput, out *ssooidc.CreateTokenOutput) (*Token, error) {
	path := CachePath(o.Home, s.TokenKey())
	t := &Token{StartURL: s.StartURL, Region: s.Region, AccessToken: aws.ToString(out.AccessToken),
		ExpiresAt: o.now().Add(time.Duration(out.ExpiresIn) * time.Second).UTC(), ClientID: aws.ToString(reg.ClientId),
		ClientSecret: aws.ToString(reg.ClientSecret), RegistrationExpiresAt: time.Unix(reg.ClientSecretExpiresAt, 0).UTC(),
		RefreshToken: aws.ToString(out.RefreshToken)}
	if old, err := ReadToken(path); err == nil {
		t.raw = old.raw
	}
	return t, t.write(path, o.Notice)
}

// removeToken deletes the token file at path if it is there (and passes
// the trust rule).
func removeToken(path string) error {
	d, name, err := tokenDir(path, false, nil)
	if err == nil {
		defer d.Close()
		err = d.Remove(name)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
