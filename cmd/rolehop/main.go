// Command rolehop assumes AWS roles from any credentials and hands them to
// any program. See README.md.
package main

import (
	"context"
	"os"

	"github.com/rolehop/rolehop/internal/cli"

	// CA roots for a system without any (the scratch container image): used only when the system has none.
	_ "golang.org/x/crypto/x509roots/fallback"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.SystemIO()))
}
