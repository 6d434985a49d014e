package endpoint_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rolehop/rolehop/internal/endpoint"
)

// fakeCreds are one route's credentials; every field is distinct so that a
// body can be searched for any of them.
type fakeCreds struct {
	keyID, secret, session, account string
}

func staticFetch(c fakeCreds, lifetime time.Duration) endpoint.Fetch {
	return func(ctx context.Context, atLeast time.Duration) (aws.Credentials, error) {
		return aws.Credentials{
			AccessKeyID:     c.keyID,
			SecretAccessKey: c.secret,
			SessionToken:    c.session,
			AccountID:       c.account,
			CanExpire:       true,
			Expires:         time.Now().Add(lifetime).Truncate(time.Second),
		}, nil
	}
}

func mustToken(t testing.TB) string {
	t.Helper()
	tok, err := endpoint.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 64 {
		t.Fatalf("NewToken: %d characters, want 64 (256 bits, hex)", len(tok))
	}
	return tok
}

// syncBuffer is an io.Writer safe for the refreshers and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// running is a primed server serving on a real loopback listener.
type running struct {
	srv  *endpoint.Server
	addr string // host:port
	base string // http://host:port
}

// serve primes srv, runs its refreshers and serves it on a fresh 127.0.0.1
// listener until the test ends. runCtx, if not nil, derives the refreshers'
// context from the server's.
func serve(t testing.TB, srv *endpoint.Server, runCtx func(context.Context) context.Context, configure func(*endpoint.Server)) *running {
	t.Helper()
	if err := srv.Prime(context.Background()); err != nil {
		t.Fatalf("Prime: %v", err)
	}
	if configure != nil {
		configure(srv)
	}
	l, err := endpoint.Listener("127.0.0.1:0", false)
	if err != nil {
		t.Fatalf("Listener: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if runCtx == nil {
		srv.Run(ctx)
	} else {
		srv.Run(runCtx(ctx))
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l, nil) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return after its context was cancelled")
		}
		srv.Wait()
	})
	return &running{srv: srv, addr: l.Addr().String(), base: endpoint.URL(l)}
}

// rawResponse sends req as is on a new connection and reads until the server
// closes it.
func rawResponse(t *testing.T, addr, method, req string) (raw []byte, resp *http.Response, body []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatalf("write: %v", err)
	}
	raw, err = io.ReadAll(conn)
	if err != nil && len(raw) == 0 {
		t.Fatalf("read: %v", err)
	}
	resp, err = http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("parse response %q: %v", raw, err)
	}
	body, _ = io.ReadAll(resp.Body)
	return raw, resp, body
}

// wire is the answer's JSON.
type wire struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	Token           string
	Expiration      string
	RoleArn         string
	AccountID       string `json:"AccountId"`
}

func decodeAnswer(t testing.TB, body []byte) wire {
	t.Helper()
	var w wire
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	return w
}

