//go:build linux

// The pseudo-terminal is opened with Linux's devpts ioctls (TIOCSPTLCK,
// TIOCGPTN), hence linux rather than unix: no tmux or other tool is needed.

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const ptyTimeout = 10 * time.Second

// ptySession is a command running with a pseudo-terminal as its controlling
// terminal (and stdin/stderr; stdout as the test chooses). The test plays the
// person at the keyboard through the master side and sees what the command
// draws.
type ptySession struct {
	t      *testing.T
	master *os.File
	slave  *os.File // kept open by the test for termios checks
	cmd    *exec.Cmd

	mu     sync.Mutex
	screen bytes.Buffer

	exited  chan struct{}
	waitErr error

	// initial is the terminal's mode before the command started.
	initial unix.Termios
}

// openPTY opens a pseudo-terminal pair the way posix_openpt, grantpt,
// unlockpt and ptsname do on Linux, sized cols x rows.
func openPTY(t *testing.T, cols, rows uint16) (master, slave *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	// grantpt is a no-op with devpts; unlockpt clears the lock.
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(fd)
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		unix.Close(fd)
		t.Fatalf("ptsname: %v", err)
	}
	if err := unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
		unix.Close(fd)
		t.Fatalf("setting the window size: %v", err)
	}
	// Non-blocking, so that the runtime poller can interrupt a pending Read
	// when the master is closed.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	slave, err = os.OpenFile("/dev/pts/"+strconv.FormatUint(uint64(n), 10), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		t.Fatalf("opening the pty slave: %v", err)
	}
	return master, slave
}

// startPTY starts name args… in a new session whose controlling terminal is
// a fresh 100x30 pseudo-terminal; stdout goes to stdout when not nil (the
// terminal otherwise).
func startPTY(t *testing.T, env *TestEnv, extraEnv []string, stdout *os.File, name string, args ...string) *ptySession {
	t.Helper()
	master, slave := openPTY(t, 100, 30)
	s := &ptySession{t: t, master: master, slave: slave, exited: make(chan struct{})}
	s.initial = s.Termios()
	cmd := exec.Command(name, args...)
	cmd.Env = env.Environ(extraEnv...)
	cmd.Dir = env.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	if stdout != nil {
		cmd.Stdout = stdout
	}
	// Setsid + Setctty: the slave (the child's fd 0) becomes its
	// controlling terminal, which is what /dev/tty opens.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		master.Close()
		slave.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	s.cmd = cmd
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			s.mu.Lock()
			s.screen.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
		master.Close()
		slave.Close()
	})
	t.Logf("$ %s %s (on a pseudo-terminal)", filepath.Base(name), shellQuote(args))
	return s
}

// Screen is everything written to the terminal so far.
func (s *ptySession) Screen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.screen.String()
}

