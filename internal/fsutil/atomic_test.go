package fsutil

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/winetest"
)

func skipOnWindows(t *testing.T, why string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip(why)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func perm(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// dirNames returns the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileAtomicMode(t *testing.T) {
	skipOnWindows(t, "Unix permission bits")
	tests := []struct {
		name     string
		existing fs.FileMode // 0: no file yet
		perm     fs.FileMode
		keepMode bool
		want     fs.FileMode
	}{
		{"new file gets perm", 0, 0o600, true, 0o600},
		{"new file gets perm exactly, whatever the umask", 0, 0o666, false, 0o666},
		{"keepMode keeps 0640", 0o640, 0o600, true, 0o640},
		{"keepMode keeps 0604", 0o604, 0o600, true, 0o604},
		{"without keepMode perm is set", 0o644, 0o600, false, 0o600},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := winetest.TempDir(t)
			path := filepath.Join(dir, "f")
			if tc.existing != 0 {
				if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tc.existing); err != nil {
					t.Fatal(err)
				}
			}
			if err := WriteFileAtomic(path, []byte("new"), tc.perm, tc.keepMode); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, path); got != "new" {
				t.Errorf("content %q", got)
			}
			if got := perm(t, path); got != tc.want {
				t.Errorf("mode %o, want %o", got, tc.want)
			}
			if names := dirNames(t, dir); !slices.Equal(names, []string{"f"}) {
				t.Errorf("directory holds %q, want only the file", names)
			}
		})
	}
}

func TestWriteFileAtomicSymlink(t *testing.T) {
	tests := []struct {
		name string
		// setup makes dir/link and returns the file the link resolves to.
		setup func(t *testing.T, dir string) string
	}{
		{"absolute link", func(t *testing.T, dir string) string {
			target := filepath.Join(dir, "real", "f")
			mkdir(t, filepath.Dir(target))
			writeFile(t, target, "old", 0o640)
			symlink(t, target, filepath.Join(dir, "link"))
			return target
		}},
		{"relative link", func(t *testing.T, dir string) string {
			target := filepath.Join(dir, "real", "f")
			mkdir(t, filepath.Dir(target))
			writeFile(t, target, "old", 0o640)
			symlink(t, filepath.Join("real", "f"), filepath.Join(dir, "link"))
			return target
		}},
		{"chain of links", func(t *testing.T, dir string) string {
			target := filepath.Join(dir, "f")
			writeFile(t, target, "old", 0o640)
			symlink(t, "f", filepath.Join(dir, "mid"))
			symlink(t, "mid", filepath.Join(dir, "link"))
			return target
		}},
		{"dangling link: the target is created", func(t *testing.T, dir string) string {
			target := filepath.Join(dir, "real", "f")
			mkdir(t, filepath.Dir(target))
			symlink(t, filepath.Join("real", "f"), filepath.Join(dir, "link"))
			return target
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := winetest.TempDir(t)
			target := tc.setup(t, dir)
			_, statErr := os.Stat(target)
			link := filepath.Join(dir, "link")
			if err := WriteFileAtomic(link, []byte("new"), 0o600, true); err != nil {
				t.Fatal(err)
			}
			st, err := os.Lstat(link)
			if err != nil || st.Mode()&fs.ModeSymlink == 0 {
				t.Fatalf("link is no longer a symlink: %v %v", st.Mode(), err)
			}
			if got := readFile(t, target); got != "new" {
				t.Errorf("target holds %q", got)
			}
			if runtime.GOOS != "windows" {
				want := fs.FileMode(0o640)
				if statErr != nil {
					want = 0o600 // created
				}
				if got := perm(t, target); got != want {
					t.Errorf("target mode %o, want %o", got, want)
				}
			}
		})
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, data string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	winetest.SkipNoSymlinks(t)
	if err := os.Symlink(target, link); err != nil {
		if runtime.GOOS == "windows" {
			t.Skipf("cannot create symlinks: %v", err)
		}
		t.Fatal(err)
	}
}

func TestWriteFileAtomicErrors(t *testing.T) {
	dir := winetest.TempDir(t)
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "f"), []byte("x"), 0o600, true); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	if err := WriteFileAtomic(dir, []byte("x"), 0o600, true); err == nil {
		t.Error("writing over a directory succeeded")
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("failed writes left %q", names)
	}
}

func TestOpenDirCreatePrivate(t *testing.T) {
	skipOnWindows(t, "Unix permission bits")
	tests := []struct {
		name     string
		existing fs.FileMode // 0: does not exist
		notice   bool
	}{
		{"new", 0, false},
		{"0755 is tightened", 0o755, true},
		{"0711 is tightened", 0o711, true},
		{"0750 is tightened", 0o750, true},
		{"0700 stays", 0o700, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := winetest.TempDir(t)
			dir := filepath.Join(parent, "a")
			if tc.existing != 0 {
				mkdir(t, dir)
				if err := os.Chmod(dir, tc.existing); err != nil {
					t.Fatal(err)
				}
			} else {
				dir = filepath.Join(dir, "b", "c") // parents are created too
			}
			var notices []string
			d, err := OpenDir(dir, DirOptions{Create: true, Private: true, Notice: func(f string, a ...any) { notices = append(notices, fmt.Sprintf(f, a...)) }})
			if err != nil {
				t.Fatal(err)
			}
			d.Close()
			for d := dir; d != parent; d = filepath.Dir(d) {
				if got := perm(t, d); got != 0o700 {
					t.Errorf("%s: mode %o, want 0700", d, got)
				}
			}
			if tc.notice != (len(notices) == 1) || len(notices) > 1 {
				t.Errorf("notices %q, want one: %v", notices, tc.notice)
			}
		})
	}
	t.Run("a file is an error", func(t *testing.T) {
		f := filepath.Join(winetest.TempDir(t), "f")
		writeFile(t, f, "", 0o644)
		if _, err := OpenDir(f, DirOptions{Create: true, Private: true}); err == nil {
			t.Error("OpenDir on a file succeeded")
		}
	})
	t.Run("missing without Create is ErrNotExist", func(t *testing.T) {
		if _, err := OpenDir(filepath.Join(winetest.TempDir(t), "none"), DirOptions{}); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want fs.ErrNotExist", err)
		}
	})
}

