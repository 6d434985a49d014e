//go:build !windows

package fsutil

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// other is the uid and gid of "another local user" in these tests; no such
// user needs to exist.
const other = 2001

// needRoot skips a test that must make files of another user, except in
// CI (which runs as root), where not being root is a failure.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("this test makes files of another user and needs root; CI runs as root")
	}
	t.Skip("needs root to make files of another user (runs in CI, which is root)")
}

func chown(t *testing.T, path string, uid, gid int) {
	t.Helper()
	if err := os.Lchown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, path string, mode fs.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// wantUntrusted asserts err is an *UntrustedError about path whose message
// holds every fragment.
func wantUntrusted(t *testing.T, err error, path string, fragments ...string) {
	t.Helper()
	var ue *UntrustedError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUntrusted) {
		t.Fatalf("err = %v, want an *UntrustedError", err)
	}
	if ue.Path != path {
		t.Errorf("error names %q, want %q", ue.Path, path)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	for _, f := range fragments {
		if !strings.Contains(msg, f) {
			t.Errorf("error %q does not say %q", msg, f)
		}
	}
}

func TestOpenDirRule(t *testing.T) {
	me := os.Geteuid()
	tests := []struct {
		name  string
		root  bool // needs root (makes another user's files)
		setup func(t *testing.T, base string) (path, bad string)
		// want: "" to accept, else fragments of the refusal about bad
		want []string
	}{
		{"own private directory", false, func(t *testing.T, base string) (string, string) {
			return mkdirMode(t, base, "d", 0o700), ""
		}, nil},
		{"own 0755 directory", false, func(t *testing.T, base string) (string, string) {
			return mkdirMode(t, base, "d", 0o755), ""
		}, nil},
		{"writable by every user", false, func(t *testing.T, base string) (string, string) {
			d := mkdirMode(t, base, "d", 0o777)
			return d, d
		}, []string{"writable by every user", "mode 0777", "chmod o-w"}},
		{"sticky and writable by every user (like /tmp)", false, func(t *testing.T, base string) (string, string) {
			d := mkdirMode(t, base, "d", 0o777)
			chmod(t, d, 0o777|fs.ModeSticky)
			return d, d
		}, []string{"writable by every user"}},
		{"group-writable, another group", true, func(t *testing.T, base string) (string, string) {
			d := mkdirMode(t, base, "d", 0o770)
			chown(t, d, me, other)
			return d, d
		}, []string{"writable by group gid 2001", "chmod g-w"}},
		{"group-writable, the user's private group", true, func(t *testing.T, base string) (string, string) {
			// root's primary group is root (gid 0), named like the user.
			d := mkdirMode(t, base, "d", 0o770)
			chown(t, d, 0, 0)
			return d, ""
		}, nil},
		{"owned by another user", true, func(t *testing.T, base string) (string, string) {
			d := mkdirMode(t, base, "d", 0o700)
			chown(t, d, other, other)
			return d, d
		}, []string{"is owned by uid 2001", "not by you (uid ", "of your own"}},
		{"another user's link to the user's own directory", true, func(t *testing.T, base string) (string, string) {
			mkdirMode(t, base, "real", 0o700)
			link := filepath.Join(base, "link")
			symlink(t, "real", link)
			chown(t, link, other, other)
			return link, link
		}, []string{"symbolic link owned by uid 2001", "links of your own"}},
		{"another user's link higher up the path", true, func(t *testing.T, base string) (string, string) {
			mkdirMode(t, base, "real", 0o755)
			mkdirMode(t, base, filepath.Join("real", "cache"), 0o700)
			link := filepath.Join(base, "link")
			symlink(t, "real", link)
			chown(t, link, other, other)
			return filepath.Join(link, "cache"), link
		}, []string{"symbolic link owned by uid 2001"}},
		{"the user's own link (a dotfiles setup)", false, func(t *testing.T, base string) (string, string) {
			mkdirMode(t, base, "dotfiles", 0o700)
			link := filepath.Join(base, "cache")
			symlink(t, "dotfiles", link)
			return link, ""
		}, nil},
		{"root's link", true, func(t *testing.T, base string) (string, string) {
			mkdirMode(t, base, "real", 0o700)
			link := filepath.Join(base, "link")
			symlink(t, filepath.Join(base, "real"), link)
			chown(t, link, 0, 0)
			return link, ""
		}, nil},
		{"own link to another user's directory", true, func(t *testing.T, base string) (string, string) {
			d := mkdirMode(t, base, "theirs", 0o700)
			chown(t, d, other, other)
			link := filepath.Join(base, "link")
			symlink(t, "theirs", link)
			return link, d
		}, []string{"is owned by uid 2001"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root {
				needRoot(t)
			}
			base := t.TempDir()
			path, bad := tc.setup(t, base)
			before := snapshot(t, base)
			d, err := OpenDir(path, DirOptions{Private: true, Create: true})
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				d.Close()
				return
			}
			if err == nil {
				d.Close()
				t.Fatal("accepted")
			}
			wantUntrusted(t, err, bad, tc.want...)
			if after := snapshot(t, base); after != before {
				t.Errorf("a refused directory was changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func mkdirMode(t *testing.T, base, name string, mode fs.FileMode) string {
	t.Helper()
	d := filepath.Join(base, name)
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	chmod(t, d, mode)
	return d
}

// snapshot describes every path under base with its owner and mode.
func snapshot(t *testing.T, base string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(base, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		fmt.Fprintf(&b, "%s %v %d:%d; ", strings.TrimPrefix(p, base), fi.Mode(), st.Uid, st.Gid)
		return nil
	})
	return b.String()
}

// TestEntryRule: inside a trusted directory, entries that are links or
// belong to someone else are neither read, replaced, locked nor deleted.
func TestEntryRule(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	writeFile(t, outside, "victim's file", 0o600)
	dir := mkdirMode(t, base, "cache", 0o700)
	symlink(t, outside, filepath.Join(dir, "link.json"))
	symlink(t, filepath.Join(base, "missing"), filepath.Join(dir, "dangling.lock"))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(dir, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, name := range []string{"link.json", "dangling.lock", "fifo.json"} {
		if _, err := d.ReadFile(name); !errors.Is(err, ErrUntrusted) {
			t.Errorf("ReadFile(%s) = %v, want a refusal", name, err)
		}
		if err := d.WriteFile(name, []byte("x"), 0o600); !errors.Is(err, ErrUntrusted) {
			t.Errorf("WriteFile(%s) = %v, want a refusal", name, err)
		}
		if err := d.Remove(name); !errors.Is(err, ErrUntrusted) {
			t.Errorf("Remove(%s) = %v, want a refusal", name, err)
		}
		if l, err := d.Lock(context.Background(), name, time.Second, nil); !errors.Is(err, ErrUntrusted) {
			l.Release()
			t.Errorf("Lock(%s) = %v, want a refusal", name, err)
		}
	}
	if got := readFile(t, outside); got != "victim's file" {
		t.Errorf("the link's target was changed: %q", got)
	}
	if _, err := os.Lstat(filepath.Join(base, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dangling link's target was created: %v", err)
	}
	for _, name := range []string{"../outside", "a/b", ".", ""} {
		if _, err := d.ReadFile(name); err == nil {
			t.Errorf("ReadFile(%q) succeeded", name)
		}
	}

	t.Run("another user's entry", func(t *testing.T) {
		needRoot(t)
		f := filepath.Join(dir, "theirs.json")
		writeFile(t, f, "planted", 0o644)
		chown(t, f, other, other)
		_, err := d.ReadFile("theirs.json")
		wantUntrusted(t, err, f, "owned by uid 2001")
		if err := d.Remove("theirs.json"); !errors.Is(err, ErrUntrusted) {
			t.Errorf("Remove = %v", err)
		}
		if err := d.WriteFile("theirs.json", []byte("x"), 0o600); !errors.Is(err, ErrUntrusted) {
			t.Errorf("WriteFile = %v", err)
		}
		if got := readFile(t, f); got != "planted" {
			t.Errorf("their file changed: %q", got)
		}
	})
}

// TestPrivateEntriesTightened: a private directory's entries that others
// can read are tightened to 0600 when opened, and the notice says so.
func TestPrivateEntriesTightened(t *testing.T) {
	dir := t.TempDir()
	chmod(t, dir, 0o700)
	f := filepath.Join(dir, "e.json")
	writeFile(t, f, "x", 0o644)
	var notices []string
	d, err := OpenDir(dir, DirOptions{Private: true, Notice: func(format string, a ...any) { notices = append(notices, fmt.Sprintf(format, a...)) }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.ReadFile("e.json"); err != nil {
		t.Fatal(err)
	}
	if got := perm(t, f); got != 0o600 {
		t.Errorf("mode %o, want 0600", got)
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "e.json from mode 0644 to 0600") {
		t.Errorf("notices %q", notices)
	}
	if err := d.WriteFile("new.json", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := perm(t, filepath.Join(dir, "new.json")); got != 0o600 {
		t.Errorf("a private directory wrote mode %o, want 0600", got)
	}
}

// TestOpenDirSwapRace: an attacker who swaps the directory for a link to
// their own directory, again and again while rolehop opens it, never gets
// rolehop to accept their directory.
func TestOpenDirSwapRace(t *testing.T) {
	needRoot(t)
	base := t.TempDir()
	chmod(t, base, 0o777) // the attacker may rename in it, as in /tmp without the sticky bit
	mine := mkdirMode(t, base, "mine", 0o700)
	writeFile(t, filepath.Join(mine, "marker"), "mine", 0o600)
	theirs := mkdirMode(t, base, "theirs", 0o777)
	writeFile(t, filepath.Join(theirs, "marker"), "theirs", 0o644)
	chown(t, theirs, other, other)
	link := filepath.Join(base, "link")
	symlink(t, "theirs", link)
	chown(t, link, other, other)
	path := filepath.Join(base, "cache")
	if err := os.Rename(mine, path); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Swap "cache" between the user's directory and the attacker's
		// link, as the attacker would.
		spare := filepath.Join(base, "spare")
		for !stop.Load() {
			os.Rename(path, spare)
			os.Rename(link, path)
			os.Rename(path, link)
			os.Rename(spare, path)
		}
	}()
	accepted, refused := 0, 0
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		d, err := OpenDir(path, DirOptions{})
		if err != nil {
			refused++
			continue
		}
		b, err := d.ReadFile("marker")
		d.Close()
		if err == nil && string(b) != "mine" {
			stop.Store(true)
			<-done
			t.Fatalf("rolehop read %q through the attacker's swap", b)
		}
		accepted++
	}
	stop.Store(true)
	<-done
	t.Logf("%d opens accepted (the user's directory), %d refused or missing", accepted, refused)
}

// TestEntrySwapRace: an entry swapped for a link to a file outside the
// directory between the check and the open is never read.
func TestEntrySwapRace(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "secret")
	writeFile(t, outside, "outside", 0o600)
	dir := mkdirMode(t, base, "d", 0o700)
	inside := filepath.Join(dir, "other")
	writeFile(t, inside, "other entry", 0o600)
	d, err := OpenDir(dir, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	entry := filepath.Join(dir, "e")
	writeFile(t, entry, "entry", 0o600)
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; !stop.Load(); i++ {
			tmp := filepath.Join(dir, "tmp")
			target := "other" // a link inside the directory: the root follows it
			if i%2 == 0 {
				target = outside
			}
			os.Symlink(target, tmp)
			os.Rename(tmp, entry)
			writeFile(t, tmp, "entry", 0o600)
			os.Rename(tmp, entry)
		}
	}()
	reads := 0
	for deadline := time.Now().Add(500 * time.Millisecond); time.Now().Before(deadline); {
		b, err := d.ReadFile("e")
		if err == nil {
			reads++
			if string(b) != "entry" {
				stop.Store(true)
				<-done
				t.Fatalf("read %q through a swapped link", b)
			}
		}
	}
	stop.Store(true)
	<-done
	if reads == 0 {
		t.Error("no read succeeded: the test proved nothing")
	}
}

func TestReadShared(t *testing.T) {
	t.Run("own file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "config")
		writeFile(t, f, "[default]\n", 0o600)
		if b, err := ReadShared(f); err != nil || string(b) != "[default]\n" {
			t.Errorf("ReadShared = %q, %v", b, err)
		}
	})
	t.Run("/dev/null", func(t *testing.T) {
		if b, err := ReadShared(os.DevNull); err != nil || len(b) != 0 {
			t.Errorf("ReadShared(/dev/null) = %q, %v", b, err)
		}
	})
	t.Run("writable by every user", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "config")
		writeFile(t, f, "[default]\n", 0o666)
		_, err := ReadShared(f)
		wantUntrusted(t, err, f, "writable by every user", "chmod o-w")
	})
	t.Run("another user's file", func(t *testing.T) {
		needRoot(t)
		f := filepath.Join(t.TempDir(), "config")
		writeFile(t, f, "[default]\ncredential_process = /tmp/pwn\n", 0o644)
		chown(t, f, other, other)
		_, err := ReadShared(f)
		wantUntrusted(t, err, f, "owned by uid 2001", "not by you", "or root")
	})
	t.Run("root's file, read by another user", func(t *testing.T) {
		needRoot(t)
		// The rule seen from uid 2001: a root-owned 0644 file is fine.
		f := filepath.Join(t.TempDir(), "config")
		writeFile(t, f, "[default]\n", 0o644)
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkSharedAs(f, fi, other); err != nil {
			t.Errorf("refused: %v", err)
		}
	})
}

// TestResolveNames: names with bytes that only look like separators once
// truncated (U+012F) are one component, and ".." after a link goes to the
// parent of the link's target.
func TestResolveNames(t *testing.T) {
	base := t.TempDir()
	odd := mkdirMode(t, base, "dir\u012fname", 0o700)
	mkdirMode(t, base, "a", 0o700)
	mkdirMode(t, base, filepath.Join("a", "b"), 0o700)
	symlink(t, filepath.Join("a", "b"), filepath.Join(base, "link"))
	for path, want := range map[string]string{
		odd:                    odd,
		base + "/link/../b":    filepath.Join(base, "a", "b"), // not filepath.Join: it would clean ".." away
		base + "/link/missing": filepath.Join(base, "a", "b"),
		base + "/./a/../a/":    filepath.Join(base, "a"),
	} {
		got, _, err := resolve(path)
		if err != nil || got != want {
			t.Errorf("resolve(%s) = %s, %v; want %s", path, got, err, want)
		}
	}
}
