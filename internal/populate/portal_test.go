package populate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/sso"
)

// fakePortal serves ListAccounts and ListAccountRoles as the portal does
// (restJson1, next_token/max_result, errors in X-Amzn-ErrorType), with
// injected throttling.
type fakePortal struct {
	accounts []Assignment // one per account, RoleName unused
	roles    int          // roles per account: Role0..RoleN-1
	pageSize int

	mu         sync.Mutex
	throttle   map[string]int // op → how many of its next calls get a 429
	unauth     bool
	calls      map[string]int
	inFlight   atomic.Int32
	maxFlight  atomic.Int32
	throttled  int
	roleDelay  time.Duration
	tokenSeen  string
	maxResults []string
}

func newFakePortal(accounts, roles int) *fakePortal {
	f := &fakePortal{roles: roles, pageSize: 7, throttle: map[string]int{}, calls: map[string]int{}}
	for i := range accounts {
		f.accounts = append(f.accounts, Assignment{AccountID: fmt.Sprintf("%012d", i+1), AccountName: fmt.Sprintf("acct-%03d", i+1), Email: fmt.Sprintf("a%d@example.com", i+1)})
	}
	return f
}

func (f *fakePortal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxFlight.Load()
		if n <= m || f.maxFlight.CompareAndSwap(m, n) {
			break
		}
	}
	op := map[string]string{"/assignment/accounts": "ListAccounts", "/assignment/roles": "ListAccountRoles"}[r.URL.Path]
	f.mu.Lock()
	f.calls[op]++
	f.tokenSeen = r.Header.Get("x-amz-sso_bearer_token")
	f.maxResults = append(f.maxResults, r.URL.Query().Get("max_result"))
	throttled := f.throttle[op] > 0
	if throttled {
		f.throttle[op]--
		f.throttled++
	}
	unauth := f.unauth
	f.mu.Unlock()
	fail := func(status int, typ, msg string) {
		w.Header().Set("X-Amzn-ErrorType", typ+":http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
	}
	switch {
	case unauth:
		fail(401, "UnauthorizedException", "Session token not found or invalid")
		return
	case throttled:
		fail(429, "TooManyRequestsException", "Rate exceeded")
		return
	}
	q := r.URL.Query()
	from, _ := strconv.Atoi(q.Get("next_token"))
	size := f.pageSize
	if m, _ := strconv.Atoi(q.Get("max_result")); m > 0 && m < size {
		size = m
	}
	page := func(n int) (int, string) {
		to := min(from+size, n)
		if to < n {
			return to, strconv.Itoa(to)
		}
		return to, ""
	}
	body := map[string]any{}
	switch op {
	case "ListAccounts":
		to, next := page(len(f.accounts))
		var list []map[string]string
		for _, a := range f.accounts[from:to] {
			list = append(list, map[string]string{"accountId": a.AccountID, "accountName": a.AccountName, "emailAddress": a.Email})
		}
		body["accountList"], body["nextToken"] = list, next
	case "ListAccountRoles":
		time.Sleep(f.roleDelay)
		to, next := page(f.roles)
		var list []map[string]string
		for i := from; i < to; i++ {
			list = append(list, map[string]string{"roleName": "Role" + strconv.Itoa(i), "accountId": q.Get("account_id")})
		}
		body["roleList"], body["nextToken"] = list, next
	default:
		w.WriteHeader(404)
		return
	}
	if body["nextToken"] == "" {
		delete(body, "nextToken")
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func (f *fakePortal) client(t *testing.T, attempts int) Portal {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return NewPortal(&plan.SSO{Region: "us-east-1", PortalEndpoint: srv.URL}, ClientOptions{MaxAttempts: attempts, BaseDelay: time.Millisecond, MaxBackoff: 4 * time.Millisecond})
}

func TestListPaginatesAndBoundsConcurrency(t *testing.T) {
	f := newFakePortal(40, 3)
	f.roleDelay = 5 * time.Millisecond
	var calls, lastDone, lastKnown int
	progress := func(done, known int) {
		// Called under List's lock: no synchronisation needed here.
		calls++
		if done < lastDone || known < lastKnown || done > known {
			t.Errorf("progress went from %d/%d to %d/%d", lastDone, lastKnown, done, known)
		}
		lastDone, lastKnown = done, known
	}
	got, stats, err := List(context.Background(), f.client(t, 0), "tok", ListOptions{Concurrency: 3, Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 120 || stats.Accounts != 40 || stats.Roles != 120 {
		t.Fatalf("got %d assignments, stats %+v", len(got), stats)
	}
	if calls != 40 || lastDone != 40 || lastKnown != 40 {
		t.Errorf("progress called %d times, last %d/%d; want 40 calls ending at 40/40", calls, lastDone, lastKnown)
	}
	if !slices.IsSortedFunc(got, func(a, b Assignment) int { return strings.Compare(a.AccountID+a.RoleName, b.AccountID+b.RoleName) }) {
		t.Errorf("not sorted")
	}
	if got[0] != (Assignment{AccountID: "000000000001", AccountName: "acct-001", Email: "a1@example.com", RoleName: "Role0"}) {
		t.Errorf("first = %+v", got[0])
	}
	if m := f.maxFlight.Load(); m > 4 { // 3 role workers + the account pager
		t.Errorf("%d requests in flight, want at most 4", m)
	}
	if f.tokenSeen != "tok" || f.calls["ListAccounts"] != 6 || f.calls["ListAccountRoles"] != 40 {
		t.Errorf("token %q, calls %v", f.tokenSeen, f.calls)
	}
	for _, m := range f.maxResults {
		if m != "100" {
			t.Fatalf("max_result %q, want 100", m)
		}
	}
}

// TestListRetriesThrottling: more 429s than the SDK's default 3 attempts
// allow, on both operations, are absorbed by the 10-attempt retryer.
func TestListRetriesThrottling(t *testing.T) {
	f := newFakePortal(20, 2)
	f.throttle["ListAccounts"] = 4
	f.throttle["ListAccountRoles"] = 30
	got, stats, err := List(context.Background(), f.client(t, 0), "tok", ListOptions{Concurrency: 4})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(got) != 40 || stats.Retries != 34 || f.throttled != 34 {
		t.Fatalf("got %d, stats %+v, throttled %d", len(got), stats, f.throttled)
	}
	// The same throttling fails with the SDK's default of 3 attempts.
	f = newFakePortal(1, 1)
	f.throttle["ListAccounts"] = 3
	if _, _, err := List(context.Background(), f.client(t, 3), "tok", ListOptions{}); err == nil {
		t.Fatal("3 attempts absorbed 3 throttles")
	}
}

func TestListGivesUp(t *testing.T) {
	f := newFakePortal(5, 1)
	f.throttle["ListAccountRoles"] = 1000
	_, _, err := List(context.Background(), f.client(t, 0), "tok", ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "kept throttling ListAccountRoles for account 0000000000") || !strings.Contains(err.Error(), "10 attempts") {
		t.Fatalf("err = %v", err)
	}
	f = newFakePortal(5, 1)
	f.unauth = true
	_, _, err = List(context.Background(), f.client(t, 0), "tok", ListOptions{LoginHint: "rolehop login --sso-session corp", Login: "sso-session corp"})
	if !errors.Is(err, sso.ErrLoginNeeded) || !strings.Contains(err.Error(), "run `rolehop login --sso-session corp`") {
		t.Fatalf("err = %v", err)
	}
	if f.calls["ListAccounts"] != 1 {
		t.Errorf("UnauthorizedException retried: %v", f.calls)
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{base: 100 * time.Millisecond, max: time.Second}
	for attempt, cap := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		seen := map[time.Duration]bool{}
		for range 50 {
			d, _ := b.BackoffDelay(attempt, nil)
			if d < cap/2 || d > cap {
				t.Fatalf("attempt %d: %s outside [%s, %s]", attempt, d, cap/2, cap)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("attempt %d: only %d distinct delays: no jitter", attempt, len(seen))
		}
	}
}
