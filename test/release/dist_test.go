package release

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The tests named TestDist check what `goreleaser release --snapshot`
// produced, in the directory ROLEHOP_DIST names (`make release-check` sets
// it after the snapshot). Without it they skip: building the release takes
// goreleaser, which `make release-check` installs.

// releaseURL is where goreleaser's manifests point for release tag.
const releaseURL = "https://github.com/rolehop/rolehop/releases/download/"

// dist is one snapshot's output: its directory, metadata and checksums.
type dist struct {
	dir       string
	version   string            // 0.0.1-snapshot
	tag       string            // v0.0.0
	checksums map[string]string // file name → sha256 hex, from checksums.txt
	archives  []artifact
	packages  []artifact
}

// artifact is the part of goreleaser's dist/artifacts.json this test reads.
type artifact struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Goos   string `json:"goos"`
	Goarch string `json:"goarch"`
	Type   string `json:"type"`
	Extra  struct {
		Format string `json:"Format"`
	} `json:"extra"`
}

func loadDist(t *testing.T) *dist {
	t.Helper()
	dir := os.Getenv("ROLEHOP_DIST")
	if dir == "" {
		t.Skip("ROLEHOP_DIST is not set: run `make release-check`, which builds a snapshot release and then these tests")
	}
	d := &dist{dir: dir, checksums: map[string]string{}}
	var meta struct {
		Version string `json:"version"`
		Tag     string `json:"tag"`
	}
	readJSON(t, filepath.Join(dir, "metadata.json"), &meta)
	d.version, d.tag = meta.Version, meta.Tag
	if d.version == "" || d.tag == "" {
		t.Fatalf("metadata.json has no version or tag: %+v", meta)
	}
	var all []artifact
	readJSON(t, filepath.Join(dir, "artifacts.json"), &all)
	for _, a := range all {
		switch a.Type {
		case "Archive":
			d.archives = append(d.archives, a)
		case "Linux Package":
			d.packages = append(d.packages, a)
		}
	}
	f, err := os.Open(filepath.Join(dir, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			t.Fatalf("checksums.txt: line %q is not `<sha256>  <name>`", sc.Text())
		}
		d.checksums[name] = sum
	}
	return d
}

func readJSON(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run `make release-check`)", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func sha256File(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// manPages lists the pages in docs/man, which every archive and package
// ships.
func manPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(root(t), "docs", "man", "*.1"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no pages in docs/man: %v", err)
	}
	for i, p := range pages {
		pages[i] = filepath.Base(p)
	}
	return pages
}

// TestDistChecksums: every archive and package is in checksums.txt with
// its real sha256, and the six platforms and three package formats for two
// architectures are all there.
func TestDistChecksums(t *testing.T) {
	d := loadDist(t)
	var want []string
	for _, tg := range targets {
		want = append(want, "rolehop_"+d.version+"_"+tg.goos+"_"+tg.goarch+"."+tg.format)
	}
	var got []string
	for _, a := range d.archives {
		got = append(got, a.Name)
	}
	if !sameSet(got, want) {
		t.Errorf("archives %q, want %q", got, want)
	}
	formats := map[string]int{}
	for _, p := range d.packages {
		formats[p.Extra.Format]++
	}
	for _, f := range []string{"deb", "rpm", "apk"} {
		if formats[f] != 2 {
			t.Errorf("%d %s packages, want 2 (amd64, arm64)", formats[f], f)
		}
	}
	for _, a := range slices.Concat(d.archives, d.packages) {
		sum, ok := d.checksums[a.Name]
		if !ok {
			t.Errorf("checksums.txt lacks %s", a.Name)
			continue
		}
		if real := sha256File(t, filepath.Join(d.dir, a.Name)); real != sum {
			t.Errorf("%s: checksums.txt says %s, the file's sha256 is %s", a.Name, sum, real)
		}
	}
}

