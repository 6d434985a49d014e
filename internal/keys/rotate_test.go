package keys

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/keychain"
	"github.com/rolehop/rolehop/internal/winetest"
)

func TestIAMUserName(t *testing.T) {
	tests := []struct {
		arn, want string
		wantErr   []string // fragments of the refusal
	}{
		{arn: "arn:aws:iam::111111111111:user/alice", want: "alice"},
		{arn: "arn:aws:iam::111111111111:user/team/ops/bob", want: "bob"},
		{arn: "arn:aws-cn:iam::111111111111:user/carol", want: "carol"},
		{arn: "arn:aws:iam::111111111111:root", wantErr: []string{"root user", "111111111111", "IAM users' keys only"}},
		{arn: "arn:aws:sts::111111111111:assumed-role/admin/laptop", wantErr: []string{"role admin", "no access keys"}},
		{arn: "arn:aws:sts::111111111111:federated-user/dave", wantErr: []string{"federated user dave", "temporary credentials"}},
		{arn: "arn:aws:iam::111111111111:role/admin", wantErr: []string{"not an IAM user"}},
		{arn: "not-an-arn", wantErr: []string{`"not-an-arn"`, "not an IAM user's ARN"}},
		{arn: "", wantErr: []string{"not an IAM user's ARN"}},
	}
	for _, tc := range tests {
		t.Run(tc.arn, func(t *testing.T) {
			got, err := iamUserName(tc.arn)
			if tc.wantErr == nil {
				if err != nil || got != tc.want {
					t.Fatalf("iamUserName(%q) = %q, %v; want %q", tc.arn, got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("iamUserName(%q) = %q, want a refusal", tc.arn, got)
			}
			for _, f := range tc.wantErr {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("error %q does not say %q", err, f)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error has more than one line: %q", err)
			}
		})
	}
}

func TestTwoKeysError(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 3, d, 10, 0, 0, 0, time.UTC) }
	tests := []struct {
		name   string
		stored string
		have   []accessKey
		want   []string
		absent []string
	}{
		{
			name:   "the stored one and another",
			stored: "AKIAAAAAAAAAAAAAAAA1",
			have:   []accessKey{{"AKIAAAAAAAAAAAAAAAA1", "Active", day(1)}, {"AKIAAAAAAAAAAAAAAAA2", "Inactive", day(2)}},
			want: []string{`profile "p"`, "user alice", "2 access keys", "AKIAAAAAAAAAAAAAAAA1 (Active, created 2024-03-01, stored for profile \"p\")",
				"AKIAAAAAAAAAAAAAAAA2 (Inactive, created 2024-03-02)", "aws iam delete-access-key --access-key-id AKIAAAAAAAAAAAAAAAA2`", "rolehop keys rotate p"},
			absent: []string{"--access-key-id AKIAAAAAAAAAAAAAAAA1"},
		},
		{
			name:   "neither is the stored one",
			stored: "AKIAAAAAAAAAAAAAAAA9",
			have:   []accessKey{{"AKIAAAAAAAAAAAAAAAA1", "Active", day(1)}, {"AKIAAAAAAAAAAAAAAAA2", "Active", time.Time{}}},
			want:   []string{"AKIAAAAAAAAAAAAAAAA1 (Active, created 2024-03-01)", "AKIAAAAAAAAAAAAAAAA2 (Active)", "--access-key-id KEY-ID` of the one not in use"},
			absent: []string{"stored for"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := twoKeysError("p", "alice", tc.stored, tc.have).Error()
			for _, f := range tc.want {
				if !strings.Contains(msg, f) {
					t.Errorf("%q does not say %q", msg, f)
				}
			}
			for _, f := range tc.absent {
				if strings.Contains(msg, f) {
					t.Errorf("%q says %q", msg, f)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("more than one line: %q", msg)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	api := func(code string, status int) error {
		err := error(&smithy.GenericAPIError{Code: code, Message: "m"})
		if status != 0 {
			err = &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}
		}
		return err
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"key not known yet", api("InvalidClientTokenId", 403), true},
		{"secret not known yet", api("SignatureDoesNotMatch", 403), true},
		{"policy not attached yet", api("AccessDenied", 403), true},
		{"throttled", api("Throttling", 400), true},
		{"STS outage", api("ServiceUnavailable", 503), true},
		{"unreachable", &smithyhttp.RequestSendError{Err: errors.New("connection refused")}, true},
		{"expired token", api("ExpiredToken", 400), false},
		{"region disabled", api("RegionDisabledException", 403), false},
		{"not an AWS answer", &smithy.DeserializationError{Err: errors.New("<html>")}, false},
		{"no error code", api("", 502), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := retryable(tc.err, time.Second); got != tc.want {
				t.Errorf("retryable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestVerifyBackoff(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, w := range want {
		if got := verifyBackoff(i + 1); got != w {
			t.Errorf("verifyBackoff(%d) = %s, want %s", i+1, got, w)
		}
	}
}

// fakeAWS is a tiny STS + IAM (query protocol) for one user: it knows
// which key signed each call (it checks no signature) and lets a test fail
// or hook any call.
type fakeAWS struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	userARN  string
	keys     map[string]string // user's keys: id → secret
	order    []string          // key ids, oldest first
	sessions map[string]bool   // GetSessionToken key ids
	calls    []fakeCall
	n        int
	// fail, when it returns a code, fails the call with it (HTTP 403).
	fail func(c fakeCall) string
	// after runs once a call has been answered successfully.
	after func(c fakeCall)
}

type fakeCall struct {
	Action, Key string
	Params      url.Values
}

func (c fakeCall) String() string { return c.Action + "(" + c.Key + ")" }

var credRe = regexp.MustCompile(`Credential=([^/]+)/`)

func newFakeAWS(t *testing.T, userARN string) *fakeAWS {
	f := &fakeAWS{t: t, userARN: userARN, keys: map[string]string{}, sessions: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// newKey makes a user key (as IAM would).
func (f *fakeAWS) newKey() keychain.Keys {
	f.n++
	k := keychain.Keys{AccessKeyID: fmt.Sprintf("AKIAFAKE%012d", f.n), SecretAccessKey: fmt.Sprintf("secret/%d/abcdefghijklmnopqrstuvwxyz", f.n)}
	f.keys[k.AccessKeyID] = k.SecretAccessKey
	f.order = append(f.order, k.AccessKeyID)
	return k
}

func (f *fakeAWS) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		out = append(out, c.String())
	}
	return out
}

func (f *fakeAWS) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	c := fakeCall{Action: r.PostForm.Get("Action"), Params: r.PostForm}
	if m := credRe.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		c.Key = m[1]
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	fail, after := f.fail, f.after
	f.mu.Unlock()
	errorXML := func(status int, code string) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>injected %s</Message></Error><RequestId>r</RequestId></ErrorResponse>`, code, code)
	}
	if fail != nil {
		if code := fail(c); code != "" {
			errorXML(403, code)
			return
		}
	}
	f.mu.Lock()
	_, isUser := f.keys[c.Key]
	known := isUser || f.sessions[c.Key]
	var body string
	switch {
	case !known:
		f.mu.Unlock()
		errorXML(403, "InvalidClientTokenId")
		return
	case c.Action == "GetCallerIdentity":
		body = `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>` + f.userARN + `</Arn><UserId>AIDAFAKE</UserId><Account>111111111111</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`
	case c.Action == "GetSessionToken":
		f.sessions["ASIAFAKESESSION00001"] = true
		body = `<GetSessionTokenResponse><GetSessionTokenResult><Credentials><AccessKeyId>ASIAFAKESESSION00001</AccessKeyId><SecretAccessKey>sessionsecret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></GetSessionTokenResult></GetSessionTokenResponse>`
	case c.Action == "ListAccessKeys":
		var b strings.Builder
		for _, id := range f.order {
			fmt.Fprintf(&b, `<member><UserName>alice</UserName><AccessKeyId>%s</AccessKeyId><Status>Active</Status><CreateDate>2024-03-01T10:00:00Z</CreateDate></member>`, id)
		}
		body = `<ListAccessKeysResponse><ListAccessKeysResult><UserName>alice</UserName><AccessKeyMetadata>` + b.String() + `</AccessKeyMetadata><IsTruncated>false</IsTruncated></ListAccessKeysResult></ListAccessKeysResponse>`
	case c.Action == "CreateAccessKey":
		k := f.newKey()
		body = `<CreateAccessKeyResponse><CreateAccessKeyResult><AccessKey><UserName>alice</UserName><AccessKeyId>` + k.AccessKeyID + `</AccessKeyId><Status>Active</Status><SecretAccessKey>` + k.SecretAccessKey + `</SecretAccessKey><CreateDate>2024-05-06T07:08:09Z</CreateDate></AccessKey></CreateAccessKeyResult></CreateAccessKeyResponse>`
	case c.Action == "DeleteAccessKey":
		id := c.Params.Get("AccessKeyId")
		delete(f.keys, id)
		for i, o := range f.order {
			if o == id {
				f.order = append(f.order[:i], f.order[i+1:]...)
				break
			}
		}
		body = `<DeleteAccessKeyResponse><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteAccessKeyResponse>`
	default:
		f.mu.Unlock()
		errorXML(400, "InvalidAction")
		return
	}
	f.mu.Unlock()
	if after != nil {
		after(c) // before the answer: the client goes on only after it
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprint(w, body)
}

// rotateWorld is one test's rolehop: an encrypted-file keychain holding
// the old key of profile "p", and the fake AWS behind AWS_ENDPOINT_URL.
type rotateWorld struct {
	env      *Env
	aws      *fakeAWS
	old      keychain.Keys
	dir      string
	vars     map[string]string
	notices  []string
	sleeps   []time.Duration
	now      time.Time
	varsMu   sync.Mutex
	password func() string // ROLEHOP_KEYRING_PASSWORD, read at each store open
}

func newRotateWorld(t *testing.T, userARN, config string) *rotateWorld {
	t.Helper()
	w := &rotateWorld{dir: winetest.TempDir(t), aws: newFakeAWS(t, userARN), now: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}
	w.vars = map[string]string{
		"HOME":                        w.dir,
		"XDG_CONFIG_HOME":             filepath.Join(w.dir, "config"),
		"AWS_CONFIG_FILE":             filepath.Join(w.dir, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(w.dir, "aws-credentials"),
		"AWS_ENDPOINT_URL":            w.aws.srv.URL,
		"AWS_MAX_ATTEMPTS":            "1",
	}
	w.password = func() string { return "right passphrase" }
	if err := os.WriteFile(w.vars["AWS_CONFIG_FILE"], []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == "ROLEHOP_KEYRING_PASSWORD" {
			return w.password()
		}
		w.varsMu.Lock()
		defer w.varsMu.Unlock()
		return w.vars[k]
	}
	cfg, err := awsconfig.LoadEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	w.env = &Env{
		Getenv:   getenv,
		Config:   cfg,
		Keychain: keychain.Settings{Getenv: getenv},
		Notice:   func(f string, a ...any) { w.notices = append(w.notices, fmt.Sprintf(f, a...)) },
		Warn:     func(f string, a ...any) { w.notices = append(w.notices, "WARN "+fmt.Sprintf(f, a...)) },
		Now:      func() time.Time { return w.now },
	}
	w.old = w.aws.newKey()
	if err := Add(context.Background(), w.env, "p", w.old, keychain.Choice{Backend: keychain.File, From: "test"}); err != nil {
		t.Fatal(err)
	}
	w.notices = nil
	return w
}

func (w *rotateWorld) rotate(opts RotateOptions) error {
	opts.Sleep = func(_ context.Context, d time.Duration) error {
		w.sleeps = append(w.sleeps, d)
		w.now = w.now.Add(d)
		return nil
	}
	return Rotate(context.Background(), w.env, "p", opts)
}

// stored is what the keychain and the index hold for "p".
func (w *rotateWorld) stored(t *testing.T) (keychain.Keys, keychain.Entry) {
	t.Helper()
	st, err := w.env.open(context.Background(), keychain.File)
	if err != nil {
		t.Fatal(err)
	}
	k, err := st.Get(context.Background(), "p")
	if err != nil {
		t.Fatal(err)
	}
	ix, err := keychain.LoadIndex(w.env.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	en, _ := ix.Lookup("p")
	return k, en
}

const aliceARN = "arn:aws:iam::111111111111:user/alice"

// newKeyID is the id fakeAWS gives the first key rotate creates.
const newKeyID = "AKIAFAKE000000000002"

func TestRotate(t *testing.T) {
	invalid := func(key string) func(fakeCall) string {
		return func(c fakeCall) string {
			if c.Action == "GetCallerIdentity" && c.Key == key {
				return "InvalidClientTokenId"
			}
			return ""
		}
	}
	tests := []struct {
		name    string
		userARN string
		config  string
		setup   func(w *rotateWorld)
		opts    RotateOptions
		// wantErr: fragments of the one-line error; empty: success.
		wantErr []string
		// wantCalls is the exact call sequence, "Action(key)", with "old",
		// "new" and "session" for the key ids.
		wantCalls []string
		// wantStored is "old" or "new".
		wantStored string
		wantSleeps []time.Duration
		// wantIAM are the user's keys in IAM at the end.
		wantIAM []string
		// check looks at the calls further.
		check func(t *testing.T, w *rotateWorld)
	}{
		{
			name:       "rotates",
			wantCalls:  []string{"GetCallerIdentity(old)", "ListAccessKeys(old)", "CreateAccessKey(old)", "GetCallerIdentity(new)", "DeleteAccessKey(old)"},
			wantStored: "new", wantIAM: []string{"new"},
		},
		{
			name:   "MFA: IAM calls signed with a GetSessionToken session",
			config: "[profile p]\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\n",
			setup: func(w *rotateWorld) {
				w.env.MFA = func(_ context.Context, serial string) (string, error) { return "123456", nil }
			},
			check: func(t *testing.T, w *rotateWorld) {
				for _, c := range w.aws.calls {
					if c.Action == "GetSessionToken" && (c.Params.Get("SerialNumber") != "arn:aws:iam::111111111111:mfa/alice" || c.Params.Get("TokenCode") != "123456") {
						t.Errorf("GetSessionToken %v: want the profile's mfa_serial and code 123456", c.Params)
					}
				}
			},
			wantCalls:  []string{"GetCallerIdentity(old)", "GetSessionToken(old)", "ListAccessKeys(session)", "CreateAccessKey(session)", "GetCallerIdentity(new)", "DeleteAccessKey(session)"},
			wantStored: "new", wantIAM: []string{"new"},
		},
		{
			name:   "MFA code from --mfa-process",
			config: "[profile p]\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\n",
			opts:   RotateOptions{MFAProcess: "echo 654321"},
			check: func(t *testing.T, w *rotateWorld) {
				for _, c := range w.aws.calls {
					if c.Action == "GetSessionToken" && (c.Params.Get("SerialNumber") != "arn:aws:iam::111111111111:mfa/alice" || c.Params.Get("TokenCode") != "654321") {
						t.Errorf("GetSessionToken %v: want the profile's mfa_serial and code 654321", c.Params)
					}
				}
			},
			wantCalls:  []string{"GetCallerIdentity(old)", "GetSessionToken(old)", "ListAccessKeys(session)", "CreateAccessKey(session)", "GetCallerIdentity(new)", "DeleteAccessKey(session)"},
			wantStored: "new", wantIAM: []string{"new"},
		},
		{
			name:       "MFA and no way to ask",
			config:     "[profile p]\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\n",
			wantErr:    []string{"mfa_serial arn:aws:iam::111111111111:mfa/alice", "no terminal", "--mfa-process", "nothing was changed"},
			wantCalls:  []string{"GetCallerIdentity(old)"},
			wantStored: "old", wantIAM: []string{"old"},
		},
		{
			name:       "a role's credentials are refused",
			userARN:    "arn:aws:sts::111111111111:assumed-role/admin/s",
			wantErr:    []string{"role admin", "no access keys"},
			wantCalls:  []string{"GetCallerIdentity(old)"},
			wantStored: "old", wantIAM: []string{"old"},
		},
		{
			name:       "two keys already",
			setup:      func(w *rotateWorld) { w.aws.newKey() },
			wantErr:    []string{"already has 2 access keys", w0(1) + " (Active, created 2024-03-01, stored for profile \"p\")", "--access-key-id " + newKeyID + "`"},
			wantCalls:  []string{"GetCallerIdentity(old)", "ListAccessKeys(old)"},
			wantStored: "old", wantIAM: []string{"old", "new"},
		},
		{
			name: "CreateAccessKey denied",
			setup: func(w *rotateWorld) {
				w.aws.fail = func(c fakeCall) string {
					if c.Action == "CreateAccessKey" {
						return "AccessDenied"
					}
					return ""
				}
			},
			wantErr:    []string{"cannot create a new access key for user alice", "AccessDenied", "iam:CreateAccessKey", "nothing was changed", "AKIA…0001"},
			wantCalls:  []string{"GetCallerIdentity(old)", "ListAccessKeys(old)", "CreateAccessKey(old)"},
			wantStored: "old", wantIAM: []string{"old"},
		},
		{
			name: "new key works after IAM propagates it",
			setup: func(w *rotateWorld) {
				n := 0
				w.aws.fail = func(c fakeCall) string {
					if c.Action == "GetCallerIdentity" && c.Key == newKeyID && n < 2 {
						n++
						return "InvalidClientTokenId"
					}
					return ""
				}
			},
			wantCalls:  []string{"GetCallerIdentity(old)", "ListAccessKeys(old)", "CreateAccessKey(old)", "GetCallerIdentity(new)", "GetCallerIdentity(new)", "GetCallerIdentity(new)", "DeleteAccessKey(old)"},
			wantSleeps: []time.Duration{time.Second, 2 * time.Second},
			wantStored: "new", wantIAM: []string{"new"},
		},
		{
			name:  "new key never works: deleted again",
			setup: func(w *rotateWorld) { w.aws.fail = invalid(newKeyID) },
			opts:  RotateOptions{VerifyTimeout: 10 * time.Second},
			wantErr: []string{"the new key AKIA…0002 did not work within 10s", "4 attempts", "InvalidClientTokenId",
				"deleted the new key again in IAM", "the key AKIA…0001 is still stored in the encrypted-file keychain and works"},
			wantCalls: []string{"GetCallerIdentity(old)", "ListAccessKeys(old)", "CreateAccessKey(old)",
				"GetCallerIdentity(new)", "GetCallerIdentity(new)", "GetCallerIdentity(new)", "GetCallerIdentity(new)", "DeleteAccessKey(old)"},
			wantSleeps: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
			wantStored: "old", wantIAM: []string{"old"},
		},
		{
			name: "new key never works, and cannot be deleted",
			setup: func(w *rotateWorld) {
				w.aws.fail = func(c fakeCall) string {
					if c.Action == "DeleteAccessKey" {
						return "AccessDenied"
					}
					return invalid(newKeyID)(c)
				}
			},
			opts:       RotateOptions{VerifyTimeout: 2 * time.Second},
			wantErr:    []string{"did not work within 2s", "deleting the new key again failed too", "exists in IAM unused", "aws iam delete-access-key --access-key-id " + newKeyID + "`", "AKIA…0001 is still stored"},
			wantCalls:  []string{"GetCallerIdentity(old)", "ListAccessKeys(old)", "CreateAccessKey(old)", "GetCallerIdentity(new)", "GetCallerIdentity(new)", "DeleteAccessKey(old)"},
			wantSleeps: []time.Duration{time.Second},
			wantStored: "old", wantIAM: []string{"old", "new"},
		},
		{
			name: "new key signs as someone else",
			setup: func(w *rotateWorld) {
				w.aws.after = func(c fakeCall) {
					if c.Action == "CreateAccessKey" {
						w.aws.mu.Lock()
						w.aws.userARN = "arn:aws:iam::111111111111:user/mallory"
						w.aws.mu.Unlock()
					}
				}
			},
			wantErr:    []string{"signs as arn:aws:iam::111111111111:user/mallory, not as " + aliceARN, "deleted the new key again"},
			wantCalls:  []string{"GetCallerIdentity(old)", "ListAccessKeys(old)", "CreateAccessKey(old)", "GetCallerIdentity(new)", "DeleteAccessKey(old)"},
			wantStored: "old", wantIAM: []string{"old"},
		},
		{
			// The passphrase turns wrong after the first open: the
			// store's Set fails before writing.
			name: "storing fails: the new key is deleted",
			setup: func(w *rotateWorld) {
				var created atomic.Bool
				w.aws.after = func(c fakeCall) {
					if c.Action == "CreateAccessKey" {
						created.Store(true)
					}
				}
				w.password = func() string {
					if created.Load() {
						return "wrong passphrase"
					}
					return "right passphrase"
				}
			},
			wantErr:    []string{"storing the new key AKIA…0002 in the encrypted-file keychain failed", "does not open", "deleted the new key again in IAM", "AKIA…0001 is still stored"},
			wantCalls:  []string{"GetCallerIdentity(old)", "ListAccessKeys(old)", "CreateAccessKey(old)", "GetCallerIdentity(new)", "DeleteAccessKey(old)"},
			wantStored: "old", wantIAM: []string{"old"},
		},
		{
			// The keychain took the new key, the index did not: the old
			// key is put back before the new one is deleted.
			name: "indexing fails: the old key is put back",
			setup: func(w *rotateWorld) {
				w.aws.after = func(c fakeCall) {
					if c.Action == "CreateAccessKey" {
						ix := filepath.Join(w.vars["XDG_CONFIG_HOME"], "rolehop", "keys.json")
						if err := os.Rename(ix, ix+".saved"); err != nil {
							panic(err)
						}
						if err := os.Mkdir(ix, 0o700); err != nil {
							panic(err)
						}
					}
				}
			},
			wantErr:    []string{"storing the new key AKIA…0002", "key index", "the old key was put back in the store", "deleted the new key again in IAM", "AKIA…0001 is still stored"},
			wantCalls:  []string{"GetCallerIdentity(old)", "ListAccessKeys(old)", "CreateAccessKey(old)", "GetCallerIdentity(new)", "DeleteAccessKey(old)"},
			wantStored: "old", wantIAM: []string{"old"},
		},
		{
			name: "deleting the old key fails",
			setup: func(w *rotateWorld) {
				w.aws.fail = func(c fakeCall) string {
					if c.Action == "DeleteAccessKey" {
						return "AccessDenied"
					}
					return ""
				}
			},
			wantErr: []string{"the new key AKIA…0002 is stored in the encrypted-file keychain and works", "deleting the old key in IAM failed", "iam:DeleteAccessKey",
				"AKIAFAKE000000000001 still exists", "`aws iam delete-access-key --access-key-id AKIAFAKE000000000001`"},
			wantCalls:  []string{"GetCallerIdentity(old)", "ListAccessKeys(old)", "CreateAccessKey(old)", "GetCallerIdentity(new)", "DeleteAccessKey(old)"},
			wantStored: "new", wantIAM: []string{"old", "new"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.userARN == "" {
				tc.userARN = aliceARN
			}
			w := newRotateWorld(t, tc.userARN, tc.config)
			if tc.setup != nil {
				tc.setup(w)
			}
			err := w.rotate(tc.opts)
			t.Logf("error: %v; notices: %q", err, w.notices)
			if ix := filepath.Join(w.vars["XDG_CONFIG_HOME"], "rolehop", "keys.json"); fileExists(ix + ".saved") {
				os.Remove(ix)
				os.Rename(ix+".saved", ix)
			}
			w.password = func() string { return "right passphrase" }

			names := map[string]string{w.old.AccessKeyID: "old", newKeyID: "new", "ASIAFAKESESSION00001": "session"}
			var calls []string
			for _, c := range w.aws.actions() {
				for id, n := range names {
					c = strings.ReplaceAll(c, "("+id+")", "("+n+")")
				}
				calls = append(calls, c)
			}
			if fmt.Sprint(calls) != fmt.Sprint(tc.wantCalls) {
				t.Errorf("calls\n  %v\nwant\n  %v", calls, tc.wantCalls)
			}
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatalf("Rotate: %v", err)
			}
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Rotate succeeded, want an error saying %q", tc.wantErr)
				}
				for _, f := range tc.wantErr {
					if !strings.Contains(err.Error(), f) {
						t.Errorf("error does not say %q:\n  %v", f, err)
					}
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error has more than one line: %q", err)
				}
			}
			// No secret in any message.
			all := fmt.Sprint(err, w.notices)
			for _, s := range []string{w.old.SecretAccessKey, "secret/2/", "sessionsecret"} {
				if strings.Contains(all, s) {
					t.Errorf("a secret (%s…) is in the output: %s", s[:6], all)
				}
			}
			if fmt.Sprint(w.sleeps) != fmt.Sprint(tc.wantSleeps) {
				t.Errorf("slept %v, want %v", w.sleeps, tc.wantSleeps)
			}

			// What is stored works, and is what the index says.
			k, en := w.stored(t)
			want := w.old
			if tc.wantStored == "new" {
				want = keychain.Keys{AccessKeyID: newKeyID, SecretAccessKey: w.aws.keysSecret(newKeyID)}
			}
			if k != want || en.AccessKeyID != want.AccessKeyID {
				t.Errorf("stored %s (index %s), want the %s key %s", k.AccessKeyID, en.AccessKeyID, tc.wantStored, want.AccessKeyID)
			}
			if !w.aws.valid(k.AccessKeyID) {
				t.Errorf("the stored key %s is not valid in IAM", k.AccessKeyID)
			}
			if tc.wantStored == "new" {
				if en.UserARN != tc.userARN || !en.Created.Equal(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)) || en.Backend != keychain.File {
					t.Errorf("index entry %+v: want user %s, created 2024-05-06T07:08:09Z, file", en, tc.userARN)
				}
				if len(tc.wantErr) == 0 {
					if len(w.notices) != 1 || !strings.Contains(w.notices[0], "AKIA…0001 → AKIA…0002, stored in the encrypted-file keychain") {
						t.Errorf("notices %q: want one naming both keys and the store", w.notices)
					}
				}
			}
			if tc.check != nil {
				tc.check(t, w)
			}
			var inIAM []string
			for _, id := range w.aws.userKeys() {
				inIAM = append(inIAM, names[id])
			}
			if fmt.Sprint(inIAM) != fmt.Sprint(tc.wantIAM) {
				t.Errorf("IAM has the keys %v, want %v", inIAM, tc.wantIAM)
			}
		})
	}
}

