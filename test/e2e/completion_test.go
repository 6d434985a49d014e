//go:build unix

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The completion scripts of `rolehop completion bash|zsh`, loaded the way
// `rolehop completion SHELL --help` says, in the real shells, with the
// built rolehop on PATH and a private AWS_CONFIG_FILE. fish and PowerShell
// are not installed in CI; internal/cli checks that their scripts generate.

const completionConfig = `
	[profile base]
	aws_access_key_id = AKIATESTKEY000000001
	aws_secret_access_key = topsecret
	[profile prod]
	role_arn = arn:aws:iam::222222222222:role/prod
	source_profile = base
	[profile prod-eu]
	role_arn = arn:aws:iam::222222222222:role/prod
	source_profile = base
	region = eu-west-1
	[profile dev/Admin]
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

// completionCases: a command line typed up to the cursor, and the
// candidates the shell must offer for it.
type completionCase struct {
	line string
	want []string
}

var completionCases = []completionCase{
	{"rolehop export pr", []string{"prod", "prod-eu"}},
	{"rolehop exec --profile d", []string{"dev/Admin"}},
	{"rolehop serve prod ", []string{"base", "dev/Admin", "prod-eu"}},
	{"rolehop export --format ", []string{"sh", "fish", "powershell", "cmd", "dotenv", "json", "github", "env", "env-no-export", "windows-cmd", "process"}},
	{"rolehop policy --format c", []string{"cloudformation"}},
	{"rolehop login --sso-session ", []string{"corp", "lab"}},
	{"rolehop sso populate --sso-session l", []string{"lab"}},
	{"rolehop ver", []string{"version"}},
	// Nothing, and in particular not the file prod-notes.txt.
	{"rolehop cache list ", nil},
	{"rolehop export prod-n", nil},
}

// requireShell returns the path of shell; without it the test skips, or
// fails with CI=true.
func requireShell(t *testing.T, shell, install string) string {
	t.Helper()
	p, err := exec.LookPath(shell)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found on PATH: the completion tests need it with CI=true (%s; .ci/run installs it)", shell, install)
	}
	t.Skipf("%s not found on PATH; skipping (set CI=true to make this a failure)", shell)
	return ""
}

// completionEnv is a test environment with rolehop (the binary under test)
// on PATH and a file named like a profile in the working directory.
func completionEnv(t *testing.T) *TestEnv {
	t.Helper()
	bin := requireRolehop(t)
	e := newTestEnv(t)
	e.WriteConfig(completionConfig)
	binDir := filepath.Join(e.Dir, "bin")
	if err := os.MkdirAll(binDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bin, filepath.Join(binDir, "rolehop")); err != nil {
		t.Fatal(err)
	}
	e.Set("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	e.WriteFile("prod-notes.txt", "not a profile\n")
	return e
}

func writeScript(t *testing.T, e *TestEnv, name, text string) string {
	t.Helper()
	p := filepath.Join(e.Dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// bashDriver completes $1 as bash does on Tab: with bash-completion loaded
// and rolehop's completion set up as $ROLEHOP_SETUP says ("source": source
// <(rolehop completion bash); "installed": the file in
// ~/.local/share/bash-completion/completions, loaded on first use), it sets
// COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT, calls the function
// registered for rolehop and prints COMPREPLY, one REPLY: line each.
const bashDriver = `source "$BASH_COMPLETION_SCRIPT" || exit 3
case $ROLEHOP_SETUP in
source) source <(rolehop completion bash) ;;
installed)
	loader=$(complete -p -D 2>/dev/null | sed -n 's/.*-F \([^ ]*\).*/\1/p')
	[[ -n $loader ]] || { echo "bash-completion has no default loader" >&2; exit 4; }
	"$loader" rolehop ;;
