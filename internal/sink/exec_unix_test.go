//go:build unix

package sink

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testPATH is a PATH with the usual system directories.
const testPATH = "/usr/local/bin:/usr/bin:/bin"

func TestRunExitCodes(t *testing.T) {
	requireSh(t)
	tests := []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
		{"exit 42", 42},
		{"kill -KILL $$", 128 + 9},
		{"kill -TERM $$", 128 + 15},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			code, err := Run(context.Background(), []string{"sh", "-c", tt.script}, []string{"PATH=" + testPATH}, Stdio{})
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.want {
				t.Errorf("exit code = %d, want %d", code, tt.want)
			}
		})
	}
}

func TestRunStartFailures(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "not-executable")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		argv     []string
		env      []string
		wantCode int
		wantErr  string
	}{
		{"not in PATH", []string{"rolehop-no-such-command"}, []string{"PATH=" + dir + ":" + testPATH},
			127, `exec: command "rolehop-no-such-command" not found in PATH`},
		{"no PATH", []string{"sh"}, []string{"HOME=/"},
			127, `exec: command "sh" not found in PATH (PATH is not set in the child environment)`},
		{"non-executable file in PATH is skipped", []string{"not-executable"}, []string{"PATH=" + dir},
			127, `exec: command "not-executable" not found in PATH`},
		{"path without exec permission", []string{notExec}, nil,
			126, `exec: cannot run "` + notExec + `": permission denied`},
		{"missing path", []string{filepath.Join(dir, "missing")}, nil,
			127, `exec: cannot run "` + filepath.Join(dir, "missing") + `": no such file or directory`},
		{"empty argv", nil, nil, 127, "exec: no command given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, err := Run(context.Background(), tt.argv, tt.env, Stdio{})
			if err == nil {
				t.Fatalf("no error (exit code %d)", code)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("err = %q\nwant  %q", err, tt.wantErr)
			}
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d", code, tt.wantCode)
			}
		})
	}
}

// writeScript creates an executable shell script named name in dir.
func writeScript(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestRunLooksUpTheChildPATH(t *testing.T) {
	requireSh(t)
	dir := t.TempDir()
	writeScript(t, dir, "rolehop-test-hello", `printf 'hello %s' "$0"`)

	var out bytes.Buffer
	code, err := Run(context.Background(), []string{"rolehop-test-hello"}, []string{"PATH=" + testPATH + ":" + dir}, Stdio{Out: &out})
	if err != nil || code != 0 {
		t.Fatalf("Run: code %d, err %v", code, err)
	}
	if want := "hello " + filepath.Join(dir, "rolehop-test-hello"); out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}

	// Our own PATH does not count: only the child's.
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	_, err = Run(context.Background(), []string{"rolehop-test-hello"}, []string{"PATH=" + testPATH}, Stdio{})
	if err == nil || !strings.Contains(err.Error(), "not found in PATH") {
		t.Errorf("found through the parent's PATH: %v", err)
	}

	// A relative PATH entry is refused, as os/exec does.
	t.Chdir(dir)
	_, err = Run(context.Background(), []string{"rolehop-test-hello"}, []string{"PATH=" + testPATH + ":."}, Stdio{})
	if err == nil || !strings.Contains(err.Error(), "relative PATH entry") {
		t.Errorf("relative PATH entry: %v", err)
	}
}

func TestRunStdioAndEnvironment(t *testing.T) {
	requireSh(t)
	t.Run("stdin passthrough", func(t *testing.T) {
		in := "hello\nworld\x00binary\xff"
		var out bytes.Buffer
		code, err := Run(context.Background(), []string{"cat"}, []string{"PATH=" + testPATH}, Stdio{In: strings.NewReader(in), Out: &out})
		if err != nil || code != 0 {
			t.Fatalf("code %d, err %v", code, err)
		}
		if out.String() != in {
			t.Errorf("cat echoed %q, want %q", out.String(), in)
		}
	})
	t.Run("stderr", func(t *testing.T) {
		var out, errOut bytes.Buffer
		code, err := Run(context.Background(), []string{"sh", "-c", "echo out; echo err >&2; exit 4"},
			[]string{"PATH=" + testPATH}, Stdio{Out: &out, Err: &errOut})
		if err != nil || code != 4 || out.String() != "out\n" || errOut.String() != "err\n" {
			t.Errorf("code %d, err %v, stdout %q, stderr %q", code, err, out.String(), errOut.String())
		}
	})
	t.Run("exact environment", func(t *testing.T) {
		t.Setenv("ROLEHOP_PARENT_ONLY", "leaked")
		var out bytes.Buffer
		code, err := Run(context.Background(),
			[]string{"sh", "-c", `printf '%s|%s|%s' "$FOO" "${ROLEHOP_PARENT_ONLY-unset}" "$AWS_SECRET_ACCESS_KEY"`},
			ChildEnv([]string{"PATH=" + testPATH, "FOO=bar baz", "AWS_PROFILE=x"}, staticCreds(), ""), Stdio{Out: &out})
		if err != nil || code != 0 {
			t.Fatalf("code %d, err %v", code, err)
		}
		if want := "bar baz|unset|static/secret+key"; out.String() != want {
			t.Errorf("child saw %q, want %q", out.String(), want)
		}
	})
	t.Run("nil environment is empty", func(t *testing.T) {
		sh := requireSh(t)
		t.Setenv("ROLEHOP_PARENT_ONLY", "leaked")
		var out bytes.Buffer
		if _, err := Run(context.Background(), []string{sh, "-c", `printf %s "${ROLEHOP_PARENT_ONLY-unset}"`}, nil, Stdio{Out: &out}); err != nil {
			t.Fatal(err)
		}
		if out.String() != "unset" {
			t.Errorf("child saw ROLEHOP_PARENT_ONLY=%q", out.String())
		}
	})
}

