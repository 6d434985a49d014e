package awsconfig

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rolehop/rolehop/internal/winetest"
)

// seedFiles are seed inputs for both fuzz targets.
var seedFiles = []string{
	"",
	"[default]\nregion = us-east-1 # c\n",
	"# c\n; c\n[profile dev]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = default\n",
	"[profile \"a b\"]\nk = v\n[profile a b]\nk = w\n[profilefoo]\n",
	"[default]\ns3 =\n  endpoint_url = http://x\n  addressing_style = path\n",
	"[default]\r\nk = v\r\n  cont\r\n\r\n  more\r\n",
	"\ufeff[a]\rk: v\r",
	"[DEFAULT]\nd = 1\n[profile a]\n[b]\nd = 2\n",
	"[sso-session s]\nsso_start_url = https://x\n[services v]\ns3 =\n  x = 1\n",
	"[default]\nk = 1\n[profile default]\nk = 2\n",
	"[a]\nrole_arn\n",
	"k = v\n",
	"[profile x\n",
	"[a]\n[a]\n",
	"[a]\nk=1\nK=2\n",
	"[a]\ns3 =\n  bad\n",
	"[a]\nk = \xff\n",
	"[a]]b] x\n  [c]\n\u00a0k\x1c=\x1fv\u2028\n",
}

// countLines counts lines as Python's universal newlines do, independently
// of the parser's own splitting.
func countLines(s string) int {
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s)
	n := strings.Count(s, "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}

func FuzzParse(f *testing.F) {
	for _, s := range seedFiles {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const path = "/fuzz/config"
		pf, err := Parse(path, data)
		pf2, err2 := Parse(path, data)
		if !reflect.DeepEqual(pf, pf2) || !reflect.DeepEqual(err, err2) {
			t.Fatalf("Parse is not deterministic: %v %v / %v %v", pf, err, pf2, err2)
		}
		n := countLines(strings.TrimPrefix(string(data), "\ufeff"))
		if err != nil {
			checkParseError(t, err, path, n)
		} else {
			checkParsedFile(t, pf, path, n)
		}
		checkEquivalent(t, "with a BOM", data, []byte("\ufeff"+string(data)), !strings.HasPrefix(string(data), "\ufeff"))
		checkEquivalent(t, "with CRLF", data, []byte(strings.ReplaceAll(string(data), "\n", "\r\n")), !strings.Contains(string(data), "\r"))
	})
}

func checkParseError(t *testing.T, err error, path string, n int) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *ParseError", err)
	}
	if pe.File != path || pe.Line < 1 || pe.Line > n {
		t.Fatalf("error at %s:%d, want %s:1..%d", pe.File, pe.Line, path, n)
	}
	if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, path+":") {
		t.Fatalf("Error() = %q, want one line starting with %q", msg, path+":")
	}
}

func checkParsedFile(t *testing.T, pf *ParsedFile, path string, n int) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range pf.Sections {
		if seen[s.Header] || s.Header == defaultSection {
			t.Fatalf("section %q listed twice or is DEFAULT", s.Header)
		}
		seen[s.Header] = true
		if s.Line < 1 || s.Line > n || s.Title != pyTrim(s.Header) {
			t.Fatalf("section %q: line %d of %d, title %q", s.Header, s.Line, n, s.Title)
		}
		for k, v := range s.Keys {
			if k == "" || pyLower(k) != k {
				t.Fatalf("key %q is empty or not lower-case", k)
			}
			if v.File != path || v.Line < 1 || v.Line > n {
				t.Fatalf("key %q at %s:%d, want %s:1..%d", k, v.File, v.Line, path, n)
			}
		}
	}
}

// checkEquivalent checks that b parses like a, when cond holds.
func checkEquivalent(t *testing.T, what string, a, b []byte, cond bool) {
	t.Helper()
	if !cond {
		return
	}
	pa, ea := Parse("f", a)
	pb, eb := Parse("f", b)
	if !reflect.DeepEqual(pa, pb) || !reflect.DeepEqual(ea, eb) {
		t.Fatalf("%s parses differently:\n%v %v\n%v %v", what, pa, ea, pb, eb)
	}
}