esac
spec=$(complete -p rolehop) || { echo "no completion registered for rolehop" >&2; exit 5; }
fn=${spec#*-F }
fn=${fn%% *}
line=$1
COMP_LINE=$line
COMP_POINT=${#line}
COMP_TYPE=9
COMP_KEY=9
read -r -a COMP_WORDS <<<"$line"
[[ $line == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMPREPLY=()
# compopt complains outside a real Tab press; what it sets is the shell's
# file fallback, which the zsh test observes.
"$fn" rolehop "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
printf 'REPLY:%s\n' "${COMPREPLY[@]}"
echo END
`

// bashCompletionScript is bash-completion's main script, which
// ~/.bashrc or /etc/bash.bashrc sources on Debian-like systems.
func bashCompletionScript() string {
	for _, p := range []string{"/usr/share/bash-completion/bash_completion", "/etc/bash_completion",
		"/opt/homebrew/etc/profile.d/bash_completion.sh", "/usr/local/etc/profile.d/bash_completion.sh"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func TestCompletionBash(t *testing.T) {
	bash := requireShell(t, "bash", "apt-get install -y bash")
	bc := bashCompletionScript()
	if bc == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("bash-completion is not installed: rolehop's bash completion needs it (apt-get install -y bash-completion; .ci/run installs it)")
		}
		t.Skip("bash-completion is not installed; skipping (set CI=true to make this a failure)")
	}
	e := completionEnv(t)
	driver := writeScript(t, e, "drive.bash", bashDriver)
	// The documented per-user install.
	userDir := filepath.Join(e.Home, ".local", "share", "bash-completion", "completions")
	if err := os.MkdirAll(userDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if r := e.RunCmd(t, "sh", "-c", "rolehop completion bash > "+filepath.Join(userDir, "rolehop")); r.Code != 0 {
		t.Fatalf("rolehop completion bash: %s", r)
	}
	for _, setup := range []string{"installed", "source"} {
		for _, tc := range completionCases {
			r := e.RunCmdWith(t, []string{"ROLEHOP_SETUP=" + setup, "BASH_COMPLETION_SCRIPT=" + bc, "COLUMNS=120", "XDG_DATA_HOME", "BASH_COMPLETION_USER_DIR"},
				bash, "--norc", "--noprofile", driver, tc.line)
			if r.Code != 0 || !strings.HasSuffix(r.Stdout, "END\n") {
				t.Fatalf("%s: %q: %s", setup, tc.line, r)
			}
			var got []string
			for _, l := range strings.Split(r.Stdout, "\n") {
				reply, ok := strings.CutPrefix(l, "REPLY:")
				if !ok || reply == "" {
					continue
				}
				// With several candidates the v2 script shows each as
				// "NAME   (description)".
				name, _, _ := strings.Cut(reply, "  (")
				got = append(got, strings.TrimSpace(name))
			}
			if !sameSet(got, tc.want) {
				t.Errorf("bash (%s) %q<Tab>: %q, want %q\n%s", setup, tc.line, got, tc.want, r)
			}
		}
	}
}

// zshInit runs in an interactive zsh in a pseudo-terminal: compinit, with
// rolehop's completion set up as $ROLEHOP_SETUP says ("fpath": _rolehop in
// ~/.zsh/completions, on fpath before compinit; "source": source <(rolehop
// completion zsh) after it), and compadd wrapped to print each match it
// adds, between markers, once per Tab.
const zshInit = `PS1='' PROMPT='' RPROMPT='' PS2=''
[[ $ROLEHOP_SETUP == fpath ]] && fpath=(~/.zsh/completions $fpath)
autoload -Uz compinit && compinit -u -D
[[ $ROLEHOP_SETUP == source ]] && source <(rolehop completion zsh)
zstyle ':completion:*' insert-tab false
compadd() {
	# Calls that only collect (-O, -A, -D) pass through; the others add
	# matches, which -A captures after zsh's own matching.
	if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
		builtin compadd "$@"
		return
	fi
	local -a __hits
	builtin compadd -A __hits "$@"
	local h
	for h in $__hits; do print -r -- "MATCH:$h"; done
	builtin compadd "$@"
}
_rolehop_test_begin() { print -r -- COMPLETION-BEGIN }
_rolehop_test_end() { print -r -- COMPLETION-END; exit }
compprefuncs=(_rolehop_test_begin)
comppostfuncs=(_rolehop_test_end)
bindkey '^I' complete-word
print -r -- INIT-DONE
`

// zshDriver types $2 and Tab into an interactive zsh (zsh/zpty) that
// sourced $1, and prints what the terminal shows.
const zshDriver = `zmodload zsh/zpty || { print -u2 'zsh has no zsh/zpty module'; exit 3 }
zpty z zsh -f -i
zpty -w z "source ${(q)1}"
zpty -r -m z out '*INIT-DONE*' || { print -u2 'the completion setup did not finish'; exit 4 }
zpty -w -n z "$2"$'\t'
while zpty -r z line; do print -rn -- "$line"; done
zpty -d z
`

func TestCompletionZsh(t *testing.T) {
	zsh := requireShell(t, "zsh", "apt-get install -y zsh")
	e := completionEnv(t)
	init := writeScript(t, e, "init.zsh", zshInit)
	driver := writeScript(t, e, "drive.zsh", zshDriver)
	// The documented install: _rolehop in ~/.zsh/completions.
	dir := filepath.Join(e.Home, ".zsh", "completions")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if r := e.RunCmd(t, "sh", "-c", "rolehop completion zsh > "+filepath.Join(dir, "_rolehop")); r.Code != 0 {
		t.Fatalf("rolehop completion zsh: %s", r)
	}
	// File names where they belong.
	cases := append(slices.Clone(completionCases),
		completionCase{"rolehop serve --token-file prod-n", []string{"prod-notes.txt"}},
		completionCase{"rolehop exec prod -- cat prod-n", []string{"prod-notes.txt"}})
	for _, setup := range []string{"fpath", "source"} {
		t.Run(setup, func(t *testing.T) {
			t.Parallel()
			zshCases(t, e, zsh, driver, init, setup, cases)
		})
	}
}

func zshCases(t *testing.T, e *TestEnv, zsh, driver, init, setup string, cases []completionCase) {
	for _, tc := range cases {
		r := e.RunCmdWith(t, []string{"ROLEHOP_SETUP=" + setup, "TERM=xterm"}, zsh, "-f", driver, init, tc.line)
		out := strings.ReplaceAll(r.Stdout, "\r", "")
		if r.Code != 0 || !strings.Contains(out, "COMPLETION-BEGIN") || !strings.Contains(out, "COMPLETION-END") {
			t.Fatalf("%s: %q: completion did not run: %s", setup, tc.line, r)
		}
		var got []string
		for _, l := range strings.Split(out, "\n") {
			if _, m, ok := strings.Cut(l, "MATCH:"); ok {
				got = append(got, m)
			}
		}
		if !sameSet(got, tc.want) {
			t.Errorf("zsh (%s) %q<Tab>: %q, want %q\n%s", setup, tc.line, got, tc.want, r)
		}
	}
}

// sameSet compares candidates regardless of order: the shells sort them
// for display.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
