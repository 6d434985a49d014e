package sink

import (
	"path/filepath"
	"strings"
)

// lookPathWindows is how exec finds a command on Windows, kept free of
// build tags so its rules are tested on every platform: PATH and PATHEXT
// of env (names compared case-insensitively), extensions lower-cased, and
// unlike cmd.exe no search of the current directory first, which os/exec
// refuses too. A name with a path separator or a drive is used as is, with
// PATHEXT extensions tried when it has none. isFile reports a regular file.
func lookPathWindows(name string, env []string, isFile func(string) bool) (string, error) {
	exts := pathExts(env)
	if strings.ContainsAny(name, `:\/`) {
		if p, ok := findExecutable(name, exts, isFile); ok {
			return p, nil
		}
		return name, nil // let Start report why it cannot run
	}
	path, ok := envLookup(env, "PATH", true)
	if !ok {
		return "", errNotFound(name, false)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		p, ok := findExecutable(filepath.Join(dir, name), exts, isFile)
		if !ok {
			continue
		}
		if !filepath.IsAbs(p) {
			return "", errRelativePath(name, p)
		}
		return p, nil
	}
	return "", errNotFound(name, true)
}

// pathExts is PATHEXT as lower-case extensions with a dot, or cmd.exe's
// default when it is unset or empty.
func pathExts(env []string) []string {
	v, _ := envLookup(env, "PATHEXT", true)
	var exts []string
	for _, e := range strings.Split(strings.ToLower(v), ";") {
		if e == "" {
			continue
		}
		if e[0] != '.' {
			e = "." + e
		}
		exts = append(exts, e)
	}
	if len(exts) == 0 {
		exts = []string{".com", ".exe", ".bat", ".cmd"}
	}
	return exts
}

func findExecutable(file string, exts []string, isFile func(string) bool) (string, bool) {
	if filepath.Ext(file) != "" && isFile(file) {
		return file, true
	}
	for _, e := range exts {
		if isFile(file + e) {
			return file + e, true
		}
	}
	return "", false
}
