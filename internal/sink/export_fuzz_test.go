package sink

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rolehop/rolehop/internal/winetest"
)

// staleEnv is the environment the evaluating shells start with: a stale
// value for every variable an export sets or unsets, and AWS_PROFILE, which
// an export must leave alone.
var staleEnv = map[string]string{
	"AWS_ACCESS_KEY_ID": "stale", "AWS_SECRET_ACCESS_KEY": "stale", "AWS_SESSION_TOKEN": "stale",
	"AWS_CREDENTIAL_EXPIRATION": "stale", "AWS_REGION": "stale-region", "AWS_DEFAULT_REGION": "stale-region",
	"AWS_SECURITY_TOKEN": "stale", "AWS_SESSION_EXPIRATION": "stale", "AWS_ACCESS_KEY": "stale",
	"AWS_SECRET_KEY": "stale", "AWS_ACCOUNT_ID": "stale", "AWS_PROFILE": "keep-me",
}

// shownVars are the variables whose values the shells print after sourcing.
var shownVars = []string{envAccessKeyID, envSecretAccessKey, envSessionToken, envCredentialExpiry, envAccountID, envRegion, envDefaultRegion}

// isCLIFormat reports whether format is one of the AWS CLI's names that
// print the CLI's bytes (written here independently of awscli.go).
func isCLIFormat(format string) bool {
	return slices.Contains([]string{"env", "env-no-export", "windows-cmd", "process"}, format)
}

// expectedEnv is the AWS_* environment a program started after sourcing
// an export of creds in format must see: the stale environment, minus what
// the export unsets, plus what it sets. The AWS CLI's formats unset nothing
// and set only the keys, the token and the expiry.
func expectedEnv(format string, creds aws.Credentials, region string) map[string]string {
	want := maps.Clone(staleEnv)
	if isCLIFormat(format) {
		for _, v := range cliVars(creds) {
			want[v.Name] = v.Value
		}
		return want
	}
	for _, n := range exportUnsets(creds) {
		delete(want, n)
	}
	for _, v := range Vars(creds, region) {
		want[v.Name] = v.Value
	}
	return want
}

// refusal is what a format documents it cannot carry, written here
// independently of export.go: sh (and every POSIX shell) carries any byte
// but NUL; fish needs valid UTF-8; github also no CR; powershell and dotenv
// also need one line; cmd needs printable ASCII without " % ! ^. The AWS
// CLI's unquoted formats: env and env-no-export carry only [A-Za-z0-9] and
// _-./+=:,@% with no "=" first or after ":"; windows-cmd printable ASCII
// without " % ! ^ & | < > ( ).
func refusal(format, v string) string {
	nul := strings.IndexByte(v, 0) >= 0
	switch {
	case format == "env" || format == "env-no-export":
		for i := 0; i < len(v); i++ {
			c := v[i]
			safe := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_-./+=:,@%", c) >= 0
			if !safe || c == '=' && (i == 0 || v[i-1] == ':') {
				return "a character the AWS CLI's unquoted env format cannot carry (only letters, digits and _-./+=:,@% are safe, and = not first or after :); use the sh format"
			}
		}
		return ""
	case format == "windows-cmd":
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] > 0x7e || strings.IndexByte(`"%!^&|<>()`, v[i]) >= 0 {
				return `a character cmd.exe cannot carry in an unquoted set (", %, !, ^, &, |, <, >, (, ), a control or non-ASCII character); use the powershell format`
			}
		}
		return ""
	case format == "cmd":
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] > 0x7e || strings.IndexByte(`"%!^`, v[i]) >= 0 {
				return `a character cmd.exe cannot carry literally (", %, !, ^, a control or non-ASCII character); use the powershell format`
			}
		}
		return ""
	case nul:
		return "a NUL byte"
	case format == "sh":
		return ""
	case !utf8.ValidString(v):
		return "invalid UTF-8"
	case format == "fish":
		return ""
	case format == "github":
		if strings.IndexByte(v, '\r') >= 0 {
			return "a carriage return"
		}
		return ""
	case strings.ContainsAny(v, "\r\n"):
		return "a line break"
	}
	return ""
}

