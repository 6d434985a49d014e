package upgrade

import (
	"bufio"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
)

// Method is how the running binary was installed, as Detect tells it. The
// values are those of install_method in `rolehop version --check -o json`.
type Method string

// The installation methods, each with its own way to upgrade.
const (
	Homebrew     Method = "homebrew"      // brew, tap rolehop/homebrew-tap
	Scoop        Method = "scoop"         // Scoop bucket rolehop/scoop-bucket
	Winget       Method = "winget"        // winget package rolehop.rolehop
	Deb          Method = "deb"           // the .deb of a GitHub release
	RPM          Method = "rpm"           // the .rpm of a GitHub release (a guess: see Detect)
	APK          Method = "apk"           // the Alpine .apk of a GitHub release
	Container    Method = "container"     // the image ghcr.io/rolehop/rolehop
	GoInstall    Method = "go-install"    // go install github.com/rolehop/rolehop/cmd/rolehop@…
	GitHubAction Method = "github-action" // the rolehop GitHub Action (action/install.sh)
	Archive      Method = "archive"       // a release archive unpacked by hand, or anything else
)

// ContainerEnv, set to anything, says rolehop runs in its container image,
// where /.dockerenv and /run/.containerenv may both be missing (containerd,
// CRI-O). Kubernetes pods are also told by KUBERNETES_SERVICE_HOST.
const ContainerEnv = "ROLEHOP_IN_CONTAINER"

// containerExe is where the container image has the binary.
const containerExe = "/usr/local/bin/rolehop"

// rpmExe is where the .rpm package puts the binary.
const rpmExe = "/usr/bin/rolehop"

// Probe is everything Detect looks at. SystemProbe fills it from the
// running process; tests fill it by hand, for any platform.
type Probe struct {
	// Exe is the running executable with symlinks resolved.
	Exe string
	// GOOS and GOARCH are the platform (runtime.GOOS, runtime.GOARCH).
	GOOS, GOARCH string
	// Getenv reads the environment.
	Getenv func(string) string
	// Root is the file system root ("/"), where package databases and
	// container markers are looked for; nil looks for none (Windows).
	Root fs.FS
	// ModuleVersion is the main module's version in the binary's build
	// information: v1.2.3 for `go install …@v1.2.3`, "(devel)" or "" for a
	// build of a checkout.
	ModuleVersion string
}

// SystemProbe is the Probe of the running process.
func SystemProbe(getenv func(string) string) Probe {
	p := Probe{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Getenv: getenv}
	if exe, err := os.Executable(); err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		p.Exe = exe
	}
	if runtime.GOOS != "windows" {
		p.Root = os.DirFS("/")
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		p.ModuleVersion = bi.Main.Version
	}
	return p
}

func (p Probe) getenv(k string) string {
	if p.Getenv == nil {
		return ""
	}
	return p.Getenv(k)
}

