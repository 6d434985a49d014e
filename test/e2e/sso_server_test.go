//go:build unix

package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// SSOServer is a per-test IAM Identity Center: the OIDC service (sso-oauth,
// the "SSO OIDC" service of the SDKs: RegisterClient, StartDeviceAuthorization,
// CreateToken, plus the browser's /authorize page of the PKCE flow) and the
// access portal (portal.sso, the "SSO" service: GetRoleCredentials,
// ListAccounts, ListAccountRoles, Logout) on one httptest server. Both speak
// the restJson1 wire format aws-sdk-go-v2 and botocore parse (see
// TestSSOServerWithSDK); their paths do not collide, so AWS_ENDPOINT_URL_SSO
// and AWS_ENDPOINT_URL_SSO_OIDC both point at URL (useSSOServer).
//
// GetRoleCredentials hands out real moto credentials: it assumes
// arn:aws:iam::<account>:role/AWSReservedSSO_<role>_0123456789abcdef at moto
// (directly, not through the test's proxy) with the user name as session
// name, so get-caller-identity shows
// assumed-role/AWSReservedSSO_<role>_0123456789abcdef/alice@example.com.
//
// Errors are sent as the services send them: the HTTP status of the
// model, the type in the X-Amzn-ErrorType header (with the ":http://…"
// suffix the real services add) and, for OIDC, a body
// {"error":"authorization_pending","error_description":"…"}; for the
// portal {"message":"…"}. Both SDKs take the type from the header: the body
// has no __type.
//
// Configure it (the exported fields) before the client runs; everything else
// is safe for concurrent use.
type SSOServer struct {
	URL string

	// User is the signed-in user: the session name of the role
	// credentials. Default alice@example.com.
	User string
	// Interval is the device flow's polling interval in seconds (default 1;
	// the real service says 1 too, the CLI's default is 5).
	Interval int32
	// DeviceExpiresIn is the device code's lifetime in seconds (default 600).
	DeviceExpiresIn int32
	// AccessTokenTTL is the lifetime of every access token CreateToken
	// issues (default 8 h).
	AccessTokenTTL time.Duration
	// RegistrationTTL is the lifetime of a client registration (default 90
	// days).
	RegistrationTTL time.Duration
	// RoleCredentialTTL, when set, is sent to moto as DurationSeconds (moto
	// does not check it). Default: moto's 1 hour, as the real default
	// permission set session duration.
	RoleCredentialTTL time.Duration
	// RotateRefreshTokens makes a refresh_token grant return a new refresh
	// token and revoke the old one; otherwise the same one is returned.
	RotateRefreshTokens bool
	// PageSize caps every ListAccounts/ListAccountRoles page (default 2, so
	// pagination is exercised; max_result can lower it).
	PageSize int
	// VerificationURI, when set, is the device flow's verificationUri (and,
	// with ?user_code=, its verificationUriComplete) instead of the
	// server's own page: a hostile or broken sign-in endpoint.
	VerificationURI string

	srv *httptest.Server
	sts *sts.Client

	mu           sync.Mutex
	accounts     []SSOAccount
	clients      map[string]*ssoClient // by clientId
	devices      map[string]*ssoDevice // by deviceCode
	userCodes    map[string]string     // userCode → deviceCode
	access       map[string]*ssoAccess // by access token
	refresh      map[string]*ssoRefresh
	authCodes    map[string]*ssoAuthCode
	script       []string // answers of the next device codes before approval
	manual       bool     // device codes wait for Approve
	injections   []*ssoInjection
	faults       []*injection
	calls        []SSOCall
	issued       []SSORoleCredentials
	authorizeDen bool
}

// SSOAccount is an account the user is assigned to, with its roles
// (permission sets).
type SSOAccount struct {
	ID    string
	Name  string
	Email string
	Roles []string
}

// SSOCall is one request the server saw.
type SSOCall struct {
	// Op is the operation: RegisterClient, StartDeviceAuthorization,
	// CreateToken, Authorize (GET /authorize), Device (GET /device, the
	// verification page), GetRoleCredentials, ListAccounts,
	// ListAccountRoles, Logout, or "unknown".
	Op     string
	Time   time.Time // arrival
	Method string
	Path   string
	Query  url.Values
	// Body is the JSON request body, decoded (nil for none).
	Body map[string]any
	// ClientID and GrantType are the OIDC body's clientId and grantType.
	ClientID  string
	GrantType string
	// DeviceCode and RefreshToken are from a CreateToken body.
	DeviceCode   string
	RefreshToken string
	// BearerToken is the portal's x-amz-sso_bearer_token header.
	BearerToken string
	// Status and ErrorType are the answer ("" for success).
	Status    int
	ErrorType string
	Injected  bool
	// Response is a successful JSON answer, decoded.
	Response map[string]any
}

// Str returns a string field of the decoded response.
func (c SSOCall) Str(key string) string { v, _ := c.Response[key].(string); return v }

// Num returns a number field of the decoded response.
func (c SSOCall) Num(key string) int64 { v, _ := c.Response[key].(float64); return int64(v) }

func (c SSOCall) String() string {
	s := fmt.Sprintf("%s %s %s", c.Op, c.Method, c.Path)
	if len(c.Query) > 0 {
		s += "?" + c.Query.Encode()
	}
	if c.GrantType != "" {
		s += " grant=" + c.GrantType
	}
	if c.ClientID != "" {
		s += " client=" + short(c.ClientID)
	}
	if c.BearerToken != "" {
		s += " bearer=" + short(c.BearerToken)
	}
	s += fmt.Sprintf(" → %d", c.Status)
	if c.ErrorType != "" {
		s += " " + c.ErrorType
	}
	if c.Injected {
		s += " (injected)"
	}
	return s
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}

// SSORoleCredentials is one GetRoleCredentials answer.
type SSORoleCredentials struct {
	AccountID   string
	RoleName    string
	BearerToken string
	Keys
}

// SSOToken is what a login leaves in the token cache: the access token, its
// refresh token and the client registration they belong to.
type SSOToken struct {
	AccessToken           string
	RefreshToken          string
	ClientID              string
	ClientSecret          string
	ExpiresAt             time.Time
	RegistrationExpiresAt time.Time
}

type ssoClient struct {
	id, secret  string
	name        string
	scopes      []string
	grantTypes  []string
	redirects   []string
	issuerURL   string
	issuedAt    time.Time
	expiresAt   time.Time
	deviceCodes int
}

type ssoDevice struct {
	code, userCode string
	clientID       string
	startURL       string
	expiresAt      time.Time
	answers        []string
	manual         bool
	approved       bool
	used           bool
	polls          []time.Time
}

type ssoAccess struct {
	user      string
	clientID  string
	refresh   string
	expiresAt time.Time
	revoked   bool
}

type ssoRefresh struct {
	user     string
	clientID string
	revoked  bool
}