func TestSecurity(t *testing.T) {
	t.Parallel()
	prod := fakeCreds{"ASIAPRODKEYID0000001", "prodSecretAccessKey/abcdefghijklmn", "prodSessionToken+xyz", "111111111111"}
	dev := fakeCreds{"ASIADEVKEYID00000002", "devSecretAccessKey/opqrstuvwxyzabc", "devSessionToken+uvw", "222222222222"}
	prodTok, devTok := mustToken(t), mustToken(t)
	srv, err := endpoint.New([]endpoint.Route{
		{Name: "prod", Path: "/v1/credentials/prod", Token: prodTok, RoleARN: "arn:aws:iam::111111111111:role/prod", Fetch: staticFetch(prod, time.Hour)},
		{Name: "dev", Path: "/v1/credentials/dev", Token: devTok, Fetch: staticFetch(dev, time.Hour)},
	}, endpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := serve(t, srv, nil, nil)
	_, port, _ := net.SplitHostPort(s.addr)
	secrets := []string{prod.secret, prod.session, dev.secret, dev.session, prodTok, devTok}

	lastByte := prodTok[:len(prodTok)-1] + string(prodTok[len(prodTok)-1]^1)
	other := mustToken(t)
	const path = "/v1/credentials/prod"
	big := strings.Repeat("a", 16<<10) // over MaxHeaderBytes (8 KiB) plus net/http's 4 KiB slack

	tests := []struct {
		name    string
		method  string // default GET
		target  string // default path
		proto   string // default HTTP/1.1
		host    string // default the listener address; "-" sends none, "<empty>" an empty one
		header  string // extra header lines, each ending in \r\n
		body    string
		want    int
		netHTTP bool // net/http answers by itself, not the handler
		want2   fakeCreds
	}{
		// Authorization
		{name: "correct token", header: "Authorization: " + prodTok + "\r\n", want: 200, want2: prod},
		{name: "the other route's token on its path", target: "/v1/credentials/dev", header: "Authorization: " + devTok + "\r\n", want: 200, want2: dev},
		{name: "no Authorization", want: 401},
		{name: "empty Authorization", header: "Authorization:\r\n", want: 401},
		{name: "wrong token", header: "Authorization: " + other + "\r\n", want: 401},
		{name: "dev token on prod path", header: "Authorization: " + devTok + "\r\n", want: 401},
		{name: "prod token on dev path", target: "/v1/credentials/dev", header: "Authorization: " + prodTok + "\r\n", want: 401},
		{name: "Bearer scheme", header: "Authorization: Bearer " + prodTok + "\r\n", want: 401},
		{name: "last byte differs (same length)", header: "Authorization: " + lastByte + "\r\n", want: 401},
		{name: "first byte differs (same length)", header: "Authorization: " + string(prodTok[0]^1) + prodTok[1:] + "\r\n", want: 401},
		{name: "upper-case hex", header: "Authorization: " + strings.ToUpper(prodTok) + "\r\n", want: 401},
		{name: "truncated by one", header: "Authorization: " + prodTok[:len(prodTok)-1] + "\r\n", want: 401},
		{name: "one character appended", header: "Authorization: " + prodTok + "0\r\n", want: 401},
		{name: "token with a character before it", header: "Authorization: x" + prodTok + "\r\n", want: 401},
		{name: "token and a NUL byte", header: "Authorization: " + prodTok + "\x00\r\n", want: 400, netHTTP: true},
		{name: "token continued on a folded line", header: "Authorization: " + prodTok + "\r\n x\r\n", want: 401},
		{name: "wrong token first, right one second", header: "Authorization: " + other + "\r\nAuthorization: " + prodTok + "\r\n", want: 401},
		// Whitespace around a field value is not part of it (RFC 9110
		// 5.5): the parser drops it before the handler sees the token, so
		// "token " IS the token. A newline ends the header line.
		{name: "trailing space is optional whitespace", header: "Authorization: " + prodTok + " \r\n", want: 200, want2: prod},
		{name: "trailing tab is optional whitespace", header: "Authorization: " + prodTok + "\t\r\n", want: 200, want2: prod},
		{name: "bare LF ends the line", header: "Authorization: " + prodTok + "\n", want: 200, want2: prod},

		// Paths: only the exact path, as sent on the wire.
		{name: "unknown route", target: "/v1/credentials/nope", header: "Authorization: " + prodTok + "\r\n", want: 404},
		{name: "unknown route, no token", target: "/v1/credentials/nope", want: 401},
		{name: "root", target: "/", header: "Authorization: " + prodTok + "\r\n", want: 404},
		{name: "prefix of the path", target: "/v1/credentials", header: "Authorization: " + prodTok + "\r\n", want: 404},
		{name: "trailing slash", target: path + "/", header: "Authorization: " + prodTok + "\r\n", want: 404},
		{name: "suffix", target: path + "x", header: "Authorization: " + prodTok + "\r\n", want: 404},
		{name: "sub-path", target: path + "/x", header: "Authorization: " + prodTok + "\r\n", want: 404},
		{name: "double leading slash", target: "/" + path, header: "Authorization: " + prodTok + "\r\n", want: 404},
		{name: "double inner slash", target: "/v1//credentials/prod", header: "Authorization: " + prodTok + "\r\n", want: 404},
		{name: "dot segment", target: "/v1/credentials/./prod", header: "Authorization: " + prodTok + "\r\n", want: 404},
		{name: "dot-dot segment", target: "/v1/credentials/x/../prod", header: "Authorization: " + prodTok + "\r\n", want: 404},
		{name: "upper case", target: "/V1/credentials/prod", header: "Authorization: " + prodTok + "\r\n", want: 404},
		{name: "encoded slashes", target: "/v1%2Fcredentials%2Fprod", header: "Authorization: " + prodTok + "\r\n", want: 404},
		{name: "encoded slashes, lower case", target: "/v1%2fcredentials%2fprod", header: "Authorization: " + prodTok + "\r\n", want: 404},
		{name: "encoded letter", target: "/v1/credentials/%70rod", header: "Authorization: " + prodTok + "\r\n", want: 404},
		{name: "encoded slash, no token", target: "/v1%2Fcredentials%2Fprod", want: 401},
		{name: "encoded NUL", target: path + "%00", header: "Authorization: " + prodTok + "\r\n", want: 404},
		{name: "fragment", target: path + "#x", header: "Authorization: " + prodTok + "\r\n", want: 404},
		// A query is not part of the path: the route's token still decides.
		{name: "query, right token", target: path + "?x", header: "Authorization: " + prodTok + "\r\n", want: 200, want2: prod},
		{name: "query, no token", target: path + "?x", want: 401},
		{name: "query, other route's token", target: path + "?Authorization=" + prodTok, header: "Authorization: " + devTok + "\r\n", want: 401},
		{name: "absolute form, right authority", target: "http://" + s.addr + path, header: "Authorization: " + prodTok + "\r\n", want: 200, want2: prod},
		{name: "absolute form, foreign authority", target: "http://evil.example:" + port + path, header: "Authorization: " + prodTok + "\r\n", want: 403},
		{name: "asterisk form", method: "OPTIONS", target: "*", header: "Authorization: " + prodTok + "\r\n", want: 404},
		{name: "asterisk form, no token", method: "OPTIONS", target: "*", want: 401},

		// Methods: GET only; nothing else answers with credentials.
		{name: "POST", method: "POST", header: "Authorization: " + prodTok + "\r\nContent-Length: 0\r\n", want: 405},
		{name: "PUT", method: "PUT", header: "Authorization: " + prodTok + "\r\nContent-Length: 0\r\n", want: 405},
		{name: "DELETE", method: "DELETE", header: "Authorization: " + prodTok + "\r\n", want: 405},
		{name: "HEAD", method: "HEAD", header: "Authorization: " + prodTok + "\r\n", want: 405},
		{name: "OPTIONS", method: "OPTIONS", header: "Authorization: " + prodTok + "\r\n", want: 405},
		{name: "PATCH", method: "PATCH", header: "Authorization: " + prodTok + "\r\n", want: 405},
		{name: "lower-case get", method: "get", header: "Authorization: " + prodTok + "\r\n", want: 405},
		{name: "POST without token", method: "POST", header: "Content-Length: 0\r\n", want: 401},
		{name: "DELETE with the other route's token", method: "DELETE", header: "Authorization: " + devTok + "\r\n", want: 401},

		// Host (DNS rebinding): the listener address or localhost:PORT.
		{name: "Host localhost:PORT", host: "localhost:" + port, header: "Authorization: " + prodTok + "\r\n", want: 200, want2: prod},
		{name: "Host evil.example:PORT", host: "evil.example:" + port, header: "Authorization: " + prodTok + "\r\n", want: 403},
		{name: "Host 127.0.0.1.evil.example:PORT", host: "127.0.0.1.evil.example:" + port, header: "Authorization: " + prodTok + "\r\n", want: 403},
		{name: "Host 127.0.0.1.evil.example", host: "127.0.0.1.evil.example", header: "Authorization: " + prodTok + "\r\n", want: 403},
		{name: "Host without port", host: "127.0.0.1", header: "Authorization: " + prodTok + "\r\n", want: 403},
		{name: "Host localhost without port", host: "localhost", header: "Authorization: " + prodTok + "\r\n", want: 403},
		{name: "Host other port", host: "127.0.0.1:1", header: "Authorization: " + prodTok + "\r\n", want: 403},
		{name: "Host [::1]:PORT on an IPv4 listener", host: "[::1]:" + port, header: "Authorization: " + prodTok + "\r\n", want: 403},
		{name: "Host localhost.:PORT", host: "localhost.:" + port, header: "Authorization: " + prodTok + "\r\n", want: 403},
		{name: "Host with userinfo", host: "evil.example@127.0.0.1:" + port, header: "Authorization: " + prodTok + "\r\n", want: 400, netHTTP: true},
		{name: "Host empty", host: "<empty>", header: "Authorization: " + prodTok + "\r\n", want: 403},
		{name: "HTTP/1.0 without Host", proto: "HTTP/1.0", host: "-", header: "Authorization: " + prodTok + "\r\n", want: 403},
		{name: "HTTP/1.1 without Host", host: "-", header: "Authorization: " + prodTok + "\r\n", want: 400, netHTTP: true},
		{name: "foreign Host and no token", host: "evil.example:" + port, want: 401},
		{name: "foreign Host and the other route's token", host: "evil.example:" + port, header: "Authorization: " + devTok + "\r\n", want: 403},
		{name: "two Host headers", header: "Host: evil.example:" + port + "\r\nAuthorization: " + prodTok + "\r\n", want: 400, netHTTP: true},

		// Size.
		{name: "header over 8 KiB", header: "Authorization: " + prodTok + "\r\nX-Pad: " + big + "\r\n", want: 431, netHTTP: true},
		{name: "body with Content-Length", header: "Authorization: " + prodTok + "\r\nContent-Length: 5\r\n", body: "hello", want: 413},
		{name: "body with Content-Length, no token", header: "Content-Length: 5\r\n", body: "hello", want: 401},
		{name: "chunked body", header: "Authorization: " + prodTok + "\r\nTransfer-Encoding: chunked\r\n", body: "5\r\nhello\r\n0\r\n\r\n", want: 413},
		{name: "unknown transfer coding", header: "Authorization: " + prodTok + "\r\nTransfer-Encoding: gzip\r\n", body: "x", want: 501, netHTTP: true},
		{name: "Content-Length 0", header: "Authorization: " + prodTok + "\r\nContent-Length: 0\r\n", want: 200, want2: prod},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			method, target, proto, host := tc.method, tc.target, tc.proto, tc.host
			if method == "" {
				method = "GET"
			}
			if target == "" {
				target = path
			}
			if proto == "" {
				proto = "HTTP/1.1"
			}
			switch host {
			case "":
				host = s.addr
			case "<empty>":
				host = ""
			}
			var req strings.Builder
			fmt.Fprintf(&req, "%s %s %s\r\n", method, target, proto)
			if host != "-" {
				fmt.Fprintf(&req, "Host: %s\r\n", host)
			}
			req.WriteString("Connection: close\r\n")
			req.WriteString(tc.header)
			req.WriteString("\r\n")
			req.WriteString(tc.body)

			raw, resp, body := rawResponse(t, s.addr, method, req.String())
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.want != 200 || tc.netHTTP {
				for _, secret := range secrets {
					if bytes.Contains(raw, []byte(secret)) {
						t.Fatalf("a %d response contains a secret: %q", resp.StatusCode, raw)
					}
				}
				if tc.want == 405 && resp.Header.Get("Allow") != "GET" {
					t.Errorf("405 with Allow %q, want GET", resp.Header.Get("Allow"))
				}
				if ct := resp.Header.Get("Content-Type"); !tc.netHTTP && method != "HEAD" {
					// The handler's own refusals are JSON the SDKs parse.
					var e struct{ Code, Message string }
					if ct != "application/json" || json.Unmarshal(body, &e) != nil || e.Code == "" || e.Message == "" {
						t.Errorf("refusal is not {code,message} JSON (%s): %q", ct, body)
					}
				}
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			w := decodeAnswer(t, body)
			if w.AccessKeyID != tc.want2.keyID || w.SecretAccessKey != tc.want2.secret || w.Token != tc.want2.session || w.AccountID != tc.want2.account {
				t.Errorf("answer %s, want %+v", body, tc.want2)
			}
			for _, tok := range []string{prodTok, devTok} {
				if bytes.Contains(raw, []byte(tok)) {
					t.Errorf("answer echoes a route token: %q", raw)
				}
			}
		})
	}
}

