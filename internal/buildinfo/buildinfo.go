// Package buildinfo says which rolehop this is: the release version that
// the linker sets, else the module version, and the VCS revision, time and
// tree state, Go version and platform that the Go toolchain records in
// every binary (runtime/debug.ReadBuildInfo).
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is the release version, set only by release builds:
//
//	go build -ldflags "-X github.com/rolehop/rolehop/internal/buildinfo.Version=1.2.3" ./cmd/rolehop
//
// When set it wins over the module version. It is written by the linker,
// never by code.
var Version string

// Info describes one build. Its JSON form is what `rolehop version
// --output json` prints; every field is always present, "" (or false) when
// the build did not record it.
type Info struct {
	// Version is the release version (Version), else the module version
	// without its leading "v" (1.2.3, or a pseudo-version such as
	// 0.0.0-20261130120000-4c64b9c1a2b3 for a build of a commit), else
	// "devel" for a build without version information.
	Version string `json:"version"`
	// Commit is the short (7-character) VCS revision.
	Commit string `json:"commit"`
	// CommitTime is the revision's commit time, RFC 3339 in UTC.
	CommitTime string `json:"commit_time"`
	// Modified reports that the working tree had uncommitted changes.
	Modified bool   `json:"modified"`
	Go       string `json:"go"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
}

// Devel is the version of a build that recorded none, such as one made
// with -buildvcs=false outside a module proxy download.
const Devel = "devel"

// shortCommit is the length of a short revision, as git abbreviates.
const shortCommit = 7

// Get returns the running binary's Info.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return From(bi, Version)
}

// From computes the Info of build information bi (nil when the binary has
// none) and the linker-set release version (may be "").
func From(bi *debug.BuildInfo, release string) Info {
	info := Info{Version: Devel, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if bi != nil {
		if bi.GoVersion != "" {
			info.Go = bi.GoVersion
		}
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			info.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Commit = s.Value
			case "vcs.time":
				info.CommitTime = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			case "GOOS":
				info.OS = s.Value
			case "GOARCH":
				info.Arch = s.Value
			}
		}
	}
	if release != "" {
		info.Version = release
	}
	info.Version = trimV(info.Version)
	if len(info.Commit) > shortCommit {
		info.Commit = info.Commit[:shortCommit]
	}
	return info
}

// trimV drops the "v" of a Go module version (v1.2.3 → 1.2.3), so that a
// release build and `go install …@v1.2.3` print the same.
func trimV(v string) string {
	if len(v) > 1 && v[0] == 'v' && v[1] >= '0' && v[1] <= '9' {
		return v[1:]
	}
	return v
}

// String is the one-line form, as `rolehop version` and `rolehop
// --version` print it (without a newline):
//
//	rolehop 1.2.3 (commit 4c64b9c, 2026-11-30T12:00:00Z) go1.26.8 linux/amd64
//
// with ", modified" inside the parentheses for a build of a changed tree;
// the parentheses are left out when nothing about the revision is known.
func (i Info) String() string {
	var b strings.Builder
	b.WriteString("rolehop ")
	b.WriteString(i.Version)
	var rev []string
	if i.Commit != "" {
		rev = append(rev, "commit "+i.Commit)
	}
	if i.CommitTime != "" {
		rev = append(rev, i.CommitTime)
	}
	if i.Modified {
		rev = append(rev, "modified")
	}
	if len(rev) > 0 {
		b.WriteString(" (" + strings.Join(rev, ", ") + ")")
	}
	b.WriteString(" " + i.Go + " " + i.OS + "/" + i.Arch)
	return b.String()
}
