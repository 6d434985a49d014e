package awsconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/winetest"
)

// writeFixtures are credentials files to edit. Each has sections named
// first, middle and last (in that order) unless noted, so that every test
// can target the first, a middle and the last section, and an absent one.
var writeFixtures = []struct {
	name string
	data string
}{
	{"plain", "[first]\naws_access_key_id = AKIA1\naws_secret_access_key = s1\naws_session_token = t1\n" +
		"\n[middle]\naws_access_key_id = AKIA2\naws_secret_access_key = s2\naws_session_token = t2\n" +
		"\n[last]\naws_access_key_id = AKIA3\naws_secret_access_key = s3\naws_session_token = t3\n"},
	{"comments and odd spacing", "# top comment\n; semicolon comment\n\n" +
		"[first]\n  aws_access_key_id   =   AKIA1\naws_secret_access_key=s1\naws_session_token:t1\n# inside first\nregion = us-east-1 # not a comment\n" +
		"\n\n  # comment before middle\n; another\n" +
		"[middle]   \n\taws_session_token =t2   \n\n\n" +
		"[profile last]\nregion = eu-west-1\n" +
		"[last]\nx = 1\n   ; indented comment at the end\n\n"},
	{"CRLF", "# crlf file\r\n[first]\r\naws_access_key_id = AKIA1\r\naws_session_token = t1\r\n\r\n" +
		"[middle]\r\nk = v\r\n\r\n# before last\r\n[last]\r\nk = w\r\n"},
	{"CRLF without final line break", "[first]\r\nk = 1\r\n[middle]\r\nk = 2\r\n[last]\r\nk = 3"},
	{"no final line break", "[first]\nk = 1\n\n[middle]\nk = 2\n\n[last]\nk = 3"},
	{"last is a bare header without line break", "[first]\nk = 1\n[middle]\nk = 2\n[last]"},
	{"unicode", "# ünïcødé ☃ comment\n[first]\nnote = héllo wörld ✓\n[middle]\nnote = 日本語\n; 注释\n[last]\nnote = ∑\n"},
	{"DEFAULT section", "[DEFAULT]\nregion = us-east-1\noutput = json\n\n[first]\nk = 1\n\n[middle]\nregion = eu-west-1\n\n[DEFAULT]\nextra = e\n\n[last]\nk = 3\n"},
	{"profile-looking sections", "[profile first]\nk = p1\n[first]\nk = 1\n[profile middle]\nk = p2\n[middle]\nk = 2\n[profile last]\nk = p3\n[last]\nk = 3\n[profile new]\nk = pn\n"},
	{"continuations and nested blocks", "[first]\nk = v\n  continued\n\n  [not a header]\n[middle]\ns3 =\n  addressing_style = path\n  endpoint_url = http://x\n# comment\n[last]\nk = a\n  b\n"},
	{"indented headers", "[first]\n  k = 1\n  [middle]\n    k = 2\n    [last]\n      k = 3\n"},
	{"header with trailing text", "[first] # managed by hand\nk = 1\n[middle]   ; managed by rolehop\nk = 2\n[last]x\nk = 3\n"},
	{"byte order mark", "\ufeff[first]\nk = 1\n[middle]\nk = 2\n[last]\nk = 3\n"},
	{"lone CR line endings", "[first]\rk = 1\r[middle]\rk = 2\r\r[last]\rk = 3\r"},
	{"mixed line endings, mostly LF", "[first]\r\nk = 1\n[middle]\nk = 2\n[last]\nk = 3\n"},
	{"names that look alike", "[First]\nk = F\n[first ]\nk = f2\n[ first]\nk = f3\n[first]\nk = 1\n[middle]\nk = 2\n[last]\nk = 3\n[lastx]\nk = x\n"},
	{"keys only in the target", "[first]\n[middle]\n[last]\n"},
}

// writeKV is what the round-trip tests write.
var writeKV = []KeyValue{
	{"aws_access_key_id", "ASIANEW"},
	{"aws_secret_access_key", "secret/with+chars="},
	{"aws_session_token", "token//with==padding"},
	{"x_rolehop_note", "ünïcødé # kept ; as is"},
}

