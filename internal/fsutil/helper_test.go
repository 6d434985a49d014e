package fsutil

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The tests that need a second process run the test binary itself with
// helperEnv set: TestHelperProcess then does what the variable says instead
// of testing, and exits.
const (
	helperEnv     = "ROLEHOP_FSUTIL_HELPER"
	helperPathEnv = "ROLEHOP_FSUTIL_HELPER_PATH"
)

func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process for the other tests")
	}
	path := os.Getenv(helperPathEnv)
	switch mode {
	case "lock":
		// Take the lock, say so, and hold it until stdin closes.
		l, err := Acquire(context.Background(), path, 10*time.Second, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin)
		l.Release()
		os.Exit(0)
	case "rewrite":
		// Replace the file again and again, alternating between the two
		// versions, until killed.
		versions := [][]byte{crashVersion("A"), crashVersion("B")}
		for i := 0; ; i++ {
			if err := WriteFileAtomic(path, versions[i%2], 0o600, false); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			if i == 0 {
				fmt.Println("running")
			}
		}
	}
	fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
	os.Exit(2)
}

// startHelper starts the test binary as a helper process in mode and waits
// until it prints its first line (which it returns). The process is killed
// at the end of the test if it is still running.
func startHelper(t *testing.T, mode, path string) (*exec.Cmd, io.WriteCloser, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperPathEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper %s: %v; stderr: %s", mode, err, stderr.String())
	}
	return cmd, stdin, strings.TrimSpace(line)
}

// crashDoc is a self-checking file content.
type crashDoc struct {
	Version string `json:"version"`
	Payload string `json:"payload"`
	SHA256  string `json:"sha256"` // of Version + Payload
}

// crashVersion returns a complete ~64 KiB version of the test file.
func crashVersion(version string) []byte {
	var b strings.Builder
	for i := 0; b.Len() < 64<<10; i++ {
		fmt.Fprintf(&b, "%s-%06d;", version, i)
	}
	sum := sha256.Sum256([]byte(version + b.String()))
	data, err := json.Marshal(crashDoc{Version: version, Payload: b.String(), SHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		panic(err)
	}
	return append(data, '\n')
}

// checkCrashDoc reports whether data is a complete, self-consistent version.
func checkCrashDoc(data []byte) (string, error) {
	var d crashDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return "", fmt.Errorf("not complete JSON (%d bytes): %w", len(data), err)
	}
	sum := sha256.Sum256([]byte(d.Version + d.Payload))
	if hex.EncodeToString(sum[:]) != d.SHA256 {
		return "", fmt.Errorf("version %q: checksum mismatch", d.Version)
	}
	return d.Version, nil
}
