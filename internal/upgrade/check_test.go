package upgrade

import (
	"testing"
	"time"
)

func TestCompare(t *testing.T) {
	tests := []struct {
		installed string
		modified  bool
		latest    string
		want      Status
	}{
		{"1.2.3", false, "1.3.0", UpdateAvailable},
		{"v1.2.3", false, "1.3.0", UpdateAvailable},
		{"1.2.3", false, "v1.2.3", UpToDate},
		{"1.2.10", false, "1.2.9", Newer},
		{"1.2.9", false, "1.2.10", UpdateAvailable}, // numeric, not string order
		{"1.3.0-rc.1", false, "1.3.0", UpdateAvailable},
		{"1.3.0-rc.1", false, "1.2.3", Newer},
		{"1.3.0-rc.2", false, "1.3.0-rc.10", UpdateAvailable},
		{"1.3.0-beta", false, "1.3.0-alpha", Newer},
		{"1.3.0+build.5", false, "1.3.0", UpToDate}, // build metadata has no order
		{"2.0.0", false, "1.9.9", Newer},
		{"devel", false, "1.3.0", Development},
		{"", false, "1.3.0", Development},
		{"0.0.0-20261130120000-4c64b9c1a2b3", false, "1.3.0", Development},
		{"1.3.1-0.20261130120000-4c64b9c1a2b3", false, "1.3.0", Development},
		{"1.3.0+dirty", false, "1.3.0", Development},
		{"1.3.0", true, "1.3.0", Development},
		{"1.2", false, "1.3.0", UpdateAvailable},
	}
	for _, tc := range tests {
		if got := Compare(tc.installed, tc.modified, tc.latest); got != tc.want {
			t.Errorf("Compare(%q, %v, %q) = %s, want %s", tc.installed, tc.modified, tc.latest, got, tc.want)
		}
	}
}

func TestReport(t *testing.T) {
	r := Release{Version: "1.3.0", Tag: "v1.3.0", URL: "https://github.com/rolehop/rolehop/releases/tag/v1.3.0",
		Published: time.Date(2026, 12, 1, 23, 4, 39, 0, time.FixedZone("EST", -5*3600))}
	brew := Probe{Exe: "/opt/homebrew/Cellar/rolehop/1.2.3/bin/rolehop", GOOS: "darwin", GOARCH: "arm64"}
	tests := []struct {
		installed string
		modified  bool
		r         Release
		want      string
	}{
		{"1.2.3", false, r, "rolehop 1.2.3 is installed; 1.3.0 is the latest release (2026-12-02): " + r.URL + "\nto upgrade: brew upgrade rolehop\n"},
		{"1.3.0", false, r, "rolehop 1.3.0 is up to date: it is the latest release (2026-12-02): " + r.URL + "\n"},
		{"1.4.0-rc.1", false, r, "rolehop 1.4.0-rc.1 is newer than the latest release, 1.3.0 (2026-12-02): " + r.URL + "\n"},
		{"devel", false, r, "rolehop devel is a development build, not a release; 1.3.0 is the latest release (2026-12-02): " + r.URL +
			"\nto install it: brew upgrade rolehop\n"},
		{"1.3.0", true, r, "rolehop 1.3.0 is a development build, not a release; 1.3.0 is the latest release (2026-12-02): " + r.URL +
			"\nto install it: brew upgrade rolehop\n"},
		{"1.2.3", false, Release{Version: "1.3.0", URL: r.URL}, "rolehop 1.2.3 is installed; 1.3.0 is the latest release: " + r.URL + "\nto upgrade: brew upgrade rolehop\n"},
	}
	for _, tc := range tests {
		rep := NewReport(tc.installed, tc.modified, tc.r, brew)
		if got := rep.Text(); got != tc.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.installed, got, tc.want)
		}
		if rep.InstallMethod != Homebrew || rep.UpdateAvailable != (rep.Status == UpdateAvailable) {
			t.Errorf("%s: %+v", tc.installed, rep)
		}
	}
	rep := NewReport("1.2.3", false, r, brew)
	if rep.PublishedAt != "2026-12-02T04:04:39Z" || !rep.UpdateAvailable || rep.Latest != "1.3.0" || rep.ReleaseURL != r.URL {
		t.Errorf("%+v", rep)
	}
}
