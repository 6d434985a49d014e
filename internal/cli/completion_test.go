package cli

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

const completionConfig = testConfig + `[profile dev/Admin]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Admin
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
[sso-session lab]
sso_start_url = https://lab.awsapps.com/start
sso_region = eu-west-1
`

// complete runs `rolehop __complete ARGS... TOCOMPLETE` (what the shell
// scripts run) and returns the candidates without descriptions and the
// directive.
func complete(t *testing.T, args ...string) ([]string, cobra.ShellCompDirective) {
	t.Helper()
	code, stdout, stderr := run(t, completionConfig, nil, append([]string{cobra.ShellCompRequestCmd}, args...)...)
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	last := lines[len(lines)-1]
	d, err := strconv.Atoi(strings.TrimPrefix(last, ":"))
	if code != 0 || !strings.HasPrefix(last, ":") || err != nil {
		t.Fatalf("__complete %q: code %d\nstdout %s\nstderr %s", args, code, stdout, stderr)
	}
	var names []string
	for _, l := range lines[:len(lines)-1] {
		name, _, _ := strings.Cut(l, "\t")
		names = append(names, name)
	}
	return names, cobra.ShellCompDirective(d)
}

var allProfiles = []string{"base", "dev/Admin", "prod"}

func noFiles(d cobra.ShellCompDirective) bool { return d&cobra.ShellCompDirectiveNoFileComp != 0 }

// commands lists every command of the tree with its path words after
// "rolehop", the root first.
func commands(c *cobra.Command, path []string) [][]string {
	out := [][]string{path}
	for _, sub := range c.Commands() {
		out = append(out, commands(sub, append(slices.Clone(path), sub.Name()))...)
	}
	return out
}

func findCommand(root *cobra.Command, path []string) *cobra.Command {
	c, _, err := root.Find(path)
	if err != nil {
		panic(err)
	}
	return c
}

// TestCompletionEveryCommandAndFlag walks the whole tree: PROFILE
// arguments and --profile complete profile names, --sso-session the
// [sso-session NAME] sections, value flags their values (the default among
// them), path flags file names, and nothing else completes file names.
// keychainProfileCommands complete the profiles whose keys are in the
// keychain, not every profile.
var keychainProfileCommands = map[string]bool{"rolehop keys remove": true, "rolehop keys rotate": true}

func TestCompletionEveryCommandAndFlag(t *testing.T) {
	root := newRoot(IO{Getenv: func(string) string { return "" }})
	valued := map[string]bool{"format": true, "output": true, "document": true, "web-identity": true}
	seen := map[string]bool{}
	for _, path := range commands(root, nil) {
		cmd := findCommand(root, path)
		name := strings.Join(append([]string{"rolehop"}, path...), " ")
		args, d := complete(t, append(slices.Clone(path), "")...)
		switch {
		case cmd.HasAvailableSubCommands():
			if len(args) == 0 || !noFiles(d) {
				t.Errorf("%s <Tab>: %q directive %d, want its subcommands and no files", name, args, d)
			}
		case keychainProfileCommands[name]:
			// the profiles of the keychain index, of which there are none here
			if len(args) != 0 || !noFiles(d) {
				t.Errorf("%s <Tab>: %q directive %d, want no profile (the keychain index is empty) and no files", name, args, d)
			}
		case strings.Contains(cmd.Use, "PROFILE"):
			if !slices.Equal(args, allProfiles) || !noFiles(d) {
				t.Errorf("%s <Tab>: %q directive %d, want the profiles %q and no files", name, args, d, allProfiles)
			}
			seen["PROFILE"] = true
		default:
			if len(args) != 0 || !noFiles(d) {
				t.Errorf("%s <Tab>: %q directive %d, want nothing", name, args, d)
			}
		}
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden || f.Value.Type() == "bool" {
				return
			}
			seen[f.Name] = true
			got, d := complete(t, append(slices.Clone(path), "--"+f.Name, "")...)
			switch {
			case f.Name == "profile":
				if !slices.Equal(got, allProfiles) || !noFiles(d) {
					t.Errorf("%s --profile <Tab>: %q directive %d, want %q", name, got, d, allProfiles)
				}
			case f.Name == "sso-session":
				if !slices.Equal(got, []string{"corp", "lab"}) || !noFiles(d) {
					t.Errorf("%s --sso-session <Tab>: %q directive %d, want corp, lab", name, got, d)
				}
			case valued[f.Name]:
				if len(got) == 0 || (f.DefValue != "" && !slices.Contains(got, f.DefValue)) || !noFiles(d) {
					t.Errorf("%s --%s <Tab>: %q directive %d, want its values (default %q among them)", name, f.Name, got, d, f.DefValue)
				}
			case slices.Contains(pathFlags(), f.Name):
				if d != cobra.ShellCompDirectiveDefault {
					t.Errorf("%s --%s <Tab>: directive %d, want file names", name, f.Name, d)
				}
			default:
				if !noFiles(d) {
					t.Errorf("%s --%s <Tab>: %q directive %d, want no file names", name, f.Name, got, d)
				}
			}
		})
	}
	// The walk reached what it is about.
	for _, f := range []string{"PROFILE", "profile", "sso-session", "format", "output", "document", "web-identity", "policy"} {
		if !seen[f] {
			t.Errorf("no command has %s", f)
		}
	}
}