// TestUnauthorizedIsOneAnswer (audit finding 7): without a valid token
// every request gets the same 401, byte for byte but the Date, whatever
// its path, method or Host, so a local user cannot list the served
// profiles; only a holder of a token learns whether a path exists.
func TestUnauthorizedIsOneAnswer(t *testing.T) {
	t.Parallel()
	prodTok, devTok := mustToken(t), mustToken(t)
	srv, err := endpoint.New([]endpoint.Route{
		{Name: "prod", Path: "/v1/credentials/prod", Token: prodTok, Fetch: staticFetch(fakeCreds{"AKIDPROD", "prodSecret", "prodSession", ""}, time.Hour)},
		{Name: "dev", Path: "/v1/credentials/dev", Token: devTok, Fetch: staticFetch(fakeCreds{"AKIDDEV", "devSecret", "devSession", ""}, time.Hour)},
	}, endpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := serve(t, srv, nil, nil)
	const prod, dev = "/v1/credentials/prod", "/v1/credentials/dev"
	get := func(method, target, host, auth string) string {
		req := method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n"
		if method == "POST" || method == "PUT" {
			req += "Content-Length: 0\r\n"
		}
		if auth != "-" {
			req += "Authorization: " + auth + "\r\n"
		}
		return req + "\r\n"
	}
	// Date is the only line allowed to differ.
	withoutDate := func(raw []byte) string {
		var keep []string
		for _, line := range strings.Split(string(raw), "\r\n") {
			if !strings.HasPrefix(line, "Date: ") {
				keep = append(keep, line)
			}
		}
		return strings.Join(keep, "\r\n")
	}
	tests := []struct {
		name, req string
		want      int // 401: the one answer
	}{
		{"known profile path, no token", get("GET", prod, s.addr, "-"), 401},
		{"unknown path, no token", get("GET", "/v1/credentials/nope", s.addr, "-"), 401},
		{"root, no token", get("GET", "/", s.addr, "-"), 401},
		{"other profile's path, no token", get("GET", dev, s.addr, "-"), 401},
		{"other profile's path, this profile's token", get("GET", dev, s.addr, prodTok), 401},
		{"wrong method on a profile path", get("DELETE", prod, s.addr, "-"), 401},
		{"POST on an unknown path", get("POST", "/v1/credentials/nope", s.addr, "-"), 401},
		{"OPTIONS *", get("OPTIONS", "*", s.addr, "-"), 401},
		{"wrong Host", get("GET", prod, "evil.example:80", "-"), 401},
		{"wrong Host, unknown path", get("GET", "/v1/credentials/nope", "evil.example:80", "-"), 401},
		{"wrong Host, wrong token", get("GET", prod, "evil.example:80", mustToken(t)), 401},
		{"empty token", get("GET", prod, s.addr, ""), 401},
		{"wrong token", get("GET", prod, s.addr, mustToken(t)), 401},
		{"wrong token, unknown path", get("GET", "/v1/credentials/nope", s.addr, mustToken(t)), 401},
		{"token one character short", get("GET", prod, s.addr, prodTok[:len(prodTok)-1]), 401},
		{"token one character long", get("GET", prod, s.addr, prodTok+"0"), 401},
		{"token of one character", get("GET", "/v1/credentials/nope", s.addr, "x"), 401},
		{"token of 4 KiB", get("GET", "/v1/credentials/nope", s.addr, strings.Repeat(prodTok, 64)), 401},
		// With a valid token, the path, Host and method are told apart.
		{"valid token, unknown path", get("GET", "/v1/credentials/nope", s.addr, prodTok), 404},
		{"valid token, OPTIONS *", get("OPTIONS", "*", s.addr, devTok), 404},
		{"valid token, wrong Host", get("GET", prod, "evil.example:80", prodTok), 403},
		{"valid token, wrong method", get("DELETE", prod, s.addr, prodTok), 405},
		{"valid token", get("GET", prod, s.addr, prodTok), 200},
	}
	var first string // the first 401, without its Date
	for _, tc := range tests {
		raw, resp, body := rawResponse(t, s.addr, strings.Fields(tc.req)[0], tc.req)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d: %s", tc.name, resp.StatusCode, tc.want, body)
			continue
		}
		if tc.want != 401 {
			continue
		}
		if got := withoutDate(raw); first == "" {
			first = got
			t.Logf("the one 401:\n%s", got)
		} else if got != first {
			t.Errorf("%s: a different 401:\n%s\nwant\n%s", tc.name, got, first)
		}
	}
}

