package sink

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// wholeSecondCreds are session credentials whose expiry has no fraction.
func wholeSecondCreds() aws.Credentials {
	c := fullCreds()
	c.Expires = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	return c
}

// TestWriteExportCLIFormatsGolden pins the bytes of every AWS CLI format
// name. The expected text was checked against the formatter classes of
// aws/aws-cli v2 (awscli/customizations/configure/exportcreds.py at
// 2.36.7), run on the same credentials: the keys, the token and the expiry
// as Python's isoformat() ("+00:00", microseconds when not zero), one
// unquoted line each, LF; no account id, no region, no unsets.
func TestWriteExportCLIFormatsGolden(t *testing.T) {
	const (
		key     = "ASIAEXAMPLEKEYID0001"
		secret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
		token   = "FwoGZXIvYXdzEXAMPLETOKEN//+=="
		expFrac = "2030-01-02T03:04:05.123456+00:00" // fixedExpiry, nanoseconds dropped
		expSec  = "2030-01-02T03:04:05+00:00"
	)
	tests := []struct {
		name, format, goos string
		creds              aws.Credentials
		want               string
	}{
		{"env session", "env", "linux", fullCreds(),
			"export AWS_ACCESS_KEY_ID=" + key + "\nexport AWS_SECRET_ACCESS_KEY=" + secret + "\n" +
				"export AWS_SESSION_TOKEN=" + token + "\nexport AWS_CREDENTIAL_EXPIRATION=" + expFrac + "\n"},
		{"env static", "env", "linux", staticCreds(),
			"export AWS_ACCESS_KEY_ID=AKIAEXAMPLEKEYID0002\nexport AWS_SECRET_ACCESS_KEY=static/secret+key\n"},
		{"env whole seconds", "env", "linux", wholeSecondCreds(),
			"export AWS_ACCESS_KEY_ID=" + key + "\nexport AWS_SECRET_ACCESS_KEY=" + secret + "\n" +
				"export AWS_SESSION_TOKEN=" + token + "\nexport AWS_CREDENTIAL_EXPIRATION=" + expSec + "\n"},
		// The newest CLI source writes LF for the POSIX formats on Windows
		// too (aws/aws-cli#8187); rolehop does that on every platform.
		{"env on windows", "env", "windows", staticCreds(),
			"export AWS_ACCESS_KEY_ID=AKIAEXAMPLEKEYID0002\nexport AWS_SECRET_ACCESS_KEY=static/secret+key\n"},
		{"env-no-export session", "env-no-export", "linux", wholeSecondCreds(),
			"AWS_ACCESS_KEY_ID=" + key + "\nAWS_SECRET_ACCESS_KEY=" + secret + "\n" +
				"AWS_SESSION_TOKEN=" + token + "\nAWS_CREDENTIAL_EXPIRATION=" + expSec + "\n"},
		{"env-no-export static", "env-no-export", "darwin", staticCreds(),
			"AWS_ACCESS_KEY_ID=AKIAEXAMPLEKEYID0002\nAWS_SECRET_ACCESS_KEY=static/secret+key\n"},
		{"windows-cmd session", "windows-cmd", "linux", wholeSecondCreds(),
			"set AWS_ACCESS_KEY_ID=" + key + "\nset AWS_SECRET_ACCESS_KEY=" + secret + "\n" +
				"set AWS_SESSION_TOKEN=" + token + "\nset AWS_CREDENTIAL_EXPIRATION=" + expSec + "\n"},
		// Python's text-mode stdout on Windows writes CRLF.
		{"windows-cmd on windows", "windows-cmd", "windows", staticCreds(),
			"set AWS_ACCESS_KEY_ID=AKIAEXAMPLEKEYID0002\r\nset AWS_SECRET_ACCESS_KEY=static/secret+key\r\n"},
		{"process session", "process", "linux", fullCreds(), `{
  "Version": 1,
  "AccessKeyId": "` + key + `",
  "SecretAccessKey": "` + secret + `",
  "SessionToken": "` + token + `",
  "Expiration": "` + expFrac + `"
}
`},
		{"process static", "process", "linux", staticCreds(), `{
  "Version": 1,
  "AccessKeyId": "AKIAEXAMPLEKEYID0002",
  "SecretAccessKey": "static/secret+key"
}
`},
		{"process on windows", "process", "windows", staticCreds(),
			"{\r\n  \"Version\": 1,\r\n  \"AccessKeyId\": \"AKIAEXAMPLEKEYID0002\",\r\n  \"SecretAccessKey\": \"static/secret+key\"\r\n}\r\n"},
		{"process escaping", "process", "linux",
			aws.Credentials{AccessKeyID: "AKIA", SecretAccessKey: "a\"b\\c\n\x7f\x01\b\f\u00e9\U0001F600/<>&\u2028"}, `{
  "Version": 1,
  "AccessKeyId": "AKIA",
  "SecretAccessKey": "a\"b\\c\n\u007f\u0001\b\f\u00e9\ud83d\ude00/<>&\u2028"
}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := writeCLIFormat(&buf, tt.format, tt.creds, tt.goos); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("%s on %s =\n%q\nwant\n%q", tt.format, tt.goos, got, tt.want)
			}
			if tt.goos == runtime.GOOS || (tt.goos != "windows" && runtime.GOOS != "windows") {
				// WriteExport gives the same bytes on this platform, and
				// ignores the region.
				got := mustExport(t, tt.creds, ExportOptions{Format: tt.format, Region: "eu-west-1"})
				if string(got) != tt.want {
					t.Errorf("WriteExport(%s) =\n%q\nwant\n%q", tt.format, got, tt.want)
				}
			}
		})
	}
}

// TestCLISharedNamesAreRolehopFormats: fish and powershell are also AWS CLI
// format names; rolehop's formats keep them (quoted values, unsets, region
// and account id), not the CLI's `set -gx NAME "value"` and
// `$Env:NAME="value"` lines.
func TestCLISharedNamesAreRolehopFormats(t *testing.T) {
	for format, want := range map[string]string{
		"fish":       "set -gx AWS_ACCESS_KEY_ID 'ASIAEXAMPLEKEYID0001'\n",
		"powershell": "$Env:AWS_ACCESS_KEY_ID = 'ASIAEXAMPLEKEYID0001'\n",
	} {
		out := string(mustExport(t, fullCreds(), ExportOptions{Format: format}))
		if !strings.Contains(out, want) || !strings.Contains(out, "AWS_ACCOUNT_ID") {
			t.Errorf("--format %s is not rolehop's format:\n%s", format, out)
		}
		if _, ok := cliFormatFor(format); ok {
			t.Errorf("%s is listed as a CLI-only format", format)
		}
	}
}

// TestCLIFormatsAreAccepted: every name of CLIFormats is in Formats and
// reaches writeCLIFormat.
func TestCLIFormatsAreAccepted(t *testing.T) {
	for _, f := range CLIFormats() {
		if _, ok := cliFormatFor(f); !ok {
			t.Errorf("%s has no format", f)
		}
		found := false
		for _, g := range Formats() {
			found = found || g == f
		}
		if !found {
			t.Errorf("Formats() lacks %s", f)
		}
	}
}

// TestProcessFormatMatchesPythonJSON compares the process format with
// Python's json.dumps(doc, indent=2, separators=(',', ': ')) — what the AWS
// CLI writes — for every tricky value that is valid UTF-8. python3 is
// required with CI=true (moto_server needs it anyway).
func TestProcessFormatMatchesPythonJSON(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" && runtime.GOOS != "windows" {
			t.Fatalf("python3 is required with CI=true: %v", err)
		}
		t.Skip("python3 is not installed")
	}
	var docs [][]any
	var outputs [][]byte
	for i, v := range slices.Concat(trickyValues, []string{"\U0001F600\u007f\u0000", "\u2028\u2029"}) {
		if checkUTF8(strings.ReplaceAll(v, "\x00", "")) != "" {
			continue
		}
		c := aws.Credentials{AccessKeyID: "AKIA" + v, SecretAccessKey: v}
		var token, expiry any
		if i%2 == 0 {
			c.SessionToken, c.CanExpire, c.Expires = v+"tok", true, fixedExpiry.Add(time.Duration(i)*time.Second)
			token, expiry = c.SessionToken, pyISOFormat(c.Expires)
		}
		docs = append(docs, []any{c.AccessKeyID, c.SecretAccessKey, token, expiry})
		var buf bytes.Buffer
		if err := writeCLIFormat(&buf, "process", c, "linux"); err != nil {
			t.Fatalf("value %q: %v", v, err)
		}
		outputs = append(outputs, buf.Bytes())
	}
	in, err := json.Marshal(docs)
	if err != nil {
		t.Fatal(err)
	}
	// Builds each document in the CLI's key order and prints it as the CLI
	// does, NUL-separated.
	const script = `import json, sys
for key, secret, token, expiry in json.load(sys.stdin):
    doc = {"Version": 1, "AccessKeyId": key, "SecretAccessKey": secret}
    if token is not None:
        doc["SessionToken"] = token
    if expiry is not None:
        doc["Expiration"] = expiry
    sys.stdout.write(json.dumps(doc, indent=2, separators=(",", ": ")) + "\n\0")
`
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	want := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(want) != len(outputs) {
		t.Fatalf("python printed %d documents, want %d", len(want), len(outputs))
	}
	for i := range want {
		if string(outputs[i]) != want[i] {
			t.Errorf("document %d:\n got %q\nwant %q", i, outputs[i], want[i])
		}
	}
}

// TestExportCLIEnvEvaluatedByRealShells sources env and env-no-export in
// every POSIX shell installed: each shell sees the credentials exactly, and
// a value the unquoted format cannot carry is refused instead.
func TestExportCLIEnvEvaluatedByRealShells(t *testing.T) {
	values := append([]string{"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "IQoJb3JpZ2luX2VjEOr//////////wEaCXVzLWVhc3QtMSJHMEU+a=b,c@d%e:f-g_h.i"}, trickyValues...)
	for name, path := range posixShells(t) {
		shell := posixCommand(name, path)
		for _, format := range []string{"env", "env-no-export"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				carried := 0
				for _, v := range values {
					creds := aws.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: v, SessionToken: "tok" + v,
						CanExpire: true, Expires: fixedExpiry, AccountID: "123456789012"}
					var buf bytes.Buffer
					err := WriteExport(&buf, creds, ExportOptions{Format: format, Region: "eu-west-1"})
					if checkUnquotedSh(v) != "" {
						if err == nil {
							t.Errorf("value %q: %s accepted a value it cannot carry unquoted", v, format)
						}
						continue
					}
					if err != nil {
						t.Fatalf("value %q: %v", v, err)
					}
					carried++
					got := evalPOSIX(t, shell, buf.Bytes(), "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION")
					want := []string{"ASIAEXAMPLE", v, "tok" + v, "2030-01-02T03:04:05.123456+00:00"}
					for i := range want {
						if got[i] != want[i] {
							t.Errorf("value %q: %s saw %q, want %q\nscript:\n%s", v, name, got[i], want[i], buf.Bytes())
						}
					}
				}
				if carried < 4 {
					t.Errorf("only %d values were carried", carried)
				}
			})
		}
	}
}