type ssoAuthCode struct {
	clientID, redirectURI, challenge, scopes string
	expiresAt                                time.Time
	used                                     bool
}

type ssoInjection struct {
	op        string
	remaining int
	status    int
	errType   string
	message   string
}

// Wire names of the OIDC errors (the body's "error").
var oidcErrorCodes = map[string]string{
	"AuthorizationPendingException":  "authorization_pending",
	"SlowDownException":              "slow_down",
	"ExpiredTokenException":          "expired_token",
	"AccessDeniedException":          "access_denied",
	"InvalidGrantException":          "invalid_grant",
	"InvalidClientException":         "invalid_client",
	"InvalidRequestException":        "invalid_request",
	"InvalidScopeException":          "invalid_scope",
	"UnauthorizedClientException":    "unauthorized_client",
	"UnsupportedGrantTypeException":  "unsupported_grant_type",
	"InvalidClientMetadataException": "invalid_client_metadata",
	"InvalidRedirectUriException":    "invalid_redirect_uri",
	"InternalServerException":        "server_error",
}

// HTTP statuses of the models (botocore data/sso-oidc, data/sso).
var ssoErrorStatus = map[string]int{
	"InvalidClientException":    http.StatusUnauthorized,
	"InternalServerException":   http.StatusInternalServerError,
	"UnauthorizedException":     http.StatusUnauthorized,
	"TooManyRequestsException":  http.StatusTooManyRequests,
	"ResourceNotFoundException": http.StatusNotFound,
	"ForbiddenException":        http.StatusForbidden, // not modeled; what the portal says for an unassigned role
}

// Device-flow answers for SetDeviceScript.
const (
	AnswerPending  = "authorization_pending"
	AnswerSlowDown = "slow_down"
	AnswerExpired  = "expired_token"
	AnswerDenied   = "access_denied"
)

const (
	ssoRoleSuffix   = "_0123456789abcdef"
	deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"
)

// ssoRoleARN is the IAM role behind a permission set in an account.
func ssoRoleARN(account, role string) string {
	return "arn:aws:iam::" + account + ":role/AWSReservedSSO_" + role + ssoRoleSuffix
}

// ssoAssumedARN is the identity of role credentials from GetRoleCredentials.
func ssoAssumedARN(account, role, user string) string {
	return assumedARN(account, "AWSReservedSSO_"+role+ssoRoleSuffix, user)
}

// newSSOServer starts a test IAM Identity Center, closed at the end of the
// test. The user is assigned to 111111111111 (Developer, ReadOnly) and
// 222222222222 (Developer, Admin) and 333333333333 (ReadOnly).
func newSSOServer(t testing.TB) *SSOServer {
	t.Helper()
	s := &SSOServer{
		User:            "alice@example.com",
		Interval:        1,
		DeviceExpiresIn: 600,
		AccessTokenTTL:  8 * time.Hour,
		RegistrationTTL: 90 * 24 * time.Hour,
		PageSize:        2,
		clients:         map[string]*ssoClient{},
		devices:         map[string]*ssoDevice{},
		userCodes:       map[string]string{},
		access:          map[string]*ssoAccess{},
		refresh:         map[string]*ssoRefresh{},
		authCodes:       map[string]*ssoAuthCode{},
		accounts: []SSOAccount{
			{ID: devAccount, Name: "dev", Email: "aws-dev@example.com", Roles: []string{"Developer", "ReadOnly"}},
			{ID: prodAccount, Name: "prod", Email: "aws-prod@example.com", Roles: []string{"Developer", "Admin"}},
			{ID: "333333333333", Name: "audit", Email: "aws-audit@example.com", Roles: []string{"ReadOnly"}},
		},
	}
	if motoURL != "" {
		s.sts = sts.NewFromConfig(motoConfig(Keys{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "sso-portal"}))
	}
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// SetAccounts replaces the user's account assignments.
func (s *SSOServer) SetAccounts(accounts []SSOAccount) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts = slices.Clone(accounts)
}

// SetDeviceScript sets how the next device codes answer CreateToken polls
// before they are approved: each poll takes the next answer (AnswerPending,
// AnswerSlowDown, AnswerExpired, AnswerDenied); when the list is used up the
// code is approved (auto-approval) and the next poll gets the token. With
// no script the first poll succeeds.
func (s *SSOServer) SetDeviceScript(answers ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = slices.Clone(answers)
}

// ManualApproval makes the next device codes answer authorization_pending
// (after their script) until Approve(userCode) or a GET of the
// verificationUriComplete.
func (s *SSOServer) ManualApproval(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.manual = on
}

// Approve approves a device code by its user code, as the user does in the
// browser.
func (s *SSOServer) Approve(userCode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.approveLocked(userCode)
}

func (s *SSOServer) approveLocked(userCode string) error {
	code, ok := s.userCodes[userCode]
	if !ok {
		return fmt.Errorf("unknown user code %q", userCode)
	}
	d := s.devices[code]
	d.approved, d.manual, d.answers = true, false, nil
	return nil
}

// UserCodes lists the user codes handed out, oldest first.
func (s *SSOServer) UserCodes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for uc := range s.userCodes {
		out = append(out, uc)
	}
	slices.SortFunc(out, func(a, b string) int {
		return s.devices[s.userCodes[a]].expiresAt.Compare(s.devices[s.userCodes[b]].expiresAt)
	})
	return out
}

// DenyAuthorize makes /authorize redirect with error=access_denied.
func (s *SSOServer) DenyAuthorize(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authorizeDen = on
}

// IssueToken creates, as a finished login would, a client registration
// (with scope sso:account:access) and an access token valid for ttl
// (negative: already expired) with a refresh token, and returns what the
// token cache holds.
func (s *SSOServer) IssueToken(ttl time.Duration) SSOToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.registerLocked("test-seeded", []string{"sso:account:access"}, nil, nil, "")
	at, rt := s.issueLocked(c, s.user(), true)
	s.access[at].expiresAt = time.Now().Add(ttl)
	return SSOToken{
		AccessToken: at, RefreshToken: rt,
		ClientID: c.id, ClientSecret: c.secret,
		ExpiresAt:             s.access[at].expiresAt,
		RegistrationExpiresAt: c.expiresAt,
	}
}

// RevokeRefreshToken makes a refresh token invalid (the refresh grant then
// fails with InvalidGrantException).
func (s *SSOServer) RevokeRefreshToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.refresh[token]; r != nil {
		r.revoked = true
	}
}

// ExpireAccessToken makes an access token expired at the portal.
func (s *SSOServer) ExpireAccessToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.access[token]; a != nil {
		a.expiresAt = time.Now().Add(-time.Second)
	}
}

// AccessTokenValid reports whether the portal accepts token now.
func (s *SSOServer) AccessTokenValid(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.validLocked(token)
	return ok
}