// TestCorrectRequest uses net/http's client, as the SDKs do, and checks the
// answer field by field.
func TestCorrectRequest(t *testing.T) {
	t.Parallel()
	tok := mustToken(t)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	srv, err := endpoint.New([]endpoint.Route{{
		Name: "prod", Path: "/v1/credentials/prod", Token: tok, RoleARN: "arn:aws:iam::123456789012:role/prod",
		Fetch: func(ctx context.Context, atLeast time.Duration) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "s3cr3t", SessionToken: "sess", AccountID: "123456789012", CanExpire: true, Expires: exp}, nil
		},
	}}, endpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := serve(t, srv, nil, nil)
	req, _ := http.NewRequest("GET", s.base+"/v1/credentials/prod", nil)
	req.Header.Set("Authorization", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if cl := resp.Header.Get("Content-Length"); cl != fmt.Sprint(len(body)) {
		t.Errorf("Content-Length %q for %d bytes", cl, len(body))
	}
	want := `{"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"s3cr3t","Token":"sess","Expiration":"` +
		exp.UTC().Format(time.RFC3339) + `","RoleArn":"arn:aws:iam::123456789012:role/prod","AccountId":"123456789012"}`
	if string(body) != want {
		t.Errorf("body\n%s\nwant\n%s", body, want)
	}
}

