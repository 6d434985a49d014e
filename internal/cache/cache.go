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
	// SSO is the token key (sso-session or start URL) of an SSO entry,
	// so logout can find the entries of a session.
	SSO string `json:"sso,omitempty"`
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

// Store is a cache directory.
type Store struct {
	dir         string
	now         func() time.Time
	lockTimeout time.Duration
	onWait      func(Meta) (done func())
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

// Open returns the store in dir. Nothing is created until the first write.
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

func (s *Store) path(key string) string { return filepath.Join(s.dir, key+".json") }

// Get returns the entry for key if it exists and is readable. A torn,
// foreign or unreadable file is a miss.
func (s *Store) Get(key string) (*Entry, bool) {
	b, err := os.ReadFile(s.path(key))
	if err != nil {
		return nil, false
	}
	var e Entry
	if json.Unmarshal(b, &e) != nil || e.Version != entryVersion || e.Credentials.AccessKeyID == "" || e.Credentials.SecretAccessKey == "" {
		return nil, false
	}
	return &e, true
}

// Put stores creds under key, atomically.
func (s *Store) Put(key string, meta Meta, creds aws.Credentials) error {
	if err := fsutil.MkdirPrivate(s.dir); err != nil {
		return fmt.Errorf("cache directory %s: %w", s.dir, err)
	}
	b, err := json.MarshalIndent(Entry{Version: entryVersion, Meta: meta, Created: s.now().UTC(), Credentials: fromAWS(creds)}, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(s.path(key), b, 0o600, false)
}

// Delete removes the entry for key. A missing entry is not an error.
//
// The entry's lock file stays: a process refreshing the entry holds its
// lock on that file, and if the file were removed, the next process would
// lock a new file of the same name at once and refresh the entry too (a
// second STS call, or a second MFA prompt). Lock files are empty.
func (s *Store) Delete(key string) error {
	err := os.Remove(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return err
}

// Listed is one entry as `cache list` shows it: no secret.
type Listed struct {
	Key        string    `json:"key"`
	Meta       Meta      `json:"meta"`
	Expiration time.Time `json:"expiration"`
	Remaining  int64     `json:"remaining_seconds"`
}

// List returns every readable entry, soonest expiry first.
func (s *Store) List() ([]Listed, error) {
	files, err := filepath.Glob(filepath.Join(s.dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []Listed
	for _, f := range files {
		key := strings.TrimSuffix(filepath.Base(f), ".json")
		if e, ok := s.Get(key); ok {
			exp := e.Credentials.Expiration
			out = append(out, Listed{Key: key, Meta: e.Meta, Expiration: exp, Remaining: int64(exp.Sub(s.now()).Seconds())})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Expiration.Before(out[j].Expiration) })
	return out, nil
}

// Clear removes every entry (not the lock files; see Delete), and returns
// how many entries were removed.
func (s *Store) Clear() (int, error) {
	files, err := filepath.Glob(filepath.Join(s.dir, "*.json"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range files {
		if err := s.Delete(strings.TrimSuffix(filepath.Base(f), ".json")); err != nil {
			return n, err
		}
		n++
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
	if e, ok := p.Store.Get(p.Key); ok && p.Store.fresh(e, p.MinTTL) {
		return e.Credentials.AWS(), nil
	}
	if err := fsutil.MkdirPrivate(p.Store.dir); err != nil {
		return aws.Credentials{}, fmt.Errorf("cache directory %s: %w (use --no-cache to run without it)", p.Store.dir, err)
	}
	var onWait func()
	waitDone := func() {}
	if p.Store.onWait != nil {
		onWait = func() { waitDone = p.Store.onWait(p.Meta) }
	}
	lock, err := fsutil.Acquire(ctx, filepath.Join(p.Store.dir, p.Key+".lock"), p.Store.lockTimeout, onWait)
	waitDone()
	if err != nil {
		if errors.Is(err, fsutil.ErrLockTimeout) {
			return aws.Credentials{}, fmt.Errorf("timed out after %s waiting for another rolehop process to refresh %s: run again, or use --no-cache", p.Store.lockTimeout, p.describe())
		}
		return aws.Credentials{}, err
	}
	defer lock.Release()
	if e, ok := p.Store.Get(p.Key); ok && p.Store.fresh(e, p.MinTTL) {
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