// expectedError is the error WriteExport must return for creds in format,
// or "" when it must succeed. The message is pinned exactly, which also
// proves that it holds no value.
func expectedError(format string, creds aws.Credentials, region string) string {
	switch {
	case creds.AccessKeyID == "":
		return "cannot export credentials: the access key id is empty"
	case creds.SecretAccessKey == "":
		return "cannot export credentials: the secret access key is empty"
	}
	if format == "json" || format == "process" {
		// JSON carries any valid UTF-8; it has no region, and the CLI's
		// document no account id.
		fields := []struct{ name, value string }{{"AccessKeyId", creds.AccessKeyID},
			{"SecretAccessKey", creds.SecretAccessKey}, {"SessionToken", creds.SessionToken}}
		if format == "json" {
			fields = append(fields, struct{ name, value string }{"AccountId", creds.AccountID})
		}
		for _, v := range fields {
			if !utf8.ValidString(v.value) {
				return fmt.Sprintf("cannot write %s as JSON: the value contains invalid UTF-8", v.name)
			}
		}
		return ""
	}
	vars := Vars(creds, region)
	if isCLIFormat(format) {
		vars = cliVars(creds)
	}
	for _, v := range vars {
		if r := refusal(format, v.Value); r != "" {
			return fmt.Sprintf("cannot export %s in %s format: the value contains %s", v.Name, format, r)
		}
	}
	return ""
}

// fuzzCreds builds the credentials of one fuzz input. A zero exp means
// credentials that do not expire; a non-zero one also has microseconds
// (exp % 1000003), which only the AWS CLI's expiry text shows.
func fuzzCreds(key, secret, token string, exp uint32, account string) aws.Credentials {
	c := aws.Credentials{AccessKeyID: key, SecretAccessKey: secret, SessionToken: token, AccountID: account}
	if exp != 0 {
		c.CanExpire, c.Expires = true, time.Unix(int64(exp), int64(exp%1000003)*1000)
	}
	return c
}

