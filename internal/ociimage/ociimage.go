// Package ociimage makes rolehop's container image: a multi-arch OCI image
// index of one linux/amd64 and one linux/arm64 image, each FROM scratch
// with a single layer that holds the release binary.
//
// Why scratch: rolehop is one static Go binary (CGO_ENABLED=0) that needs
// no shell, libc or package manager; with nothing else in the image there is
// nothing else to patch or exploit. The one thing it needs from the system,
// CA roots for HTTPS to AWS, is a PEM file at CABundle (where Go's
// crypto/x509 looks first on Linux), written from the Mozilla NSS roots of
// golang.org/x/crypto/x509roots/fallback/bundle when the image is made.
// Linking that package into rolehop instead would parse every root at each
// start of every rolehop (about 10 million instructions, 6 ms, on the warm
// credential path), for the sake of the image alone.
//
// Why go-containerregistry and not docker build or ko: the image is written
// directly as an OCI layout (and pushed by the same code), so no Docker
// daemon is needed and no base image is pulled from a registry; and the
// layer holds the very binaries goreleaser put in the release archives
// (read from dist/artifacts.json), not a rebuild, so a user can check that
// the image's /usr/local/bin/rolehop has the sha256 of the archive's. Every
// tar entry and the config carry one fixed time (the commit time,
// SOURCE_DATE_EPOCH), so building the same binaries twice gives the same
// digests.
//
// The filesystem, the same on both platforms:
//
//	/usr/local/bin/rolehop  the binary, 0755, owned by root; the entrypoint
//	/etc/ssl/certs/ca-certificates.crt  the CA roots, 0644
//	/home/rolehop/          HOME, 0700, owned by 65532:65532
//	/tmp/                   1777
//
// The image runs as user 65532:65532 (not root; the "nonroot" id of the
// distroless images), with PATH=/usr/local/bin and HOME=/home/rolehop, where
// rolehop keeps its cache and reads ~/.aws (mount it there). There is no
// /etc/passwd: rolehop needs no user name (the default role session name is
// then "rolehop"). The image has no Cmd: with no arguments rolehop prints
// its help, as it does anywhere.
package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// Where things are in the image, and whom it runs as.
const (
	BinaryPath = "/usr/local/bin/rolehop"
	CABundle   = "/etc/ssl/certs/ca-certificates.crt"
	Home       = "/home/rolehop"
	// User is the image's user and group: not root.
	User = "65532:65532"
	uid  = 65532
)

// Labels that do not depend on the release; Build adds version, revision
// and created.
const (
	Source      = "https://github.com/rolehop/rolehop"
	License     = "Apache-2.0"
	Title       = "rolehop"
	Description = "rolehop assumes AWS roles from any credentials and hands them to any program"
)

// Platforms are the image's platforms, in the index's order.
var Platforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64", Variant: "v8"},
}

// Spec is what goes into the image.
type Spec struct {
	// Binaries maps "linux/amd64" and "linux/arm64" to the rolehop binary
	// built for that platform.
	Binaries map[string]string
	// Version is the release version (1.2.3), Revision the commit it was
	// built from (may be empty).
	Version, Revision string
	// Created is the time of every tar entry and of the config: the commit
	// time, for reproducible digests. It is kept to the second.
	Created time.Time
}

// Labels returns the image's OCI labels (also the index's annotations).
func (s Spec) Labels() map[string]string {
	l := map[string]string{
		"org.opencontainers.image.source":      Source,
		"org.opencontainers.image.version":     s.Version,
		"org.opencontainers.image.licenses":    License,
		"org.opencontainers.image.title":       Title,
		"org.opencontainers.image.description": Description,
		"org.opencontainers.image.created":     s.Created.UTC().Truncate(time.Second).Format(time.RFC3339),
	}
	if s.Revision != "" {
		l["org.opencontainers.image.revision"] = s.Revision
	}
	return l
}

