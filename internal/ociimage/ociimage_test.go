package ociimage_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/rolehop/rolehop/internal/ociimage"
	"github.com/rolehop/rolehop/internal/ociimage/ociimagetest"
	"github.com/rolehop/rolehop/internal/winetest"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// binaries are rolehop for linux/amd64 and linux/arm64, built once.
var binaries map[string]string

// noGo is why binaries could not be built, if they were not (see
// ociimagetest.NeedBinaries).
var noGo string

func TestMain(m *testing.M) {
	flag.Parse()
	if noGo = ociimagetest.SkipNoGo(); noGo != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "ociimage-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	start := time.Now()
	binaries, err = ociimagetest.Rolehop(dir)
	if err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if testing.Verbose() {
		fmt.Printf("built rolehop for %s in %v\n", strings.Join(ociimagetest.Platforms, " and "), time.Since(start).Round(time.Millisecond))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// created is the image time of the tests: a commit time.
var created = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func spec() ociimage.Spec {
	return ociimage.Spec{Binaries: binaries, Version: ociimagetest.Version, Revision: "4c64b9c1a2b3d4e5f60718293a4b5c6d7e8f9012", Created: created}
}

// writeLayout builds the image of spec() and writes it to a new layout.
func writeLayout(t *testing.T, s ociimage.Spec) string {
	t.Helper()
	idx, err := ociimage.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(winetest.TempDir(t), "layout")
	if err := ociimage.WriteLayout(dir, idx, s.Version); err != nil {
		t.Fatal(err)
	}
	return dir
}

// readLayout returns the image index that the layout's index.json names
// (its only entry, named name), validated blob by blob.
func readLayout(t *testing.T, dir, name string) v1.ImageIndex {
	t.Helper()
	idx, refName, err := ociimage.ReadLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	if refName != name {
		t.Fatalf("index.json names the index %q, want %q", refName, name)
	}
	if err := validate.Index(idx); err != nil {
		t.Fatalf("the index read back is not valid: %v", err)
	}
	return idx
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// entry is a file of the image's filesystem.
type entry struct {
	Type     byte
	Mode     fs.FileMode
	UID, GID int
	MTime    time.Time
	SHA256   string // of a regular file's content
}

// filesystem flattens img's layers (mutate.Extract) and returns every
// entry by path.
func filesystem(t *testing.T, img v1.Image) map[string]entry {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	fsys := map[string]entry{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return fsys
		}
		if err != nil {
			t.Fatal(err)
		}
		e := entry{Type: h.Typeflag, Mode: h.FileInfo().Mode(), UID: h.Uid, GID: h.Gid, MTime: h.ModTime.UTC()}
		if h.Typeflag == tar.TypeReg {
			s := sha256.New()
			if _, err := io.Copy(s, tr); err != nil {
				t.Fatal(err)
			}
			e.SHA256 = hex.EncodeToString(s.Sum(nil))
		}
		fsys["/"+strings.Trim(h.Name, "/")] = e
	}
}

func TestImage(t *testing.T) {
	ociimagetest.NeedBinaries(t, noGo)
	s := spec()
	idx := readLayout(t, writeLayout(t, s), s.Version)
	labels := map[string]string{
		"org.opencontainers.image.source":      "https://github.com/rolehop/rolehop",
		"org.opencontainers.image.version":     ociimagetest.Version,
		"org.opencontainers.image.revision":    s.Revision,
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.title":       "rolehop",
		"org.opencontainers.image.description": ociimage.Description,
		"org.opencontainers.image.created":     "2026-11-30T12:00:00Z",
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIImageIndex {
		t.Errorf("index media type %s, want %s", m.MediaType, types.OCIImageIndex)
	}
	if !equalMaps(m.Annotations, labels) {
		t.Errorf("index annotations %v, want %v", m.Annotations, labels)
	}
	var platforms []string
	for _, d := range m.Manifests {
		platforms = append(platforms, d.Platform.String())
	}
	if want := []string{"linux/amd64", "linux/arm64/v8"}; !slices.Equal(platforms, want) {
		t.Fatalf("platforms %q, want %q", platforms, want)
	}
	for _, d := range m.Manifests {
		t.Run(d.Platform.String(), func(t *testing.T) {
			if d.MediaType != types.OCIManifestSchema1 {
				t.Errorf("manifest media type %s, want %s", d.MediaType, types.OCIManifestSchema1)
			}
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			mf, err := img.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			if mf.Config.MediaType != types.OCIConfigJSON || len(mf.Layers) != 1 || mf.Layers[0].MediaType != types.OCILayer {
				t.Errorf("manifest: config %s and %d layers (%v), want %s and one %s", mf.Config.MediaType, len(mf.Layers), mf.Layers, types.OCIConfigJSON, types.OCILayer)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if cf.OS != d.Platform.OS || cf.Architecture != d.Platform.Architecture || cf.Variant != d.Platform.Variant {
				t.Errorf("config platform %s/%s/%s, index says %s", cf.OS, cf.Architecture, cf.Variant, d.Platform)
			}
			if !cf.Created.Time.Equal(created) {
				t.Errorf("created %v, want %v", cf.Created.Time, created)
			}
			c := cf.Config
			if !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/rolehop"}) || len(c.Cmd) != 0 {
				t.Errorf("entrypoint %q and cmd %q, want [/usr/local/bin/rolehop] and none", c.Entrypoint, c.Cmd)
			}
			uid, gid, err := userOf(c.User)
			if err != nil || uid != 65532 || gid != 65532 {
				t.Errorf("user %q (%v), want 65532:65532 — not root", c.User, err)
			}
			if want := []string{"PATH=/usr/local/bin", "HOME=/home/rolehop"}; !slices.Equal(c.Env, want) {
				t.Errorf("env %q, want %q", c.Env, want)
			}
			if !equalMaps(c.Labels, labels) {
				t.Errorf("labels %v, want %v", c.Labels, labels)
			}
			if len(cf.History) != 1 || !cf.History[0].Created.Time.Equal(created) {
				t.Errorf("history %+v, want one entry created %v", cf.History, created)
			}

			fsys := filesystem(t, img)
			for _, shell := range []string{"/bin/sh", "/bin/bash", "/bin/ash", "/bin/busybox", "/usr/bin/env", "/bin"} {
				if _, ok := fsys[shell]; ok {
					t.Errorf("the image has %s", shell)
				}
			}
			key := d.Platform.OS + "/" + d.Platform.Architecture
			dir := func(mode fs.FileMode, owner int) entry {
				return entry{Type: tar.TypeDir, Mode: fs.ModeDir | mode, UID: owner, GID: owner, MTime: created}
			}
			roots := fileContent(t, img, ociimage.CABundle)
			checkRoots(t, roots)
			rootsSum := sha256.Sum256(roots)
			want := map[string]entry{
				"/etc":                   dir(0o755, 0),
				"/etc/ssl":               dir(0o755, 0),
				"/etc/ssl/certs":         dir(0o755, 0),
				ociimage.CABundle:        {Type: tar.TypeReg, Mode: 0o644, MTime: created, SHA256: hex.EncodeToString(rootsSum[:])},
				"/home":                  dir(0o755, 0),
				"/home/rolehop":          dir(0o700, 65532),
				"/tmp":                   dir(fs.ModeSticky|0o777, 0),
				"/usr":                   dir(0o755, 0),
				"/usr/local":             dir(0o755, 0),
				"/usr/local/bin":         dir(0o755, 0),
				"/usr/local/bin/rolehop": {Type: tar.TypeReg, Mode: 0o755, MTime: created, SHA256: sha256File(t, binaries[key])},
			}
			for p, e := range fsys {
				if w, ok := want[p]; !ok {
					t.Errorf("unexpected %s in the image (%+v)", p, e)
				} else if e != w {
					t.Errorf("%s is %+v, want %+v", p, e, w)
				}
			}
			for p := range want {
				if _, ok := fsys[p]; !ok {
					t.Errorf("the image has no %s", p)
				}
			}
		})
	}
}

// fileContent returns the content of the file at path in img's
// filesystem.
func fileContent(t *testing.T, img v1.Image, path string) []byte {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no %s in the image: %v", path, err)
		}
		if "/"+strings.Trim(h.Name, "/") == path {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

// checkRoots: the CA file is PEM certificates only, each a CA, one for
// every unconstrained root of the NSS bundle (the constrained ones, whose
// distrust date a PEM file cannot carry, are left out).
func checkRoots(t *testing.T, pemFile []byte) {
	t.Helper()
	want := 0
	for r := range bundle.Roots() {
		if r.Constraint == nil {
			want++
		}
	}
	got := 0
	for rest := pemFile; len(bytes.TrimSpace(rest)) > 0; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil || b.Type != "CERTIFICATE" {
			t.Fatalf("the CA file holds something other than PEM certificates after %d of them", got)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil || !c.IsCA {
			t.Fatalf("certificate %d of the CA file: CA %v, %v", got+1, c != nil && c.IsCA, err)
		}
		got++
	}
	if got != want || got < 100 {
		t.Errorf("the CA file has %d roots, want the bundle's %d unconstrained ones", got, want)
	}
}

func TestReproducible(t *testing.T) {
	ociimagetest.NeedBinaries(t, noGo)
	s := spec()
	a, b := writeLayout(t, s), writeLayout(t, s)
	files := func(dir string) map[string][]byte {
		m := map[string][]byte{}
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			m[strings.TrimPrefix(p, dir)] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	fa, fb := files(a), files(b)
	if len(fa) != len(fb) || len(fa) != 2+7 { // oci-layout, index.json; index, 2 manifests, 2 configs, 2 layers
		t.Errorf("%d and %d files in the layouts, want 9", len(fa), len(fb))
	}
	for p, data := range fa {
		if !bytes.Equal(data, fb[p]) {
			t.Errorf("%s differs between two builds", p)
		}
	}
	d1 := digest(t, readLayout(t, a, s.Version))
	s.Created = s.Created.Add(time.Second)
	if d2 := digest(t, readLayout(t, writeLayout(t, s), s.Version)); d1 == d2 {
		t.Errorf("another time gives the same digest %s: the time is not in the image", d1)
	}
}

func digest(t *testing.T, idx v1.ImageIndex) v1.Hash {
	t.Helper()
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestWriteTar(t *testing.T) {
	ociimagetest.NeedBinaries(t, noGo)
	s := spec()
	dir := writeLayout(t, s)
	file := filepath.Join(winetest.TempDir(t), "image.tar")
	if err := ociimage.WriteTar(file, dir, created); err != nil {
		t.Fatal(err)
	}
	// Unpack it as any tar, and read the layout inside.
	out := winetest.TempDir(t)
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Uid != 0 || !h.ModTime.Equal(created) {
			t.Errorf("%s: uid %d, time %v; want 0 and %v", h.Name, h.Uid, h.ModTime, created)
		}
		p := filepath.Join(out, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			err = os.MkdirAll(p, 0o755)
		} else {
			var b []byte
			if b, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(p, b, 0o644)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !slices.IsSorted(names) || !slices.Contains(names, "index.json") || !slices.Contains(names, "oci-layout") {
		t.Errorf("entries %q: want index.json and oci-layout, in order", names)
	}
	if a, b := digest(t, readLayout(t, dir, s.Version)), digest(t, readLayout(t, out, s.Version)); a != b {
		t.Errorf("the archive holds index %s, the layout %s", b, a)
	}
}

func TestWriteLayoutReplacesOnlyALayout(t *testing.T) {
	ociimagetest.NeedBinaries(t, noGo)
	idx, err := ociimage.Build(spec())
	if err != nil {
		t.Fatal(err)
	}
	dir := winetest.TempDir(t)
	keep := filepath.Join(dir, "keep")
	if err := os.WriteFile(keep, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ociimage.WriteLayout(dir, idx, "x"); err == nil || !strings.Contains(err.Error(), "not an OCI layout") {
		t.Errorf("WriteLayout over another directory: %v, want a refusal", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("the directory was touched: %v", err)
	}
	dir = filepath.Join(winetest.TempDir(t), "layout")
	for _, name := range []string{"first", "second"} {
		if err := ociimage.WriteLayout(dir, idx, name); err != nil {
			t.Fatal(err)
		}
	}
	readLayout(t, dir, "second")
}

func TestBuildErrors(t *testing.T) {
	ociimagetest.NeedBinaries(t, noGo)
	dir := winetest.TempDir(t)
	darwin, err := ociimagetest.Hello(dir, "darwin", "arm64")
	if err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "text")
	if err := os.WriteFile(text, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	linuxHello, err := ociimagetest.Hello(dir, "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	amd, arm := binaries["linux/amd64"], binaries["linux/arm64"]
	for _, tc := range []struct {
		name     string
		binaries map[string]string
		edit     func(*ociimage.Spec)
		want     string
	}{
		{"missing platform", map[string]string{"linux/amd64": amd}, nil, "no binary for linux/arm64"},
		{"other platform", map[string]string{"linux/amd64": amd, "linux/arm64": arm, "linux/riscv64": amd}, nil, "binary for linux/riscv64: the image is only for linux/amd64 and linux/arm64"},
		{"darwin", map[string]string{"linux/amd64": amd, "linux/arm64": darwin}, nil, darwin + " is a darwin/arm64 binary, not linux/arm64"},
		{"swapped", map[string]string{"linux/amd64": arm, "linux/arm64": amd}, nil, arm + " is a linux/arm64 binary, not linux/amd64"},
		{"not Go", map[string]string{"linux/amd64": text, "linux/arm64": arm}, nil, text + " is not a Go binary"},
		{"missing file", map[string]string{"linux/amd64": amd, "linux/arm64": filepath.Join(dir, "nope")}, nil, "is not a Go binary"},
		{"not rolehop", map[string]string{"linux/amd64": linuxHello, "linux/arm64": arm}, nil, linuxHello + " is hello, not rolehop"},
		{"no version", binaries, func(s *ociimage.Spec) { s.Version = "" }, "no version"},
		{"no time", binaries, func(s *ociimage.Spec) { s.Created = time.Time{} }, "no creation time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := spec()
			s.Binaries = tc.binaries
			if tc.edit != nil {
				tc.edit(&s)
			}
			_, err := ociimage.Build(s)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Build: %v, want one line with %q", err, tc.want)
			}
		})
	}
}

// userOf parses a config's User, which must be numeric: the image has no
// /etc/passwd to look names up in.
func userOf(u string) (uid, gid uint32, err error) {
	us, gs, ok := strings.Cut(u, ":")
	if !ok {
		return 0, 0, fmt.Errorf("user %q has no group", u)
	}
	a, err := strconv.ParseUint(us, 10, 32)
	if err != nil {
		return 0, 0, err
	}
	b, err := strconv.ParseUint(gs, 10, 32)
	if err != nil {
		return 0, 0, err
	}
	if a == 0 || b == 0 {
		return 0, 0, fmt.Errorf("user %q is root", u)
	}
	return uint32(a), uint32(b), nil
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestReadDist(t *testing.T) {
	t.Chdir(winetest.TempDir(t))
	if err := os.Mkdir("dist", 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join("dist", name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// As goreleaser v2.15.1 writes them, less the archives.
	write("artifacts.json", `[{"name":"metadata.json","path":"dist/metadata.json","internal_type":35,"type":"Metadata"},
{"name":"rolehop","path":"dist/rolehop_linux_arm64_v8.0/rolehop","goos":"linux","goarch":"arm64","goarm64":"v8.0","target":"linux_arm64_v8.0","internal_type":4,"type":"Binary","extra":{"Binary":"rolehop","Builder":"go","Ext":"","ID":"rolehop"}},
{"name":"rolehop","path":"dist/rolehop_linux_amd64_v1/rolehop","goos":"linux","goarch":"amd64","goamd64":"v1","target":"linux_amd64_v1","internal_type":4,"type":"Binary","extra":{"Binary":"rolehop","Builder":"go","Ext":"","ID":"rolehop"}},
{"name":"rolehop","path":"dist/rolehop_linux_amd64_v1/rolehop","goos":"linux","goarch":"amd64","internal_type":2,"type":"Binary"},
{"name":"rolehop.exe","path":"dist/rolehop_windows_amd64_v1/rolehop.exe","goos":"windows","goarch":"amd64","goamd64":"v1","target":"windows_amd64_v1","internal_type":4,"type":"Binary","extra":{"Binary":"rolehop","Builder":"go","Ext":".exe","ID":"rolehop"}}]`)
	write("metadata.json", `{"project_name":"rolehop","tag":"v0.0.0","previous_tag":"","version":"0.0.1-snapshot","commit":"none","date":"2026-12-05T08:22:34.46450368Z","runtime":{"goos":"linux","goarch":"amd64"}}`)
	r, err := ociimage.ReadDist("dist/artifacts.json")
	if err != nil {
		t.Fatal(err)
	}
	// Paths of this OS, to open the files with.
	want := map[string]string{"linux/amd64": filepath.FromSlash("dist/rolehop_linux_amd64_v1/rolehop"), "linux/arm64": filepath.FromSlash("dist/rolehop_linux_arm64_v8.0/rolehop")}
	if !equalMaps(r.Binaries, want) || r.Version != "0.0.1-snapshot" || r.Commit != "" {
		t.Errorf("ReadDist: %+v, want binaries %v, version 0.0.1-snapshot and no commit (goreleaser's \"none\")", r, want)
	}

	write("artifacts.json", `[{"path":"dist/a/rolehop","goos":"linux","goarch":"amd64","type":"Binary"},{"path":"dist/b/rolehop","goos":"linux","goarch":"amd64","type":"Binary"},{"path":"dist/c/rolehop","goos":"linux","goarch":"arm64","type":"Binary"}]`)
	if _, err := ociimage.ReadDist("dist/artifacts.json"); err == nil || !strings.Contains(err.Error(), "lists 2 linux/amd64 binaries (dist/a/rolehop, dist/b/rolehop), not one") {
		t.Errorf("ReadDist with two linux/amd64 binaries: %v", err)
	}
	write("artifacts.json", `{"not": "a list"}`)
	if _, err := ociimage.ReadDist("dist/artifacts.json"); err == nil || !strings.HasPrefix(err.Error(), "dist/artifacts.json: ") {
		t.Errorf("ReadDist of a bad file: %v", err)
	}
}