// InjectError makes the next n calls of op answer with errType (for example
// "TooManyRequestsException", "InternalServerException") instead of doing
// their work. status 0 takes the model's status.
func (s *SSOServer) InjectError(op string, n, status int, errType, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		status = errStatus(errType)
	}
	s.injections = append(s.injections, &ssoInjection{op: op, remaining: n, status: status, errType: errType, message: message})
}

// InjectFault meets the next n calls of op with f (a reset, or a raw answer
// such as malformed JSON) instead of their work; InjectError is for errors
// in the services' format.
func (s *SSOServer) InjectFault(op string, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &injection{action: op, remaining: n, fault: f})
}

// Calls returns the recorded calls of op ("" = all), in arrival order.
func (s *SSOServer) Calls(op string) []SSOCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SSOCall
	for _, c := range s.calls {
		if op == "" || c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// Count is how many calls of op arrived.
func (s *SSOServer) Count(op string) int { return len(s.Calls(op)) }

// TokenCalls returns the CreateToken calls of one grant type
// ("refresh_token", "authorization_code" or deviceGrantType).
func (s *SSOServer) TokenCalls(grantType string) []SSOCall {
	var out []SSOCall
	for _, c := range s.Calls("CreateToken") {
		if c.GrantType == grantType {
			out = append(out, c)
		}
	}
	return out
}

// Issued lists the role credentials GetRoleCredentials handed out.
func (s *SSOServer) Issued() []SSORoleCredentials {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.issued)
}

// Client returns the registration of a client id (nil when unknown): its
// name, scopes, grant types and redirect URIs as registered.
func (s *SSOServer) Client(id string) (name string, scopes, grantTypes, redirects []string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clients[id]
	if c == nil {
		return "", nil, nil, nil, false
	}
	return c.name, slices.Clone(c.scopes), slices.Clone(c.grantTypes), slices.Clone(c.redirects), true
}

// CallLog is every call, one per line, for failure messages.
func (s *SSOServer) CallLog() string {
	calls := s.Calls("")
	if len(calls) == 0 {
		return "  (no SSO calls)"
	}
	var b strings.Builder
	for i, c := range calls {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, c)
	}
	return b.String()
}

// ---- HTTP ----

func (s *SSOServer) user() string {
	if s.User == "" {
		return "alice@example.com"
	}
	return s.User
}

func (s *SSOServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call := SSOCall{Time: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Status: http.StatusOK}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &call.Body); err != nil {
			call.Body = map[string]any{"_unparsed": string(body)}
		}
	}
	str := func(k string) string { v, _ := call.Body[k].(string); return v }
	call.ClientID, call.GrantType = str("clientId"), str("grantType")
	call.DeviceCode, call.RefreshToken = str("deviceCode"), str("refreshToken")
	call.BearerToken = r.Header.Get("x-amz-sso_bearer_token")

	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/client/register":
		call.Op = "RegisterClient"
	case r.Method == http.MethodPost && r.URL.Path == "/device_authorization":
		call.Op = "StartDeviceAuthorization"
	case r.Method == http.MethodPost && r.URL.Path == "/token" && r.URL.RawQuery == "":
		call.Op = "CreateToken"
	case r.Method == http.MethodGet && r.URL.Path == "/authorize":
		call.Op = "Authorize"
	case r.Method == http.MethodGet && strings.TrimSuffix(r.URL.Path, "/") == "/device":
		call.Op = "Device"
	case r.Method == http.MethodGet && r.URL.Path == "/federation/credentials":
		call.Op = "GetRoleCredentials"
	case r.Method == http.MethodGet && r.URL.Path == "/assignment/accounts":
		call.Op = "ListAccounts"
	case r.Method == http.MethodGet && r.URL.Path == "/assignment/roles":
		call.Op = "ListAccountRoles"
	case r.Method == http.MethodPost && r.URL.Path == "/logout":
		call.Op = "Logout"
	default:
		call.Op = "unknown"
	}

	s.mu.Lock()
	inj := takeInjection(s.faults, call.Op)
	s.mu.Unlock()
	if inj != nil {
		call.Injected = true
		call.Status, _ = serveFault(w, Call{}, inj.fault)
		s.record(call)
		return
	}

	res := s.handle(r.Context(), &call)
	if res.errType != "" {
		call.ErrorType = res.errType
		if res.status == 0 {
			res.status = errStatus(res.errType)
		}
		call.Status = res.status
		s.record(call)
		writeSSOError(w, call.Op, res.status, res.errType, res.message)
		return
	}
	if res.redirect != "" {
		call.Status = http.StatusFound
		s.record(call)
		w.Header().Set("Location", res.redirect)
		w.WriteHeader(http.StatusFound)
		return
	}
	if res.status == 0 {
		res.status = http.StatusOK
	}
	call.Status = res.status
	if res.body != nil {
		b, _ := json.Marshal(res.body)
		_ = json.Unmarshal(b, &call.Response)
	}
	s.record(call)
	w.Header().Set("x-amzn-RequestId", "e2e-sso-0000")
	if res.text != "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(res.status)
		_, _ = io.WriteString(w, res.text)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(res.status)
	if res.body != nil {
		_ = json.NewEncoder(w).Encode(res.body)
	}
}

type ssoResult struct {
	status   int
	body     any
	text     string
	redirect string
	errType  string
	message  string
}

func errResult(errType, msg string) ssoResult { return ssoResult{errType: errType, message: msg} }

func errStatus(errType string) int {
	if st, ok := ssoErrorStatus[errType]; ok {
		return st
	}
	return http.StatusBadRequest
}

func (s *SSOServer) record(c SSOCall) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

func isOIDCOp(op string) bool {
	switch op {
	case "RegisterClient", "StartDeviceAuthorization", "CreateToken", "Authorize", "Device":
		return true
	}
	return false
}

// writeSSOError writes an error the way the services do: the model's
// status, X-Amzn-ErrorType "<Type>:http://internal.amazon.com/coral/…/"
// and a JSON body without __type.
func writeSSOError(w http.ResponseWriter, op string, status int, errType, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-RequestId", "e2e-sso-0000")
	w.Header().Set("X-Amzn-ErrorType", errType+":http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/")
	w.WriteHeader(status)
	var body map[string]string
	if isOIDCOp(op) {
		code := oidcErrorCodes[errType]
		if code == "" {
			code = errType
		}
		body = map[string]string{"error": code, "error_description": message}
	} else {
		body = map[string]string{"message": message}
	}
	_ = json.NewEncoder(w).Encode(body)
}

func (s *SSOServer) takeInjection(op string) *ssoInjection {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, inj := range s.injections {
		if inj.op == op && inj.remaining > 0 {
			inj.remaining--
			return inj
		}
	}
	return nil
}

