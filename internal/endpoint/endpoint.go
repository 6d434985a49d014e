// Package endpoint serves a chain's credentials the way the ECS and
// CloudShell container endpoint does (AWS_CONTAINER_CREDENTIALS_FULL_URI +
// AWS_CONTAINER_AUTHORIZATION_TOKEN), so every AWS SDK and the AWS CLI poll
// it and refresh by themselves. Credentials are refreshed in the background
// ahead of expiry; a request only reads a pre-encoded answer.
package endpoint

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Fetch returns credentials with more than atLeast of validity left (0: any
// valid ones). It is the chain, behind the shared cache.
type Fetch func(ctx context.Context, atLeast time.Duration) (aws.Credentials, error)

// Route is one set of credentials served under Path to holders of Token.
type Route struct {
	Name    string // shown in logs: the profile
	Path    string // as sent on the wire, escaped: e.g. /v1/credentials/prod
	Token   string // the exact Authorization header value
	RoleARN string // optional, included in answers
	Fetch   Fetch
}

// Options configure a Server.
type Options struct {
	// Window is how long before expiry credentials are refreshed, and the
	// least validity an answer carries while the source works. For short
	// lifetimes it shrinks to a quarter of the lifetime.
	Window time.Duration
	// Log receives one line per event (start, refresh, failure); never a secret.
	Log io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxConns caps the open connections (0: DefaultMaxConns); either is
	// lowered to stay below the process's open-file limit. Above three
	// quarters of it, each new connection closes the one that has waited
	// longest without a request.
	MaxConns int
}

// DefaultWindow matches botocore's advisory refresh (15 minutes): clients
// never see credentials they would consider due for refresh.
const DefaultWindow = 15 * time.Minute

// NewToken returns a 256-bit random token, hex-encoded.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Server is the credential endpoint.
type Server struct {
	opts    Options
	routes  map[string]*route
	tokens  [][sha256.Size]byte      // every route's token, hashed (see authorized)
	hosts   atomic.Pointer[[]string] // accepted Host headers, set by Serve
	anyHost atomic.Bool              // TLS: the certificate defends instead
	wg      sync.WaitGroup
	conns   atomic.Pointer[connLimit] // set by Serve

	timeouts timeouts // zero fields: the defaults; tests shorten them
}

// timeouts are the http.Server's; a zero field takes the default.
type timeouts struct {
	readHeader, read, write, idle time.Duration
	grace                         time.Duration // see connLimit
}

// The server's timeouts. A credentials request is a few hundred bytes of
// headers and no body, and its answer about a kilobyte: a client that
// takes longer is stalled or hostile.
const (
	defaultReadHeaderTimeout = 5 * time.Second
	defaultReadTimeout       = 10 * time.Second
	defaultWriteTimeout      = 10 * time.Second
	defaultIdleTimeout       = 90 * time.Second
)

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// answer is what a route serves now.
type answer struct {
	body    []byte
	expires time.Time
	refresh time.Time // when the background refresher wants new credentials
}

type route struct {
	Route
	token   [sha256.Size]byte // Token, hashed
	current atomic.Pointer[answer]
	mu      sync.Mutex // one fetch at a time
	lastErr atomic.Pointer[string]
}

// New checks routes and returns a server.
func New(routes []Route, opts Options) (*Server, error) {
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, routes: map[string]*route{}}
	for _, r := range routes {
		if len(r.Token) < 32 || !strings.HasPrefix(r.Path, "/") || r.Fetch == nil {
			return nil, fmt.Errorf("route %q: needs a path, a token of at least 32 characters and a fetch function", r.Name)
		}
		if u, err := url.Parse(r.Path); err != nil || u.EscapedPath() != r.Path {
			return nil, fmt.Errorf("route %q: path %q is not an escaped URL path (see url.PathEscape)", r.Name, r.Path)
		}
		if _, dup := s.routes[r.Path]; dup {
			return nil, fmt.Errorf("two routes on path %s", r.Path)
		}
		rt := &route{Route: r, token: sha256.Sum256([]byte(r.Token))}
		s.routes[r.Path] = rt
		s.tokens = append(s.tokens, rt.token)
	}
	empty := []string{}
	s.hosts.Store(&empty)
	return s, nil
}