func TestReplaceSectionRoundTrip(t *testing.T) {
	dir := winetest.TempDir(t)
	for _, fx := range writeFixtures {
		for _, name := range []string{"first", "middle", "last", "new"} {
			for _, kv := range [][]KeyValue{writeKV, writeKV[:1], nil} {
				t.Run(fmt.Sprintf("%s/%s/%d keys", fx.name, name, len(kv)), func(t *testing.T) {
					data := []byte(fx.data)
					out, err := ReplaceSection(data, name, kv)
					if err != nil {
						t.Fatal(err)
					}
					checkReplaced(t, data, out, name, kv)
					checkLoadedProfiles(t, dir, data, out, name, kv)
					if again, err := ReplaceSection(out, name, kv); err != nil || !bytes.Equal(again, out) {
						t.Errorf("writing the same section again changed the file (%v):\n%q\n%q", err, out, again)
					}
				})
			}
		}
	}
}

// TestReplaceSectionExact pins the exact output for a few files.
func TestReplaceSectionExact(t *testing.T) {
	kv := []KeyValue{{"aws_access_key_id", "A"}, {"aws_session_token", "T"}}
	tests := []struct{ name, data, target, want string }{
		{"append to empty", "", "new", "[new]\naws_access_key_id = A\naws_session_token = T\n"},
		{"append after final line break", "[a]\nk = v\n", "new",
			"[a]\nk = v\n\n[new]\naws_access_key_id = A\naws_session_token = T\n"},
		{"append without final line break", "[a]\nk = v", "new",
			"[a]\nk = v\n\n[new]\naws_access_key_id = A\naws_session_token = T\n"},
		{"append after a blank line", "[a]\nk = v\n\n", "new",
			"[a]\nk = v\n\n[new]\naws_access_key_id = A\naws_session_token = T\n"},
		{"append CRLF", "[a]\r\nk = v\r\n", "new",
			"[a]\r\nk = v\r\n\r\n[new]\r\naws_access_key_id = A\r\naws_session_token = T\r\n"},
		{"append CRLF without final line break", "[a]\r\nk = v", "new",
			"[a]\r\nk = v\r\n\r\n[new]\r\naws_access_key_id = A\r\naws_session_token = T\r\n"},
		{"append after a lone CR", "[a]\nk = v\nk2 = w\r", "new",
			"[a]\nk = v\nk2 = w\r\r[new]\naws_access_key_id = A\naws_session_token = T\n"},
		{"append to a byte order mark only", "\ufeff", "new", "\ufeff[new]\naws_access_key_id = A\naws_session_token = T\n"},
		{"replace keeps trailing comments", "[x]\nold = 1\n# about y\n\n[y]\nk = v\n", "x",
			"[x]\naws_access_key_id = A\naws_session_token = T\n# about y\n\n[y]\nk = v\n"},
		{"replace drops comments between keys", "[x]\nold = 1\n# inside\nold2 = 2\n[y]\n", "x",
			"[x]\naws_access_key_id = A\naws_session_token = T\n[y]\n"},
		{"replace last keeps trailing blank lines", "[y]\n[x]\nold = 1\n\n\n", "x",
			"[y]\n[x]\naws_access_key_id = A\naws_session_token = T\n\n\n"},
		{"replace CRLF", "[x]\r\nold = 1\r\n[y]\r\n", "x", "[x]\r\naws_access_key_id = A\r\naws_session_token = T\r\n[y]\r\n"},
		{"a lone CR before a blank LF line is not joined to it", "[x]\rold = 1\r\n\n[y]\r", "x",
			"[x]\raws_access_key_id = A\raws_session_token = T\r\n\n[y]\r"},
		{"replace keeps the header line", "  [x]  # mine\nold = 1\n", "x", "  [x]  # mine\naws_access_key_id = A\naws_session_token = T\n"},
		{"replace a header without line break", "[y]\n[x]", "x", "[y]\n[x]\naws_access_key_id = A\naws_session_token = T\n"},
		{"indent before an indented header", "[x]\n  old = 1\n  [y]\n  k = v\n", "x",
			"[x]\n  aws_access_key_id = A\n  aws_session_token = T\n  [y]\n  k = v\n"},
		{"continuation lines are part of the section", "[x]\nold = 1\n  more\n\n  more\n# c\n[y]\n", "x",
			"[x]\naws_access_key_id = A\naws_session_token = T\n# c\n[y]\n"},
		{"[profile x] is not x", "[profile x]\nk = v\n", "x",
			"[profile x]\nk = v\n\n[x]\naws_access_key_id = A\naws_session_token = T\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := ReplaceSection([]byte(tc.data), tc.target, kv)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want {
				t.Errorf("got\n%q\nwant\n%q", out, tc.want)
			}
			checkReplaced(t, []byte(tc.data), out, tc.target, kv)
		})
	}
}