// TestEscapedRoutePaths: the CLI builds a route's path with
// url.PathEscape(profile) and hands clients URL+Path, so a route must answer
// on its path exactly as sent on the wire, whatever the profile name holds.
func TestEscapedRoutePaths(t *testing.T) {
	t.Parallel()
	names := []string{"prod", "team/prod", "my profile", "café", "a;b,c?d", "100%", "x+y=z@host:1"}
	var routes []endpoint.Route
	toks := map[string]string{}
	for _, n := range names {
		tok := mustToken(t)
		p := "/v1/credentials/" + url.PathEscape(n)
		toks[p] = tok
		routes = append(routes, endpoint.Route{Name: n, Path: p, Token: tok, Fetch: staticFetch(fakeCreds{keyID: "KEY-" + n, secret: "s", session: "t"}, time.Hour)})
	}
	srv, err := endpoint.New(routes, endpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := serve(t, srv, nil, nil)
	for _, r := range routes {
		t.Run(r.Name, func(t *testing.T) {
			req, err := http.NewRequest("GET", s.base+r.Path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", r.Token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: status %d: %s", r.Path, resp.StatusCode, body)
			}
			if w := decodeAnswer(t, body); w.AccessKeyID != "KEY-"+r.Name {
				t.Errorf("GET %s answered %s's credentials", r.Path, w.AccessKeyID)
			}
		})
	}
}

