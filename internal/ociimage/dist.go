package ociimage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Release is what goreleaser's dist directory says about a release build.
type Release struct {
	// Binaries as in Spec: the linux/amd64 and linux/arm64 binaries.
	Binaries map[string]string
	// Version and Commit from metadata.json next to artifacts.json; empty
	// when there is none (and Commit when goreleaser had no git).
	Version, Commit string
}

// artifact is the part of an entry of goreleaser's artifacts.json that
// is read here (goreleaser v2 internal/artifact.Artifact).
type artifact struct {
	Path   string `json:"path"`
	Goos   string `json:"goos"`
	Goarch string `json:"goarch"`
	Type   string `json:"type"`
}

// ReadDist reads goreleaser's artifacts.json (dist/artifacts.json) and the
// metadata.json beside it. Paths in artifacts.json are relative to the
// directory goreleaser ran in (dist/rolehop_linux_amd64_v1/rolehop), so a
// relative one is taken from the current directory.
func ReadDist(artifactsFile string) (Release, error) {
	data, err := os.ReadFile(artifactsFile)
	if err != nil {
		return Release{}, err
	}
	var arts []artifact
	if err := json.Unmarshal(data, &arts); err != nil {
		return Release{}, fmt.Errorf("%s: %w", artifactsFile, err)
	}
	r := Release{Binaries: map[string]string{}}
	for _, p := range Platforms {
		var paths []string
		for _, a := range arts {
			// "Binary" is also the type name of UploadableBinary and
			// UniversalBinary, which may name the same file again.
			if a.Type == "Binary" && a.Goos == p.OS && a.Goarch == p.Architecture && !slices.Contains(paths, a.Path) {
				paths = append(paths, a.Path)
			}
		}
		switch len(paths) {
		case 0:
			return Release{}, fmt.Errorf("%s lists no %s binary", artifactsFile, key(p))
		case 1:
			r.Binaries[key(p)] = filepath.FromSlash(paths[0])
		default:
			return Release{}, fmt.Errorf("%s lists %d %s binaries (%s), not one", artifactsFile, len(paths), key(p), strings.Join(paths, ", "))
		}
	}
	meta := filepath.Join(filepath.Dir(artifactsFile), "metadata.json")
	data, err = os.ReadFile(meta)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return Release{}, err
	}
	var m struct{ Version, Commit string }
	if err := json.Unmarshal(data, &m); err != nil {
		return Release{}, fmt.Errorf("%s: %w", meta, err)
	}
	r.Version = m.Version
	if m.Commit != "none" { // goreleaser's commit for a snapshot without git
		r.Commit = m.Commit
	}
	return r, nil
}
