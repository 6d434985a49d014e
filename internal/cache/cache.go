// Package cache is rolehop's credential cache, shared by every rolehop
// process of a user: one JSON file per cached step (an AssumeRole hop, an
// MFA session, a credential_process result), 0600 in a 0700 directory,
// replaced atomically, with a per-entry lock file around "look up, call
// STS, store" so that N processes started together make one call per step.
package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rolehop/rolehop/internal/fsutil"
)

// Entry kinds.
const (
	KindAssumeRole = "assume-role"
	KindMFASession = "mfa-session"
	KindProcess    = "credential-process"
	KindWebIdent   = "web-identity"
	KindSSO        = "sso"
)

// DefaultLockTimeout bounds how long a process waits for another one that
// is refreshing the same entry (which may be waiting for an MFA code).
const DefaultLockTimeout = 60 * time.Second

const entryVersion = 1

// Dir returns the cache directory: ROLEHOP_CACHE_DIR, else
// $XDG_CACHE_HOME/rolehop, else the OS user cache directory + /rolehop.
func Dir(getenv func(string) string) (string, error) {
	if d := getenv("ROLEHOP_CACHE_DIR"); d != "" {
		return d, nil
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "rolehop"), nil
	}
	if home := getenv("HOME"); home != "" && os.PathSeparator == '/' {
		return filepath.Join(home, ".cache", "rolehop"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: set ROLEHOP_CACHE_DIR or use --no-cache (%v)", err)
	}
	return filepath.Join(d, "rolehop"), nil
}

// Meta describes an entry for `cache list`; it holds no secret.
type Meta struct {
	Kind        string `json:"kind"`
	Profile     string `json:"profile,omitempty"`
	RoleARN     string `json:"role_arn,omitempty"`
	SessionName string `json:"session_name,omitempty"`
	Serial      string `json:"mfa_serial,omitempty"`
	Source      string `json:"source,omitempty"`
	// SSO is the token key (sso-session or start URL) of the IAM Identity
	// Center session the credentials come from: set on the SSO entry and
	// on every entry of a chain after it, so logout removes them all.
	SSO string `json:"sso,omitempty"`
	// Origin is, on every entry of a chain that starts with a web
	// identity, the key of that first step without the token's claims:
	// `cache clear` finds the chain's entries by it without a token.
	Origin string `json:"origin,omitempty"`
	// Login is the login_session of the `aws login` session the
	// credentials come from, on every entry of such a chain, so that
	// logout removes them all.
	Login string `json:"login,omitempty"`
}

// Entry is one cached step's result.
type Entry struct {
	Version     int         `json:"version"`
	Meta        Meta        `json:"meta"`
	Created     time.Time   `json:"created"`
	Credentials Credentials `json:"credentials"`
}

// Credentials is the stored form of aws.Credentials.
type Credentials struct {
	AccessKeyID     string    `json:"AccessKeyId"`
	SecretAccessKey string    `json:"SecretAccessKey"`
	SessionToken    string    `json:"SessionToken,omitempty"`
	Expiration      time.Time `json:"Expiration"`
	AccountID       string    `json:"AccountId,omitempty"`
}

func fromAWS(c aws.Credentials) Credentials {
	return Credentials{c.AccessKeyID, c.SecretAccessKey, c.SessionToken, c.Expires.UTC(), c.AccountID}
}

// AWS returns the entry's credentials as aws.Credentials.
func (c Credentials) AWS() aws.Credentials {
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		CanExpire: true, Expires: c.Expiration, AccountID: c.AccountID, Source: "rolehop:cache"}
}

