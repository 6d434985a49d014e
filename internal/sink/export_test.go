package sink

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rolehop/rolehop/internal/winetest"
)

// trickyValues are values that break naive quoting somewhere.
var trickyValues = []string{
	"plain",
	"it's",
	"''",
	`'\''`,
	`back\slash`,
	`trailing\`,
	`\'`,
	`\\'\\`,
	"$HOME",
	"${HOME}x",
	"$(echo pwned)",
	"`echo pwned`",
	"with space",
	"  leading and trailing  ",
	"bang!",
	"!!",
	"!$",
	"ünïcødé ✓ 日本語",
	"‘curly’ ‚low‛ “double”",
	`"double"`,
	"semi;colon && pipe | amp & redir > < ",
	"glob * ? [a-z]",
	"#hash",
	"~tilde",
	"%PATH%",
	"-n",
	"--",
	"new\nline",
	"trailing newline\n\n",
	"\n",
	"tab\there",
	"cr\rhere",
	"\x01\x1b[31mctrl\x7f",
	"=equals=",
	"\xff\xfe invalid utf8 \xc3",
}

// requireSh returns the path of sh. The sh tests must not silently vanish:
// a Unix machine without sh fails them; only Windows skips.
func requireSh(tb testing.TB) string {
	tb.Helper()
	if runtime.GOOS == "windows" {
		tb.Skip("POSIX shell tests do not run on Windows")
	}
	path, err := exec.LookPath("sh")
	if err != nil {
		tb.Fatalf("sh is required for the export tests: %v", err)
	}
	return path
}

// posixShells returns sh plus every other POSIX-family shell installed.
func posixShells(tb testing.TB) map[string]string {
	shells := map[string]string{"sh": requireSh(tb)}
	for _, name := range []string{"bash", "dash", "zsh", "ksh", "mksh", "busybox"} {
		if p, err := exec.LookPath(name); err == nil {
			shells[name] = p
		}
	}
	return shells
}

// shellEnv is this process's environment without AWS_* variables, plus extra.
func shellEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, helperEnv+"=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// sourceAndRun writes script to a temp dir, runs shell (plus args before
// -c) with the command line body in that dir, and returns stdout.
func sourceAndRun(tb testing.TB, script []byte, scriptName string, env []string, shell []string, body string) []byte {
	tb.Helper()
	return sourceAndRunIn(tb, winetest.TempDir(tb), script, scriptName, env, shell, body)
}

// sourceAndRunIn is sourceAndRun in an existing directory.
func sourceAndRunIn(tb testing.TB, dir string, script []byte, scriptName string, env []string, shell []string, body string) []byte {
	tb.Helper()
	if err := os.WriteFile(filepath.Join(dir, scriptName), script, 0o600); err != nil {
		tb.Fatal(err)
	}
	args := append(append([]string{}, shell[1:]...), body)
	cmd := exec.Command(shell[0], args...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("%s failed: %v\nstderr: %s\nscript:\n%s", shell[0], err, stderr.Bytes(), script)
	}
	return out
}

// posixCommand returns the argv prefix that runs "-c body" with shell.
func posixCommand(name, path string) []string {
	if name == "busybox" {
		return []string{path, "sh", "-c"}
	}
	return []string{path, "-c"}
}

// evalPOSIX sources an sh export with the given shell and returns the values
// of names as the shell sees them.
func evalPOSIX(tb testing.TB, shell []string, script []byte, names ...string) []string {
	tb.Helper()
	return evalPOSIXIn(tb, winetest.TempDir(tb), shell, script, names...)
}

// evalPOSIXIn is evalPOSIX with the script written in dir.
func evalPOSIXIn(tb testing.TB, dir string, shell []string, script []byte, names ...string) []string {
	tb.Helper()
	var refs []string
	for _, n := range names {
		refs = append(refs, `"$`+n+`"`)
	}
	out := sourceAndRunIn(tb, dir, script, "creds.sh", shellEnv(), shell,
		`. ./creds.sh && printf '%s\000' `+strings.Join(refs, " "))
	parts := strings.Split(string(out), "\x00")
	if len(parts) != len(names)+1 || parts[len(names)] != "" {
		tb.Fatalf("unexpected shell output %q", out)
	}
	return parts[:len(names)]
}

