package doctor

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// skewLimit is how far a SigV4 signature's time may be from AWS's clock
// (AWS General Reference, "Signature Version 4": requests are refused when
// the timestamp is more than 5 minutes off).
const skewLimit = 5 * time.Minute

// exchange is one HTTP round trip to an AWS service.
type exchange struct {
	service    string    // SigV4 scope service ("sts", "iam"); "" for unsigned
	signedAt   time.Time // X-Amz-Date of the request
	sentAt     time.Time // local clock when sent
	status     int
	serverDate time.Time // Date header of the response
	receivedAt time.Time // local clock when the headers arrived
	requestID  string
	errorBody  string // the first bytes of an error response
}

// recorder is the RoundTripper of the doctor's HTTP client: it notes the
// Date header of every response (to measure the clock skew) and keeps the
// body of error responses, whose code the SDK cannot always parse.
type recorder struct {
	next http.RoundTripper
	now  func() time.Time

	mu        sync.Mutex
	exchanges []exchange
}

var scopeRe = regexp.MustCompile(`Credential=[^/,\s]+/[^/]*/[^/]*/([^/]*)/`)

// RoundTrip implements http.RoundTripper.
func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	ex := exchange{sentAt: r.now()}
	if m := scopeRe.FindStringSubmatch(req.Header.Get("Authorization")); m != nil {
		ex.service = m[1]
	}
	if t, err := time.Parse("20060102T150405Z", req.Header.Get("X-Amz-Date")); err == nil {
		ex.signedAt = t
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	ex.receivedAt = r.now()
	ex.status = resp.StatusCode
	if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		ex.serverDate = t
	}
	ex.requestID = resp.Header.Get("X-Amzn-Requestid")
	if ex.requestID == "" {
		ex.requestID = resp.Header.Get("X-Amz-Request-Id")
	}
	if resp.StatusCode >= 400 && resp.Body != nil {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
		rest := resp.Body
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(b), rest), rest}
		ex.errorBody = string(b)
	}
	r.mu.Lock()
	r.exchanges = append(r.exchanges, ex)
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) snapshot() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]exchange(nil), r.exchanges...)
}

// skew is the median of (server Date − local time) over signed AWS
// responses; ok is false when there was none.
func (r *recorder) skew() (time.Duration, bool) {
	var ds []time.Duration
	for _, ex := range r.snapshot() {
		if ex.service != "" && !ex.serverDate.IsZero() {
			ds = append(ds, ex.serverDate.Sub(ex.receivedAt))
		}
	}
	if len(ds) == 0 {
		return 0, false
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], true
}

// sdkCorrected reports whether aws-sdk-go-v2 signed a request with a
// corrected clock: it retries clock-skew errors (SignatureDoesNotMatch,
// RequestTimeTooSkewed, … when the response's Date header is more than
// 4 minutes off) with the signing time shifted by the observed skew, and
// keeps that offset for the client's later calls (aws/retry/middleware.go,
// the "Clock Skew Correction" SEP).
func (r *recorder) sdkCorrected() bool {
	for _, ex := range r.snapshot() {
		if !ex.signedAt.IsZero() && absDuration(ex.signedAt.Sub(ex.sentAt)) > 4*time.Minute {
			return true
		}
	}
	return false
}

var (
	codeRe    = regexp.MustCompile(`<Code>([^<]*)</Code>`)
	messageRe = regexp.MustCompile(`<Message>([^<]*)</Message>`)
)

// rawError returns the code and message of a recorded error response: by
// request id, else the last error response. moto's auth layer answers in a
// format aws-sdk-go-v2's STS and IAM clients report as "UnknownError".
func (r *recorder) rawError(requestID string) (code, message string) {
	ex := r.snapshot()
	for i := len(ex) - 1; i >= 0; i-- {
		e := ex[i]
		if e.errorBody == "" || (requestID != "" && e.requestID != requestID) {
			continue
		}
		if m := codeRe.FindStringSubmatch(e.errorBody); m != nil {
			code = m[1]
		}
		if m := messageRe.FindStringSubmatch(e.errorBody); m != nil {
			message = m[1]
		}
		return code, message
	}
	return "", ""
}

// STS's SigV4 time errors, e.g. "Signature expired: 20240102T030000Z is now
// earlier than 20240102T031000Z (20240102T031500Z - 5 min.)": the first
// time is the request's, the one in parentheses STS's.
var (
	sigExpiredRe = regexp.MustCompile(`Signature expired: (\d{8}T\d{6}Z) is now earlier than \d{8}T\d{6}Z \((\d{8}T\d{6}Z) - 5 min\.\)`)
	sigFutureRe  = regexp.MustCompile(`Signature not yet current: (\d{8}T\d{6}Z) is still later than \d{8}T\d{6}Z \((\d{8}T\d{6}Z) \+ 5 min\.\)`)
)

// isClockError reports whether an AWS error says the request's time was
// off, and the skew (STS − request) its message implies, if it says.
func isClockError(code, msg string) (bool, time.Duration, bool) {
	for _, re := range []*regexp.Regexp{sigExpiredRe, sigFutureRe} {
		if m := re.FindStringSubmatch(msg); m != nil {
			req, err1 := time.Parse("20060102T150405Z", m[1])
			srv, err2 := time.Parse("20060102T150405Z", m[2])
			if err1 == nil && err2 == nil {
				return true, srv.Sub(req), true
			}
			return true, 0, false
		}
	}
	switch code {
	case "RequestExpired", "RequestTimeTooSkewed", "RequestInTheFuture":
		return true, 0, false
	}
	if code == "SignatureDoesNotMatch" && (strings.Contains(msg, "Signature expired") || strings.Contains(msg, "Signature not yet current")) {
		return true, 0, false
	}
	return false, 0, false
}

// describeSkew is "12m0s behind" or "3m10s ahead of" for skew = AWS −
// local. Date headers have whole seconds, so minutes are shown to 10 s.
func describeSkew(skew time.Duration) string {
	d := absDuration(skew)
	if d >= time.Minute {
		d = d.Round(10 * time.Second)
	} else {
		d = d.Round(time.Second)
	}
	if skew > 0 {
		return d.String() + " behind"
	}
	return d.String() + " ahead of"
}

const syncClockFix = "sync the local clock with NTP: `sudo timedatectl set-ntp true` or `sudo chronyc makestep` (Linux), " +
	"System Settings → General → Date & Time → Set time automatically (macOS), `w32tm /resync` (Windows); in a VM or container, sync the host"

// clockFinding is the finding for a clock off by skew (AWS − local).
func clockFinding(skew time.Duration, severity, context string) Finding {
	return Finding{
		Code:     CodeClockSkew,
		Severity: severity,
		Problem:  fmt.Sprintf("the local clock is %s AWS's clock (%s); AWS refuses signatures more than 5 minutes off", describeSkew(skew), context),
		Fix:      syncClockFix,
	}
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