// Prime fetches every route's credentials once, so that a start-up failure
// (no credentials, AccessDenied) is reported before anyone is told the URL.
func (s *Server) Prime(ctx context.Context) error {
	for _, r := range s.routes {
		if _, err := s.refresh(ctx, r, 0); err != nil {
			return err
		}
	}
	return nil
}

// Run refreshes every route in the background until ctx is done.
func (s *Server) Run(ctx context.Context) {
	for _, r := range s.routes {
		s.wg.Add(1)
		go func(r *route) {
			defer s.wg.Done()
			s.refreshLoop(ctx, r)
		}(r)
	}
}

// Wait waits for the background refreshers to stop.
func (s *Server) Wait() { s.wg.Wait() }

// refresh fetches new credentials for r (more than atLeast left) and makes
// them the current answer.
func (s *Server) refresh(ctx context.Context, r *route, atLeast time.Duration) (*answer, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur := r.current.Load(); cur != nil && cur.expires.Sub(s.opts.Now()) > atLeast {
		return cur, nil // someone refreshed while we waited (atLeast 0: a request found them expired)
	}
	creds, err := r.Fetch(ctx, atLeast)
	if err != nil {
		msg := oneLine(err.Error())
		r.lastErr.Store(&msg)
		return nil, err
	}
	a, err := s.encode(r, creds)
	if err != nil {
		return nil, err
	}
	r.current.Store(a)
	r.lastErr.Store(nil)
	return a, nil
}

// encode pre-renders the answer and decides when to refresh it.
func (s *Server) encode(r *route, c aws.Credentials) (*answer, error) {
	type body struct {
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string `json:"SecretAccessKey"`
		Token           string `json:"Token"`
		Expiration      string `json:"Expiration"`
		RoleArn         string `json:"RoleArn,omitempty"`
		AccountID       string `json:"AccountId,omitempty"`
	}
	now := s.opts.Now()
	expires := c.Expires
	if !c.CanExpire {
		// Long-term keys: tell clients to come back in an hour, as
		// the container endpoints do; they stay valid anyway.
		expires = now.Add(time.Hour)
	}
	// The answer shows whole seconds (RFC 3339), rounded down: serve and
	// refresh by that, or clients get answers whose Expiration has passed
	// (SSO and some sources give fractional expirations).
	expires = expires.Truncate(time.Second)
	b, err := json.Marshal(body{c.AccessKeyID, c.SecretAccessKey, c.SessionToken, expires.UTC().Format(time.RFC3339), r.RoleARN, c.AccountID})
	if err != nil {
		return nil, err
	}
	return &answer{body: b, expires: expires, refresh: expires.Add(-s.window(expires.Sub(now)))}, nil
}

// serveMargin is how long an answer must stay valid when it is sent.
const serveMargin = 100 * time.Millisecond

