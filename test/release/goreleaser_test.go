// Package release checks the release configuration without building
// goreleaser: .goreleaser.yaml builds the six targets the way the README
// promises, and names archives and checksums exactly as the GitHub Action's
// install script (action/install.sh) downloads them.
package release

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template"

	"gopkg.in/yaml.v3"
)

// goreleaser is the part of the goreleaser v2 schema this test reads.
type goreleaser struct {
	Version     int    `yaml:"version"`
	ProjectName string `yaml:"project_name"`
	Builds      []struct {
		ID      string   `yaml:"id"`
		Main    string   `yaml:"main"`
		Binary  string   `yaml:"binary"`
		Env     []string `yaml:"env"`
		Goos    []string `yaml:"goos"`
		Goarch  []string `yaml:"goarch"`
		Ignore  []any    `yaml:"ignore"`
		Flags   []string `yaml:"flags"`
		Ldflags []string `yaml:"ldflags"`
	} `yaml:"builds"`
	Archives []struct {
		IDs             []string `yaml:"ids"`
		Formats         []string `yaml:"formats"`
		FormatOverrides []struct {
			Goos    string   `yaml:"goos"`
			Formats []string `yaml:"formats"`
		} `yaml:"format_overrides"`
		NameTemplate string        `yaml:"name_template"`
		Files        []archiveFile `yaml:"files"`
		WrapInDir    any           `yaml:"wrap_in_directory"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
}

// archiveFile is an entry of an archive's files: a bare glob, or src and
// dst (with strip_parent, which this test does not compare).
type archiveFile struct {
	Src string `yaml:"src"`
	Dst string `yaml:"dst"`
}

// UnmarshalYAML accepts both forms.
func (f *archiveFile) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		f.Src = n.Value
		return nil
	}
	type plain archiveFile
	return n.Decode((*plain)(f))
}

// versionVar is the variable the release ldflags set.
const (
	versionPkg = "github.com/rolehop/rolehop/internal/buildinfo"
	versionVar = versionPkg + ".Version"
)

func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	return dir
}

func load(t *testing.T) goreleaser {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root(t), ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var g goreleaser
	if err := yaml.Unmarshal(raw, &g); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	return g
}

// targets are the six release platforms: goreleaser's names and the
// GitHub runner's (RUNNER_OS, RUNNER_ARCH).
var targets = []struct{ goos, goarch, runnerOS, runnerArch, format string }{
	{"linux", "amd64", "Linux", "X64", "tar.gz"},
	{"linux", "arm64", "Linux", "ARM64", "tar.gz"},
	{"darwin", "amd64", "macOS", "X64", "tar.gz"},
	{"darwin", "arm64", "macOS", "ARM64", "tar.gz"},
	{"windows", "amd64", "Windows", "X64", "zip"},
	{"windows", "arm64", "Windows", "ARM64", "zip"},
}

func TestGoreleaserBuild(t *testing.T) {
	g := load(t)
	if g.Version != 2 {
		t.Errorf("version: %d, want 2 (goreleaser v2 schema)", g.Version)
	}
	if len(g.Builds) != 1 {
		t.Fatalf("%d builds, want 1", len(g.Builds))
	}
	b := g.Builds[0]
	if b.Main != "./cmd/rolehop" || b.Binary != "rolehop" {
		t.Errorf("main %q binary %q, want ./cmd/rolehop and rolehop", b.Main, b.Binary)
	}
	if !slices.Contains(b.Env, "CGO_ENABLED=0") {
		t.Errorf("env %q lacks CGO_ENABLED=0", b.Env)
	}
	for _, e := range b.Env {
		if strings.HasPrefix(e, "CGO_ENABLED=") && e != "CGO_ENABLED=0" {
			t.Errorf("env sets %s", e)
		}
	}
	var goos, goarch []string
	for _, tg := range targets {
		if !slices.Contains(goos, tg.goos) {
			goos = append(goos, tg.goos)
		}
		if !slices.Contains(goarch, tg.goarch) {
			goarch = append(goarch, tg.goarch)
		}
	}
	if !sameSet(b.Goos, goos) || !sameSet(b.Goarch, goarch) || len(b.Ignore) > 0 {
		t.Errorf("goos %q goarch %q ignore %v, want %q × %q, nothing ignored", b.Goos, b.Goarch, b.Ignore, goos, goarch)
	}
	if !slices.Contains(b.Flags, "-trimpath") {
		t.Errorf("flags %q lack -trimpath", b.Flags)
	}
	fields := strings.Fields(strings.Join(b.Ldflags, " "))
	for _, want := range []string{"-s", "-w"} {
		if !slices.Contains(fields, want) {
			t.Errorf("ldflags %q lack %s", b.Ldflags, want)
		}
	}
	i := slices.Index(fields, "-X")
	if i < 0 || i+1 >= len(fields) || fields[i+1] != versionVar+"={{.Version}}" {
		t.Errorf("ldflags %q lack -X %s={{.Version}}", b.Ldflags, versionVar)
	}
}

// TestVersionVariable: -X silently does nothing when the variable does
// not exist or is not a string variable, so check that it is one.
func TestVersionVariable(t *testing.T) {
	dir := filepath.Join(root(t), filepath.FromSlash(strings.TrimPrefix(versionPkg, "github.com/rolehop/rolehop/")))
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("%s: no Go files in %s (%v)", versionPkg, dir, err)
	}
	found := false
	fset := token.NewFileSet()
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, vs := range packageVars(f) {
			for i, n := range vs.Names {
				if n.Name != "Version" {
					continue
				}
				found = true
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "string" {
					t.Errorf("%s is not declared as a string", versionVar)
				}
				if i < len(vs.Values) {
					if _, ok := vs.Values[i].(*ast.BasicLit); !ok {
						t.Errorf("%s is initialized with an expression; -X only overrides an uninitialized or constant string", versionVar)
					}
				}
			}
		}
	}
	if !found {
		t.Errorf("no package-level var Version in %s: the release ldflags -X %s would set nothing", versionPkg, versionVar)
	}
}

// packageVars lists the package-level var specs of f.
func packageVars(f *ast.File) []*ast.ValueSpec {
	var out []*ast.ValueSpec
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.VAR {
			for _, s := range gd.Specs {
				out = append(out, s.(*ast.ValueSpec))
			}
		}
	}
	return out
}

func TestGoreleaserArchivesMatchInstallScript(t *testing.T) {
	g := load(t)
	if len(g.Archives) != 1 {
		t.Fatalf("%d archives, want 1", len(g.Archives))
	}
	a := g.Archives[0]
	if len(g.Builds) == 1 && (len(a.IDs) != 1 || a.IDs[0] != g.Builds[0].ID) {
		t.Errorf("archive ids %q, want [%q]", a.IDs, g.Builds[0].ID)
	}
	if a.WrapInDir != nil && a.WrapInDir != false {
		t.Errorf("wrap_in_directory %v: install.sh expects the binary at the archive's top", a.WrapInDir)
	}
	for _, f := range []archiveFile{{Src: "LICENSE*"}, {Src: "README*"}, {Src: "docs/man/*.1", Dst: "man"}, {Src: "build/completions/*", Dst: "completions"}} {
		if !slices.Contains(a.Files, f) {
			t.Errorf("archive files %+v lack %+v", a.Files, f)
		}
	}
	if g.Checksum.NameTemplate != "checksums.txt" || g.Checksum.Algorithm != "sha256" {
		t.Errorf("checksum %+v, want checksums.txt with sha256", g.Checksum)
	}
	tmpl, err := template.New("name").Option("missingkey=error").Parse(a.NameTemplate)
	if err != nil {
		t.Fatalf("name_template: %v", err)
	}

	bash, err := exec.LookPath("bash")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("bash not found (required when CI=true)")
		}
		t.Skip("bash not found: cannot run action/install.sh")
	}
	script := filepath.Join(root(t), "action", "install.sh")
	const version = "1.2.3"
	for _, tg := range targets {
		format := a.Formats
		for _, o := range a.FormatOverrides {
			if o.Goos == tg.goos {
				format = o.Formats
			}
		}
		if len(format) != 1 || format[0] != tg.format {
			t.Errorf("%s/%s: formats %q, want [%s]", tg.goos, tg.goarch, format, tg.format)
			continue
		}
		var name strings.Builder
		if err := tmpl.Execute(&name, map[string]string{"Version": version, "Os": tg.goos, "Arch": tg.goarch, "ProjectName": g.ProjectName}); err != nil {
			t.Fatalf("name_template: %v", err)
		}
		want := name.String() + "." + format[0]
		if want != "rolehop_"+version+"_"+tg.goos+"_"+tg.goarch+"."+tg.format {
			t.Errorf("goreleaser names the %s/%s archive %s", tg.goos, tg.goarch, want)
		}

		// What install.sh asks for on this runner.
		cmd := exec.Command(bash, "-c", `source "$1" && platform && asset_name "$2" && printf '%s\n' "$checksums_name"`, "bash", script, version)
		cmd.Env = append(os.Environ(), "RUNNER_OS="+tg.runnerOS, "RUNNER_ARCH="+tg.runnerArch)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("install.sh on %s/%s: %v: %s", tg.runnerOS, tg.runnerArch, err, out)
		}
		got := strings.Fields(string(out))
		if len(got) != 2 || got[0] != want || got[1] != g.Checksum.NameTemplate {
			t.Errorf("runner %s/%s: install.sh downloads %q, goreleaser publishes [%s %s]", tg.runnerOS, tg.runnerArch, got, want, g.Checksum.NameTemplate)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestLicense: the repository carries the Apache License 2.0 at its root,
// where the archives' LICENSE* pattern finds it.
func TestLicense(t *testing.T) {
	b, err := os.ReadFile("../../LICENSE")
	if err != nil {
		t.Fatalf("no LICENSE at the repository root: %v", err)
	}
	for _, want := range []string{"Apache License", "Version 2.0, January 2004", "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION", "END OF TERMS AND CONDITIONS"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("LICENSE lacks %q: not the Apache License 2.0 text", want)
		}
	}
}