// w0 is the id of the fake's n-th key.
func w0(n int) string { return fmt.Sprintf("AKIAFAKE%012d", n) }

func (f *fakeAWS) keysSecret(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.keys[id]; ok {
		return s
	}
	// Deleted already: fakeAWS's secrets are derived from the number.
	var n int
	fmt.Sscanf(id, "AKIAFAKE%d", &n)
	return fmt.Sprintf("secret/%d/abcdefghijklmnopqrstuvwxyz", n)
}

func (f *fakeAWS) valid(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.keys[id]
	return ok
}

func (f *fakeAWS) userKeys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.order...)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestRotateNoIndexEntry(t *testing.T) {
	w := newRotateWorld(t, aliceARN, "")
	err := Rotate(context.Background(), w.env, "other", RotateOptions{})
	if err == nil || !strings.Contains(err.Error(), `no keys for profile "other"`) || !strings.Contains(err.Error(), "rolehop keys add other") || !strings.Contains(err.Error(), "rolehop keys import") {
		t.Errorf("Rotate of a profile without keys: %v", err)
	}
	if len(w.aws.actions()) != 0 {
		t.Errorf("AWS calls: %v", w.aws.actions())
	}
}

func TestAskOnce(t *testing.T) {
	n := 0
	ask := askOnce(func(context.Context, string, bool) (string, error) { n++; return "pw", nil })
	for range 3 {
		if pw, err := ask(context.Background(), "q", false); pw != "pw" || err != nil {
			t.Fatalf("ask = %q, %v", pw, err)
		}
	}
	if n != 1 {
		t.Errorf("asked %d times, want 1", n)
	}
	if askOnce(nil) != nil {
		t.Error("askOnce(nil) is not nil: no terminal must stay no terminal")
	}
}