// Store is a cache directory. The directory is held to fsutil's trust
// rule: it must be the user's own and private, or the store refuses to read
// or write it.
type Store struct {
	dir         string
	now         func() time.Time
	lockTimeout time.Duration
	onWait      func(Meta) (done func())
	notice      func(format string, args ...any)
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithLockTimeout bounds the wait for another process's refresh.
func WithLockTimeout(d time.Duration) Option { return func(s *Store) { s.lockTimeout = d } }

// WithWaitNotice is called once when a process has to wait for another
// process's refresh; the function it returns is called when the wait ends
// (to stop a progress line).
func WithWaitNotice(f func(Meta) (done func())) Option { return func(s *Store) { s.onWait = f } }

// WithNotice is told when the store tightens its directory or an entry
// that had become readable by others.
func WithNotice(f func(format string, args ...any)) Option { return func(s *Store) { s.notice = f } }

// Open returns the store in dir. Nothing is read or created until the
// first lookup or write.
func Open(dir string, opts ...Option) *Store {
	s := &Store{dir: dir, now: time.Now, lockTimeout: DefaultLockTimeout}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Key derives an entry key from everything that defines a step's result.
// params must be JSON-marshalable and deterministic (structs, not maps of
// interfaces); secrets must never be part of it.
func Key(params any) string {
	b, err := json.Marshal(params)
	if err != nil {
		panic(fmt.Sprintf("cache.Key: %v", err)) // params are rolehop's own structs
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:20])
}

// isKey reports whether s is what Key returns: 40 lower-case hex digits.
func isKey(s string) bool {
	return len(s) == 40 && strings.Trim(s, "0123456789abcdef") == ""
}

func entryName(key string) string { return key + ".json" }

// dirHandle opens the directory under the trust rule, for one operation
// (a long-running process sees the directory as it is now, even one that
// was removed and made again); it is created (0700) when create is set. A
// missing directory is fs.ErrNotExist. The caller closes it.
func (s *Store) dirHandle(create bool) (*fsutil.Dir, error) {
	d, err := fsutil.OpenDir(s.dir, fsutil.DirOptions{Create: create, Private: true, Notice: s.notice})
	if errors.Is(err, fs.ErrNotExist) && !create {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("cache directory %w (ROLEHOP_CACHE_DIR names another; --no-cache runs without one)", err)
	}
	return d, nil
}

// inDir runs f in the directory opened under the trust rule (created when
// create is set). Without create, a missing directory runs nothing: it
// holds no entry.
func (s *Store) inDir(create bool, f func(*fsutil.Dir) error) error {
	d, err := s.dirHandle(create)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer d.Close()
	return f(d)
}

// lookup returns the entry for key, nil when there is none or it is not
// a rolehop entry; an error only when the directory fails the trust rule.
func (s *Store) lookup(key string) (e *Entry, err error) {
	err = s.inDir(false, func(d *fsutil.Dir) error {
		if !isKey(key) {
			return nil
		}
		if b, rerr := d.ReadFile(entryName(key)); rerr == nil {
			e = parseEntry(b)
		}
		return nil
	})
	return e, err
}

// parseEntry returns the entry b holds, or nil when b is not one.
func parseEntry(b []byte) *Entry {
	var e Entry
	if json.Unmarshal(b, &e) != nil || e.Version != entryVersion || e.Credentials.AccessKeyID == "" || e.Credentials.SecretAccessKey == "" {
		return nil
	}
	return &e
}

// Get returns the entry for key if it exists and is readable. A torn,
// foreign or unreadable file is a miss, and so is a directory that fails
// the trust rule (Retrieve reports that one).
func (s *Store) Get(key string) (*Entry, bool) {
	e, err := s.lookup(key)
	return e, err == nil && e != nil
}

// Put stores creds under key, atomically.
func (s *Store) Put(key string, meta Meta, creds aws.Credentials) error {
	if !isKey(key) {
		return fmt.Errorf("cache key %q is not one of Key's", key)
	}
	b, err := json.MarshalIndent(Entry{Version: entryVersion, Meta: meta, Created: s.now().UTC(), Credentials: fromAWS(creds)}, "", "  ")
	if err != nil {
		return err
	}
	return s.inDir(true, func(d *fsutil.Dir) error { return d.WriteFile(entryName(key), b, 0o600) })
}

// Delete removes the entry for key if it is a rolehop entry: a regular
// file of the user's, named like one, holding one. Anything else is left
// alone, and a missing entry is not an error.
//
// The entry's lock file stays: a process refreshing the entry holds its
// lock on that file, and if the file were removed, the next process would
// lock a new file of the same name at once and refresh the entry too (a
// second STS call, or a second MFA prompt). Lock files are empty.
func (s *Store) Delete(key string) error {
	_, err := s.remove(key)
	return err
}

// remove deletes key's entry if it is a rolehop entry, and reports
// whether it did.
func (s *Store) remove(key string) (removed bool, err error) {
	err = s.inDir(false, func(d *fsutil.Dir) error {
		if !isKey(key) {
			return nil
		}
		b, err := d.ReadFile(entryName(key))
		if err != nil || parseEntry(b) == nil {
			return nil // missing, or not ours: not ours to delete
		}
		if err := d.Remove(entryName(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removed = true
		return nil
	})
	return removed, err
}

// keys lists the names in the directory that are named like entries.
func (s *Store) keys() (keys []string, err error) {
	err = s.inDir(false, func(d *fsutil.Dir) error {
		entries, err := d.Entries()
		for _, e := range entries {
			if key, ok := strings.CutSuffix(e.Name(), ".json"); ok && isKey(key) && e.Type().IsRegular() {
				keys = append(keys, key)
			}
		}
		return err
	})
	return keys, err
}

// Listed is one entry as `cache list` shows it: no secret.
type Listed struct {
	Key        string    `json:"key"`
	Meta       Meta      `json:"meta"`
	Expiration time.Time `json:"expiration"`
	Remaining  int64     `json:"remaining_seconds"`
}

// List returns every entry, soonest expiry first. Files that are not
// rolehop entries are not listed.
func (s *Store) List() ([]Listed, error) {
	keys, err := s.keys()
	if err != nil {
		return nil, err
	}
	var out []Listed
	for _, key := range keys {
		if e, ok := s.Get(key); ok {
			exp := e.Credentials.Expiration
			out = append(out, Listed{Key: key, Meta: e.Meta, Expiration: exp, Remaining: int64(exp.Sub(s.now()).Seconds())})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Expiration.Before(out[j].Expiration) })
	return out, nil
}

// Clear removes every entry (not the lock files; see Delete), and returns
// how many entries were removed. Only rolehop entries go (see Delete): a
// package.json in a directory that ROLEHOP_CACHE_DIR names by mistake
// stays.
func (s *Store) Clear() (int, error) {
	keys, err := s.keys()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, key := range keys {
		removed, err := s.remove(key)
		if err != nil {
			return n, err
		}
		if removed {
			n++
		}
	}
	return n, nil
}

// fresh reports whether e has more than minTTL of validity left.
func (s *Store) fresh(e *Entry, minTTL time.Duration) bool {
	return e.Credentials.Expiration.Sub(s.now()) > minTTL
}

// Provider puts one step behind the cache. Retrieve returns a stored entry
// with more than MinTTL left; otherwise, under the entry's lock, it looks
// again (another process may just have refreshed it), and only then calls
// the step and stores what it returns. A failed call stores nothing.
type Provider struct {
	Store  *Store
	Key    string
	Meta   Meta
	MinTTL time.Duration
	Next   aws.CredentialsProvider
}

// Retrieve implements aws.CredentialsProvider.
func (p *Provider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	// The directory is checked before anything in it is believed.
	e, err := p.Store.lookup(p.Key)
	if err != nil {
		return aws.Credentials{}, err
	}
	if e != nil && p.Store.fresh(e, p.MinTTL) {
		return e.Credentials.AWS(), nil
	}
	d, err := p.Store.dirHandle(true)
	if err != nil {
		return aws.Credentials{}, err
	}
	defer d.Close()
	var onWait func()
	waitDone := func() {}
	if p.Store.onWait != nil {
		onWait = func() { waitDone = p.Store.onWait(p.Meta) }
	}
	lock, err := d.Lock(ctx, p.Key+".lock", p.Store.lockTimeout, onWait)
	waitDone()
	if err != nil {
		if errors.Is(err, fsutil.ErrLockTimeout) {
			return aws.Credentials{}, fmt.Errorf("timed out after %s waiting for another rolehop process to refresh %s: run again, or use --no-cache", p.Store.lockTimeout, p.describe())
		}
		return aws.Credentials{}, err
	}
	defer lock.Release()
	if e, err := p.Store.lookup(p.Key); err == nil && e != nil && p.Store.fresh(e, p.MinTTL) {
		return e.Credentials.AWS(), nil
	}
	creds, err := p.Next.Retrieve(ctx)
	if err != nil {
		return creds, err
	}
	if creds.CanExpire {
		// A cache that cannot be written must not fail the run: the
		// credentials are good, only the next run will be slower.
		_ = p.Store.Put(p.Key, p.Meta, creds)
	}
	return creds, nil
}

func (p *Provider) describe() string {
	switch {
	case p.Meta.RoleARN != "":
		return p.Meta.RoleARN
	case p.Meta.Serial != "":
		return "the MFA session of " + p.Meta.Serial
	}
	return "the credentials of profile " + p.Meta.Profile
}