func (s *SSOServer) handle(ctx context.Context, c *SSOCall) ssoResult {
	if inj := s.takeInjection(c.Op); inj != nil {
		c.Injected = true
		return ssoResult{status: inj.status, errType: inj.errType, message: inj.message}
	}
	switch c.Op {
	case "RegisterClient":
		return s.registerClient(c)
	case "StartDeviceAuthorization":
		return s.startDeviceAuthorization(c)
	case "CreateToken":
		return s.createToken(c)
	case "Authorize":
		return s.authorize(c)
	case "Device":
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := s.approveLocked(c.Query.Get("user_code")); err != nil {
			return ssoResult{status: http.StatusNotFound, text: err.Error() + "\n"}
		}
		return ssoResult{text: "Request approved. You can close this window.\n"}
	case "GetRoleCredentials":
		return s.getRoleCredentials(ctx, c)
	case "ListAccounts":
		return s.listAccounts(c)
	case "ListAccountRoles":
		return s.listAccountRoles(c)
	case "Logout":
		return s.logout(c)
	}
	return ssoResult{status: http.StatusNotFound, errType: "UnknownOperationException", message: "no such operation: " + c.Method + " " + c.Path}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randB64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func strList(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// ---- OIDC ----

func (s *SSOServer) registerLocked(name string, scopes, grantTypes, redirects []string, issuer string) *ssoClient {
	ttl := s.RegistrationTTL
	if ttl == 0 {
		ttl = 90 * 24 * time.Hour
	}
	now := time.Now()
	c := &ssoClient{
		id: randB64(24), secret: "eyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0." + randB64(96),
		name: name, scopes: scopes, grantTypes: grantTypes, redirects: redirects, issuerURL: issuer,
		issuedAt: now.Truncate(time.Second), expiresAt: now.Add(ttl).Truncate(time.Second),
	}
	s.clients[c.id] = c
	return c
}

func (s *SSOServer) registerClient(c *SSOCall) ssoResult {
	name, _ := c.Body["clientName"].(string)
	typ, _ := c.Body["clientType"].(string)
	if name == "" || typ == "" {
		return errResult("InvalidRequestException", "clientName and clientType are required")
	}
	if typ != "public" {
		return errResult("InvalidClientMetadataException", "Invalid client type: "+typ)
	}
	scopes := strList(c.Body["scopes"])
	for _, sc := range scopes {
		if !strings.HasPrefix(sc, "sso:") && !strings.HasPrefix(sc, "codewhisperer:") && sc != "openid" {
			return errResult("InvalidScopeException", "Invalid scope: "+sc)
		}
	}
	grants := strList(c.Body["grantTypes"])
	for _, g := range grants {
		if g != "authorization_code" && g != "refresh_token" && g != deviceGrantType {
			return errResult("UnsupportedGrantTypeException", "Unsupported grant type: "+g)
		}
	}
	redirects := strList(c.Body["redirectUris"])
	for _, ru := range redirects {
		u, err := url.Parse(ru)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return errResult("InvalidRedirectUriException", "Invalid redirect URI: "+ru)
		}
	}
	if slices.Contains(grants, "authorization_code") && len(redirects) == 0 {
		return errResult("InvalidRequestException", "redirectUris is required for the authorization_code grant")
	}
	issuer, _ := c.Body["issuerUrl"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	cl := s.registerLocked(name, scopes, grants, redirects, issuer)
	c.ClientID = cl.id
	return ssoResult{body: map[string]any{
		"clientId":              cl.id,
		"clientSecret":          cl.secret,
		"clientIdIssuedAt":      cl.issuedAt.Unix(),
		"clientSecretExpiresAt": cl.expiresAt.Unix(),
	}}
}

// clientLocked checks a client's id and secret.
func (s *SSOServer) clientLocked(id, secret string) (*ssoClient, *ssoResult) {
	cl := s.clients[id]
	if cl == nil || cl.secret != secret {
		r := errResult("InvalidClientException", "Invalid client provided")
		return nil, &r
	}
	if time.Now().After(cl.expiresAt) {
		r := errResult("InvalidClientException", "Client registration has expired")
		return nil, &r
	}
	return cl, nil
}

func (s *SSOServer) startDeviceAuthorization(c *SSOCall) ssoResult {
	secret, _ := c.Body["clientSecret"].(string)
	startURL, _ := c.Body["startUrl"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	cl, bad := s.clientLocked(c.ClientID, secret)
	if bad != nil {
		return *bad
	}
	if startURL == "" {
		return errResult("InvalidRequestException", "startUrl is required")
	}
	if _, err := url.Parse(startURL); err != nil {
		return errResult("InvalidRequestException", "Invalid start URL")
	}
	cl.deviceCodes++
	expiresIn := s.DeviceExpiresIn
	if expiresIn == 0 {
		expiresIn = 600
	}
	interval := s.Interval
	if interval == 0 {
		interval = 1
	}
	letters := "BCDFGHJKLMNPQRSTVWXZ"
	uc := make([]byte, 9)
	rb := make([]byte, 8)
	_, _ = rand.Read(rb)
	for i, j := 0, 0; i < 9; i++ {
		if i == 4 {
			uc[i] = '-'
			continue
		}
		uc[i] = letters[int(rb[j])%len(letters)]
		j++
	}
	d := &ssoDevice{
		code: randB64(48), userCode: string(uc), clientID: cl.id, startURL: startURL,
		expiresAt: time.Now().Add(time.Duration(expiresIn) * time.Second),
		answers:   slices.Clone(s.script), manual: s.manual,
	}
	if _, dup := s.userCodes[d.userCode]; dup {
		d.userCode = d.userCode[:5] + randHex(2)
	}
	s.devices[d.code] = d
	s.userCodes[d.userCode] = d.code
	verify := s.URL + "/device/"
	if s.VerificationURI != "" {
		verify = s.VerificationURI
	}
	return ssoResult{body: map[string]any{
		"deviceCode":              d.code,
		"userCode":                d.userCode,
		"verificationUri":         verify,
		"verificationUriComplete": verify + "?user_code=" + d.userCode,
		"expiresIn":               expiresIn,
		"interval":                interval,
	}}
}

// issueLocked creates an access token (and a refresh token when the client
// may have one: it registered scopes or the refresh_token grant, as with
// IAM Identity Center, where only sso-session logins with
// sso_registration_scopes get refresh tokens).
func (s *SSOServer) issueLocked(cl *ssoClient, user string, withRefresh bool) (access, refresh string) {
	ttl := s.AccessTokenTTL
	if ttl == 0 {
		ttl = 8 * time.Hour
	}
	access = "aoa" + randB64(96)
	if withRefresh {
		refresh = "aor" + randB64(96)
		s.refresh[refresh] = &ssoRefresh{user: user, clientID: cl.id}
	}
	s.access[access] = &ssoAccess{user: user, clientID: cl.id, refresh: refresh, expiresAt: time.Now().Add(ttl)}
	return access, refresh
}

func (s *SSOServer) tokenResponse(access, refresh string) ssoResult {
	ttl := s.AccessTokenTTL
	if ttl == 0 {
		ttl = 8 * time.Hour
	}
	body := map[string]any{
		"accessToken": access,
		"tokenType":   "Bearer",
		"expiresIn":   int64(ttl / time.Second),
	}
	if refresh != "" {
		body["refreshToken"] = refresh
	}
	return ssoResult{body: body}
}

func (s *SSOServer) createToken(c *SSOCall) ssoResult {
	secret, _ := c.Body["clientSecret"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	cl, bad := s.clientLocked(c.ClientID, secret)
	if bad != nil {
		return *bad
	}
	mayRefresh := len(cl.scopes) > 0 || slices.Contains(cl.grantTypes, "refresh_token")
	switch c.GrantType {
	case deviceGrantType:
		d := s.devices[c.DeviceCode]
		if d == nil || d.clientID != cl.id || d.used {
			return errResult("InvalidGrantException", "Invalid grant provided")
		}
		d.polls = append(d.polls, c.Time)
		if time.Now().After(d.expiresAt) {
			return errResult("ExpiredTokenException", "Device code has expired")
		}
		if len(d.answers) > 0 {
			a := d.answers[0]
			d.answers = d.answers[1:]
			switch a {
			case AnswerPending:
				return errResult("AuthorizationPendingException", "Authorization is still pending")
			case AnswerSlowDown:
				return errResult("SlowDownException", "Client is polling too quickly")
			case AnswerExpired:
				return errResult("ExpiredTokenException", "Device code has expired")
			case AnswerDenied:
				return errResult("AccessDeniedException", "Access denied")
			}
			panic("sso server: unknown scripted answer " + a)
		}
		if d.manual && !d.approved {
			return errResult("AuthorizationPendingException", "Authorization is still pending")
		}
		d.used = true
		at, rt := s.issueLocked(cl, s.user(), mayRefresh)
		return s.tokenResponse(at, rt)

	case "refresh_token":
		rt := s.refresh[c.RefreshToken]
		if rt == nil || rt.revoked || rt.clientID != cl.id {
			return errResult("InvalidGrantException", "Invalid refresh token provided")
		}
		newRT := c.RefreshToken
		if s.RotateRefreshTokens {
			rt.revoked = true
			newRT = "aor" + randB64(96)
			s.refresh[newRT] = &ssoRefresh{user: rt.user, clientID: cl.id}
		}
		at, _ := s.issueLocked(cl, rt.user, false)
		s.access[at].refresh = newRT
		return s.tokenResponse(at, newRT)

	case "authorization_code":
		code, _ := c.Body["code"].(string)
		redirect, _ := c.Body["redirectUri"].(string)
		verifier, _ := c.Body["codeVerifier"].(string)
		if !slices.Contains(cl.grantTypes, "authorization_code") {
			return errResult("UnauthorizedClientException", "Client is not registered for the authorization_code grant")
		}
		ac := s.authCodes[code]
		if ac == nil || ac.used || ac.clientID != cl.id || time.Now().After(ac.expiresAt) {
			return errResult("InvalidGrantException", "Invalid authorization code provided")
		}
		if redirect != ac.redirectURI {
			return errResult("InvalidGrantException", "redirectUri does not match the authorization request")
		}
		sum := sha256.Sum256([]byte(verifier))
		if verifier == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != ac.challenge {
			return errResult("InvalidGrantException", "Code verifier does not match the code challenge")
		}
		ac.used = true
		at, rt := s.issueLocked(cl, s.user(), mayRefresh)
		return s.tokenResponse(at, rt)

	case "":
		return errResult("InvalidRequestException", "grantType is required")
	}
	return errResult("UnsupportedGrantTypeException", "Unsupported grant type: "+c.GrantType)
}

// authorize is the browser's GET /authorize of the authorization-code flow:
// the user is signed in already, so it redirects straight back to the
// client's loopback redirect_uri with code and state.
func (s *SSOServer) authorize(c *SSOCall) ssoResult {
	q := c.Query
	c.ClientID = q.Get("client_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	cl := s.clients[c.ClientID]
	if cl == nil {
		return ssoResult{status: http.StatusBadRequest, text: "invalid client_id\n"}
	}
	redirect := q.Get("redirect_uri")
	ru, err := url.Parse(redirect)
	registered := false
	if err == nil {
		for _, r := range cl.redirects {
			reg, err := url.Parse(r)
			// RFC 8252 §7.3: any port for a loopback redirect.
			if err == nil && reg.Scheme == ru.Scheme && reg.Hostname() == ru.Hostname() && reg.Path == ru.Path {
				registered = true
			}
		}
	}
	if !registered {
		return ssoResult{status: http.StatusBadRequest, text: "redirect_uri is not registered for this client\n"}
	}
	back := func(v url.Values) ssoResult {
		if st := q.Get("state"); st != "" {
			v.Set("state", st)
		}
		u := *ru
		old := u.Query()
		for k, vv := range v {
			old[k] = vv
		}
		u.RawQuery = old.Encode()
		return ssoResult{redirect: u.String()}
	}
	switch {
	case q.Get("response_type") != "code":
		return back(url.Values{"error": {"unsupported_response_type"}})
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		return back(url.Values{"error": {"invalid_request"}, "error_description": {"PKCE with S256 is required"}})
	case s.authorizeDen:
		return back(url.Values{"error": {"access_denied"}})
	}
	code := randB64(32)
	s.authCodes[code] = &ssoAuthCode{clientID: cl.id, redirectURI: redirect, challenge: q.Get("code_challenge"),
		scopes: q.Get("scopes"), expiresAt: time.Now().Add(5 * time.Minute)}
	return back(url.Values{"code": {code}})
}

// ---- portal ----

func (s *SSOServer) validLocked(token string) (*ssoAccess, bool) {
	a := s.access[token]
	if token == "" || a == nil || a.revoked || time.Now().After(a.expiresAt) {
		return nil, false
	}
	return a, true
}

func (s *SSOServer) bearer(c *SSOCall) (*ssoAccess, *ssoResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.validLocked(c.BearerToken)
	if !ok {
		r := errResult("UnauthorizedException", "Session token not found or invalid")
		return nil, &r
	}
	return a, nil
}

func (s *SSOServer) assigned(account, role string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accounts {
		if a.ID == account {
			return role == "" || slices.Contains(a.Roles, role)
		}
	}
	return false
}

func (s *SSOServer) getRoleCredentials(ctx context.Context, c *SSOCall) ssoResult {
	account, role := c.Query.Get("account_id"), c.Query.Get("role_name")
	if account == "" || role == "" {
		return errResult("InvalidRequestException", "account_id and role_name are required")
	}
	a, bad := s.bearer(c)
	if bad != nil {
		return *bad
	}
	if !s.assigned(account, role) {
		return errResult("ForbiddenException", "No access")
	}
	if s.sts == nil {
		return errResult("InternalServerException", "no moto")
	}
	in := &sts.AssumeRoleInput{RoleArn: aws.String(ssoRoleARN(account, role)), RoleSessionName: aws.String(a.user)}
	if s.RoleCredentialTTL > 0 {
		in.DurationSeconds = aws.Int32(int32(s.RoleCredentialTTL / time.Second))
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := s.sts.AssumeRole(ctx, in)
	if err != nil {
		return errResult("InternalServerException", "moto AssumeRole: "+err.Error())
	}
	k := Keys{
		AccessKeyID:     aws.ToString(out.Credentials.AccessKeyId),
		SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
		SessionToken:    aws.ToString(out.Credentials.SessionToken),
		Expiration:      aws.ToTime(out.Credentials.Expiration),
	}
	s.mu.Lock()
	s.issued = append(s.issued, SSORoleCredentials{AccountID: account, RoleName: role, BearerToken: c.BearerToken, Keys: k})
	s.mu.Unlock()
	return ssoResult{body: map[string]any{"roleCredentials": map[string]any{
		"accessKeyId":     k.AccessKeyID,
		"secretAccessKey": k.SecretAccessKey,
		"sessionToken":    k.SessionToken,
		"expiration":      k.Expiration.UnixMilli(),
	}}}
}

// page cuts a list by next_token (an offset "o<N>") and max_result.
func (s *SSOServer) page(q url.Values, n int) (from, to int, next string, bad *ssoResult) {
	size := s.PageSize
	if size <= 0 {
		size = 2
	}
	if m := q.Get("max_result"); m != "" {
		v, err := strconv.Atoi(m)
		if err != nil || v < 1 || v > 100 {
			r := errResult("InvalidRequestException", "max_result must be 1-100")
			return 0, 0, "", &r
		}
		size = min(size, v)
	}
	if t := q.Get("next_token"); t != "" {
		v, err := strconv.Atoi(strings.TrimPrefix(t, "o"))
		if !strings.HasPrefix(t, "o") || err != nil || v < 0 || v > n {
			r := errResult("InvalidRequestException", "Invalid next token")
			return 0, 0, "", &r
		}
		from = v
	}
	to = min(from+size, n)
	if to < n {
		next = "o" + strconv.Itoa(to)
	}
	return from, to, next, nil
}

func (s *SSOServer) listAccounts(c *SSOCall) ssoResult {
	if _, bad := s.bearer(c); bad != nil {
		return *bad
	}
	s.mu.Lock()
	accounts := slices.Clone(s.accounts)
	s.mu.Unlock()
	from, to, next, bad := s.page(c.Query, len(accounts))
	if bad != nil {
		return *bad
	}
	list := []map[string]string{}
	for _, a := range accounts[from:to] {
		list = append(list, map[string]string{"accountId": a.ID, "accountName": a.Name, "emailAddress": a.Email})
	}
	body := map[string]any{"accountList": list}
	if next != "" {
		body["nextToken"] = next
	}
	return ssoResult{body: body}
}

func (s *SSOServer) listAccountRoles(c *SSOCall) ssoResult {
	account := c.Query.Get("account_id")
	if account == "" {
		return errResult("InvalidRequestException", "account_id is required")
	}
	if _, bad := s.bearer(c); bad != nil {
		return *bad
	}
	s.mu.Lock()
	var roles []string
	found := false
	for _, a := range s.accounts {
		if a.ID == account {
			roles, found = slices.Clone(a.Roles), true
		}
	}
	s.mu.Unlock()
	if !found {
		return errResult("ResourceNotFoundException", "Account not found")
	}
	from, to, next, bad := s.page(c.Query, len(roles))
	if bad != nil {
		return *bad
	}
	list := []map[string]string{}
	for _, r := range roles[from:to] {
		list = append(list, map[string]string{"roleName": r, "accountId": account})
	}
	body := map[string]any{"roleList": list}
	if next != "" {
		body["nextToken"] = next
	}
	return ssoResult{body: body}
}

// logout ends the portal session: the access token and its refresh token
// stop working.
func (s *SSOServer) logout(c *SSOCall) ssoResult {
	if _, bad := s.bearer(c); bad != nil {
		return *bad
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.access[c.BearerToken]
	a.revoked = true
	if r := s.refresh[a.refresh]; r != nil {
		r.revoked = true
	}
	return ssoResult{}
}

// ---- the clients' side: config and token cache ----

// useSSOServer points rolehop and the AWS CLI at the test IAM Identity
// Center (the portal and OIDC endpoint variables; AWS_ENDPOINT_URL still
// points at moto).
func useSSOServer(env *TestEnv, s *SSOServer) {
	env.Set("AWS_ENDPOINT_URL_SSO", s.URL)
	env.Set("AWS_ENDPOINT_URL_SSO_OIDC", s.URL)
}

// ssoCachePath is ~/.aws/sso/cache/<sha1 hex of key>.json: key is the
// sso-session name, or the legacy profile's sso_start_url as written.
func ssoCachePath(env *TestEnv, key string) string {
	sum := sha1Hex(key)
	return filepath.Join(env.Home, ".aws", "sso", "cache", sum+".json")
}

// ssoCacheTime is the token cache's time format (botocore's
// _serialize_utc_timestamp: "%Y-%m-%dT%H:%M:%SZ").
const ssoCacheTime = "2006-01-02T15:04:05Z"

// ssoCacheJSON is a token cache file exactly as the AWS CLI's `aws sso
// login` writes it: json.dumps with Python's default separators, keys in
// its order, refreshToken only when there is one.
func ssoCacheJSON(startURL, region string, tok SSOToken) string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	var b strings.Builder
	fmt.Fprintf(&b, `{"startUrl": %s, "region": %s, "accessToken": %s, "expiresAt": %s`,
		q(startURL), q(region), q(tok.AccessToken), q(tok.ExpiresAt.UTC().Format(ssoCacheTime)))
	if tok.ClientID != "" {
		fmt.Fprintf(&b, `, "clientId": %s, "clientSecret": %s, "registrationExpiresAt": %s`,
			q(tok.ClientID), q(tok.ClientSecret), q(tok.RegistrationExpiresAt.UTC().Format(ssoCacheTime)))
	}
	if tok.RefreshToken != "" {
		fmt.Fprintf(&b, `, "refreshToken": %s`, q(tok.RefreshToken))
	}
	b.WriteString("}")
	return b.String()
}

// writeSSOCache writes a token cache file as `aws sso login` does (mode
// 0600, directory 0700) and returns its path.
func writeSSOCache(t testing.TB, env *TestEnv, key, startURL, region string, tok SSOToken) string {
	t.Helper()
	p := ssoCachePath(env, key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(ssoCacheJSON(startURL, region, tok)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// ssoCacheFile is a parsed token cache file.
type ssoCacheFile struct {
	StartURL              string `json:"startUrl"`
	Region                string `json:"region"`
	AccessToken           string `json:"accessToken"`
	ExpiresAt             string `json:"expiresAt"`
	ClientID              string `json:"clientId"`
	ClientSecret          string `json:"clientSecret"`
	RegistrationExpiresAt string `json:"registrationExpiresAt"`
	RefreshToken          string `json:"refreshToken"`

	Raw  map[string]any `json:"-"`
	Mode os.FileMode    `json:"-"`
}

// readSSOCache reads and parses a token cache file.
func readSSOCache(t testing.TB, path string) ssoCacheFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("token cache: %v", err)
	}
	var f ssoCacheFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("token cache %s is not JSON: %v\n%s", path, err, b)
	}
	_ = json.Unmarshal(b, &f.Raw)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Mode = st.Mode().Perm()
	return f
}

// sha1Hex is the lower-case hex SHA-1 of s (the token cache key).
func sha1Hex(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ---- the server's own test, driven by aws-sdk-go-v2's clients ----

// TestSSOServerWithSDK proves the test server speaks the wire format the
// real clients parse: aws-sdk-go-v2's ssooidc and sso clients get typed
// errors (errors.As), pagination tokens, epoch-millisecond expirations, and
// role credentials that moto recognises.
func TestSSOServerWithSDK(t *testing.T) {
	t.Parallel()
	requireHarness(t)
	srv := newSSOServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fast := retry.NewStandard(func(o *retry.StandardOptions) {
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 10 * time.Millisecond, nil })
	})
	oidc := ssooidc.New(ssooidc.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: fast})
	portal := sso.New(sso.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: fast})
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\nSSO calls:\n%s", append(args, srv.CallLog())...)
	}

	// RegisterClient as the device flow does it.
	reg, err := oidc.RegisterClient(ctx, &ssooidc.RegisterClientInput{
		ClientName: aws.String("botocore-client-corp"), ClientType: aws.String("public"),
		Scopes: []string{"sso:account:access"},
	})
	if err != nil {
		fail("RegisterClient: %v", err)
	}
	if aws.ToString(reg.ClientId) == "" || aws.ToString(reg.ClientSecret) == "" ||
		reg.ClientSecretExpiresAt < time.Now().Add(89*24*time.Hour).Unix() || reg.ClientIdIssuedAt > time.Now().Unix() {
		fail("RegisterClient answer: %+v", reg)
	}
	_, err = oidc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("x"), ClientType: aws.String("confidential")})
	var badMeta *oidctypes.InvalidClientMetadataException
	if !errors.As(err, &badMeta) {
		fail("clientType confidential: %v, want InvalidClientMetadataException", err)
	}

	// Device flow: pending, slow_down, then the token.
	srv.SetDeviceScript(AnswerPending, AnswerSlowDown)
	dev, err := oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, StartUrl: aws.String("https://corp.awsapps.com/start"),
	})
	if err != nil {
		fail("StartDeviceAuthorization: %v", err)
	}
	if dev.Interval != 1 || dev.ExpiresIn != 600 || aws.ToString(dev.DeviceCode) == "" ||
		!strings.Contains(aws.ToString(dev.VerificationUriComplete), aws.ToString(dev.UserCode)) ||
		!strings.HasPrefix(aws.ToString(dev.VerificationUriComplete), aws.ToString(dev.VerificationUri)) {
		fail("StartDeviceAuthorization answer: %+v", dev)
	}
	poll := func(code *string) (*ssooidc.CreateTokenOutput, error) {
		return oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{
			ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
			GrantType: aws.String(deviceGrantType), DeviceCode: code,
		})
	}
	_, err = poll(dev.DeviceCode)
	var pending *oidctypes.AuthorizationPendingException
	if !errors.As(err, &pending) || aws.ToString(pending.Error_) != "authorization_pending" {
		fail("first poll: %v, want AuthorizationPendingException", err)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AuthorizationPendingException" {
		fail("first poll error code: %v", err)
	}
	_, err = poll(dev.DeviceCode)
	var slow *oidctypes.SlowDownException
	if !errors.As(err, &slow) {
		fail("second poll: %v, want SlowDownException", err)
	}
	tok, err := poll(dev.DeviceCode)
	if err != nil {
		fail("third poll: %v", err)
	}
	if aws.ToString(tok.AccessToken) == "" || aws.ToString(tok.RefreshToken) == "" || aws.ToString(tok.TokenType) != "Bearer" || tok.ExpiresIn != 8*3600 {
		fail("CreateToken answer: %+v", tok)
	}
	var invalidGrant *oidctypes.InvalidGrantException
	if _, err = poll(dev.DeviceCode); !errors.As(err, &invalidGrant) {
		fail("reused device code: %v, want InvalidGrantException", err)
	}
	_, err = oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: aws.String("wrong"),
		GrantType: aws.String(deviceGrantType), DeviceCode: dev.DeviceCode})
	var invalidClient *oidctypes.InvalidClientException
	var httpErr *awshttp.ResponseError
	if !errors.As(err, &invalidClient) || !errors.As(err, &httpErr) || httpErr.HTTPStatusCode() != http.StatusUnauthorized {
		fail("wrong client secret: %v, want 401 InvalidClientException", err)
	}

	// Manual approval through the verification page; an expired device code.
	srv.SetDeviceScript()
	srv.ManualApproval(true)
	dev2, err := oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, StartUrl: aws.String("https://corp.awsapps.com/start"),
	})
	if err != nil {
		fail("StartDeviceAuthorization: %v", err)
	}
	if _, err = poll(dev2.DeviceCode); !errors.As(err, &pending) {
		fail("unapproved: %v, want AuthorizationPendingException", err)
	}
	resp, err := http.Get(aws.ToString(dev2.VerificationUriComplete))
	if err != nil || resp.StatusCode != http.StatusOK {
		fail("verification page: %v %v", err, resp)
	}
	resp.Body.Close()
	if _, err = poll(dev2.DeviceCode); err != nil {
		fail("approved: %v", err)
	}
	srv.ManualApproval(false)
	srv.SetDeviceScript(AnswerExpired)
	dev3, _ := oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, StartUrl: aws.String("https://corp.awsapps.com/start"),
	})
	var expired *oidctypes.ExpiredTokenException
	if _, err = poll(dev3.DeviceCode); !errors.As(err, &expired) {
		fail("expired device code: %v, want ExpiredTokenException", err)
	}
	srv.SetDeviceScript()

	// Refresh, then a revoked refresh token.
	ref, err := oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
		GrantType: aws.String("refresh_token"), RefreshToken: tok.RefreshToken})
	if err != nil || aws.ToString(ref.AccessToken) == aws.ToString(tok.AccessToken) || aws.ToString(ref.RefreshToken) != aws.ToString(tok.RefreshToken) {
		fail("refresh: %v %+v", err, ref)
	}
	srv.RevokeRefreshToken(aws.ToString(tok.RefreshToken))
	_, err = oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
		GrantType: aws.String("refresh_token"), RefreshToken: tok.RefreshToken})
	if !errors.As(err, &invalidGrant) {
		fail("revoked refresh token: %v, want InvalidGrantException", err)
	}
	if got := len(srv.TokenCalls("refresh_token")); got != 2 {
		fail("TokenCalls(refresh_token) = %d, want 2", got)
	}

	// Authorization code with PKCE, as aws sso login (CLI v2 ≥ 2.22) does.
	pk, err := oidc.RegisterClient(ctx, &ssooidc.RegisterClientInput{
		ClientName: aws.String("botocore-client-corp"), ClientType: aws.String("public"),
		Scopes:     []string{"sso:account:access"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, RedirectUris: []string{"http://127.0.0.1/oauth/callback"},
		IssuerUrl: aws.String("https://corp.awsapps.com/start"),
	})
	if err != nil {
		fail("RegisterClient (auth code): %v", err)
	}
	verifier := randB64(48)
	sum := sha256.Sum256([]byte(verifier))
	redirect := "http://127.0.0.1:54321/oauth/callback"
	authURL := srv.URL + "/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {aws.ToString(pk.ClientId)}, "redirect_uri": {redirect},
		"state": {"state-123"}, "code_challenge_method": {"S256"}, "scopes": {"sso:account:access"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
	}.Encode()
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = browser.Get(authURL)
	if err != nil {
		fail("authorize: %v", err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Host != "127.0.0.1:54321" || loc.Path != "/oauth/callback" ||
		loc.Query().Get("state") != "state-123" || loc.Query().Get("code") == "" {
		fail("authorize: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	exchange := func(v string) (*ssooidc.CreateTokenOutput, error) {
		return oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: pk.ClientId, ClientSecret: pk.ClientSecret,
			GrantType: aws.String("authorization_code"), Code: aws.String(loc.Query().Get("code")),
			RedirectUri: aws.String(redirect), CodeVerifier: aws.String(v)})
	}
	if _, err = exchange(verifier + "x"); !errors.As(err, &invalidGrant) {
		fail("wrong code verifier: %v, want InvalidGrantException", err)
	}
	pkTok, err := exchange(verifier)
	if err != nil || aws.ToString(pkTok.RefreshToken) == "" {
		fail("code exchange: %v %+v", err, pkTok)
	}

	// Portal: real moto credentials for the role, as the user.
	rc, err := portal.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{
		AccessToken: ref.AccessToken, AccountId: aws.String(devAccount), RoleName: aws.String("Developer"),
	})
	if err != nil {
		fail("GetRoleCredentials: %v", err)
	}
	c := rc.RoleCredentials
	exp := time.UnixMilli(c.Expiration)
	if d := time.Until(exp); d < 55*time.Minute || d > 65*time.Minute {
		fail("role credentials expire at %s (expiration %d ms), want ~1 h from now", exp, c.Expiration)
	}
	id, err := sts.NewFromConfig(motoConfig(Keys{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken: aws.ToString(c.SessionToken)})).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fail("GetCallerIdentity with SSO credentials: %v", err)
	}
	if want := ssoAssumedARN(devAccount, "Developer", "alice@example.com"); aws.ToString(id.Arn) != want {
		fail("identity %q, want %q", aws.ToString(id.Arn), want)
	}
	if is := srv.Issued(); len(is) != 1 || is[0].AccessKeyID != aws.ToString(c.AccessKeyId) || is[0].BearerToken != aws.ToString(ref.AccessToken) {
		fail("Issued() = %+v", is)
	}
	_, err = portal.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{
		AccessToken: aws.String("nope"), AccountId: aws.String(devAccount), RoleName: aws.String("Developer"),
	})
	var unauth *ssotypes.UnauthorizedException
	if !errors.As(err, &unauth) {
		fail("unknown token: %v, want UnauthorizedException", err)
	}
	_, err = portal.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{
		AccessToken: ref.AccessToken, AccountId: aws.String("333333333333"), RoleName: aws.String("Developer"),
	})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ForbiddenException" || apiErr.ErrorMessage() != "No access" {
		fail("unassigned role: %v, want ForbiddenException: No access", err)
	}

	// Paginated lists; a throttled page is retried by the SDK.
	srv.InjectError("ListAccounts", 1, 0, "TooManyRequestsException", "Rate exceeded")
	var accounts []string
	ap := sso.NewListAccountsPaginator(portal, &sso.ListAccountsInput{AccessToken: ref.AccessToken})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			fail("ListAccounts: %v", err)
		}
		for _, a := range page.AccountList {
			accounts = append(accounts, aws.ToString(a.AccountId)+"/"+aws.ToString(a.AccountName)+"/"+aws.ToString(a.EmailAddress))
		}
	}
	if want := []string{devAccount + "/dev/aws-dev@example.com", prodAccount + "/prod/aws-prod@example.com", "333333333333/audit/aws-audit@example.com"}; !slices.Equal(accounts, want) {
		fail("accounts %q, want %q", accounts, want)
	}
	if n := srv.Count("ListAccounts"); n != 3 {
		fail("ListAccounts calls %d, want 3 (one throttled, two pages)", n)
	}
	var roles []string
	rp := sso.NewListAccountRolesPaginator(portal, &sso.ListAccountRolesInput{AccessToken: ref.AccessToken, AccountId: aws.String(prodAccount), MaxResults: aws.Int32(1)})
	for rp.HasMorePages() {
		page, err := rp.NextPage(ctx)
		if err != nil {
			fail("ListAccountRoles: %v", err)
		}
		for _, r := range page.RoleList {
			roles = append(roles, aws.ToString(r.AccountId)+"/"+aws.ToString(r.RoleName))
		}
	}
	if want := []string{prodAccount + "/Developer", prodAccount + "/Admin"}; !slices.Equal(roles, want) {
		fail("roles %q, want %q", roles, want)
	}

	// Logout ends the session: the access token and its refresh token.
	if _, err := portal.Logout(ctx, &sso.LogoutInput{AccessToken: pkTok.AccessToken}); err != nil {
		fail("Logout: %v", err)
	}
	if srv.AccessTokenValid(aws.ToString(pkTok.AccessToken)) {
		fail("access token still valid after Logout")
	}
	_, err = oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: pk.ClientId, ClientSecret: pk.ClientSecret,
		GrantType: aws.String("refresh_token"), RefreshToken: pkTok.RefreshToken})
	if !errors.As(err, &invalidGrant) {
		fail("refresh after Logout: %v, want InvalidGrantException", err)
	}
	if _, err := portal.Logout(ctx, &sso.LogoutInput{AccessToken: pkTok.AccessToken}); !errors.As(err, &unauth) {
		fail("second Logout: %v, want UnauthorizedException", err)
	}
}
