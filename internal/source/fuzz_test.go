package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/winetest"
)

// fuzzNow is the clock of the fuzz targets: expirations are judged against
// it, not against the wall clock.
var fuzzNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// secretMarker replaces "SECRET" in fuzz inputs. It is long and random
// enough that it only appears in an error message if the message quotes
// the input.
const secretMarker = "xS3cr3tM4rk3r9f2c7e1a0b4d8x"

// processDoc is the credential_process Version 1 document as
// encoding/json reads it (the SDK's own decoder: field names match case
// insensitively; Expiration is RFC 3339).
type processDoc struct {
	Version         int
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string
	AccountID       string `json:"AccountId"`
	Expiration      *time.Time
}

// FuzzProcessOutput feeds arbitrary output of a credential_process through
// the provider rolehop builds for it (source.New: the SDK's processcreds
// plus rolehop's checks) and checks that it is accepted exactly when it is
// a JSON object with Version 1, a non-empty AccessKeyId and
// SecretAccessKey, and no Expiration or a valid one after now — with
// exactly those values — and that a refusal is a one-line *Error that
// never quotes the output (every "SECRET" in the input becomes a marker
// that must not appear in the message).
func FuzzProcessOutput(f *testing.F) {
	for _, s := range []string{
		`{"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"SECRET","SessionToken":"SECRET","Expiration":"2031-01-01T00:00:00Z"}`,
		`{"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"SECRET"}`,
		`{"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"SECRET","Expiration":"2020-01-01T00:00:00Z"}`,
		`{"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"SECRET","Expiration":"2031-01-01 00:00:00"}`,
		`{"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"SECRET","Expiration":""}`,
		`{"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"SECRET","Expiration":null}`,
		`{"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"SECRET","Expiration":"2030-01-01T00:00:00Z"}`,
		`{"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"SECRET","Expiration":"2031-01-01T00:00:00+05:00","AccountId":"1"}`,
		`{"Version":2,"AccessKeyId":"AKIA","SecretAccessKey":"SECRET"}`,
		`{"Version":"1","AccessKeyId":"AKIA","SecretAccessKey":"SECRET"}`,
		`{"Version":1.0,"AccessKeyId":"AKIA","SecretAccessKey":"SECRET"}`,
		`{"version":1,"accesskeyid":"AKIA","secretaccesskey":"SECRET"}`,
		`{"Version":1,"AccessKeyId":"","SecretAccessKey":"SECRET"}`,
		`{"Version":1,"AccessKeyId":"AKIA"}`,
		`{"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"SECRET",}`,
		"warning: something\n" + `{"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"SECRET"}`,
		`{"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"SECRET"}{"x":1}`,
		`{"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"SECRET"`,
		`{"Version":1,"AccessKeyId":5,"SecretAccessKey":"SECRET"}`,
		`[]`, `null`, ``, "\xff", `"SECRET"`,
	} {
		f.Add([]byte(s))
	}
	out := filepath.Join(winetest.TempDir(f), "out.json")
	cat := "cat " // run by sh; by cmd.exe on Windows
	if runtime.GOOS == "windows" {
		cat = "type "
	}
	p, err := New(plan.Source{Kind: plan.SourceProcess, Profile: "p", Command: cat + out},
		Options{Clock: func() time.Time { return fuzzNow }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, tmpl []byte) {
		data := bytes.ReplaceAll(tmpl, []byte("SECRET"), []byte(secretMarker))
		if err := os.WriteFile(out, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := p.Retrieve(context.Background())
		var doc processDoc
		decodeErr := json.Unmarshal(data, &doc)
		valid := decodeErr == nil && doc.Version == 1 && doc.AccessKeyID != "" && doc.SecretAccessKey != "" &&
			(doc.Expiration == nil || doc.Expiration.After(fuzzNow))
		switch {
		case valid && err != nil:
			t.Fatalf("valid output refused: %v\n%q", err, data)
		case !valid && err == nil:
			t.Fatalf("invalid output accepted (decode: %v, %+v): %+v\n%q", decodeErr, doc, c, data)
		case err != nil:
			checkSourceError(t, err, true)
			return
		}
		want := aws.Credentials{AccessKeyID: doc.AccessKeyID, SecretAccessKey: doc.SecretAccessKey,
			SessionToken: doc.SessionToken, AccountID: doc.AccountID, Source: c.Source}
		if doc.Expiration != nil {
			want.CanExpire, want.Expires = true, *doc.Expiration
		}
		if c != want {
			t.Fatalf("credentials %+v, want %+v", c, want)
		}
	})
}

// checkSourceError checks a refusal: a one-line *Error, without the
// marker when secret.
func checkSourceError(t *testing.T, err error, secret bool) {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error %T %v is not a *source.Error", err, err)
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("error is not one line: %q", msg)
	}
	if secret && (strings.Contains(msg, secretMarker) || strings.Contains(msg, secretMarker[:12])) {
		t.Fatalf("error quotes a secret of the output: %q", msg)
	}
}

