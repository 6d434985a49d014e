package keychain

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// passRing keeps entries in pass, the standard Unix password manager:
// PREFIX/NAME in the password store, encrypted with GnuPG for the store's
// .gpg-id. The entry goes to pass on its standard input, never in argv.
type passRing struct {
	dir    string
	prefix string
	stderr io.Writer
}

func (r *passRing) run(stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command("pass", args...)
	cmd.Env = append(os.Environ(), "PASSWORD_STORE_DIR="+r.dir)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(errBuf.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("pass %s: %s", args[0], msg)
	}
	return out, nil
}

func (r *passRing) entry(name string) string {
	if r.prefix == "" {
		return name
	}
	return r.prefix + "/" + name
}

func (r *passRing) exists(name string) bool {
	_, err := os.Stat(filepath.Join(r.dir, r.prefix, name+".gpg"))
	return err == nil
}

func (r *passRing) get(name string) ([]byte, error) {
	if !r.exists(name) {
		return nil, errNoEntry
	}
	return r.run(nil, "show", r.entry(name))
}

func (r *passRing) set(name, _ string, data []byte) error {
	_, err := r.run(data, "insert", "--multiline", "--force", r.entry(name))
	return err
}

func (r *passRing) remove(name string) error {
	if !r.exists(name) {
		return errNoEntry
	}
	_, err := r.run(nil, "rm", "--force", r.entry(name))
	return err
}

func (r *passRing) names() ([]string, error) {
	root := filepath.Join(r.dir, r.prefix)
	var names []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == root {
				return filepath.SkipDir
			}
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(path, ".gpg") {
			// entries in folders belong to other prefixes
			if filepath.Dir(path) == root {
				names = append(names, strings.TrimSuffix(d.Name(), ".gpg"))
			}
		}
		return nil
	})
	return names, err
}