func FuzzLoad(f *testing.F) {
	for i, s := range seedFiles {
		f.Add([]byte(s), []byte(seedFiles[(i*7+3)%len(seedFiles)]))
	}
	f.Add([]byte("[profile dev]\na = 1\nb = 2\n"), []byte("[dev]\nb = 3\nc = 4\n[profile dev]\nd = 5\n"))
	dir := winetest.TempDir(f)
	cfgPath, credPath := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	f.Fuzz(func(t *testing.T, cfgData, credData []byte) {
		writeOrRemove(t, cfgPath, cfgData)
		writeOrRemove(t, credPath, credData)
		c, err := Load(cfgPath, credPath)
		cfg, cfgErr := Parse(cfgPath, cfgData)
		cred, credErr := Parse(credPath, credData)
		if want := errors.Join(cfgErr, credErr); want != nil {
			var pe, wantPE *ParseError
			errors.As(want, &wantPE)
			if !errors.As(err, &pe) || *pe != *wantPE {
				t.Fatalf("Load error = %v, want %v", err, wantPE)
			}
			return
		}
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		checkMerge(t, c, cfg, cred)
	})
}

// writeOrRemove writes data to path, or removes path if data is empty (a
// missing file must behave like an empty one).
func writeOrRemove(t *testing.T, path string, data []byte) {
	t.Helper()
	var err error
	if len(data) == 0 {
		err = os.Remove(path)
		if errors.Is(err, os.ErrNotExist) {
			err = nil
		}
	} else {
		err = os.WriteFile(path, data, 0o600)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// checkMerge checks the merged profiles against the parsed files: every
// profile comes from one of them, the profile's position is the config
// section's if there is one, and a key comes from the credentials file if it
// is there, else from the last config section of that profile.
func checkMerge(t *testing.T, c *Config, cfg, cred *ParsedFile) {
	t.Helper()
	fromCfg := map[string]ParsedSection{}
	for _, s := range cfg.Sections {
		if name, ok := ProfileName(ConfigFile, s.Header); ok {
			fromCfg[name] = s // a later section replaces an earlier one
		}
	}
	fromCred := map[string]ParsedSection{}
	for _, s := range cred.Sections {
		if name, ok := ProfileName(CredentialsFile, s.Header); ok {
			fromCred[name] = s
		}
	}
	var names []string
	for name := range fromCfg {
		names = append(names, name)
	}
	for name := range fromCred {
		if _, ok := fromCfg[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if got := c.ProfileNames(); !slices.Equal(got, names) {
		t.Fatalf("ProfileNames() = %q, want %q", got, names)
	}
	for _, name := range names {
		checkProfile(t, c, name, fromCfg, fromCred)
	}
	for name, s := range c.SSOSessions {
		if s.Name != name || s.File != c.ConfigFile {
			t.Fatalf("sso-session %q: %+v", name, s)
		}
	}
}

func checkProfile(t *testing.T, c *Config, name string, fromCfg, fromCred map[string]ParsedSection) {
	t.Helper()
	p, ok := c.Profile(name)
	if !ok || p.Name != name {
		t.Fatalf("profile %q: %+v, %v", name, p, ok)
	}
	cs, inCfg := fromCfg[name]
	ks := fromCred[name]
	want := Profile{Name: name, File: c.CredentialsFile, Line: ks.Line, Keys: map[string]Value{}}
	if inCfg {
		want.File, want.Line = c.ConfigFile, cs.Line
		for k, v := range cs.Keys {
			want.Keys[k] = v
		}
	}
	for k, v := range ks.Keys {
		want.Keys[k] = v
	}
	if !reflect.DeepEqual(*p, want) {
		t.Fatalf("profile %q = %+v\nwant %+v", name, *p, want)
	}
	for k, v := range p.Keys {
		if got, ok := p.Get(strings.ToUpper(k)); pyLower(strings.ToUpper(k)) == k && (!ok || got != v) {
			t.Fatalf("Get(%q) = %v, %v; want %v", strings.ToUpper(k), got, ok, v)
		}
	}
}
