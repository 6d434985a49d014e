package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandHasAnExample walks the whole tree, hidden commands
// included, and runs each command's --help: every one shows examples.
func TestEveryCommandHasAnExample(t *testing.T) {
	// Commands deliberately without examples, and why.
	skip := map[string]string{
		"rolehop help": "cobra's own help command, added when rolehop runs",
	}
	root := newRoot(IO{Getenv: func(string) string { return "" }})
	root.InitDefaultHelpCmd()
	n := 0
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		path := c.CommandPath()
		if _, ok := skip[path]; ok {
			return
		}
		n++
		args := append(strings.Fields(path)[1:], "--help")
		code, stdout, _ := run(t, "", nil, args...)
		_, examples, ok := strings.Cut(stdout, "\nExamples:\n")
		first, _, _ := strings.Cut(examples, "\n")
		if code != 0 || !ok || strings.TrimSpace(first) == "" {
			t.Errorf("%s --help has no examples (set Example):\n%s", path, stdout)
		}
	}
	walk(root)
	if n < 25 {
		t.Errorf("walked %d commands; the tree has more", n)
	}
}