// TestDistArchives: each archive holds the binary, LICENSE, README.md, the
// man pages and the four completion scripts, at the paths the Homebrew
// formula installs them from.
func TestDistArchives(t *testing.T) {
	d := loadDist(t)
	want := []string{"LICENSE", "README.md", "completions/_rolehop", "completions/rolehop.bash", "completions/rolehop.fish", "completions/rolehop.ps1"}
	for _, p := range manPages(t) {
		want = append(want, "man/"+p)
	}
	for _, a := range d.archives {
		files := archiveFiles(t, filepath.Join(d.dir, a.Name))
		bin := "rolehop"
		if a.Goos == "windows" {
			bin = "rolehop.exe"
		}
		if !sameSet(files, append(slices.Clone(want), bin)) {
			t.Errorf("%s holds %q, want %q", a.Name, files, append(slices.Clone(want), bin))
		}
	}
}

// archiveFiles lists the regular files of a .tar.gz or .zip.
func archiveFiles(t *testing.T, file string) []string {
	t.Helper()
	var names []string
	if strings.HasSuffix(file, ".zip") {
		z, err := zip.OpenReader(file)
		if err != nil {
			t.Fatal(err)
		}
		defer z.Close()
		for _, f := range z.File {
			if !f.FileInfo().IsDir() {
				names = append(names, f.Name)
			}
		}
		return names
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for _, h := range tarHeaders(t, file, zr) {
		if h.Typeflag == tar.TypeReg {
			names = append(names, h.Name)
		}
	}
	return names
}

func tarHeaders(t *testing.T, file string, r io.Reader) []*tar.Header {
	t.Helper()
	var hs []*tar.Header
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return hs
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		hs = append(hs, h)
	}
}

// installedPaths is where each package puts what it ships, by format
// (Debian's zsh reads vendor-completions; Fedora's and Alpine's
// site-functions).
func installedPaths(t *testing.T, format string) []string {
	zsh, license := "/usr/share/zsh/site-functions/_rolehop", "/usr/share/licenses/rolehop/LICENSE"
	if format == "deb" {
		zsh, license = "/usr/share/zsh/vendor-completions/_rolehop", "/usr/share/doc/rolehop/copyright"
	}
	paths := []string{
		"/usr/bin/rolehop",
		"/usr/share/bash-completion/completions/rolehop",
		"/usr/share/fish/vendor_completions.d/rolehop.fish",
		zsh, license,
	}
	for _, p := range manPages(t) {
		paths = append(paths, "/usr/share/man/man1/"+p+".gz")
	}
	return paths
}

// TestDistPackages lists the files of each .deb (dpkg-deb), .rpm (rpm) and
// .apk (read here: a concatenation of gzipped tar segments) and checks
// their metadata.
func TestDistPackages(t *testing.T) {
	d := loadDist(t)
	for _, p := range d.packages {
		file := filepath.Join(d.dir, p.Name)
		var files []string
		var meta string
		switch p.Extra.Format {
		case "deb":
			files = parseListing(t, run(t, "dpkg-deb", "--fsys-tarfile", file), "tar")
			meta = run(t, "dpkg-deb", "--field", file, "Package", "Version", "Architecture", "Homepage")
			debArch := map[string]string{"amd64": "amd64", "arm64": "arm64"}[p.Goarch]
			wantMeta := "Package: rolehop\nVersion: " + strings.ReplaceAll(d.version, "-", "~") + "\nArchitecture: " + debArch + "\nHomepage: https://github.com/rolehop/rolehop\n"
			if meta != wantMeta {
				t.Errorf("%s fields:\n%s\nwant\n%s", p.Name, meta, wantMeta)
			}
		case "rpm":
			files = strings.Fields(run(t, "rpm", "-qlp", file))
			meta = run(t, "rpm", "-qp", "--queryformat", "%{NAME} %{LICENSE} %{ARCH}", file)
			rpmArch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[p.Goarch]
			if want := "rolehop Apache-2.0 " + rpmArch; meta != want {
				t.Errorf("%s: name, licence, arch %q, want %q", p.Name, meta, want)
			}
		case "apk":
			var info string
			files, info = apkContents(t, file)
			apkArch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[p.Goarch]
			for _, want := range []string{"pkgname = rolehop\n", "license = Apache-2.0\n", "arch = " + apkArch + "\n"} {
				if !strings.Contains(info, want) {
					t.Errorf("%s: .PKGINFO lacks %q:\n%s", p.Name, want, info)
				}
			}
		default:
			t.Errorf("%s: unexpected package format %q", p.Name, p.Extra.Format)
			continue
		}
		for _, want := range installedPaths(t, p.Extra.Format) {
			if !slices.Contains(files, want) {
				t.Errorf("%s does not install %s (it has %q)", p.Name, want, files)
			}
		}
	}
}