func mustExport(tb testing.TB, creds aws.Credentials, opts ExportOptions) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := WriteExport(&buf, creds, opts); err != nil {
		tb.Fatalf("WriteExport(%s): %v", opts.Format, err)
	}
	return buf.Bytes()
}

func TestExportShEvaluatedByRealShells(t *testing.T) {
	for name, path := range posixShells(t) {
		t.Run(name, func(t *testing.T) {
			shell := posixCommand(name, path)
			for _, v := range trickyValues {
				creds := aws.Credentials{AccessKeyID: "AKIA" + v, SecretAccessKey: v, SessionToken: v + "tok"}
				script := mustExport(t, creds, ExportOptions{Format: "sh", Region: v})
				got := evalPOSIX(t, shell, script, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION")
				want := []string{"AKIA" + v, v, v + "tok", v}
				for i := range want {
					if got[i] != want[i] {
						t.Errorf("value %q: shell saw %q, want %q\nscript:\n%s", v, got[i], want[i], script)
					}
				}
			}
		})
	}
}

// TestExportShEnvironment checks what a sourced export leaves in the
// environment of the next program: the new values exported, the
// overriding ones unset, AWS_PROFILE and base-source variables untouched.
func TestExportShEnvironment(t *testing.T) {
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	stale := []string{
		"AWS_SECURITY_TOKEN=stale", "AWS_SESSION_EXPIRATION=stale", "AWS_ACCESS_KEY=stale",
		"AWS_SECRET_KEY=stale", "AWS_ACCOUNT_ID=stale", "AWS_SESSION_TOKEN=stale",
		"AWS_CREDENTIAL_EXPIRATION=stale", "AWS_ACCESS_KEY_ID=stale", "AWS_REGION=stale-region",
		"AWS_PROFILE=keepme", "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://localhost:1338/x",
		"AWS_WEB_IDENTITY_TOKEN_FILE=/keep",
	}
	keep := map[string]string{
		"AWS_PROFILE":                        "keepme",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://localhost:1338/x",
		"AWS_WEB_IDENTITY_TOKEN_FILE":        "/keep",
	}
	tests := []struct {
		name   string
		creds  aws.Credentials
		region string
		want   map[string]string
	}{
		{"session credentials", fullCreds(), "eu-west-1", map[string]string{
			"AWS_ACCESS_KEY_ID":         "ASIAEXAMPLEKEYID0001",
			"AWS_SECRET_ACCESS_KEY":     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
			"AWS_SESSION_TOKEN":         "FwoGZXIvYXdzEXAMPLETOKEN//+==",
			"AWS_CREDENTIAL_EXPIRATION": "2030-01-02T03:04:05Z",
			"AWS_ACCOUNT_ID":            "123456789012",
			"AWS_REGION":                "eu-west-1",
			"AWS_DEFAULT_REGION":        "eu-west-1",
		}},
		{"static keys", staticCreds(), "", map[string]string{
			"AWS_ACCESS_KEY_ID":     "AKIAEXAMPLEKEYID0002",
			"AWS_SECRET_ACCESS_KEY": "static/secret+key",
			"AWS_REGION":            "stale-region", // no region given: left alone
		}},
	}
	for name, path := range posixShells(t) {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				script := mustExport(t, tt.creds, ExportOptions{Region: tt.region})
				env := shellEnv(append(stale, helperEnv+"=dumpenv", "HELPER_BIN="+bin)...)
				out := sourceAndRun(t, script, "creds.sh", env, posixCommand(name, path), `. ./creds.sh && exec "$HELPER_BIN"`)
				got := map[string]string{}
				for _, kv := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
					k, v, _ := strings.Cut(kv, "=")
					got[k] = v
				}
				want := map[string]string{}
				for k, v := range keep {
					want[k] = v
				}
				for k, v := range tt.want {
					want[k] = v
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("exported environment\n got %v\nwant %v", got, want)
				}
			})
		}
	}
}

