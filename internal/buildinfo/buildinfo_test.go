package buildinfo

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"testing"
)

func fakeBuild(version string, settings ...string) *debug.BuildInfo {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/rolehop/rolehop", Version: version}}
	for i := 0; i+1 < len(settings); i += 2 {
		bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
	}
	return bi
}

var vcs = []string{
	"GOOS", "linux", "GOARCH", "amd64",
	"vcs", "git", "vcs.revision", "4c64b9c1a2b3c4d5e6f708192a3b4c5d6e7f8091",
	"vcs.time", "2026-11-30T12:00:00Z", "vcs.modified", "false",
}

func TestFrom(t *testing.T) {
	dirty := append(append([]string{}, vcs[:len(vcs)-1]...), "true")
	tests := []struct {
		name    string
		bi      *debug.BuildInfo
		release string
		want    string
	}{
		{"release ldflag wins over the module version", fakeBuild("v1.2.2", vcs...), "1.2.3",
			"rolehop 1.2.3 (commit 4c64b9c, 2026-11-30T12:00:00Z) go1.26.8 linux/amd64"},
		{"go install @version", fakeBuild("v1.2.3", vcs...), "",
			"rolehop 1.2.3 (commit 4c64b9c, 2026-11-30T12:00:00Z) go1.26.8 linux/amd64"},
		{"release given with a v", fakeBuild("(devel)"), "v1.2.3", "rolehop 1.2.3 go1.26.8 " + runtime.GOOS + "/" + runtime.GOARCH},
		{"modified tree", fakeBuild("v0.0.0-20261130120000-4c64b9c1a2b3+dirty", dirty...), "",
			"rolehop 0.0.0-20261130120000-4c64b9c1a2b3+dirty (commit 4c64b9c, 2026-11-30T12:00:00Z, modified) go1.26.8 linux/amd64"},
		{"(devel) with VCS", fakeBuild("(devel)", vcs...), "",
			"rolehop devel (commit 4c64b9c, 2026-11-30T12:00:00Z) go1.26.8 linux/amd64"},
		{"(devel) without VCS", fakeBuild("(devel)", "GOOS", "windows", "GOARCH", "arm64"), "", "rolehop devel go1.26.8 windows/arm64"},
		{"no build info", nil, "", "rolehop devel " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := From(tc.bi, tc.release).String(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestJSONFields(t *testing.T) {
	b, err := json.Marshal(From(fakeBuild("v1.2.3", vcs...), ""))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":"1.2.3","commit":"4c64b9c","commit_time":"2026-11-30T12:00:00Z","modified":false,"go":"go1.26.8","os":"linux","arch":"amd64"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	// Unknown fields stay present, empty.
	b, _ = json.Marshal(From(fakeBuild("(devel)", "GOOS", "linux", "GOARCH", "amd64"), ""))
	want = `{"version":"devel","commit":"","commit_time":"","modified":false,"go":"go1.26.8","os":"linux","arch":"amd64"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

// The test binary itself has build information; Get must not panic and
// must name the running toolchain.
func TestGet(t *testing.T) {
	if got := Get(); got.Go != runtime.Version() || got.Version == "" {
		t.Errorf("Get() = %+v", got)
	}
}
