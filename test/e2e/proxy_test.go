//go:build unix

package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Call is one AWS query-protocol request (STS or IAM) seen by the recording
// proxy.
type Call struct {
	// Action is the form's Action, e.g. "AssumeRole".
	Action string
	// Params is the whole parsed form body (Action and Version included).
	Params url.Values
	// AccessKeyID is the access key the request was signed with (from the
	// Authorization header's Credential=), "" for an unsigned request.
	AccessKeyID string
	// Service is the SigV4 scope's service, e.g. "sts" or "iam".
	Service string
	// Status is the HTTP status returned to the client.
	Status int
	// Injected is true when the proxy answered with a canned error instead of
	// forwarding to moto.
	Injected bool
	// Response is the response body returned to the client.
	Response string
	// AmzDate is the request's X-Amz-Date header (its signing time).
	AmzDate string
}

// Get returns the first value of a request parameter.
func (c Call) Get(key string) string { return c.Params.Get(key) }

// Members returns the values of a query-protocol list parameter, in order:
// Members("PolicyArns", "arn") reads PolicyArns.member.1.arn,
// PolicyArns.member.2.arn, …; Members("TransitiveTagKeys", "") reads
// TransitiveTagKeys.member.N.
func (c Call) Members(list, field string) []string {
	var out []string
	for i := 1; ; i++ {
		k := fmt.Sprintf("%s.member.%d", list, i)
		if field != "" {
			k += "." + field
		}
		if _, ok := c.Params[k]; !ok {
			return out
		}
		out = append(out, c.Params.Get(k))
	}
}

// Tags returns Tags.member.N.Key/Value as a map.
func (c Call) Tags() map[string]string {
	keys := c.Members("Tags", "Key")
	vals := c.Members("Tags", "Value")
	m := make(map[string]string, len(keys))
	for i, k := range keys {
		if i < len(vals) {
			m[k] = vals[i]
		}
	}
	return m
}

// ReturnedCredentials parses the credentials of a successful
// AssumeRole/GetSessionToken/… response.
func (c Call) ReturnedCredentials() (keyID, secret, token string) {
	return xmlText(c.Response, "AccessKeyId"), xmlText(c.Response, "SecretAccessKey"), xmlText(c.Response, "SessionToken")
}

// xmlText returns the text of the first <tag>…</tag> in s, unescaped.
func xmlText(s, tag string) string {
	start := strings.Index(s, "<"+tag+">")
	if start < 0 {
		return ""
	}
	s = s[start+len(tag)+2:]
	end := strings.Index(s, "</"+tag+">")
	if end < 0 {
		return ""
	}
	var v string
	if err := xml.Unmarshal([]byte("<x>"+s[:end]+"</x>"), &v); err != nil {
		return s[:end]
	}
	return v
}

// String is a compact description for failure messages.
func (c Call) String() string {
	p := url.Values{}
	for k, v := range c.Params {
		if k == "Action" || k == "Version" {
			continue
		}
		p[k] = v
	}
	return fmt.Sprintf("%s[%s key=%s status=%d injected=%v]", c.Action, p.Encode(), c.AccessKeyID, c.Status, c.Injected)
}

type injection struct {
	action    string
	remaining int
	fault     Fault
}

// Fault is what the proxy (or the test IAM Identity Center) does with one
// request instead of its normal work.
type Fault struct {
	// Status, ContentType and Body are the canned answer.
	Status      int
	ContentType string
	Body        string
	// BodyFunc, when set, makes the body from the request (Body is then
	// ignored).
	BodyFunc func(Call) string
	// Header holds extra response headers (X-Amzn-ErrorType for the
	// restJson1 services).
	Header map[string]string
	// Reset closes the connection with a TCP RST instead of answering,
	// as a failing load balancer or middlebox does.
	Reset bool
}

// serveFault answers w with f (the request is already read) and returns the
// status and body sent (0, "" for a reset).
func serveFault(w http.ResponseWriter, c Call, f Fault) (int, string) {
	if f.Reset {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		if tcp, ok := conn.(*net.TCPConn); ok {
			// Linger 0: close sends RST, so the client reads
			// "connection reset by peer", not a clean EOF.
			_ = tcp.SetLinger(0)
		}
		_ = conn.Close()
		return 0, ""
	}
	body := f.Body
	if f.BodyFunc != nil {
		body = f.BodyFunc(c)
	}
	for k, v := range f.Header {
		w.Header().Set(k, v)
	}
	if f.ContentType != "" {
		w.Header().Set("Content-Type", f.ContentType)
	}
	w.WriteHeader(f.Status)
	_, _ = io.WriteString(w, body)
	return f.Status, body
}

