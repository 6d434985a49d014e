//go:build unix

package harness

import (
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
	"time"
)

// MotoStartTimeout bounds how long StartMoto waits for moto_server to answer.
const MotoStartTimeout = 20 * time.Second

// ErrExitedEarly means moto_server exited before it answered.
var ErrExitedEarly = errors.New("moto_server exited before it was ready")

// InCI reports whether CI=true: missing tools are then a failure, not a skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// LookTools returns the absolute path of each tool found on PATH and the
// names of those that are missing.
func LookTools(tools ...string) (found map[string]string, missing []string) {
	found = map[string]string{}
	for _, tool := range tools {
		p, err := exec.LookPath(tool)
		if err != nil {
			missing = append(missing, tool)
			continue
		}
		found[tool] = p
	}
	return found, missing
}

// RepoRoot finds the module root via `go env GOMOD`, falling back to ../..
// relative to the calling test package's directory.
func RepoRoot() (string, error) {
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

// BuildRolehop builds ./cmd/rolehop into dir and returns the binary's path.
func BuildRolehop(dir string) (string, error) {
	root, err := RepoRoot()
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

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartMoto starts a moto_server on a free loopback port, logging to
// dir/logName, with extraEnv (KEY=VALUE) added to its environment, and
// waits until it answers GET /moto-api/data.json. It returns the server's
// base URL and a func that stops it (SIGTERM to its process group, SIGKILL
// after 5 s). A server that exits at once (a port taken in between) is
// retried on another port, up to three times.
func StartMoto(dir, logName string, extraEnv ...string) (string, func(), error) {
	logPath := filepath.Join(dir, logName)
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := FreePort()
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
		cmd.Env = append(MotoEnv(), extraEnv...)
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
		err = waitReady(url+"/moto-api/data.json", MotoStartTimeout, exited)
		if err == nil {
			return url, stop, nil
		}
		stop()
		log, _ := os.ReadFile(logPath)
		lastErr = fmt.Errorf("moto_server on port %d: %v\nmoto log:\n%s", port, err, log)
		if !errors.Is(err, ErrExitedEarly) {
			break
		}
	}
	return "", nil, lastErr
}

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
			return fmt.Errorf("%w: %v", ErrExitedEarly, err)
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s", timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// MotoEnv is the host environment without MOTO_ACCOUNT_ID (which breaks
// multi-account) and without AWS_* variables.
func MotoEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MOTO_ACCOUNT_ID=") || strings.HasPrefix(kv, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Serialize takes a lock shared by the test binaries of one `go test` run
// (those with the same parent process: the go command) that start many
// processes — test/e2e and test/soak — so that they run one after the
// other instead of making each other's timeouts fire on a small machine.
// It blocks until the lock is free and returns the func that releases it.
// Other `go test` runs, and a test binary run on its own, are not held up.
func Serialize() (release func(), err error) {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("rolehop-go-test-%d.lock", os.Getppid()))
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, err
		}
		for {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
			if !errors.Is(err, syscall.EINTR) {
				break
			}
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		// The holder before removes the file before it lets go (so that
		// runs leave nothing behind): a lock on a removed file is stale.
		mine, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(mine, now) {
			return func() {
				os.Remove(path)
				f.Close()
			}, nil
		}
		f.Close()
	}
}