// sleepUntil waits until t, or until ctx is done.
func (s *Server) sleepUntil(ctx context.Context, t time.Time) {
	d := t.Sub(s.opts.Now())
	if d <= 0 {
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// window is the refresh margin for credentials with lifetime left.
func (s *Server) window(lifetime time.Duration) time.Duration {
	return min(s.opts.Window, lifetime/4)
}

// refreshLoop sleeps until the current answer is due and renews it; after a
// failure it retries with backoff while the old answer is still served.
func (s *Server) refreshLoop(ctx context.Context, r *route) {
	backoff := time.Second
	for {
		var wait time.Duration
		if cur := r.current.Load(); cur != nil && r.lastErr.Load() == nil {
			wait = cur.refresh.Sub(s.opts.Now())
		} else {
			wait, backoff = backoff, min(backoff*2, time.Minute)
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		cur := r.current.Load()
		atLeast := time.Duration(0)
		if cur != nil {
			// Only credentials that outlive the current ones are progress;
			// once those expired, any valid ones are (never a negative
			// atLeast, which would admit expired ones).
			atLeast = max(cur.expires.Sub(s.opts.Now())+time.Second, 0)
		}
		a, err := s.refresh(ctx, r, atLeast)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			left := "no credentials to serve"
			if cur != nil {
				if d := cur.expires.Sub(s.opts.Now()); d > 0 {
					left = fmt.Sprintf("still serving credentials that expire in %s", d.Round(time.Second))
				} else {
					left = fmt.Sprintf("the last credentials expired %s ago, none to serve", (-d).Round(time.Second))
				}
			}
			// backoff is the next wait: the loop doubles it as it sleeps.
			fmt.Fprintf(s.opts.Log, "rolehop: serve %s: refresh failed (%s), retrying in %s: %s\n", r.Name, left, backoff, oneLine(err.Error()))
		default:
			backoff = time.Second
			fmt.Fprintf(s.opts.Log, "rolehop: serve %s: refreshed, valid until %s\n", r.Name, a.expires.UTC().Format(time.RFC3339))
		}
	}
}

// ServeHTTP answers GET PATH with the route's credentials. Order of checks:
// token, Host (DNS rebinding), path, the route's own token, method, body.
// Every request without the token of some route gets the same 401, whatever
// its path, method or Host: only a token holder learns which paths exist.
func (s *Server) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	s.answer(w, req)
	// The answer is complete (every one has a Content-Length): send it,
	// and let the connection limit close this connection for room from
	// now on, even while net/http lingers before closing it (500 ms after
	// a "Connection: close" answer).
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	if l := s.conns.Load(); l != nil {
		if c, ok := req.Context().Value(connKey{}).(net.Conn); ok {
			l.answered(c)
		}
	}
}

// connKey carries a request's connection in its context (ConnContext).
type connKey struct{}

// answer writes ServeHTTP's answer, checking in the order it documents.
func (s *Server) answer(w http.ResponseWriter, req *http.Request) {
	if req.ContentLength != 0 {
		// No credentials request has a body, so none is read: answer and
		// close at once instead of letting net/http read what is left of
		// it (up to 256 KiB, for as long as ReadTimeout) from a client that
		// may dribble it byte by byte.
		w.Header().Set("Connection", "close")
		_ = http.NewResponseController(w).SetReadDeadline(time.Now())
	}
	var buf [128]byte // a token's bytes on the stack (NewToken's are 64)
	token := sha256.Sum256(append(buf[:0], req.Header.Get("Authorization")...))
	if !s.authorized(&token) {
		s.unauthorized(w)
		return
	}
	if !s.hostAllowed(req.Host) {
		s.fail(w, http.StatusForbidden, "InvalidHost", "Host header not allowed")
		return
	}
	// The path exactly as sent: routes' paths are escaped, and an escaped
	// "/" (a profile named "team/prod") is not a separator.
	r, ok := s.routes[req.URL.EscapedPath()]
	if !ok {
		s.fail(w, http.StatusNotFound, "NotFound", "no credentials at this path")
		return
	}
	if subtle.ConstantTimeCompare(token[:], r.token[:]) != 1 {
		s.unauthorized(w) // another route's token
		return
	}
	if req.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		s.fail(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "use GET")
		return
	}
	if req.ContentLength != 0 { // -1: chunked
		s.fail(w, http.StatusRequestEntityTooLarge, "BodyNotAllowed", "a credentials request has no body")
		return
	}
	a := r.current.Load()
	if a == nil || a.expires.Sub(s.opts.Now()) <= serveMargin {
		// Credentials about to expire are not handed out: the answer
		// could arrive after its own Expiration. New ones must outlive
		// the margin even once encode rounds them down to the second.
		fresh, err := s.refresh(req.Context(), r, serveMargin+time.Second)
		if err == nil && fresh.expires.Sub(s.opts.Now()) <= serveMargin {
			err = errors.New("the only credentials left expire within " + serveMargin.String())
		}
		if err != nil {
			if a != nil {
				// A client may still hold the last answer: the 503 comes
				// once its Expiration has passed, not before.
				s.sleepUntil(req.Context(), a.expires)
			}
			s.fail(w, http.StatusServiceUnavailable, "CredentialsUnavailable", "rolehop cannot get credentials for "+r.Name+": "+oneLine(err.Error()))
			return
		}
		a = fresh
	}
	h := w.Header()
	h["Content-Type"] = jsonType
	h["Content-Length"] = []string{strconv.Itoa(len(a.body))}
	_, _ = w.Write(a.body)
}

