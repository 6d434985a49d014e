package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/rolehop/rolehop/internal/ociimage"
	"github.com/rolehop/rolehop/internal/ociimage/ociimagetest"
)

// binaries are rolehop for linux/amd64 and linux/arm64; darwin is a Go
// program for darwin/arm64. All are built once.
var (
	binaries map[string]string
	darwin   string
)

// noGo is why binaries could not be built, if they were not (see
// ociimagetest.NeedBinaries).
var noGo string

func TestMain(m *testing.M) {
	flag.Parse()
	if noGo = ociimagetest.SkipNoGo(); noGo != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "ociimage-cmd-test-")
	if err == nil {
		// The keychain reads docker's config from here: none, anonymous.
		err = os.Setenv("DOCKER_CONFIG", filepath.Join(dir, "docker"))
	}
	if err == nil {
		binaries, err = ociimagetest.Rolehop(dir)
	}
	if err == nil {
		darwin, err = ociimagetest.Hello(dir, "darwin", "arm64")
	}
	if err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const epoch = "1796400000"

// runCmd runs the command with SOURCE_DATE_EPOCH=epoch and returns its
// exit code, stdout and stderr.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string {
		if k == "SOURCE_DATE_EPOCH" {
			return epoch
		}
		return ""
	}
	code := run(context.Background(), args, getenv, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func binaryFlags() []string {
	return []string{"-binary", "linux/amd64=" + binaries["linux/amd64"], "-binary", "linux/arm64=" + binaries["linux/arm64"]}
}

// layoutIndex returns the image index of the layout in dir.
func layoutIndex(t *testing.T, dir string) v1.ImageIndex {
	t.Helper()
	idx, _, err := ociimage.ReadLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func TestPush(t *testing.T) {
	ociimagetest.NeedBinaries(t, noGo)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	repo := strings.TrimPrefix(srv.URL, "http://") + "/rolehop/rolehop"
	out := filepath.Join(t.TempDir(), "image")

	args := append(binaryFlags(), "-version", "1.2.3", "-revision", "4c64b9c", "-out", out, "-push", repo, "-tag", "1.2.3", "-tag", "latest")
	code, stdout, stderr := runCmd(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	line, ok := strings.CutSuffix(stdout, "\n")
	if !ok || strings.Contains(line, "\n") {
		t.Fatalf("stdout %q, want one line: REPOSITORY@DIGEST", stdout)
	}
	ref, err := name.NewDigest(line)
	if err != nil {
		t.Fatalf("stdout %q: %v", line, err)
	}
	if ref.Context().Name() != repo {
		t.Errorf("pushed to %s, want %s", ref.Context().Name(), repo)
	}
	local := layoutIndex(t, out)
	want, err := local.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if ref.DigestStr() != want.String() {
		t.Errorf("printed digest %s, the layout's index is %s", ref.DigestStr(), want)
	}

	// Pull it back by the printed digest: every blob, checked.
	pulled, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(pulled); err != nil {
		t.Fatalf("the pulled index is not valid: %v", err)
	}
	got, err := pulled.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := local.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, raw) {
		t.Errorf("pulled index\n%s\nwant the layout's\n%s", got, raw)
	}
	m, err := local.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range m.Manifests {
		img, err := pulled.Image(d.Digest)
		if err != nil {
			t.Fatalf("%s: %v", d.Platform, err)
		}
		want, err := local.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range []func(v1.Image) ([]byte, error){v1.Image.RawManifest, v1.Image.RawConfigFile} {
			a, errA := part(img)
			b, errB := part(want)
			if errA != nil || errB != nil || !bytes.Equal(a, b) {
				t.Errorf("%s: pulled %s (%v), want %s (%v)", d.Platform, a, errA, b, errB)
			}
		}
	}
	for _, tag := range []string{"1.2.3", "latest"} {
		desc, err := remote.Head(ref.Context().Tag(tag))
		if err != nil {
			t.Errorf("tag %s: %v", tag, err)
		} else if desc.Digest != want {
			t.Errorf("tag %s is %s, want %s", tag, desc.Digest, want)
		}
	}
}

// goreleaserDist writes a dist/ in the current directory as goreleaser
// v2 lays it out (paths relative to the directory it ran in), with the
// linux binaries and a darwin one, and returns the linux paths.
func goreleaserDist(t *testing.T, skip string) map[string]string {
	t.Helper()
	type art struct {
		Name   string         `json:"name"`
		Path   string         `json:"path"`
		Goos   string         `json:"goos,omitempty"`
		Goarch string         `json:"goarch,omitempty"`
		Target string         `json:"target,omitempty"`
		IType  int            `json:"internal_type"`
		Type   string         `json:"type"`
		Extra  map[string]any `json:"extra,omitempty"`
	}
	arts := []art{{Name: "metadata.json", Path: "dist/metadata.json", IType: 35, Type: "Metadata"}}
	paths := map[string]string{}
	for _, b := range []struct{ goos, goarch, target, src string }{
		{"linux", "arm64", "linux_arm64_v8.0", binaries["linux/arm64"]},
		{"linux", "amd64", "linux_amd64_v1", binaries["linux/amd64"]},
		{"darwin", "arm64", "darwin_arm64_v8.0", darwin},
	} {
		if b.goos+"/"+b.goarch == skip {
			continue
		}
		p := "dist/rolehop_" + b.target + "/rolehop"
		data, err := os.ReadFile(b.src)
		if err == nil {
			err = os.MkdirAll(filepath.Dir(p), 0o755)
		}
		if err == nil {
			err = os.WriteFile(p, data, 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
		paths[b.goos+"/"+b.goarch] = p
		extra := map[string]any{"Binary": "rolehop", "Builder": "go", "Ext": "", "ID": "rolehop"}
		arts = append(arts,
			art{Name: "rolehop", Path: p, Goos: b.goos, Goarch: b.goarch, Target: b.target, IType: 4, Type: "Binary", Extra: extra},
			art{Name: "rolehop_1.2.4-snapshot_" + b.goos + "_" + b.goarch + ".tar.gz", Path: "dist/rolehop_1.2.4-snapshot_" + b.goos + "_" + b.goarch + ".tar.gz",
				Goos: b.goos, Goarch: b.goarch, Target: b.target, IType: 1, Type: "Archive", Extra: map[string]any{"ID": "rolehop"}})
	}
	data, err := json.Marshal(arts)
	if err == nil {
		err = os.WriteFile("dist/artifacts.json", data, 0o644)
	}
	if err == nil {
		err = os.WriteFile("dist/metadata.json", []byte(`{"project_name":"rolehop","tag":"v1.2.3","previous_tag":"v1.2.2","version":"1.2.4-snapshot","commit":"4c64b9c1a2b3d4e5f60718293a4b5c6d7e8f9012","date":"2026-12-05T08:22:34.46450368Z","runtime":{"goos":"linux","goarch":"amd64"}}`), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	delete(paths, "darwin/arm64")
	return paths
}

func TestFromDist(t *testing.T) {
	ociimagetest.NeedBinaries(t, noGo)
	t.Chdir(t.TempDir())
	paths := goreleaserDist(t, "")
	code, stdout, stderr := runCmd(t, "-out", "dist/image", "-tar", "dist/image.tar")
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, stdout, stderr)
	}
	// The same image as the package makes from those binaries and
	// dist/metadata.json's version and commit.
	secs, _ := strconv.ParseInt(epoch, 10, 64)
	idx, err := ociimage.Build(ociimage.Spec{Binaries: paths, Version: "1.2.4-snapshot", Revision: "4c64b9c1a2b3d4e5f60718293a4b5c6d7e8f9012", Created: time.Unix(secs, 0)})
	if err != nil {
		t.Fatal(err)
	}
	want, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := layoutIndex(t, "dist/image").Digest(); err != nil || got != want {
		t.Errorf("dist/image holds index %s (%v), want %s", got, err, want)
	}
	if !strings.Contains(stderr, want.String()) {
		t.Errorf("stderr %q does not name the index %s", stderr, want)
	}
	if fi, err := os.Stat("dist/image.tar"); err != nil || fi.Size() < 1<<20 {
		t.Errorf("dist/image.tar: %v", err)
	}
}

func TestErrors(t *testing.T) {
	ociimagetest.NeedBinaries(t, noGo)
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("nodist", 0o755); err != nil {
		t.Fatal(err)
	}
	goreleaserDist(t, "linux/arm64")
	// The OS's words for a missing file ("no such file or directory", or
	// Windows' "The system cannot find the file specified.").
	_, missing := os.Open("nodist/artifacts.json")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing artifacts.json", []string{"-artifacts", "nodist/artifacts.json", "-out", "x"}, 1, missing.Error()},
		{"missing platform", []string{"-out", "x"}, 1, "dist/artifacts.json lists no linux/arm64 binary"},
		{"non-linux binary", []string{"-binary", "linux/amd64=" + binaries["linux/amd64"], "-binary", "linux/arm64=" + darwin, "-version", "1.2.3", "-out", "x"}, 1, darwin + " is a darwin/arm64 binary, not linux/arm64"},
		{"missing binary flag", []string{"-binary", "linux/amd64=" + binaries["linux/amd64"], "-version", "1.2.3", "-out", "x"}, 1, "no binary for linux/arm64"},
		{"bad binary flag", []string{"-binary", binaries["linux/amd64"], "-version", "1.2.3", "-out", "x"}, 2, "is not os/arch=PATH"},
		{"no version", append(binaryFlags(), "-out", "x"), 2, "-binary needs -version"},
		{"no time", append(binaryFlags(), "-version", "1", "-created", "", "-out", "x"), 2, "no image time: set SOURCE_DATE_EPOCH"},
		{"bad time", append(binaryFlags(), "-version", "1", "-created", "2026-12-05", "-out", "x"), 2, `image time "2026-12-05" is not Unix seconds`},
		{"nothing to do", binaryFlags(), 2, "nothing to do"},
		{"tag without push", append(binaryFlags(), "-out", "x", "-tag", "latest"), 2, "-tag needs -push"},
		{"bad repository", append(binaryFlags(), "-version", "1", "-push", "ghcr.io/rolehop/rolehop:1.2.3"), 2, `repository "ghcr.io/rolehop/rolehop:1.2.3"`},
		{"bad tag", append(binaryFlags(), "-version", "1", "-push", "ghcr.io/rolehop/rolehop", "-tag", "a/b"), 2, `tag "a/b"`},
		{"argument", []string{"-out", "x", "serve"}, 2, `unexpected argument "serve"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tc.args...)
			if code != tc.code || stdout != "" || !strings.HasPrefix(stderr, "ociimage: ") || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and one line with %q", code, stdout, stderr, tc.code, tc.want)
			}
			if _, err := os.Stat("x"); err == nil {
				t.Errorf("x was written")
			}
		})
	}
}

func TestPushRefused(t *testing.T) {
	ociimagetest.NeedBinaries(t, noGo)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
	}))
	defer srv.Close()
	repo := strings.TrimPrefix(srv.URL, "http://") + "/rolehop/rolehop"
	code, stdout, stderr := runCmd(t, append(binaryFlags(), "-version", "1.2.3", "-push", repo)...)
	if code != 1 || stdout != "" || !strings.HasPrefix(stderr, "ociimage: push "+repo+"@sha256:") || !strings.Contains(stderr, "401 Unauthorized") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and one line: push …: 401 Unauthorized", code, stdout, stderr)
	}
}
