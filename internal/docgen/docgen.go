// Package docgen writes rolehop's command reference from the command tree
// itself: one Markdown page per command (docs/cli) and one man page per
// command (docs/man). The output depends only on the tree: no date, no
// path, nothing of the machine or the user that runs it, so the checked-in
// copy can be compared byte for byte (docgen_test.go).
package docgen

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/rolehop/rolehop/internal/cli"
)

// Subdirectories of the output directory; Generate owns them entirely.
const (
	MarkdownDir = "cli"
	ManDir      = "man"
)

// Tree returns the command tree the reference is made from: rolehop's, in
// an environment with no variables, no input and no terminal, so that
// nothing of the machine running the generator reaches a flag default.
func Tree() *cobra.Command {
	var discard bytes.Buffer
	root := cli.Command(cli.IO{In: strings.NewReader(""), Out: &discard, Err: &discard,
		Getenv: func(string) string { return "" }, Environ: func() []string { return nil }})
	root.InitDefaultVersionFlag() // cobra adds --version only when it runs
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		c.DisableAutoGenTag = true // the tag carries today's date
		c.Long = preformatted(c.Long)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return root
}

// preformatted fences a command's long description, written for --help,
// so that Markdown (and md2man, for the man pages) keeps its line breaks,
// indented tables and characters such as <, * and _ as they are.
func preformatted(long string) string {
	if long == "" {
		return ""
	}
	return "```\n" + strings.TrimRight(long, "\n") + "\n```"
}

// Generate replaces dir/cli with the Markdown reference and dir/man with
// the man pages.
func Generate(dir string) error {
	md := filepath.Join(dir, MarkdownDir)
	man := filepath.Join(dir, ManDir)
	for _, d := range []string{md, man} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := doc.GenMarkdownTree(Tree(), md); err != nil {
		return fmt.Errorf("markdown reference: %w", err)
	}
	if err := genManTree(Tree(), man); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	return nil
}

// genManTree is doc.GenManTree with a fixed header and no date: cobra
// would put the month of the run in every page's .TH line.
func genManTree(cmd *cobra.Command, dir string) error {
	for _, c := range cmd.Commands() {
		if !c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand() {
			continue
		}
		if err := genManTree(c, dir); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if err := doc.GenMan(cmd, manHeader(), &buf); err != nil {
		return err
	}
	page, err := undate(buf.Bytes())
	if err != nil {
		return fmt.Errorf("%s: %w", cmd.CommandPath(), err)
	}
	name := strings.ReplaceAll(cmd.CommandPath(), " ", "-") + ".1"
	return os.WriteFile(filepath.Join(dir, name), page, 0o644)
}

// manHeader is the .TH line of every page. The zero date stands in for
// none: undate removes it.
func manHeader() *doc.GenManHeader {
	var none time.Time
	return &doc.GenManHeader{Title: "ROLEHOP", Section: "1", Source: "rolehop", Manual: "rolehop manual", Date: &none}
}

// undate empties the date field of the page's .TH line, which cobra always
// fills ("Jan 0001" for the zero time it is given).
func undate(page []byte) ([]byte, error) {
	const dated, undated = "\n.TH \"ROLEHOP\" \"1\" \"Jan 0001\" ", "\n.TH \"ROLEHOP\" \"1\" \"\" "
	if bytes.Count(page, []byte(dated)) != 1 {
		return nil, fmt.Errorf("no .TH line with the placeholder date in the generated page")
	}
	return bytes.Replace(page, []byte(dated), []byte(undated), 1), nil
}