// exportSeeds adds the tricky values to a fuzz target in every position,
// and credentials shaped like real ones.
func exportSeeds(f *testing.F) {
	for i, v := range trickyValues {
		w := trickyValues[(i*7+3)%len(trickyValues)]
		f.Add("AKIA"+v, v, w, v, uint32(1893456000), "123456789012")
		f.Add(v, w, "", "", uint32(0), v)
	}
	f.Add("", "s", "t", "r", uint32(1), "")
	f.Add("k", "", "t", "r", uint32(1), "")
	f.Add("k", "s\x00", "t", "r", uint32(1), "")
	f.Add("k", "s", "\xff", "r\n", uint32(1), "")
	f.Add("k", "s", "\u2028\u0085\ufeff\U0010ffff\uf6ff\ufdd0\ufffe", "\uf600\uf7ff", uint32(1), "\xc3")
	f.Add("ASIAEXAMPLEKEYID0001", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzEXAMPLETOKEN//+==", "eu-west-1", uint32(1893456000), "123456789012")
	for _, v := range []string{"=ls", "a:=ls", "a:~", "~", "a=b", "a:b", "%1", "@x,y", "x^y", "{a,b}"} {
		f.Add("AKIA", v, "t"+v, "us-east-1", uint32(7), "")
	}
}

// FuzzExportShells: for any credentials and region, WriteExport in sh,
// fish and powershell, and in the AWS CLI's env and env-no-export, either
// refuses exactly the values the format documents it cannot carry (with a
// fixed one-line message naming the variable, never the value), or its
// output, sourced by the real shells, sets exactly those values — as the
// shell sees them and in the environment of the next program — unsets what
// it documents, and leaves AWS_PROFILE alone. The shells are sh, bash, dash
// and zsh (those installed; sh is required; each sources sh, env and
// env-no-export), fish (required with CI=true) and pwsh (skipped when
// absent: it is not in Debian). Each shell runs once per fuzz worker
// and sources one script per input, so an input costs a fork, not a shell
// start.
func FuzzExportShells(f *testing.F) {
	exportSeeds(f)
	dir := winetest.TempDir(f)
	var evals []*shellEval
	for name, path := range posixShells(f) {
		evals = append(evals, newPOSIXEval(name, posixCommand(name, path), dir))
	}
	if fish := requireFish(f); fish != "" {
		evals = append(evals, newFishEval(fish, dir))
	}
	if pwsh, err := exec.LookPath("pwsh"); err == nil {
		evals = append(evals, newPwshEval(pwsh, dir))
	} else {
		f.Log("pwsh is not installed: the powershell output is only checked for its refusals")
	}
	slices.SortFunc(evals, func(a, b *shellEval) int { return strings.Compare(a.name, b.name) })
	f.Cleanup(func() {
		for _, e := range evals {
			e.stop()
		}
	})
	f.Fuzz(func(t *testing.T, key, secret, token, region string, exp uint32, account string) {
		creds := fuzzCreds(key, secret, token, exp, account)
		for _, format := range []string{"sh", "env", "env-no-export", "fish", "powershell"} {
			var buf bytes.Buffer
			err := WriteExport(&buf, creds, ExportOptions{Format: format, Region: region})
			want := expectedError(format, creds, region)
			if want != "" {
				if err == nil || err.Error() != want || buf.Len() != 0 {
					t.Fatalf("%s: WriteExport = %v (wrote %d bytes), want the error %q", format, err, buf.Len(), want)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: WriteExport refused a value it can carry: %v", format, err)
			}
			wantEnv := expectedEnv(format, creds, region)
			for _, e := range evals {
				if !slices.Contains(e.formats, format) {
					continue
				}
				values, env := e.eval(t, buf.Bytes())
				for i, n := range shownVars {
					if w, ok := wantEnv[n]; ok && values[i] != w {
						t.Fatalf("%s sees %s = %q, want %q\nscript:\n%s", e.name, n, values[i], w, buf.Bytes())
					}
				}
				if !maps.Equal(env, wantEnv) {
					t.Fatalf("%s: the next program's AWS_* environment is\n%q\nwant\n%q\nscript:\n%s", e.name, env, wantEnv, buf.Bytes())
				}
			}
		}
	})
}

// requireFish returns the path of fish, "" (after logging why) when it is
// not installed, and fails with CI=true, where .ci/run installs it.
func requireFish(tb testing.TB) string {
	tb.Helper()
	path, err := exec.LookPath("fish")
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" && runtime.GOOS != "windows" {
		tb.Fatalf("fish is required with CI=true (.ci/run installs it): %v", err)
	}
	tb.Log("fish is not installed: the fish output is only checked for its refusals")
	return ""
}

// shellEval is one long-running shell that sources scripts on request: the
// test writes the script to a file, sends its path on one line, and the
// shell prints the shownVars as it sees them and then the environment of a
// program it starts (env -0), all NUL-terminated, then the status and a
// random end marker. The shell is started on first use and again after a
// failure, so one broken input does not spoil the next.
type shellEval struct {
	name    string
	formats []string // the formats this shell sources
	argv    func(nonce string) []string
	script  string // the file sourced
	errFile string // the shell's stderr

	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	nonce string
}

func newPOSIXEval(name string, prefix []string, dir string) *shellEval {
	e := &shellEval{name: name, formats: []string{"sh", "env", "env-no-export"}, script: filepath.Join(dir, name+".sh"), errFile: filepath.Join(dir, name+".err")}
	var refs []string
	for _, n := range shownVars {
		refs = append(refs, `"$`+n+`"`)
	}
	e.argv = func(nonce string) []string {
		loop := `while IFS= read -r f; do ( . "$f" && printf '%s\000' ` + strings.Join(refs, " ") +
			` && exec env -0 ); printf '%s\000' "$?" ` + nonce + `; done`
		return append(slices.Clone(prefix), loop)
	}
	return e
}

func newFishEval(path, dir string) *shellEval {
	e := &shellEval{name: "fish", formats: []string{"fish"}, script: filepath.Join(dir, "creds.fish"), errFile: filepath.Join(dir, "fish.err")}
	var reset, refs []string
	for _, n := range slices.Sorted(maps.Keys(staleEnv)) {
		reset = append(reset, "set -gx "+n+" "+staleEnv[n]+"; ")
	}
	for _, n := range shownVars {
		refs = append(refs, `"$`+n+`"`)
	}
	// fish has no cheap subshell: the loop puts the stale values back
	// before each script instead.
	e.argv = func(nonce string) []string {
		loop := `while read -l f; ` + strings.Join(reset, "") + `begin; source $f; and printf '%s\0' ` + strings.Join(refs, " ") +
			`; and env -0; end; printf '%s\0' $status ` + nonce + `; end`
		return []string{path, "--no-config", "-c", loop}
	}
	return e
}

func newPwshEval(path, dir string) *shellEval {
	e := &shellEval{name: "pwsh", formats: []string{"powershell"}, script: filepath.Join(dir, "creds.ps1"), errFile: filepath.Join(dir, "pwsh.err")}
	var refs []string
	for _, n := range shownVars {
		refs = append(refs, "$Env:"+n)
	}
	e.argv = func(nonce string) []string {
		loop := `$o = [Console]::OpenStandardOutput(); $u = New-Object System.Text.UTF8Encoding $false; ` +
			`function W($s) { $b = $u.GetBytes([string]$s + [char]0); $o.Write($b, 0, $b.Length) }; ` +
			`$saved = @{}; Get-ChildItem Env: | Where-Object Name -like 'AWS_*' | ForEach-Object { $saved[$_.Name] = $_.Value }; ` +
			`while ($null -ne ($f = [Console]::In.ReadLine())) { ` +
			`Get-ChildItem Env: | Where-Object Name -like 'AWS_*' | ForEach-Object { Remove-Item ("Env:" + $_.Name) }; ` +
			`foreach ($k in $saved.Keys) { Set-Item ("Env:" + $k) $saved[$k] }; ` +
			`$ok = $true; try { . $f } catch { $ok = $false; [Console]::Error.WriteLine($_) }; ` +
			`if ($ok) { foreach ($v in @(` + strings.Join(refs, ", ") + `)) { W $v }; ` +
			`Get-ChildItem Env: | Where-Object Name -like 'AWS_*' | ForEach-Object { W ($_.Name + "=" + $_.Value) } }; ` +
			`W ([int](-not $ok)); W '` + nonce + `'; $o.Flush() }`
		return []string{path, "-NoProfile", "-NonInteractive", "-Command", loop}
	}
	return e
}

func (e *shellEval) start(tb testing.TB) {
	tb.Helper()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	e.nonce = "END" + hex.EncodeToString(b)
	argv := e.argv(e.nonce)
	cmd := exec.Command(argv[0], argv[1:]...)
	env := shellEnv()
	for _, n := range slices.Sorted(maps.Keys(staleEnv)) {
		env = append(env, n+"="+staleEnv[n])
	}
	cmd.Env = env
	errf, err := os.Create(e.errFile)
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = errf
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", e.name, err)
	}
	_ = errf.Close()
	e.cmd, e.in, e.out = cmd, in, bufio.NewReader(out)
}

