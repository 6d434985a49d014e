package ociimage

import (
	"debug/buildinfo"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// MainPackage is the package of the rolehop binary.
const MainPackage = "github.com/rolehop/rolehop/cmd/rolehop"

// CheckBinary reports whether the file at path is a rolehop binary that
// runs in the image for platform p: built for p's OS and architecture,
// and without cgo (a scratch image has no C library). It reads what the Go toolchain records in every binary.
func CheckBinary(path string, p v1.Platform) error {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s is not a Go binary: %w", path, err)
	}
	set := map[string]string{}
	for _, s := range bi.Settings {
		set[s.Key] = s.Value
	}
	switch {
	case set["GOOS"] != p.OS || set["GOARCH"] != p.Architecture:
		return fmt.Errorf("%s is a %s/%s binary, not %s", path, set["GOOS"], set["GOARCH"], key(p))
	case bi.Path != MainPackage:
		return fmt.Errorf("%s is %s, not rolehop (%s)", path, bi.Path, MainPackage)
	case set["CGO_ENABLED"] != "0":
		return fmt.Errorf("%s was built with cgo (CGO_ENABLED=%q): a scratch image has no C library", path, set["CGO_ENABLED"])
	}
	return nil
}
