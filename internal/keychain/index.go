package keychain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"github.com/rolehop/rolehop/internal/fsutil"
)

// indexName is the index file in ConfigDir.
const indexName = "keys.json"

// Entry is what rolehop knows of one profile's stored keys without opening
// the store. The access key id is not a secret (AWS prints it in CloudTrail
// and error messages); rolehop shows it masked all the same.
type Entry struct {
	Backend     Backend   `json:"backend"`
	AccessKeyID string    `json:"access_key_id"`
	Added       time.Time `json:"added"`
	// Created is when IAM made the key, when rolehop knows it (rotate).
	Created time.Time `json:"created,omitzero"`
	// UserARN is the caller identity the key was verified as, if it was.
	UserARN string `json:"user_arn,omitempty"`
}

// Index maps profile names to their stored keys.
type Index struct {
	Path     string
	Profiles map[string]Entry
}

type indexFile struct {
	Version  int              `json:"version"`
	Profiles map[string]Entry `json:"profiles"`
}

// Names returns the profiles, sorted.
func (ix *Index) Names() []string {
	if ix == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(ix.Profiles))
}

// Lookup returns profile's entry.
func (ix *Index) Lookup(profile string) (Entry, bool) {
	if ix == nil {
		return Entry{}, false
	}
	e, ok := ix.Profiles[profile]
	return e, ok
}

// LoadIndex reads the index. A missing one is empty. It is read under the
// trust rule: the index decides which keys a profile uses.
func LoadIndex(getenv func(string) string) (*Index, error) {
	dir, err := ConfigDir(getenv)
	if err != nil {
		return nil, err
	}
	ix := &Index{Path: filepath.Join(dir, indexName), Profiles: map[string]Entry{}}
	d, err := fsutil.OpenDir(dir, fsutil.DirOptions{})
	if errors.Is(err, fs.ErrNotExist) {
		return ix, nil
	}
	if err != nil {
		return nil, fmt.Errorf("key index directory %w", err)
	}
	defer d.Close()
	ix.Path = d.Join(indexName)
	return ix, readIndex(d, ix)
}

func readIndex(d *fsutil.Dir, ix *Index) error {
	b, err := d.ReadFile(indexName)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("key index: %w", err)
	}
	var f indexFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("key index %s is not valid JSON (%v): fix or remove it, then add the keys again with `rolehop keys add`", ix.Path, err)
	}
	if f.Version != 1 {
		return fmt.Errorf("key index %s has version %d, which this rolehop does not know: upgrade rolehop", ix.Path, f.Version)
	}
	for name, e := range f.Profiles {
		if _, err := ParseBackend(string(e.Backend)); err != nil || e.AccessKeyID == "" {
			return fmt.Errorf("key index %s: the entry of profile %q is incomplete: remove it with `rolehop keys remove %s`", ix.Path, name, name)
		}
		ix.Profiles[name] = e
	}
	return nil
}

// UpdateIndex changes the index under a lock, and writes it atomically.
func UpdateIndex(ctx context.Context, getenv func(string) string, change func(ix *Index) error) error {
	dir, err := ConfigDir(getenv)
	if err != nil {
		return err
	}
	d, err := fsutil.OpenDir(dir, fsutil.DirOptions{Create: true, Private: true})
	if err != nil {
		return fmt.Errorf("key index directory %w", err)
	}
	defer d.Close()
	lock, err := d.Lock(ctx, indexName+".lock", 30*time.Second, nil)
	if err != nil {
		return fmt.Errorf("key index: %w", err)
	}
	defer lock.Release()
	ix := &Index{Path: d.Join(indexName), Profiles: map[string]Entry{}}
	if err := readIndex(d, ix); err != nil {
		return err
	}
	if err := change(ix); err != nil {
		return err
	}
	b, err := json.MarshalIndent(indexFile{Version: 1, Profiles: ix.Profiles}, "", "  ")
	if err != nil {
		return err
	}
	return d.WriteFile(indexName, append(b, '\n'), 0o600)
}