// Proxy is a per-test recording reverse proxy in front of moto.
type Proxy struct {
	URL string

	srv *httptest.Server
	rp  *httputil.ReverseProxy

	mu         sync.Mutex
	calls      []Call
	injections []*injection
	arrived    map[string]int
	delays     []*delay
	rewrites   map[string]func(string) string
	dateShift  time.Duration
}

// delay holds back the next remaining requests of one action.
type delay struct {
	action    string
	remaining int
	d         time.Duration
}

// actionKey carries a request's Action to ModifyResponse.
type actionKey struct{}

var credentialRe = regexp.MustCompile(`Credential=([^/,\s]+)/[^/]*/[^/]*/([^/]*)/`)

// newProxy starts a recording proxy in front of target (moto) and closes it
// at the end of the test.
func newProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("proxy target: %v", err)
	}
	p := &Proxy{}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			// Keep the Host the client signed so SigV4 signatures still
			// verify at moto.
			pr.Out.Host = pr.In.Host
		},
		ModifyResponse: p.modifyResponse,
		ErrorLog:       nil,
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))

	var call *Call
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
			call = &Call{Action: form.Get("Action"), Params: form, AmzDate: r.Header.Get("X-Amz-Date")}
			if m := credentialRe.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
				call.AccessKeyID, call.Service = m[1], m[2]
			}
		}
	}
	if call == nil {
		p.rp.ServeHTTP(w, r)
		return
	}
	if d := p.arrive(call.Action); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			// The client went away (killed) while held back: nothing
			// reaches moto and nothing is recorded (Arrived counts it).
			return
		}
	}
	r = r.WithContext(context.WithValue(r.Context(), actionKey{}, call.Action))

	if inj := p.takeInjection(call.Action); inj != nil {
		if d := p.shift(); d != 0 {
			w.Header().Set("Date", time.Now().Add(d).UTC().Format(http.TimeFormat))
		}
		w.Header().Set("x-amzn-RequestId", "e2e-injected-0000")
		call.Status, call.Response = serveFault(w, *call, inj.fault)
		call.Injected = true
		p.record(*call)
		return
	}

	rec := &teeWriter{ResponseWriter: w, status: http.StatusOK}
	p.rp.ServeHTTP(rec, r)
	call.Status, call.Response = rec.status, rec.body()
	p.record(*call)
}

func (p *Proxy) record(c Call) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, c)
}

func (p *Proxy) takeInjection(action string) *injection {
	p.mu.Lock()
	defer p.mu.Unlock()
	return takeInjection(p.injections, action)
}

// takeInjection uses up one call of the first injection for action (the
// caller holds the lock of injections).
func takeInjection(injections []*injection, action string) *injection {
	for _, inj := range injections {
		if inj.action == action && inj.remaining > 0 {
			inj.remaining--
			return inj
		}
	}
	return nil
}

// arrive counts a request of action as arrived and returns how long to hold
// it back (0 = not at all).
func (p *Proxy) arrive(action string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.arrived == nil {
		p.arrived = map[string]int{}
	}
	p.arrived[action]++
	for _, d := range p.delays {
		if d.action == action && d.remaining > 0 {
			d.remaining--
			return d.d
		}
	}
	return 0
}

// Arrived is how many requests of action ("" = all) have reached the proxy,
// finished or not. Calls lists only the finished ones.
func (p *Proxy) Arrived(action string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if action != "" {
		return p.arrived[action]
	}
	n := 0
	for _, c := range p.arrived {
		n += c
	}
	return n
}

