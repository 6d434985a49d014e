// Package ociimagetest builds real binaries for the tests of
// internal/ociimage and its command: rolehop cross-built as the release
// builds it, and a trivial program for any platform. It is imported only by
// _test.go files.
package ociimagetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Version is the release version linked into the rolehop binaries.
const Version = "9.8.7-test"

// Platforms are the platforms Rolehop builds for.
var Platforms = []string{"linux/amd64", "linux/arm64"}

// NoGo says why the binaries cannot be built here, or "" if they can:
// they are built with the go command, which a Windows test binary run under
// Wine does not find (the go on PATH there is Linux's, and not on Wine's
// PATH). A package's tests that need them skip with this reason, unless
// CI=true (see SkipNoGo).
func NoGo() string {
	if _, err := exec.LookPath("go"); err != nil {
		return "go is not on PATH, so rolehop cannot be built for the image (" + err.Error() + ")"
	}
	return ""
}

// SkipNoGo decides for a package's TestMain whether its tests that need
// the binaries skip: it returns NoGo() when go is missing and CI is not
// "true", else "" (then build, and fail if go is missing).
func SkipNoGo() string {
	if os.Getenv("CI") == "true" {
		return ""
	}
	return NoGo()
}

// NeedBinaries skips a test that needs the binaries when why, SkipNoGo's
// answer in TestMain, says they could not be built.
func NeedBinaries(t testing.TB, why string) {
	t.Helper()
	if why != "" {
		t.Skip(why + "; skipping (set CI=true to make this a failure)")
	}
}

// Rolehop builds ./cmd/rolehop for linux/amd64 and linux/arm64 into dir as
// .goreleaser.yaml does (CGO_ENABLED=0, -trimpath, -s -w, Version linked
// in) and returns the binaries by "os/arch". The two builds run at once.
func Rolehop(dir string) (map[string]string, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	bins := map[string]string{}
	errs := make([]error, len(Platforms))
	var wg sync.WaitGroup
	for i, p := range Platforms {
		goos, goarch, _ := strings.Cut(p, "/")
		out := filepath.Join(dir, "rolehop_"+goos+"_"+goarch, "rolehop")
		bins[p] = out
		wg.Go(func() {
			errs[i] = build(root, goos, goarch, out, "-trimpath",
				"-ldflags=-s -w -X github.com/rolehop/rolehop/internal/buildinfo.Version="+Version, "./cmd/rolehop")
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return bins, nil
}

// Hello builds a program that does nothing for goos/goarch into dir and
// returns its path: a Go binary that is not rolehop.
func Hello(dir, goos, goarch string) (string, error) {
	src := filepath.Join(dir, "hello-src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "hello_"+goos+"_"+goarch)
	return out, build(src, goos, goarch, out, ".")
}

func build(dir, goos, goarch, out string, args ...string) error {
	cmd := exec.Command("go", append([]string{"build", "-o", out}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build for %s/%s in %s: %v\n%s", goos, goarch, dir, err, b)
	}
	return nil
}

// moduleRoot is the directory of rolehop's go.mod.
func moduleRoot() (string, error) {
	b, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(b))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside rolehop's module")
	}
	return filepath.Dir(gomod), nil
}
