package upgrade

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// Status is where the running build stands against the latest release.
type Status string

// The statuses, as status in `rolehop version --check -o json` has them.
const (
	UpToDate        Status = "up-to-date"       // it is the latest release
	UpdateAvailable Status = "update-available" // the latest release is newer
	Newer           Status = "newer"            // it is newer than the latest release (say, a pre-release of the next one)
	Development     Status = "development"      // not a release: devel, a pseudo-version, or a modified tree
)

// Compare says where installed, the running build's version (with or
// without "v"), stands against latest, a release version. A build of a
// modified tree, a pseudo-version (a commit between releases), "devel" and
// anything that is not a semantic version are Development: such a build is
// never up to date, whatever its number.
func Compare(installed string, modified bool, latest string) Status {
	iv, lv := withV(installed), withV(latest)
	if modified || !semver.IsValid(iv) || module.IsPseudoVersion(iv) || strings.HasSuffix(iv, "+dirty") {
		return Development
	}
	switch semver.Compare(iv, lv) {
	case -1:
		return UpdateAvailable
	case 1:
		return Newer
	}
	return UpToDate
}

func withV(v string) string {
	if strings.HasPrefix(v, "v") {
		return v
	}
	return "v" + v
}

// Report is the answer of `rolehop version --check`. Its JSON fields are
// documented in docs/json-output.md; `version -o json` prints them after
// the build's own.
type Report struct {
	// Installed is the running build's version (printed by the build
	// information, not here).
	Installed string `json:"-"`
	// Latest is the latest release's version, without "v".
	Latest string `json:"latest"`
	// PublishedAt is when it was published, RFC 3339 in UTC; "" when
	// unknown.
	PublishedAt string `json:"published_at"`
	// ReleaseURL is its page.
	ReleaseURL string `json:"release_url"`
	Status     Status `json:"status"`
	// UpdateAvailable is Status == UpdateAvailable.
	UpdateAvailable bool `json:"update_available"`
	// InstallMethod is how this binary was installed (Detect).
	InstallMethod Method `json:"install_method"`
	// Upgrade is the one-line instruction to install the latest release
	// that way; present whatever the status.
	Upgrade string `json:"upgrade"`
}

// NewReport compares the build (its version and whether its tree was
// modified) with release r and says how to upgrade as p was installed.
func NewReport(installed string, modified bool, r Release, p Probe) Report {
	m := p.Detect()
	rep := Report{Installed: installed, Latest: r.Version, ReleaseURL: r.URL, Status: Compare(installed, modified, r.Version),
		InstallMethod: m, Upgrade: p.Upgrade(m, r)}
	rep.UpdateAvailable = rep.Status == UpdateAvailable
	if !r.Published.IsZero() {
		rep.PublishedAt = r.Published.UTC().Format(time.RFC3339)
	}
	return rep
}

// Text is the report for people, one or two lines:
//
//	rolehop 1.2.3 is installed; 1.3.0 is the latest release (2026-12-01): https://github.com/rolehop/rolehop/releases/tag/v1.3.0
//	to upgrade: brew upgrade rolehop
func (rep Report) Text() string {
	when := ""
	if t, err := time.Parse(time.RFC3339, rep.PublishedAt); err == nil {
		when = " (" + t.UTC().Format(time.DateOnly) + ")"
	}
	switch rep.Status {
	case UpToDate:
		return fmt.Sprintf("rolehop %s is up to date: it is the latest release%s: %s\n", rep.Installed, when, rep.ReleaseURL)
	case Newer:
		return fmt.Sprintf("rolehop %s is newer than the latest release, %s%s: %s\n", rep.Installed, rep.Latest, when, rep.ReleaseURL)
	case Development:
		return fmt.Sprintf("rolehop %s is a development build, not a release; %s is the latest release%s: %s\nto install it: %s\n",
			rep.Installed, rep.Latest, when, rep.ReleaseURL, rep.Upgrade)
	}
	return fmt.Sprintf("rolehop %s is installed; %s is the latest release%s: %s\nto upgrade: %s\n",
		rep.Installed, rep.Latest, when, rep.ReleaseURL, rep.Upgrade)
}