// TestExportFishEvaluated runs the fish output through fish when installed
// (always with CI=true; see requireFish).
func TestExportFishEvaluated(t *testing.T) {
	fish := requireFish(t)
	if fish == "" {
		t.Skip("fish is not installed")
	}
	for _, v := range trickyValues {
		if checkUTF8(v) != "" {
			continue
		}
		script := mustExport(t, aws.Credentials{AccessKeyID: "AKIA", SecretAccessKey: v}, ExportOptions{Format: "fish"})
		out := sourceAndRun(t, script, "creds.fish", shellEnv(), []string{fish, "--no-config", "-c"},
			`source ./creds.fish; and printf %s $AWS_SECRET_ACCESS_KEY`)
		if string(out) != v {
			t.Errorf("fish saw %q, want %q\nscript:\n%s", out, v, script)
		}
	}
}

// TestExportPowerShellEvaluated runs the powershell output through pwsh when
// installed.
func TestExportPowerShellEvaluated(t *testing.T) {
	pwsh, err := exec.LookPath("pwsh")
	if err != nil {
		t.Skip("pwsh is not installed")
	}
	for _, v := range trickyValues {
		if checkSingleLine(v) != "" {
			continue
		}
		script := mustExport(t, aws.Credentials{AccessKeyID: "AKIA", SecretAccessKey: v}, ExportOptions{Format: "powershell"})
		out := sourceAndRun(t, script, "creds.ps1", shellEnv(), []string{pwsh, "-NoProfile", "-NonInteractive", "-Command"},
			`. ./creds.ps1; [Console]::Out.Write($Env:AWS_SECRET_ACCESS_KEY)`)
		if string(out) != v {
			t.Errorf("pwsh saw %q, want %q\nscript:\n%s", out, v, script)
		}
	}
}

// quirky has a quote of every kind and a backslash, to pin down escaping.
func quirky() aws.Credentials {
	return aws.Credentials{AccessKeyID: "AKIAQUIRKY", SecretAccessKey: `a'b\c’d$e`}
}

