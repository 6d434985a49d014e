package login

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/plan"
)

// cliFile is a cache file as `aws login` (botocore's JSONFileCache) writes
// it, with a field rolehop does not know at each level. Unknown values are
// kept with their numbers and strings as written; their spacing is
// compacted.
const cliFile = `{"accessToken": {"accessKeyId": "ASIACLI", "secretAccessKey": "cli-secret", "sessionToken": "cli-token", "accountId": "111111111111", "expiresAt": "2030-01-02T03:04:05Z", "futureInner": [1, 2.50]}, "tokenType": "aws_sigv4", "clientId": "arn:aws:signin:::devtools/same-device", "refreshToken": "rt-1", "idToken": "id.jwt.x", "dpopKey": "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n", "futureOuter": {"n": 12345678901234567890}}`

func TestParseMarshalKeepsUnknownFields(t *testing.T) {
	s, err := Parse([]byte(cliFile))
	if err != nil {
		t.Fatal(err)
	}
	if s.AccessKeyID != "ASIACLI" || s.AccountID != "111111111111" || !s.ExpiresAt.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) ||
		s.RefreshToken != "rt-1" || !strings.HasPrefix(s.DPoPKey, "-----BEGIN EC PRIVATE KEY-----\n") {
		t.Fatalf("parsed %+v", s)
	}
	c := s.Credentials()
	if c.AccountID != "111111111111" || !c.CanExpire || c.SessionToken != "cli-token" {
		t.Errorf("credentials %+v", c)
	}
	s.AccessKeyID, s.RefreshToken, s.ExpiresAt = "ASIANEW", "rt-2", time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"futureOuter": `{"n":12345678901234567890}`, "idToken": `"id.jwt.x"`, "tokenType": `"aws_sigv4"`, "refreshToken": `"rt-2"`,
	} {
		if string(got[k]) != want {
			t.Errorf("%s = %s, want %s", k, got[k], want)
		}
	}
	var access map[string]json.RawMessage
	if err := json.Unmarshal(got["accessToken"], &access); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"futureInner": `[1,2.50]`, "accessKeyId": `"ASIANEW"`, "expiresAt": `"2031-05-06T07:08:09Z"`, "accountId": `"111111111111"`,
	} {
		if string(access[k]) != want {
			t.Errorf("accessToken.%s = %s, want %s", k, access[k], want)
		}
	}
	again, err := Parse(b)
	if err != nil || again.AccessKeyID != "ASIANEW" || again.DPoPKey != s.DPoPKey {
		t.Errorf("re-read: %+v, %v", again, err)
	}
}

func TestParseErrorsNeverQuoteTheFile(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"not json":          {`{"accessToken": "ASIASECRET`, "not a JSON object"},
		"array":             {`["ASIASECRET"]`, "not a JSON object"},
		"null":              {`null`, "not a JSON object"},
		"access not object": {`{"accessToken": "ASIASECRET"}`, "accessToken that is not a JSON object"},
		"missing fields":    {`{"accessToken": {"accessKeyId": "ASIASECRET", "secretAccessKey": "s3cr3t"}, "clientId": "c"}`, "lacks accessToken.sessionToken, accessToken.accountId, accessToken.expiresAt, refreshToken, dpopKey"},
		"bad time":          {strings.Replace(cliFile, "2030-01-02T03:04:05Z", "tomorrow", 1), "expiresAt that is not a time"},
	} {
		_, err := Parse([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "s3cr3t")) {
			t.Errorf("%s: the error quotes the file: %v", name, err)
		}
	}
}

// TestFileNameMatchesBotocore: the file name is botocore's
// generate_login_cache_key (Python's hashlib, the oracle) and the
// directory botocore's get_login_token_cache_directory.
func TestFileNameMatchesBotocore(t *testing.T) {
	session := "arn:aws:iam::111111111111:user/alice"
	out, err := exec.Command("python3", "-c", "import sys; from botocore.utils import generate_login_cache_key as k; print(k(sys.argv[1]))", session).Output()
	if err != nil {
		t.Skipf("botocore not importable: %v", err)
	}
	if want := strings.TrimSpace(string(out)) + ".json"; FileName(session) != want {
		t.Errorf("FileName = %s, botocore says %s", FileName(session), want)
	}
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if d, from := plan.LoginCacheDir(getenv, "/home/a"); d != filepath.FromSlash("/home/a/.aws/login/cache") || from != "~/.aws/login/cache" {
		t.Errorf("default CacheDir = %s (%s)", d, from)
	}
	env["AWS_LOGIN_CACHE_DIRECTORY"] = "~/elsewhere"
	if d, from := plan.LoginCacheDir(getenv, "/home/a"); d != filepath.FromSlash("/home/a/elsewhere") || from != "env AWS_LOGIN_CACHE_DIRECTORY" {
		t.Errorf("CacheDir with the env var = %s (%s)", d, from)
	}
}

// FuzzSession: read, write, read gives the same session and every field
// rolehop does not know (its numbers and strings as written; spacing is
// compacted); errors never quote the file.
func FuzzSession(f *testing.F) {
	f.Add(cliFile)
	f.Add(`{"accessToken":{}}`)
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse([]byte(in))
		if err != nil {
			if len(in) > 8 && strings.Contains(err.Error(), in) {
				t.Fatalf("the error quotes the input: %v", err)
			}
			return
		}
		b, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(b)
		if err != nil {
			t.Fatalf("written session does not parse: %v\n%s", err, b)
		}
		if again.Credentials() != s.Credentials() || again.ClientID != s.ClientID || again.RefreshToken != s.RefreshToken || again.DPoPKey != s.DPoPKey {
			t.Fatalf("round trip changed the session")
		}
		var in1, in2 map[string]json.RawMessage
		_ = json.Unmarshal([]byte(in), &in1)
		_ = json.Unmarshal(b, &in2)
		for k, v := range in1 {
			switch k {
			case "accessToken", "clientId", "refreshToken", "dpopKey":
				continue
			}
			var compact bytes.Buffer
			_ = json.Compact(&compact, v) // numbers and strings as written; only spacing changes
			if string(in2[k]) != compact.String() {
				t.Fatalf("field %s changed: %s → %s", k, v, in2[k])
			}
		}
		second, err := again.Marshal()
		if err != nil || string(second) != string(b) {
			t.Fatalf("a second write gives other bytes")
		}
	})
}
