// Command rolehop assumes AWS roles from any credentials and hands them to
// any program. See README.md.
package main

import (
	"context"
	"os"

	"github.com/rolehop/rolehop/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.SystemIO()))
}