func TestSlowClient(t *testing.T) {
	t.Parallel()
	tok := mustToken(t)
	srv, err := endpoint.New([]endpoint.Route{{Name: "prod", Path: "/v1/credentials/prod", Token: tok, Fetch: staticFetch(fakeCreds{"AKID", "SECRETKEY", "SESSION", ""}, time.Hour)}}, endpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 300 * time.Millisecond
	s := serve(t, srv, nil, func(srv *endpoint.Server) { endpoint.SetReadHeaderTimeout(srv, timeout) })
	full := "GET /v1/credentials/prod HTTP/1.1\r\nHost: " + s.addr + "\r\nAuthorization: " + tok + "\r\n\r\n"

	tests := []struct {
		name  string
		write func(c net.Conn) // runs until the server closes the connection
	}{
		{"half a request line, then nothing", func(c net.Conn) {
			_, _ = io.WriteString(c, "GET /v1/cred")
		}},
		{"whole headers but the final blank line", func(c net.Conn) {
			_, _ = io.WriteString(c, full[:len(full)-2])
		}},
		{"one byte every 50 ms", func(c net.Conn) {
			for i := 0; i < len(full); i++ {
				if _, err := c.Write([]byte{full[i]}); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}},
		{"nothing at all", func(c net.Conn) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			go tc.write(c)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, err := io.ReadAll(c)
			took := time.Since(start)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server kept a stalled connection open for %s", took)
			}
			if took < timeout/2 || took > timeout+1500*time.Millisecond {
				t.Errorf("closed after %s, want about %s", took, timeout)
			}
			if bytes.Contains(got, []byte("SECRETKEY")) || bytes.Contains(got, []byte(tok)) {
				t.Errorf("answer to an incomplete request has a secret: %q", got)
			}
		})
	}
}

