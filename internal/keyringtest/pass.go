package keyringtest

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// KeyUID is the user ID of the gpg key that Pass generates.
const KeyUID = "rolehop test <test@example.invalid>"

// Pass creates a throwaway GNUPGHOME holding a passphrase-less key and a
// pass store initialised for that key. It returns the environment entries a
// child process needs: GNUPGHOME=… and PASSWORD_STORE_DIR=… (99designs/keyring
// reads the latter when Config.PassDir is empty). gpg-agent, which gpg starts
// on demand, is killed in t.Cleanup.
//
// It skips (or fails with CI=true) when gpg, gpgconf or pass is missing.
func Pass(t testing.TB) []string {
	t.Helper()
	Require(t, "gpg", "gpgconf", "pass")
	gnupgHome := shortTempDir(t, "gpg") // gpg-agent's sockets live here
	store := filepath.Join(t.TempDir(), "password-store")
	entries := []string{"GNUPGHOME=" + gnupgHome, "PASSWORD_STORE_DIR=" + store}
	env := isolatedEnv(entries...)
	t.Cleanup(func() {
		// Registered after shortTempDir's removal, so it runs before it.
		for _, args := range [][]string{{"--kill", "all"}, {"--remove-socketdir"}} {
			if out, err := command(env, "gpgconf", args...); err != nil {
				t.Logf("keyringtest: gpgconf %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
	})

	out, err := command(env, "gpg", "--batch", "--status-fd", "1", "--passphrase", "",
		"--quick-gen-key", KeyUID, "default", "default", "never")
	if err != nil {
		t.Fatalf("keyringtest: gpg --quick-gen-key: %v\n%s", err, out)
	}
	fpr := ""
	for _, line := range strings.Split(string(out), "\n") {
		// [GNUPG:] KEY_CREATED <B|P|S> <fingerprint>
		if f := strings.Fields(line); len(f) >= 4 && f[0] == "[GNUPG:]" && f[1] == "KEY_CREATED" {
			fpr = f[3]
		}
	}
	if fpr == "" {
		t.Fatalf("keyringtest: no KEY_CREATED status from gpg --quick-gen-key:\n%s", out)
	}
	if out, err := command(env, "pass", "init", fpr); err != nil {
		t.Fatalf("keyringtest: pass init %s: %v\n%s", fpr, err, out)
	}
	return entries
}

// command runs name with env and returns its combined output.
func command(env []string, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	// gpg starts gpg-agent, which must not keep our output pipe open.
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%v (timed out after %v)", err, StartTimeout)
		}
		return out.Bytes(), err
	}
	return out.Bytes(), nil
}
