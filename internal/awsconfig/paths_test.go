package awsconfig

import (
	"os/user"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/rolehop/rolehop/internal/winetest"
)

func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func TestFilePaths(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("expectations use POSIX paths")
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		env      map[string]string
		cfg, crd string
	}{
		{"defaults", map[string]string{"HOME": "/h"}, "/h/.aws/config", "/h/.aws/credentials"},
		{"USERPROFILE fallback", map[string]string{"USERPROFILE": "/u"}, "/u/.aws/config", "/u/.aws/credentials"},
		{"HOME wins over USERPROFILE", map[string]string{"HOME": "/h", "USERPROFILE": "/u"}, "/h/.aws/config", "/h/.aws/credentials"},
		{"env vars", map[string]string{"HOME": "/h", EnvConfigFile: "/x/c", EnvCredentialsFile: "rel/k"}, "/x/c", "rel/k"},
		{"empty env var is unset", map[string]string{"HOME": "/h", EnvConfigFile: ""}, "/h/.aws/config", "/h/.aws/credentials"},
		{"tilde", map[string]string{"HOME": "/h", EnvConfigFile: "~/c", EnvCredentialsFile: "~"}, "/h/c", "/h"},
		{"tilde with trailing slash home", map[string]string{"HOME": "/h/", EnvConfigFile: "~/c"}, "/h/c", "/h/.aws/credentials"},
		{"tilde with root home", map[string]string{"HOME": "/", EnvConfigFile: "~", EnvCredentialsFile: "~/k"}, "/", "/k"},
		{"tilde user", map[string]string{"HOME": "/h", EnvConfigFile: "~" + me.Username + "/c"}, me.HomeDir + "/c", "/h/.aws/credentials"},
		{"unknown user", map[string]string{"HOME": "/h", EnvConfigFile: "~no-such-user-xyz/c"}, "~no-such-user-xyz/c", "/h/.aws/credentials"},
		{"tilde not first", map[string]string{"HOME": "/h", EnvConfigFile: "/a/~/c"}, "/a/~/c", "/h/.aws/credentials"},
		{"vars", map[string]string{"HOME": "/h", "D": "/d", EnvConfigFile: "$HOME/c", EnvCredentialsFile: "${D}/k"}, "/h/c", "/d/k"},
		{"unset var kept", map[string]string{"HOME": "/h", EnvConfigFile: "$NOPE/c", EnvCredentialsFile: "${NOPE}x/$"}, "$NOPE/c", "${NOPE}x/$"},
		{"var name stops at non-word", map[string]string{"HOME": "/h", "A": "1", EnvConfigFile: "/$A-$A.b/${A"}, "/1-1.b/${A", "/h/.aws/credentials"},
		{"var then tilde", map[string]string{"HOME": "/h", "T": "~", EnvConfigFile: "$T/c"}, "/h/c", "/h/.aws/credentials"},
		{"dollar runs and empty braces", map[string]string{"HOME": "/h", "A": "1", EnvConfigFile: "$$A${A}${A}", EnvCredentialsFile: "${}x"}, "$111", "${}x"},
		{"values not re-expanded", map[string]string{"HOME": "/h", "A": "$HOME", EnvConfigFile: "/x$A"}, "/x$HOME", "/h/.aws/credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, crd := FilePaths(envFunc(tt.env))
			if cfg != tt.cfg || crd != tt.crd {
				t.Errorf("FilePaths = %q, %q; want %q, %q", cfg, crd, tt.cfg, tt.crd)
			}
		})
	}
}

func TestFilePathsNoHomeEnv(t *testing.T) {
	// Without HOME or USERPROFILE in the injected environment, the home
	// directory comes from the process (os.UserHomeDir).
	home := winetest.TempDir(t)
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	cfg, _ := FilePaths(envFunc(nil))
	if want := filepath.Join(home, ".aws", "config"); cfg != want {
		t.Errorf("config path = %q, want %q", cfg, want)
	}
}
