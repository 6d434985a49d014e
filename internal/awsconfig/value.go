package awsconfig

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Value is one key's value and where it was read.
type Value struct {
	Value string
	File  string // path of the file it came from
	Line  int    // 1-based line of the key
}

// Origin returns "FILE:LINE" with the home directory (as given by
// os.UserHomeDir) shortened to "~" when the file is under it.
func (v Value) Origin() string { return origin(v.File, v.Line) }

// origin formats a file and line for messages. A line <= 0 is left out.
func origin(file string, line int) string {
	s := ShortPath(file)
	if line > 0 {
		s += ":" + strconv.Itoa(line)
	}
	return s
}

// ShortPath replaces the home directory prefix of path with "~", for messages.
func ShortPath(path string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return path
	}
	home = filepath.Clean(home)
	sep := string(filepath.Separator)
	if home == sep || home == "." {
		return path
	}
	if path == home {
		return "~"
	}
	if rest, ok := strings.CutPrefix(path, home+sep); ok {
		return "~" + sep + rest
	}
	return path
}
