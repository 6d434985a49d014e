package docgen

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rolehop/rolehop/internal/winetest"
)

// repoDocs is the checked-in reference, relative to this package.
const repoDocs = "../../docs"

// generate writes the reference into a fresh directory, with an
// environment unlike any real one: what the reference says must not depend
// on it.
func generate(t *testing.T) string {
	t.Helper()
	for k, v := range map[string]string{
		"HOME": "/home/leak-home", "USER": "leak-user", "USERNAME": "leak-user", "LOGNAME": "leak-user",
		"AWS_PROFILE": "leak-profile", "AWS_REGION": "leak-region-1", "AWS_CONFIG_FILE": "/leak/config",
		"XDG_CACHE_HOME": "/leak/cache", "ROLEHOP_CACHE_DIR": "/leak/rolehop", "SOURCE_DATE_EPOCH": "86400",
	} {
		t.Setenv(k, v)
	}
	dir := winetest.TempDir(t)
	if err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// files returns name → content of the files of dir/sub.
func files(t *testing.T, dir, sub string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, sub))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, sub, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// TestDocsUpToDate: docs/cli and docs/man are what `make docs` writes now.
func TestDocsUpToDate(t *testing.T) {
	gen := generate(t)
	for _, sub := range []string{MarkdownDir, ManDir} {
		want, have := files(t, gen, sub), files(t, repoDocs, sub)
		var stale []string
		for name, b := range want {
			if !bytes.Equal(have[name], b) {
				stale = append(stale, name)
			}
		}
		for name := range have {
			if _, ok := want[name]; !ok {
				stale = append(stale, name+" (no such command)")
			}
		}
		slices.Sort(stale)
		if len(stale) > 0 {
			t.Errorf("docs/ is out of date: run make docs (docs/%s: %s)", sub, strings.Join(stale, ", "))
		}
	}
}

// TestDocsReproducible: no date, path, user or environment value reaches
// the reference, and two runs write the same bytes.
func TestDocsReproducible(t *testing.T) {
	a, b := generate(t), generate(t)
	wd, _ := os.Getwd()
	host, _ := os.Hostname()
	leaks := []string{"leak-", "/leak", a, b, wd, os.TempDir() + "/", "Auto generated", "1970", "Jan 0001"}
	if host != "" {
		leaks = append(leaks, host)
	}
	for _, sub := range []string{MarkdownDir, ManDir} {
		fa, fb := files(t, a, sub), files(t, b, sub)
		if len(fa) < 25 {
			t.Errorf("%s: only %d pages", sub, len(fa))
		}
		for name, content := range fa {
			if !bytes.Equal(content, fb[name]) {
				t.Errorf("%s/%s differs between two runs", sub, name)
			}
			for _, l := range leaks {
				if bytes.Contains(content, []byte(l)) {
					t.Errorf("%s/%s contains %q", sub, name, l)
				}
			}
		}
	}
	man := files(t, a, ManDir)
	for name, content := range man {
		if !bytes.Contains(content, []byte("\n.TH \"ROLEHOP\" \"1\" \"\" \"rolehop\" \"rolehop manual\"\n")) {
			t.Errorf("%s: no fixed .TH header:\n%.200s", name, content)
		}
	}
	if _, ok := man["rolehop-export.1"]; !ok {
		t.Error("no rolehop-export.1")
	}
	if _, ok := files(t, a, MarkdownDir)["rolehop_sso_populate.md"]; !ok {
		t.Error("no rolehop_sso_populate.md")
	}
}
