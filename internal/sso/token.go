// Package sso is IAM Identity Center for rolehop: the access-token cache
// shared with the AWS CLI (~/.aws/sso/cache/<sha1>.json), refreshing it
// under a cross-process lock, the OIDC device-authorization login, and role
// credentials from the portal's GetRoleCredentials.
package sso

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/smithy-go"

	"github.com/rolehop/rolehop/internal/awsclient"
	"github.com/rolehop/rolehop/internal/awserr"
	"github.com/rolehop/rolehop/internal/fsutil"
	"github.com/rolehop/rolehop/internal/jsonobj"
	"github.com/rolehop/rolehop/internal/plan"
)

// RefreshWindow: a token with less than this left is refreshed, and `login`
// treats it as expired — the AWS CLI's 15 minutes (AWS-SEMANTICS §9).
const RefreshWindow = 15 * time.Minute

// timeFormat is how the AWS CLI writes expiresAt and registrationExpiresAt.
const timeFormat = "2006-01-02T15:04:05Z"

// CachePath is the AWS CLI's token file for key (sso-session name or legacy
// start URL): lower-case hex SHA-1 of the key (botocore SSOTokenLoader).
func CachePath(home, key string) string {
	sum := sha1.Sum([]byte(key))
	return filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json")
}

// Token is the cache file's content. Unknown fields are kept on rewrite,
// byte for byte (numbers keep their precision), and so are known fields
// whose value is not a string.
type Token struct {
	StartURL              string
	Region                string
	AccessToken           string
	ExpiresAt             time.Time
	ClientID              string
	ClientSecret          string
	RegistrationExpiresAt time.Time
	RefreshToken          string
	raw                   jsonobj.Object
}

// tokenDir opens the directory of the token file at path under fsutil's
// trust rule, and returns it with the file's name. For a write, a missing
// directory is created. With notice, the directory and the files opened
// through it are kept private (0700 / 0600), and notice is told when they
// were more open; without, they are left as they are.
func tokenDir(path string, write bool, notice func(string, ...any)) (*fsutil.Dir, string, error) {
	d, err := fsutil.OpenDir(filepath.Dir(path), fsutil.DirOptions{Create: write, Private: write || notice != nil, Notice: notice})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", err
	}
	if err != nil {
		return nil, "", fmt.Errorf("IAM Identity Center token cache: %w", err)
	}
	return d, filepath.Base(path), nil
}

// ReadToken reads a token file, in a directory that passes fsutil's trust
// rule; a missing file is fs.ErrNotExist. A file without a non-empty
// accessToken string and a valid expiresAt is an error. Times are read to
// the second (the AWS CLI writes whole seconds).
func ReadToken(path string) (*Token, error) { return readToken(path, nil) }

// readToken is ReadToken; with notice, a token cache that others could
// read is tightened (see tokenDir).
func readToken(path string, notice func(string, ...any)) (*Token, error) {
	d, name, err := tokenDir(path, false, notice)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	b, err := d.ReadFile(name)
	if err != nil {
		return nil, err
	}
	raw := jsonobj.Object{}
	if err := json.Unmarshal(b, &raw); err != nil || raw == nil {
		return nil, fmt.Errorf("SSO token cache %s is not a JSON object: %s", path, jsonProblem(err))
	}
	str := func(k string) string { s, _ := raw.String(k); return s }
	t := &Token{StartURL: str("startUrl"), Region: str("region"), AccessToken: str("accessToken"), ClientID: str("clientId"),
		ClientSecret: str("clientSecret"), RefreshToken: str("refreshToken"), raw: raw}
	// botocore parses with dateutil; the CLI writes "…Z", the Go SDK RFC 3339.
	if t.ExpiresAt, err = parseTime(str("expiresAt")); err != nil || t.AccessToken == "" {
		return nil, fmt.Errorf("SSO token cache %s has no valid accessToken/expiresAt", path)
	}
	t.RegistrationExpiresAt, _ = parseTime(str("registrationExpiresAt"))
	return t, nil
}

// jsonProblem describes a decoding error without quoting the file (it
// holds tokens): where a syntax error is, or what the file holds instead.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	switch {
	case err == nil:
		return "it is null"
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	}
	return "it holds another JSON value"
}

// parseTime reads the time formats found in token caches, in UTC and to
// the second. Times whose year is not 0000–9999 in UTC are refused: they
// could not be written back in the AWS CLI's format.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05UTC", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t = t.UTC().Truncate(time.Second); t.Year() < 0 || t.Year() > 9999 {
				break
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", s)
}

// Write stores t at path (0600 in a private directory, atomically),
// keeping unknown fields and known fields that are not strings. An empty
// string field is removed.
func (t *Token) Write(path string) error { return t.write(path, nil) }

// write is Write, telling notice when it tightened the directory or file.
func (t *Token) write(path string, notice func(string, ...any)) error {
	raw := t.raw.Clone()
	set := func(k, v string) {
		switch _, wasString := raw.String(k); {
		case v != "":
			raw.SetString(k, v)
		case wasString:
			delete(raw, k)
		}
	}
	set("startUrl", t.StartURL)
	set("region", t.Region)
	set("accessToken", t.AccessToken)
	set("expiresAt", t.ExpiresAt.UTC().Format(timeFormat))
	set("clientId", t.ClientID)
	set("clientSecret", t.ClientSecret)
	set("refreshToken", t.RefreshToken)
	if !t.RegistrationExpiresAt.IsZero() {
		set("registrationExpiresAt", t.RegistrationExpiresAt.UTC().Format(timeFormat))
	}
	b, err := raw.Marshal()
	if err != nil {
		return err
	}
	d, name, err := tokenDir(path, true, notice)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.WriteFile(name, b, 0o600)
}

