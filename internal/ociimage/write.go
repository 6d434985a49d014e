package ociimage

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// RefName is the annotation that names the index in an OCI layout's
// index.json (skopeo's oci:DIR:NAME, docker load's tag).
const RefName = "org.opencontainers.image.ref.name"

// WriteLayout writes idx as an OCI image layout directory dir, replacing
// the layout that is there; it refuses to replace any other directory.
// index.json has one entry, idx, named refName.
func WriteLayout(dir string, idx v1.ImageIndex, refName string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
			return fmt.Errorf("%s is not empty and not an OCI layout: not replacing it", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendIndex(idx, layout.WithAnnotations(map[string]string{RefName: refName}))
}

// ReadLayout reads back a layout that WriteLayout wrote: the image index
// its index.json names, and that entry's name.
func ReadLayout(dir string) (idx v1.ImageIndex, refName string, err error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, "", err
	}
	top, err := p.ImageIndex()
	if err != nil {
		return nil, "", err
	}
	m, err := top.IndexManifest()
	if err != nil {
		return nil, "", err
	}
	if len(m.Manifests) != 1 || m.Manifests[0].MediaType != types.OCIImageIndex {
		return nil, "", fmt.Errorf("%s: index.json has %d entries, want one image index", dir, len(m.Manifests))
	}
	idx, err = top.ImageIndex(m.Manifests[0].Digest)
	return idx, m.Manifests[0].Annotations[RefName], err
}

// WriteTar writes the OCI layout directory dir as an uncompressed tar file
// (an OCI archive: docker load, podman load, skopeo's oci-archive:),
// entries in lexical order, owned by root, all with time mtime.
func WriteTar(file, dir string, mtime time.Time) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	tw := tar.NewWriter(tmp)
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, ModTime: mtime.UTC().Truncate(time.Second), Typeflag: tar.TypeReg}
		if d.IsDir() {
			h.Name, h.Mode, h.Typeflag = h.Name+"/", 0o755, tar.TypeDir
			return tw.WriteHeader(h)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", path)
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		h.Size = fi.Size()
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// Target is where Push puts an image index: a repository and its tags.
type Target struct {
	Repository name.Repository
	Tags       []name.Tag
}

// NewTarget checks repository repo (ghcr.io/rolehop/rolehop) and tags.
func NewTarget(repo string, tags []string) (Target, error) {
	r, err := name.NewRepository(repo)
	if err != nil {
		return Target{}, fmt.Errorf("repository %q: %w", repo, err)
	}
	t := Target{Repository: r}
	for _, tag := range tags {
		ref, err := name.NewTag(r.Name() + ":" + tag)
		if err != nil {
			return Target{}, fmt.Errorf("tag %q: %w", tag, err)
		}
		t.Tags = append(t.Tags, ref)
	}
	return t, nil
}

// Push pushes idx (and its images) to t's repository by digest, then
// points each of t's tags at it, and returns repository@digest. opts say
// how to reach the registry (remote.WithAuthFromKeychain…).
func (t Target) Push(ctx context.Context, idx v1.ImageIndex, opts ...remote.Option) (name.Digest, error) {
	d, err := idx.Digest()
	if err != nil {
		return name.Digest{}, err
	}
	ref := t.Repository.Digest(d.String())
	opts = append([]remote.Option{remote.WithContext(ctx)}, opts...)
	if err := remote.WriteIndex(ref, idx, opts...); err != nil {
		return name.Digest{}, fmt.Errorf("push %s: %w", ref, err)
	}
	for _, tag := range t.Tags {
		if err := remote.Tag(tag, idx, opts...); err != nil {
			return name.Digest{}, fmt.Errorf("tag %s: %w", tag, err)
		}
	}
	return ref, nil
}
