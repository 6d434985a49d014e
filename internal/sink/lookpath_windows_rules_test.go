package sink

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestLookPathWindowsRules runs the Windows command lookup on any
// platform, with a fake file system (paths joined with this platform's
// separator).
func TestLookPathWindowsRules(t *testing.T) {
	root, _ := filepath.Abs("win")
	bin, tools := filepath.Join(root, "bin"), filepath.Join(root, "tools")
	files := map[string]bool{
		filepath.Join(bin, "terraform.exe"): true,
		filepath.Join(tools, "deploy.cmd"):  true,
		filepath.Join(tools, "deploy.exe"):  true,
		filepath.Join(tools, "run.ps1"):     true,
		filepath.Join(root, "local.bat"):    true,
		filepath.Join("rel", "tool.exe"):    true,
	}
	isFile := func(p string) bool { return files[p] }
	path := "Path=" + bin + string(filepath.ListSeparator) + tools
	tests := []struct {
		name string
		env  []string
		want string // "" means an error containing wantErr
		err  string
	}{
		{"terraform", []string{path}, filepath.Join(bin, "terraform.exe"), ""},
		// PATH and PATHEXT are found whatever their case; PATHEXT's order
		// decides, lower-cased.
		{"deploy", []string{path, "PATHEXT=.CMD;.EXE"}, filepath.Join(tools, "deploy.cmd"), ""},
		{"deploy", []string{path, "pathext=EXE;.CMD"}, filepath.Join(tools, "deploy.exe"), ""},
		// The default PATHEXT has no .ps1.
		{"run", []string{path}, "", "not found in PATH"},
		{"run.ps1", []string{path}, filepath.Join(tools, "run.ps1"), ""},
		// A name with a separator is used as is (Start reports a failure).
		{filepath.Join(root, "local"), []string{path}, filepath.Join(root, "local.bat"), ""},
		{filepath.Join(root, "missing"), []string{path}, filepath.Join(root, "missing"), ""},
		{"terraform", []string{"HOME=x"}, "", "PATH is not set"},
		// A relative PATH entry is refused, as os/exec does.
		{"tool", []string{"PATH=rel"}, "", "relative PATH entry"},
	}
	for _, tc := range tests {
		got, err := lookPathWindows(tc.name, tc.env, isFile)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s %v: got %q, %v; want error %q", tc.name, tc.env, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s %v: got %q, %v; want %q", tc.name, tc.env, got, err, tc.want)
		}
	}
}
