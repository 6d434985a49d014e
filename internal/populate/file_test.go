package populate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/winetest"
)

func TestUpdate(t *testing.T) {
	dir := winetest.TempDir(t)
	path := filepath.Join(dir, "sub", "config") // the directory is created
	res, err := Update(context.Background(), path, input(t, threeRoles()))
	if err != nil || !res.Changed {
		t.Fatalf("Update: %v %+v", err, res)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("new file mode %v, want 0600", st.Mode().Perm())
	}

	// An existing file keeps its bytes outside the block and its mode.
	orig := "# mine\r\n[profile mine]\r\nregion = x\r\n"
	if err := os.WriteFile(path, []byte(orig), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := Update(context.Background(), path, input(t, threeRoles())); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), orig+"\r\n# BEGIN") {
		t.Fatalf("file:\n%q", data)
	}
	st, _ = os.Stat(path)
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", st.Mode().Perm())
	}

	// Nothing to change: the file is not written (same inode, same mtime).
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(path)
	res, err = Update(context.Background(), path, input(t, threeRoles()))
	if err != nil || res.Changed {
		t.Fatalf("second Update: %v changed=%v", err, res != nil && res.Changed)
	}
	after, _ := os.Stat(path)
	if !after.ModTime().Equal(before.ModTime()) || !os.SameFile(before, after) {
		t.Errorf("unchanged file was rewritten")
	}
}

// TestUpdateConcurrentEdit: a writer that does not take the lock changes
// the file between the read and the write; the update is redone on the
// new content, which is kept.
func TestUpdateConcurrentEdit(t *testing.T) {
	path := filepath.Join(winetest.TempDir(t), "config")
	if err := os.WriteFile(path, []byte("[default]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { beforeCommit = nil })
	beforeCommit = func(attempt int) {
		if attempt == 1 {
			if err := os.WriteFile(path, []byte("[default]\nregion = eu-west-1\n"), 0o600); err != nil {
				t.Error(err)
			}
		}
	}
	if _, err := Update(context.Background(), path, input(t, threeRoles())); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !bytes.HasPrefix(data, []byte("[default]\nregion = eu-west-1\n\n# BEGIN")) {
		t.Fatalf("concurrent edit lost:\n%s", data)
	}
	// An editor that never stops: give up without writing.
	if err := os.WriteFile(path, []byte("[default]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := 0
	beforeCommit = func(int) {
		n++
		_ = os.WriteFile(path, []byte("[default]\nregion = r"+strings.Repeat("x", n)+"\n"), 0o600)
	}
	if _, err := Update(context.Background(), path, input(t, threeRoles())); err == nil || !strings.Contains(err.Error(), "changed while rolehop was updating it") {
		t.Fatalf("err = %v", err)
	}
}

func TestUpdateRefusesBrokenFile(t *testing.T) {
	path := filepath.Join(winetest.TempDir(t), "config")
	orig := []byte(BeginLine(corp.ID()) + "\n[profile x]\n")
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Update(context.Background(), path, input(t, threeRoles())); err == nil {
		t.Fatal("no error")
	}
	if data, _ := os.ReadFile(path); !bytes.Equal(data, orig) {
		t.Errorf("broken file was rewritten")
	}
}
