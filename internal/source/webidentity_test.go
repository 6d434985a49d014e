package source

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/winetest"
)

// b64 is base64url without padding, as JWTs encode their parts.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// token is a JWT with the given claims JSON.
func token(claims string) []byte {
	return []byte(b64(`{"alg":"RS256"}`) + "." + b64(claims) + "." + b64("signature"))
}

func TestClaimsHash(t *testing.T) {
	const base = `{"iss":"https://token.actions.githubusercontent.com","sub":"repo:org/app:ref:refs/heads/main","aud":"sts.amazonaws.com","repository":"org/app","run_id":"7","iat":1800000000,"nbf":1800000000,"exp":1800000300,"jti":"a"}`
	want, err := ClaimsHash(token(base))
	if err != nil || len(want) != 64 {
		t.Fatalf("ClaimsHash(base) = %q, %v", want, err)
	}
	for _, tc := range []struct {
		name   string
		token  []byte
		same   bool
		failed bool
	}{
		{"same claims, another order", token(`{"exp":1800000300,"jti":"a","aud":"sts.amazonaws.com","run_id":"7","repository":"org/app","sub":"repo:org/app:ref:refs/heads/main","iss":"https://token.actions.githubusercontent.com","nbf":1800000000,"iat":1800000000}`), true, false},
		{"new exp, iat, nbf, jti", token(`{"iss":"https://token.actions.githubusercontent.com","sub":"repo:org/app:ref:refs/heads/main","aud":"sts.amazonaws.com","repository":"org/app","run_id":"7","iat":1900000000,"nbf":1900000001,"exp":1900000300,"jti":"b"}`), true, false},
		{"another header and signature", []byte(b64(`{"alg":"ES256","kid":"x"}`) + "." + b64(base) + "." + b64("other")), true, false},
		{"padded claims part", []byte(b64(`{}`) + "." + base64.URLEncoding.EncodeToString([]byte(base)) + "." + b64("s")), true, false},
		{"another subject", token(strings.Replace(base, "refs/heads/main", "pull_request", 1)), false, false},
		{"another repository", token(strings.Replace(base, `"org/app"`, `"org/fork"`, 1)), false, false},
		{"another run", token(strings.Replace(base, `"run_id":"7"`, `"run_id":"8"`, 1)), false, false},
		{"a claim more", token(strings.Replace(base, `{`, `{"environment":"prod",`, 1)), false, false},
		{"a number written otherwise", token(strings.Replace(base, `"run_id":"7"`, `"run_id":7`, 1)), false, false},
		{"two parts", []byte(b64(`{}`) + "." + b64(base)), false, true},
		{"five parts (JWE)", []byte("a.b.c.d.e"), false, true},
		{"opaque", []byte("ya29.opaque-access-token"), false, true},
		{"claims not base64url", []byte("a.!!!.c"), false, true},
		{"claims not JSON", token("not json"), false, true},
		{"claims an array", token(`["sub"]`), false, true},
		{"claims null", token(`null`), false, true},
		{"claims followed by more", token(base + `{}`), false, true},
		{"empty", nil, false, true},
	} {
		got, err := ClaimsHash(tc.token)
		switch {
		case tc.failed:
			if err == nil {
				t.Errorf("%s: no error", tc.name)
			} else if !strings.Contains(err.Error(), "not a JWT") || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: error %q", tc.name, err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case (got == want) != tc.same:
			t.Errorf("%s: same hash as base: %v, want %v", tc.name, got == want, tc.same)
		}
	}
}

// tokens hands out a list of tokens, one per call.
type tokens struct {
	list  [][]byte
	calls int
}

func (r *tokens) GetIdentityToken() ([]byte, error) {
	r.calls++
	if len(r.list) == 0 {
		return nil, errors.New("no token")
	}
	b := r.list[0]
	r.list = r.list[1:]
	return b, nil
}