func TestReplaceSectionErrors(t *testing.T) {
	const file = "[a]\nk = v\n"
	tests := []struct {
		name, data, target string
		kv                 []KeyValue
		want               string // in the error
		secret             string // must not be in the error
	}{
		{"duplicate section", "[a]\nk = v\n[b]\n[a]\n", "a", nil, "duplicate section", ""},
		{"duplicate other section", "[a]\n[b]\n[b]\n", "a", nil, "duplicate section", ""},
		{"unparseable file", "[a]\nno separator\n", "a", nil, "no \"=\"", ""},
		{"key before any section", "k = v\n", "a", nil, "before any section header", ""},
		{"LF in value", file, "a", []KeyValue{{"aws_session_token", "sec\nret"}}, `"aws_session_token"`, "sec"},
		{"CR in value", file, "a", []KeyValue{{"aws_session_token", "sec\rret"}}, `"aws_session_token"`, "sec"},
		{"space around value", file, "a", []KeyValue{{"tok", " secret"}}, `"tok"`, "secret"},
		{"invalid UTF-8 value", file, "a", []KeyValue{{"tok", "secret\xff"}}, `"tok"`, "secret"},
		{"empty key", file, "a", []KeyValue{{"", "v"}}, "empty", ""},
		{"key with =", file, "a", []KeyValue{{"a=b", "v"}}, `"a=b"`, ""},
		{"key with :", file, "a", []KeyValue{{"a:b", "v"}}, `"a:b"`, ""},
		{"key with space around", file, "a", []KeyValue{{" k", "v"}}, `" k"`, ""},
		{"key starting with #", file, "a", []KeyValue{{"#k", "v"}}, `"#k"`, ""},
		{"key starting with [", file, "a", []KeyValue{{"[k]", "v"}}, `"[k]"`, ""},
		{"key with line break", file, "a", []KeyValue{{"k\nx", "v"}}, "control", ""},
		{"duplicate key", file, "a", []KeyValue{{"k", "1"}, {"K", "2"}}, "twice", ""},
		{"empty name", file, "", nil, "empty", ""},
		{"name with line break", file, "a\nb", nil, "control", ""},
		{"name with space around", file, " a", nil, "whitespace", ""},
		{"DEFAULT", file, "DEFAULT", nil, "DEFAULT", ""},
		{"profile prefix", file, "profile a", nil, "profile", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := ReplaceSection([]byte(tc.data), tc.target, tc.kv)
			if err == nil {
				t.Fatalf("no error; got %q", out)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error %q shows the value", err)
			}
			if strings.HasPrefix(tc.name, "duplicate section") || tc.name == "unparseable file" {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Errorf("error %v is not a *ParseError", err)
				}
			}
		})
	}
}

func TestSectionKeys(t *testing.T) {
	data := []byte("[DEFAULT]\nregion = r\n[a]\nAWS_Access_Key_ID = A\n[profile b]\nk = v\n")
	tests := []struct {
		name   string
		want   map[string]string
		exists bool
	}{
		{"a", map[string]string{"aws_access_key_id": "A", "region": "r"}, true},
		{"b", nil, false},
		{"profile b", nil, false},
		{"A", nil, false},
		{"DEFAULT", nil, false},
	}
	for _, tc := range tests {
		got, ok, err := SectionKeys(data, tc.name)
		if err != nil || ok != tc.exists || !maps.Equal(got, tc.want) {
			t.Errorf("SectionKeys(%q) = %v, %v, %v; want %v, %v", tc.name, got, ok, err, tc.want, tc.exists)
		}
	}
	if _, _, err := SectionKeys([]byte("[a]\n[a]\n"), "a"); err == nil {
		t.Error("SectionKeys on a file with a duplicate section: no error")
	}
}

