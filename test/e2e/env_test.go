//go:build unix

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEnv is one test's isolated world: its own HOME, AWS config and
// credentials files, rolehop cache directory and recording proxy in front of
// the shared moto. Nothing from the host environment is inherited but PATH.
type TestEnv struct {
	Dir             string // the test's temporary directory (working directory of commands)
	Home            string
	ConfigFile      string
	CredentialsFile string
	CacheDir        string
	Proxy           *Proxy

	vars map[string]string
}

// Result is the outcome of one command.
type Result struct {
	Stdout string
	Stderr string
	// Code is the exit code; -1 when the process was killed by a signal
	// (Signal then tells which) or could not be run.
	Code     int
	Signal   syscall.Signal
	Duration time.Duration
	TimedOut bool
}

func (r Result) String() string {
	s := fmt.Sprintf("exit=%d", r.Code)
	if r.Signal != 0 {
		s += fmt.Sprintf(" signal=%v", r.Signal)
	}
	if r.TimedOut {
		s += " TIMED OUT"
	}
	return fmt.Sprintf("%s (%s)\n--- stdout:\n%s\n--- stderr:\n%s", s, r.Duration.Round(time.Millisecond), r.Stdout, r.Stderr)
}

// newTestEnv builds the per-test environment. It skips the test when the
// harness tools are missing.
func newTestEnv(t *testing.T) *TestEnv {
	t.Helper()
	requireHarness(t)
	dir := t.TempDir()
	e := &TestEnv{
		Dir:      dir,
		Home:     filepath.Join(dir, "home"),
		CacheDir: filepath.Join(dir, "rolehop-cache"),
	}
	e.ConfigFile = filepath.Join(e.Home, ".aws", "config")
	e.CredentialsFile = filepath.Join(e.Home, ".aws", "credentials")
	for _, d := range []string{filepath.Join(e.Home, ".aws"), e.CacheDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	e.Proxy = newProxy(t, motoURL)
	e.vars = map[string]string{
		"PATH":                        os.Getenv("PATH"),
		"HOME":                        e.Home,
		"AWS_CONFIG_FILE":             e.ConfigFile,
		"AWS_SHARED_CREDENTIALS_FILE": e.CredentialsFile,
		"ROLEHOP_CACHE_DIR":           e.CacheDir,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ENDPOINT_URL_STS":        e.Proxy.URL,
		"AWS_ENDPOINT_URL":            e.Proxy.URL,
		"AWS_DEFAULT_REGION":          "us-east-1",
	}
	return e
}

// Set sets (or, with an empty value via Unset, removes) one variable of the
// environment commands run with.
func (e *TestEnv) Set(k, v string) { e.vars[k] = v }

// Unset removes one variable.
func (e *TestEnv) Unset(k string) { delete(e.vars, k) }

// Get returns a variable of the environment.
func (e *TestEnv) Get(k string) string { return e.vars[k] }

// Environ is the environment as KEY=VALUE, sorted, with extra KEY=VALUE
// entries overriding (an entry "KEY" without "=" removes KEY).
func (e *TestEnv) Environ(extra ...string) []string {
	m := make(map[string]string, len(e.vars)+len(extra))
	for k, v := range e.vars {
		m[k] = v
	}
	for _, kv := range extra {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// WriteConfig writes the AWS config file (AWS_CONFIG_FILE).
func (e *TestEnv) WriteConfig(content string) { e.writeFile(e.ConfigFile, content) }

// WriteCredentials writes the shared credentials file.
func (e *TestEnv) WriteCredentials(content string) { e.writeFile(e.CredentialsFile, content) }

// WriteFile writes a file relative to the test directory and returns its
// absolute path.
func (e *TestEnv) WriteFile(name, content string) string {
	p := filepath.Join(e.Dir, name)
	e.writeFile(p, content)
	return p
}

func (e *TestEnv) writeFile(path, content string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		panic(err)
	}
	if err := os.WriteFile(path, []byte(dedent(content)), 0o600); err != nil {
		panic(err)
	}
}

// Command prepares a command with the test's environment, working directory
// and its own process group; it is not started.
func (e *TestEnv) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = e.Environ()
	cmd.Dir = e.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Kill the whole group: rolehop and whatever it started.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// Run runs the rolehop binary with the test's environment (30 s timeout).
func (e *TestEnv) Run(t *testing.T, args ...string) Result {
	t.Helper()
	bin := requireRolehop(t)
	return e.run(t, nil, bin, args...)
}

// RunWith is Run with extra KEY=VALUE (or bare KEY to remove) entries.
func (e *TestEnv) RunWith(t *testing.T, extraEnv []string, args ...string) Result {
	t.Helper()
	bin := requireRolehop(t)
	return e.run(t, extraEnv, bin, args...)
}

// RunCmd runs any program (sh, aws, …) with the test's environment (30 s
// timeout).
func (e *TestEnv) RunCmd(t *testing.T, name string, args ...string) Result {
	t.Helper()
	return e.run(t, nil, name, args...)
}

// RunCmdWith is RunCmd with extra KEY=VALUE (or bare KEY to remove) entries.
func (e *TestEnv) RunCmdWith(t *testing.T, extraEnv []string, name string, args ...string) Result {
	t.Helper()
	return e.run(t, extraEnv, name, args...)
}

// RunCmdWithInput runs any program with input on its standard input (for
// example an MFA code for the AWS CLI's prompt).
func (e *TestEnv) RunCmdWithInput(t *testing.T, input, name string, args ...string) Result {
	t.Helper()
	return e.runInput(t, nil, strings.NewReader(input), name, args...)
}

func (e *TestEnv) run(t *testing.T, extraEnv []string, name string, args ...string) Result {
	t.Helper()
	return e.runInput(t, extraEnv, nil, name, args...)
}

func (e *TestEnv) runInput(t *testing.T, extraEnv []string, stdin io.Reader, name string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := e.Command(ctx, name, args...)
	cmd.Env = e.Environ(extraEnv...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String(), Duration: time.Since(start)}
	res.Code, res.Signal = exitStatus(cmd, err)
	if ctx.Err() == context.DeadlineExceeded {
		res.TimedOut = true
	}
	if res.Code == -1 && res.Signal == 0 && !res.TimedOut {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running %s %q: %v", name, args, err)
		}
	}
	t.Logf("$ %s %s → %s", filepath.Base(name), shellQuote(args), res.brief())
	return res
}

func (r Result) brief() string {
	s := fmt.Sprintf("exit %d in %s", r.Code, r.Duration.Round(time.Millisecond))
	if r.Signal != 0 {
		s += fmt.Sprintf(", signal %v", r.Signal)
	}
	if r.TimedOut {
		s += ", TIMED OUT"
	}
	if se := strings.TrimSpace(r.Stderr); se != "" {
		if len(se) > 600 {
			se = se[:600] + "…"
		}
		s += "; stderr: " + se
	}
	return s
}

// exitStatus extracts the exit code (or the killing signal) of a finished
// command.
func exitStatus(cmd *exec.Cmd, err error) (int, syscall.Signal) {
	if cmd.ProcessState == nil {
		return -1, 0
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, ws.Signal()
	}
	return cmd.ProcessState.ExitCode(), 0
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@+", r))
		}) < 0 {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// dedent removes the common leading indentation of a raw-string literal (and
// a leading newline), so configs can be written indented in Go source.
func dedent(s string) string {
	s = strings.TrimPrefix(s, "\n")
	lines := strings.Split(s, "\n")
	prefix := ""
	first := true
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		ind := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if first || strings.HasPrefix(prefix, ind) {
			prefix = ind
			first = false
		} else {
			for !strings.HasPrefix(ind, prefix) {
				prefix = prefix[:len(prefix)-1]
			}
		}
	}
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, prefix)
	}
	return strings.Join(lines, "\n")
}