// norm is path p in one form for comparisons: forward slashes, cleaned,
// and on Windows lower case (its file systems ignore case).
func (p Probe) norm(s string) string {
	if s == "" {
		return ""
	}
	if p.GOOS == "windows" {
		s = strings.ToLower(strings.ReplaceAll(s, `\`, "/"))
	}
	return path.Clean(s)
}

// under reports whether the executable is inside directory dir ("" is
// never).
func (p Probe) under(dir string) bool {
	dir = p.norm(dir)
	return dir != "" && dir != "." && strings.HasPrefix(p.norm(p.Exe), strings.TrimSuffix(dir, "/")+"/")
}

// Detect tells how the binary was installed, from where it is and the
// package managers' own records, first match first:
//
//   - github-action: under $RUNNER_TEMP/rolehop/ with GITHUB_ACTIONS=true
//   - homebrew: in a keg, …/Cellar/rolehop/ (or the Caskroom), or under
//     $HOMEBREW_CELLAR/rolehop/ or $HOMEBREW_PREFIX/opt/rolehop/
//   - scoop: in …\scoop\apps\rolehop\ (or $SCOOP\apps\rolehop\, $SCOOP_GLOBAL)
//   - winget: in …\WinGet\Packages\ or …\WinGet\Links\
//   - deb: /var/lib/dpkg/info/rolehop.list lists the executable
//   - apk: the rolehop package of /lib/apk/db/installed lists it
//   - rpm: it is /usr/bin/rolehop and an rpm database exists. The database
//     itself is not read (that takes rpm), so this is a guess; the
//     upgrade instruction says how to confirm it.
//   - container: it is /usr/local/bin/rolehop, in a container (/.dockerenv,
//     /run/.containerenv, ROLEHOP_IN_CONTAINER or KUBERNETES_SERVICE_HOST)
//   - go-install: the build names a module version and the executable is in
//     $GOBIN or a $GOPATH/bin (default ~/go/bin)
//   - archive: anything else
func (p Probe) Detect() Method {
	exe := p.norm(p.Exe)
	if exe == "" {
		return Archive
	}
	if p.getenv("GITHUB_ACTIONS") == "true" && p.getenv("RUNNER_TEMP") != "" && p.under(p.getenv("RUNNER_TEMP")+"/rolehop") {
		return GitHubAction
	}
	if strings.Contains(exe, "/Cellar/rolehop/") || strings.Contains(exe, "/Caskroom/rolehop/") ||
		(p.getenv("HOMEBREW_CELLAR") != "" && p.under(p.getenv("HOMEBREW_CELLAR")+"/rolehop")) ||
		(p.getenv("HOMEBREW_PREFIX") != "" && p.under(p.getenv("HOMEBREW_PREFIX")+"/opt/rolehop")) {
		return Homebrew
	}
	if p.GOOS == "windows" {
		if strings.Contains(exe, "/scoop/apps/rolehop/") ||
			(p.getenv("SCOOP") != "" && p.under(p.getenv("SCOOP")+"/apps/rolehop")) ||
			(p.getenv("SCOOP_GLOBAL") != "" && p.under(p.getenv("SCOOP_GLOBAL")+"/apps/rolehop")) {
			return Scoop
		}
		if strings.Contains(exe, "/winget/packages/") || strings.Contains(exe, "/winget/links/") {
			return Winget
		}
	}
	if p.Root != nil {
		switch {
		case p.dpkgLists(exe):
			return Deb
		case p.apkLists(exe):
			return APK
		case exe == rpmExe && (p.exists("var/lib/rpm") || p.exists("usr/lib/sysimage/rpm")):
			return RPM
		case exe == containerExe && (p.exists(".dockerenv") || p.exists("run/.containerenv") || p.containerEnv()):
			return Container
		}
	} else if exe == containerExe && p.containerEnv() {
		return Container
	}
	if p.ModuleVersion != "" && p.ModuleVersion != "(devel)" && slices.ContainsFunc(p.goBinDirs(), p.isDirOfExe) {
		return GoInstall
	}
	return Archive
}

func (p Probe) isDirOfExe(dir string) bool {
	return dir != "" && p.norm(dir) == path.Dir(p.norm(p.Exe))
}

func (p Probe) containerEnv() bool {
	return p.getenv(ContainerEnv) != "" || p.getenv("KUBERNETES_SERVICE_HOST") != ""
}

func (p Probe) exists(name string) bool {
	_, err := fs.Stat(p.Root, name)
	return err == nil
}

// dpkgLists reports whether dpkg's file list of the rolehop package
// (rolehop.list, or rolehop:ARCH.list for a multi-arch one) has exe.
func (p Probe) dpkgLists(exe string) bool {
	lists, _ := fs.Glob(p.Root, "var/lib/dpkg/info/rolehop:*.list")
	for _, name := range append([]string{"var/lib/dpkg/info/rolehop.list"}, lists...) {
		f, err := p.Root.Open(name)
		if err != nil {
			continue
		}
		found := false
		for sc := bufio.NewScanner(f); sc.Scan() && !found; {
			found = path.Clean(strings.TrimSpace(sc.Text())) == exe
		}
		f.Close()
		if found {
			return true
		}
	}
	return false
}

// apkLists reports whether the package rolehop in apk's database
// (/lib/apk/db/installed: one block per package, "P:" its name, "F:" a
// directory and "R:" a file in it, both without the leading /) has exe.
func (p Probe) apkLists(exe string) bool {
	f, err := p.Root.Open("lib/apk/db/installed")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var pkg, dir string
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			pkg, dir = "", ""
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch k {
		case "P":
			pkg = v
		case "F":
			dir = v
		case "R":
			if pkg == "rolehop" && path.Join("/", dir, v) == exe {
				return true
			}
		}
	}
	return false
}

// goBinDirs are where `go install` puts binaries: $GOBIN, else each
// $GOPATH's bin, $GOPATH defaulting to ~/go.
func (p Probe) goBinDirs() []string {
	if gobin := p.getenv("GOBIN"); gobin != "" {
		return []string{gobin}
	}
	sep, home := ":", p.getenv("HOME")
	if p.GOOS == "windows" {
		sep, home = ";", p.getenv("USERPROFILE")
	}
	gopath := p.getenv("GOPATH")
	if gopath == "" && home != "" {
		gopath = home + "/go"
	}
	var dirs []string
	for d := range strings.SplitSeq(gopath, sep) {
		if d != "" {
			dirs = append(dirs, d+"/bin")
		}
	}
	return dirs
}

// Upgrade is the one-line instruction to install release r by method m.
func (p Probe) Upgrade(m Method, r Release) string {
	page := r.URL
	switch m {
	case Homebrew:
		return "brew upgrade rolehop"
	case Scoop:
		return "scoop update rolehop"
	case Winget:
		return "winget upgrade rolehop.rolehop"
	case Deb:
		return "download the .deb package for your architecture from " + page + ", then: sudo dpkg -i ./FILE.deb"
	case RPM:
		return "download the .rpm package for your architecture from " + page + ", then: sudo rpm -U ./FILE.rpm " +
			"(" + rpmExe + " with an rpm database looks like the .rpm package; rpm -qf " + rpmExe + " tells for sure)"
	case APK:
		return "download the .apk package for your architecture from " + page + ", then: sudo apk add --allow-untrusted ./FILE.apk"
	case Container:
		return "docker pull ghcr.io/rolehop/rolehop:" + r.Version + ", then run your containers from the new image"
	case GoInstall:
		return "go install github.com/rolehop/rolehop/cmd/rolehop@latest"
	case GitHubAction:
		return "set the rolehop action's version input to " + r.Version + " (with version: latest, the default, the next run installs it)"
	}
	archive := "the release archive for your platform"
	switch p.GOOS {
	case "linux", "darwin":
		archive = "rolehop_" + r.Version + "_" + p.GOOS + "_" + p.GOARCH + ".tar.gz"
	case "windows":
		archive = "rolehop_" + r.Version + "_windows_" + p.GOARCH + ".zip"
	}
	exe := p.Exe
	if exe == "" {
		exe = "your rolehop"
	}
	return "download " + archive + " and checksums.txt from " + page + ", check the archive's SHA-256 and replace " + exe + " with the rolehop in it"
}
