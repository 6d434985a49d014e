package awsconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rolehop/rolehop/internal/winetest"
)

// The tests in this file use botocore, the library under the AWS CLI, as the
// oracle: they load the same files with botocore.session.Session().full_config
// and compare. Without python3 and botocore they skip, unless CI=true.

// botocoreScript reads a JSON list of {"config": PATH, "credentials": PATH}
// on stdin and prints, for each, botocore's full_config (profiles,
// sso_sessions, services) or the exception it raised.
const botocoreScript = `
import json, os, sys
import botocore.session
out = []
for case in json.load(sys.stdin):
    os.environ["AWS_CONFIG_FILE"] = case["config"]
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = case["credentials"]
    try:
        fc = botocore.session.Session().full_config
        out.append({k: fc.get(k, {}) for k in ("profiles", "sso_sessions", "services")})
    except Exception as e:
        out.append({"error": type(e).__name__, "message": str(e)})
json.dump(out, sys.stdout)
`

// botoResult is one case's output of botocoreScript. Values are strings, or
// objects for nested blocks.
type botoResult struct {
	Error       string                    `json:"error"`
	Message     string                    `json:"message"`
	Profiles    map[string]map[string]any `json:"profiles"`
	SSOSessions map[string]map[string]any `json:"sso_sessions"`
	Services    map[string]map[string]any `json:"services"`
}

// requireBotocore skips the test if python3 with botocore is not available,
// or fails it when CI=true.
func requireBotocore(t *testing.T) {
	t.Helper()
	winetest.Skip(t, "python3 with botocore is a Linux program the Windows test cannot start; the Linux run compares with botocore")
	out, err := exec.Command("python3", "-c", "import botocore").CombinedOutput()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("python3 with botocore is not available: %v %s", err, out)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// filePair is the content of a config and a credentials file; "-" means
// the file does not exist.
type filePair struct{ config, credentials string }

// runBotocore writes each pair to dir and returns botocore's results.
func runBotocore(t *testing.T, dir string, pairs []filePair) ([]botoResult, [][2]string) {
	t.Helper()
	type input struct {
		Config      string `json:"config"`
		Credentials string `json:"credentials"`
	}
	inputs := make([]input, len(pairs))
	paths := make([][2]string, len(pairs))
	for i, p := range pairs {
		cfg := filepath.Join(dir, fmt.Sprintf("config-%d", i))
		cred := filepath.Join(dir, fmt.Sprintf("credentials-%d", i))
		writeIf(t, cfg, p.config)
		writeIf(t, cred, p.credentials)
		inputs[i] = input{cfg, cred}
		paths[i] = [2]string{cfg, cred}
	}
	stdin, err := json.Marshal(inputs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", "-c", botocoreScript)
	cmd.Env = append(os.Environ(), "PYTHONUTF8=1", "PYTHONIOENCODING=utf-8")
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.String())
	}
	var results []botoResult
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(pairs) {
		t.Fatalf("decode botocore output (%d results for %d cases): %v", len(results), len(pairs), err)
	}
	return results, paths
}

