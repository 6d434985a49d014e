package populate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/rolehop/rolehop/internal/awsclient"
	"github.com/rolehop/rolehop/internal/plan"
	rolehopsso "github.com/rolehop/rolehop/internal/sso"
)

// Retry defaults for the portal client. Large organisations get
// TooManyRequestsException (HTTP 429) from ListAccountRoles; each call is
// retried with jittered exponential backoff up to DefaultMaxAttempts times
// (rolehop's other clients make 3 attempts). max_attempts or
// AWS_MAX_ATTEMPTS replaces DefaultMaxAttempts, ROLEHOP_RETRY_MAX_BACKOFF
// DefaultMaxBackoff, and retry_mode = adaptive adds the SDK's client-side
// rate limiting, as for every AWS client of rolehop.
const (
	DefaultMaxAttempts = 10
	DefaultBaseDelay   = 250 * time.Millisecond
	DefaultMaxBackoff  = 5 * time.Second
	DefaultConcurrency = 4
	pageSize           = 100 // the API's maximum max_result
)

// ClientOptions tune the portal client.
type ClientOptions struct {
	// AWS is the run's HTTP client and retry settings (awsclient.New).
	AWS awsclient.Settings
	// MaxAttempts, BaseDelay and MaxBackoff override the settings and
	// the defaults above (tests).
	MaxAttempts int           // default: AWS's max_attempts when set, else DefaultMaxAttempts
	BaseDelay   time.Duration // first backoff; default DefaultBaseDelay
	MaxBackoff  time.Duration // cap; default: ROLEHOP_RETRY_MAX_BACKOFF when set, else DefaultMaxBackoff
}

// NewPortal is the IAM Identity Center portal client of s (its region and
// AWS_ENDPOINT_URL_SSO), with a retryer for throttling: more attempts, a
// short jittered backoff, and no client-side retry quota (the SDK's token
// bucket would stop retrying after about 100 throttled calls, exactly when
// a large listing needs them).
func NewPortal(s *plan.SSO, o ClientOptions) *sso.Client {
	attempts, maxBackoff := DefaultMaxAttempts, DefaultMaxBackoff
	if o.AWS.Retry.MaxAttemptsSet() {
		attempts = o.AWS.Retry.Attempts()
	}
	if o.AWS.Retry.MaxBackoffSet() {
		maxBackoff = o.AWS.Retry.MaxBackoff()
	}
	attempts, maxBackoff = cmp.Or(o.MaxAttempts, attempts), cmp.Or(o.MaxBackoff, maxBackoff)
	b := backoff{base: min(cmp.Or(o.BaseDelay, DefaultBaseDelay), maxBackoff), max: maxBackoff}
	retryer := o.AWS.NewRetryerWith(func(so *retry.StandardOptions) {
		so.MaxAttempts = attempts
		so.MaxBackoff = b.max
		so.Backoff = b
		so.RateLimiter = ratelimit.None
	})
	cfg := o.AWS.Config(s.Region, nil)
	cfg.Retryer = func() aws.Retryer { return retryer }
	return sso.NewFromConfig(cfg, func(opts *sso.Options) {
		if s.PortalEndpoint != "" {
			opts.BaseEndpoint = aws.String(s.PortalEndpoint)
		}
	})
}

// backoff is exponential with "equal jitter": the n-th retry waits between
// half and all of min(max, base·2^(n-1)), so concurrent workers that were
// throttled together do not come back together.
type backoff struct{ base, max time.Duration }

func (b backoff) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	d := b.base
	for i := 1; i < attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	if d <= 0 {
		return 0, nil
	}
	return d/2 + rand.N(d/2+1), nil
}

// Portal is what listing needs of the portal client.
type Portal interface {
	sso.ListAccountsAPIClient
	sso.ListAccountRolesAPIClient
}

// ListOptions tune List.
type ListOptions struct {
	// Concurrency bounds the ListAccountRoles calls in flight (default
	// DefaultConcurrency).
	Concurrency int
	// LoginHint is the command suggested when the portal refuses the
	// token; Login names the login ("sso-session corp").
	LoginHint, Login string
	// Progress, if set, is told after each account's roles are listed how
	// many accounts are done and how many are known so far.
	Progress func(done, known int)
}

