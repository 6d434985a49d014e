package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/keychain"
	"github.com/rolehop/rolehop/internal/picker"
)

// exitCancelled is the status of a cancelled pick: 128+SIGINT, like a shell.
const exitCancelled = 130

func newPickCmd(sys IO) *cobra.Command {
	var filter string
	cmd := &cobra.Command{
		Use:   "pick [--filter TEXT]",
		Short: "Choose a profile from a filterable list and print its name",
		Long: `Show every profile of ~/.aws/config and ~/.aws/credentials with what it uses (role ARN,
IAM Identity Center account and role, credential_process, keys) and let you choose one:
type to filter (every space-separated word must match the name or the description,
ignoring case), Up/Down or Ctrl-P/Ctrl-N and PgUp/PgDn to move, Enter to choose, Esc or
Ctrl-C to cancel (exit status 130). Only the chosen name is printed on stdout: the list is
drawn on the terminal itself (/dev/tty), so $(rolehop pick) works. NO_COLOR marks the
selection with ">" only, without reverse video. Without a terminal (a script, CI), a
--filter that matches exactly one profile chooses it; otherwise pick says how many matched.`,
		Example: `  rolehop exec "$(rolehop pick)" -- aws sts get-caller-identity
  p=$(rolehop pick --filter prod) && export AWS_PROFILE="$p"
  rolehop exec --pick -- terraform plan
  rolehop exec "$(rolehop pick --filter 'prod admin')" -- terraform apply   # in a script: exactly one match`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("pick takes no PROFILE (got %q): use --filter to start with a filter", strings.Join(args, " "))
			}
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name, err := pickProfile(cmd.Context(), sys, filter)
			if err != nil {
				return err
			}
			fmt.Fprintln(sys.Out, name)
			return nil
		},
	}
	cmd.Flags().StringVar(&filter, "filter", "", "start with this filter text")
	return cmd
}

// pickProfile lets the person at the terminal choose a profile. A cancel is
// reported on stderr and returned as exit status 130 (128+N for a signal N).
func pickProfile(ctx context.Context, sys IO, filter string) (string, error) {
	cfg, err := awsconfig.LoadEnv(sys.Getenv)
	if err != nil {
		return "", err
	}
	var items []picker.Item
	for _, n := range cfg.ProfileNames() {
		p, _ := cfg.Profile(n)
		items = append(items, picker.Item{Name: n, Detail: profileDetail(p)})
	}
	if ix, err := keychain.LoadIndex(sys.Getenv); err == nil {
		for _, n := range ix.Names() {
			if _, ok := cfg.Profile(n); !ok {
				items = append(items, picker.Item{Name: n, Detail: "keys in the " + ix.Profiles[n].Backend.Describe() + " keychain"})
			}
		}
	}
	if len(items) == 0 {
		return "", fmt.Errorf("no profiles to pick from in %s or %s", awsconfig.ShortPath(cfg.ConfigFile), awsconfig.ShortPath(cfg.CredentialsFile))
	}
	idx, err := picker.RunTerminal(ctx, items, picker.Options{
		Prompt: "profile> ",
		Filter: filter,
		Style:  picker.StyleFor(sys.Getenv),
	})
	switch {
	case errors.Is(err, picker.ErrNoTerminal):
		return pickWithoutTerminal(items, filter, err)
	case errors.Is(err, picker.ErrCancelled):
		fmt.Fprintln(sys.Err, "rolehop: pick cancelled")
		code := exitCancelled
		var se *picker.SignalError
		if errors.As(err, &se) {
			if s, ok := se.Signal.(syscall.Signal); ok {
				code = 128 + int(s)
			}
		}
		return "", exitError{code}
	case err != nil:
		return "", fmt.Errorf("pick: %w", err)
	}
	return items[idx].Name, nil
}

// pickWithoutTerminal is pick in a script or CI job: a --filter that
// matches exactly one profile chooses it; anything else is a usage error
// that says how many matched.
func pickWithoutTerminal(items []picker.Item, filter string, why error) (string, error) {
	if filter == "" {
		return "", usagef("pick needs a terminal (%v): name the profile, or give a --filter that matches exactly one", why)
	}
	var found []string
	for _, it := range items {
		if picker.Matches(filter, it) {
			found = append(found, it.Name)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", usagef("no profile matches --filter %q (and there is no terminal to choose on)", filter)
	}
	shown := found[:min(len(found), 5)]
	more := ""
	if len(found) > len(shown) {
		more = fmt.Sprintf(", and %d more", len(found)-len(shown))
	}
	return "", usagef("--filter %q matches %d profiles (%s%s) and there is no terminal to choose on: make the filter match exactly one", filter, len(found), strings.Join(shown, ", "), more)
}

// profileDetail is the short description of a profile in the list: where
// its credentials come from, and its region.
func profileDetail(p *awsconfig.Profile) string {
	get := func(k string) string {
		v, _ := p.Get(k)
		return strings.TrimSpace(v.Value)
	}
	var parts []string
	switch {
	case get("role_arn") != "":
		parts = append(parts, "role "+get("role_arn"))
	case get("sso_account_id") != "" || get("sso_role_name") != "":
		parts = append(parts, strings.TrimSpace("sso "+get("sso_account_id")+" "+get("sso_role_name")))
	case get("credential_process") != "":
		// The program only: its arguments may be long or sensitive.
		prog := strings.Fields(get("credential_process"))[0]
		parts = append(parts, "credential_process "+prog)
	case get("aws_access_key_id") != "":
		parts = append(parts, "keys")
	case get("sso_session") != "":
		parts = append(parts, "sso-session "+get("sso_session"))
	}
	if r := get("region"); r != "" {
		parts = append(parts, r)
	}
	return strings.Join(parts, "  ")
}
