// Package prompt asks the person at the terminal for an MFA code. It talks
// to the controlling terminal directly (/dev/tty, or CONIN$/CONOUT$ on
// Windows), never to stdout, so it works while stdout is captured by eval
// or a credential_process consumer.
package prompt

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
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