// Stats describe a listing.
type Stats struct {
	Accounts, Roles int
	Calls           int // API calls that succeeded
	Retries         int // attempts retried (throttled or failed) within them
}

// List returns every role of every account the token may use, sorted by
// account id and role name. Accounts are listed page by page while up to
// Concurrency workers list their roles. Any failure (after the retries)
// fails the whole listing: a partial list would make populate mark live
// profiles as no longer assigned.
func List(ctx context.Context, p Portal, token string, o ListOptions) ([]Assignment, Stats, error) {
	n := max(o.Concurrency, 1)
	if o.Concurrency == 0 {
		n = DefaultConcurrency
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var (
		mu    sync.Mutex
		out   []Assignment
		stats Stats
		wg    sync.WaitGroup
		done  int
		known int
	)
	count := func(md middleware.Metadata) {
		mu.Lock()
		defer mu.Unlock()
		stats.Calls++
		if r, ok := retry.GetAttemptResults(md); ok {
			for _, a := range r.Results {
				if a.Retried {
					stats.Retries++
				}
			}
		}
	}
	accounts := make(chan ssotypes.AccountInfo)
	for range n {
		wg.Go(func() {
			for a := range accounts {
				if ctx.Err() != nil {
					continue // drain
				}
				id := aws.ToString(a.AccountId)
				pages := sso.NewListAccountRolesPaginator(p, &sso.ListAccountRolesInput{AccessToken: aws.String(token), AccountId: aws.String(id), MaxResults: aws.Int32(pageSize)})
				var roles []Assignment
				for pages.HasMorePages() {
					page, err := pages.NextPage(ctx)
					if err != nil {
						cancel(o.describe(err, "ListAccountRoles", "for account "+id))
						break
					}
					count(page.ResultMetadata)
					for _, r := range page.RoleList {
						roles = append(roles, Assignment{AccountID: id, AccountName: aws.ToString(a.AccountName), Email: aws.ToString(a.EmailAddress), RoleName: aws.ToString(r.RoleName)})
					}
				}
				mu.Lock()
				out = append(out, roles...)
				done++
				if o.Progress != nil {
					o.Progress(done, known)
				}
				mu.Unlock()
			}
		})
	}

	seen := map[string]bool{}
	pages := sso.NewListAccountsPaginator(p, &sso.ListAccountsInput{AccessToken: aws.String(token), MaxResults: aws.Int32(pageSize)})
feed:
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			cancel(o.describe(err, "ListAccounts", ""))
			break
		}
		count(page.ResultMetadata)
		for _, a := range page.AccountList {
			id := aws.ToString(a.AccountId)
			if seen[id] {
				continue
			}
			seen[id] = true
			mu.Lock()
			known++
			mu.Unlock()
			select {
			case accounts <- a:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(accounts)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, stats, err
	}
	// Duplicates within one account's roles are dropped too.
	slices.SortFunc(out, func(x, y Assignment) int {
		return cmp.Or(cmp.Compare(x.AccountID, y.AccountID), cmp.Compare(x.RoleName, y.RoleName))
	})
	out = slices.CompactFunc(out, func(x, y Assignment) bool { return x.AccountID == y.AccountID && x.RoleName == y.RoleName })
	stats.Accounts, stats.Roles = len(seen), len(out)
	return out, stats, nil
}

// describe turns a portal error into one line that says what to do.
func (o ListOptions) describe(err error, op, what string) error {
	if what != "" {
		what = " " + what
	}
	var unauthorized *ssotypes.UnauthorizedException
	if errors.As(err, &unauthorized) {
		return fmt.Errorf("%w: IAM Identity Center refused the access token of %s (%s%s): run `%s`", rolehopsso.ErrLoginNeeded, o.Login, op, what, o.LoginHint)
	}
	var throttled *ssotypes.TooManyRequestsException
	var maxAttempts *retry.MaxAttemptsError
	if errors.As(err, &throttled) && errors.As(err, &maxAttempts) {
		return fmt.Errorf("IAM Identity Center kept throttling %s%s (TooManyRequestsException, %d attempts): nothing was written; try again later or with a lower --concurrency", op, what, maxAttempts.Attempt)
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Errorf("IAM Identity Center %s%s failed: %s: %s", op, what, api.ErrorCode(), api.ErrorMessage())
	}
	return fmt.Errorf("IAM Identity Center %s%s failed: %s", op, what, oneLine(err))
}
