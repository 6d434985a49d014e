// Package prompt asks the person at the terminal for an MFA code. It talks
// to the controlling terminal directly (/dev/tty, or CONIN$/CONOUT$ on
// Windows), never to stdout, so it works while stdout is captured by eval
// or a credential_process consumer.
package prompt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/term"
)

// MFA asks for the code of serial on the controlling terminal. It fails
// when there is no terminal.
func MFA(ctx context.Context, serial string) (string, error) {
	in, out, closeTTY, err := openTTY()
	if err != nil {
		return "", fmt.Errorf("no terminal to ask on (%v)", err)
	}
	defer closeTTY()
	return Ask(ctx, in, out, fmt.Sprintf("Enter MFA code for %s: ", serial))
}

// Ask writes question to out and reads one line from in. It gives up when
// ctx is done.
func Ask(ctx context.Context, in io.Reader, out io.Writer, question string) (string, error) {
	if _, err := io.WriteString(out, question); err != nil {
		return "", err
	}
	type answer struct {
		line string
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err == io.EOF && line != "" {
			err = nil
		}
		ch <- answer{strings.TrimSpace(line), err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case a := <-ch:
		return a.line, a.err
	}
}

func openTTY() (in io.Reader, out io.Writer, closeFn func(), err error) {
	if runtime.GOOS == "windows" {
		cin, err := os.Open("CONIN$")
		if err != nil {
			return nil, nil, nil, err
		}
		cout, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0)
		if err != nil {
			cin.Close()
			return nil, nil, nil, err
		}
		return cin, cout, func() { cin.Close(); cout.Close() }, nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	return tty, tty, func() { tty.Close() }, nil
}

// FromProcess runs command (an mfa_process, through the shell as Go's
// credential_process does) and returns the first line it prints: the MFA
// code. Its stderr goes to stderr, so a tool like `ykman oath accounts code`
// can ask for a touch. It gives up after 2 minutes.
func FromProcess(ctx context.Context, command string, stderr io.Writer) (string, error) {
	line, err := FirstLine(ctx, "mfa_process", command, stderr)
	return strings.TrimSpace(line), err
}

// FirstLine runs command through the shell and returns the first line it
// prints, without its line ending; what names the setting that gave the
// command, for the error. It gives up after 2 minutes.
func FirstLine(ctx context.Context, what, command string, stderr io.Writer) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var cmd *exec.Cmd
	if runtime.GOOS == "windows" {
		cmd = exec.CommandContext(ctx, "cmd.exe", "/C", command)
	} else {
		cmd = exec.CommandContext(ctx, "sh", "-c", command)
	}
	cmd.Stderr = stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %q failed: %v", what, command, err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimRight(line, "\r"), nil
}

// Line asks question on the controlling terminal and reads one line,
// echoed. It fails when there is no terminal.
func Line(ctx context.Context, question string) (string, error) {
	in, out, closeTTY, err := openTTY()
	if err != nil {
		return "", fmt.Errorf("no terminal to ask on (%v)", err)
	}
	defer closeTTY()
	return Ask(ctx, in, out, question)
}

// Secret asks question on the controlling terminal and reads the answer
// without echoing it. It fails when there is no terminal.
func Secret(ctx context.Context, question string) (string, error) {
	in, out, closeTTY, err := openTTY()
	if err != nil {
		return "", fmt.Errorf("no terminal to ask on (%v)", err)
	}
	defer closeTTY()
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("no terminal to ask on")
	}
	if _, err := io.WriteString(out, question); err != nil {
		return "", err
	}
	type answer struct {
		b   []byte
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		b, err := term.ReadPassword(int(f.Fd()))
		ch <- answer{b, err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case a := <-ch:
		io.WriteString(out, "\n")
		return string(a.b), a.err
	}
}
