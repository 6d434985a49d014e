package sink

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"

	"github.com/rolehop/rolehop/internal/winetest"
)

func TestProcessJSONExactBytes(t *testing.T) {
	tests := []struct {
		name  string
		creds aws.Credentials
		want  string
	}{
		{"everything", fullCreds(), `{
  "Version": 1,
  "AccessKeyId": "ASIAEXAMPLEKEYID0001",
  "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  "SessionToken": "FwoGZXIvYXdzEXAMPLETOKEN//+==",
  "Expiration": "2030-01-02T03:04:05Z",
  "AccountId": "123456789012"
}
`},
		{"static keys", staticCreds(), `{
  "Version": 1,
  "AccessKeyId": "AKIAEXAMPLEKEYID0002",
  "SecretAccessKey": "static/secret+key"
}
`},
		{"escaping", aws.Credentials{AccessKeyID: "AKIA", SecretAccessKey: "a\"b\\c<&>\n", AccountID: "1"}, `{
  "Version": 1,
  "AccessKeyId": "AKIA",
  "SecretAccessKey": "a\"b\\c<&>\n",
  "AccountId": "1"
}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ProcessJSON(tt.creds)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("ProcessJSON() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestProcessJSONVersionIsANumber(t *testing.T) {
	b, err := ProcessJSON(fullCreds())
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if string(raw["Version"]) != "1" {
		t.Errorf("Version = %s, want the number 1", raw["Version"])
	}
}

func TestProcessJSONDecodesWithSDK(t *testing.T) {
	for _, c := range []aws.Credentials{fullCreds(), staticCreds()} {
		b, err := ProcessJSON(c)
		if err != nil {
			t.Fatal(err)
		}
		var resp processcreds.CredentialProcessResponse
		if err := json.Unmarshal(b, &resp); err != nil {
			t.Fatalf("SDK cannot decode: %v", err)
		}
		if resp.Version != 1 || resp.AccessKeyID != c.AccessKeyID || resp.SecretAccessKey != c.SecretAccessKey ||
			resp.SessionToken != c.SessionToken || resp.AccountID != c.AccountID {
			t.Errorf("decoded %+v from %s", resp, b)
		}
		switch {
		case c.CanExpire && (resp.Expiration == nil || !resp.Expiration.Equal(c.Expires.Truncate(time.Second))):
			t.Errorf("Expiration = %v, want %v", resp.Expiration, c.Expires.Truncate(time.Second))
		case !c.CanExpire && resp.Expiration != nil:
			t.Errorf("Expiration = %v for credentials that do not expire", resp.Expiration)
		}
	}
}

// TestProcessJSONThroughSDKProvider runs the document through the SDK's own
// credential_process provider, which also checks Version and required keys.
func TestProcessJSONThroughSDKProvider(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses sh -c cat")
	}
	c := fullCreds()
	b, err := ProcessJSON(c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(winetest.TempDir(t), "creds.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := processcreds.NewProvider("cat '" + strings.ReplaceAll(path, "'", `'\''`) + "'").Retrieve(context.Background())
	if err != nil {
		t.Fatalf("SDK provider rejected the document: %v", err)
	}
	if got.AccessKeyID != c.AccessKeyID || got.SecretAccessKey != c.SecretAccessKey || got.SessionToken != c.SessionToken ||
		got.AccountID != c.AccountID || !got.CanExpire || !got.Expires.Equal(c.Expires.Truncate(time.Second)) {
		t.Errorf("provider returned %+v", got)
	}
}

func TestProcessJSONErrors(t *testing.T) {
	for _, c := range []aws.Credentials{
		{SecretAccessKey: "S3CR3T"},
		{AccessKeyID: "AKIA"},
		{AccessKeyID: "AKIA", SecretAccessKey: "S3CR3T\xff"},
		{AccessKeyID: "AKIA", SecretAccessKey: "x", SessionToken: "S3CR3T\xc3"},
	} {
		b, err := ProcessJSON(c)
		if err == nil {
			t.Errorf("ProcessJSON(%q) = %s, want an error", c.SecretAccessKey, b)
			continue
		}
		if strings.Contains(err.Error(), "S3CR3T") {
			t.Errorf("error leaks the value: %v", err)
		}
	}
}
