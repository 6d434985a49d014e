package login

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/logincreds"
	"github.com/aws/aws-sdk-go-v2/service/signin"
	signintypes "github.com/aws/aws-sdk-go-v2/service/signin/types"

	"github.com/rolehop/rolehop/internal/awsclient"
	"github.com/rolehop/rolehop/internal/awserr"
	"github.com/rolehop/rolehop/internal/fsutil"
)

// RefreshWindow: a session with less than this left is refreshed first, as
// botocore does (LoginCredentialFetcher._REFRESH_THRESHOLD, 5 minutes).
const RefreshWindow = 5 * time.Minute

// DefaultLockTimeout bounds the wait for another process's refresh.
const DefaultLockTimeout = time.Minute

// maxSkew is how far the local clock may be from the sign-in service's
// before a refused refresh is blamed on it: a DPoP proof carries the local
// time (iat), which the service checks.
const maxSkew = 5 * time.Minute

// Options are what a session needs besides its file.
type Options struct {
	// Region of the sign-in service (the profile's region).
	Region string
	// Endpoint overrides the sign-in endpoint (AWS_ENDPOINT_URL_SIGNIN).
	Endpoint string
	// AWS is the run's HTTP client and retry settings
	// (ROLEHOP_HTTP_TIMEOUT, max_attempts, retry_mode).
	AWS awsclient.Settings
	// ClientOptions are more options for the sign-in client (tests).
	ClientOptions []func(*signin.Options)
	// MinTTL: a session with less left is refreshed; below RefreshWindow,
	// RefreshWindow.
	MinTTL time.Duration
	// LockTimeout bounds the wait for another process's refresh; 0:
	// DefaultLockTimeout.
	LockTimeout time.Duration
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Notice is told when the cache was tightened (it had become readable
	// by others); nil: nobody.
	Notice func(format string, args ...any)
	// LoginHint is the command that starts a new session, e.g. `aws login
	// --profile console`.
	LoginHint string
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o Options) window() time.Duration { return max(o.MinTTL, RefreshWindow) }

// ErrLoginNeeded means there is no usable session: the user must run `aws
// login` again.
var ErrLoginNeeded = errors.New("login needed")

// Credentials returns the credentials of the `aws login` session cached as
// dir/FileName(session). While more than the refresh window is left they
// come from the file, with no network call; otherwise the session is
// refreshed first, under a lock on the file (NAME.lock), so that processes
// started together refresh once: the refresh token rotates, and two
// refreshes with the same one would end the session. The refreshed session
// is written back atomically, 0600, in the AWS CLI's format, keeping the
// fields rolehop does not know.
func Credentials(ctx context.Context, dir, session string, o Options) (aws.Credentials, error) {
	name := FileName(session)
	d, err := openDir(dir, o)
	if err != nil {
		return aws.Credentials{}, err
	}
	defer d.Close()
	s, err := read(d, name, session, o)
	if err != nil {
		return aws.Credentials{}, err
	}
	if s.ExpiresAt.Sub(o.now()) > o.window() {
		return s.Credentials(), nil
	}
	timeout := o.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	lock, err := d.Lock(ctx, name+".lock", timeout, nil)
	if errors.Is(err, fsutil.ErrLockTimeout) {
		return aws.Credentials{}, fmt.Errorf("timed out after %s waiting for another process to refresh the aws login session %s: run again", timeout, session)
	}
	if err != nil {
		return aws.Credentials{}, err
	}
	defer lock.Release()
	if s, err = read(d, name, session, o); err != nil {
		return aws.Credentials{}, err
	}
	if s.ExpiresAt.Sub(o.now()) > o.window() {
		return s.Credentials(), nil // another process refreshed it
	}
	if err := refresh(ctx, d, name, s, o); err != nil {
		return aws.Credentials{}, fmt.Errorf("refreshing the aws login session %s: %w", session, err)
	}
	b, err := s.Marshal()
	if err != nil {
		return aws.Credentials{}, err
	}
	if err := d.WriteFile(name, b, 0o600); err != nil {
		return aws.Credentials{}, fmt.Errorf("write the refreshed aws login session to %s: %w", d.Join(name), err)
	}
	return s.Credentials(), nil
}

// openDir opens the login cache under fsutil's trust rule, kept private.
func openDir(dir string, o Options) (*fsutil.Dir, error) {
	d, err := fsutil.OpenDir(dir, fsutil.DirOptions{Private: true, Notice: o.Notice})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: there is no aws login session here (%s does not exist): run `%s`", ErrLoginNeeded, dir, o.LoginHint)
	}
	if err != nil {
		return nil, fmt.Errorf("aws login cache: %w", err)
	}
	return d, nil
}