// checkReplaced checks out = ReplaceSection(data, name, kv) against data,
// using only Parse as the oracle: out parses; every other section has the
// same keys; the target has exactly kv (plus [DEFAULT] keys); and the bytes
// before the target's header line and from its trailing comment and blank
// lines on are unchanged (or, when the target was absent, data is a prefix
// of out).
func checkReplaced(t *testing.T, data, out []byte, name string, kv []KeyValue) {
	t.Helper()
	before, err := Parse("before", data)
	if err != nil {
		t.Fatalf("input does not parse: %v", err)
	}
	after, err := Parse("after", out)
	if err != nil {
		t.Fatalf("output does not parse: %v\n%q", err, out)
	}
	bp, ap := credProfiles(before), credProfiles(after)
	for n, keys := range bp {
		if n != name && !maps.Equal(keys, ap[n]) {
			t.Errorf("section [%s] changed: %v -> %v", n, keys, ap[n])
		}
	}
	for n := range ap {
		if _, ok := bp[n]; !ok && n != name {
			t.Errorf("new section [%s]", n)
		}
	}
	want, err := expectedSection(data, kv)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	for _, p := range kv {
		if want[pyLower(p.Key)] != p.Value {
			t.Fatalf("probe: %s = %q, want %q", p.Key, want[pyLower(p.Key)], p.Value)
		}
	}
	if got, ok := ap[name]; !ok || !maps.Equal(got, want) {
		t.Errorf("section [%s] = %v (exists: %v), want %v\n%q", name, got, ok, want, out)
	}
	if got, ok, err := SectionKeys(out, name); err != nil || !ok || !maps.Equal(got, want) {
		t.Errorf("SectionKeys(out, %q) = %v, %v, %v; want %v", name, got, ok, err, want)
	}

	// Bytes outside the section.
	starts := lineStarts(data)
	target := -1
	for i, s := range before.Sections {
		if n, ok := ProfileName(CredentialsFile, s.Header); ok && n == name {
			target = i
		}
	}
	if target < 0 {
		if !bytes.HasPrefix(out, data) {
			t.Errorf("appending changed the existing bytes:\n%q\n%q", data, out)
		}
		return
	}
	headerStart := starts[before.Sections[target].Line-1]
	keepLine := len(starts) - 1 // index of the end sentinel
	if target+1 < len(before.Sections) {
		keepLine = before.Sections[target+1].Line - 1
	}
	for keepLine > before.Sections[target].Line && isNeutral(data[starts[keepLine-1]:starts[keepLine]]) {
		keepLine--
	}
	keepFrom := starts[keepLine]
	if !bytes.HasPrefix(out, data[:headerStart]) || !bytes.HasSuffix(out, data[keepFrom:]) ||
		len(out) < headerStart+len(data)-keepFrom {
		t.Errorf("bytes outside the section changed (kept %q and %q):\n%q\n%q", data[:headerStart], data[keepFrom:], data, out)
	}
}

// lineStarts returns the offset of each line of data (universal newlines;
// a byte order mark is part of line 1), then len(data).
func lineStarts(data []byte) []int {
	starts := []int{0}
	for i := 0; i < len(data); i++ {
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		if data[i] == '\n' || data[i] == '\r' {
			starts = append(starts, i+1)
		}
	}
	if starts[len(starts)-1] != len(data) {
		starts = append(starts, len(data))
	}
	return starts
}

// isNeutral reports whether a line is blank or a full-line comment.
func isNeutral(line []byte) bool {
	text := pyTrim(strings.TrimPrefix(string(line), "\ufeff"))
	return text == "" || text[0] == '#' || text[0] == ';'
}

// credProfiles returns the credentials-file profiles of pf with their values.
func credProfiles(pf *ParsedFile) map[string]map[string]string {
	m := map[string]map[string]string{}
	for _, s := range pf.Sections {
		if n, ok := ProfileName(CredentialsFile, s.Header); ok {
			m[n] = valuesOf(s.Keys)
		}
	}
	return m
}

