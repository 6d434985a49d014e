//go:build unix

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rolehop/rolehop/test/internal/harness"
)

// Package-wide state set up by TestMain.
var (
	// skipReason, when non-empty, makes every test skip (tools missing and
	// not running in CI).
	skipReason string
	// rolehopBin is the absolute path of the rolehop binary under test, or ""
	// when the build was skipped with E2E_NO_BUILD=1.
	rolehopBin string
	// motoURL is the base URL of the shared moto_server, e.g.
	// http://127.0.0.1:41234.
	motoURL string
	// awsBin and shBin are the absolute paths of the consumers.
	awsBin string
	shBin  string
	// workDir is the package-wide temporary directory.
	workDir string
)

const runTimeout = 30 * time.Second

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	inCI := os.Getenv("CI") == "true"

	var missing []string
	for _, tool := range []string{"moto_server", "aws", "sh"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			missing = append(missing, tool)
			continue
		}
		switch tool {
		case "aws":
			awsBin = p
		case "sh":
			shBin = p
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("e2e: %s not found on PATH", strings.Join(missing, ", "))
		if inCI {
			fmt.Fprintf(os.Stderr, "FAIL: %s (required when CI=true)\n", msg)
			return 1
		}
		skipReason = msg + "; skipping end-to-end tests (set CI=true to make this a failure)"
		fmt.Fprintln(os.Stderr, skipReason)
		return m.Run()
	}

	// Not at the same time as test/soak, which loads the machine on
	// purpose.
	release, err := harness.Serialize()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: e2e: %v\n", err)
		return 1
	}
	defer release()

	workDir, err = os.MkdirTemp("", "rolehop-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: e2e: %v\n", err)
		return 1
	}
	if os.Getenv("E2E_KEEP") == "1" {
		fmt.Fprintf(os.Stderr, "e2e: keeping %s\n", workDir)
	} else {
		defer os.RemoveAll(workDir)
	}

	switch {
	case os.Getenv("E2E_ROLEHOP_BIN") != "":
		rolehopBin, err = filepath.Abs(os.Getenv("E2E_ROLEHOP_BIN"))
		if err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: e2e: %v\n", err)
			return 1
		}
	case os.Getenv("E2E_NO_BUILD") == "1" && !inCI:
		fmt.Fprintln(os.Stderr, "e2e: E2E_NO_BUILD=1: rolehop not built; tests that need it are skipped")
	default:
		rolehopBin, err = buildRolehop(workDir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: e2e: building rolehop: %v\n", err)
			return 1
		}
	}

	stop, err := startMoto(workDir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: e2e: %v\n", err)
		return 1
	}
	defer stop()

	return m.Run()
}

// repoRoot is the module root (harness.RepoRoot).
func repoRoot() (string, error) { return harness.RepoRoot() }

func buildRolehop(dir string) (string, error) { return harness.BuildRolehop(dir) }

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) { return harness.FreePort() }

// startMoto starts the moto_server shared by the package and waits until
// it answers. The returned func stops it.
func startMoto(dir string) (func(), error) {
	url, stop, err := startMotoServer(dir, "moto.log")
	if err != nil {
		return nil, err
	}
	motoURL = url
	return stop, nil
}

// startMotoServer starts a moto_server on a free loopback port, logging to
// dir/logName, with extraEnv (KEY=VALUE) added to its environment, and
// waits until it answers GET /moto-api/data.json. It returns the server's
// base URL and a func that stops it. Tests that need server-wide settings
// (auth mode) start their own with it.
func startMotoServer(dir, logName string, extraEnv ...string) (string, func(), error) {
	return harness.StartMoto(dir, logName, extraEnv...)
}

// requireHarness skips the test when the tools are missing.
func requireHarness(t testing.TB) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// requireRolehop returns the rolehop binary path, skipping the test when it
// was not built (E2E_NO_BUILD=1).
func requireRolehop(t testing.TB) string {
	t.Helper()
	requireHarness(t)
	if rolehopBin == "" {
		t.Skip("rolehop not built (E2E_NO_BUILD=1)")
	}
	return rolehopBin
}

// trimOutput shortens long command output for failure messages.
func trimOutput(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 4000 {
		return string(b[:4000]) + "…"
	}
	return string(b)
}