// read reads and parses the session's file.
func read(d *fsutil.Dir, name, session string, o Options) (*Session, error) {
	b, err := d.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: no aws login session %s is cached in %s: run `%s`", ErrLoginNeeded, session, d.Path(), o.LoginHint)
	}
	if err != nil {
		return nil, fmt.Errorf("aws login cache: %w", err)
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%w: the aws login cache file %s %v: run `%s` to replace it", ErrLoginNeeded, d.Join(name), err, o.LoginHint)
	}
	return s, nil
}

// refresh trades the session's refresh token for new credentials and a
// new refresh token, with aws-sdk-go-v2's logincreds, which builds the
// DPoP proof and the CreateOAuth2Token call. logincreds refreshes a file
// of its own (read, call, rewrite in place, dropping fields it does not
// know), so it is given a private copy in the same directory — 0600, named
// like an atomic write's temp file, so that a copy left by a killed process
// is cleaned up — whose expiry is set in the past, so that it refreshes now
// whatever the window; the new values are taken from it and the copy is
// removed.
func refresh(ctx context.Context, d *fsutil.Dir, name string, s *Session, o Options) error {
	copyName := "." + name + ".tmp-" + strconv.FormatUint(uint64(rand.Uint32()), 10)
	stale := *s
	stale.ExpiresAt = time.Unix(1, 0)
	b, err := stale.Marshal()
	if err != nil {
		return err
	}
	if err := d.WriteFile(copyName, b, 0o600); err != nil {
		return err
	}
	defer d.Remove(copyName)
	client := &recordingClient{}
	client.client = signin.NewFromConfig(o.AWS.Config(o.Region, nil), append([]func(*signin.Options){o.signinOptions(client)}, o.ClientOptions...)...)
	p := logincreds.New(client, d.Join(copyName), func(lo *logincreds.Options) { lo.RestrictPermissions = true })
	if _, err := p.Retrieve(ctx); err != nil {
		return o.describe(client, err)
	}
	b, err = d.ReadFile(copyName)
	if err != nil {
		return err
	}
	fresh, err := Parse(b)
	if err != nil {
		return fmt.Errorf("the refreshed session %v", err) // e.g. "lacks accessToken.sessionToken"
	}
	s.AccessKeyID, s.SecretAccessKey, s.SessionToken = fresh.AccessKeyID, fresh.SecretAccessKey, fresh.SessionToken
	s.ExpiresAt, s.RefreshToken = fresh.ExpiresAt, fresh.RefreshToken
	return nil
}

// signinOptions completes the sign-in client's options: the endpoint, and
// an HTTP client that notes the service's clock. CreateOAuth2Token is
// unsigned (its auth scheme is anonymous): the DPoP proof authenticates it.
func (o Options) signinOptions(rec *recordingClient) func(*signin.Options) {
	return func(so *signin.Options) {
		so.HTTPClient = dateRecorder{so.HTTPClient, rec}
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
	}
}

// recordingClient is the sign-in client as logincreds calls it, keeping
// the API error (logincreds turns some into plain text) and the service's
// clock (its Date header) to explain a refused refresh.
type recordingClient struct {
	client *signin.Client
	err    error
	date   time.Time
}

// CreateOAuth2Token implements logincreds.TokenAPIClient.
func (r *recordingClient) CreateOAuth2Token(ctx context.Context, in *signin.CreateOAuth2TokenInput, opts ...func(*signin.Options)) (*signin.CreateOAuth2TokenOutput, error) {
	out, err := r.client.CreateOAuth2Token(ctx, in, opts...)
	r.err = err
	return out, err
}