func TestWriteExportGolden(t *testing.T) {
	session := fullCreds()
	const unsetsShSession = "unset AWS_SECURITY_TOKEN AWS_SESSION_EXPIRATION AWS_ACCESS_KEY AWS_SECRET_KEY\n"
	const unsetsShStatic = "unset AWS_SECURITY_TOKEN AWS_SESSION_EXPIRATION AWS_ACCESS_KEY AWS_SECRET_KEY AWS_ACCOUNT_ID AWS_SESSION_TOKEN AWS_CREDENTIAL_EXPIRATION\n"
	tests := []struct {
		name  string
		creds aws.Credentials
		opts  ExportOptions
		want  string
	}{
		{"sh default", session, ExportOptions{Region: "eu-west-1"}, unsetsShSession +
			"export AWS_ACCESS_KEY_ID='ASIAEXAMPLEKEYID0001'\n" +
			"export AWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'\n" +
			"export AWS_SESSION_TOKEN='FwoGZXIvYXdzEXAMPLETOKEN//+=='\n" +
			"export AWS_CREDENTIAL_EXPIRATION='2030-01-02T03:04:05Z'\n" +
			"export AWS_ACCOUNT_ID='123456789012'\n" +
			"export AWS_REGION='eu-west-1'\n" +
			"export AWS_DEFAULT_REGION='eu-west-1'\n"},
		{"sh quoting", quirky(), ExportOptions{Format: "sh"}, unsetsShStatic +
			"export AWS_ACCESS_KEY_ID='AKIAQUIRKY'\n" +
			`export AWS_SECRET_ACCESS_KEY='a'\''b\c’d$e'` + "\n"},
		{"fish", quirky(), ExportOptions{Format: "fish"},
			"set -e AWS_SECURITY_TOKEN; or true\nset -e AWS_SESSION_EXPIRATION; or true\nset -e AWS_ACCESS_KEY; or true\n" +
				"set -e AWS_SECRET_KEY; or true\nset -e AWS_ACCOUNT_ID; or true\nset -e AWS_SESSION_TOKEN; or true\n" +
				"set -e AWS_CREDENTIAL_EXPIRATION; or true\n" +
				"set -gx AWS_ACCESS_KEY_ID 'AKIAQUIRKY'\n" +
				`set -gx AWS_SECRET_ACCESS_KEY 'a\'b\\c’d$e'` + "\n"},
		{"powershell", quirky(), ExportOptions{Format: "powershell", Region: "us-east-1"},
			"Remove-Item Env:AWS_SECURITY_TOKEN -ErrorAction SilentlyContinue\n" +
				"Remove-Item Env:AWS_SESSION_EXPIRATION -ErrorAction SilentlyContinue\n" +
				"Remove-Item Env:AWS_ACCESS_KEY -ErrorAction SilentlyContinue\n" +
				"Remove-Item Env:AWS_SECRET_KEY -ErrorAction SilentlyContinue\n" +
				"Remove-Item Env:AWS_ACCOUNT_ID -ErrorAction SilentlyContinue\n" +
				"Remove-Item Env:AWS_SESSION_TOKEN -ErrorAction SilentlyContinue\n" +
				"Remove-Item Env:AWS_CREDENTIAL_EXPIRATION -ErrorAction SilentlyContinue\n" +
				"$Env:AWS_ACCESS_KEY_ID = 'AKIAQUIRKY'\n" +
				`$Env:AWS_SECRET_ACCESS_KEY = 'a''b\c’’d$e'` + "\n" +
				"$Env:AWS_REGION = 'us-east-1'\n" +
				"$Env:AWS_DEFAULT_REGION = 'us-east-1'\n"},
		{"cmd", session, ExportOptions{Format: "cmd"},
			"set \"AWS_SECURITY_TOKEN=\"\r\nset \"AWS_SESSION_EXPIRATION=\"\r\nset \"AWS_ACCESS_KEY=\"\r\n" +
				"set \"AWS_SECRET_KEY=\"\r\n" +
				"set \"AWS_ACCESS_KEY_ID=ASIAEXAMPLEKEYID0001\"\r\n" +
				"set \"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\"\r\n" +
				"set \"AWS_SESSION_TOKEN=FwoGZXIvYXdzEXAMPLETOKEN//+==\"\r\n" +
				"set \"AWS_CREDENTIAL_EXPIRATION=2030-01-02T03:04:05Z\"\r\n" +
				"set \"AWS_ACCOUNT_ID=123456789012\"\r\n"},
		{"dotenv", quirky(), ExportOptions{Format: "dotenv", Region: "us-east-1"},
			"AWS_ACCESS_KEY_ID=AKIAQUIRKY\n" +
				`AWS_SECRET_ACCESS_KEY=a'b\c’d$e` + "\n" +
				"AWS_REGION=us-east-1\nAWS_DEFAULT_REGION=us-east-1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(mustExport(t, tt.creds, tt.opts)); got != tt.want {
				t.Errorf("WriteExport() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestWriteExportJSONIsProcessJSON(t *testing.T) {
	want, err := ProcessJSON(fullCreds())
	if err != nil {
		t.Fatal(err)
	}
	if got := mustExport(t, fullCreds(), ExportOptions{Format: "json", Region: "eu-west-1"}); !bytes.Equal(got, want) {
		t.Errorf("json export =\n%s\nwant\n%s", got, want)
	}
}

func TestWriteExportRefusals(t *testing.T) {
	const marker = "S3CR3T"
	withSecret := func(v string) aws.Credentials {
		return aws.Credentials{AccessKeyID: "AKIAOK", SecretAccessKey: v}
	}
	tests := []struct {
		format   string
		creds    aws.Credentials
		region   string
		wantName string // the variable the error must name ("" to skip)
	}{
		{"sh", withSecret(marker + "\x00"), "", "AWS_SECRET_ACCESS_KEY"},
		{"fish", withSecret(marker + "\x00"), "", "AWS_SECRET_ACCESS_KEY"},
		{"fish", withSecret(marker + "\xff"), "", "AWS_SECRET_ACCESS_KEY"},
		{"powershell", withSecret(marker + "\n"), "", "AWS_SECRET_ACCESS_KEY"},
		{"powershell", withSecret(marker + "\r"), "", "AWS_SECRET_ACCESS_KEY"},
		{"cmd", withSecret(marker + `"`), "", "AWS_SECRET_ACCESS_KEY"},
		{"cmd", withSecret(marker + "%PATH%"), "", "AWS_SECRET_ACCESS_KEY"},
		{"cmd", withSecret(marker + "!x!"), "", "AWS_SECRET_ACCESS_KEY"},
		{"cmd", withSecret(marker + "^"), "", "AWS_SECRET_ACCESS_KEY"},
		{"cmd", withSecret(marker + "\n"), "", "AWS_SECRET_ACCESS_KEY"},
		{"cmd", withSecret(marker + "\t"), "", "AWS_SECRET_ACCESS_KEY"},
		{"cmd", withSecret(marker + "é"), "", "AWS_SECRET_ACCESS_KEY"},
		{"cmd", aws.Credentials{AccessKeyID: "AKIA", SecretAccessKey: "s", SessionToken: marker + "%"}, "", "AWS_SESSION_TOKEN"},
		{"dotenv", withSecret(marker + "\nAWS_PROFILE=evil"), "", "AWS_SECRET_ACCESS_KEY"},
		{"dotenv", withSecret(marker + "\r"), "", "AWS_SECRET_ACCESS_KEY"},
		{"dotenv", withSecret(marker + "\x00"), "", "AWS_SECRET_ACCESS_KEY"},
		{"dotenv", withSecret(marker + "\xc3"), "", "AWS_SECRET_ACCESS_KEY"},
		{"dotenv", withSecret("ok"), marker + "\n", "AWS_REGION"},
		{"json", withSecret(marker + "\xff"), "", "SecretAccessKey"},
		{"env", withSecret(marker + " x"), "", "AWS_SECRET_ACCESS_KEY"},
		{"env", withSecret(marker + "'"), "", "AWS_SECRET_ACCESS_KEY"},
		{"env", withSecret(marker + "$HOME"), "", "AWS_SECRET_ACCESS_KEY"},
		{"env", withSecret(marker + ":~"), "", "AWS_SECRET_ACCESS_KEY"},
		{"env", withSecret("=" + marker), "", "AWS_SECRET_ACCESS_KEY"},
		{"env-no-export", withSecret(marker + ":=ls"), "", "AWS_SECRET_ACCESS_KEY"},
		{"env-no-export", withSecret(marker + "\n"), "", "AWS_SECRET_ACCESS_KEY"},
		{"env-no-export", aws.Credentials{AccessKeyID: "AKIA", SecretAccessKey: "s", SessionToken: marker + ";"}, "", "AWS_SESSION_TOKEN"},
		{"windows-cmd", withSecret(marker + "&calc"), "", "AWS_SECRET_ACCESS_KEY"},
		{"windows-cmd", withSecret(marker + "%PATH%"), "", "AWS_SECRET_ACCESS_KEY"},
		{"windows-cmd", withSecret(marker + ")"), "", "AWS_SECRET_ACCESS_KEY"},
		{"windows-cmd", withSecret(marker + "\r"), "", "AWS_SECRET_ACCESS_KEY"},
		{"process", withSecret(marker + "\xff"), "", "SecretAccessKey"},
		{"process", aws.Credentials{AccessKeyID: "AKIA"}, "", ""},
		{"sh", aws.Credentials{SecretAccessKey: marker}, "", ""},
		{"json", aws.Credentials{AccessKeyID: "AKIA"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%q", tt.format, tt.creds.SecretAccessKey+tt.creds.SessionToken+tt.region), func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteExport(&buf, tt.creds, ExportOptions{Format: tt.format, Region: tt.region})
			if err == nil {
				t.Fatalf("no error; wrote:\n%s", buf.Bytes())
			}
			if strings.Contains(err.Error(), marker) {
				t.Errorf("error leaks the value: %v", err)
			}
			if tt.wantName != "" && !strings.Contains(err.Error(), tt.wantName) {
				t.Errorf("error %q does not name %s", err, tt.wantName)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote output despite the error:\n%s", buf.Bytes())
			}
		})
	}
}

func TestWriteExportUnknownFormat(t *testing.T) {
	var buf bytes.Buffer
	err := WriteExport(&buf, staticCreds(), ExportOptions{Format: "bash"})
	if err == nil {
		t.Fatal("no error for an unknown format")
	}
	for _, f := range Formats() {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not list %s", err, f)
		}
	}
	if !strings.Contains(err.Error(), `"bash"`) || buf.Len() != 0 {
		t.Errorf("error %q / output %q", err, buf.Bytes())
	}
}

// parseDockerEnvFile mimics `docker run --env-file` (docker/cli
// opts/envfile.go): lines split on \n with one trailing \r dropped, UTF-8
// required, a BOM dropped from line 1, leading whitespace trimmed, blank and
// # lines skipped, the first '=' splits, the value is taken verbatim (no
// quote stripping, no trimming), and a name may not contain whitespace.
func parseDockerEnvFile(data []byte) (map[string]string, error) {
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		raw := sc.Bytes()
		if !utf8.Valid(raw) {
			return nil, fmt.Errorf("line %d: invalid utf8", n)
		}
		if n == 1 {
			raw = bytes.TrimPrefix(raw, []byte{0xEF, 0xBB, 0xBF})
		}
		line := strings.TrimLeftFunc(string(raw), unicode.IsSpace)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimLeft(name, " \t")
		if name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("line %d: bad variable name %q", n, name)
		}
		if !ok {
			return nil, fmt.Errorf("line %d: %s has no value (docker would copy it from the host)", n, name)
		}
		vars[name] = value
	}
	return vars, sc.Err()
}