// WaitFor waits until the terminal output (from byte offset from on)
// contains what, and returns the length of the output at that point.
func (s *ptySession) WaitFor(from int, what string) int {
	s.t.Helper()
	deadline := time.Now().Add(ptyTimeout)
	var exitedAt time.Time
	for {
		scr := s.Screen()
		if from <= len(scr) && strings.Contains(scr[from:], what) {
			return len(scr)
		}
		select {
		case <-s.exited:
			// Give the reader a moment to drain what was written last.
			if exitedAt.IsZero() {
				exitedAt = time.Now()
			} else if time.Since(exitedAt) > time.Second {
				s.t.Fatalf("the command exited (%v) without the terminal showing %q:\n%q", s.waitErr, what, scr)
			}
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the terminal did not show %q within %s:\n%q", what, ptyTimeout, scr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Type sends keys as the terminal sends them.
func (s *ptySession) Type(keys string) {
	s.t.Helper()
	if _, err := s.master.Write([]byte(keys)); err != nil {
		s.t.Fatalf("typing %q: %v", keys, err)
	}
}

// Wait waits for the command to exit and returns its exit code (128+N when
// killed by signal N).
func (s *ptySession) Wait() int {
	s.t.Helper()
	select {
	case <-s.exited:
	case <-time.After(ptyTimeout):
		s.t.Fatalf("the command did not exit within %s; terminal:\n%q", ptyTimeout, s.Screen())
	}
	code, sig := exitStatus(s.cmd, s.waitErr)
	if sig != 0 {
		return 128 + int(sig)
	}
	return code
}

// Termios is the terminal's current mode.
func (s *ptySession) Termios() unix.Termios {
	s.t.Helper()
	tio, err := unix.IoctlGetTermios(int(s.slave.Fd()), unix.TCGETS)
	if err != nil {
		s.t.Fatalf("reading the terminal mode: %v", err)
	}
	return *tio
}

// pickConfig has 50 profiles: 45 generated team-NN role profiles in
// us-west-2 and five named ones, of which "prod eu" matches exactly
// billing-prod and search-prod (in that order).
func pickConfig(env *TestEnv) {
	var b strings.Builder
	b.WriteString(`
[profile billing-dev]
role_arn = arn:aws:iam::111111111111:role/Dev
credential_source = Environment
region = eu-west-1

[profile billing-prod]
role_arn = arn:aws:iam::222222222222:role/Admin
credential_source = Environment
region = eu-west-1

[profile search-prod]
sso_account_id = 333333333333
sso_role_name = Developer
sso_start_url = https://example.awsapps.com/start
sso_region = eu-central-1
region = eu-central-1

[profile search-staging]
sso_account_id = 444444444444
sso_role_name = Developer
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
region = us-east-1
`)
	for i := 1; i <= 45; i++ {
		fmt.Fprintf(&b, "\n[profile team-%02d]\nrole_arn = arn:aws:iam::1000000000%02d:role/team\ncredential_source = Environment\nregion = us-west-2\n", i, i)
	}
	env.WriteConfig(b.String())
	env.WriteCredentials("[static-ci]\naws_access_key_id = AKIAPICKTEST00000001\naws_secret_access_key = pick-test-secret-0001\n")
}

// TestPickFilterMoveSelect: `rolehop pick > out` on a terminal: typing
// "prod eu" narrows 50 profiles to 2, Down and Enter choose the second, and
// only its name reaches stdout; the terminal mode is restored.
func TestPickFilterMoveSelect(t *testing.T) {
	t.Parallel()
	bin := requireRolehop(t)
	env := newTestEnv(t)
	pickConfig(env)
	s := startPTY(t, env, []string{"TERM=xterm-256color"}, nil, shBin, "-c", shellQuote([]string{bin, "pick"})+" > out; echo $? > code")
	before := s.initial

	at := s.WaitFor(0, " 50/50")
	if scr := s.Screen(); !strings.Contains(scr, "billing-dev") || !strings.Contains(scr, "role arn:aws:iam::111111111111:role/Dev") {
		t.Errorf("the list does not show the profiles with their details:\n%q", scr)
	}
	s.Type("prod eu")
	typed := at
	at = s.WaitFor(at, " 2/50")
	for _, want := range []string{"billing-prod", "search-prod", "sso 333333333333 Developer"} {
		if scr := s.Screen()[typed:]; !strings.Contains(scr, want) {
			t.Errorf("the filtered list does not show %q:\n%q", want, scr)
		}
	}
	s.Type("\x1b[B")
	s.Type("\r")
	if code := s.Wait(); code != 0 {
		t.Fatalf("sh exited %d; terminal:\n%q", code, s.Screen())
	}
	if got := readFile(t, filepath.Join(env.Dir, "code")); got != "0\n" {
		t.Fatalf("rolehop pick exited %q; terminal:\n%q", got, s.Screen())
	}
	if got := readFile(t, filepath.Join(env.Dir, "out")); got != "search-prod\n" {
		t.Errorf("stdout %q, want %q", got, "search-prod\n")
	}
	if !strings.Contains(s.Screen(), "\x1b[7m> billing-prod") && !strings.Contains(s.Screen(), "\x1b[7m> search-prod") {
		t.Errorf("the selection is not in reverse video with TERM=xterm-256color:\n%q", s.Screen())
	}
	if after := s.Termios(); after != before {
		t.Errorf("terminal mode not restored:\nbefore %+v\nafter  %+v", before, after)
	}
}

// TestPickInitialFilterNoColor: --filter pre-fills the filter; NO_COLOR
// marks the selection with ">" and no reverse video.
func TestPickInitialFilterNoColor(t *testing.T) {
	t.Parallel()
	bin := requireRolehop(t)
	env := newTestEnv(t)
	pickConfig(env)
	out, err := os.Create(filepath.Join(env.Dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	s := startPTY(t, env, []string{"TERM=xterm-256color", "NO_COLOR=1"}, out, bin, "pick", "--filter", "STAGING")
	s.WaitFor(0, " 1/50")
	s.Type("\r")
	if code := s.Wait(); code != 0 {
		t.Fatalf("rolehop pick exited %d; terminal:\n%q", code, s.Screen())
	}
	if got := readFile(t, out.Name()); got != "search-staging\n" {
		t.Errorf("stdout %q, want %q", got, "search-staging\n")
	}
	scr := s.Screen()
	if !strings.Contains(scr, "> search-staging") || strings.Contains(scr, "\x1b[7m") {
		t.Errorf("with NO_COLOR the selection should be marked with > only:\n%q", scr)
	}
}

// TestPickEscCancels: Esc cancels with exit status 130, a one-line message,
// nothing on stdout, and the terminal restored.
func TestPickEscCancels(t *testing.T) {
	t.Parallel()
	bin := requireRolehop(t)
	env := newTestEnv(t)
	pickConfig(env)
	s := startPTY(t, env, []string{"TERM=xterm-256color"}, nil, shBin, "-c", shellQuote([]string{bin, "pick"})+" > out; echo $? > code")
	before := s.initial
	at := s.WaitFor(0, " 50/50")
	s.Type("bill")
	at = s.WaitFor(at, " 2/50")
	s.Type("\x1b")
	if code := s.Wait(); code != 0 {
		t.Fatalf("sh exited %d", code)
	}
	if got := readFile(t, filepath.Join(env.Dir, "code")); got != "130\n" {
		t.Errorf("rolehop pick exited %q after Esc, want 130; terminal:\n%q", got, s.Screen())
	}
	if got := readFile(t, filepath.Join(env.Dir, "out")); got != "" {
		t.Errorf("stdout %q after Esc, want nothing", got)
	}
	s.WaitFor(at, "rolehop: pick cancelled\r\n")
	if after := s.Termios(); after != before {
		t.Errorf("terminal mode not restored:\nbefore %+v\nafter  %+v", before, after)
	}
}

// TestPickSIGTERMRestoresTerminal: a SIGTERM while the list is shown restores
// the terminal and exits 128+15.
func TestPickSIGTERMRestoresTerminal(t *testing.T) {
	t.Parallel()
	bin := requireRolehop(t)
	env := newTestEnv(t)
	pickConfig(env)
	out, err := os.Create(filepath.Join(env.Dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	s := startPTY(t, env, []string{"TERM=xterm-256color"}, out, bin, "pick")
	before := s.initial
	s.WaitFor(0, " 50/50")
	if raw := s.Termios(); raw.Lflag&unix.ICANON != 0 || raw.Lflag&unix.ECHO != 0 {
		t.Errorf("the terminal is not in raw mode while the list is shown: lflag %#o", raw.Lflag)
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := s.Wait(); code != 128+int(syscall.SIGTERM) {
		t.Errorf("exit %d after SIGTERM, want %d; terminal:\n%q", code, 128+int(syscall.SIGTERM), s.Screen())
	}
	if after := s.Termios(); after != before {
		t.Errorf("terminal mode not restored:\nbefore %+v\nafter  %+v", before, after)
	}
	if got := readFile(t, out.Name()); got != "" {
		t.Errorf("stdout %q, want nothing", got)
	}
}

// TestPickWithoutTerminal: with no controlling terminal (a new session
// without one) pick fails at once with exit status 2.
func TestPickWithoutTerminal(t *testing.T) {
	t.Parallel()
	bin := requireRolehop(t)
	env := newTestEnv(t)
	pickConfig(env)
	run := func(args ...string) Result {
		ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"pick"}, args...)...)
		cmd.Env = env.Environ()
		cmd.Dir = env.Dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no Setctty: no terminal at all
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
		res.Code, res.Signal = exitStatus(cmd, err)
		return res
	}
	for _, tc := range []struct {
		args  []string
		wants []string
	}{
		{nil, []string{"rolehop: pick needs a terminal (", "give a --filter that matches exactly one"}},
		{[]string{"--filter", "prod"}, []string{`--filter "prod" matches 2 profiles (billing-prod, search-prod)`, "make the filter match exactly one"}},
		{[]string{"--filter", "nothing-like-this"}, []string{`no profile matches --filter "nothing-like-this"`}},
	} {
		res := run(tc.args...)
		wantCLIError(t, env, res, 2, tc.wants...)
		if res.Stdout != "" {
			t.Errorf("pick %v: stdout %q, want nothing", tc.args, res.Stdout)
		}
	}
	// In a script, a filter that matches exactly one profile chooses it.
	if res := run("--filter", "billing prod"); res.Code != 0 || res.Stdout != "billing-prod\n" || res.Stderr != "" {
		t.Errorf("pick --filter 'billing prod' without a terminal: %s", res)
	}
}

// TestExecPick: `rolehop exec --pick -- CMD` picks the profile on the
// terminal, then runs CMD with its credentials; the terminal is the child's
// again afterwards (no keystroke is swallowed by the picker).
func TestExecPick(t *testing.T) {
	t.Parallel()
	bin := requireRolehop(t)
	env := newTestEnv(t)
	pickConfig(env)
	child := `echo "key=$AWS_ACCESS_KEY_ID"; echo child-ready >&2; read line; echo "line=$line"`
	s := startPTY(t, env, []string{"TERM=xterm-256color"}, nil, shBin, "-c",
		shellQuote([]string{bin, "exec", "--pick", "--", shBin, "-c", child})+" > out; echo $? > code")
	before := s.initial
	at := s.WaitFor(0, " 50/50")
	s.Type("static")
	at = s.WaitFor(at, " 1/50")
	s.Type("\r")
	s.WaitFor(at, "child-ready")
	s.Type("hello\r")
	if code := s.Wait(); code != 0 {
		t.Fatalf("sh exited %d", code)
	}
	if got := readFile(t, filepath.Join(env.Dir, "code")); got != "0\n" {
		t.Fatalf("rolehop exec --pick exited %q; terminal:\n%q", got, s.Screen())
	}
	if got, want := readFile(t, filepath.Join(env.Dir, "out")), "key=AKIAPICKTEST00000001\nline=hello\n"; got != want {
		t.Errorf("child's stdout %q, want %q", got, want)
	}
	if after := s.Termios(); after != before {
		t.Errorf("terminal mode not restored:\nbefore %+v\nafter  %+v", before, after)
	}
}

// TestExecPickWithProfile: --pick and a PROFILE contradict each other.
func TestExecPickWithProfile(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	pickConfig(env)
	for _, args := range [][]string{
		{"exec", "--pick", "static-ci", "--", "true"},
		{"exec", "--pick", "--profile", "static-ci", "--", "true"},
	} {
		res := env.Run(t, args...)
		wantCLIError(t, env, res, 2, "--pick")
	}
}