// containerDoc is the container endpoint's answer as the SDK reads it (one
// JSON value from the body; what follows it is ignored).
type containerDoc struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	Token           string
	AccountID       string `json:"AccountId"`
	Expiration      *time.Time
}

// FuzzContainerResponse feeds arbitrary bodies from a container endpoint
// through the provider rolehop builds for it (the SDK's endpointcreds plus
// rolehop's checks): no panic whatever the status, content type and body;
// accepted exactly when the status is 200 and the body starts with a JSON
// object that has a non-empty AccessKeyId and SecretAccessKey and no
// Expiration or a valid one after now, with exactly its values; otherwise a
// one-line *Error that quotes no secret.
func FuzzContainerResponse(f *testing.F) {
	for _, s := range []string{
		`{"AccessKeyId":"ASIA","SecretAccessKey":"SECRET","Token":"SECRET","Expiration":"2031-01-01T00:00:00Z","Code":"Success"}`,
		`{"AccessKeyId":"a","SecretAccessKey":"SECRET","Expiration":"2000-01-01T00:00:00Z"}`,
		`{"AccessKeyId":"a","SecretAccessKey":"SECRET","Expiration":"2030-01-01T00:00:00Z"}`,
		`{"AccessKeyId":"a","SecretAccessKey":"SECRET","AccountId":"111111111111"}`,
		`{"AccessKeyId":"a","SecretAccessKey":"SECRET"} trailing`,
		`{"AccessKeyId":"a","SecretAccessKey":"SECRET",}`,
		`{"AccessKeyId":1}`,
		`{"Expiration":"not a date"}`,
		`{"Code":"Failure","Message":"no"}`,
		`[]`, ``, `null`,
	} {
		f.Add(s, uint8(0), true)
	}
	f.Add(`null`, uint8(2), true)
	f.Add(`{"code":"Denied","message":"no"}`, uint8(3), true)
	f.Add(`not json`, uint8(4), false)
	// Statuses the SDK does not retry (a retry would sleep).
	statuses := []int{200, 200, 400, 401, 403, 404}
	f.Fuzz(func(t *testing.T, tmpl string, status uint8, isJSON bool) {
		b := strings.ReplaceAll(tmpl, "SECRET", secretMarker)
		code := statuses[int(status)%len(statuses)]
		ctype := "text/plain"
		if isJSON {
			ctype = "application/json"
		}
		// An in-memory transport keeps the fuzzer off sockets and timers.
		client := &http.Client{Transport: roundTripper(func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: code, Header: http.Header{"Content-Type": {ctype}},
				Body: io.NopCloser(strings.NewReader(b))}, nil
		})}
		p, err := New(plan.Source{Kind: plan.SourceContainer, ContainerURL: "http://127.0.0.1/creds", ContainerToken: "t"},
			Options{HTTPClient: client, Clock: func() time.Time { return fuzzNow }})
		if err != nil {
			t.Fatal(err)
		}
		c, err := p.Retrieve(context.Background())
		var doc containerDoc
		decodeErr := json.NewDecoder(strings.NewReader(b)).Decode(&doc)
		valid := code == 200 && decodeErr == nil && doc.AccessKeyID != "" && doc.SecretAccessKey != "" &&
			(doc.Expiration == nil || doc.Expiration.After(fuzzNow))
		switch {
		case valid && err != nil:
			t.Fatalf("valid body refused: %v\n%q", err, b)
		case !valid && err == nil:
			t.Fatalf("invalid body accepted (decode: %v): %+v\n%q", decodeErr, c, b)
		case err != nil:
			// An error status's message is the endpoint's own words,
			// shown on purpose; only a 200 body is secret.
			checkSourceError(t, err, code == 200)
			return
		}
		want := aws.Credentials{AccessKeyID: doc.AccessKeyID, SecretAccessKey: doc.SecretAccessKey,
			SessionToken: doc.Token, AccountID: doc.AccountID, Source: c.Source}
		if doc.Expiration != nil {
			want.CanExpire, want.Expires = true, *doc.Expiration
		}
		if c != want {
			t.Fatalf("credentials %+v, want %+v", c, want)
		}
	})
}
