package keychain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	jose "github.com/dvsekhvalnov/jose2go"
	"github.com/mtibben/percent"

	"github.com/rolehop/rolehop/internal/fsutil"
	"github.com/rolehop/rolehop/internal/prompt"
)

// fileStore is the File backend: one file per entry in a private
// directory, each a JWE (PBES2-HS256+A128KW, A256GCM) of the entry's JSON,
// named by the percent-encoded entry name. That is the format of
// 99designs/keyring's file backend, so the same code reads aws-vault's
// encrypted files; rolehop writes them itself so that each write is
// atomic and the directory is under the trust rule (fsutil.OpenDir).
type fileStore struct {
	ctx      context.Context
	dir      string
	settings Settings
	env      []string // the variables that may hold the passphrase, in order
	password string
	private  bool // tighten the directory and entries (rolehop's own store)
}

// passphraseError is a wrong or missing passphrase.
type passphraseError struct{ msg string }

func (e *passphraseError) Error() string { return e.msg }

func openFileStore(ctx context.Context, dir string, s Settings, env ...string) (*fileStore, error) {
	if dir == "" {
		return nil, errors.New("the encrypted-file keychain has no directory: set ROLEHOP_KEYRING_FILE_DIR")
	}
	if len(env) == 0 {
		env = []string{"ROLEHOP_KEYRING_PASSWORD"}
	}
	return &fileStore{ctx: ctx, dir: dir, settings: s, env: env}, nil
}

func fileName(key string) string { return percent.Encode(key, "/") }

// open opens the directory under the trust rule; with create, it is made.
func (f *fileStore) open(create bool) (*fsutil.Dir, error) {
	d, err := fsutil.OpenDir(f.dir, fsutil.DirOptions{Create: create, Private: f.private})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("keychain directory %w", err)
	}
	return d, err
}

// unlock finds the passphrase: the namespace's variable, then
// ROLEHOP_KEYRING_PASSWORD_COMMAND, then the terminal. A new store (no
// entry yet) asks twice; an existing one is checked against an entry so
// that one directory never holds two passphrases.
func (f *fileStore) unlock(d *fsutil.Dir) error {
	if f.password != "" {
		return nil
	}
	sample, err := f.anyEntry(d)
	if err != nil {
		return err
	}
	pw, from, err := f.passphrase(sample == nil)
	if err != nil {
		return err
	}
	if pw == "" {
		return &passphraseError{"the encrypted-file keychain's passphrase is empty (" + from + ")"}
	}
	if sample != nil {
		if _, _, err := jose.Decode(string(sample), pw); err != nil {
			return &passphraseError{fmt.Sprintf("the passphrase from %s does not open the encrypted-file keychain %s", from, f.dir)}
		}
	}
	f.password = pw
	return nil
}

func (f *fileStore) passphrase(isNew bool) (pw, from string, err error) {
	for _, name := range f.env {
		if v, ok := lookupEnv(f.settings, name); ok {
			return v, "env " + name, nil
		}
	}
	if cmd := f.settings.getenv("ROLEHOP_KEYRING_PASSWORD_COMMAND"); cmd != "" {
		pw, err := prompt.FirstLine(f.ctx, "ROLEHOP_KEYRING_PASSWORD_COMMAND", cmd, f.settings.Stderr)
		return pw, "ROLEHOP_KEYRING_PASSWORD_COMMAND", err
	}
	if f.settings.Passphrase == nil {
		return "", "", &passphraseError{"the encrypted-file keychain needs its passphrase and there is no terminal to ask on: set " + f.env[0] + " or ROLEHOP_KEYRING_PASSWORD_COMMAND"}
	}
	pw, err = f.settings.Passphrase(f.ctx, fmt.Sprintf("Passphrase of the encrypted-file keychain %s: ", f.dir), isNew)
	if err != nil {
		return "", "", &passphraseError{fmt.Sprintf("the encrypted-file keychain needs its passphrase (%v): set %s or ROLEHOP_KEYRING_PASSWORD_COMMAND", err, f.env[0])}
	}
	return pw, "the terminal", nil
}

func lookupEnv(s Settings, name string) (string, bool) {
	if s.Getenv == nil {
		return os.LookupEnv(name)
	}
	v := s.Getenv(name)
	return v, v != ""
}

// anyEntry returns one entry's bytes, or nil when there is none.
func (f *fileStore) anyEntry(d *fsutil.Dir) ([]byte, error) {
	if d == nil {
		return nil, nil
	}
	entries, err := d.Entries()
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		if b, err := d.ReadFile(e.Name()); err == nil {
			return b, nil
		}
	}
	return nil, nil
}

func (f *fileStore) get(key string) ([]byte, error) {
	d, err := f.open(false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoEntry
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	b, err := d.ReadFile(fileName(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoEntry
	}
	if err != nil {
		return nil, err
	}
	if err := f.unlock(d); err != nil {
		return nil, err
	}
	payload, _, err := jose.Decode(string(b), f.password)
	if err != nil {
		return nil, &passphraseError{fmt.Sprintf("%s cannot be decrypted with this passphrase", d.Join(fileName(key)))}
	}
	return []byte(payload), nil
}

// set replaces the entry atomically. The payload is an envelope (see
// unwrap), as 99designs/keyring writes it.
func (f *fileStore) set(key, label string, data []byte) error {
	d, err := f.open(true)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := f.unlock(d); err != nil {
		return err
	}
	payload, err := json.Marshal(envelope{Key: key, Data: data, Label: label})
	if err != nil {
		return err
	}
	token, err := jose.Encrypt(string(payload), jose.PBES2_HS256_A128KW, jose.A256GCM, f.password,
		jose.Headers(map[string]any{"created": time.Now().UTC().Format(time.RFC3339)}))
	if err != nil {
		return err
	}
	return d.WriteFile(fileName(key), []byte(token), 0o600)
}

func (f *fileStore) remove(key string) error {
	d, err := f.open(false)
	if errors.Is(err, fs.ErrNotExist) {
		return errNoEntry
	}
	if err != nil {
		return err
	}
	defer d.Close()
	err = d.Remove(fileName(key))
	if errors.Is(err, fs.ErrNotExist) {
		return errNoEntry
	}
	return err
}

// names lists the entries without decrypting them.
func (f *fileStore) names() ([]string, error) {
	d, err := f.open(false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	entries, err := d.Entries()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		names = append(names, percent.Decode(e.Name()))
	}
	return names, nil
}
