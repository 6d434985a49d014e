// Command docgen writes rolehop's command reference (Markdown and man
// pages) into a directory: go run ./internal/docgen/cmd -out docs (make docs).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/rolehop/rolehop/internal/docgen"
)

func main() {
	out := flag.String("out", "docs", "directory that receives cli/ (Markdown) and man/ (man pages); both are replaced")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "docgen: unexpected argument %q; usage: docgen [-out DIR]\n", flag.Arg(0))
		os.Exit(2)
	}
	if err := docgen.Generate(*out); err != nil {
		fmt.Fprintf(os.Stderr, "docgen: %v\n", err)
		os.Exit(1)
	}
}
