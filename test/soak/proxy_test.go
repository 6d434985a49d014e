//go:build unix

package soak

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Answer is the credential set of one successful AssumeRole answer, with
// what was asked for.
type Answer struct {
	RoleARN     string // the request's RoleArn
	SessionName string // the request's RoleSessionName
	AssumedARN  string // AssumedRoleUser.Arn of the answer
	AccessKeyID string
	Secret      string
	Token       string
	Expiration  time.Time
	Seq         int // 0 for the first answer recorded, 1 for the next, …
}

// Proxy is a recording reverse proxy in front of moto: it counts the STS
// (query-protocol) requests per Action and keeps every AssumeRole answer,
// recorded before the client receives it, so a credential set found in a
// file or an output can be traced to the one answer it must come from.
type Proxy struct {
	URL string

	mu      sync.Mutex
	arrived map[string]int
	failed  map[string]int
	aborted int               // requests whose client went away (was killed)
	answers map[string]Answer // by access key id
}

type actionKey struct{}

// newProxy starts a proxy in front of motoURL, closed at the end of the test.
func newProxy(t testing.TB) *Proxy {
	t.Helper()
	target, err := url.Parse(motoURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{arrived: map[string]int{}, failed: map[string]int{}, answers: map[string]Answer{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // keep the Host the client signed
		},
		ModifyResponse: p.modifyResponse,
		ErrorLog:       log.New(io.Discard, "", 0),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.mu.Lock()
			if r.Context().Err() != nil {
				p.aborted++
			} else if form, _ := r.Context().Value(actionKey{}).(url.Values); form != nil {
				p.failed[form.Get("Action")]++
			}
			p.mu.Unlock()
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
			p.mu.Lock()
			p.arrived[form.Get("Action")]++
			p.mu.Unlock()
			r = r.WithContext(context.WithValue(r.Context(), actionKey{}, form))
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// assumeRoleResponse is the part of an AssumeRole answer the proxy keeps.
type assumeRoleResponse struct {
	Result struct {
		Credentials struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string
			SessionToken    string
			Expiration      string
		}
		AssumedRoleUser struct{ Arn string }
	} `xml:"AssumeRoleResult"`
}

func (p *Proxy) modifyResponse(resp *http.Response) error {
	form, _ := resp.Request.Context().Value(actionKey{}).(url.Values)
	if form == nil {
		return nil
	}
	action := form.Get("Action")
	if resp.StatusCode != http.StatusOK {
		p.mu.Lock()
		p.failed[action]++
		p.mu.Unlock()
		return nil
	}
	if action != "AssumeRole" {
		return nil
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	text := raw
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return err
		}
		if text, err = io.ReadAll(zr); err != nil {
			return err
		}
	}
	var ar assumeRoleResponse
	if err := xml.Unmarshal(text, &ar); err == nil && ar.Result.Credentials.AccessKeyID != "" {
		c := ar.Result.Credentials
		exp, _ := time.Parse(time.RFC3339Nano, c.Expiration)
		p.mu.Lock()
		p.answers[c.AccessKeyID] = Answer{
			RoleARN: form.Get("RoleArn"), SessionName: form.Get("RoleSessionName"), AssumedARN: ar.Result.AssumedRoleUser.Arn,
			AccessKeyID: c.AccessKeyID, Secret: c.SecretAccessKey, Token: c.SessionToken, Expiration: exp, Seq: len(p.answers),
		}
		p.mu.Unlock()
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	resp.ContentLength = int64(len(raw))
	resp.Header.Set("Content-Length", strconv.Itoa(len(raw)))
	return nil
}

// Arrived is how many requests of action reached the proxy.
func (p *Proxy) Arrived(action string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.arrived[action]
}

// Failed is how many requests of action moto did not answer with 200, or
// the proxy could not forward (its client still waiting).
func (p *Proxy) Failed(action string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed[action]
}

// Aborted is how many requests were given up by their client (a killed
// process) before moto's answer reached it.
func (p *Proxy) Aborted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.aborted
}

// Answers is how many AssumeRole answers were recorded.
func (p *Proxy) Answers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.answers)
}

// Answer returns the AssumeRole answer that handed out access key id.
func (p *Proxy) Answer(id string) (Answer, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.answers[id]
	return a, ok
}