// TestWriteFileAtomicCrash: a process that is killed (SIGKILL on unix) at a
// random moment while it rewrites a file leaves the file complete: the old
// or the new version, never a mix or a truncated one. What it may leave is
// its temp file ".NAME.tmp-<digits>"; those do accumulate (one per kill that
// lands between the temp file's creation and the rename), which is why
// WriteFileAtomic calls CleanTemps.
func TestWriteFileAtomicCrash(t *testing.T) {
	iterations := 120
	if testing.Short() {
		iterations = 20
	}
	dir := winetest.TempDir(t)
	path := filepath.Join(dir, "state.json")
	versions := map[string][]byte{"A": crashVersion("A"), "B": crashVersion("B")}
	if err := os.WriteFile(path, versions["A"], 0o600); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i := range iterations {
		cmd, _, _ := startHelper(t, "rewrite", path)
		time.Sleep(rand.N(3 * time.Millisecond))
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("iteration %d: %v", i, err)
		}
		v, err := checkCrashDoc(data)
		if err != nil {
			t.Fatalf("iteration %d: torn file: %v", i, err)
		}
		if !bytes.Equal(data, versions[v]) {
			t.Fatalf("iteration %d: file is not exactly version %s", i, v)
		}
		seen[v]++
	}
	var temps []string
	for _, name := range dirNames(t, dir) {
		if name == "state.json" {
			continue
		}
		if !isTempName(name, "state.json") {
			t.Errorf("unexpected file %q left behind", name)
		}
		temps = append(temps, name)
	}
	t.Logf("%d kills: versions seen %v, %d temp files left behind", iterations, seen, len(temps))

	// The leftovers are garbage; CleanTemps removes them once they are
	// stale, and only them.
	winetest.SkipNoPOSIXDelete(t)
	old := time.Now().Add(-2 * time.Minute)
	for _, name := range temps {
		if err := os.Chtimes(filepath.Join(dir, name), old, old); err != nil {
			t.Fatal(err)
		}
	}
	fresh := filepath.Join(dir, ".state.json.tmp-12345")
	writeFile(t, fresh, "in progress", 0o600)
	if err := CleanTemps(path); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{".state.json.tmp-12345", "state.json"}) {
		t.Errorf("after CleanTemps: %q", names)
	}
}

func isTempName(name, base string) bool {
	digits, ok := strings.CutPrefix(name, "."+base+".tmp-")
	return ok && digits != "" && strings.Trim(digits, "0123456789") == ""
}

func TestCleanTemps(t *testing.T) {
	winetest.SkipNoPOSIXDelete(t)
	dir := winetest.TempDir(t)
	path := filepath.Join(dir, "credentials")
	old := time.Now().Add(-2 * time.Minute)
	files := map[string]bool{ // name: kept
		"credentials":                  true,
		".credentials.tmp-1":           false,
		".credentials.tmp-4294967295":  false,
		".credentials.tmp-fresh":       true, // not a CreateTemp name
		".credentials.tmp-":            true,
		".credentials.tmp-12.tmp-34":   true,
		".config.tmp-1":                true, // another file's
		"credentials.tmp-1":            true,
		".credentials.tmp-1x":          true,
		".credentials.lock":            true,
		".credentials.tmp-7-recent":    true,
		".credentials.tmp-99999999999": false,
	}
	for name := range files {
		writeFile(t, filepath.Join(dir, name), "x", 0o600)
		if err := os.Chtimes(filepath.Join(dir, name), old, old); err != nil {
			t.Fatal(err)
		}
	}
	mkdir(t, filepath.Join(dir, ".credentials.tmp-5")) // a directory is left alone
	files[".credentials.tmp-5"] = true
	writeFile(t, filepath.Join(dir, ".credentials.tmp-6"), "recent", 0o600)
	files[".credentials.tmp-6"] = true

	if err := CleanTemps(path); err != nil {
		t.Fatal(err)
	}
	var want []string
	for name, kept := range files {
		if kept {
			want = append(want, name)
		}
	}
	slices.Sort(want)
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Errorf("after CleanTemps: %q\nwant %q", got, want)
	}

	// WriteFileAtomic cleans up after itself.
	stale := filepath.Join(dir, ".credentials.tmp-77")
	writeFile(t, stale, "x", 0o600)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("new"), 0o600, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(stale); err == nil {
		t.Error("WriteFileAtomic left a stale temp file")
	}

	if err := CleanTemps(filepath.Join(dir, "missing-dir", "f")); err == nil {
		t.Error("CleanTemps in a missing directory: no error")
	}
}