func TestWebIdentityTokenRereadsOnlyForLaterCalls(t *testing.T) {
	now := time.Unix(1_800_000_100, 0)
	first := token(`{"sub":"a","exp":1800000300,"jti":"1"}`)
	rotated := token(`{"sub":"a","exp":1800003600,"jti":"2"}`)
	other := token(`{"sub":"b","exp":1800003600,"jti":"3"}`)
	h, _ := ClaimsHash(first)
	for _, tc := range []struct {
		name    string
		now     time.Time
		reads   [][]byte
		want    [][]byte // nil entry: an error
		rereads int
	}{
		{"first call: the token read for the key", now, nil, [][]byte{first}, 0},
		{"later call: read again, same claims", now, [][]byte{rotated}, [][]byte{first, rotated}, 1},
		{"later call: other claims refused", now, [][]byte{other}, [][]byte{first, nil}, 1},
		{"first call after the token expired: read again", time.Unix(1_800_000_400, 0), [][]byte{rotated}, [][]byte{rotated}, 1},
	} {
		r := &tokens{list: tc.reads}
		tok := &WebIdentityToken{claims: h, reread: r, now: func() time.Time { return tc.now }, first: first, expires: time.Unix(1_800_000_300, 0)}
		for i, want := range tc.want {
			got, err := tok.GetIdentityToken()
			if want == nil {
				if err == nil || strings.Contains(err.Error(), string(other)) {
					t.Errorf("%s: call %d: %q, %v; want an error without the token", tc.name, i+1, got, err)
				}
				continue
			}
			if err != nil || string(got) != string(want) {
				t.Errorf("%s: call %d: %v; want the token %d", tc.name, i+1, err, i)
			}
		}
		if r.calls != tc.rereads {
			t.Errorf("%s: token read again %d times, want %d", tc.name, r.calls, tc.rereads)
		}
	}
}

func TestReadWebIdentityToken(t *testing.T) {
	dir := winetest.TempDir(t)
	file := filepath.Join(dir, "token")
	src := plan.Source{Kind: plan.SourceWebIdent, WebIdentityRole: plan.Setting{Value: "arn:aws:iam::111111111111:role/dev"},
		WebIdentityTokenFile: plan.Setting{Value: file}}
	if _, err := ReadWebIdentityToken(src, Options{}); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("missing file: %v, want an error naming it", err)
	}
	const secret = "opaque-" + secretMarker
	if err := os.WriteFile(file, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadWebIdentityToken(src, Options{})
	var se *Error
	if !errors.As(err, &se) || strings.Contains(err.Error(), secretMarker) || !strings.Contains(err.Error(), "--no-cache") {
		t.Errorf("opaque token: %v, want a *Error without the token that names --no-cache", err)
	}
	jwt := token(`{"sub":"a"}`)
	if err := os.WriteFile(file, jwt, 0o600); err != nil {
		t.Fatal(err)
	}
	tok, err := ReadWebIdentityToken(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := ClaimsHash(jwt); tok.Claims() != want {
		t.Errorf("Claims() = %q, want %q", tok.Claims(), want)
	}
	_ = os.Remove(file)
	if got, err := tok.GetIdentityToken(); err != nil || string(got) != string(jwt) {
		t.Errorf("first GetIdentityToken after the file was removed: %q, %v; want the token read before", got, err)
	}
}

// FuzzClaimsHash: any input either hashes to 64 hex characters or is
// refused with one line that never quotes it (every "SECRET" becomes a
// marker that must not appear).
func FuzzClaimsHash(f *testing.F) {
	for _, s := range []string{
		string(token(`{"sub":"SECRET","exp":1,"iat":2}`)),
		string(token(`{"sub":"a","aud":["x","y"],"n":1.50,"o":{"b":1,"a":2}}`)),
		"SECRET.SECRET.SECRET", "SECRET", "a.b", "..", "a." + b64("null") + ".c", "a." + b64(`"SECRET"`) + ".c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		in = strings.ReplaceAll(in, "SECRET", secretMarker)
		h, err := ClaimsHash([]byte(in))
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, secretMarker) || strings.Contains(msg, "\n") || h != "" {
				t.Fatalf("error %q (hash %q) for %q", msg, h, in)
			}
			return
		}
		if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
			t.Fatalf("hash %q", h)
		}
	})
}
