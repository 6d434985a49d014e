package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/buildinfo"
)

// newVersionCmd prints info(): the running binary's build information in
// rolehop, a fake one in tests.
func newVersionCmd(sys IO, info func() buildinfo.Info) *cobra.Command {
	var output outputFormat
	cmd := &cobra.Command{
		Use:   "version [--output text|json]",
		Short: "Print rolehop's version, commit, Go version and platform",
		Long: `Print the release version (or, for a build from source, the module version, "devel"
when unknown), the commit it was built from with its time and whether the tree had
uncommitted changes, the Go version, and the platform, on one line:

  rolehop 1.2.3 (commit 4c64b9c, 2026-11-30T12:00:00Z) go1.26.8 linux/amd64

"rolehop --version" prints the same line. --output json prints one object with the fields
version, commit, commit_time, modified, go, os and arch; a field the build did not record
is "" (false for modified).`,
		Example: `  rolehop version
  rolehop --version
  rolehop version --output json | jq -r .commit`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := output.isJSON()
			if err != nil {
				return err
			}
			i := info()
			if !asJSON {
				_, err := fmt.Fprintln(sys.Out, i.String())
				return err
			}
			enc := json.NewEncoder(sys.Out)
			enc.SetIndent("", "  ")
			return enc.Encode(i)
		},
	}
	addOutputFlag(cmd, &output, "{version, commit, commit_time, modified, go, os, arch}")
	return cmd
}

// noArgs refuses positional arguments with a usage error (exit status 2).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%q takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}
