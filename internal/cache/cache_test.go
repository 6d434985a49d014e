package cache

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rolehop/rolehop/internal/winetest"
)

// counting hands out new credentials valid for ttl on every call.
type counting struct {
	calls atomic.Int32
	ttl   time.Duration
	err   error
	delay time.Duration
}

func (c *counting) Retrieve(context.Context) (aws.Credentials, error) {
	n := c.calls.Add(1)
	time.Sleep(c.delay)
	if c.err != nil {
		return aws.Credentials{}, c.err
	}
	return aws.Credentials{AccessKeyID: "ASIA" + string(rune('A'+n)), SecretAccessKey: "s", SessionToken: "t",
		CanExpire: true, Expires: time.Now().Add(c.ttl).Truncate(time.Second)}, nil
}

func TestProviderReusesFreshEntries(t *testing.T) {
	store := Open(winetest.TempDir(t))
	next := &counting{ttl: time.Hour}
	p := &Provider{Store: store, Key: Key("k1"), Meta: Meta{Kind: KindAssumeRole, RoleARN: "arn:r"}, MinTTL: 5 * time.Minute, Next: next}
	a, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if next.calls.Load() != 1 || a.AccessKeyID != b.AccessKeyID || !a.Expires.Equal(b.Expires) {
		t.Fatalf("calls %d, %v vs %v", next.calls.Load(), a, b)
	}
	// Another Store on the same directory (another process) sees it too.
	c, _ := (&Provider{Store: Open(store.Dir()), Key: Key("k1"), MinTTL: 5 * time.Minute, Next: next}).Retrieve(context.Background())
	if c.AccessKeyID != a.AccessKeyID || next.calls.Load() != 1 {
		t.Errorf("second store: %v, calls %d", c, next.calls.Load())
	}
	// Files are private (on Windows, fsutil checks the ACLs).
	dirInfo, _ := os.Stat(store.Dir())
	fileInfo, _ := os.Stat(filepath.Join(store.Dir(), Key("k1")+".json"))
	if runtime.GOOS != "windows" && (dirInfo.Mode().Perm() != 0o700 || fileInfo.Mode().Perm() != 0o600) {
		t.Errorf("modes: dir %v, file %v", dirInfo.Mode().Perm(), fileInfo.Mode().Perm())
	}
}