func TestListener(t *testing.T) {
	t.Parallel()
	ipv6 := false
	if l, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ipv6 = true
		l.Close()
	}
	tests := []struct {
		addr        string
		allowRemote bool
		wantIP      string   // accepted: the listener's IP
		wantErr     []string // refused: the message names these
		needIPv6    bool
	}{
		{addr: "127.0.0.1:0", wantIP: "127.0.0.1"},
		{addr: "localhost:0", wantIP: "127.0.0.1"},
		{addr: "[::1]:0", wantIP: "::1", needIPv6: true},
		{addr: "127.0.0.1:0", allowRemote: true, wantIP: "127.0.0.1"},
		{addr: "0.0.0.0:0", allowRemote: true, wantIP: "::"},

		{addr: "0.0.0.0:0", wantErr: []string{`"0.0.0.0:0"`, "not a loopback address", "127.0.0.1", "[::1]", "localhost", "--allow-remote"}},
		{addr: ":0", wantErr: []string{"not a loopback address", "--allow-remote"}},
		{addr: "[::]:0", wantErr: []string{"not a loopback address", "--allow-remote"}},
		{addr: "192.0.2.1:0", wantErr: []string{`"192.0.2.1:0"`, "not a loopback address", "127.0.0.1", "--allow-remote"}},
		{addr: "10.0.0.1:8080", wantErr: []string{"not a loopback address"}},
		{addr: "example.com:0", wantErr: []string{`"example.com:0"`, "not a loopback address", "localhost"}},
		{addr: "localhost.evil.example:0", wantErr: []string{"not a loopback address"}},
		{addr: "127.0.0.1", wantErr: []string{"--addr", "expected HOST:PORT", "127.0.0.1:0"}},
		{addr: "[::1", wantErr: []string{"expected HOST:PORT"}},
		{addr: "", wantErr: []string{"expected HOST:PORT"}},
		{addr: "127.0.0.1:0:0", wantErr: []string{"expected HOST:PORT"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s,remote=%v", tc.addr, tc.allowRemote), func(t *testing.T) {
			t.Parallel()
			if tc.needIPv6 && !ipv6 {
				t.Skip("no IPv6 loopback on this host")
			}
			l, err := endpoint.Listener(tc.addr, tc.allowRemote)
			if tc.wantErr != nil {
				if err == nil {
					l.Close()
					t.Fatalf("Listener(%q) listened on %s", tc.addr, l.Addr())
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Listener(%q): %v", tc.addr, err)
			}
			defer l.Close()
			ta := l.Addr().(*net.TCPAddr)
			if tc.addr == "0.0.0.0:0" {
				if !ta.IP.IsUnspecified() {
					t.Errorf("listening on %s, want all interfaces", ta)
				}
			} else if ta.IP.String() != tc.wantIP {
				t.Errorf("listening on %s, want %s", ta, tc.wantIP)
			}
			if ta.Port == 0 {
				t.Errorf("port 0 was not replaced")
			}
			if got, want := endpoint.URL(l), "http://"+l.Addr().String(); got != want {
				t.Errorf("URL %q, want %q", got, want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tok := strings.Repeat("t", 32)
	fetch := staticFetch(fakeCreds{"A", "S", "T", ""}, time.Hour)
	ok := func(path string) endpoint.Route {
		return endpoint.Route{Name: "r", Path: path, Token: tok, Fetch: fetch}
	}
	tests := []struct {
		name    string
		routes  []endpoint.Route
		wantErr string // "" accepts
	}{
		{"one route", []endpoint.Route{ok("/v1/credentials/prod")}, ""},
		{"no routes", nil, ""},
		{"token of exactly 32", []endpoint.Route{{Name: "r", Path: "/p", Token: tok, Fetch: fetch}}, ""},
		{"escaped path", []endpoint.Route{ok("/v1/credentials/team%2Fprod")}, ""},
		{"token of 31", []endpoint.Route{{Name: "short", Path: "/p", Token: tok[:31], Fetch: fetch}}, `route "short"`},
		{"empty token", []endpoint.Route{{Name: "r", Path: "/p", Fetch: fetch}}, "token of at least 32"},
		{"no fetch", []endpoint.Route{{Name: "r", Path: "/p", Token: tok}}, "fetch"},
		{"empty path", []endpoint.Route{ok("")}, "path"},
		{"relative path", []endpoint.Route{ok("v1/credentials/prod")}, "path"},
		{"path with a space", []endpoint.Route{ok("/v1/credentials/my profile")}, "path"},
		{"path with a query", []endpoint.Route{ok("/v1/credentials/prod?x=1")}, "path"},
		{"path with a fragment", []endpoint.Route{ok("/v1/credentials/prod#x")}, "path"},
		{"path with an authority", []endpoint.Route{ok("//evil.example/x")}, "path"},
		{"bad escape", []endpoint.Route{ok("/v1/credentials/%zz")}, "path"},
		{"duplicate path", []endpoint.Route{ok("/v1/credentials/prod"), ok("/v1/credentials/prod")}, "two routes on path /v1/credentials/prod"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, err := endpoint.New(tc.routes, endpoint.Options{})
			if tc.wantErr == "" {
				if err != nil || srv == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("New accepted %+v", tc.routes)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not mention %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), tok) {
				t.Errorf("error shows the token: %q", err)
			}
		})
	}
}

func TestNewToken(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		tok := mustToken(t)
		if strings.Trim(tok, "0123456789abcdef") != "" {
			t.Fatalf("token %q is not lower-case hex", tok)
		}
		if seen[tok] {
			t.Fatalf("token %q twice", tok)
		}
		seen[tok] = true
	}
}

func TestPrimeFailure(t *testing.T) {
	t.Parallel()
	boom := errors.New("hop 1 (arn:aws:iam::123456789012:role/prod): AccessDenied: not authorized to perform sts:AssumeRole")
	calls := 0
	srv, err := endpoint.New([]endpoint.Route{{Name: "prod", Path: "/p", Token: mustToken(t), Fetch: func(ctx context.Context, atLeast time.Duration) (aws.Credentials, error) {
		calls++
		return aws.Credentials{}, boom
	}}}, endpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Prime(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Prime: %v, want %v", err, boom)
	}
	if calls != 1 {
		t.Errorf("Prime called Fetch %d times, want 1", calls)
	}
}

// TestLongTermCredentials: keys that cannot expire are announced as valid for
// an hour, so clients come back, and the refresher does not spin on them.
func TestLongTermCredentials(t *testing.T) {
	t.Parallel()
	tok := mustToken(t)
	var mu sync.Mutex
	calls := 0
	srv, err := endpoint.New([]endpoint.Route{{Name: "static", Path: "/p", Token: tok, Fetch: func(ctx context.Context, atLeast time.Duration) (aws.Credentials, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		return aws.Credentials{AccessKeyID: "AKIALONGTERM", SecretAccessKey: "longtermsecret", Source: "SharedConfigCredentials"}, nil
	}}}, endpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := serve(t, srv, nil, nil)
	req, _ := http.NewRequest("GET", s.base+"/p", nil)
	req.Header.Set("Authorization", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	w := decodeAnswer(t, body)
	exp, err := time.Parse(time.RFC3339, w.Expiration)
	if err != nil {
		t.Fatalf("Expiration %q: %v", w.Expiration, err)
	}
	if d := time.Until(exp); d < 58*time.Minute || d > time.Hour {
		t.Errorf("Expiration %s is %s ahead, want about an hour", w.Expiration, d)
	}
	if w.AccessKeyID != "AKIALONGTERM" || w.SecretAccessKey != "longtermsecret" || w.Token != "" {
		t.Errorf("answer %s", body)
	}
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if calls != 1 {
		t.Errorf("Fetch called %d times, want 1 (Prime only)", calls)
	}
}

func BenchmarkServeHTTP(b *testing.B) {
	tok := mustToken(b)
	srv, err := endpoint.New([]endpoint.Route{{Name: "prod", Path: "/v1/credentials/prod", Token: tok, Fetch: staticFetch(fakeCreds{"ASIAEXAMPLE", "secret", "session", "123456789012"}, time.Hour)}}, endpoint.Options{})
	if err != nil {
		b.Fatal(err)
	}
	// Serve sets the accepted Host headers; requests go straight to ServeHTTP.
	s := serve(b, srv, nil, nil)
	req := httptest.NewRequest("GET", s.base+"/v1/credentials/prod", nil)
	req.Header.Set("Authorization", tok)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
