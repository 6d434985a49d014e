package cli

import (
	"io"

	"github.com/spf13/cobra"
)

// completionShell is one shell that `rolehop completion` writes a script
// for: how to install it, and cobra's generator (descriptions or not).
type completionShell struct {
	name, short, long, example string
	generate                   func(root *cobra.Command, w io.Writer, descriptions bool) error
}

func completionShells() []completionShell {
	return []completionShell{
		{
			name:  "bash",
			short: "Print the bash completion script",
			long: `Print the bash completion script. It needs the bash-completion package (its
_get_comp_words_by_ref; version 1 or 2), which most Linux distributions install with bash:
"apt install bash-completion", "dnf install bash-completion"; on macOS
"brew install bash-completion@2" (for a Homebrew bash 4.2+) or "brew install
bash-completion" (for macOS's own bash 3.2).

Try it in the current shell:

  source <(rolehop completion bash)

Install it for every new shell, for you only (bash-completion 2 loads it on first use):

  mkdir -p ~/.local/share/bash-completion/completions
  rolehop completion bash > ~/.local/share/bash-completion/completions/rolehop

or for every user (Linux):

  rolehop completion bash | sudo tee /usr/share/bash-completion/completions/rolehop >/dev/null

or with Homebrew (macOS):

  rolehop completion bash > "$(brew --prefix)/etc/bash_completion.d/rolehop"

or add the "source <(rolehop completion bash)" line to ~/.bashrc (with bash 3.2:
eval "$(rolehop completion bash)"). Start a new shell afterwards.`,
			example: `  source <(rolehop completion bash)
  rolehop completion bash > ~/.local/share/bash-completion/completions/rolehop`,
			generate: func(root *cobra.Command, w io.Writer, desc bool) error { return root.GenBashCompletionV2(w, desc) },
		},
		{
			name:  "zsh",
			short: "Print the zsh completion script (_rolehop)",
			long: `Print the zsh completion function _rolehop. zsh's completion system must be on: if
~/.zshrc does not already run compinit (oh-my-zsh and prezto do), add

  autoload -U compinit && compinit

Try it in the current shell (after compinit):

  source <(rolehop completion zsh)

Install it for every new shell: write it as _rolehop into a directory of $fpath, and
put that directory on $fpath in ~/.zshrc before compinit runs:

  mkdir -p ~/.zsh/completions
  rolehop completion zsh > ~/.zsh/completions/_rolehop
  # in ~/.zshrc, before compinit:
  fpath=(~/.zsh/completions $fpath)

or with Homebrew (macOS), whose site-functions directory is already on $fpath:

  rolehop completion zsh > "$(brew --prefix)/share/zsh/site-functions/_rolehop"

Start a new shell afterwards; if the completion does not appear, remove the cache
compinit keeps (rm -f ~/.zcompdump*) and start one more.`,
			example: `  source <(rolehop completion zsh)
  rolehop completion zsh > ~/.zsh/completions/_rolehop`,
			generate: func(root *cobra.Command, w io.Writer, desc bool) error {
				if desc {
					return root.GenZshCompletion(w)
				}
				return root.GenZshCompletionNoDesc(w)
			},
		},
		{
			name:  "fish",
			short: "Print the fish completion script",
			long: `Print the fish completion script.

Try it in the current shell:

  rolehop completion fish | source

Install it for every new shell (fish loads it on first use):

  rolehop completion fish > ~/.config/fish/completions/rolehop.fish`,
			example: `  rolehop completion fish | source
  rolehop completion fish > ~/.config/fish/completions/rolehop.fish`,
			generate: func(root *cobra.Command, w io.Writer, desc bool) error { return root.GenFishCompletion(w, desc) },
		},
		{
			name:  "powershell",
			short: "Print the PowerShell completion script",
			long: `Print the PowerShell completion script (PowerShell 5.0 or later).

Try it in the current session:

  rolehop completion powershell | Out-String | Invoke-Expression

Install it for every new session: add that line to your profile, $PROFILE (create the
file first if it does not exist):

  if (!(Test-Path $PROFILE)) { New-Item -ItemType File -Path $PROFILE -Force }
  Add-Content $PROFILE 'rolehop completion powershell | Out-String | Invoke-Expression'`,
			example: `  rolehop completion powershell | Out-String | Invoke-Expression
  Add-Content $PROFILE 'rolehop completion powershell | Out-String | Invoke-Expression'`,
			generate: func(root *cobra.Command, w io.Writer, desc bool) error {
				if desc {
					return root.GenPowerShellCompletionWithDesc(w)
				}
				return root.GenPowerShellCompletion(w)
			},
		},
	}
}

// newCompletionCmd replaces cobra's default `completion` command (cobra
// adds none when the tree has one) with install instructions per shell.
func newCompletionCmd(sys IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script for bash, zsh, fish or PowerShell",
		Long: `Print the script that makes the shell complete rolehop's commands and flags, profile
names (PROFILE arguments, --profile), IAM Identity Center session names (--sso-session,
from the [sso-session NAME] sections of the config file), and the values of --format,
--output, --document and --web-identity. The names are read from AWS_CONFIG_FILE and
AWS_SHARED_CREDENTIALS_FILE (else ~/.aws/config and ~/.aws/credentials) each time you
press Tab, so new profiles complete at once.

Quick start, for the current shell only:

  bash        source <(rolehop completion bash)          (needs bash-completion)
  zsh         source <(rolehop completion zsh)           (after compinit)
  fish        rolehop completion fish | source
  PowerShell  rolehop completion powershell | Out-String | Invoke-Expression

"rolehop completion SHELL --help" says how to install it for every new shell.`,
		Example: `  source <(rolehop completion bash)
  rolehop completion zsh > ~/.zsh/completions/_rolehop
  rolehop completion fish > ~/.config/fish/completions/rolehop.fish
  rolehop completion bash --help`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown shell %q for \"rolehop completion\": use bash, zsh, fish or powershell", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	for _, sh := range completionShells() {
		var noDesc bool
		sub := &cobra.Command{
			Use:                   sh.name,
			Short:                 sh.short,
			Long:                  sh.long,
			Example:               sh.example,
			Args:                  noArgs,
			DisableFlagsInUseLine: true,
			ValidArgsFunction:     cobra.NoFileCompletions,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return sh.generate(cmd.Root(), sys.Out, !noDesc)
			},
		}
		sub.Flags().BoolVar(&noDesc, "no-descriptions", false, "complete names only, without their descriptions")
		cmd.AddCommand(sub)
	}
	return cmd
}