// expectedSection returns the keys a section holding exactly kv has when
// appended to data: kv plus the keys inherited from [DEFAULT]. It fails
// (false) when such a section makes the file unparseable, which happens
// when a [DEFAULT] value is a malformed nested block: configparser only
// parses it once a section inherits it.
func expectedSection(data []byte, kv []KeyValue) (map[string]string, error) {
	probe := fmt.Sprintf("probe-%d", time.Now().UnixNano())
	var b strings.Builder
	b.Write(data)
	b.WriteString("\n[" + probe + "]\n")
	for _, p := range kv {
		b.WriteString(p.Key + "=" + p.Value + "\n")
	}
	pf, err := Parse("probe", []byte(b.String()))
	if err != nil {
		return nil, err
	}
	s := pf.Sections[len(pf.Sections)-1]
	if !defaultProbe.MatchString(s.Header) {
		return nil, fmt.Errorf("probe section not last: %q", s.Header)
	}
	return valuesOf(s.Keys), nil
}

var defaultProbe = regexp.MustCompile(`^probe-\d+$`)

// checkLoadedProfiles writes data and out as credentials files and checks
// with Load that the other profiles are unchanged and the target holds kv.
func checkLoadedProfiles(t *testing.T, dir string, data, out []byte, name string, kv []KeyValue) {
	t.Helper()
	noConfig := filepath.Join(dir, "no-config")
	beforePath, afterPath := filepath.Join(dir, "before"), filepath.Join(dir, "after")
	if err := os.WriteFile(beforePath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(afterPath, out, 0o600); err != nil {
		t.Fatal(err)
	}
	before, err := Load(noConfig, beforePath)
	if err != nil {
		t.Fatal(err)
	}
	after, err := Load(noConfig, afterPath)
	if err != nil {
		t.Fatal(err)
	}
	for n, p := range before.Profiles {
		if n == name {
			continue
		}
		q, ok := after.Profile(n)
		if !ok || !maps.Equal(valuesOf(p.Keys), valuesOf(q.Keys)) {
			t.Errorf("Load: profile %q changed: %v -> %v", n, valuesOf(p.Keys), q)
		}
	}
	if len(after.Profiles) != len(before.Profiles) {
		if _, existed := before.Profiles[name]; existed || len(after.Profiles) != len(before.Profiles)+1 {
			t.Errorf("Load: %d profiles before, %d after", len(before.Profiles), len(after.Profiles))
		}
	}
	p, ok := after.Profile(name)
	if !ok {
		t.Fatalf("Load: no profile %q after the write", name)
	}
	for _, kv := range kv {
		if v, _ := p.Get(kv.Key); v.Value != kv.Value {
			t.Errorf("Load: %s = %q, want %q", kv.Key, v.Value, kv.Value)
		}
	}
}

// --- WriteCredentialsSection ---

var sessionKV = []KeyValue{
	{"aws_access_key_id", "ASIAWRITTEN"},
	{"aws_secret_access_key", "written-secret"},
	{"aws_session_token", "written-token"},
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeString(t *testing.T, path, data string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestWriteCredentialsSectionLongTermKeys(t *testing.T) {
	tests := []struct {
		name, data string
		refused    bool
	}{
		{"long-term keys", "[t]\naws_access_key_id = AKIALONG\naws_secret_access_key = s\n", true},
		{"upper-case key", "[t]\nAWS_ACCESS_KEY_ID = AKIALONG\n", true},
		{"empty token", "[t]\naws_access_key_id = AKIALONG\naws_session_token =\n", true},
		{"session keys", "[t]\naws_access_key_id = ASIA\naws_secret_access_key = s\naws_session_token = tok\n", false},
		{"legacy security token", "[t]\naws_access_key_id = ASIA\naws_security_token = tok\n", false},
		{"no keys", "[t]\nregion = us-east-1\n", false},
		{"absent section", "[other]\naws_access_key_id = AKIALONG\n", false},
		{"[profile t] is another section", "[profile t]\naws_access_key_id = AKIALONG\n", false},
		{"keys inherited from DEFAULT are not the section's", "[DEFAULT]\naws_access_key_id = AKIALONG\n[t]\nregion = r\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(winetest.TempDir(t), "credentials")
			writeString(t, path, tc.data, 0o600)
			err := WriteCredentialsSection(path, "t", sessionKV, WriteOptions{})
			if tc.refused {
				if !errors.Is(err, ErrLongTermKeys) {
					t.Fatalf("error %v, want ErrLongTermKeys", err)
				}
				want := fmt.Sprintf("section [t] of %s holds long-term access keys (no aws_session_token): "+
					"refusing to overwrite them; pass --force or choose another --to", ShortPath(path))
				if err.Error() != want {
					t.Errorf("error\n%s\nwant\n%s", err, want)
				}
				if got := readString(t, path); got != tc.data {
					t.Fatalf("refused write changed the file: %q", got)
				}
				err = WriteCredentialsSection(path, "t", sessionKV, WriteOptions{Force: true})
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := SectionKeys([]byte(readString(t, path)), "t")
			if err != nil || got["aws_access_key_id"] != "ASIAWRITTEN" || got["aws_session_token"] != "written-token" {
				t.Errorf("section after the write: %v, %v", got, err)
			}
		})
	}
}

func TestWriteCredentialsSectionFiles(t *testing.T) {
	t.Run("new file and directory", func(t *testing.T) {
		dir := filepath.Join(winetest.TempDir(t), "home", ".aws")
		path := filepath.Join(dir, "credentials")
		if err := WriteCredentialsSection(path, "new", sessionKV, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		want := "[new]\naws_access_key_id = ASIAWRITTEN\naws_secret_access_key = written-secret\naws_session_token = written-token\n"
		if got := readString(t, path); got != want {
			t.Errorf("file %q", got)
		}
		if runtime.GOOS != "windows" {
			if m := statMode(t, path); m != 0o600 {
				t.Errorf("file mode %o, want 0600", m)
			}
			if m := statMode(t, dir); m != 0o700 {
				t.Errorf("directory mode %o, want 0700", m)
			}
		}
	})
	t.Run("existing directory is left alone", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("Unix permission bits")
		}
		dir := winetest.TempDir(t)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := WriteCredentialsSection(filepath.Join(dir, "credentials"), "new", sessionKV, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if m := statMode(t, dir); m != 0o755 {
			t.Errorf("directory mode %o, want 0755 kept", m)
		}
	})
	t.Run("modes: kept when private, tightened with a notice otherwise", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("Unix permission bits")
		}
		for _, tc := range []struct {
			mode, want fs.FileMode
			sameData   bool // the section already holds these credentials
		}{
			{0o600, 0o600, false},
			{0o400, 0o400, false},
			{0o640, 0o600, false},
			{0o604, 0o600, false},
			{0o644, 0o600, false},
			{0o644, 0o600, true}, // nothing to change but the mode
		} {
			path := filepath.Join(winetest.TempDir(t), "credentials")
			data := "[a]\nk = v\n"
			if tc.sameData {
				data = "[new]\naws_access_key_id = ASIAWRITTEN\naws_secret_access_key = written-secret\naws_session_token = written-token\n"
			}
			writeString(t, path, data, tc.mode)
			var notices []string
			notice := func(format string, args ...any) { notices = append(notices, fmt.Sprintf(format, args...)) }
			if err := WriteCredentialsSection(path, "new", sessionKV, WriteOptions{Notice: notice}); err != nil {
				t.Fatal(err)
			}
			if m := statMode(t, path); m != tc.want {
				t.Errorf("mode %04o: now %04o, want %04o", tc.mode, m, tc.want)
			}
			switch {
			case tc.want == tc.mode && len(notices) != 0:
				t.Errorf("mode %04o: unexpected notice %q", tc.mode, notices)
			case tc.want != tc.mode && (len(notices) != 1 || !strings.Contains(notices[0], "tightened it to 0600")):
				t.Errorf("mode %04o: notices %q, want one saying it was tightened", tc.mode, notices)
			}
		}
	})
	t.Run("symlink followed", func(t *testing.T) {
		dir := winetest.TempDir(t)
		real := filepath.Join(dir, "dotfiles", "credentials")
		if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
			t.Fatal(err)
		}
		writeString(t, real, "[a]\nk = v\n", 0o600)
		link := filepath.Join(dir, "credentials")
		winetest.SkipNoSymlinks(t)
		if err := os.Symlink(filepath.Join("dotfiles", "credentials"), link); err != nil {
			t.Skipf("symlinks: %v", err)
		}
		if err := WriteCredentialsSection(link, "new", sessionKV, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
			t.Fatalf("the link was replaced: %v %v", st.Mode(), err)
		}
		if got := readString(t, real); !strings.Contains(got, "[a]\nk = v\n") || !strings.Contains(got, "[new]") {
			t.Errorf("target file %q", got)
		}
	})
	t.Run("no change, no write", func(t *testing.T) {
		path := filepath.Join(winetest.TempDir(t), "credentials")
		if err := WriteCredentialsSection(path, "new", sessionKV, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Hour).Truncate(time.Second)
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
		if err := WriteCredentialsSection(path, "new", sessionKV, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(path); err != nil || !st.ModTime().Equal(old) {
			t.Errorf("the file was rewritten with the same content")
		}
	})
	t.Run("unparseable file is refused", func(t *testing.T) {
		path := filepath.Join(winetest.TempDir(t), "credentials")
		writeString(t, path, "[a]\nbroken line\n", 0o600)
		err := WriteCredentialsSection(path, "new", sessionKV, WriteOptions{})
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != path || pe.Line != 2 {
			t.Fatalf("error %v, want a *ParseError at line 2 of the file", err)
		}
		if got := readString(t, path); got != "[a]\nbroken line\n" {
			t.Errorf("file changed: %q", got)
		}
	})
	t.Run("lock timeout", func(t *testing.T) {
		path := filepath.Join(winetest.TempDir(t), "credentials")
		l, err := acquireForTest(path + ".lock")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Release()
		err = WriteCredentialsSection(path, "new", sessionKV, WriteOptions{LockTimeout: 100 * time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), "timed out") {
			t.Fatalf("error %v, want a lock timeout", err)
		}
	})
}

func statMode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// TestWriteCredentialsSectionCompareAndSwap: a writer that does not take the
// lock (as `aws configure set`) and changes the file between our read and
// our write does not lose its change: the write is redone on top of it.
func TestWriteCredentialsSectionCompareAndSwap(t *testing.T) {
	path := filepath.Join(winetest.TempDir(t), "credentials")
	writeString(t, path, "[a]\nk = v\n", 0o600)
	var attempts []int
	hook := func(attempt int) {
		attempts = append(attempts, attempt)
		if attempt <= 2 {
			// what `aws configure set x_other N --profile other` does
			data := readString(t, path)
			writeString(t, path, data+fmt.Sprintf("[other%d]\nk = %d\n", attempt, attempt), 0o600)
		}
	}
	if err := WriteCredentialsSection(path, "new", sessionKV, WriteOptions{beforeCommit: hook}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(attempts) != "[1 2 3]" {
		t.Errorf("attempts %v, want [1 2 3]", attempts)
	}
	got := readString(t, path)
	for _, want := range []string{"[a]\nk = v\n", "[other1]\nk = 1\n", "[other2]\nk = 2\n", "[new]\naws_access_key_id = ASIAWRITTEN\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("file lost %q:\n%s", want, got)
		}
	}

	// A file that never stops changing: give up after 5 attempts, write nothing.
	attempts = nil
	n := 0
	hook = func(attempt int) {
		attempts = append(attempts, attempt)
		n++
		writeString(t, path, fmt.Sprintf("[busy]\nk = %d\n", n), 0o600)
	}
	err := WriteCredentialsSection(path, "again", sessionKV, WriteOptions{beforeCommit: hook})
	if err == nil || !strings.Contains(err.Error(), "changed while rolehop was updating it") {
		t.Fatalf("error %v", err)
	}
	if len(attempts) != 5 {
		t.Errorf("%d attempts, want 5", len(attempts))
	}
	if got := readString(t, path); got != "[busy]\nk = 5\n" {
		t.Errorf("file %q, want the other writer's last version", got)
	}
}