// Build checks each binary (see CheckBinary) and returns the image index.
func Build(s Spec) (v1.ImageIndex, error) {
	if s.Version == "" {
		return nil, fmt.Errorf("no version for the image")
	}
	if s.Created.IsZero() {
		return nil, fmt.Errorf("no creation time for the image (the commit time, SOURCE_DATE_EPOCH)")
	}
	for key := range s.Binaries {
		if !known(key) {
			return nil, fmt.Errorf("binary for %s: the image is only for %s", key, platformList())
		}
	}
	for _, p := range Platforms {
		path := s.Binaries[key(p)]
		if path == "" {
			return nil, fmt.Errorf("no binary for %s", key(p))
		}
		if err := CheckBinary(path, p); err != nil {
			return nil, err
		}
	}
	var adds []mutate.IndexAddendum
	for _, p := range Platforms {
		img, err := image(s, p, s.Binaries[key(p)])
		if err != nil {
			return nil, err
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	idx = mutate.AppendManifests(idx, adds...)
	return mutate.Annotations(idx, s.Labels()).(v1.ImageIndex), nil
}

// image is the image of one platform.
func image(s Spec, p v1.Platform, binary string) (v1.Image, error) {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	created := s.Created.UTC().Truncate(time.Second)
	layer, err := layer(bin, created)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", binary, err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History: v1.History{
			Created:   v1.Time{Time: created},
			CreatedBy: "rolehop internal/ociimage: " + BinaryPath + ", " + CABundle + ", " + Home + ", /tmp",
			Comment:   "the release binary of rolehop " + s.Version,
		},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Created = v1.Time{Time: created}
	cf.Config = v1.Config{
		Entrypoint: []string{BinaryPath},
		User:       User,
		Env:        []string{"PATH=/usr/local/bin", "HOME=" + Home},
		Labels:     s.Labels(),
	}
	return mutate.ConfigFile(img, cf)
}

// layer is the gzipped tar of the image's filesystem.
func layer(bin []byte, mtime time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string, mode int64, owner int) *tar.Header {
		return &tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, Uid: owner, Gid: owner, ModTime: mtime}
	}
	roots, err := caBundle()
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{BinaryPath[1:]: bin, CABundle[1:]: roots}
	entries := []*tar.Header{
		dir("etc/", 0o755, 0),
		dir("etc/ssl/", 0o755, 0),
		dir("etc/ssl/certs/", 0o755, 0),
		{Typeflag: tar.TypeReg, Name: CABundle[1:], Mode: 0o644, Size: int64(len(roots)), ModTime: mtime},
		dir("home/", 0o755, 0),
		dir("home/rolehop/", 0o700, uid),
		dir("tmp/", 0o1777, 0),
		dir("usr/", 0o755, 0),
		dir("usr/local/", 0o755, 0),
		dir("usr/local/bin/", 0o755, 0),
		{Typeflag: tar.TypeReg, Name: BinaryPath[1:], Mode: 0o755, Size: int64(len(bin)), ModTime: mtime},
	}
	for _, h := range entries {
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(files[h.Name]); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressionLevel(gzip.DefaultCompression), tarball.WithCompressedCaching)
}

// caBundle is the PEM file of the NSS roots that carry no constraint. The
// few that do (a distrust date for new certificates) cannot be said in a
// PEM file, so they are left out rather than trusted without it.
func caBundle() ([]byte, error) {
	var buf bytes.Buffer
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			continue
		}
		if err := pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate}); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// key is a platform's key in Spec.Binaries: os/arch.
func key(p v1.Platform) string { return p.OS + "/" + p.Architecture }

func known(k string) bool {
	for _, p := range Platforms {
		if key(p) == k {
			return true
		}
	}
	return false
}

func platformList() string {
	s := ""
	for i, p := range Platforms {
		if i > 0 {
			s += " and "
		}
		s += key(p)
	}
	return s
}