// trapScript traps TERM (exit 7) and INT (exit 5), says "ready" once the
// traps are in place, and waits.
const trapScript = `trap 'kill $pid 2>/dev/null; exit 7' TERM
trap 'kill $pid 2>/dev/null; exit 5' INT
sleep 30 >/dev/null 2>&1 &
pid=$!
echo ready
wait $pid
exit 99`

// startTrapChild runs trapScript through run in the background and returns
// once the child is ready, with a channel that yields the exit code.
func startTrapChild(t *testing.T, run func(Stdio) (int, error)) <-chan int {
	t.Helper()
	requireSh(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	codes := make(chan int, 1)
	go func() {
		code, err := run(Stdio{Out: w})
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		codes <- code
	}()
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		if err == nil && line != "ready\n" {
			err = os.ErrInvalid
		}
		ready <- err
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("child not ready: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("child did not get ready")
	}
	return codes
}

func waitCode(t *testing.T, codes <-chan int) int {
	t.Helper()
	select {
	case c := <-codes:
		return c
	case <-time.After(20 * time.Second):
		t.Fatal("child did not exit")
		return -1
	}
}

func TestRunForwardsSIGTERM(t *testing.T) {
	sigs := make(chan os.Signal, 1)
	codes := startTrapChild(t, func(s Stdio) (int, error) {
		return runWithSignals(context.Background(), []string{"sh", "-c", trapScript}, []string{"PATH=" + testPATH}, s, sigs)
	})
	sigs <- syscall.SIGTERM
	if code := waitCode(t, codes); code != 7 {
		t.Errorf("exit code = %d, want 7 (the child's TERM trap)", code)
	}
}

func TestRunForwardPolicy(t *testing.T) {
	tests := []struct {
		name    string
		forward func(os.Signal) bool
		want    int
	}{
		// A terminal already delivered SIGINT to the child: it must not get a
		// second one, so only the TERM trap runs.
		{"terminal signals not forwarded", func(s os.Signal) bool { return shouldForward(s, true) }, 7},
		// No terminal: SIGINT was meant for us and is forwarded; it arrives
		// before TERM and its trap runs first.
		{"everything forwarded", func(s os.Signal) bool { return shouldForward(s, false) }, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sigs := make(chan os.Signal, 2)
			codes := startTrapChild(t, func(s Stdio) (int, error) {
				return runForwarding(context.Background(), []string{"sh", "-c", trapScript}, []string{"PATH=" + testPATH}, s, sigs, tt.forward)
			})
			sigs <- syscall.SIGINT
			sigs <- syscall.SIGTERM
			if code := waitCode(t, codes); code != tt.want {
				t.Errorf("exit code = %d, want %d", code, tt.want)
			}
		})
	}
}

func TestShouldForward(t *testing.T) {
	tests := []struct {
		sig        os.Signal
		foreground bool
		want       bool
	}{
		{syscall.SIGINT, true, false},
		{syscall.SIGQUIT, true, false},
		{syscall.SIGWINCH, true, false},
		{syscall.SIGINT, false, true},
		{syscall.SIGQUIT, false, true},
		{syscall.SIGWINCH, false, true},
		{syscall.SIGTERM, true, true},
		{syscall.SIGHUP, true, true},
		{syscall.SIGUSR1, true, true},
		{syscall.SIGUSR2, true, true},
		{syscall.SIGTERM, false, true},
	}
	for _, tt := range tests {
		if got := shouldForward(tt.sig, tt.foreground); got != tt.want {
			t.Errorf("shouldForward(%v, foreground=%v) = %v, want %v", tt.sig, tt.foreground, got, tt.want)
		}
	}
	want := []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}
	got := forwardedSignals()
	if len(got) != len(want) {
		t.Fatalf("forwardedSignals() = %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("forwardedSignals() = %v, want %v", got, want)
		}
	}
}

func TestRunContextCancelSendsSIGTERM(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	codes := startTrapChild(t, func(s Stdio) (int, error) {
		return runWithSignals(ctx, []string{"sh", "-c", trapScript}, []string{"PATH=" + testPATH}, s, nil)
	})
	cancel()
	if code := waitCode(t, codes); code != 7 {
		t.Errorf("exit code = %d, want 7 (SIGTERM, not SIGKILL)", code)
	}
}