// WaitArrived waits until at least n requests of action have reached the
// proxy, and fails the test after timeout.
func (p *Proxy) WaitArrived(t testing.TB, action string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for p.Arrived(action) < n {
		if time.Now().After(deadline) {
			t.Fatalf("proxy: %d %s requests arrived within %s, want %d", p.Arrived(action), action, timeout, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Delay holds the next n requests of action for d before forwarding them
// to moto. A held request whose client disconnects (for example because it
// was killed) is dropped: it never reaches moto and is not recorded.
func (p *Proxy) Delay(action string, n int, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delays = append(p.delays, &delay{action: action, remaining: n, d: d})
}

// RewriteResponses passes every later successful (HTTP 200) moto response
// to action through fn before the client sees it (and before it is
// recorded). A nil fn removes the hook.
func (p *Proxy) RewriteResponses(action string, fn func(body string) string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rewrites == nil {
		p.rewrites = map[string]func(string) string{}
	}
	if fn == nil {
		delete(p.rewrites, action)
		return
	}
	p.rewrites[action] = fn
}

var expirationRe = regexp.MustCompile(`<Expiration>[^<]*</Expiration>`)

// SetExpiration rewrites the Expiration of every later successful response
// to action (AssumeRole, GetSessionToken, …) to the time of the response
// plus ttl, so a test can hand out short-lived credentials.
func (p *Proxy) SetExpiration(action string, ttl time.Duration) {
	p.RewriteResponses(action, func(body string) string {
		exp := time.Now().Add(ttl).UTC().Format("2006-01-02T15:04:05.000000Z")
		return expirationRe.ReplaceAllString(body, "<Expiration>"+exp+"</Expiration>")
	})
}

// ShiftDate makes every later response (forwarded or injected) carry a
// Date header d away from the local clock, as a server would see a client
// whose clock is off by -d.
func (p *Proxy) ShiftDate(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dateShift = d
}

func (p *Proxy) shift() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dateShift
}

// modifyResponse applies ShiftDate and a RewriteResponses hook to a
// response from moto.
func (p *Proxy) modifyResponse(resp *http.Response) error {
	if d := p.shift(); d != 0 {
		resp.Header.Set("Date", time.Now().Add(d).UTC().Format(http.TimeFormat))
	}
	action, _ := resp.Request.Context().Value(actionKey{}).(string)
	if action == "" || resp.StatusCode != http.StatusOK {
		return nil
	}
	p.mu.Lock()
	fn := p.rewrites[action]
	p.mu.Unlock()
	if fn == nil {
		return nil
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return err
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return err
		}
		resp.Header.Del("Content-Encoding")
	}
	out := []byte(fn(string(raw)))
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	return nil
}

// Calls returns the recorded calls of one action ("" = all), in completion
// order.
func (p *Proxy) Calls(action string) []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Call
	for _, c := range p.calls {
		if action == "" || c.Action == action {
			out = append(out, c)
		}
	}
	return out
}

// Reset forgets the recorded calls (injections stay).
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = nil
}

// Inject makes the proxy answer the next n calls of action with the given
// status, content type and body instead of forwarding them.
func (p *Proxy) Inject(action string, n, status int, contentType, body string) {
	p.InjectFault(action, n, Fault{Status: status, ContentType: contentType, Body: body})
}

// InjectFault makes the proxy meet the next n calls of action with f
// instead of forwarding them. Injections for one action are used up in the
// order they were made.
func (p *Proxy) InjectFault(action string, n int, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.injections = append(p.injections, &injection{action: action, remaining: n, fault: f})
}

// ClearInjections drops every injection and delay not used up yet: the
// fault stops.
func (p *Proxy) ClearInjections() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.injections, p.delays = nil, nil
}

// InjectThrottling fails the next n calls of action as STS does when the
// account's request rate is exceeded (HTTP 400, Code Throttling).
func (p *Proxy) InjectThrottling(action string, n int) {
	p.InjectSTSError(action, n, http.StatusBadRequest, "Throttling", "Rate exceeded")
}

// InjectServerError fails the next n calls of action with an STS-side
// failure: 500 InternalFailure or 503 ServiceUnavailable (the common
// errors of the STS API reference), type Receiver.
func (p *Proxy) InjectServerError(action string, n, status int) {
	code, msg := "InternalFailure", "The request processing has failed because of an unknown error, exception or failure."
	if status == http.StatusServiceUnavailable {
		code, msg = "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
	}
	p.Inject(action, n, status, "text/xml", stsErrorXMLType("Receiver", code, msg))
}

// InjectReset answers the next n calls of action with a TCP reset.
func (p *Proxy) InjectReset(action string, n int) { p.InjectFault(action, n, Fault{Reset: true}) }