func TestExportDotenvDockerRules(t *testing.T) {
	var tested int
	for _, v := range append(slices.Clone(trickyValues), ` "quoted" `, `'single'`, "#notacomment", "  lead", "trail  ", "a=b") {
		creds := aws.Credentials{AccessKeyID: "AKIA" + v, SecretAccessKey: v, SessionToken: v, CanExpire: true, Expires: fixedExpiry}
		var buf bytes.Buffer
		err := WriteExport(&buf, creds, ExportOptions{Format: "dotenv", Region: "eu-west-1"})
		if checkSingleLine(v) != "" {
			if err == nil {
				t.Errorf("value %q: dotenv accepted a value docker cannot read back", v)
			}
			continue
		}
		if err != nil {
			t.Errorf("value %q: %v", v, err)
			continue
		}
		tested++
		got, err := parseDockerEnvFile(buf.Bytes())
		if err != nil {
			t.Fatalf("value %q: docker would reject the file: %v\n%s", v, err, buf.Bytes())
		}
		want := map[string]string{}
		for _, kv := range Vars(creds, "eu-west-1") {
			want[kv.Name] = kv.Value
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("value %q: docker reads\n%q\nwant\n%q", v, got, want)
		}
	}
	if tested < 20 {
		t.Errorf("only %d values went through the parser", tested)
	}
}