// parseListing turns a tar stream's member names into absolute paths.
func parseListing(t *testing.T, tarStream, file string) []string {
	var files []string
	for _, h := range tarHeaders(t, file, strings.NewReader(tarStream)) {
		if h.Typeflag == tar.TypeReg {
			files = append(files, "/"+strings.TrimPrefix(path.Clean(h.Name), "./"))
		}
	}
	return files
}

// apkContents reads an Alpine package: gzip members, one after another,
// each a tar segment (the control part with .PKGINFO, then the data).
func apkContents(t *testing.T, file string) (files []string, pkginfo string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f) // multistream: reads every member
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		switch {
		case h.Name == ".PKGINFO":
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			pkginfo = string(b)
		case h.Typeflag == tar.TypeReg && !strings.HasPrefix(h.Name, "."):
			files = append(files, "/"+path.Clean(h.Name))
		}
	}
	if pkginfo == "" {
		t.Fatalf("%s has no .PKGINFO", file)
	}
	return files, pkginfo
}

// run runs a tool that CI installs (dpkg-deb, rpm) and returns its stdout.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not found: `make release-check` needs it (Debian package %s)", name, map[string]string{"dpkg-deb": "dpkg", "rpm": "rpm"}[name])
	}
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// TestDistHomebrewFormula: the formula downloads each macOS and Linux
// archive from the release with the sha256 in checksums.txt, and installs
// the binary, man pages and completions from the paths the archives hold.
func TestDistHomebrewFormula(t *testing.T) {
	d := loadDist(t)
	b, err := os.ReadFile(filepath.Join(d.dir, "homebrew", "Formula", "rolehop.rb"))
	if err != nil {
		t.Fatal(err)
	}
	formula := string(b)
	pairs := regexp.MustCompile(`url "([^"]+)"\s+sha256 "([0-9a-f]{64})"`).FindAllStringSubmatch(formula, -1)
	var names []string
	for _, p := range pairs {
		name := strings.TrimPrefix(p[1], releaseURL+d.tag+"/")
		if name == p[1] {
			t.Errorf("formula url %s is not under %s%s/", p[1], releaseURL, d.tag)
		}
		if d.checksums[name] != p[2] {
			t.Errorf("formula: %s has sha256 %s, checksums.txt %q", name, p[2], d.checksums[name])
		}
		names = append(names, name)
	}
	var want []string
	for _, tg := range targets {
		if tg.goos != "windows" {
			want = append(want, "rolehop_"+d.version+"_"+tg.goos+"_"+tg.goarch+".tar.gz")
		}
	}
	if !sameSet(names, want) {
		t.Errorf("formula downloads %q, want %q", names, want)
	}
	for _, line := range []string{
		`bin.install "rolehop"`,
		`man1.install Dir["man/*.1"]`,
		`bash_completion.install "completions/rolehop.bash" => "rolehop"`,
		`zsh_completion.install "completions/_rolehop"`,
		`fish_completion.install "completions/rolehop.fish"`,
		`license "Apache-2.0"`,
	} {
		if !strings.Contains(formula, line) {
			t.Errorf("formula lacks %s", line)
		}
	}
}

// TestDistScoopManifest: the Scoop manifest points at the Windows archives
// with their checksums.
func TestDistScoopManifest(t *testing.T) {
	d := loadDist(t)
	var m struct {
		Version      string   `json:"version"`
		License      string   `json:"license"`
		PostInstall  []string `json:"post_install"`
		Architecture map[string]struct {
			URL  string   `json:"url"`
			Bin  []string `json:"bin"`
			Hash string   `json:"hash"`
		} `json:"architecture"`
	}
	readJSON(t, filepath.Join(d.dir, "scoop", "rolehop.json"), &m)
	if m.Version != d.version || m.License != "Apache-2.0" {
		t.Errorf("scoop version %q licence %q, want %q Apache-2.0", m.Version, m.License, d.version)
	}
	if !strings.Contains(strings.Join(m.PostInstall, "\n"), "rolehop completion powershell") {
		t.Errorf("scoop post_install %q does not say how to turn on PowerShell completion", m.PostInstall)
	}
	for arch, goarch := range map[string]string{"64bit": "amd64", "arm64": "arm64"} {
		a, ok := m.Architecture[arch]
		name := "rolehop_" + d.version + "_windows_" + goarch + ".zip"
		switch {
		case !ok:
			t.Errorf("scoop manifest has no %s architecture", arch)
		case a.URL != releaseURL+d.tag+"/"+name:
			t.Errorf("scoop %s url %s, want %s%s/%s", arch, a.URL, releaseURL, d.tag, name)
		case a.Hash != d.checksums[name]:
			t.Errorf("scoop %s hash %s, checksums.txt %q", arch, a.Hash, d.checksums[name])
		case !slices.Equal(a.Bin, []string{"rolehop.exe"}):
			t.Errorf("scoop %s bin %q", arch, a.Bin)
		}
	}
}

