package awsconfig

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rolehop/rolehop/internal/winetest"
)

// requireAWSCLI returns the path of the aws command; the test is skipped
// without it, or fails when CI=true.
func requireAWSCLI(t *testing.T) string {
	t.Helper()
	winetest.Skip(t, "the AWS CLI here is a Linux program the Windows test cannot start; the Linux run checks with it")
	path, err := exec.LookPath("aws")
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("the AWS CLI is not available: %v", err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// awsConfigureGet runs `aws configure get KEY --profile PROFILE` against
// the credentials file alone (empty config file, temp HOME, no AWS_*
// variables from the test's environment).
func awsConfigureGet(t *testing.T, aws, credentials, profile, key string) (string, error) {
	t.Helper()
	home := winetest.TempDir(t)
	config := filepath.Join(home, "config")
	if err := os.WriteFile(config, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "USERPROFILE=") {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+home, "USERPROFILE="+home, "AWS_CONFIG_FILE="+config,
		"AWS_SHARED_CREDENTIALS_FILE="+credentials, "PYTHONUTF8=1", "PYTHONIOENCODING=utf-8")
	cmd := exec.Command(aws, "configure", "get", key, "--profile", profile)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("aws configure get %s --profile %s: %v: %s", key, profile, err, stderr.String())
	}
	return strings.TrimRight(string(out), "\r\n"), nil
}

// TestWriteCredentialsSectionAWSCLI: the AWS CLI reads what
// WriteCredentialsSection wrote, in a new section and in a replaced one,
// and still reads the sections around it.
func TestWriteCredentialsSectionAWSCLI(t *testing.T) {
	aws := requireAWSCLI(t)
	kv := []KeyValue{
		{"aws_access_key_id", "ASIAROLEHOPTEST"},
		{"aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		{"aws_session_token", "FwoGZXIvYXdzEJr//////////wEaDH+token/with=padding=="},
	}
	tests := []struct {
		fixture, profile string
		// another profile of the fixture and its aws_access_key_id
		other, otherKey string
	}{
		{"plain", "middle", "last", "AKIA3"},
		{"comments and odd spacing", "rolehop-new", "first", "AKIA1"},
		{"comments and odd spacing", "middle", "first", "AKIA1"},
		{"CRLF", "first", "", ""},
		{"CRLF without final line break", "rolehop-new", "", ""},
		{"indented headers", "first", "", ""},
		{"profile-looking sections", "last", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.fixture+"/"+tc.profile, func(t *testing.T) {
			t.Parallel()
			var data string
			for _, fx := range writeFixtures {
				if fx.name == tc.fixture {
					data = fx.data
				}
			}
			path := filepath.Join(winetest.TempDir(t), "credentials")
			writeString(t, path, data, 0o600)
			if err := WriteCredentialsSection(path, tc.profile, kv, WriteOptions{Force: true}); err != nil {
				t.Fatal(err)
			}
			for _, p := range kv {
				if p.Key == "aws_secret_access_key" {
					continue // two keys are enough to show it; each run takes half a second
				}
				got, err := awsConfigureGet(t, aws, path, tc.profile, p.Key)
				if err != nil {
					t.Fatal(err)
				}
				if got != p.Value {
					t.Errorf("aws configure get %s = %q, want %q", p.Key, got, p.Value)
				}
			}
			if tc.other != "" {
				got, err := awsConfigureGet(t, aws, path, tc.other, "aws_access_key_id")
				if err != nil || got != tc.otherKey {
					t.Errorf("profile %s: aws_access_key_id = %q, %v; want %q", tc.other, got, err, tc.otherKey)
				}
			}
		})
	}
}

// TestWriteBotocore: botocore reads every file ReplaceSection produced from
// the fixtures exactly as Load does (all profiles, all keys).
func TestWriteBotocore(t *testing.T) {
	requireBotocore(t)
	var pairs []filePair
	var labels, targets []string
	for _, fx := range writeFixtures {
		if strings.HasPrefix(fx.data, "\ufeff") {
			continue // botocore refuses a byte order mark (a deliberate difference)
		}
		for _, name := range []string{"first", "middle", "last", "new"} {
			out, err := ReplaceSection([]byte(fx.data), name, writeKV)
			if err != nil {
				t.Fatalf("%s/%s: %v", fx.name, name, err)
			}
			pairs = append(pairs, filePair{config: "-", credentials: string(out)})
			labels = append(labels, fx.name+"/"+name)
			targets = append(targets, name)
		}
	}
	results, paths := runBotocore(t, winetest.TempDir(t), pairs)
	for i, r := range results {
		if r.Error != "" {
			t.Errorf("%s: botocore: %s: %s", labels[i], r.Error, r.Message)
			continue
		}
		for _, p := range writeKV {
			if got := r.Profiles[targets[i]][p.Key]; got != p.Value {
				t.Errorf("%s: botocore reads %s = %v, want %q", labels[i], p.Key, got, p.Value)
			}
		}
		for _, diff := range compareWithBotocore(paths[i][0], paths[i][1], r) {
			t.Errorf("%s: %s", labels[i], diff)
		}
	}
}