func TestCompletionSpecifics(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"export", "--format", ""}, []string{"sh", "fish", "powershell", "cmd", "dotenv", "json", "github", "env", "env-no-export", "windows-cmd", "process"}},
		{[]string{"export", "-f", ""}, []string{"sh", "fish", "powershell", "cmd", "dotenv", "json", "github", "env", "env-no-export", "windows-cmd", "process"}},
		{[]string{"serve", "--format", ""}, []string{"sh", "fish", "powershell", "cmd"}},
		{[]string{"policy", "--format", ""}, []string{"json", "cloudformation", "terraform"}},
		{[]string{"policy", "--document", ""}, []string{"trust", "permission"}},
		{[]string{"whoami", "-o", ""}, []string{"text", "json"}},
		{[]string{"version", "--output", ""}, []string{"text", "json"}},
		{[]string{"exec", "--web-identity", ""}, []string{"github"}},
		{[]string{"login", "--sso-session", ""}, []string{"corp", "lab"}},
		{[]string{"logout", "--sso-session", ""}, []string{"corp", "lab"}},
		{[]string{"sso", "populate", "--sso-session", ""}, []string{"corp", "lab"}},
		// serve takes several profiles: those given are not offered again.
		{[]string{"serve", "prod", ""}, []string{"base", "dev/Admin"}},
		{[]string{"serve", "prod", "base", ""}, []string{"dev/Admin"}},
		// Only one PROFILE elsewhere.
		{[]string{"export", "prod", ""}, nil},
		{[]string{"completion", ""}, []string{"bash", "fish", "powershell", "zsh"}},
	}
	for _, tc := range tests {
		got, d := complete(t, tc.args...)
		if !slices.Equal(got, tc.want) || !noFiles(d) {
			t.Errorf("%q: %q directive %d, want %q and no files", tc.args, got, d, tc.want)
		}
	}
	// exec: after the PROFILE come the command's arguments, file names.
	if got, d := complete(t, "exec", "prod", "--", "./deploy.sh", ""); len(got) != 0 || d != cobra.ShellCompDirectiveDefault {
		t.Errorf("exec prod -- ./deploy.sh <Tab>: %q directive %d, want file names", got, d)
	}
	// Descriptions say what a profile uses and where a session starts.
	_, stdout, _ := run(t, completionConfig, nil, cobra.ShellCompRequestCmd, "export", "")
	if !strings.Contains(stdout, "prod\trole arn:aws:iam::222222222222:role/prod\n") || !strings.Contains(stdout, "dev/Admin\tsso 111111111111 Admin\n") {
		t.Errorf("profile descriptions:\n%s", stdout)
	}
	_, stdout, _ = run(t, completionConfig, nil, cobra.ShellCompRequestCmd, "login", "--sso-session", "")
	if !strings.Contains(stdout, "corp\thttps://corp.awsapps.com/start\n") {
		t.Errorf("session descriptions:\n%s", stdout)
	}
	// A broken config file completes nothing rather than failing.
	code, stdout, _ := run(t, "[profile x\n", nil, cobra.ShellCompRequestCmd, "export", "")
	if code != 0 || !strings.HasPrefix(stdout, ":4\n") {
		t.Errorf("broken config: code %d, %q", code, stdout)
	}
}

// Every shell's script generates and calls back into rolehop (__complete),
// which is what completes profile names; bash and zsh are run for real in
// test/e2e (completion_test.go), fish and PowerShell are not installed in
// CI.
func TestCompletionScripts(t *testing.T) {
	marks := map[string][]string{
		"bash":       {"__start_rolehop", "complete -o default -F __start_rolehop rolehop", "__complete"},
		"zsh":        {"#compdef rolehop", "compdef _rolehop rolehop", "__complete"},
		"fish":       {"complete -c rolehop", "__complete"},
		"powershell": {"Register-ArgumentCompleter", "-CommandName 'rolehop'", "__complete"},
	}
	for shell, want := range marks {
		for _, extra := range [][]string{nil, {"--no-descriptions"}} {
			code, stdout, stderr := run(t, "", nil, append([]string{"completion", shell}, extra...)...)
			if code != 0 || stderr != "" {
				t.Fatalf("completion %s %q: code %d, stderr %s", shell, extra, code, stderr)
			}
			for _, w := range want {
				if !strings.Contains(stdout, w) {
					t.Errorf("completion %s %q: no %q in the script", shell, extra, w)
				}
			}
		}
	}
	// Each shell's help says how to install it.
	for shell, want := range map[string][]string{
		"bash":       {"source <(rolehop completion bash)", "bash-completion", "~/.local/share/bash-completion/completions/rolehop"},
		"zsh":        {"compinit", "fpath=(~/.zsh/completions $fpath)", "_rolehop"},
		"fish":       {"rolehop completion fish | source", "~/.config/fish/completions/rolehop.fish"},
		"powershell": {"$PROFILE", "Out-String | Invoke-Expression"},
	} {
		_, stdout, _ := run(t, "", nil, "completion", shell, "--help")
		for _, w := range want {
			if !strings.Contains(stdout, w) {
				t.Errorf("completion %s --help: no %q", shell, w)
			}
		}
	}
}
