package release

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/rolehop/rolehop/internal/ociimage"
)

// TestDistImage reads the container image `make release-check` built from
// the snapshot (dist/image, an OCI layout, as internal/ociimage writes it
// for the release) and checks what a user runs: both architectures, the
// entrypoint, a user that is not root, no shell, and in each image the very
// binary of the matching linux archive.
func TestDistImage(t *testing.T) {
	d := loadDist(t)
	multi, _, err := ociimage.ReadLayout(filepath.Join(d.dir, "image"))
	if err != nil {
		t.Fatalf("dist/image (make image): %v", err)
	}
	m, err := multi.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, desc := range m.Manifests {
		platforms = append(platforms, desc.Platform.String())
		img, err := multi.Image(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		c := cfg.Config
		if !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/rolehop"}) {
			t.Errorf("%s: entrypoint %q", desc.Platform, c.Entrypoint)
		}
		if c.User == "" || c.User == "root" || c.User == "0" || strings.HasPrefix(c.User, "0:") {
			t.Errorf("%s: user %q runs as root", desc.Platform, c.User)
		}
		if cfg.Config.Labels["org.opencontainers.image.version"] != d.version {
			t.Errorf("%s: version label %q, want %s", desc.Platform, c.Labels["org.opencontainers.image.version"], d.version)
		}
		files := imageFiles(t, mutate.Extract(img))
		for _, shell := range []string{"bin/sh", "bin/bash", "bin/busybox", "usr/bin/sh"} {
			if _, ok := files[shell]; ok {
				t.Errorf("%s: the image has /%s", desc.Platform, shell)
			}
		}
		archive := filepath.Join(d.dir, "rolehop_"+d.version+"_linux_"+desc.Platform.Architecture+".tar.gz")
		want := archiveMemberSHA256(t, archive, "rolehop")
		if got := files["usr/local/bin/rolehop"]; got != want {
			t.Errorf("%s: /usr/local/bin/rolehop has sha256 %q, the binary in %s %s", desc.Platform, got, filepath.Base(archive), want)
		}
	}
	if want := []string{"linux/amd64", "linux/arm64/v8"}; !sameSet(platforms, want) {
		t.Errorf("image platforms %q, want %q", platforms, want)
	}
}

// imageFiles maps each path of a flattened image filesystem to its
// sha256 ("" for what is not a regular file).
func imageFiles(t *testing.T, rc io.ReadCloser) map[string]string {
	t.Helper()
	defer rc.Close()
	files := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Clean("/" + h.Name)[1:]
		files[name] = ""
		if h.Typeflag == tar.TypeReg {
			sum := sha256.New()
			if _, err := io.Copy(sum, tr); err != nil {
				t.Fatal(err)
			}
			files[name] = hex.EncodeToString(sum.Sum(nil))
		}
	}
}

// archiveMemberSHA256 is the sha256 of one file in a .tar.gz.
func archiveMemberSHA256(t *testing.T, archive, member string) string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s: no %s (%v)", archive, member, err)
		}
		if h.Name == member {
			sum := sha256.New()
			if _, err := io.Copy(sum, tr); err != nil {
				t.Fatal(err)
			}
			return hex.EncodeToString(sum.Sum(nil))
		}
	}
}
