package upgrade

import (
	"strings"
	"testing"
	"testing/fstest"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// files is a file system root with the given files (contents "" unless
// given as name=content).
func files(names ...string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, n := range names {
		name, content, _ := strings.Cut(n, "=")
		fsys[name] = &fstest.MapFile{Data: []byte(content)}
	}
	return fsys
}

const apkDB = `C:Q1abc=
P:busybox
V:1.37.0-r8
F:usr/bin
R:rolehop

C:Q1def=
P:rolehop
V:1.2.3-r0
A:x86_64
F:usr
F:usr/bin
R:rolehop
Z:Q1xyz=
F:usr/share/doc/rolehop
R:LICENSE

`

func TestDetect(t *testing.T) {
	linux := func(exe string, root fstest.MapFS, getenv func(string) string, mod string) Probe {
		return Probe{Exe: exe, GOOS: "linux", GOARCH: "amd64", Getenv: getenv, Root: root, ModuleVersion: mod}
	}
	darwin := func(exe string, getenv func(string) string) Probe {
		return Probe{Exe: exe, GOOS: "darwin", GOARCH: "arm64", Getenv: getenv, Root: files()}
	}
	windows := func(exe string, getenv func(string) string, mod string) Probe {
		return Probe{Exe: exe, GOOS: "windows", GOARCH: "amd64", Getenv: getenv, ModuleVersion: mod}
	}
	none := env()
	tests := []struct {
		name string
		p    Probe
		want Method
	}{
		{"homebrew on Apple silicon", darwin("/opt/homebrew/Cellar/rolehop/1.2.3/bin/rolehop", none), Homebrew},
		{"homebrew on Intel", darwin("/usr/local/Cellar/rolehop/1.2.3/bin/rolehop", none), Homebrew},
		{"homebrew cask", darwin("/opt/homebrew/Caskroom/rolehop/1.2.3/rolehop", none), Homebrew},
		{"linuxbrew", linux("/home/linuxbrew/.linuxbrew/Cellar/rolehop/1.2.3/bin/rolehop", files(), none, ""), Homebrew},
		{"homebrew opt link, unresolved", darwin("/opt/homebrew/opt/rolehop/bin/rolehop", env("HOMEBREW_PREFIX", "/opt/homebrew")), Homebrew},
		{"homebrew custom cellar", darwin("/srv/kegs/rolehop/1.2.3/bin/rolehop", env("HOMEBREW_CELLAR", "/srv/kegs")), Homebrew},
		// /usr/local is Intel Homebrew's prefix, and where archives go too.
		{"archive in the homebrew prefix", darwin("/usr/local/bin/rolehop", env("HOMEBREW_PREFIX", "/usr/local")), Archive},
		{"another formula's cellar", darwin("/opt/homebrew/Cellar/rolehop-nightly/1/bin/rolehop", none), Archive},

		{"scoop", windows(`C:\Users\me\scoop\apps\rolehop\current\rolehop.exe`, none, ""), Scoop},
		{"scoop, any case", windows(`c:\users\me\Scoop\Apps\RoleHop\1.2.3\rolehop.exe`, none, ""), Scoop},
		{"scoop global", windows(`C:\ProgramData\scoop\apps\rolehop\current\rolehop.exe`, none, ""), Scoop},
		{"scoop elsewhere", windows(`D:\tools\apps\rolehop\current\rolehop.exe`, env("SCOOP", `D:\tools`), ""), Scoop},
		{"winget user", windows(`C:\Users\me\AppData\Local\Microsoft\WinGet\Packages\rolehop.rolehop_Microsoft.Winget.Source_8wekyb3d8bbwe\rolehop.exe`, none, ""), Winget},
		{"winget machine", windows(`C:\Program Files\WinGet\Packages\rolehop.rolehop_Microsoft.Winget.Source_8wekyb3d8bbwe\rolehop.exe`, none, ""), Winget},
		{"winget link", windows(`C:\Users\me\AppData\Local\Microsoft\WinGet\Links\rolehop.exe`, none, ""), Winget},
		{"windows archive", windows(`C:\Users\me\AppData\Local\rolehop\rolehop.exe`, none, ""), Archive},
		{"windows go install", windows(`C:\Users\me\go\bin\rolehop.exe`, env("USERPROFILE", `C:\Users\me`), "v1.2.3"), GoInstall},
		{"windows GOPATH list", windows(`D:\gp2\bin\rolehop.exe`, env("GOPATH", `D:\gp1;d:\GP2`), "v1.2.3"), GoInstall},
		// Scoop paths mean nothing elsewhere.
		{"scoop-like path on linux", linux("/home/me/scoop/apps/rolehop/current/rolehop", files(), none, ""), Archive},

		{"deb", linux("/usr/bin/rolehop", files("var/lib/dpkg/info/rolehop.list=/.\n/usr\n/usr/bin\n/usr/bin/rolehop\n/usr/share/doc/rolehop\n"), none, ""), Deb},
		{"deb multi-arch", linux("/usr/bin/rolehop", files("var/lib/dpkg/info/rolehop:arm64.list=/usr/bin/rolehop\n"), none, ""), Deb},
		{"dpkg list without this file", linux("/usr/local/bin/rolehop", files("var/lib/dpkg/info/rolehop.list=/usr/bin/rolehop\n"), none, ""), Archive},
		{"apk", linux("/usr/bin/rolehop", files("lib/apk/db/installed="+apkDB), none, ""), APK},
		// busybox's block lists usr/bin/rolehop here: only the rolehop package counts.
		{"apk, other package", linux("/usr/bin/rolehop", files("lib/apk/db/installed="+strings.Replace(apkDB, "P:rolehop", "P:other", 1)), none, ""), Archive},
		{"rpm", linux("/usr/bin/rolehop", files("var/lib/rpm/rpmdb.sqlite"), none, ""), RPM},
		{"rpm sysimage", linux("/usr/bin/rolehop", files("usr/lib/sysimage/rpm/rpmdb.sqlite"), none, ""), RPM},
		{"rpm database, binary elsewhere", linux("/usr/local/bin/rolehop", files("var/lib/rpm/rpmdb.sqlite"), none, ""), Archive},
		{"docker", linux("/usr/local/bin/rolehop", files(".dockerenv"), none, ""), Container},
		{"podman", linux("/usr/local/bin/rolehop", files("run/.containerenv"), none, ""), Container},
		{"image env", linux("/usr/local/bin/rolehop", files(), env(ContainerEnv, "1"), ""), Container},
		{"kubernetes", linux("/usr/local/bin/rolehop", files(), env("KUBERNETES_SERVICE_HOST", "10.96.0.1"), ""), Container},
		{"not in a container", linux("/usr/local/bin/rolehop", files(), none, ""), Archive},
		{"container, other path", linux("/app/rolehop", files(".dockerenv"), env(ContainerEnv, "1"), ""), Archive},

		{"go install", linux("/home/me/go/bin/rolehop", files(), env("HOME", "/home/me"), "v1.2.3"), GoInstall},
		{"go install pseudo-version", linux("/home/me/go/bin/rolehop", files(), env("HOME", "/home/me"), "v0.0.0-20261130120000-4c64b9c1a2b3"), GoInstall},
		{"GOBIN", linux("/opt/gobin/rolehop", files(), env("HOME", "/home/me", "GOBIN", "/opt/gobin/"), "v1.2.3"), GoInstall},
		{"GOBIN wins over GOPATH", linux("/home/me/go/bin/rolehop", files(), env("HOME", "/home/me", "GOBIN", "/opt/gobin"), "v1.2.3"), Archive},
		{"GOPATH list", linux("/b/bin/rolehop", files(), env("GOPATH", "/a:/b"), "v1.2.3"), GoInstall},
		{"build of a checkout in GOPATH/bin", linux("/home/me/go/bin/rolehop", files(), env("HOME", "/home/me"), "(devel)"), Archive},
		{"module version, not in GOPATH/bin", linux("/home/me/src/rolehop/rolehop", files(), env("HOME", "/home/me"), "v1.2.3"), Archive},

		{"github action", linux("/home/runner/work/_temp/rolehop/1.2.3/rolehop", files(),
			env("GITHUB_ACTIONS", "true", "RUNNER_TEMP", "/home/runner/work/_temp"), ""), GitHubAction},
		{"github action on windows", windows(`D:\a\_temp\rolehop\1.2.3\rolehop.exe`,
			env("GITHUB_ACTIONS", "true", "RUNNER_TEMP", `D:\a\_temp`), ""), GitHubAction},
		{"runner temp outside actions", linux("/tmp/rolehop/1.2.3/rolehop", files(), env("RUNNER_TEMP", "/tmp"), ""), Archive},

		{"archive", linux("/usr/local/bin/rolehop", files(), none, ""), Archive},
		{"unknown executable", linux("", files(), none, ""), Archive},
		{"no file probes", Probe{Exe: "/usr/bin/rolehop", GOOS: "linux"}, Archive},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Detect(); got != tc.want {
				t.Errorf("Detect() = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestUpgrade(t *testing.T) {
	r := Release{Version: "1.3.0", Tag: "v1.3.0", URL: "https://github.com/rolehop/rolehop/releases/tag/v1.3.0"}
	linux := Probe{Exe: "/usr/local/bin/rolehop", GOOS: "linux", GOARCH: "arm64"}
	win := Probe{Exe: `C:\tools\rolehop.exe`, GOOS: "windows", GOARCH: "amd64"}
	tests := []struct {
		p    Probe
		m    Method
		want string
	}{
		{linux, Homebrew, "brew upgrade rolehop"},
		{win, Scoop, "scoop update rolehop"},
		{win, Winget, "winget upgrade rolehop.rolehop"},
		{linux, Deb, "download the .deb package for your architecture from " + r.URL + ", then: sudo dpkg -i ./FILE.deb"},
		{linux, RPM, "download the .rpm package for your architecture from " + r.URL + ", then: sudo rpm -U ./FILE.rpm " +
			"(/usr/bin/rolehop with an rpm database looks like the .rpm package; rpm -qf /usr/bin/rolehop tells for sure)"},
		{linux, APK, "download the .apk package for your architecture from " + r.URL + ", then: sudo apk add --allow-untrusted ./FILE.apk"},
		{linux, Container, "docker pull ghcr.io/rolehop/rolehop:1.3.0, then run your containers from the new image"},
		{linux, GoInstall, "go install github.com/rolehop/rolehop/cmd/rolehop@latest"},
		{linux, GitHubAction, "set the rolehop action's version input to 1.3.0 (with version: latest, the default, the next run installs it)"},
		{linux, Archive, "download rolehop_1.3.0_linux_arm64.tar.gz and checksums.txt from " + r.URL +
			", check the archive's SHA-256 and replace /usr/local/bin/rolehop with the rolehop in it"},
		{win, Archive, "download rolehop_1.3.0_windows_amd64.zip and checksums.txt from " + r.URL +
			`, check the archive's SHA-256 and replace C:\tools\rolehop.exe with the rolehop in it`},
		{Probe{GOOS: "freebsd", GOARCH: "amd64"}, Archive, "download the release archive for your platform and checksums.txt from " + r.URL +
			", check the archive's SHA-256 and replace your rolehop with the rolehop in it"},
	}
	for _, tc := range tests {
		if got := tc.p.Upgrade(tc.m, r); got != tc.want {
			t.Errorf("%s on %s:\ngot  %s\nwant %s", tc.m, tc.p.GOOS, got, tc.want)
		}
	}
}

// The running test binary is probed without failing; whatever it finds
// is a known method.
func TestSystemProbe(t *testing.T) {
	p := SystemProbe(env())
	if p.Exe == "" || p.GOOS == "" || p.GOARCH == "" {
		t.Errorf("SystemProbe() = %+v", p)
	}
	p.Detect()
}
