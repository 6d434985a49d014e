// Package winetest lets tests of the Windows builds say what Wine cannot do
// instead of failing on it or passing without checking it: `make wine` runs
// those tests under Wine (scripts/wine.sh). It is imported only by _test.go
// files.
package winetest

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// Version returns the version of Wine the process runs under ("8.0"), or ""
// when it does not run under Wine.
func Version() string { return version() }

// Skip skips the test under Wine, saying why: what does not work there, and
// why that is Wine's doing and not the code's.
func Skip(t testing.TB, why string) {
	t.Helper()
	if v := Version(); v != "" {
		t.Skipf("Wine %s: %s", v, why)
	}
}

// NoPOSIXDelete reports whether deletes in a directory fail here: Wine 8.0
// has no FileDispositionInformationEx (NtSetInformationFile class 64), which
// Go's os.Root.Remove and os.RemoveAll use on Windows, and answers "not
// implemented", which Go does not take as a reason to fall back to the old
// way, so the delete fails with "Invalid function". os.Remove (DeleteFileW)
// works.
func NoPOSIXDelete() bool { return noPOSIXDelete() }

// NoPOSIXDeleteWhy is the reason tests that delete through os.Root skip.
const NoPOSIXDeleteWhy = "deleting through os.Root fails with \"Invalid function\": NtSetInformationFile has no FileDispositionInformationEx (class 64) in this Wine, and Go uses it for every delete relative to a directory handle"

// SkipNoPOSIXDelete skips a test that deletes files through os.Root when
// NoPOSIXDelete.
func SkipNoPOSIXDelete(t testing.TB) {
	t.Helper()
	if NoPOSIXDelete() {
		Skip(t, NoPOSIXDeleteWhy)
	}
}

var noPOSIXDelete = sync.OnceValue(func() bool {
	if Version() == "" {
		return false
	}
	dir, err := os.MkdirTemp("", "winetest-")
	if err != nil {
		return false
	}
	defer os.Remove(dir)
	if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o600); err != nil {
		return false
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return false
	}
	defer root.Close()
	if root.Remove("f") == nil {
		return false
	}
	os.Remove(filepath.Join(dir, "f"))
	return true
})

// SkipNoSymlinks skips a test that makes symbolic links where os.Symlink
// reports success and makes nothing: Wine 8.0's CreateSymbolicLinkW is a
// stub that returns TRUE.
func SkipNoSymlinks(t testing.TB) {
	t.Helper()
	if noSymlinks() {
		Skip(t, "os.Symlink makes no link and reports success: CreateSymbolicLinkW is a stub in this Wine")
	}
}

var noSymlinks = sync.OnceValue(func() bool {
	if Version() == "" {
		return false
	}
	dir, err := os.MkdirTemp("", "winetest-")
	if err != nil {
		return false
	}
	defer os.Remove(dir)
	link := filepath.Join(dir, "link")
	if os.Symlink("target", link) != nil {
		return false // an honest refusal: the tests handle that
	}
	_, err = os.Lstat(link)
	os.Remove(link)
	return err != nil
})

// TempDir is t.TempDir, removed at the end with os.Remove, entry by entry,
// when NoPOSIXDelete: t.TempDir's own cleanup (os.RemoveAll of its parent)
// then finds an empty directory, which it can remove.
func TempDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if NoPOSIXDelete() {
		// Cleanups run last first: this one before t.TempDir's.
		t.Cleanup(func() { removeTree(dir) })
	}
	return dir
}

// removeTree removes dir and everything under it, deepest first, without
// following links.
func removeTree(dir string) {
	var paths []string
	filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, path)
		}
		return nil
	})
	for _, p := range slices.Backward(paths) {
		if os.Remove(p) != nil {
			os.Chmod(p, 0o600) // a read-only file
			os.Remove(p)
		}
	}
}
