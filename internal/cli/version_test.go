package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/buildinfo"
	"github.com/rolehop/rolehop/internal/upgrade"
)

// fakeInfo is a release build of a modified tree.
func fakeInfo() buildinfo.Info {
	return buildinfo.Info{Version: "1.2.3", Commit: "4c64b9c", CommitTime: "2026-11-30T12:00:00Z", Modified: true,
		Go: "go1.26.8", OS: "linux", Arch: "amd64"}
}

const fakeLine = "rolehop 1.2.3 (commit 4c64b9c, 2026-11-30T12:00:00Z, modified) go1.26.8 linux/amd64\n"

// runTooling runs a root that has only the tooling, with fake build
// information.
func runTooling(t *testing.T, args ...string) (stdout string, err error) {
	t.Helper()
	return runToolingWith(t, fakeInfo(), nil, upgrade.Probe{}, args...)
}

// runToolingWith is runTooling with the build information, the environment
// and the installation probe given.
func runToolingWith(t *testing.T, info buildinfo.Info, env map[string]string, probe upgrade.Probe, args ...string) (stdout string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	sys := IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(k string) string { return env[k] }}
	root := &cobra.Command{Use: "rolehop", SilenceUsage: true, SilenceErrors: true}
	root.SetOut(&out)
	root.SetErr(&errb)
	addToolingWith(root, sys, func() buildinfo.Info { return info }, func() upgrade.Probe { return probe })
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}, {"version", "-o", "text"}} {
		out, err := runTooling(t, args...)
		if err != nil || out != fakeLine {
			t.Errorf("%q: %v\ngot  %q\nwant %q", args, err, out, fakeLine)
		}
	}
	for _, args := range [][]string{{"version", "-o", "json"}, {"version", "--output", "json"}, {"version", "--json"}} {
		out, err := runTooling(t, args...)
		var got map[string]any
		if err != nil || json.Unmarshal([]byte(out), &got) != nil {
			t.Fatalf("%q: %v\n%s", args, err, out)
		}
		want := map[string]any{"version": "1.2.3", "commit": "4c64b9c", "commit_time": "2026-11-30T12:00:00Z", "modified": true,
			"go": "go1.26.8", "os": "linux", "arch": "amd64"}
		if len(got) != len(want) {
			t.Errorf("%q: fields %v, want %v", args, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%q: %s = %v, want %v", args, k, got[k], v)
			}
		}
	}
}

func TestVersionUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"version", "now"}, `"rolehop version" takes no arguments, got "now"`},
		{[]string{"version", "-o", "yaml"}, `unknown --output "yaml"`},
		{[]string{"completion", "tcsh"}, `unknown shell "tcsh"`},
		{[]string{"completion", "bash", "extra"}, `takes no arguments`},
	} {
		code, stdout, stderr := run(t, "", nil, tc.args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: code %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

// The real binary's line has the same shape as the fake one.
func TestVersionOfThisBuild(t *testing.T) {
	code, stdout, _ := run(t, "", nil, "--version")
	_, stdout2, _ := run(t, "", nil, "version")
	if code != 0 || !strings.HasPrefix(stdout, "rolehop ") || !strings.HasSuffix(stdout, "\n") || stdout != stdout2 {
		t.Errorf("--version %q, version %q", stdout, stdout2)
	}
}