// InjectMalformed answers the next n calls of action with HTTP 200 and
// body, with contentType (such as a truncated STS response as text/xml, or
// a proxy's sign-in page as text/html).
func (p *Proxy) InjectMalformed(action string, n int, contentType, body string) {
	p.Inject(action, n, http.StatusOK, contentType, body)
}

// InjectSignatureExpired fails the next n calls of action as STS does when
// the request was signed more than 5 minutes before STS's clock: the
// message names the request's X-Amz-Date and STS's time (20 minutes later).
func (p *Proxy) InjectSignatureExpired(action string, n int) {
	p.InjectFault(action, n, Fault{Status: http.StatusForbidden, ContentType: "text/xml", BodyFunc: func(c Call) string {
		const f = "20060102T150405Z"
		signed, err := time.Parse(f, c.AmzDate)
		if err != nil {
			signed = time.Now().UTC()
		}
		server := signed.Add(20 * time.Minute)
		return stsErrorXML("SignatureDoesNotMatch", fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)",
			signed.Format(f), server.Add(-5*time.Minute).Format(f), server.Format(f)))
	}})
}

// InjectRegionDisabled fails the next n calls of action as STS does in a
// region the account has not activated STS in.
func (p *Proxy) InjectRegionDisabled(action string, n int, account string) {
	p.InjectSTSError(action, n, http.StatusForbidden, "RegionDisabledException",
		"STS is not activated in this region for account:"+account+". Your account administrator can activate STS in this region using the IAM Console.")
}

// InjectChainingLimit fails the next n AssumeRole calls as STS does when a
// role session asks for more than an hour (moto does not enforce it).
func (p *Proxy) InjectChainingLimit(n int) {
	p.InjectSTSError("AssumeRole", n, http.StatusBadRequest, "ValidationError",
		"The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
}

// Injected counts the recorded calls of action the proxy answered itself.
func (p *Proxy) Injected(action string) int {
	n := 0
	for _, c := range p.Calls(action) {
		if c.Injected {
			n++
		}
	}
	return n
}

// InjectSTSError makes the next n calls of action fail with an STS
// query-protocol error, in the wire format aws-sdk-go-v2 and botocore parse:
//
//	<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
//	  <Error><Type>Sender</Type><Code>AccessDenied</Code><Message>…</Message></Error>
//	  <RequestId>…</RequestId>
//	</ErrorResponse>
func (p *Proxy) InjectSTSError(action string, n, status int, code, message string) {
	p.Inject(action, n, status, "text/xml", stsErrorXML(code, message))
}

// InjectAccessDenied fails the next n AssumeRole calls like STS does when the
// trust policy does not allow the caller.
func (p *Proxy) InjectAccessDenied(n int, caller, roleARN string) {
	p.InjectSTSError("AssumeRole", n, http.StatusForbidden, "AccessDenied",
		fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller, roleARN))
}

// InjectExpiredToken fails the next n calls of action like STS does when the
// signing credentials have expired.
func (p *Proxy) InjectExpiredToken(action string, n int) {
	p.InjectSTSError(action, n, http.StatusBadRequest, "ExpiredToken", "The security token included in the request is expired")
}

func stsErrorXML(code, message string) string { return stsErrorXMLType("Sender", code, message) }

// stsErrorXMLType is stsErrorXML with the error's Type (Sender: the
// caller's fault, Receiver: STS's).
func stsErrorXMLType(typ, code, message string) string {
	var b strings.Builder
	b.WriteString(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">` + "\n")
	b.WriteString("  <Error>\n    <Type>" + typ + "</Type>\n    <Code>")
	_ = xml.EscapeText(&b, []byte(code))
	b.WriteString("</Code>\n    <Message>")
	_ = xml.EscapeText(&b, []byte(message))
	b.WriteString("</Message>\n  </Error>\n  <RequestId>e2e-injected-0000</RequestId>\n</ErrorResponse>\n")
	return b.String()
}

// teeWriter passes a response through while keeping a copy of it.
type teeWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (w *teeWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

// body is the recorded response body, gunzipped when needed.
func (w *teeWriter) body() string {
	if strings.EqualFold(w.Header().Get("Content-Encoding"), "gzip") {
		if zr, err := gzip.NewReader(bytes.NewReader(w.buf.Bytes())); err == nil {
			if b, err := io.ReadAll(zr); err == nil {
				return string(b)
			}
		}
	}
	return w.buf.String()
}

func (w *teeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