func (e *shellEval) stop() {
	if e.cmd == nil {
		return
	}
	_ = e.in.Close()
	done := make(chan struct{})
	go func() { _ = e.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = e.cmd.Process.Kill()
		<-done
	}
	e.cmd = nil
}

// eval sources script in the shell and returns the shownVars as the shell
// sees them and the AWS_* environment of the next program.
func (e *shellEval) eval(tb testing.TB, script []byte) ([]string, map[string]string) {
	tb.Helper()
	if e.cmd == nil {
		e.start(tb)
	}
	if err := os.WriteFile(e.script, script, 0o600); err != nil {
		tb.Fatal(err)
	}
	type result struct {
		fields []string
		err    error
	}
	ch := make(chan result, 1)
	go func() {
		if _, err := io.WriteString(e.in, e.script+"\n"); err != nil {
			ch <- result{err: err}
			return
		}
		var fields []string
		for {
			s, err := e.out.ReadString(0)
			if err != nil {
				ch <- result{fields, err}
				return
			}
			if s = strings.TrimSuffix(s, "\x00"); s == e.nonce {
				ch <- result{fields, nil}
				return
			}
			fields = append(fields, s)
		}
	}()
	var r result
	select {
	case r = <-ch:
	case <-time.After(20 * time.Second):
		r.err = fmt.Errorf("no answer after 20s")
	}
	fail := func(why string) {
		e.stop()
		stderr, _ := os.ReadFile(e.errFile)
		tb.Fatalf("%s: %s\noutput: %q\nstderr: %s\nscript:\n%s", e.name, why, r.fields, stderr, script)
	}
	if r.err != nil {
		fail(r.err.Error())
	}
	n := len(shownVars)
	if len(r.fields) < n+1 || r.fields[len(r.fields)-1] != "0" {
		fail("sourcing the script failed")
	}
	env := map[string]string{}
	for _, kv := range r.fields[n : len(r.fields)-1] {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") {
			env[k] = v
		}
	}
	return r.fields[:n], env
}

