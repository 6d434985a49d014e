package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/buildinfo"
	"github.com/rolehop/rolehop/internal/upgrade"
)

// newVersionCmd prints info(): the running binary's build information in
// rolehop, a fake one in tests. With --check it also asks for the latest
// release and says how to upgrade as probe() finds rolehop installed.
func newVersionCmd(sys IO, info func() buildinfo.Info, probe func() upgrade.Probe) *cobra.Command {
	var output outputFormat
	var check bool
	cmd := &cobra.Command{
		Use:   "version [--check] [--output text|json]",
		Short: "Print rolehop's version, commit, Go version and platform, or (--check) whether a newer release exists",
		Long: `Print the release version (or, for a build from source, the module version, "devel"
when unknown), the commit it was built from with its time and whether the tree had
uncommitted changes, the Go version, and the platform, on one line:

  rolehop 1.2.3 (commit 4c64b9c, 2026-11-30T12:00:00Z) go1.26.8 linux/amd64

"rolehop --version" prints the same line. --output json prints one object with the fields
version, commit, commit_time, modified, go, os and arch; a field the build did not record
is "" (false for modified).

--check asks GitHub for the latest release of rolehop (one HTTPS request to
api.github.com, 10 s at most, through HTTPS_PROXY when set, no token sent) and prints
instead whether this build is up to date and, when it is not, how to upgrade with
whatever installed it — Homebrew, Scoop, winget, the .deb/.rpm/.apk package, the
container image, go install, the GitHub Action or a release archive:

  rolehop 1.2.3 is installed; 1.3.0 is the latest release (2026-12-01): https://github.com/rolehop/rolehop/releases/tag/v1.3.0
  to upgrade: brew upgrade rolehop

A development build (devel, a pseudo-version, a modified tree) is never "up to date": it
says so and shows the latest release. With --output json the object also has latest,
published_at, release_url, status (up-to-date, update-available, newer or development),
update_available, install_method and upgrade. The exit status is 0 whether or not an
update is available; 1 when the check itself fails (offline, GitHub's rate limit of 60
requests an hour per address, no release). Nothing else in rolehop ever checks for
updates: only this flag, only when given.

ROLEHOP_RELEASES_URL replaces https://api.github.com/repos/rolehop/rolehop/releases/latest,
for a mirror that answers like it.`,
		Example: `  rolehop version
  rolehop --version
  rolehop version --output json | jq -r .commit
  rolehop version --check
  rolehop version --check -o json | jq -e '.update_available | not'`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := output.isJSON()
			if err != nil {
				return err
			}
			i := info()
			if !check {
				if !asJSON {
					_, err := fmt.Fprintln(sys.Out, i.String())
					return err
				}
				return writeJSON(sys, i)
			}
			rel, err := upgrade.Fetcher{URL: sys.Getenv(upgrade.URLEnv), UserAgent: "rolehop/" + i.Version}.Latest(cmd.Context())
			if err != nil {
				return err
			}
			rep := upgrade.NewReport(i.Version, i.Modified, rel, probe())
			if !asJSON {
				_, err := fmt.Fprint(sys.Out, rep.Text())
				return err
			}
			return writeJSON(sys, versionCheck{i, rep})
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "ask GitHub for the latest release and say how to upgrade (only when given; never automatic)")
	addOutputFlag(cmd, &output, "{version, commit, commit_time, modified, go, os, arch}, with --check also the release's fields")
	return cmd
}

// versionCheck is what `version --check -o json` prints: the build's
// fields, then the check's.
type versionCheck struct {
	buildinfo.Info
	upgrade.Report
}

func writeJSON(sys IO, v any) error {
	enc := json.NewEncoder(sys.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// noArgs refuses positional arguments with a usage error (exit status 2).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%q takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}
