package awsconfig

import (
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
)

// Environment variables that override the default file paths.
const (
	EnvConfigFile      = "AWS_CONFIG_FILE"
	EnvCredentialsFile = "AWS_SHARED_CREDENTIALS_FILE"
)

// FilePaths returns the config and credentials file paths: AWS_CONFIG_FILE
// and AWS_SHARED_CREDENTIALS_FILE if set, expanded like botocore does
// (os.path.expandvars, then os.path.expanduser, so "$HOME/x", "${HOME}/x"
// and "~/x" work), else ~/.aws/config and ~/.aws/credentials.
//
// Variables are read with getenv (os.Getenv if nil); an empty variable
// counts as unset, and "$VAR" is then left as it is, as Python does for an
// unset variable. The home directory is getenv("HOME"), else
// getenv("USERPROFILE") (Windows), else os.UserHomeDir, else the user
// database.
func FilePaths(getenv func(string) string) (configPath, credentialsPath string) {
	if getenv == nil {
		getenv = os.Getenv
	}
	home := homeDir(getenv)
	configPath = sharedFilePath(getenv, EnvConfigFile, home, "config")
	credentialsPath = sharedFilePath(getenv, EnvCredentialsFile, home, "credentials")
	return configPath, credentialsPath
}

func sharedFilePath(getenv func(string) string, env, home, base string) string {
	if p := getenv(env); p != "" {
		return expandUser(expandVars(p, getenv), home)
	}
	if home == "" {
		home = "~"
	}
	return filepath.Join(home, ".aws", base)
}

// HomeDir returns the home directory as FilePaths sees it (HOME, then
// USERPROFILE, then the OS), or "" if none can be found.
func HomeDir(getenv func(string) string) string { return homeDir(getenv) }

// homeDir returns the home directory, or "" if none can be found.
func homeDir(getenv func(string) string) string {
	for _, env := range []string{"HOME", "USERPROFILE"} {
		if h := getenv(env); h != "" {
			return h
		}
	}
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return h
	}
	if u, err := user.Current(); err == nil {
		return u.HomeDir
	}
	return ""
}

// expandVars is Python's posixpath.expandvars: "$NAME" (NAME made of ASCII
// letters, digits and "_") and "${NAME}" are replaced by the variable's
// value; unset (here: empty) variables are left as they are. Replaced text
// is not expanded again.
func expandVars(s string, getenv func(string) string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		name, ref := varRef(s[i+1:])
		val := ""
		if name != "" {
			val = getenv(name)
		}
		b.WriteString(s[:i])
		if val == "" {
			// Not a variable, or unset: keep the "$" and go on after it,
			// as Python resumes its search after an unknown reference.
			b.WriteString("$" + ref)
		} else {
			b.WriteString(val)
		}
		s = s[i+1+len(ref):]
	}
}

// varRef parses the text after a "$": it returns the variable name and the
// text of the reference ("NAME" or "{NAME}"), or two empty strings.
func varRef(s string) (name, ref string) {
	if strings.HasPrefix(s, "{") {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return "", ""
		}
		return s[1:end], s[:end+1]
	}
	n := 0
	for n < len(s) && isWordByte(s[n]) {
		n++
	}
	return s[:n], s[:n]
}

func isWordByte(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// expandUser is Python's os.path.expanduser: a leading "~" up to the first
// path separator becomes home, and "~NAME" the home directory of user NAME.
// Anything else, or an unknown user, is left as it is.
func expandUser(path, home string) string {
	if !strings.HasPrefix(path, "~") {
		return path
	}
	seps := "/"
	if runtime.GOOS == "windows" {
		seps = `/\`
	}
	i := strings.IndexAny(path[1:], seps) + 1
	if i == 0 {
		i = len(path)
	}
	userHome := home
	if name := path[1:i]; name != "" {
		u, err := user.Lookup(name)
		if err != nil {
			return path
		}
		userHome = u.HomeDir
	}
	if userHome == "" {
		return path
	}
	if runtime.GOOS != "windows" {
		userHome = strings.TrimRight(userHome, "/")
	}
	if out := userHome + path[i:]; out != "" {
		return out
	}
	return "/"
}