// FuzzExportFormats checks the formats that no shell here can run, against
// models of their readers: cmd (`set "NAME=value"` lines, CRLF; the value
// is everything between the first "=" and the last quote), the AWS CLI's
// windows-cmd (`set NAME=value` lines, LF off Windows; the value is the rest
// of the line), dotenv (docker's --env-file parser, parseDockerEnvFile),
// github (the runner's GITHUB_ENV parser, parseGitHubEnv, and the
// ::add-mask:: lines), json and the CLI's process (encoding/json; process
// also only ASCII, as Python's json.dumps writes it). Each accepts exactly the values its documentation
// allows and reproduces them exactly; otherwise it refuses with the fixed
// one-line message that names the variable (so it holds no value) and
// writes nothing.
func FuzzExportFormats(f *testing.F) {
	exportSeeds(f)
	f.Add("k", "s", "%0A", "a\nb", uint32(7), "")
	f.Add("k", "s", "ROLEHOP_EOF_x\nROLEHOP_EOF_y", "\u00fc\r", uint32(7), "1\n2")
	f.Add("k", "s (x)", "a&b|c<d>e", "", uint32(7), "")
	ghEnv := filepath.Join(winetest.TempDir(f), "github_env")
	f.Fuzz(func(t *testing.T, key, secret, token, region string, exp uint32, account string) {
		creds := fuzzCreds(key, secret, token, exp, account)
		for _, format := range []string{"cmd", "windows-cmd", "dotenv", "github", "json", "process"} {
			if err := os.WriteFile(ghEnv, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			err := WriteExport(&buf, creds, ExportOptions{Format: format, Region: region, GitHubEnv: ghEnv})
			written, _ := os.ReadFile(ghEnv)
			if want := expectedError(format, creds, region); want != "" {
				if err == nil || err.Error() != want || buf.Len() != 0 || len(written) != 0 {
					t.Fatalf("%s: WriteExport = %v (wrote %d bytes), want the error %q", format, err, buf.Len()+len(written), want)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: WriteExport refused a value it can carry: %v", format, err)
			}
			want := map[string]string{}
			vars := Vars(creds, region)
			if isCLIFormat(format) {
				vars = cliVars(creds)
			}
			for _, v := range vars {
				want[v.Name] = v.Value
			}
			var got map[string]string
			switch format {
			case "cmd":
				got = parseCmdSets(t, buf.String(), exportUnsets(creds))
			case "windows-cmd":
				got = parseUnquotedSets(t, string(lfLines(t, format, buf.Bytes())))
			case "process":
				out := lfLines(t, format, buf.Bytes())
				got = processJSONVars(t, out)
				for i, c := range out {
					if c > 0x7e || c < 0x20 && c != '\n' {
						t.Fatalf("process output byte %d is %#x: Python's json.dumps writes only printable ASCII and newlines\n%q", i, c, out)
					}
				}
			case "dotenv":
				if got, err = parseDockerEnvFile(buf.Bytes()); err != nil {
					t.Fatalf("docker would refuse the file: %v\n%q", err, buf.Bytes())
				}
			case "github":
				if got, err = parseGitHubEnv(string(written)); err != nil {
					t.Fatalf("the runner would refuse GITHUB_ENV: %v\n%q", err, written)
				}
				checkMasks(t, buf.String(), creds)
			case "json":
				got = processJSONVars(t, buf.Bytes())
				delete(want, envRegion) // json has no region
				delete(want, envDefaultRegion)
			}
			if !maps.Equal(got, want) {
				t.Fatalf("%s reads back\n%q\nwant\n%q\noutput:\n%q", format, got, want, buf.Bytes())
			}
		}
	})
}

// parseCmdSets reads cmd lines: `set "NAME=VALUE"` CRLF, where cmd takes
// VALUE up to the last quote of the line. The unsets (`set "NAME="`) must
// come first, in order.
func parseCmdSets(t *testing.T, out string, unsets []string) map[string]string {
	t.Helper()
	if !strings.HasSuffix(out, "\r\n") {
		t.Fatalf("cmd output does not end with CRLF: %q", out)
	}
	got := map[string]string{}
	for i, line := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		body, ok := strings.CutPrefix(line, `set "`)
		q := strings.LastIndexByte(body, '"')
		if !ok || q < 0 || q != len(body)-1 || strings.ContainsAny(line, "\r\n") {
			t.Fatalf("cmd line %q is not set \"NAME=value\"", line)
		}
		name, value, _ := strings.Cut(body[:q], "=")
		if i < len(unsets) {
			if name != unsets[i] || value != "" {
				t.Fatalf("cmd line %d = %q, want the unset of %s", i+1, line, unsets[i])
			}
			continue
		}
		got[name] = value
	}
	return got
}

// lfLines undoes, on Windows, what the AWS CLI's text-mode stdout does to
// its windows-cmd and process output there (every "\n" is written "\r\n",
// as rolehop does too), after checking every line ends so.
func lfLines(t *testing.T, format string, out []byte) []byte {
	t.Helper()
	if runtime.GOOS != "windows" {
		return out
	}
	if bytes.Count(out, []byte("\n")) != bytes.Count(out, []byte("\r\n")) {
		t.Fatalf("%s output on Windows has a line that does not end in CRLF: %q", format, out)
	}
	return bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n"))
}

// parseUnquotedSets reads the AWS CLI's windows-cmd lines off Windows:
// `set NAME=VALUE` LF, where cmd takes VALUE up to the line end.
func parseUnquotedSets(t *testing.T, out string) map[string]string {
	t.Helper()
	if !strings.HasSuffix(out, "\n") || strings.Contains(out, "\r") {
		t.Fatalf("windows-cmd output is not LF-terminated lines: %q", out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		body, ok := strings.CutPrefix(line, "set ")
		name, value, ok2 := strings.Cut(body, "=")
		if !ok || !ok2 {
			t.Fatalf("windows-cmd line %q is not set NAME=value", line)
		}
		got[name] = value
	}
	return got
}

// checkMasks checks the github format's stdout: one ::add-mask:: line per
// secret, with the runner's command escaping.
func checkMasks(t *testing.T, out string, creds aws.Credentials) {
	t.Helper()
	var want strings.Builder
	for _, v := range []string{creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken} {
		if v != "" {
			unesc := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(v)
			want.WriteString("::add-mask::" + unesc + "\n")
		}
	}
	if out != want.String() {
		t.Fatalf("github mask lines\n%q\nwant\n%q", out, want.String())
	}
}

// processJSONVars reads a credential_process document back as the
// variables it stands for.
func processJSONVars(t *testing.T, b []byte) map[string]string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("json export does not parse: %v\n%s", err, b)
	}
	if doc["Version"] != float64(1) {
		t.Fatalf("json export Version = %v", doc["Version"])
	}
	got := map[string]string{}
	for k, name := range map[string]string{"AccessKeyId": envAccessKeyID, "SecretAccessKey": envSecretAccessKey,
		"SessionToken": envSessionToken, "Expiration": envCredentialExpiry, "AccountId": envAccountID} {
		if v, ok := doc[k]; ok {
			s, _ := v.(string)
			got[name] = s
		}
	}
	return got
}
