package sink

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// fixedExpiry is 2030-01-02T03:04:05.123456789Z seen from UTC+05:30, to
// check the conversion to UTC and the dropped fraction.
var fixedExpiry = time.Date(2030, 1, 2, 8, 34, 5, 123456789, time.FixedZone("IST", 5*3600+1800))

func fullCreds() aws.Credentials {
	return aws.Credentials{
		AccessKeyID:     "ASIAEXAMPLEKEYID0001",
		SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		SessionToken:    "FwoGZXIvYXdzEXAMPLETOKEN//+==",
		CanExpire:       true,
		Expires:         fixedExpiry,
		AccountID:       "123456789012",
	}
}

func staticCreds() aws.Credentials {
	return aws.Credentials{AccessKeyID: "AKIAEXAMPLEKEYID0002", SecretAccessKey: "static/secret+key"}
}

func TestVars(t *testing.T) {
	tokenNoExpiry := fullCreds()
	tokenNoExpiry.CanExpire = false // Expires is set but must be ignored
	tests := []struct {
		name   string
		creds  aws.Credentials
		region string
		want   []Var
	}{
		{
			name: "everything", creds: fullCreds(), region: "eu-west-1",
			want: []Var{
				{"AWS_ACCESS_KEY_ID", "ASIAEXAMPLEKEYID0001"},
				{"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
				{"AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLETOKEN//+=="},
				{"AWS_CREDENTIAL_EXPIRATION", "2030-01-02T03:04:05Z"},
				{"AWS_ACCOUNT_ID", "123456789012"},
				{"AWS_REGION", "eu-west-1"},
				{"AWS_DEFAULT_REGION", "eu-west-1"},
			},
		},
		{
			name: "static keys, no region", creds: staticCreds(),
			want: []Var{
				{"AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID0002"},
				{"AWS_SECRET_ACCESS_KEY", "static/secret+key"},
			},
		},
		{
			name: "token without expiry", creds: tokenNoExpiry, region: "us-east-2",
			want: []Var{
				{"AWS_ACCESS_KEY_ID", "ASIAEXAMPLEKEYID0001"},
				{"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
				{"AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLETOKEN//+=="},
				{"AWS_ACCOUNT_ID", "123456789012"},
				{"AWS_REGION", "us-east-2"},
				{"AWS_DEFAULT_REGION", "us-east-2"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Vars(tt.creds, tt.region)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Vars() =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestOverridingVarsCoversKnownOverrides(t *testing.T) {
	must := []string{
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN", "AWS_SESSION_EXPIRATION",
		"AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_ROLE_SESSION_NAME", "AWS_ACCOUNT_ID",
	}
	got := OverridingVars()
	for _, name := range must {
		if !slices.Contains(got, name) {
			t.Errorf("OverridingVars() lacks %s", name)
		}
	}
	got[0] = "CHANGED"
	if OverridingVars()[0] == "CHANGED" {
		t.Error("OverridingVars() returns shared state")
	}
}

func TestChildEnv(t *testing.T) {
	// Every overriding variable, stale copies of what Vars sets (some
	// duplicated), and bystanders that must survive in order.
	parent := []string{"HOME=/home/u", "AWS_ACCESS_KEY_ID=OLD1"}
	for _, name := range OverridingVars() {
		parent = append(parent, name+"=stale")
	}
	parent = append(parent,
		"PATH=/usr/bin:/bin",
		"AWS_ACCESS_KEY_ID=OLD2",
		"AWS_SECRET_ACCESS_KEY=oldsecret",
		"AWS_SESSION_TOKEN=oldtoken",
		"AWS_SESSION_TOKEN=oldtoken2",
		"AWS_CREDENTIAL_EXPIRATION=2001-01-01T00:00:00Z",
		"AWS_REGION=ap-south-1",
		"AWS_DEFAULT_REGION=ap-south-1",
		"AWS_PROFILE_EXTRA=keep",        // only the exact name is removed
		"MY_AWS_PROFILE=keep",           // ditto
		"aws_profile=keep-on-unix",      // case matters off Windows
		"EMPTY=",                        // empty value kept
		"NOEQUALS",                      // malformed entry passed through
		"AWS_SECURITY_TOKEN",            // malformed but named: removed
		"AWS_CONFIG_FILE=/tmp/config",   // not a credential override
		"AWS_SHARED_CREDENTIALS_FILE=x", // ditto
	)
	bystanders := []string{
		"HOME=/home/u", "PATH=/usr/bin:/bin", "AWS_PROFILE_EXTRA=keep", "MY_AWS_PROFILE=keep",
		"aws_profile=keep-on-unix", "EMPTY=", "NOEQUALS", "AWS_CONFIG_FILE=/tmp/config",
		"AWS_SHARED_CREDENTIALS_FILE=x",
	}
	orig := slices.Clone(parent)

	tests := []struct {
		name   string
		creds  aws.Credentials
		region string
		want   []string
	}{
		{
			name: "token, expiry and region", creds: fullCreds(), region: "eu-west-1",
			want: append(slices.Clone(bystanders),
				"AWS_ACCESS_KEY_ID=ASIAEXAMPLEKEYID0001",
				"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
				"AWS_SESSION_TOKEN=FwoGZXIvYXdzEXAMPLETOKEN//+==",
				"AWS_CREDENTIAL_EXPIRATION=2030-01-02T03:04:05Z",
				"AWS_ACCOUNT_ID=123456789012",
				"AWS_REGION=eu-west-1",
				"AWS_DEFAULT_REGION=eu-west-1",
			),
		},
		{
			// No token, no expiry and no account: the stale ones must go
			// and not come back; without a region the parent's region
			// stays in place.
			name: "static keys keep the parent region", creds: staticCreds(),
			want: func() []string {
				w := slices.Clone(bystanders[:2])
				w = append(w, "AWS_REGION=ap-south-1", "AWS_DEFAULT_REGION=ap-south-1")
				w = append(w, bystanders[2:]...)
				return append(w, "AWS_ACCESS_KEY_ID=AKIAEXAMPLEKEYID0002", "AWS_SECRET_ACCESS_KEY=static/secret+key")
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := childEnv(parent, tt.creds, tt.region, false)
			if !slices.Equal(got, tt.want) {
				t.Errorf("ChildEnv() =\n%q\nwant\n%q", got, tt.want)
			}
			if !slices.Equal(parent, orig) {
				t.Error("ChildEnv modified parent")
			}
			// Each managed name appears at most once.
			seen := map[string]int{}
			for _, kv := range got {
				seen[envName(kv)]++
			}
			for _, name := range append(OverridingVars(), "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "AWS_REGION") {
				if seen[name] > 1 {
					t.Errorf("%s appears %d times", name, seen[name])
				}
			}
			for _, name := range OverridingVars() {
				if name == "AWS_ACCOUNT_ID" && tt.creds.AccountID != "" {
					continue // removed from the parent, then set from creds
				}
				if seen[name] != 0 {
					t.Errorf("overriding variable %s survived", name)
				}
			}
		})
	}
}

func TestChildEnvWindowsCaseFolding(t *testing.T) {
	parent := []string{
		"=C:=C:\\work", "Path=C:\\Windows", "aws_profile=dev", "Aws_Access_Key_Id=OLD",
		"aws_session_token=old", "aws_region=x",
	}
	got := childEnv(parent, staticCreds(), "", true)
	want := []string{
		"=C:=C:\\work", "Path=C:\\Windows", "aws_region=x",
		"AWS_ACCESS_KEY_ID=AKIAEXAMPLEKEYID0002", "AWS_SECRET_ACCESS_KEY=static/secret+key",
	}
	if !slices.Equal(got, want) {
		t.Errorf("childEnv(fold) =\n%q\nwant\n%q", got, want)
	}
	// Without folding (Unix) the lower-case names are other variables.
	got = childEnv(parent, staticCreds(), "", false)
	if !slices.Contains(got, "aws_profile=dev") || !slices.Contains(got, "Aws_Access_Key_Id=OLD") {
		t.Errorf("childEnv(no fold) removed differently-cased names: %q", got)
	}
	if got := ChildEnv(nil, staticCreds(), ""); len(got) != 2 {
		t.Errorf("ChildEnv(nil) = %q", got)
	}
}

func TestEnvNameAndLookup(t *testing.T) {
	for _, tt := range []struct{ kv, name string }{
		{"A=b=c", "A"}, {"=C:=C:\\x", "=C:"}, {"X", "X"}, {"", ""}, {"=", "="}, {"Y=", "Y"},
	} {
		if got := envName(tt.kv); got != tt.name {
			t.Errorf("envName(%q) = %q, want %q", tt.kv, got, tt.name)
		}
	}
	env := []string{"PATH=/a", "Path=/win", "PATH=/b", "NOVAL"}
	if v, ok := envLookup(env, "PATH", false); !ok || v != "/b" {
		t.Errorf("envLookup PATH = %q, %v; want the last one", v, ok)
	}
	if v, ok := envLookup([]string{"PATH=/a", "Path=/win"}, "PATH", true); !ok || v != "/win" {
		t.Errorf("envLookup folded = %q, %v", v, ok)
	}
	if v, ok := envLookup(env, "NOVAL", false); !ok || v != "" {
		t.Errorf("envLookup NOVAL = %q, %v", v, ok)
	}
	if _, ok := envLookup(env, "HOME", false); ok {
		t.Error("envLookup found a missing name")
	}
}

func TestFormatsOrder(t *testing.T) {
	want := "sh fish powershell cmd dotenv json github env env-no-export windows-cmd process"
	if got := strings.Join(Formats(), " "); got != want {
		t.Errorf("Formats() = %q, want %q", got, want)
	}
}