// TestDistWingetManifest: the winget installer manifest points at the
// Windows archives with their checksums and puts rolehop on PATH.
func TestDistWingetManifest(t *testing.T) {
	d := loadDist(t)
	dir := filepath.Join(d.dir, "winget", "manifests", "r", "rolehop", "rolehop", d.version)
	b, err := os.ReadFile(filepath.Join(dir, "rolehop.rolehop.installer.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		PackageIdentifier string `yaml:"PackageIdentifier"`
		PackageVersion    string `yaml:"PackageVersion"`
		InstallerType     string `yaml:"InstallerType"`
		Installers        []struct {
			Architecture         string `yaml:"Architecture"`
			InstallerURL         string `yaml:"InstallerUrl"`
			InstallerSha256      string `yaml:"InstallerSha256"`
			NestedInstallerFiles []struct {
				RelativeFilePath     string `yaml:"RelativeFilePath"`
				PortableCommandAlias string `yaml:"PortableCommandAlias"`
			} `yaml:"NestedInstallerFiles"`
		} `yaml:"Installers"`
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.PackageIdentifier != "rolehop.rolehop" || m.PackageVersion != d.version || m.InstallerType != "zip" {
		t.Errorf("winget manifest %s %s %s, want rolehop.rolehop %s zip", m.PackageIdentifier, m.PackageVersion, m.InstallerType, d.version)
	}
	var archs []string
	for _, in := range m.Installers {
		goarch := map[string]string{"x64": "amd64", "arm64": "arm64"}[in.Architecture]
		name := "rolehop_" + d.version + "_windows_" + goarch + ".zip"
		archs = append(archs, in.Architecture)
		if in.InstallerURL != releaseURL+d.tag+"/"+name || in.InstallerSha256 != d.checksums[name] {
			t.Errorf("winget %s: %s %s, want %s%s/%s %s", in.Architecture, in.InstallerURL, in.InstallerSha256, releaseURL, d.tag, name, d.checksums[name])
		}
		if len(in.NestedInstallerFiles) != 1 || in.NestedInstallerFiles[0].RelativeFilePath != "rolehop.exe" || in.NestedInstallerFiles[0].PortableCommandAlias != "rolehop" {
			t.Errorf("winget %s nested files %+v, want rolehop.exe as rolehop", in.Architecture, in.NestedInstallerFiles)
		}
	}
	if !sameSet(archs, []string{"x64", "arm64"}) {
		t.Errorf("winget architectures %q, want x64 and arm64", archs)
	}
	locale, err := os.ReadFile(filepath.Join(dir, "rolehop.rolehop.locale.en-US.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(locale), "License: Apache-2.0") {
		t.Errorf("winget locale manifest does not name the licence:\n%s", locale)
	}
}

// TestDistDebInstalled installs the .deb for this machine with dpkg -i (as
// CI does: it runs as root on a throwaway machine), then uses it from the
// installed paths: `rolehop version`, `man rolehop-exec`, and the bash, zsh
// and fish completions as each shell finds them. It removes the package
// again at the end.
func TestDistDebInstalled(t *testing.T) {
	d := loadDist(t)
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("installing the .deb needs root (CI runs as root)")
		}
		t.Skip("installing the .deb needs root; CI runs this as root")
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "rolehop").Output(); err == nil && strings.Contains(string(out), "installed") {
		t.Fatalf("a rolehop package is already installed (%s); remove it (dpkg --purge rolehop) before this test installs the snapshot", out)
	}
	var deb string
	for _, p := range d.packages {
		if p.Extra.Format == "deb" && p.Goarch == hostDebArch(t) {
			deb = filepath.Join(d.dir, p.Name)
		}
	}
	if deb == "" {
		t.Fatalf("no .deb for this machine's architecture %s", hostDebArch(t))
	}
	run(t, "dpkg", "-i", deb)
	t.Cleanup(func() {
		if out, err := exec.Command("dpkg", "--purge", "rolehop").CombinedOutput(); err != nil {
			t.Errorf("dpkg --purge rolehop: %v: %s", err, out)
		}
	})

	if out := run(t, "/usr/bin/rolehop", "version"); !strings.Contains(out, d.version) {
		t.Errorf("installed rolehop version says %q, want %s", out, d.version)
	}
	if got := strings.TrimSpace(run(t, "man", "-w", "rolehop-exec")); got != "/usr/share/man/man1/rolehop-exec.1.gz" {
		t.Errorf("man -w rolehop-exec = %q, want the installed page", got)
	}
	man := exec.Command("man", "rolehop-exec")
	man.Env = append(os.Environ(), "MANPAGER=cat", "PAGER=cat", "MANWIDTH=100")
	if out, err := man.Output(); err != nil || !strings.Contains(string(out), "rolehop exec") {
		t.Errorf("man rolehop-exec: %v\n%s", err, out)
	}

	home := t.TempDir()
	shellEnv := []string{"HOME=" + home, "PATH=/usr/bin:/bin", "AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials")}
	want := []string{"exec", "explain", "export"}

	// bash-completion loads /usr/share/bash-completion/completions/rolehop
	// on first use; ask it, then complete `rolehop ex`.
	bash := exec.Command("bash", "--norc", "--noprofile", "-c", `
source /usr/share/bash-completion/bash_completion || exit 1
_completion_loader rolehop
spec=$(complete -p rolehop) || exit 1
fn=${spec#*-F }; fn=${fn%% *}
COMP_WORDS=(rolehop ex); COMP_CWORD=1; COMP_LINE='rolehop ex'; COMP_POINT=${#COMP_LINE}
"$fn" rolehop ex rolehop
printf '%s\n' "${COMPREPLY[@]}"`)
	bash.Env = shellEnv
	checkCompletions(t, "bash", bash, want)

	// zsh: compinit finds _rolehop in Debian's vendor-completions.
	if _, err := exec.LookPath("zsh"); err == nil {
		zsh := exec.Command("zsh", "-fc", `autoload -U compinit && compinit -u -d "$HOME/.zcompdump" && print -r -- ${_comps[rolehop]}`)
		zsh.Env = shellEnv
		if out, err := zsh.Output(); err != nil || strings.TrimSpace(string(out)) != "_rolehop" {
			t.Errorf("zsh does not find the installed completion (compinit: _comps[rolehop] = %q, %v)", out, err)
		}
	} else if os.Getenv("CI") == "true" {
		t.Error("zsh not found (required when CI=true)")
	}

	// fish loads vendor_completions.d itself.
	if _, err := exec.LookPath("fish"); err == nil {
		fish := exec.Command("fish", "-c", "complete -C'rolehop ex'") // HOME is empty: no user config
		fish.Env = shellEnv
		checkCompletions(t, "fish", fish, want)
	} else if os.Getenv("CI") == "true" {
		t.Error("fish not found (required when CI=true)")
	}
}

// checkCompletions runs a shell that prints candidates, one per line
// (fish adds a tab and a description), and wants exactly these.
func checkCompletions(t *testing.T, shell string, cmd *exec.Cmd, want []string) {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Errorf("%s completion: %v: %s", shell, err, stderr.String())
		return
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if word, _, _ := strings.Cut(line, "\t"); word != "" {
			got = append(got, strings.TrimSpace(word))
		}
	}
	if !sameSet(got, want) {
		t.Errorf("%s completes `rolehop ex` with %q, want %q", shell, got, want)
	}
}

// hostDebArch is this machine's Debian architecture.
func hostDebArch(t *testing.T) string {
	return strings.TrimSpace(run(t, "dpkg", "--print-architecture"))
}
