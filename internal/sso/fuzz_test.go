package sso

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rolehop/rolehop/internal/winetest"
)

// tokenMarker replaces "SECRET" in fuzz inputs; no error may quote it.
const tokenMarker = "xT0k3nM4rk3r5a9c1e7d3b2f6x"

// knownTokenFields are the fields Token reads and writes.
var knownTokenFields = map[string]bool{"startUrl": true, "region": true, "accessToken": true, "expiresAt": true,
	"clientId": true, "clientSecret": true, "registrationExpiresAt": true, "refreshToken": true}

// FuzzToken: for any file, ReadToken returns a token with a non-empty
// accessToken and a valid expiresAt, or a one-line error that quotes
// nothing of the file ("SECRET" becomes a marker that must not appear);
// never a panic. A token read, written and read again is the same token;
// every field it does not understand (unknown keys, and known keys whose
// value is not a string) is kept with the same JSON value; and writing it
// once more gives the same bytes.
func FuzzToken(f *testing.F) {
	for _, s := range []string{
		`{"startUrl": "https://corp.awsapps.com/start", "region": "us-east-1", "accessToken": "SECRET", "expiresAt": "2030-01-02T03:04:05Z",
		"clientId": "cid", "clientSecret": "SECRET", "registrationExpiresAt": "2030-02-01T00:00:00Z", "refreshToken": "SECRET", "futureField": 7}`,
		`{"accessToken":"SECRET","expiresAt":"2030-01-02T03:04:05.999999999+02:00","big":12345678901234567890123,"f":1.5e300,"n":null,"o":{"a":[1,"x<&>"]}}`,
		`{"accessToken":"SECRET","expiresAt":"2030-01-02T03:04:05UTC","region":5,"startUrl":null}`,
		`{"accessToken":"SECRET","expiresAt":"2030-01-02T03:04:05","registrationExpiresAt":"soon"}`,
		`{"accessToken":"SECRET","expiresAt":"9999-12-31T23:59:59-01:00"}`,
		`{"accessToken":"SECRET","expiresAt":"0000-01-01T00:00:00+01:00"}`,
		`{"accessToken":"","expiresAt":"2030-01-02T03:04:05Z"}`,
		`{"accessToken":"SECRET"}`,
		`{"accessToken":"SECRET","expiresAt":"2030-01-02T03:04:05Z","accessToken":"b"}`,
		`{"accessToken":"SECRET","expiresAt":"2030-01-02T03:04:05Z",}`,
		`{"accessToken":"SECRET\u0000\ud800","expiresAt":"2030-01-02T03:04:05Z","\u00e9":"\xff"}`,
		`null`, `[]`, `"SECRET"`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	dir := winetest.TempDir(f)
	in, out := filepath.Join(dir, "in.json"), filepath.Join(dir, "out.json")
	f.Fuzz(func(t *testing.T, tmpl []byte) {
		data := bytes.ReplaceAll(tmpl, []byte("SECRET"), []byte(tokenMarker))
		if err := os.WriteFile(in, data, 0o600); err != nil {
			t.Fatal(err)
		}
		tok, err := ReadToken(in)
		if err != nil {
			msg := err.Error()
			if strings.ContainsAny(msg, "\r\n") || strings.Contains(msg, tokenMarker[:12]) {
				t.Fatalf("error is not one line or quotes the file: %q", msg)
			}
			return
		}
		if tok.AccessToken == "" || tok.ExpiresAt.IsZero() {
			t.Fatalf("token without accessToken/expiresAt: %+v", tok)
		}
		if err := tok.Write(out); err != nil {
			t.Fatalf("Write: %v", err)
		}
		first, _ := os.ReadFile(out)
		again, err := ReadToken(out)
		if err != nil {
			t.Fatalf("the written token does not read back: %v\n%s", err, first)
		}
		if !sameToken(tok, again) {
			t.Fatalf("read, write, read changed the token:\n%+v\n%+v\n%s", tok, again, first)
		}
		for k, v := range tok.raw {
			if _, isString := tok.raw.String(k); knownTokenFields[k] && isString {
				continue
			}
			if !sameJSON(v, again.raw[k]) {
				t.Fatalf("field %q: %s became %s", k, v, again.raw[k])
			}
		}
		if err := again.Write(out); err != nil {
			t.Fatal(err)
		}
		if second, _ := os.ReadFile(out); !bytes.Equal(first, second) {
			t.Fatalf("writing the token again changed the file:\n%s\n%s", first, second)
		}
	})
}

// sameToken compares the fields of two tokens (times by instant).
func sameToken(a, b *Token) bool {
	return a.StartURL == b.StartURL && a.Region == b.Region && a.AccessToken == b.AccessToken &&
		a.ExpiresAt.Equal(b.ExpiresAt) && a.ClientID == b.ClientID && a.ClientSecret == b.ClientSecret &&
		a.RegistrationExpiresAt.Equal(b.RegistrationExpiresAt) && a.RefreshToken == b.RefreshToken
}

// sameJSON reports whether two JSON values are the same text once
// insignificant whitespace is removed.
func sameJSON(a, b json.RawMessage) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}
