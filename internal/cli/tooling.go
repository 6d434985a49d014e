package cli

import (
	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/buildinfo"
	"github.com/rolehop/rolehop/internal/upgrade"
)

// Command returns rolehop's whole command tree, as Main runs it, for tools
// that read the tree rather than run it (internal/docgen).
func Command(sys IO) *cobra.Command { return newRoot(sys) }

// addTooling adds what makes rolehop an installable tool to the finished
// tree: `version` and --version, and `completion`. (The completion of every
// flag, completeTree, is added by Main only when the shell asks for
// completions: walking every flag of every command costs about 0.5 ms,
// which every other run would pay on its start-up.)
func addTooling(root *cobra.Command, sys IO) {
	addToolingWith(root, sys, buildinfo.Get, func() upgrade.Probe { return upgrade.SystemProbe(sys.Getenv) })
}

// addToolingWith is addTooling with the build information and the
// installation probe (for version --check) injected.
func addToolingWith(root *cobra.Command, sys IO, info func() buildinfo.Info, probe func() upgrade.Probe) {
	root.AddCommand(newVersionCmd(sys, info, probe), newCompletionCmd(sys))
	root.Version = info().String()
	root.SetVersionTemplate("{{.Version}}\n")
}
