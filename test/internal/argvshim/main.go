//go:build unix

// Command argvshim records the argument list of every process started
// through it, for the end-to-end secret scan (test/e2e TestSecretScan).
//
// A test puts symlinks named after the programs rolehop may start
// (xdg-open, sh, aws, …) to this binary in a directory first on PATH. Each
// invocation appends one JSON line {"prog","argv","run","pid","ppid"} to
// the log named in argvshim.json (next to the binary: the symlinks
// resolve to it), with one write to a file opened O_APPEND, so concurrent
// invocations do not interleave; then it execs the real program by the
// absolute path argvshim.json gives for the name (never through PATH, so
// a shim cannot call itself), or exits 0 where the path is empty (a
// browser opener: the test plays the browser). "run" is $ARGVSCAN_RUN,
// which the test sets for each run it starts. Anything it cannot do is a
// message on stderr and exit 127, so the run that started it fails.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Config is argvshim.json.
type Config struct {
	Log  string            `json:"log"`  // the JSON-lines log (absolute)
	Real map[string]string `json:"real"` // program name → absolute path; "" exits 0
}

// Record is one invocation.
type Record struct {
	Prog string   `json:"prog"`
	Argv []string `json:"argv"`
	Run  string   `json:"run"`
	PID  int      `json:"pid"`
	PPID int      `json:"ppid"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "argvshim: %v\n", err)
		os.Exit(127)
	}
}

func run() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(self), "argvshim.json"))
	if err != nil {
		return err
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("argvshim.json: %v", err)
	}
	prog := filepath.Base(os.Args[0])
	path, ok := c.Real[prog]
	if !ok {
		return fmt.Errorf("no program %q in %s", prog, filepath.Join(filepath.Dir(self), "argvshim.json"))
	}
	line, err := json.Marshal(Record{Prog: prog, Argv: os.Args, Run: os.Getenv("ARGVSCAN_RUN"), PID: os.Getpid(), PPID: os.Getppid()})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(c.Log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if path == "" {
		return nil
	}
	return syscall.Exec(path, os.Args, os.Environ())
}
