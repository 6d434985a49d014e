package rolehop

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// stsStub answers AssumeRole in the STS XML wire format and records the
// form of each call; the end-to-end tests use moto instead.
type stsStub struct {
	mu    sync.Mutex
	calls []url.Values
}

func (s *stsStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.mu.Lock()
	s.calls = append(s.calls, r.PostForm)
	n := len(s.calls)
	s.mu.Unlock()
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIASTUB%012d</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>%s</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::222222222222:assumed-role/r/x</Arn><AssumedRoleId>AROA:x</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`, n, exp)
}

func testEnv(t *testing.T, stub *stsStub, extra map[string]string) func(string) string {
	srv := httptest.NewServer(stub)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	env := map[string]string{"HOME": dir, "AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_ENDPOINT_URL_STS": srv.URL, "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s"}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

const roleA, roleB = "arn:aws:iam::111111111111:role/a", "arn:aws:iam::222222222222:role/b"

func TestOptionsReachSTS(t *testing.T) {
	tests := []struct {
		name  string
		roles []string
		opts  []Option
		want  map[string]string // on the last call
		calls int
	}{
		{"defaults", []string{roleB}, nil, map[string]string{"RoleArn": roleB, "DurationSeconds": "3600"}, 1},
		{"session name and duration", []string{roleB}, []Option{WithSessionName("bot"), WithDuration(30 * time.Minute)},
			map[string]string{"RoleSessionName": "bot", "DurationSeconds": "1800"}, 1},
		{"external id, policy, source identity", []string{roleB}, []Option{WithExternalID("ext-1"), WithPolicy(`{"Version": "2012-10-17"}`), WithSourceIdentity("me")},
			map[string]string{"ExternalId": "ext-1", "Policy": `{"Version":"2012-10-17"}`, "SourceIdentity": "me"}, 1},
		{"tags in key order, transitive, policy arns", []string{roleB}, []Option{WithTags(map[string]string{"team": "core", "env": "dev"}), WithTransitiveTagKeys("team"), WithPolicyARNs("arn:aws:iam::aws:policy/ReadOnlyAccess")},
			map[string]string{"Tags.member.1.Key": "env", "Tags.member.2.Key": "team", "TransitiveTagKeys.member.1": "team", "PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}, 1},
		{"a chain: options on the last hop, name carried", []string{roleA, roleB}, []Option{WithSessionName("bot"), WithExternalID("x2")},
			map[string]string{"RoleArn": roleB, "ExternalId": "x2", "RoleSessionName": "bot"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stub := &stsStub{}
			cfg, err := Config(context.Background(), tc.roles, append(tc.opts, withGetenv(testEnv(t, stub, nil)))...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cfg.Credentials.Retrieve(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(stub.calls) != tc.calls {
				t.Fatalf("%d STS calls, want %d", len(stub.calls), tc.calls)
			}
			last := stub.calls[len(stub.calls)-1]
			for k, v := range tc.want {
				if last.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, last.Get(k), v)
				}
			}
		})
	}
}

func TestCredentialsAreReused(t *testing.T) {
	stub := &stsStub{}
	cfg, err := AssumeRole(context.Background(), roleB, WithRegion("eu-west-1"), withGetenv(testEnv(t, stub, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("region %q", cfg.Region)
	}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := cfg.Credentials.Retrieve(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(stub.calls) != 1 {
		t.Errorf("%d STS calls for 50 concurrent retrievals of fresh credentials, want 1", len(stub.calls))
	}
}

func TestBaseConfig(t *testing.T) {
	stub := &stsStub{}
	base := aws.Config{Region: "ap-northeast-1", Credentials: credentials.NewStaticCredentialsProvider("AKIABASE", "s", "")}
	getenv := testEnv(t, stub, map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
	cfg, err := AssumeRole(context.Background(), roleB, WithBaseConfig(base), withGetenv(getenv))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Credentials.Retrieve(context.Background()); err != nil || cfg.Region != "ap-northeast-1" || len(stub.calls) != 1 {
		t.Fatalf("err %v, region %q, calls %d", err, cfg.Region, len(stub.calls))
	}
	// AWS_PROFILE does not redirect the caller's own credentials.
	withProfile := testEnv(t, stub, map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_PROFILE": "elsewhere"})
	if _, err := AssumeRole(context.Background(), roleB, WithBaseConfig(base), withGetenv(withProfile)); err != nil {
		t.Errorf("AWS_PROFILE with WithBaseConfig: %v", err)
	}
	if _, err := Profile(context.Background(), "p", WithBaseConfig(base), withGetenv(getenv)); err == nil {
		t.Error("Profile + WithBaseConfig accepted")
	}
	if _, err := AssumeRole(context.Background(), roleB, WithBaseConfig(base), WithCacheDir(t.TempDir()), withGetenv(getenv)); err == nil {
		t.Error("WithCacheDir + WithBaseConfig accepted")
	}
}

func TestErrors(t *testing.T) {
	withKeys := testEnv(t, &stsStub{}, nil)
	noKeys := testEnv(t, &stsStub{}, map[string]string{"AWS_ACCESS_KEY_ID": ""})
	for _, tc := range []struct {
		roles []string
		opts  []Option
		want  string
	}{
		{nil, nil, "no role to assume"},
		{[]string{"arn:aws:iam::1:role/x"}, nil, "invalid role ARN"},
		{[]string{roleB}, []Option{WithDuration(time.Minute)}, "900 to 43200"},
		{[]string{roleB}, []Option{WithTags(map[string]string{"a,b": "c"})}, "session tag"},
		{[]string{roleB}, []Option{withGetenv(noKeys)}, "no AWS credentials found"},
	} {
		_, err := Config(context.Background(), tc.roles, append([]Option{withGetenv(withKeys)}, tc.opts...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "rolehop: ") {
			t.Errorf("%v %d opts: err = %v, want %q", tc.roles, len(tc.opts), err, tc.want)
		}
	}
}

func TestProfile(t *testing.T) {
	stub := &stsStub{}
	getenv := testEnv(t, stub, map[string]string{"AWS_ACCESS_KEY_ID": ""})
	if err := os.WriteFile(getenv("AWS_CONFIG_FILE"), []byte("[profile p]\nrole_arn = "+roleB+"\nsource_profile = k\n[profile k]\naws_access_key_id = AKIAK\naws_secret_access_key = s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Profile(context.Background(), "p", WithSessionName("from-lib"), withGetenv(getenv))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Credentials.Retrieve(context.Background()); err != nil || len(stub.calls) != 1 || stub.calls[0].Get("RoleSessionName") != "from-lib" {
		t.Fatalf("err %v, calls %v", err, stub.calls)
	}
}