func TestProviderMinTTL(t *testing.T) {
	store := Open(winetest.TempDir(t))
	next := &counting{ttl: 4 * time.Minute}
	p := &Provider{Store: store, Key: Key("k"), MinTTL: 5 * time.Minute, Next: next}
	for i := 0; i < 2; i++ {
		if _, err := p.Retrieve(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if next.calls.Load() != 2 {
		t.Errorf("credentials with less than min-ttl left were reused: %d calls", next.calls.Load())
	}
	p.MinTTL = time.Minute
	if _, err := p.Retrieve(context.Background()); err != nil || next.calls.Load() != 2 {
		t.Errorf("with min-ttl 1m: calls %d, %v", next.calls.Load(), err)
	}
	// A clock past the expiry makes the entry stale.
	late := Open(store.Dir(), WithClock(func() time.Time { return time.Now().Add(time.Hour) }))
	if _, err := (&Provider{Store: late, Key: Key("k"), MinTTL: time.Minute, Next: next}).Retrieve(context.Background()); err != nil || next.calls.Load() != 3 {
		t.Errorf("expired entry reused: calls %d, %v", next.calls.Load(), err)
	}
}

func TestProviderStoresNothingOnFailure(t *testing.T) {
	store := Open(winetest.TempDir(t))
	boom := errors.New("Throttling: Rate exceeded")
	p := &Provider{Store: store, Key: Key("k"), MinTTL: time.Minute, Next: &counting{ttl: time.Hour, err: boom}}
	if _, err := p.Retrieve(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if _, ok := store.Get(Key("k")); ok {
		t.Error("a failed call left an entry")
	}
}

func TestTornOrForeignEntryIsAMiss(t *testing.T) {
	store := Open(winetest.TempDir(t))
	if err := os.MkdirAll(store.Dir(), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"torn": `{"version":1,"credentials":{"AccessKeyId":"A`, "foreign": `{"version":9}`, "empty": ``} {
		if err := os.WriteFile(filepath.Join(store.Dir(), Key(name)+".json"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, ok := store.Get(Key(name)); ok {
			t.Errorf("%s entry was read as valid", name)
		}
	}
	if l, err := store.List(); err != nil || len(l) != 0 {
		t.Errorf("List = %v, %v", l, err)
	}
}

func TestSingleFlightInProcess(t *testing.T) {
	dir := winetest.TempDir(t)
	next := &counting{ttl: time.Hour, delay: 50 * time.Millisecond}
	var wg sync.WaitGroup
	keys := make([]string, 20)
	for i := range keys {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// Each goroutine has its own Store, like separate processes.
			c, err := (&Provider{Store: Open(dir), Key: Key("k"), MinTTL: time.Minute, Next: next}).Retrieve(context.Background())
			if err != nil {
				t.Error(err)
			}
			keys[i] = c.AccessKeyID
		}(i)
	}
	wg.Wait()
	if next.calls.Load() != 1 {
		t.Errorf("%d calls for 20 concurrent cold retrievals, want 1", next.calls.Load())
	}
	for _, k := range keys {
		if k != keys[0] {
			t.Fatalf("different credentials handed out: %q", keys)
		}
	}
}

func TestLockTimeoutIsClear(t *testing.T) {
	dir := winetest.TempDir(t)
	slow := &gated{counting: counting{ttl: time.Hour}, entered: make(chan struct{}), release: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = (&Provider{Store: Open(dir), Key: Key("k"), Next: slow}).Retrieve(context.Background())
	}()
	// The holder ends before the test does: its lock file open in the
	// temp dir would keep Windows from removing the directory.
	defer func() { close(slow.release); <-done }()
	<-slow.entered // it holds the entry's lock
	waited := false
	store := Open(dir, WithLockTimeout(100*time.Millisecond), WithWaitNotice(func(Meta) func() { waited = true; return func() {} }))
	_, err := (&Provider{Store: store, Key: Key("k"), Meta: Meta{RoleARN: "arn:aws:iam::1:role/r"}, Next: slow}).Retrieve(context.Background())
	if err == nil || !waited || !contains(err.Error(), "timed out", "arn:aws:iam::1:role/r", "--no-cache") {
		t.Errorf("err = %v, waited %v", err, waited)
	}
}

func TestKeyIsStableAndSensitive(t *testing.T) {
	type params struct {
		Role, Session string
		Duration      int
	}
	base := params{"arn:r", "s", 3600}
	if Key(base) != Key(params{"arn:r", "s", 3600}) {
		t.Error("identical params give different keys")
	}
	for _, p := range []params{{"arn:x", "s", 3600}, {"arn:r", "t", 3600}, {"arn:r", "s", 900}} {
		if Key(p) == Key(base) {
			t.Errorf("%+v shares the key of %+v", p, base)
		}
	}
}

func TestMemoRefreshesBeforeMinTTL(t *testing.T) {
	next := &counting{ttl: time.Hour}
	now := time.Now()
	m := &Memo{Next: next, MinTTL: 5 * time.Minute, Now: func() time.Time { return now }}
	a, _ := m.Retrieve(context.Background())
	b, _ := m.Retrieve(context.Background())
	if next.calls.Load() != 1 || a != b {
		t.Fatalf("calls %d", next.calls.Load())
	}
	now = now.Add(56 * time.Minute)
	c, _ := m.Retrieve(context.Background())
	if next.calls.Load() != 2 || c.AccessKeyID == a.AccessKeyID {
		t.Errorf("not refreshed with 4 minutes left: calls %d", next.calls.Load())
	}
	if c.Expires.Before(time.Now().Add(59 * time.Minute)) {
		t.Errorf("expiry was shifted: %v", c.Expires)
	}
}

func TestDirPrecedence(t *testing.T) {
	fromHome := filepath.Join("/h", ".cache", "rolehop")
	if runtime.GOOS == "windows" { // HOME is not Windows' own: %LocalAppData% is used
		d, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		fromHome = filepath.Join(d, "rolehop")
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"ROLEHOP_CACHE_DIR": "/a", "XDG_CACHE_HOME": "/b", "HOME": "/h"}, "/a"},
		{map[string]string{"XDG_CACHE_HOME": "/b", "HOME": "/h"}, filepath.Join("/b", "rolehop")},
		{map[string]string{"HOME": "/h"}, fromHome},
	} {
		got, err := Dir(func(k string) string { return tc.env[k] })
		if err != nil || got != tc.want {
			t.Errorf("Dir(%v) = %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
}

func contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// gated hands out new credentials on every call, but only once release is
// closed; entered is closed when the first call starts.
type gated struct {
	counting
	entered, release chan struct{}
	once             sync.Once
}

func (g *gated) Retrieve(ctx context.Context) (aws.Credentials, error) {
	g.once.Do(func() { close(g.entered) })
	<-g.release
	return g.counting.Retrieve(ctx)
}

// TestClearKeepsSingleFlight: clearing the cache while a process refreshes
// an entry must not let another process refresh it at the same time. Clear
// and Delete used to remove the lock files too: the refreshing process kept
// its lock on the removed file, and the next process locked a new file of
// the same name at once and called STS as well — for a clear that removed
// no entry at all.
func TestClearKeepsSingleFlight(t *testing.T) {
	for _, clear := range []struct {
		name string
		do   func(*Store) error
	}{
		{"Clear", func(s *Store) error { _, err := s.Clear(); return err }},
		{"Delete", func(s *Store) error { return s.Delete(Key("k")) }},
	} {
		t.Run(clear.name, func(t *testing.T) {
			dir := winetest.TempDir(t)
			first := &gated{counting: counting{ttl: time.Hour}, entered: make(chan struct{}), release: make(chan struct{})}
			release := sync.OnceFunc(func() { close(first.release) })
			t.Cleanup(release)
			done := make(chan aws.Credentials, 1)
			go func() {
				c, err := (&Provider{Store: Open(dir), Key: Key("k"), MinTTL: time.Minute, Next: first}).Retrieve(context.Background())
				if err != nil {
					t.Error(err)
				}
				done <- c
			}()
			<-first.entered // it holds the entry's lock and calls STS
			if err := clear.do(Open(dir)); err != nil {
				t.Fatal(err)
			}

			second := &counting{ttl: time.Hour}
			waiting := make(chan struct{})
			var once sync.Once
			store := Open(dir, WithWaitNotice(func(Meta) func() { once.Do(func() { close(waiting) }); return func() {} }))
			got := make(chan aws.Credentials, 1)
			go func() {
				c, err := (&Provider{Store: store, Key: Key("k"), MinTTL: time.Minute, Next: second}).Retrieve(context.Background())
				if err != nil {
					t.Error(err)
				}
				got <- c
			}()
			select {
			case <-waiting: // it waits for the first: right
			case c := <-got:
				t.Fatalf("a second retrieval did not wait for the refresh in progress: it called STS itself (%d calls) and got %s", second.calls.Load(), c.AccessKeyID)
			case <-time.After(10 * time.Second):
				t.Fatal("the second retrieval neither waited nor finished")
			}
			release()
			a, b := <-done, <-got
			if second.calls.Load() != 0 || a.AccessKeyID != b.AccessKeyID {
				t.Errorf("the second retrieval made %d calls and got %s, want none and the first's %s", second.calls.Load(), b.AccessKeyID, a.AccessKeyID)
			}
		})
	}
}

// validEntry is a rolehop entry's bytes.
func validEntry(t testing.TB) []byte {
	b, err := json.Marshal(Entry{Version: entryVersion, Meta: Meta{Kind: KindAssumeRole}, Created: time.Now(),
		Credentials: Credentials{AccessKeyID: "ASIAX", SecretAccessKey: "s", Expiration: time.Now().Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestClearSelection: Clear and Delete remove only regular files that are
// named like an entry and hold one; whatever else a directory holds (a
// project's files when ROLEHOP_CACHE_DIR names it by mistake, lock files,
// temp files, links) stays.
func TestClearSelection(t *testing.T) {
	winetest.SkipNoPOSIXDelete(t)
	winetest.SkipNoSymlinks(t)
	key := Key("x")
	outside := filepath.Join(winetest.TempDir(t), "victim.json")
	if err := os.WriteFile(outside, validEntry(t), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		make    func(t *testing.T, dir, name string)
		removed bool
	}{
		{key + ".json", writeBytes(validEntry(t)), true},
		{Key("y") + ".json", writeBytes(validEntry(t)), true},
		{"package.json", writeBytes(validEntry(t)), false},
		{"tsconfig.json", writeBytes([]byte(`{"compilerOptions":{}}`)), false},
		{Key("z") + ".json", writeBytes([]byte(`{"name":"app"}`)), false}, // named like one, not one
		{Key("torn") + ".json", writeBytes(validEntry(t)[:20]), false},
		{strings.ToUpper(Key("u")) + ".json", writeBytes(validEntry(t)), false},
		{Key("u")[:39] + ".json", writeBytes(validEntry(t)), false},
		{Key("u") + "0.json", writeBytes(validEntry(t)), false},
		{Key("u") + ".JSON", writeBytes(validEntry(t)), false},
		{key + ".lock", writeBytes(nil), false},
		{"." + key + ".json.tmp-123", writeBytes(validEntry(t)), false},
		{Key("link") + ".json", func(t *testing.T, dir, name string) {
			if err := os.Symlink(outside, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}, false},
		{Key("dir") + ".json", func(t *testing.T, dir, name string) {
			if err := os.Mkdir(filepath.Join(dir, name), 0o700); err != nil {
				t.Fatal(err)
			}
		}, false},
	}
	dir := winetest.TempDir(t)
	for _, tc := range tests {
		tc.make(t, dir, tc.name)
	}
	n, err := Open(dir).Clear()
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, tc := range tests {
		_, err := os.Lstat(filepath.Join(dir, tc.name))
		if gone := errors.Is(err, os.ErrNotExist); gone != tc.removed {
			t.Errorf("%s: removed %v, want %v", tc.name, gone, tc.removed)
		}
		if tc.removed {
			want++
		}
	}
	if n != want {
		t.Errorf("Clear says %d removed, want %d", n, want)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("the link's target was removed: %v", err)
	}
}

func writeBytes(b []byte) func(t *testing.T, dir, name string) {
	return func(t *testing.T, dir, name string) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzClearSelection: for any file name and content, Clear removes the file
// exactly when the name is what Key returns plus ".json" and the content is
// an entry Get would hand out.
func FuzzClearSelection(f *testing.F) {
	f.Add(Key("a")+".json", string(validEntry(f)))
	f.Add("package.json", string(validEntry(f)))
	f.Add(Key("a")+".json", `{"version":1,"credentials":{"AccessKeyId":"A","SecretAccessKey":"s"}}`)
	f.Add(Key("a")+".json", `{"version":2,"credentials":{"AccessKeyId":"A","SecretAccessKey":"s"}}`)
	f.Add(Key("a")+".lock", "")
	winetest.SkipNoPOSIXDelete(f)
	f.Fuzz(func(t *testing.T, name, content string) {
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") || len(name) > 200 {
			return
		}
		dir := winetest.TempDir(t)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return // a name the file system refuses
		}
		key, isJSON := strings.CutSuffix(name, ".json")
		want := isJSON && isKey(key) && parseEntry([]byte(content)) != nil
		n, err := Open(dir).Clear()
		if err != nil {
			t.Fatal(err)
		}
		_, statErr := os.Lstat(filepath.Join(dir, name))
		gone := errors.Is(statErr, os.ErrNotExist)
		if gone != want || (n == 1) != want {
			t.Fatalf("name %q content %q: removed %v (count %d), want %v", name, content, gone, n, want)
		}
	})
}
