//go:build unix

package e2e

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"
)

// The GitHub Action (action.yml, action/*.sh) is tested by running its
// steps the way the runner does — expressions substituted, each run: in its
// shell with its env:, file commands read back — against a release server
// serving real archives, moto behind the recording proxy, and the AWS CLI.

// actionSpec is the part of action.yml the runner reads for a composite
// action.
type actionSpec struct {
	Name   string `yaml:"name"`
	Inputs map[string]struct {
		Required bool   `yaml:"required"`
		Default  string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

type actionStep struct {
	ID    string            `yaml:"id"`
	Name  string            `yaml:"name"`
	If    string            `yaml:"if"`
	Uses  string            `yaml:"uses"`
	Shell string            `yaml:"shell"`
	Run   string            `yaml:"run"`
	Env   map[string]string `yaml:"env"`
}

// stepResult is one step's run.
type stepResult struct {
	ID      string
	Res     Result
	EnvFile string            // what the step wrote to GITHUB_ENV
	Outputs map[string]string // what it wrote to GITHUB_OUTPUT
}

// actionRun is the outcome of running the action's steps.
type actionRun struct {
	Steps      []stepResult // the steps that ran, in order; a failed one is last
	Path       []string     // every GITHUB_PATH line
	Outputs    map[string]string
	RunnerTemp string
}

func (a actionRun) step(t *testing.T, id string) stepResult {
	t.Helper()
	for _, s := range a.Steps {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("step %q did not run (ran: %d steps)", id, len(a.Steps))
	return stepResult{}
}

func (a actionRun) ran(id string) bool {
	for _, s := range a.Steps {
		if s.ID == id {
			return true
		}
	}
	return false
}

// succeeded fails the test unless every step exited 0.
func (a actionRun) succeeded(t *testing.T, spec actionSpec) {
	t.Helper()
	for _, s := range a.Steps {
		if s.Res.Code != 0 {
			t.Fatalf("step %s failed: %s", s.ID, s.Res)
		}
	}
	if len(a.Steps) != len(spec.Runs.Steps) {
		t.Fatalf("%d of %d steps ran", len(a.Steps), len(spec.Runs.Steps))
	}
}

// loadAction parses action.yml at the repository root.
func loadAction(t *testing.T) (actionSpec, string) {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var spec actionSpec
	if err := yaml.Unmarshal(raw, &spec); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if spec.Runs.Using != "composite" || len(spec.Runs.Steps) == 0 {
		t.Fatalf("action.yml: runs.using %q with %d steps, want a composite action", spec.Runs.Using, len(spec.Runs.Steps))
	}
	return spec, root
}

var exprRe = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// runner holds what the emulated runner substitutes for expressions.
type runner struct {
	t          *testing.T
	spec       actionSpec
	actionPath string
	inputs     map[string]string
	temp       string
	platform   platform
	steps      map[string]map[string]string
}

// platform is a runner's RUNNER_OS and RUNNER_ARCH and goreleaser's names
// for them.
type platform struct{ RunnerOS, RunnerArch, GOOS, GOARCH string }

var linuxX64 = platform{"Linux", "X64", "linux", "amd64"}

// eval substitutes every ${{ … }} in s. Only the expressions the runner
// would resolve the same way are supported; anything else fails the test,
// so action.yml cannot depend on something this emulation gets wrong.
func (r *runner) eval(s string) string {
	return exprRe.ReplaceAllStringFunc(s, func(m string) string {
		expr := exprRe.FindStringSubmatch(m)[1]
		switch {
		case strings.HasPrefix(expr, "inputs."):
			name := strings.TrimPrefix(expr, "inputs.")
			in, ok := r.spec.Inputs[name]
			if !ok {
				r.t.Fatalf("action.yml uses undeclared input %q", name)
			}
			if v, ok := r.inputs[name]; ok {
				return v
			}
			return in.Default
		case expr == "github.action_path":
			return r.actionPath
		case expr == "runner.temp":
			return r.temp
		case expr == "runner.os":
			return r.platform.RunnerOS
		case expr == "runner.arch":
			return r.platform.RunnerArch
		case strings.HasPrefix(expr, "steps."):
			parts := strings.Split(expr, ".")
			if len(parts) != 4 || parts[2] != "outputs" {
				r.t.Fatalf("action.yml: unsupported expression %q", expr)
			}
			return r.steps[parts[1]][parts[3]]
		}
		r.t.Fatalf("action.yml: expression %q is not emulated by this test", expr)
		return ""
	})
}

// runAction runs the action's steps on a Linux X64 runner (runActionOn).
func runAction(t *testing.T, env *TestEnv, inputs map[string]string) actionRun {
	t.Helper()
	return runActionOn(t, env, linuxX64, inputs)
}

// runnerTemp is the RUNNER_TEMP runActionOn gives the steps.
func runnerTemp(env *TestEnv) string { return filepath.Join(env.Dir, "runner", "temp") }

// runActionOn runs the action's steps on a p runner with RUNNER_TEMP
// runnerTemp(env) (runActionIn).
func runActionOn(t *testing.T, env *TestEnv, p platform, inputs map[string]string) actionRun {
	t.Helper()
	return runActionIn(t, env, p, runnerTemp(env), inputs)
}

// runActionIn runs the action's steps with the test's environment as the
// job's, plus RUNNER_OS and RUNNER_ARCH of p, RUNNER_TEMP temp (created if
// missing) and fresh GITHUB_ENV, GITHUB_PATH and GITHUB_OUTPUT files per
// step (under env.Dir/runner/files), as the runner does: variables and
// PATH entries a step writes reach the later steps; the first failing step
// ends the run.
func runActionIn(t *testing.T, env *TestEnv, p platform, temp string, inputs map[string]string) actionRun {
	t.Helper()
	spec, root := loadAction(t)
	for name := range inputs {
		if _, ok := spec.Inputs[name]; !ok {
			t.Fatalf("action.yml has no input %q", name)
		}
	}
	r := &runner{t: t, spec: spec, actionPath: root, inputs: inputs, platform: p,
		temp: temp, steps: map[string]map[string]string{}}
	files := filepath.Join(env.Dir, "runner", "files")
	for _, d := range []string{r.temp, files} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	jobEnv := map[string]string{}
	var path []string
	out := actionRun{RunnerTemp: r.temp}
	for i, st := range spec.Runs.Steps {
		if st.If != "" || st.Uses != "" || st.Shell != "bash" || st.Run == "" {
			t.Fatalf("step %d (%s): only `shell: bash` run steps without if: are emulated", i, st.ID)
		}
		name := func(kind string) string {
			p := filepath.Join(files, fmt.Sprintf("%s_%d", kind, i))
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}
		envFile, pathFile, outputFile := name("set_env"), name("add_path"), name("set_output")
		script := filepath.Join(files, fmt.Sprintf("step_%d.sh", i))
		if err := os.WriteFile(script, []byte(r.eval(st.Run)), 0o600); err != nil {
			t.Fatal(err)
		}

		extra := []string{
			"RUNNER_OS=" + p.RunnerOS, "RUNNER_ARCH=" + p.RunnerArch, "RUNNER_TEMP=" + r.temp,
			"GITHUB_ENV=" + envFile, "GITHUB_PATH=" + pathFile, "GITHUB_OUTPUT=" + outputFile,
			"GITHUB_ACTION_PATH=" + root, "GITHUB_ACTIONS=true", "GITHUB_WORKSPACE=" + env.Dir,
		}
		for k, v := range jobEnv {
			extra = append(extra, k+"="+v)
		}
		if len(path) > 0 {
			p := env.Get("PATH")
			for _, dir := range path {
				p = dir + string(os.PathListSeparator) + p
			}
			extra = append(extra, "PATH="+p)
		}
		for k, v := range st.Env {
			extra = append(extra, k+"="+r.eval(v))
		}
		res := env.RunCmdWith(t, extra, "bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		sr := stepResult{ID: st.ID, Res: res, EnvFile: readFile(t, envFile), Outputs: parseFileCommand(t, "GITHUB_OUTPUT", readFile(t, outputFile))}
		out.Steps = append(out.Steps, sr)
		r.steps[st.ID] = sr.Outputs
		for k, v := range parseFileCommand(t, "GITHUB_ENV", sr.EnvFile) {
			jobEnv[k] = v
		}
		for _, l := range strings.Split(readFile(t, pathFile), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				path = append(path, l)
				out.Path = append(out.Path, l)
			}
		}
		if res.Code != 0 {
			return out
		}
	}
	out.Outputs = map[string]string{}
	for name, o := range spec.Outputs {
		out.Outputs[name] = r.eval(o.Value)
	}
	return out
}

// envEntry is one variable of a GITHUB_ENV/GITHUB_OUTPUT file.
type envEntry struct {
	Name, Value string
	Heredoc     bool
}

// parseFileCommandEntries reads a GITHUB_ENV or GITHUB_OUTPUT file as the
// runner does: NAME=VALUE lines, or NAME<<DELIMITER, the value's lines, and
// a line that is exactly DELIMITER; blank lines are skipped.
func parseFileCommandEntries(t *testing.T, what, content string) []envEntry {
	t.Helper()
	var out []envEntry
	lines := strings.Split(content, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		eq, hd := strings.Index(line, "="), strings.Index(line, "<<")
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			out = append(out, envEntry{Name: line[:eq], Value: line[eq+1:]})
		case hd >= 0:
			name, delim := line[:hd], line[hd+2:]
			if name == "" || delim == "" {
				t.Fatalf("%s line %d: invalid heredoc header %q", what, i+1, line)
			}
			var value []string
			closed := false
			for i++; i < len(lines); i++ {
				if lines[i] == delim {
					closed = true
					break
				}
				value = append(value, lines[i])
			}
			if !closed {
				t.Fatalf("%s: heredoc for %s is not closed by %q", what, name, delim)
			}
			out = append(out, envEntry{Name: name, Value: strings.Join(value, "\n"), Heredoc: true})
		default:
			t.Fatalf("%s line %d: invalid format %q", what, i+1, line)
		}
	}
	return out
}

func parseFileCommand(t *testing.T, what, content string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, e := range parseFileCommandEntries(t, what, content) {
		m[e.Name] = e.Value
	}
	return m
}

// requireActionTools checks the programs the action's scripts use; like
// the harness, a missing one fails the test with CI=true.
func requireActionTools(t *testing.T) {
	t.Helper()
	requireRolehop(t)
	var missing []string
	for _, tool := range []string{"bash", "curl", "tar", "gzip", "mktemp"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if _, err := exec.LookPath("sha256sum"); err != nil {
		if _, err := exec.LookPath("shasum"); err != nil {
			missing = append(missing, "sha256sum or shasum")
		}
	}
	if len(missing) > 0 {
		msg := "action tests need " + strings.Join(missing, ", ")
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (required when CI=true)", msg)
		}
		t.Skip(msg)
	}
}

// goreleaserArchive is the archive name .goreleaser.yaml gives a target:
// its name_template rendered plus the format (overridden per OS).
func goreleaserArchive(t *testing.T, version, goos, goarch string) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Archives []struct {
			NameTemplate    string   `yaml:"name_template"`
			Formats         []string `yaml:"formats"`
			FormatOverrides []struct {
				Goos    string   `yaml:"goos"`
				Formats []string `yaml:"formats"`
			} `yaml:"format_overrides"`
		} `yaml:"archives"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(root, ".goreleaser.yaml"))), &cfg); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if len(cfg.Archives) != 1 || len(cfg.Archives[0].Formats) != 1 {
		t.Fatalf(".goreleaser.yaml: want one archive with one format, got %+v", cfg.Archives)
	}
	a := cfg.Archives[0]
	format := a.Formats[0]
	for _, o := range a.FormatOverrides {
		if o.Goos == goos && len(o.Formats) == 1 {
			format = o.Formats[0]
		}
	}
	tmpl, err := template.New("name").Option("missingkey=error").Parse(a.NameTemplate)
	if err != nil {
		t.Fatalf(".goreleaser.yaml name_template: %v", err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, map[string]string{"Version": version, "Os": goos, "Arch": goarch}); err != nil {
		t.Fatalf(".goreleaser.yaml name_template: %v", err)
	}
	return b.String() + "." + format
}

// releaseServer serves one release like GitHub does, under
// /releases/download/v<version>/ and /releases/latest/download/, over
// HTTPS (install.sh downloads nothing else): call trust so that the
// action's curl accepts its certificate.
type releaseServer struct {
	URL      string // https://…; pass URL + "/releases/download" as release-url
	CABundle string // PEM file of the server's certificate
	Archive  string // the archive's name
	Exe      string // the binary's name in it: rolehop, or rolehop.exe
	Binary   []byte // the rolehop binary inside it
	mu       sync.Mutex
	requests []string
}

// trust makes curl in env's commands trust the server's certificate, with
// curl's own CURL_CA_BUNDLE variable: HTTPS stays on, as on a runner.
func (s *releaseServer) trust(env *TestEnv) { env.Set("CURL_CA_BUNDLE", s.CABundle) }

// newTLSServer starts an HTTPS test server for h and writes its
// certificate to a PEM file for CURL_CA_BUNDLE.
func newTLSServer(t *testing.T, h http.Handler) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "release-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, ca
}

func (s *releaseServer) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// newReleaseServer serves a release for linux/amd64 (newReleaseServerFor).
func newReleaseServer(t *testing.T, version string, tamper bool) *releaseServer {
	t.Helper()
	return newReleaseServerFor(t, version, linuxX64, tamper)
}

// newReleaseServerFor packs the harness's rolehop as p's archive of
// version (goreleaser's name and layout: the binary — rolehop.exe on
// windows, in a zip — and README.md at the top) and writes checksums.txt,
// which also lists other platforms' archives. With tamper, the served
// archive differs by one byte from the one checksums.txt describes.
func newReleaseServerFor(t *testing.T, version string, p platform, tamper bool) *releaseServer {
	t.Helper()
	bin, err := os.ReadFile(requireRolehop(t))
	if err != nil {
		t.Fatal(err)
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, _ := os.ReadFile(filepath.Join(root, "README.md"))

	s := &releaseServer{Archive: goreleaserArchive(t, version, p.GOOS, p.GOARCH), Exe: "rolehop", Binary: bin}
	if p.GOOS == "windows" {
		s.Exe = "rolehop.exe"
	}
	members := []archiveMember{{"README.md", 0o644, readme}, {s.Exe, 0o755, bin}}
	var archive []byte
	if strings.HasSuffix(s.Archive, ".zip") {
		archive = zipArchive(t, members)
	} else {
		archive = tarGzArchive(t, members)
	}
	sum := sha256.Sum256(archive)

	// Every other platform's archive is listed too (with a made-up sum), as
	// in a real release, and they are all sorted by name like goreleaser's.
	lines := []string{fmt.Sprintf("%x  %s", sum, s.Archive)}
	for _, goos := range []string{"darwin", "linux", "windows"} {
		for _, goarch := range []string{"amd64", "arm64"} {
			if name := goreleaserArchive(t, version, goos, goarch); name != s.Archive {
				lines = append(lines, fmt.Sprintf("%x  %s", sha256.Sum256([]byte(name)), name))
			}
		}
	}
	slices.SortFunc(lines, func(a, b string) int { return strings.Compare(a[66:], b[66:]) })
	checksums := strings.Join(lines, "\n") + "\n"
	if tamper {
		archive = append([]byte(nil), archive...)
		archive[len(archive)/2] ^= 0x01
	}
	files := map[string][]byte{"checksums.txt": []byte(checksums), s.Archive: archive}

	srv, ca := newTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.URL.Path)
		s.mu.Unlock()
		dir, file := filepath.Split(r.URL.Path)
		if dir != "/releases/download/v"+version+"/" && dir != "/releases/latest/download/" {
			http.NotFound(w, r)
			return
		}
		data, ok := files[file]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(data)
	}))
	s.URL, s.CABundle = srv.URL, ca
	return s
}

// archiveMember is one file of a release archive.
type archiveMember struct {
	name string
	mode int64
	data []byte
}

func tarGzArchive(t *testing.T, members []archiveMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range members {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: time.Unix(1700000000, 0), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipArchive(t *testing.T, members []archiveMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range members {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: time.Unix(1700000000, 0)}
		h.SetMode(os.FileMode(f.mode))
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// exported checks the assume step's GITHUB_ENV block — every credential
// variable in heredoc form — and its ::add-mask:: lines, and returns the
// variables.
func exported(t *testing.T, step stepResult) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, e := range parseFileCommandEntries(t, "GITHUB_ENV", step.EnvFile) {
		if !e.Heredoc {
			t.Errorf("GITHUB_ENV: %s is not in heredoc form", e.Name)
		}
		vars[e.Name] = e.Value
	}
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION"} {
		if vars[name] == "" {
			t.Fatalf("GITHUB_ENV lacks %s:\n%s", name, step.EnvFile)
		}
	}
	masks := map[string]bool{}
	for _, l := range strings.Split(step.Res.Stdout, "\n") {
		if v, ok := strings.CutPrefix(l, "::add-mask::"); ok {
			masks[v] = true
		}
	}
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if !masks[vars[name]] {
			t.Errorf("stdout has no ::add-mask:: line for %s:\n%s", name, step.Res.Stdout)
		}
	}
	if i, j := strings.Index(step.Res.Stdout, "::add-mask::"), strings.Index(step.Res.Stdout, "Assumed "); i < 0 || j < i {
		t.Errorf("the masks must come first on stdout:\n%s", step.Res.Stdout)
	}
	return vars
}

// assertActionLeaksNothing: no secret (or OIDC token) appears in any step's
// stdout other than ::add-mask:: lines, in stderr, or in the outputs.
func assertActionLeaksNothing(t *testing.T, env *TestEnv, run actionRun, extra ...string) {
	t.Helper()
	secrets := append(secretsOf(env), extra...)
	for _, s := range run.Steps {
		var stdout []string
		for _, l := range strings.Split(s.Res.Stdout, "\n") {
			if !strings.HasPrefix(l, "::add-mask::") {
				stdout = append(stdout, l)
			}
		}
		assertNoSecrets(t, s.ID+" stdout", strings.Join(stdout, "\n"), secrets)
		assertNoSecrets(t, s.ID+" stderr", s.Res.Stderr, secrets)
		assertNoSecrets(t, s.ID+" outputs", fmt.Sprint(s.Outputs), secrets)
	}
}

// callerWith runs `aws sts get-caller-identity` with the exported
// credentials in place of the job's, as a later step would.
func callerWith(t *testing.T, env *TestEnv, vars map[string]string) Identity {
	t.Helper()
	extra := []string{"AWS_ACCESS_KEY_ID=" + vars["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY=" + vars["AWS_SECRET_ACCESS_KEY"], "AWS_SESSION_TOKEN=" + vars["AWS_SESSION_TOKEN"]}
	res := env.RunCmdWith(t, extra, awsBin, "sts", "get-caller-identity", "--output", "json")
	if res.Code != 0 {
		t.Fatalf("aws sts get-caller-identity with the exported credentials failed: %s", res)
	}
	return parseIdentity(t, res.Stdout)
}

// assertInstalled checks that rolehop came from the release archive: the
// path output is the archive's binary, under RUNNER_TEMP, on GITHUB_PATH.
func assertInstalled(t *testing.T, run actionRun, rel *releaseServer, version string) {
	t.Helper()
	install := run.step(t, "install")
	bin := install.Outputs["path"]
	if !strings.HasPrefix(bin, run.RunnerTemp+string(os.PathSeparator)) || filepath.Base(bin) != rel.Exe {
		t.Fatalf("install output path=%q, want %s under RUNNER_TEMP %s", bin, rel.Exe, run.RunnerTemp)
	}
	got, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, rel.Binary) {
		t.Errorf("installed %s is not the archive's binary", bin)
	}
	if fi, err := os.Stat(bin); err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("installed %s is not executable: %v %v", bin, fi.Mode(), err)
	}
	if len(run.Path) != 1 || run.Path[0] != filepath.Dir(bin) {
		t.Errorf("GITHUB_PATH = %q, want [%q]", run.Path, filepath.Dir(bin))
	}
	if install.Outputs["version"] != version {
		t.Errorf("install output version=%q, want %q", install.Outputs["version"], version)
	}
	if !strings.Contains(install.Res.Stdout, rel.Archive) || !strings.Contains(install.Res.Stdout, "verified") {
		t.Errorf("install step does not report the verified archive %s: %q", rel.Archive, install.Res.Stdout)
	}
	if run.Outputs["rolehop-path"] != bin {
		t.Errorf("action output rolehop-path=%q, want %q", run.Outputs["rolehop-path"], bin)
	}
}

// wantActionError asserts that the step failed with exactly one ::error::
// line (on stdout or stderr) containing every fragment.
func wantActionError(t *testing.T, step stepResult, fragments ...string) {
	t.Helper()
	if step.Res.Code == 0 {
		t.Fatalf("step %s succeeded, want a failure: %s", step.ID, step.Res)
	}
	var errs []string
	for _, l := range strings.Split(step.Res.Stdout+"\n"+step.Res.Stderr, "\n") {
		if strings.HasPrefix(l, "::error::") {
			errs = append(errs, l)
		}
	}
	if len(errs) != 1 {
		t.Fatalf("step %s printed %d ::error:: lines, want 1: %s", step.ID, len(errs), step.Res)
	}
	for _, f := range fragments {
		if !strings.Contains(strings.ToLower(errs[0]), strings.ToLower(f)) {
			t.Errorf("error %q does not mention %q", errs[0], f)
		}
	}
}

// TestActionAccessKeysChain: seed 004 in GitHub Actions — ci-user's keys in
// the environment (and a job-wide AWS_PROFILE naming another role profile,
// the pitfall) — the action installs rolehop 1.2.3 from the release,
// assumes dev then prod with -u, a duration and an external id, and
// exports prod's credentials. OIDC variables are present too, but the keys
// win in auto mode.
func TestActionAccessKeysChain(t *testing.T) {
	t.Parallel()
	requireActionTools(t)
	env := newTestEnv(t)
	seed := seedAccounts(t)
	useEnvKeys(env, seed.CIUser)
	env.WriteConfig(`
		[profile audit]
		role_arn = ` + auditRoleARN + `
		credential_source = Environment
	`)
	env.Set("AWS_PROFILE", "audit")
	oidc := newGitHubOIDC(t, "request-token-123")
	env.Set("ACTIONS_ID_TOKEN_REQUEST_URL", oidc.URL)
	env.Set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token-123")
	rel := newReleaseServer(t, "1.2.3", false)
	rel.trust(env)

	start := time.Now()
	run := runAction(t, env, map[string]string{
		"version":          "v1.2.3",
		"release-url":      rel.URL + "/releases/download",
		"role-arn":         devRoleARN + ",\n  " + prodRoleARN + "\n",
		"username-session": "true",
		"duration":         "1800",
		"region":           "eu-west-1",
		"external-id":      "ext-7",
	})
	spec, _ := loadAction(t)
	run.succeeded(t, spec)

	if got, want := rel.Requests(), []string{"/releases/download/v1.2.3/checksums.txt", "/releases/download/v1.2.3/" + rel.Archive}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("release downloads %q, want %q", got, want)
	}
	assertInstalled(t, run, rel, "1.2.3")

	vars := exported(t, run.step(t, "assume"))
	if vars["AWS_ACCESS_KEY_ID"] == seed.CIUser.AccessKeyID {
		t.Fatalf("GITHUB_ENV holds ci-user's own key, not the role's")
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if vars[k] != "eu-west-1" {
			t.Errorf("GITHUB_ENV %s=%q, want eu-west-1", k, vars[k])
		}
	}
	exp, err := time.Parse(time.RFC3339, vars["AWS_CREDENTIAL_EXPIRATION"])
	if err != nil {
		t.Fatalf("AWS_CREDENTIAL_EXPIRATION %q: %v", vars["AWS_CREDENTIAL_EXPIRATION"], err)
	}
	if d := exp.Sub(start); d < 1700*time.Second || d > 1900*time.Second+time.Since(start) {
		t.Errorf("credentials expire %s after the start, want about 1800 s", d.Round(time.Second))
	}

	want := assumedARN(prodAccount, "prod", ciUserName)
	if id := callerWith(t, env, vars); id.Arn != want {
		t.Fatalf("aws sts get-caller-identity with the exported credentials: %q, want %q", id.Arn, want)
	}
	if run.Outputs["arn"] != want || run.Outputs["aws-account-id"] != prodAccount {
		t.Errorf("outputs arn=%q aws-account-id=%q, want %q and %q", run.Outputs["arn"], run.Outputs["aws-account-id"], want, prodAccount)
	}

	// export and whoami share the action's private cache: one AssumeRole
	// per hop, with the inputs on the right hop.
	calls := mustCalls(t, env.Proxy, "AssumeRole", 2)
	wantParam(t, calls[0], "RoleArn", devRoleARN)
	wantParam(t, calls[0], "RoleSessionName", ciUserName)
	wantParam(t, calls[0], "DurationSeconds", "3600")
	noParam(t, calls[0], "ExternalId")
	if calls[0].AccessKeyID != seed.CIUser.AccessKeyID {
		t.Errorf("hop 1 signed with %q, want ci-user's key (AWS_PROFILE must not redirect it)", calls[0].AccessKeyID)
	}
	wantParam(t, calls[1], "RoleArn", prodRoleARN)
	wantParam(t, calls[1], "RoleSessionName", ciUserName)
	wantParam(t, calls[1], "DurationSeconds", "1800")
	wantParam(t, calls[1], "ExternalId", "ext-7")
	mustCalls(t, env.Proxy, "AssumeRoleWithWebIdentity", 0)
	if oidc.asked.Load() != 0 {
		t.Errorf("the OIDC endpoint was asked %d times; access keys come first in auto mode", oidc.asked.Load())
	}
	if entries, _ := os.ReadDir(run.RunnerTemp); len(entries) != 1 || entries[0].Name() != "rolehop" {
		t.Errorf("RUNNER_TEMP holds %v, want only the rolehop install (no download or cache left)", entries)
	}
	assertActionLeaksNothing(t, env, run, "request-token-123")
}

// TestActionOIDC: with `permissions: id-token: write` and no keys, the
// action installs the latest release and assumes the role with GitHub's
// OIDC token; a job-wide AWS_PROFILE does not divert it.
func TestActionOIDC(t *testing.T) {
	t.Parallel()
	requireActionTools(t)
	env := newTestEnv(t)
	seedAccounts(t)
	env.WriteConfig(`
		[profile audit]
		role_arn = ` + auditRoleARN + `
		credential_source = Environment
	`)
	env.Set("AWS_PROFILE", "audit")
	oidc := newGitHubOIDC(t, "request-token-456")
	env.Set("ACTIONS_ID_TOKEN_REQUEST_URL", oidc.URL)
	env.Set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token-456")
	env.Set("GITHUB_RUN_ID", "555")
	rel := newReleaseServer(t, "1.2.3", false)
	rel.trust(env)

	run := runAction(t, env, map[string]string{
		"release-url":       rel.URL + "/releases/download",
		"role-arn":          devRoleARN,
		"role-session-name": "deploy-42",
		"duration":          "7200",
	})
	spec, _ := loadAction(t)
	run.succeeded(t, spec)

	if got, want := rel.Requests(), []string{"/releases/latest/download/checksums.txt", "/releases/latest/download/" + rel.Archive}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("release downloads %q, want %q", got, want)
	}
	assertInstalled(t, run, rel, "1.2.3")

	assume := run.step(t, "assume")
	vars := exported(t, assume)
	if !strings.Contains(assume.Res.Stdout, "::warning::duration is not applied") {
		t.Errorf("no ::warning:: that duration does not apply to the OIDC role: %s", assume.Res)
	}
	want := assumedARN(devAccount, "dev", "deploy-42")
	if id := callerWith(t, env, vars); id.Arn != want {
		t.Fatalf("aws sts get-caller-identity with the exported credentials: %q, want %q", id.Arn, want)
	}
	if run.Outputs["arn"] != want || run.Outputs["aws-account-id"] != devAccount {
		t.Errorf("outputs arn=%q aws-account-id=%q, want %q and %q", run.Outputs["arn"], run.Outputs["aws-account-id"], want, devAccount)
	}

	c := mustCalls(t, env.Proxy, "AssumeRoleWithWebIdentity", 1)[0]
	wantParam(t, c, "RoleArn", devRoleARN)
	wantParam(t, c, "RoleSessionName", "deploy-42")
	wantParam(t, c, "WebIdentityToken", fakeJWT)
	noParam(t, c, "DurationSeconds")
	if c.AccessKeyID != "" {
		t.Errorf("AssumeRoleWithWebIdentity was signed (key %q); it must be anonymous", c.AccessKeyID)
	}
	mustCalls(t, env.Proxy, "AssumeRole", 0)
	if oidc.asked.Load() < 1 || oidc.refused.Load() != 0 {
		t.Errorf("OIDC endpoint asked %d times, %d refused", oidc.asked.Load(), oidc.refused.Load())
	}
	assertActionLeaksNothing(t, env, run, "request-token-456", fakeJWT)
}

// TestActionOIDCChain: with OIDC and two roles the first is assumed with
// the token and the second with AssumeRole; duration and external-id go to
// that last hop — capped at 3600 s, as a chained hop, with one ::warning::
// — and the web identity session's name (gh-<run id>) is carried along.
func TestActionOIDCChain(t *testing.T) {
	t.Parallel()
	requireActionTools(t)
	env := newTestEnv(t)
	seedAccounts(t)
	oidc := newGitHubOIDC(t, "request-token-789")
	env.Set("ACTIONS_ID_TOKEN_REQUEST_URL", oidc.URL)
	env.Set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token-789")
	env.Set("GITHUB_RUN_ID", "777")

	run := runAction(t, env, map[string]string{
		"rolehop-path": rolehopBin,
		"role-arn":     devRoleARN + "\n" + prodRoleARN,
		"duration":     "7200",
		"external-id":  "ext-9",
	})
	spec, _ := loadAction(t)
	run.succeeded(t, spec)
	assume := run.step(t, "assume")
	exported(t, assume)
	var warnings []string
	for _, l := range strings.Split(assume.Res.Stdout, "\n") {
		if strings.HasPrefix(l, "::warning::") {
			warnings = append(warnings, l)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "3600") {
		t.Errorf("want one ::warning:: about the 3600 s cap, got %q", warnings)
	}
	if want := assumedARN(prodAccount, "prod", "gh-777"); run.Outputs["arn"] != want || run.Outputs["aws-account-id"] != prodAccount {
		t.Errorf("outputs arn=%q aws-account-id=%q, want %q and %s", run.Outputs["arn"], run.Outputs["aws-account-id"], want, prodAccount)
	}
	web := mustCalls(t, env.Proxy, "AssumeRoleWithWebIdentity", 1)[0]
	wantParam(t, web, "RoleArn", devRoleARN)
	wantParam(t, web, "RoleSessionName", "gh-777")
	noParam(t, web, "DurationSeconds")
	hop := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
	wantParam(t, hop, "RoleArn", prodRoleARN)
	wantParam(t, hop, "RoleSessionName", "gh-777")
	wantParam(t, hop, "DurationSeconds", "3600")
	wantParam(t, hop, "ExternalId", "ext-9")
	assertActionLeaksNothing(t, env, run, "request-token-789", fakeJWT)
}

// TestActionOtherRunners: on macOS and Windows runners (emulated here by
// RUNNER_OS/RUNNER_ARCH) the action picks that platform's archive — a zip
// holding rolehop.exe on Windows — verifies and installs it, and runs it.
func TestActionOtherRunners(t *testing.T) {
	t.Parallel()
	requireActionTools(t)
	seed := seedAccounts(t)
	for _, p := range []platform{{"macOS", "ARM64", "darwin", "arm64"}, {"Windows", "X64", "windows", "amd64"}, {"Linux", "ARM64", "linux", "arm64"}} {
		t.Run(p.RunnerOS+"-"+p.RunnerArch, func(t *testing.T) {
			t.Parallel()
			if p.GOOS == "windows" {
				if _, err := exec.LookPath("unzip"); err != nil {
					if os.Getenv("CI") == "true" {
						t.Fatal("unzip not found (required when CI=true)")
					}
					t.Skip("unzip not found")
				}
			}
			env := newTestEnv(t)
			useEnvKeys(env, seed.CIUser)
			rel := newReleaseServerFor(t, "2.0.1", p, false)
			rel.trust(env)
			run := runActionOn(t, env, p, map[string]string{
				"version":           "2.0.1",
				"release-url":       rel.URL + "/releases/download",
				"role-arn":          prodRoleARN,
				"role-session-name": "on-" + p.GOOS,
			})
			spec, _ := loadAction(t)
			run.succeeded(t, spec)
			if got := rel.Requests(); len(got) != 2 || got[1] != "/releases/download/v2.0.1/"+goreleaserArchive(t, "2.0.1", p.GOOS, p.GOARCH) {
				t.Errorf("release downloads %q, want checksums.txt and the %s/%s archive", got, p.GOOS, p.GOARCH)
			}
			assertInstalled(t, run, rel, "2.0.1")
			exported(t, run.step(t, "assume"))
			if want := assumedARN(prodAccount, "prod", "on-"+p.GOOS); run.Outputs["arn"] != want {
				t.Errorf("output arn=%q, want %q", run.Outputs["arn"], want)
			}
			wantParam(t, mustCalls(t, env.Proxy, "AssumeRole", 1)[0], "RoleSessionName", "on-"+p.GOOS)
		})
	}
}

// TestActionTamperedArchive: an archive that does not match checksums.txt
// is not extracted or installed, and the job stops with one ::error:: line.
func TestActionTamperedArchive(t *testing.T) {
	t.Parallel()
	requireActionTools(t)
	env := newTestEnv(t)
	useEnvKeys(env, seedAccounts(t).CIUser)
	rel := newReleaseServer(t, "1.2.3", true)
	rel.trust(env)

	run := runAction(t, env, map[string]string{
		"version":     "1.2.3",
		"release-url": rel.URL + "/releases/download",
		"role-arn":    devRoleARN,
	})
	wantActionError(t, run.step(t, "install"), "checksum mismatch", rel.Archive)
	if run.ran("assume") {
		t.Errorf("the assume step ran after a failed install")
	}
	if got := rel.Requests(); len(got) != 2 {
		t.Errorf("release downloads %q, want checksums.txt and the archive", got)
	}
	var left []string
	_ = filepath.Walk(run.RunnerTemp, func(p string, fi os.FileInfo, err error) error {
		if err == nil && p != run.RunnerTemp {
			left = append(left, p)
		}
		return nil
	})
	if len(left) > 0 {
		t.Errorf("RUNNER_TEMP is not empty after the failure: %q", left)
	}
	if len(run.Path) != 0 || run.step(t, "install").Outputs["path"] != "" {
		t.Errorf("GITHUB_PATH %q / output path %q set by a failed install", run.Path, run.step(t, "install").Outputs["path"])
	}
	mustCalls(t, env.Proxy, "", 0)
}

// TestActionInputErrors: with rolehop-path nothing is downloaded; a missing
// role-arn, contradictory inputs and rolehop's own refusals each end the
// step with one ::error:: line, before any credentials are exported.
func TestActionInputErrors(t *testing.T) {
	t.Parallel()
	requireActionTools(t)
	rel := newReleaseServer(t, "1.2.3", false)
	for _, tc := range []struct {
		name      string
		keys      bool
		inputs    map[string]string
		fragments []string
	}{
		{"missing role-arn", true, map[string]string{"role-arn": " ,\n "}, []string{"role-arn is required"}},
		{"session name twice", true, map[string]string{"role-arn": devRoleARN, "role-session-name": "x1", "username-session": "true"}, []string{"role-session-name", "username-session"}},
		{"bad duration", true, map[string]string{"role-arn": devRoleARN, "duration": "1h"}, []string{"duration", "1h"}},
		{"external id on the OIDC role", false, map[string]string{"role-arn": devRoleARN, "web-identity": "github", "external-id": "e"}, []string{"external-id"}},
		{"OIDC without id-token permission", false, map[string]string{"role-arn": devRoleARN, "web-identity": "github"}, []string{"rolehop: ", "id-token: write"}},
		{"invalid role ARN", true, map[string]string{"role-arn": "arn:aws:iam::1:role/x"}, []string{"invalid role ARN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			if tc.keys {
				useEnvKeys(env, seedAccounts(t).CIUser)
			}
			rel.trust(env)
			inputs := map[string]string{"rolehop-path": rolehopBin, "release-url": rel.URL + "/releases/download"}
			for k, v := range tc.inputs {
				inputs[k] = v
			}
			run := runAction(t, env, inputs)
			install := run.step(t, "install")
			if install.Res.Code != 0 || install.Outputs["path"] != rolehopBin {
				t.Fatalf("install with rolehop-path: output path=%q: %s", install.Outputs["path"], install.Res)
			}
			assume := run.step(t, "assume")
			wantActionError(t, assume, tc.fragments...)
			if strings.TrimSpace(assume.EnvFile) != "" {
				t.Errorf("GITHUB_ENV written by a failed step:\n%s", assume.EnvFile)
			}
			mustCalls(t, env.Proxy, "AssumeRole", 0)
			mustCalls(t, env.Proxy, "AssumeRoleWithWebIdentity", 0)
			assertActionLeaksNothing(t, env, run)
		})
	}
	if got := rel.Requests(); len(got) != 0 {
		t.Errorf("rolehop-path given, yet the release server got %q", got)
	}
}

// TestActionRunsOnlyItsScripts: action.yml passes inputs through env:
// only — an input spliced into run: would be shell code injection.
func TestActionRunsOnlyItsScripts(t *testing.T) {
	spec, _ := loadAction(t)
	for _, st := range spec.Runs.Steps {
		if strings.Contains(st.Run, "inputs.") || strings.Contains(st.Run, "steps.") {
			t.Errorf("step %s: run: %q uses an input or output directly; pass it through env:", st.ID, st.Run)
		}
	}
}

// TestActionVersionPattern: install.sh has one check, is_version, for the
// version input and for the version a "latest" release names; it accepts
// semver release versions only — nothing that could be a path (/, \, ".."
// or an empty part), shell code, white space or a control character such
// as a newline.
func TestActionVersionPattern(t *testing.T) {
	t.Parallel()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "action", "install.sh")
	for _, tc := range []struct {
		version string
		ok      bool
	}{
		{"1.2.3", true}, {"0.0.0", true}, {"10.20.300", true}, {"1.2.3-rc.1", true},
		{"1.2.3-alpha-2.x", true}, {"1.2.3+build.7", true}, {"1.2.3-rc.1+git-abc", true},
		{"", false}, {"latest", false}, {"v1.2.3", false}, {"1.2", false}, {"1.2.3.", false},
		{"..", false}, {"1.2.3-..", false}, {"1.2.3-a..b", false}, {"1.2.3-", false}, {"1.2.3+", false},
		{"../../x", false}, {"1.2.3/../../etc", false}, {`1.2.3\..\x`, false}, {"/etc", false},
		{"$(touch pwned)", false}, {"1.2.3`id`", false}, {"1.2.3;id", false}, {"1.2.3'", false},
		{"1.2.3\n", false}, {"1.2.3\nx", false}, {"1.2.3\rx", false}, {"1.2.3 x", false}, {"1.2.3\tx", false},
		{"1.2.3\x00x", false}, {"1.2.3-é", false}, {"1.2.3-" + strings.Repeat("a", 200), false},
	} {
		if strings.ContainsRune(tc.version, 0) {
			// An argument cannot hold NUL; nor can a bash variable.
			continue
		}
		cmd := exec.Command("bash", "-c", `source "$1" && is_version "$2"`, "bash", script, tc.version)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		out, err := cmd.CombinedOutput()
		if got := err == nil; got != tc.ok || len(out) > 0 {
			t.Errorf("is_version %q: %v (output %q), want %v", tc.version, got, out, tc.ok)
		}
	}
}

// treeOf lists every path under dir (relative, with its size for files),
// leaving out the emulated runner's own files (runner/files).
func treeOf(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == filepath.Join("runner", "files") {
			return filepath.SkipDir
		}
		var size int64
		if fi.Mode().IsRegular() {
			size = fi.Size()
		}
		out = append(out, fmt.Sprintf("%s %v %d", rel, fi.Mode().Type(), size))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestActionHostileVersion: the version a "latest" release names in its
// checksums.txt comes from the network; one that is not a release version
// — a path, shell code, a control character — is refused with one
// ::error:: line before it is used in a URL or a path: nothing more is
// downloaded, and nothing is removed or created anywhere (RUNNER_TEMP,
// its parent, the working directory). A pinned version input is held to
// the same pattern. The hostile server lists the archive under the
// hostile name with the right sha256 and serves it for any name, so that
// only the version check stands in the way.
//
// A newline cannot reach the version through checksums.txt (it is read
// line by line); a carriage return inside the name can, and stands in for
// it. TestActionVersionPattern covers the newline.
func TestActionHostileVersion(t *testing.T) {
	t.Parallel()
	requireActionTools(t)
	bin, err := os.ReadFile(requireRolehop(t))
	if err != nil {
		t.Fatal(err)
	}
	archive := tarGzArchive(t, []archiveMember{{"rolehop", 0o755, bin}})
	for _, tc := range []struct {
		name, latest, pinned string
	}{
		{name: "latest dot-dot", latest: ".."},
		{name: "latest parent path", latest: "../../x"},
		{name: "latest version then parent path", latest: "1.2.3/../../etc"},
		{name: "latest command substitution", latest: "$(touch pwned)"},
		{name: "latest backquotes and semicolon", latest: "1.2.3;`touch pwned`"},
		{name: "latest carriage return", latest: "1.2.3\r../../x"},
		{name: "latest escape sequence", latest: "1.2.3\x1b[2J"},
		{name: "latest empty prerelease parts", latest: "1.2.3-.."},
		{name: "latest white space", latest: "1.2.3 x"},
		{name: "pinned empty prerelease parts", pinned: "1.2.3-.."},
		{name: "pinned newline", pinned: "1.2.3\n../../x"},
		{name: "pinned parent path", pinned: "v1.2.3/../../x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			useEnvKeys(env, seedAccounts(t).CIUser)
			name := "rolehop_" + tc.latest + "_linux_amd64.tar.gz"
			var mu sync.Mutex
			var requests []string
			srv, ca := newTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				requests = append(requests, r.URL.Path)
				mu.Unlock()
				if strings.HasSuffix(r.URL.Path, "/checksums.txt") {
					fmt.Fprintf(w, "%x  %s\n", sha256.Sum256(archive), name)
					return
				}
				_, _ = w.Write(archive)
			}))
			env.Set("CURL_CA_BUNDLE", ca)

			// Things a removal outside RUNNER_TEMP/rolehop would take.
			temp := runnerTemp(env)
			for _, p := range []string{filepath.Join(temp, "sentinel"), filepath.Join(filepath.Dir(temp), "sentinel"), filepath.Join(env.Dir, "etc", "sentinel")} {
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("keep"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before := treeOf(t, env.Dir)

			inputs := map[string]string{"release-url": srv.URL + "/releases/download", "role-arn": devRoleARN}
			want := []string{"not a release version"}
			if tc.pinned != "" {
				inputs["version"] = tc.pinned
				want = append(want, "use latest, 1.2.3")
			} else {
				want = append(want, "latest release", "set version")
			}
			run := runAction(t, env, inputs)
			if after := treeOf(t, env.Dir); !slices.Equal(before, after) {
				t.Errorf("files changed outside the runner's own files:\nbefore %q\nafter  %q", before, after)
			}
			mu.Lock()
			got := slices.Clone(requests)
			mu.Unlock()
			if tc.pinned != "" && len(got) != 0 {
				t.Errorf("a refused version input, yet the release server got %q", got)
			}
			if tc.latest != "" && (len(got) != 1 || got[0] != "/releases/latest/download/checksums.txt") {
				t.Errorf("release downloads %q, want only the latest checksums.txt", got)
			}
			if run.ran("assume") {
				t.Errorf("the assume step ran after a refused version")
			}
			if len(run.Path) != 0 || run.step(t, "install").Outputs["path"] != "" {
				t.Errorf("GITHUB_PATH %q / output path %q set by a refused install", run.Path, run.step(t, "install").Outputs["path"])
			}
			wantActionError(t, run.step(t, "install"), want...)
		})
	}
}

// shq quotes s for a shell script.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// curlShim puts a curl first on env's PATH that records each invocation's
// arguments (one file per call, NUL-separated) and then runs the real
// curl; the returned function reads the calls.
func curlShim(t *testing.T, env *TestEnv) func() [][]string {
	t.Helper()
	real, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal(err)
	}
	dir, log := filepath.Join(env.Dir, "shim"), filepath.Join(env.Dir, "curl-calls")
	for _, d := range []string{dir, log} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	script := "#!/bin/sh\nprintf '%s\\0' \"$@\" >\"$(mktemp " + shq(log+"/call.XXXXXX") + ")\"\nexec " + shq(real) + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "curl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	env.Set("PATH", dir+string(os.PathListSeparator)+env.Get("PATH"))
	return func() [][]string {
		entries, err := os.ReadDir(log)
		if err != nil {
			t.Fatal(err)
		}
		var calls [][]string
		for _, e := range entries {
			args := strings.Split(readFile(t, filepath.Join(log, e.Name())), "\x00")
			calls = append(calls, args[:len(args)-1])
		}
		return calls
	}
}

// hasArg reports whether args holds flag directly followed by value.
func hasArg(args []string, flag, value string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag && args[i+1] == value {
			return true
		}
	}
	return false
}

// TestActionDownloadsHTTPSOnly: install.sh runs curl with --proto =https,
// --proto-redir =https and --tlsv1.2 for every download (seen through a
// curl shim on PATH); an http:// release-url is refused before anything
// is fetched; and a release server that redirects to http gets nothing
// over http.
func TestActionDownloadsHTTPSOnly(t *testing.T) {
	t.Parallel()
	requireActionTools(t)
	seed := seedAccounts(t)

	// plain records what reaches a plain-http server.
	type plain struct {
		*httptest.Server
		mu       sync.Mutex
		requests []string
	}
	newPlain := func(t *testing.T) *plain {
		p := &plain{}
		p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.mu.Lock()
			p.requests = append(p.requests, r.URL.Path)
			p.mu.Unlock()
			http.NotFound(w, r)
		}))
		t.Cleanup(p.Close)
		return p
	}
	got := func(p *plain) []string {
		p.mu.Lock()
		defer p.mu.Unlock()
		return slices.Clone(p.requests)
	}

	t.Run("every curl pins https", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		useEnvKeys(env, seed.CIUser)
		calls := curlShim(t, env)
		rel := newReleaseServer(t, "1.2.3", false)
		rel.trust(env)
		run := runAction(t, env, map[string]string{
			"version": "1.2.3", "release-url": rel.URL + "/releases/download", "role-arn": devRoleARN,
		})
		spec, _ := loadAction(t)
		run.succeeded(t, spec)
		assertInstalled(t, run, rel, "1.2.3")
		c := calls()
		if len(c) != 2 {
			t.Fatalf("curl ran %d times, want 2 (checksums.txt and the archive): %q", len(c), c)
		}
		for _, args := range c {
			if !hasArg(args, "--proto", "=https") || !hasArg(args, "--proto-redir", "=https") || !slices.Contains(args, "--tlsv1.2") {
				t.Errorf("curl %q: want --proto =https --proto-redir =https --tlsv1.2", args)
			}
		}
	})

	t.Run("http release-url refused", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		useEnvKeys(env, seed.CIUser)
		calls := curlShim(t, env)
		p := newPlain(t)
		for _, version := range []string{"1.2.3", "latest"} {
			run := runAction(t, env, map[string]string{
				"version": version, "release-url": p.URL + "/releases/download", "role-arn": devRoleARN,
			})
			wantActionError(t, run.step(t, "install"), "release-url", "https")
		}
		if r := got(p); len(r) != 0 {
			t.Errorf("the http server got %q", r)
		}
		if c := calls(); len(c) != 0 {
			t.Errorf("curl ran for an http release-url: %q", c)
		}
	})

	t.Run("redirect to http refused", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		useEnvKeys(env, seed.CIUser)
		p := newPlain(t)
		srv, ca := newTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, p.URL+r.URL.Path, http.StatusFound)
		}))
		env.Set("CURL_CA_BUNDLE", ca)
		run := runAction(t, env, map[string]string{
			"version": "1.2.3", "release-url": srv.URL + "/releases/download", "role-arn": devRoleARN,
		})
		wantActionError(t, run.step(t, "install"), "download of", "failed")
		if r := got(p); len(r) != 0 {
			t.Errorf("curl followed the redirect to http: the http server got %q", r)
		}
	})
}

// TestActionWindowsExtractNoInjection: on a Windows runner without unzip
// the archive is extracted by PowerShell's Expand-Archive, and the paths
// reach it in the environment ($env:ROLEHOP_ARCHIVE, $env:ROLEHOP_DEST),
// never in the -Command text — here RUNNER_TEMP holds ' and ; and
// PowerShell code. PowerShell is not installed on these machines, so a
// powershell stand-in on PATH (with unzip hidden) records its arguments
// and environment and extracts what the variables name; the test checks
// that the command text is free of any path, that the variables hold the
// real ones, and that the whole action then works.
func TestActionWindowsExtractNoInjection(t *testing.T) {
	t.Parallel()
	requireActionTools(t)
	unzip, err := exec.LookPath("unzip")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("unzip not found (required when CI=true)")
		}
		t.Skip("unzip not found")
	}
	env := newTestEnv(t)
	useEnvKeys(env, seedAccounts(t).CIUser)
	win := platform{"Windows", "X64", "windows", "amd64"}
	rel := newReleaseServerFor(t, "2.0.1", win, false)
	rel.trust(env)

	// PATH: every program of the test's PATH but unzip (symlinked, first
	// one wins), and the powershell stand-in.
	bin, log := filepath.Join(env.Dir, "bin"), filepath.Join(env.Dir, "powershell-call")
	if err := os.MkdirAll(bin, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, dir := range filepath.SplitList(env.Get("PATH")) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.Name() == "unzip" || e.Name() == "powershell" || e.Name() == "pwsh" {
				continue
			}
			if err := os.Symlink(filepath.Join(dir, e.Name()), filepath.Join(bin, e.Name())); err != nil && !os.IsExist(err) {
				t.Fatal(err)
			}
		}
	}
	shim := "#!/bin/sh\n" +
		"# Stands in for powershell.exe: records the arguments and the two variables, then does what\n" +
		"# Expand-Archive -LiteralPath $env:ROLEHOP_ARCHIVE -DestinationPath $env:ROLEHOP_DEST does.\n" +
		"printf '%s\\0' \"$@\" >" + shq(log+".argv") + "\n" +
		"printf '%s\\0' \"${ROLEHOP_ARCHIVE-}\" \"${ROLEHOP_DEST-}\" >" + shq(log+".env") + "\n" +
		"exec " + shq(unzip) + " -q \"$ROLEHOP_ARCHIVE\" -d \"$ROLEHOP_DEST\"\n"
	if err := os.WriteFile(filepath.Join(bin, "powershell"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	env.Set("PATH", bin)

	const hostile = `O'Brien; New-Item -Path pwned; '$(touch pwned)`
	temp := filepath.Join(env.Dir, "runner", hostile)
	run := runActionIn(t, env, win, temp, map[string]string{
		"version": "2.0.1", "release-url": rel.URL + "/releases/download",
		"role-arn": prodRoleARN, "role-session-name": "on-windows",
	})

	argv := strings.Split(readFile(t, log+".argv"), "\x00")
	argv = argv[:len(argv)-1]
	i := slices.Index(argv, "-Command")
	if i < 0 || i+1 >= len(argv) {
		t.Fatalf("powershell %q: no -Command", argv)
	}
	command := argv[i+1]
	for _, a := range argv {
		for _, bad := range []string{env.Dir, "O'Brien", rel.Archive} {
			if strings.Contains(a, bad) {
				t.Errorf("powershell argument %q holds %q: paths must come through the environment", a, bad)
				break
			}
		}
	}
	for _, v := range []string{"Expand-Archive", "$env:ROLEHOP_ARCHIVE", "$env:ROLEHOP_DEST"} {
		if !strings.Contains(command, v) {
			t.Errorf("-Command %q does not use %s", command, v)
		}
	}
	vars := strings.Split(readFile(t, log+".env"), "\x00")
	if len(vars) != 3 || filepath.Dir(filepath.Dir(vars[0])) != temp || filepath.Base(vars[0]) != rel.Archive ||
		filepath.Dir(filepath.Dir(vars[1])) != temp {
		t.Errorf("ROLEHOP_ARCHIVE, ROLEHOP_DEST = %q, want the archive and a directory under RUNNER_TEMP %q", vars, temp)
	}

	spec, _ := loadAction(t)
	run.succeeded(t, spec)
	assertInstalled(t, run, rel, "2.0.1")
	exported(t, run.step(t, "assume"))
	if want := assumedARN(prodAccount, "prod", "on-windows"); run.Outputs["arn"] != want {
		t.Errorf("output arn=%q, want %q", run.Outputs["arn"], want)
	}
	_ = filepath.Walk(env.Dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Name() == "pwned" {
			t.Errorf("%s was created", p)
		}
		return nil
	})
}