func writeIf(t *testing.T, path, data string) {
	t.Helper()
	if data == "-" {
		return
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// compareWithBotocore returns the differences between our Load and
// botocore's result for the same files.
func compareWithBotocore(cfgPath, credPath string, bc botoResult) []string {
	c, err := Load(cfgPath, credPath)
	var pe *ParseError
	switch {
	case err != nil && !errors.As(err, &pe):
		return []string{fmt.Sprintf("Load returned a non-parse error: %v", err)}
	case err != nil && bc.Error == "":
		return []string{fmt.Sprintf("we fail (%v), botocore does not", err)}
	case err == nil && bc.Error != "":
		return []string{fmt.Sprintf("botocore fails (%s: %s), we do not", bc.Error, bc.Message)}
	case err != nil:
		if bc.Error != "ConfigParseError" {
			return []string{fmt.Sprintf("we fail (%v), botocore raises %s, want ConfigParseError", err, bc.Error)}
		}
		return nil
	}
	// rolehop deliberately ignores [profile NAME] in the credentials file,
	// which botocore keeps as a profile named "profile NAME".
	for name := range bc.Profiles {
		if _, ours := c.Profiles[name]; !ours && isProfilePrefixed(name) {
			delete(bc.Profiles, name)
		}
	}
	var diffs []string
	diffs = append(diffs, compareSections("profile", profileSections(c.Profiles), bc.Profiles)...)
	diffs = append(diffs, compareSections("sso-session", sectionKeys(c.SSOSessions), bc.SSOSessions)...)
	diffs = append(diffs, compareSections("services", sectionKeys(c.Services), bc.Services)...)
	return diffs
}

func profileSections(m map[string]*Profile) map[string]map[string]Value {
	out := map[string]map[string]Value{}
	for name, p := range m {
		out[name] = p.Keys
	}
	return out
}

func sectionKeys(m map[string]*Section) map[string]map[string]Value {
	out := map[string]map[string]Value{}
	for name, s := range m {
		out[name] = s.Keys
	}
	return out
}

// compareSections compares names, keys and values. A botocore object value
// (a nested block) is compared with our text parsed the way botocore's
// _parse_nested does.
func compareSections(what string, ours map[string]map[string]Value, theirs map[string]map[string]any) []string {
	var diffs []string
	if a, b := slices.Sorted(maps.Keys(ours)), slices.Sorted(maps.Keys(theirs)); !slices.Equal(a, b) {
		return []string{fmt.Sprintf("%s names: ours %q, botocore %q", what, a, b)}
	}
	for name, keys := range ours {
		tk := theirs[name]
		if a, b := slices.Sorted(maps.Keys(keys)), slices.Sorted(maps.Keys(tk)); !slices.Equal(a, b) {
			diffs = append(diffs, fmt.Sprintf("%s %q keys: ours %q, botocore %q", what, name, a, b))
			continue
		}
		for k, v := range keys {
			switch want := tk[k].(type) {
			case string:
				if v.Value != want {
					diffs = append(diffs, fmt.Sprintf("%s %q key %q: ours %q, botocore %q", what, name, k, v.Value, want))
				}
			case map[string]any:
				if got := nestedForTest(v.Value); !maps.EqualFunc(got, want, func(s string, a any) bool { return s == a }) {
					diffs = append(diffs, fmt.Sprintf("%s %q key %q: ours %q, botocore %v", what, name, k, got, want))
				}
			default:
				diffs = append(diffs, fmt.Sprintf("%s %q key %q: botocore value %v of type %T", what, name, k, want, want))
			}
		}
	}
	return diffs
}

// nestedForTest parses a nested block's text like botocore's _parse_nested.
func nestedForTest(s string) map[string]string {
	out := map[string]string{}
	for _, line := range pySplitLines(s) {
		if line = pyTrim(line); line == "" {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		out[pyTrim(k)] = pyTrim(v)
	}
	return out
}

// oracleCases are hand-written file pairs; wantErr says whether both
// botocore and we must reject them.
var oracleCases = []struct {
	name    string
	files   filePair
	wantErr bool
}{
	{"missing files", filePair{"-", "-"}, false},
	{"comments and blank lines", filePair{"# top\n; top\n\n[default]\n  # indented\nregion = us-east-1 # not a comment\n;x = 1\n\n", "-"}, false},
	{"profile names", filePair{"[profile \"a b\"]\nk = 1\n[profile a b]\nk = 2\n[profilefoo]\nk = 3\n[ profile c ]\nk = 4\n[profile 'd']\nk = 5\n[profiles e]\nk = 6\n[bare]\nk = 7\n[Default]\nk = 8\n", "-"}, false},
	{"credentials over config", filePair{"[profile dev]\nregion = a\nrole_arn = arn:aws:iam::1:role/r\n[default]\nregion = d\n",
		"[dev]\nregion = b\naws_access_key_id = AKIA\n[only-creds]\naws_secret_access_key = s\n[profile dev]\nregion = c\n"}, false},
	{"nested s3 block", filePair{"[default]\ns3 =\n  addressing_style = path\n  endpoint_url = http://x:9000\nregion = r\n[services svc]\ns3 =\n\n  endpoint_url = http://y\n", "-"}, false},
	{"continuation lines", filePair{"[default]\nk = a\n  b\n\n  c = d\n  # c\nm = x\n\n\n", "-"}, false},
	{"crlf", filePair{"[default]\r\nregion = a\r\n[profile b]\r\nk = v\r\ns3 =\r\n  x = 1\r\n", "[c]\r\nk = 1\r\n"}, false},
	{"lone cr", filePair{"[default]\rregion = a\r[profile b]\rk = v\r", "-"}, false},
	{"default then profile default", filePair{"[default]\na = 1\n[profile default]\nb = 2\n", "-"}, false},
	{"profile default then default", filePair{"[profile default]\nb = 2\n[default]\na = 1\n", "[default]\nc = 3\n"}, false},
	{"separators and quotes", filePair{"[default]\na: 1\nb = x:y\nc: x=y\nD = \"q\"\ne =\nf = %(x)s\n", "-"}, false},
	{"DEFAULT section", filePair{"[DEFAULT]\nr = 1\n[profile a]\nk = v\n[profile b]\nr = 2\n", "[DEFAULT]\nq = 1\n[c]\nw = 1\n"}, false},
	{"sso-session", filePair{"[sso-session my-sso]\nsso_start_url = https://x\nsso_region = us-east-1\n[profile s]\nsso_session = my-sso\n", "-"}, false},
	{"indented header is a continuation", filePair{"[default]\nk = v\n  [profile b]\n", "-"}, false},
	{"bracket key", filePair{"[default]\n[b=1\n", "-"}, false},
	{"python whitespace", filePair{"[default]\n\u00a0k\x1c=\x1f v\u3000\n", "-"}, false},
	{"bad nested DEFAULT unused", filePair{"[DEFAULT]\ns3 =\n  bad\n", "-"}, false},

	{"line without =", filePair{"[default]\nrole_arn\n", "-"}, true},
	{"key before section", filePair{"region = x\n[default]\n", "-"}, true},
	{"unterminated header", filePair{"[profile x\nk = v\n", "-"}, true},
	{"unterminated header later", filePair{"[default]\n[profile x\n", "-"}, true},
	{"empty header", filePair{"[default]\n[]\n", "-"}, true},
	{"duplicate section", filePair{"[profile a]\n[profile a]\n", "-"}, true},
	{"duplicate key", filePair{"[default]\nk = 1\nK = 2\n", "-"}, true},
	{"duplicate key in credentials", filePair{"-", "[default]\nk = 1\nk = 2\n"}, true},
	{"duplicate DEFAULT key", filePair{"[DEFAULT]\nk = 1\n[DEFAULT]\nk = 2\n", "-"}, true},
	{"empty key", filePair{"[default]\n= v\n", "-"}, true},
	{"nested line without =", filePair{"[default]\ns3 =\n  addressing_style: path\n", "-"}, true},
	{"nested DEFAULT used", filePair{"[DEFAULT]\ns3 =\n  bad\n[x]\n", "-"}, true},
	{"invalid utf-8", filePair{"[default]\nk = \xff\n", "-"}, true},
}

func TestBotocoreOracle(t *testing.T) {
	requireBotocore(t)
	pairs := make([]filePair, len(oracleCases))
	for i, c := range oracleCases {
		pairs[i] = c.files
	}
	results, paths := runBotocore(t, winetest.TempDir(t), pairs)
	for i, c := range oracleCases {
		t.Run(c.name, func(t *testing.T) {
			if gotErr := results[i].Error != ""; gotErr != c.wantErr {
				t.Errorf("botocore error = %q %q, want error: %v", results[i].Error, results[i].Message, c.wantErr)
			}
			for _, d := range compareWithBotocore(paths[i][0], paths[i][1], results[i]) {
				t.Error(d)
			}
		})
	}
}

// TestBotocoreKnownDifferences pins down where rolehop deliberately differs
// from botocore, so that a botocore change is noticed.
func TestBotocoreKnownDifferences(t *testing.T) {
	requireBotocore(t)
	pairs := []filePair{
		{"\ufeff[default]\nregion = a\n", "-"},    // 0: UTF-8 BOM
		{"-", "[profile x]\nk = 1\n[y]\nk = 2\n"}, // 1: [profile x] in the credentials file
	}
	results, paths := runBotocore(t, winetest.TempDir(t), pairs)

	if results[0].Error != "ConfigParseError" {
		t.Errorf("botocore with a BOM: %+v; expected ConfigParseError", results[0])
	}
	if c, err := Load(paths[0][0], paths[0][1]); err != nil || c.Profiles["default"].Keys["region"].Value != "a" {
		t.Errorf("Load with a BOM = %v, %v; want profile default", c, err)
	}

	if _, ok := results[1].Profiles["profile x"]; !ok {
		t.Errorf("botocore profiles %v; expected a profile named %q", slices.Sorted(maps.Keys(results[1].Profiles)), "profile x")
	}
	c, err := Load(paths[1][0], paths[1][1])
	if err != nil || !slices.Equal(c.ProfileNames(), []string{"y"}) {
		t.Errorf("Load = %v, %v; want only profile y", c, err)
	}
}

// TestBotocoreOracleRandom compares with botocore on generated files made of
// lines that exercise the parser's corner cases.
func TestBotocoreOracleRandom(t *testing.T) {
	requireBotocore(t)
	n := 300
	if testing.Short() {
		n = 50
	}
	if v, err := strconv.Atoi(os.Getenv("ROLEHOP_ORACLE_CASES")); err == nil && v > 0 {
		n = v // for a deeper run
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pairs := make([]filePair, n)
	for i := range pairs {
		pairs[i] = filePair{randomFile(rng, configHeaders), randomFile(rng, credentialsHeaders)}
	}
	results, paths := runBotocore(t, winetest.TempDir(t), pairs)
	failures, parsed := 0, 0
	for i := range pairs {
		if results[i].Error == "" {
			parsed++
		}
		diffs := compareWithBotocore(paths[i][0], paths[i][1], results[i])
		if len(diffs) == 0 {
			continue
		}
		if failures++; failures <= 5 {
			t.Errorf("case %d:\nconfig:\n%q\ncredentials:\n%q\n%s", i, pairs[i].config, pairs[i].credentials, strings.Join(diffs, "\n"))
		}
	}
	t.Logf("%d cases, %d parsed without error by botocore, %d differences", n, parsed, failures)
	if parsed < n/4 {
		t.Errorf("only %d of %d generated cases parse; the generator should produce more valid files", parsed, n)
	}
}

var (
	configHeaders = []string{
		"[default]", "[profile default]", "[profile a]", "[profile b]", `[profile "a b"]`, "[profile a b]",
		"[profilefoo]", "[ profile a ]", "[profiles c]", "[sso-session s]", "[services v]", "[DEFAULT]",
		"[bare]", "[profile 'b']", `[profile "x]`, "[profile c] # note", "  [profile d]",
	}
	credentialsHeaders = []string{
		"[default]", "[a]", "[b]", "[profile a]", "[ a ]", "[DEFAULT]", "[c]", "[profilefoo]",
	}
	// bodyLines are mostly valid; the rarer ones are errors.
	bodyLines = []string{
		"region = us-east-1", "Region: eu-west-1", "role_arn = arn:aws:iam::1:role/r # c", "k = v", "K = w",
		"empty =", "s3 =", "  addressing_style = path", "  endpoint_url = http://x:1", "\tcont", "    deeper",
		"", "", "# comment", "; comment", "  # indented comment", "a = b = c", "url: http://x", "q = \"quoted\"",
		"\u00a0nb = x\u00a0", "sp ace = 1", "[k=1",
	}
	errorLines = []string{"garbage", "= v", "[unterminated", "[]", "  bad: nested"}
	lineEnds   = []string{"\n", "\n", "\n", "\r\n", "\r"}
	// oddRunes are inserted into lines: separators, quotes, brackets and
	// the whitespace and line-break characters that Python treats specially.
	oddRunes = []rune("=:#;[]\"'\\ \t\v\f\x1c\x1f\u0085\u00a0\u2028\u3000\u0130\u00e9")
)

// mutate inserts one of oddRunes at a random position of line.
func mutate(rng *rand.Rand, line string) string {
	rs := []rune(line)
	i := rng.IntN(len(rs) + 1)
	return string(rs[:i]) + string(oddRunes[rng.IntN(len(oddRunes))]) + string(rs[i:])
}

// randomFile returns a generated file: usually a few sections with lines
// from bodyLines, sometimes missing ("-"), sometimes with an error line.
func randomFile(rng *rand.Rand, headers []string) string {
	if rng.IntN(8) == 0 {
		return "-"
	}
	var b strings.Builder
	end := lineEnds[rng.IntN(len(lineEnds))]
	for range rng.IntN(4) {
		b.WriteString(headers[rng.IntN(len(headers))] + end)
		for range rng.IntN(5) {
			line := bodyLines[rng.IntN(len(bodyLines))]
			if rng.IntN(25) == 0 {
				line = errorLines[rng.IntN(len(errorLines))]
			}
			if rng.IntN(10) == 0 {
				line = mutate(rng, line)
			}
			b.WriteString(line + end)
		}
	}
	return b.String()
}