// canRefresh reports whether t holds what CreateToken(refresh_token) needs.
func (t *Token) canRefresh(now time.Time) bool {
	return t.RefreshToken != "" && t.ClientID != "" && t.ClientSecret != "" && t.RegistrationExpiresAt.After(now)
}

// Options are the injectable parts of the SSO clients.
type Options struct {
	Home string // for the token cache
	// AWS is the HTTP client and retry settings of the sso and sso-oidc
	// clients (awsclient.New).
	AWS awsclient.Settings
	Now func() time.Time
	// LoginHint is the command to suggest when a login is needed.
	LoginHint string
	// Notice is told when the token cache was tightened (it had become
	// readable by others); nil: nobody.
	Notice func(format string, args ...any)
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// ErrLoginNeeded means there is no usable token: the user must log in.
var ErrLoginNeeded = errors.New("login needed")

// AccessToken returns a valid access token for s, refreshing it with the
// refresh token when less than RefreshWindow is left. The refresh happens
// under a lock on the token file, so concurrent processes refresh once.
func AccessToken(ctx context.Context, s *plan.SSO, o Options) (string, error) {
	path := CachePath(o.Home, s.TokenKey())
	t, err := readToken(path, o.Notice)
	if err == nil && t.ExpiresAt.Sub(o.now()) > RefreshWindow {
		return t.AccessToken, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: no IAM Identity Center login for %s: run `%s`", ErrLoginNeeded, describe(s), o.LoginHint)
	}
	if err != nil {
		return "", err
	}
	d, name, err := tokenDir(path, true, o.Notice)
	if err != nil {
		return "", err
	}
	defer d.Close()
	lock, err := d.Lock(ctx, name+".lock", time.Minute, nil)
	if err != nil {
		return "", err
	}
	defer lock.Release()
	if t, err = ReadToken(path); err != nil {
		return "", err
	}
	now := o.now()
	if t.ExpiresAt.Sub(now) > RefreshWindow {
		return t.AccessToken, nil // another process refreshed it
	}
	if t.canRefresh(now) {
		if err := refresh(ctx, s, t, o); err == nil {
			return t.AccessToken, t.write(path, o.Notice)
		} else if !t.ExpiresAt.After(now) {
			if f := awserr.Classify(err, 0); f.Retryable() || f.Kind == awserr.NotAWS {
				// The service failed, not the refresh token: a login now
				// would meet the same fault.
				return "", fmt.Errorf("the IAM Identity Center session for %s expired and refreshing it failed: %s", describe(s), describeErr(err, oidcEndpoint(s), "AWS_ENDPOINT_URL_SSO_OIDC", o.AWS.Timeout()))
			}
			return "", fmt.Errorf("%w: the IAM Identity Center session for %s expired and could not be refreshed (%s): run `%s`", ErrLoginNeeded, describe(s), apiError(err), o.LoginHint)
		}
	}
	if t.ExpiresAt.After(now) {
		return t.AccessToken, nil // still valid, just close to expiry
	}
	return "", fmt.Errorf("%w: the IAM Identity Center session for %s expired at %s: run `%s`", ErrLoginNeeded, describe(s), t.ExpiresAt.Format(time.RFC3339), o.LoginHint)
}

// refresh trades t's refresh token for a new access token.
func refresh(ctx context.Context, s *plan.SSO, t *Token, o Options) error {
	out, err := oidcClient(s, o).CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: aws.String(t.ClientID), ClientSecret: aws.String(t.ClientSecret),
		GrantType: aws.String("refresh_token"), RefreshToken: aws.String(t.RefreshToken),
	})
	if err != nil {
		return err
	}
	t.AccessToken = aws.ToString(out.AccessToken)
	t.ExpiresAt = o.now().Add(time.Duration(out.ExpiresIn) * time.Second).UTC()
	if out.RefreshToken != nil {
		t.RefreshToken = aws.ToString(out.RefreshToken)
	}
	return nil
}

// apiError shortens an SDK error to "Code: message" when it is an API error.
func apiError(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		if msg := api.ErrorMessage(); msg != "" {
			return api.ErrorCode() + ": " + msg
		}
		return api.ErrorCode()
	}
	return oneLine(err)
}

// oidcEndpoint is where CreateToken goes.
func oidcEndpoint(s *plan.SSO) string {
	if s.OIDCEndpoint != "" {
		return s.OIDCEndpoint
	}
	return "oidc." + s.Region + ".amazonaws.com"
}

// oidcClient is the sso-oidc client (unsigned calls) with the run's
// settings. Its retryer retries 5xx, resets and timeouts; a device login's
// AuthorizationPendingException and SlowDownException are not retryable
// errors, so polling is LoginDevice's own loop.
func oidcClient(s *plan.SSO, o Options) *ssooidc.Client {
	return ssooidc.NewFromConfig(o.AWS.Config(s.Region, nil), func(opts *ssooidc.Options) {
		if s.OIDCEndpoint != "" {
			opts.BaseEndpoint = aws.String(s.OIDCEndpoint)
		}
	})
}

func describe(s *plan.SSO) string {
	if s.Session != "" {
		return "sso-session " + s.Session
	}
	return s.StartURL
}