// dateRecorder notes the Date of every answer.
type dateRecorder struct {
	next signin.HTTPClient
	rec  *recordingClient
}

func (d dateRecorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.next.Do(req)
	if err == nil {
		if t, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
			d.rec.date = t
		}
	}
	return resp, err
}

// describe turns a failed refresh into one line with the fix.
func (o Options) describe(rec *recordingClient, err error) error {
	var denied *signintypes.AccessDeniedException
	if errors.As(rec.err, &denied) {
		switch denied.Error_ {
		case signintypes.OAuth2ErrorCodeTokenExpired:
			return fmt.Errorf("%w: the session has ended (TOKEN_EXPIRED): run `%s`", ErrLoginNeeded, o.LoginHint)
		case signintypes.OAuth2ErrorCodeUserCredentialsChanged:
			return fmt.Errorf("%w: the console password changed since the sign-in (USER_CREDENTIALS_CHANGED): run `%s`", ErrLoginNeeded, o.LoginHint)
		case signintypes.OAuth2ErrorCodeInsufficientPermissions:
			return fmt.Errorf("the signed-in principal may not call signin:CreateOAuth2Token (INSUFFICIENT_PERMISSIONS): allow it, or run `%s` as a principal that may", o.LoginHint)
		}
	}
	if skew := rec.date.Sub(o.now()); !rec.date.IsZero() && (skew > maxSkew || skew < -maxSkew) {
		return fmt.Errorf("this machine's clock is %s off the sign-in service's, which refuses proofs signed at the wrong time: set the clock right (NTP) and run again", skew.Abs().Round(time.Minute))
	}
	cause := rec.err
	if cause == nil {
		cause = err // the call worked; its answer did not
	}
	f := awserr.Classify(cause, o.AWS.Timeout())
	if msg, ok := f.Describe("AWS Sign-In", o.endpointName(), "AWS_ENDPOINT_URL_SIGNIN"); ok {
		return errors.New(msg)
	}
	if f.Kind == awserr.API {
		if f.Message != "" {
			return fmt.Errorf("%s: %s", f.Code, f.Message)
		}
		return errors.New(f.Code)
	}
	if rec.err == nil {
		return fmt.Errorf("the sign-in service at %s answered without new credentials: check AWS_ENDPOINT_URL_SIGNIN and any proxy in between, or run `%s`", o.endpointName(), o.LoginHint)
	}
	return errors.New(f.Cause)
}

func (o Options) endpointName() string {
	if o.Endpoint != "" {
		return o.Endpoint
	}
	return "signin." + o.Region + ".amazonaws.com"
}

// Logout removes the cached session (what `aws logout` does), if it is
// there and passes the trust rule; it reports whether there was one.
func Logout(dir, session string) (bool, error) {
	d, err := fsutil.OpenDir(dir, fsutil.DirOptions{})
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("aws login cache: %w", err)
	}
	defer d.Close()
	err = d.Remove(FileName(session))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("aws login cache: %w", err)
	}
	return true, nil
}

// Describe says what the cache holds for session now, for `explain`: the
// credentials' expiry, or why there is no usable session. It reads the
// file and never prints a token or key.
func Describe(dir, session, loginHint string, now time.Time) string {
	d, err := fsutil.OpenDir(dir, fsutil.DirOptions{})
	if errors.Is(err, fs.ErrNotExist) {
		return "none cached: run `" + loginHint + "`"
	}
	if err != nil {
		return "unusable: " + err.Error()
	}
	defer d.Close()
	s, err := read(d, FileName(session), session, Options{LoginHint: loginHint})
	if err != nil {
		return strings.TrimPrefix(err.Error(), ErrLoginNeeded.Error()+": ")
	}
	exp := s.ExpiresAt.UTC().Format(time.RFC3339)
	if left := s.ExpiresAt.Sub(now); left > RefreshWindow {
		return fmt.Sprintf("credentials of account %s valid until %s (%s left), then refreshed with the refresh token", s.AccountID, exp, left.Round(time.Second))
	}
	return fmt.Sprintf("credentials of account %s expire at %s: the next run refreshes them with the refresh token", s.AccountID, exp)
}