var jsonType = []string{"application/json"}

// authorized reports whether token (a hashed Authorization header) is the
// token of any route. Hashes make every comparison take the same time
// whatever the header's length, and every route is compared, so neither the
// answer nor its timing tells a wrong token from a nearly right one.
func (s *Server) authorized(token *[sha256.Size]byte) bool {
	ok := 0
	for i := range s.tokens {
		ok |= subtle.ConstantTimeCompare(token[:], s.tokens[i][:])
	}
	return ok == 1
}

// unauthorized writes the one answer to every request without a valid
// token.
func (s *Server) unauthorized(w http.ResponseWriter) {
	s.fail(w, http.StatusUnauthorized, "Unauthorized", "missing or wrong Authorization token")
}

// fail writes the error body the Go SDK parses ({"code","message"}).
func (s *Server) fail(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(map[string]string{"code": code, "message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Server) hostAllowed(host string) bool {
	if s.anyHost.Load() {
		return true
	}
	for _, h := range *s.hosts.Load() {
		if host == h {
			return true
		}
	}
	return false
}

// Listener opens addr for serving. Unless allowRemote, the address must be a
// loopback IP or "localhost". It returns the listener and the base URL
// clients should use.
func Listener(addr string, allowRemote bool) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--addr %q: %v (expected HOST:PORT, e.g. 127.0.0.1:0)", addr, err)
	}
	if !allowRemote && !isLoopback(host) {
		return nil, fmt.Errorf("--addr %q is not a loopback address: the endpoint hands out credentials, so it listens on 127.0.0.1, [::1] or localhost only (use --allow-remote with --tls-cert/--tls-key to serve elsewhere)", addr)
	}
	if host == "localhost" {
		addr = net.JoinHostPort("127.0.0.1", addr[strings.LastIndex(addr, ":")+1:])
	}
	return net.Listen("tcp", addr)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Serve serves on l until ctx is done, then shuts down gracefully. It
// accepts only Host headers naming the listener's address or localhost with
// its port: a web page that rebinds its own DNS name to 127.0.0.1 cannot
// read the credentials. With tlsConfig (--allow-remote) it serves HTTPS and
// accepts any Host, since a rebinding page cannot pass the certificate check.
func (s *Server) Serve(ctx context.Context, l net.Listener, tlsConfig *tls.Config) error {
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	hosts := []string{l.Addr().String(), "localhost:" + port}
	s.anyHost.Store(tlsConfig != nil)
	s.hosts.Store(&hosts)
	if tlsConfig != nil {
		l = tls.NewListener(l, tlsConfig)
	}
	conns := newConnLimit(maxConns(s.opts.MaxConns), orDefault(s.timeouts.grace, defaultGrace), s.opts.Log, s.opts.Now)
	s.conns.Store(conns)
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: orDefault(s.timeouts.readHeader, defaultReadHeaderTimeout),
		ReadTimeout:       orDefault(s.timeouts.read, defaultReadTimeout),
		WriteTimeout:      orDefault(s.timeouts.write, defaultWriteTimeout),
		IdleTimeout:       orDefault(s.timeouts.idle, defaultIdleTimeout),
		MaxHeaderBytes:    8 << 10,
		// "OPTIONS *" reaches the handler, which asks for the token first,
		// instead of net/http's own 200.
		DisableGeneralOptionsHandler: true,
		ConnState:                    conns.track,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
		ErrorLog: nil,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(shutdown)
		<-errc // http.ErrServerClosed
		return err
	}
}

// URL is the base URL of a listener.
func URL(l net.Listener) string { return "http://" + l.Addr().String() }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
