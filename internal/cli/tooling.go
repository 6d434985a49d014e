package cli

import (
	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/buildinfo"
)

// Command returns rolehop's whole command tree, as Main runs it, for tools
// that read the tree rather than run it (internal/docgen).
func Command(sys IO) *cobra.Command { return newRoot(sys) }

// addTooling adds what makes rolehop an installable tool to the finished
// tree: `version` and --version, `completion`, and the completion of every
// flag that its command leaves to completeFlags. It runs once every other
// command is in the tree, because it walks it.
func addTooling(root *cobra.Command, sys IO) { addToolingWith(root, sys, buildinfo.Get) }

// addToolingWith is addTooling with the build information injected.
func addToolingWith(root *cobra.Command, sys IO, info func() buildinfo.Info) {
	root.AddCommand(newVersionCmd(sys, info), newCompletionCmd(sys))
	root.Version = info().String()
	root.SetVersionTemplate("{{.Version}}\n")
	completeTree(root, sys)
}
