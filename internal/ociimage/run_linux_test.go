//go:build linux

package ociimage_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/rolehop/rolehop/internal/ociimage/ociimagetest"
)

// TestRun runs the image of this machine's platform as a container runtime
// would, without one: its filesystem extracted to a directory, its
// entrypoint started chrooted there, as its user, with its environment.
func TestRun(t *testing.T) {
	platform := "linux/" + runtime.GOARCH
	if binaries[platform] == "" {
		t.Skipf("no image for %s", platform)
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root (chroot and a change of user), and CI=true runs as root")
		}
		t.Skip("needs root (chroot and a change of user); CI runs it as root")
	}
	s := spec()
	idx := readLayout(t, writeLayout(t, s), s.Version)
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var img v1.Image
	for _, d := range m.Manifests {
		if d.Platform.OS+"/"+d.Platform.Architecture == platform {
			if img, err = idx.Image(d.Digest); err != nil {
				t.Fatal(err)
			}
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	uid, gid, err := userOf(cf.Config.User)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	extract(t, img, root)

	run := func(args ...string) (string, error) {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = cf.Config.Env
		cmd.Dir = "/" // inside the chroot
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: uid, Gid: gid}}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	out, err := run(append(cf.Config.Entrypoint, "version")...)
	if err != nil {
		t.Fatalf("rolehop version in the image: %v\n%s", err, out)
	}
	if want := "rolehop " + ociimagetest.Version + " "; !strings.HasPrefix(out, want) || !strings.HasSuffix(out, " "+platform+"\n") {
		t.Errorf("rolehop version in the image printed %q, want %q… %s", out, want, platform)
	}
	// rolehop, as the image's user, owns and can write its HOME.
	if out, err := run(append(cf.Config.Entrypoint, "cache", "list")...); err != nil {
		t.Errorf("rolehop cache list in the image: %v\n%s", err, out)
	}
	if out, err := run("/bin/sh", "-c", "echo a shell"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("/bin/sh in the image: %v (%q), want it missing", err, out)
	}
}

// extract writes img's filesystem into root with the modes and owners of
// its entries.
func extract(t *testing.T, img v1.Image, root string) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Clean("/" + h.Name)
		p := filepath.Join(root, name)
		mode := h.FileInfo().Mode()
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o700)
		case tar.TypeReg:
			var f *os.File
			if f, err = os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
				_, err = io.Copy(f, tr)
				err = errors.Join(err, f.Close())
			}
		default:
			t.Fatalf("%s: unexpected entry type %q", name, h.Typeflag)
		}
		if err == nil {
			err = os.Lchown(p, h.Uid, h.Gid)
		}
		if err == nil {
			err = os.Chmod(p, mode) // after chown, which clears set-id bits
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
