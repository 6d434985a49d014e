package cli

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rolehop/rolehop/internal/awsconfig"
)

// pathFlags take a file name or a command, so the shell's own completion
// (file names) is right for them.
func pathFlags() []string {
	return []string{"policy", "token-file", "tls-cert", "tls-key", "mfa-process", "browser-command"}
}

// completeTree gives every command and flag of the tree a completion that
// offers what makes sense and no file names where none fit:
//   - a flag whose command registered no completion is completed by its
//     name (flagCompletion): profiles for --profile, sessions for
//     --sso-session, fixed values, files for pathFlags, nothing otherwise;
//   - a command that completes no positional argument completes nothing
//     rather than file names (no rolehop argument is a file).
//
// The commands' own registrations (--format values, PROFILE arguments)
// stay as they are.
func completeTree(root *cobra.Command, sys IO) {
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.ValidArgsFunction == nil && len(c.ValidArgs) == 0 {
			c.ValidArgsFunction = cobra.NoFileCompletions
		}
		visit := func(f *pflag.Flag) {
			if f.Value.Type() == "bool" {
				return
			}
			if _, ok := c.GetFlagCompletionFunc(f.Name); ok {
				return
			}
			if fn := flagCompletion(sys, f.Name); fn != nil {
				_ = c.RegisterFlagCompletionFunc(f.Name, fn)
			}
		}
		c.PersistentFlags().VisitAll(visit)
		c.LocalNonPersistentFlags().VisitAll(visit)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// flagCompletion completes a flag by its name, which means the same on
// every rolehop command; nil leaves the shell's file-name completion.
func flagCompletion(sys IO, name string) cobra.CompletionFunc {
	switch {
	case name == "profile":
		return profileCompletion(sys)
	case name == "sso-session":
		return ssoSessionCompletion(sys)
	case name == "web-identity":
		return cobra.FixedCompletions([]string{"github\tGitHub Actions' OIDC token (permissions: id-token: write)"}, cobra.ShellCompDirectiveNoFileComp)
	case slices.Contains(pathFlags(), name):
		return nil
	}
	return cobra.NoFileCompletions
}

// profileCandidates are the profile names of cfg, each with what it uses
// as its description (the picker's line), except those in exclude (already
// on the command line, for serve's PROFILE...).
func profileCandidates(cfg *awsconfig.Config, exclude []string) []string {
	var out []string
	for _, name := range cfg.ProfileNames() {
		if slices.Contains(exclude, name) {
			continue
		}
		p, _ := cfg.Profile(name)
		out = append(out, candidate(name, profileDetail(p)))
	}
	return out
}

// ssoSessionCompletion completes the names of the [sso-session NAME]
// sections of the config file, described by their start URL.
func ssoSessionCompletion(sys IO) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		cfg, err := awsconfig.LoadEnv(sys.Getenv)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, name := range cfg.SSOSessionNames() {
			url := ""
			if v, ok := cfg.SSOSessions[name].Keys["sso_start_url"]; ok {
				url = v.Value
			}
			out = append(out, candidate(name, url))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// candidate is one completion with its description: NAME<TAB>DESCRIPTION,
// on one line, as cobra's shell scripts expect.
func candidate(name, description string) string {
	description = strings.Join(strings.Fields(description), " ")
	if description == "" {
		return name
	}
	return name + "\t" + description
}
