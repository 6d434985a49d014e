//go:build unix

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
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

const (
	motoStartTimeout = 20 * time.Second
	runTimeout       = 30 * time.Second
)

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

	var err error
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

// repoRoot finds the module root via `go env GOMOD`, falling back to ../..
// relative to this package directory.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err == nil {
		gomod := strings.TrimSpace(string(out))
		if gomod != "" && gomod != os.DevNull {
			return filepath.Dir(gomod), nil
		}
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("cannot find the module root: %w", err)
	}
	return root, nil
}

func buildRolehop(dir string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "rolehop")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/rolehop")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/rolehop in %s: %v\n%s", root, err, out)
	}
	return bin, nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

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
	logPath := filepath.Join(dir, logName)
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return "", nil, err
		}
		logf, err := os.Create(logPath)
		if err != nil {
			return "", nil, err
		}
		cmd := exec.Command("moto_server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
		cmd.Stdout = logf
		cmd.Stderr = logf
		cmd.Dir = dir
		cmd.Env = append(motoEnv(), extraEnv...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			logf.Close()
			return "", nil, fmt.Errorf("starting moto_server: %w", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		stop := func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-exited
			}
			logf.Close()
		}
		url := fmt.Sprintf("http://127.0.0.1:%d", port)
		err = waitReady(url+"/moto-api/data.json", motoStartTimeout, exited)
		if err == nil {
			return url, stop, nil
		}
		stop()
		log, _ := os.ReadFile(logPath)
		lastErr = fmt.Errorf("moto_server on port %d: %v\nmoto log:\n%s", port, err, log)
		if !errors.Is(err, errExitedEarly) {
			break
		}
	}
	return "", nil, lastErr
}

var errExitedEarly = errors.New("moto_server exited before it was ready")

func waitReady(url string, timeout time.Duration, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("%w: %v", errExitedEarly, err)
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s", timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// motoEnv is the host environment without MOTO_ACCOUNT_ID (which breaks
// multi-account) and without AWS_* variables.
func motoEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MOTO_ACCOUNT_ID=") || strings.HasPrefix(kv, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	return env
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
