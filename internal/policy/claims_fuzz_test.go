package policy

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// claimsMarker replaces "SECRET" in fuzzed tokens; no error may quote it.
const claimsMarker = "xJwtM4rk3r7c2a9e4f1d8b3x"

// FuzzTokenClaims: tokenClaims never panics and its errors never quote
// the token; for a JWT made of any iss, sub and aud (a string, or a list
// when aud has several lines), it returns exactly those claims.
func FuzzTokenClaims(f *testing.F) {
	f.Add("https://token.actions.githubusercontent.com", "repo:o/r:ref:refs/heads/main", "sts.amazonaws.com", "h.SECRET.s")
	f.Add("", "", "", "")
	f.Add("iss", "sub", "a\nb\n", "a.b")
	f.Add("\u2028", "\x00", "", "h."+base64.RawURLEncoding.EncodeToString([]byte(`{"aud":5,"x":"SECRET"}`))+".s")
	f.Add("i", "s", "", "h."+base64.RawURLEncoding.EncodeToString([]byte(`null`))+"==.s")
	f.Add("i", "s", "", "h."+base64.RawURLEncoding.EncodeToString([]byte(`{"iss":1}`))+".s")
	f.Add("i", "s", "", " \nh.e30.s\n")
	f.Fuzz(func(t *testing.T, iss, sub, aud, raw string) {
		raw = strings.ReplaceAll(raw, "SECRET", claimsMarker)
		if _, _, _, err := tokenClaims([]byte(raw)); err != nil && strings.Contains(err.Error(), claimsMarker[:10]) {
			t.Fatalf("error quotes the token: %v", err)
		}
		claims := map[string]any{"iss": iss, "sub": sub}
		var auds []string
		if aud != "" {
			auds = strings.Split(aud, "\n")
			if len(auds) == 1 {
				claims["aud"] = auds[0]
			} else {
				claims["aud"] = auds
			}
		}
		payload, err := json.Marshal(claims)
		if err != nil {
			t.Fatal(err)
		}
		jwt := "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
		gotIss, gotAud, gotSub, err := tokenClaims([]byte(jwt))
		if err != nil {
			t.Fatalf("valid JWT refused: %v\n%s", err, payload)
		}
		// JSON carries invalid UTF-8 as U+FFFD.
		var want struct {
			Iss, Sub string
			Aud      any
		}
		_ = json.Unmarshal(payload, &want)
		var wantAud []string
		for _, a := range auds {
			var s string
			b, _ := json.Marshal(a)
			_ = json.Unmarshal(b, &s)
			wantAud = append(wantAud, s)
		}
		if gotIss != want.Iss || gotSub != want.Sub || !slices.Equal(gotAud, wantAud) {
			t.Fatalf("claims %q %q %q, want %q %q %q", gotIss, gotSub, gotAud, want.Iss, want.Sub, wantAud)
		}
	})
}
