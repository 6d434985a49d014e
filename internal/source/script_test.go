package source

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// processScript writes a credential_process to dir that prints stdout and
// stderr (each a line without shell metacharacters, or "" for none) and
// exits with code, and returns its path: a sh script, or on Windows a .cmd
// file, which the SDK runs with cmd.exe /C there.
func processScript(t *testing.T, dir, name, stdout, stderr string, code int) string {
	t.Helper()
	var s, nl string
	if runtime.GOOS == "windows" {
		name += ".cmd"
		nl = "\r\n"
		s = "@echo off" + nl
		if stdout != "" {
			s += "echo " + stdout + nl
		}
		if stderr != "" {
			s += "echo " + stderr + " 1>&2" + nl
		}
		s += "exit /b " + strconv.Itoa(code) + nl
	} else {
		name += ".sh"
		nl = "\n"
		s = "#!/bin/sh" + nl
		if stdout != "" {
			s += "echo '" + stdout + "'" + nl
		}
		if stderr != "" {
			s += "echo '" + stderr + "' >&2" + nl
		}
		s += "exit " + strconv.Itoa(code) + nl
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(s), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}
