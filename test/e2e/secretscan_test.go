//go:build unix

package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestSecretScan runs every rolehop command (the tree walked from `rolehop
// --help`, so a new command fails the test until a scenario runs it or it
// is exempt) with --debug where it has it, against moto and the test
// servers, on its happy and error paths; collects every secret the test world knows (the
// IAM user's secret key, every secret key and session token STS or the SSO
// portal returned, SSO access and refresh tokens, client secrets and device
// codes, the GitHub OIDC request token and JWT, the endpoint's bearer
// tokens, MFA codes, federation sign-in tokens, the long-term keys that
// `rolehop keys` stores and imports, the stores' passphrases); and scans
// the stdout and stderr of every run and every file rolehop wrote under
// the test's directory (HOME, the cache directory, TMPDIR, the working
// directory), and the argument list of every process rolehop starts
// (recorded by PATH shims: browser openers, the exec children, the shells
// of credential_process and mfa_process, pass and its gpg;
// argvscan_test.go), which may hold no secret at all. The
// browser paths run too (DISPLAY set: console opens the sign-in page and
// login signs in with PKCE through xdg-open), and a run that must start a
// program fails the scan if no shim saw it start.
// Stdout may hold a secret only where printing it is the command's job
// (export and credential-process: one credential set, never the source
// keys; serve: its own tokens; console: the sign-in token); files only
// where they are the intended output (cache entries 0600 in a 0700
// directory, the section write targets, the SSO token cache, serve's token
// file, $GITHUB_ENV; and the temp files of their atomic writes, 0600, caught
// before the rename, none left behind). The counts are logged with the
// prefix "SECRETSCAN".
func TestSecretScan(t *testing.T) {
	t.Parallel()
	requireRolehop(t)
	seedAccounts(t)
	sc := &scanner{shims: newArgvShims(t)}
	tree := commandTree(t, sc)

	t.Run("scenarios", func(t *testing.T) {
		t.Run("chain", func(t *testing.T) { t.Parallel(); scanChain(t, sc) })
		t.Run("errors", func(t *testing.T) { t.Parallel(); scanErrors(t, sc) })
		t.Run("serve", func(t *testing.T) { t.Parallel(); scanServe(t, sc) })
		t.Run("watch", func(t *testing.T) { t.Parallel(); scanWatch(t, sc) })
		t.Run("sso", func(t *testing.T) { t.Parallel(); scanSSO(t, sc) })
		t.Run("web identity", func(t *testing.T) { t.Parallel(); scanWebIdentity(t, sc) })
		t.Run("tooling", func(t *testing.T) { t.Parallel(); scanTooling(t, sc) })
		t.Run("keys", func(t *testing.T) { t.Parallel(); scanKeys(t, sc) }) // keys_test.go
	})
	if t.Failed() {
		return
	}

	// Every command of the tree is scanned, or exempt with a reason.
	exempt := map[string]string{}
	scanned := map[string]int{}
	for _, r := range sc.runs {
		// The tree walk's `--help` runs do not count: every command has
		// one, so counting them let a new command pass unscanned.
		if r.scenario != "tree" {
			scanned[r.command]++
		}
	}
	for _, c := range tree {
		if scanned[c] == 0 && exempt[c] == "" {
			t.Errorf("command %q is neither scanned nor exempt: add it to a scenario of TestSecretScan", c)
		}
	}
	for c := range exempt {
		if !slices.Contains(tree, c) {
			t.Errorf("exempt command %q is not in the command tree any more", c)
		}
	}

	covered := 0
	for _, c := range tree {
		if scanned[c] > 0 {
			covered++
		}
	}
	sc.collectArgv(t)
	findings, bytes, files := sc.scan(t)
	for _, f := range findings {
		t.Error(f)
	}
	var kinds []string
	for k, n := range sc.kindCounts() {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	slices.Sort(kinds)
	t.Logf("SECRETSCAN commands %d of %d in the tree (%d exempt), runs %d, bytes of output %d, files %d (%d versions, %d bytes), argv %d (%s), secrets %d (%s), findings %d",
		covered, len(tree), len(exempt), len(sc.runs), bytes, files.files, files.versions, files.bytes, len(sc.argv), sc.argvCounts(), len(sc.secrets), strings.Join(kinds, ", "), len(findings))
	var per []string
	for _, c := range tree {
		per = append(per, fmt.Sprintf("%s %d", c, scanned[c]))
	}
	t.Logf("SECRETSCAN runs per command: %s", strings.Join(per, ", "))
}

// secretKind is what a secret is, for the rules on where it may appear.
type secretKind string

const (
	kindSource   secretKind = "source key"       // the IAM user's long-term secret key
	kindRole     secretKind = "role credentials" // secret keys and session tokens from STS and the SSO portal
	kindSSO      secretKind = "SSO token"        // access and refresh tokens, client secrets, device codes
	kindOIDC     secretKind = "OIDC"             // GitHub's request token and the JWT
	kindEndpoint secretKind = "endpoint token"   // serve / exec --server bearer tokens
	kindMFA      secretKind = "MFA code"
	kindSignin   secretKind = "sign-in token"
	kindPassword secretKind = "keychain passphrase" // ROLEHOP_KEYRING_PASSWORD, AWS_VAULT_FILE_PASSPHRASE
)

// scanner collects runs, file versions and secrets from every scenario
// and scans them at the end, each against every secret of every scenario.
type scanner struct {
	mu      sync.Mutex
	tree    []string // the command paths, once walked
	runs    []scanRun
	files   []fileVersion
	secrets map[string]secretKind
	sets    map[string]int // role secret → its credential set
	nSets   int
	shims   *argvShims   // set before the scenarios start
	nRuns   int          // run ids handed out
	argv    []argvRecord // the shims' log, read at the end
}

// scanRun is one command's output and what its stdout may hold.
type scanRun struct {
	id                string // $ARGVSCAN_RUN of the processes it started ("" : not tracked)
	scenario, command string
	args              []string
	stdout, stderr    string
	allow             secretKind // "" : nothing
	spawns            []string   // programs it must have started (through the shims)
	spawnsNothing     bool       // it must have started no program
}

// fileVersion is one content of one file seen after a run.
type fileVersion struct {
	scenario, path, rel string
	data                []byte
	mode, dirMode       fs.FileMode
	allow               secretKind // "" : nothing new
	before              []byte     // the file's content before the scenario's first run, if it existed
	strip               []string   // credentials-file sections that are write's targets
}

func (s *scanner) addSecret(kind secretKind, v string) {
	if len(v) < 6 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets == nil {
		s.secrets, s.sets = map[string]secretKind{}, map[string]int{}
	}
	if _, ok := s.secrets[v]; !ok {
		s.secrets[v] = kind
	}
}

// addSet adds a credential set (secret key, session token).
func (s *scanner) addSet(k Keys) {
	s.addSecret(kindRole, k.SecretAccessKey)
	s.addSecret(kindRole, k.SessionToken)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nSets++
	for _, v := range []string{k.SecretAccessKey, k.SessionToken} {
		if _, ok := s.sets[v]; !ok && v != "" {
			s.sets[v] = s.nSets
		}
	}
}

func (s *scanner) kindCounts() map[secretKind]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[secretKind]int{}
	for _, k := range s.secrets {
		m[k]++
	}
	return m
}

// commandTree walks `rolehop [PATH] --help` from the root and returns every
// command path ("exec", "cache list", …); the help runs are scanned too.
func commandTree(t *testing.T, sc *scanner) []string {
	t.Helper()
	env := newTestEnv(t)
	sc.shims.apply(env)
	e := &scanEnv{TestEnv: env, sc: sc, scenario: "tree"}
	var out []string
	var walk func(path []string)
	walk = func(path []string) {
		res := e.run(t, "", append(slices.Clone(path), "--help")...)
		if res.Code != 0 {
			t.Fatalf("rolehop %s --help: %s", strings.Join(path, " "), res)
		}
		_, list, ok := strings.Cut(res.Stdout, "\nAvailable Commands:\n")
		if !ok {
			return
		}
		list, _, _ = strings.Cut(list, "\n\n")
		for _, line := range strings.Split(list, "\n") {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			sub := append(slices.Clone(path), f[0])
			out = append(out, strings.Join(sub, " "))
			walk(sub)
		}
	}
	walk(nil)
	if len(out) < 15 {
		t.Fatalf("the command tree has %d commands: %q", len(out), out)
	}
	e.finish(t)
	sc.mu.Lock()
	for i := range sc.runs {
		if sc.runs[i].scenario == "tree" {
			sc.runs[i].command = commandOf(out, sc.runs[i].args)
		}
	}
	sc.tree = out
	sc.mu.Unlock()
	return out
}

// commandOf is the longest command path of tree that args start with
// (flags and their values skipped), "" for the root.
func commandOf(tree []string, args []string) string {
	cmd := ""
	for _, a := range args {
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") {
			continue
		}
		next := strings.TrimSpace(cmd + " " + a)
		if !slices.Contains(tree, next) {
			if cmd != "" || a != "__complete" {
				break
			}
			return "__complete" // hidden: completion of the shells
		}
		cmd = next
	}
	return cmd
}

// scanEnv is one scenario's world.
type scanEnv struct {
	*TestEnv
	sc       *scanner
	scenario string

	before   map[string][]byte // file contents before the first run
	seen     map[string]bool   // path + hash of versions recorded
	strip    []string          // sections of the credentials file write targets
	intended map[string]secretKind
	started  bool
	last     string // the id of the last run
}

func newScanEnv(t *testing.T, sc *scanner, scenario string, env *TestEnv) *scanEnv {
	t.Helper()
	tmp := filepath.Join(env.Dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	env.Set("TMPDIR", tmp)
	sc.shims.apply(env)
	return &scanEnv{TestEnv: env, sc: sc, scenario: scenario, intended: map[string]secretKind{}}
}

// input writes a file of the test's (relative to its directory) once
// rolehop has run: an input, not something rolehop wrote.
func (e *scanEnv) input(t *testing.T, name, content string) string {
	t.Helper()
	e.start(t)
	p := e.WriteFile(name, content)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	e.before[p] = b
	return p
}

// run runs rolehop and records its output (stdout may hold allow's
// secrets) and the files afterwards.
func (e *scanEnv) run(t *testing.T, allow secretKind, args ...string) Result {
	t.Helper()
	return e.runWith(t, nil, allow, args...)
}

func (e *scanEnv) runWith(t *testing.T, extra []string, allow secretKind, args ...string) Result {
	t.Helper()
	return e.runID(t, e.sc.newRunID(), extra, allow, args...)
}

// runID is runWith for a run id taken beforehand (to watch the run's
// processes while it runs).
func (e *scanEnv) runID(t *testing.T, id string, extra []string, allow secretKind, args ...string) Result {
	t.Helper()
	e.start(t)
	res := e.RunWith(t, append(slices.Clone(extra), argvRunVar+"="+id), args...)
	if res.TimedOut {
		t.Errorf("rolehop %s timed out", shellQuote(args))
	}
	e.record(id, args, res.Stdout, res.Stderr, allow)
	e.last = id
	e.snapshot(t)
	return res
}

// newRunID names a run for the shims' records.
func (s *scanner) newRunID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nRuns++
	return fmt.Sprintf("run-%d", s.nRuns)
}

// spawns declares that the last run started progs (each at least once):
// the scan fails where no shim recorded one.
func (e *scanEnv) spawns(progs ...string) {
	e.sc.mu.Lock()
	defer e.sc.mu.Unlock()
	for i := range e.sc.runs {
		if e.sc.runs[i].id == e.last {
			e.sc.runs[i].spawns = append(e.sc.runs[i].spawns, progs...)
		}
	}
}

// spawnsNothing declares that the last run started no program.
func (e *scanEnv) spawnsNothing() {
	e.sc.mu.Lock()
	defer e.sc.mu.Unlock()
	for i := range e.sc.runs {
		if e.sc.runs[i].id == e.last {
			e.sc.runs[i].spawnsNothing = true
		}
	}
}

// ok runs rolehop and fails the test unless it exits 0.
func (e *scanEnv) ok(t *testing.T, allow secretKind, args ...string) Result {
	t.Helper()
	res := e.run(t, allow, args...)
	if res.Code != 0 {
		t.Errorf("rolehop %s: %s", shellQuote(args), res)
	}
	return res
}

// fails runs rolehop and fails the test unless it exits with code.
func (e *scanEnv) fails(t *testing.T, code int, args ...string) Result {
	t.Helper()
	res := e.run(t, "", args...)
	if res.Code != code {
		t.Errorf("rolehop %s: exit %d, want %d: %s", shellQuote(args), res.Code, code, res)
	}
	return res
}

func (e *scanEnv) record(id string, args []string, stdout, stderr string, allow secretKind) {
	e.sc.mu.Lock()
	defer e.sc.mu.Unlock()
	e.sc.runs = append(e.sc.runs, scanRun{id: id, scenario: e.scenario, command: commandOf(e.sc.tree, args), args: args, stdout: stdout, stderr: stderr, allow: allow})
}

// start records the files as they are before rolehop first runs.
func (e *scanEnv) start(t *testing.T) {
	if e.started {
		return
	}
	e.started = true
	e.before, e.seen = map[string][]byte{}, map[string]bool{}
	e.walk(t, func(path string, data []byte, _, _ fs.FileMode) { e.before[path] = data })
}

func (e *scanEnv) walk(t *testing.T, f func(path string, data []byte, mode, dirMode fs.FileMode)) {
	t.Helper()
	err := filepath.WalkDir(e.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil // removed meanwhile (a lock or temp file)
			}
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		st, err1 := os.Stat(path)
		dst, err2 := os.Stat(filepath.Dir(path))
		if err1 != nil || err2 != nil {
			return nil
		}
		f(path, data, st.Mode().Perm(), dst.Mode().Perm())
		return nil
	})
	if err != nil {
		t.Errorf("walking %s: %v", e.Dir, err)
	}
}

// snapshot records every file version not seen yet that differs from the
// content before the first run.
func (e *scanEnv) snapshot(t *testing.T) {
	t.Helper()
	e.walk(t, func(path string, data []byte, mode, dirMode fs.FileMode) {
		sum := sha256.Sum256(data)
		key := path + "\x00" + hex.EncodeToString(sum[:])
		if e.seen[key] {
			return
		}
		e.seen[key] = true
		before, existed := e.before[path]
		if existed && string(before) == string(data) {
			return // an input rolehop did not touch
		}
		rel, _ := filepath.Rel(e.Dir, path)
		// A temp file of an atomic write (temp file + rename) is the
		// next content of its target, caught before the rename: it
		// follows the target's rules.
		target := path
		if m := atomicTempRe.FindStringSubmatch(filepath.Base(path)); m != nil {
			target = filepath.Join(filepath.Dir(path), m[1])
			before = e.before[target]
		}
		v := fileVersion{scenario: e.scenario, path: path, rel: rel, data: data, mode: mode, dirMode: dirMode, before: before, allow: e.allowed(target)}
		if target == e.CredentialsFile {
			v.strip = slices.Clone(e.strip)
		}
		e.sc.mu.Lock()
		e.sc.files = append(e.sc.files, v)
		e.sc.mu.Unlock()
	})
}

// atomicTempRe matches fsutil.WriteFileAtomic's temp files: .NAME.tmp-N.
var atomicTempRe = regexp.MustCompile(`^\.(.+)\.tmp-[0-9]+$`)

// allowed is what a file rolehop wrote may hold.
func (e *scanEnv) allowed(path string) secretKind {
	if k, ok := e.intended[path]; ok {
		return k
	}
	if filepath.Dir(path) == e.CacheDir && strings.HasSuffix(path, ".json") && !strings.HasPrefix(filepath.Base(path), ".") {
		return kindRole // a cache entry
	}
	if filepath.Dir(path) == filepath.Join(e.Home, ".aws", "sso", "cache") && strings.HasSuffix(path, ".json") && !strings.HasPrefix(filepath.Base(path), ".") {
		return kindSSO // the SSO token cache
	}
	if path == e.CredentialsFile && len(e.strip) > 0 {
		return kindRole // in the sections write targets only
	}
	if dir := filepath.Dir(path); filepath.Base(path) == "sign-in.html" && filepath.Dir(dir) == e.Get("TMPDIR") &&
		strings.HasPrefix(filepath.Base(dir), "rolehop-browser-") {
		return kindSignin // the private page that hands the console URL to the browser
	}
	return ""
}

// finish adds the secrets the scenario's proxy saw (every credential set
// STS returned) and records the files one last time.
func (e *scanEnv) finish(t *testing.T) {
	t.Helper()
	e.snapshot(t)
	e.walk(t, func(path string, _ []byte, _, _ fs.FileMode) {
		if atomicTempRe.MatchString(filepath.Base(path)) {
			t.Errorf("[%s] a temp file of an atomic write was left behind: %s", e.scenario, path)
		}
	})
	for _, c := range e.Proxy.Calls("") {
		_, secret, token := c.ReturnedCredentials()
		if secret != "" {
			e.sc.addSet(Keys{SecretAccessKey: secret, SessionToken: token})
		}
	}
}

// addSSO adds the secrets of a test IAM Identity Center: tokens, client
// secrets, device codes and the role credentials it handed out.
func (e *scanEnv) addSSO(srv *SSOServer) {
	for _, c := range srv.Calls("") {
		for _, k := range []string{"accessToken", "refreshToken", "clientSecret", "deviceCode"} {
			e.sc.addSecret(kindSSO, c.Str(k))
		}
		for _, k := range []string{"refreshToken", "clientSecret", "deviceCode", "codeVerifier"} {
			if v, ok := c.Body[k].(string); ok {
				e.sc.addSecret(kindSSO, v)
			}
		}
		e.sc.addSecret(kindSSO, c.BearerToken)
	}
	for _, r := range srv.Issued() {
		e.sc.addSet(r.Keys)
	}
}

var mfaCodeRe = regexp.MustCompile(`^\d{6}$`)

// contains reports whether text holds secret v (of kind): the whole of it,
// or for long random ones 16 characters from its middle or its end (the
// test sign-in tokens end in an access key id, the JWT is a constant). MFA
// codes count only standing alone (not inside a longer number).
func contains(text, v string, kind secretKind) bool {
	if kind == kindMFA && mfaCodeRe.MatchString(v) {
		return regexp.MustCompile(`(^|\D)` + v + `(\D|$)`).MatchString(text)
	}
	if strings.Contains(text, v) {
		return true
	}
	if len(v) >= 32 && (kind == kindRole || kind == kindSource || kind == kindSSO || kind == kindEndpoint) { // random throughout
		mid := v[len(v)/2-8 : len(v)/2+8]
		return strings.Contains(text, mid) || strings.Contains(text, v[len(v)-16:])
	}
	return false
}

type fileStats struct{ files, versions, bytes int }

// scanSecret is one secret of the test world and its kind.
type scanSecret struct {
	v    string
	kind secretKind
}

// scan checks every run and file version against every secret.
func (s *scanner) scan(t *testing.T) (findings []string, outBytes int, fst fileStats) {
	t.Helper()
	findings = s.spawnFindings()
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []scanSecret
	for v, k := range s.secrets {
		all = append(all, scanSecret{v, k})
	}
	slices.SortFunc(all, func(a, b scanSecret) int { return strings.Compare(a.v, b.v) })
	found := func(text string) []scanSecret {
		var out []scanSecret
		for _, sec := range all {
			if contains(text, sec.v, sec.kind) {
				out = append(out, sec)
			}
		}
		return out
	}
	desc := func(sec scanSecret) string { return fmt.Sprintf("%s %.4s…", sec.kind, sec.v) }
	findings = append(findings, s.argvFindings(found, desc)...)

	for _, r := range s.runs {
		outBytes += len(r.stdout) + len(r.stderr)
		what := fmt.Sprintf("[%s] rolehop %s", r.scenario, shellQuote(r.args))
		for _, sec := range found(r.stderr) {
			findings = append(findings, fmt.Sprintf("%s: stderr holds a %s: %q", what, desc(sec), r.stderr))
		}
		sets := map[int]bool{}
		for _, sec := range found(r.stdout) {
			if sec.kind != r.allow {
				findings = append(findings, fmt.Sprintf("%s: stdout holds a %s: %q", what, desc(sec), r.stdout))
				continue
			}
			if sec.kind == kindRole {
				sets[s.sets[sec.v]] = true
			}
		}
		if len(sets) > 1 {
			findings = append(findings, fmt.Sprintf("%s: stdout holds %d credential sets, want only the chain's final one: %q", what, len(sets), r.stdout))
		}
	}

	paths := map[string]bool{}
	for _, f := range s.files {
		paths[f.scenario+"\x00"+f.path] = true
		fst.versions++
		fst.bytes += len(f.data)
		text := string(f.data)
		if len(f.strip) > 0 {
			text = stripSections(text, f.strip)
		}
		before := string(f.before)
		for _, sec := range found(text) {
			if strings.Count(text, sec.v) <= strings.Count(before, sec.v) && contains(before, sec.v, sec.kind) {
				continue // there before rolehop ran (an input)
			}
			if f.allow != "" && sec.kind == f.allow && len(f.strip) == 0 {
				continue // the file's job
			}
			findings = append(findings, fmt.Sprintf("[%s] %s (written by rolehop) holds a %s", f.scenario, f.rel, desc(sec)))
		}
		if f.allow != "" && f.mode != 0o600 {
			findings = append(findings, fmt.Sprintf("[%s] %s holds %s with mode %v, want 0600", f.scenario, f.rel, f.allow, f.mode))
		}
		if (f.allow == kindRole && len(f.strip) == 0 && strings.Contains(f.rel, "rolehop-cache") || f.allow == kindSignin) && f.dirMode != 0o700 {
			findings = append(findings, fmt.Sprintf("[%s] %s: directory mode %v, want 0700", f.scenario, f.rel, f.dirMode))
		}
	}
	fst.files = len(paths)
	return findings, outBytes, fst
}

// stripSections removes the [title] sections named in titles (write's
// targets) from a credentials file.
func stripSections(content string, titles []string) string {
	var out []string
	skip := false
	for _, line := range strings.Split(content, "\n") {
		tl := strings.TrimSpace(line)
		if strings.HasPrefix(tl, "[") && strings.HasSuffix(tl, "]") {
			skip = slices.Contains(titles, strings.TrimSpace(tl[1:len(tl)-1]))
		}
		if !skip {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// mfaScanConfig adds to chainConfig a role profile that takes its MFA code
// from an mfa_process, and one whose source is a credential_process.
func mfaScanConfig(script, process string) string {
	return chainConfig + `
	[profile mfa]
	role_arn = ` + devRoleARN + `
	source_profile = base
	mfa_serial = ` + mfaSerial + `
	mfa_process = ` + script + `

	[profile proc]
	credential_process = ` + process + `

	[profile viaproc]
	role_arn = ` + devRoleARN + `
	source_profile = proc
	role_session_name = viaproc
`
}

// withBrowser is the environment of a desktop session (a browser can
// open, not over SSH): rolehop starts xdg-open, the shim.
func withBrowser() []string {
	return []string{"DISPLAY=:0", "WAYLAND_DISPLAY", "SSH_CONNECTION", "SSH_TTY", "SSH_CLIENT"}
}

const (
	scanMFACode    = "739184" // --token-code
	scanMFAProcess = "582047" // printed by the mfa_process
)

// scanChain: the 2-hop chain through every sink and read-only command,
// with --debug; an mfa_process and a credential_process; the console
// opened in a browser.
func scanChain(t *testing.T, sc *scanner) {
	env, seed := newChainEnv(t)
	e := newScanEnv(t, sc, "chain", env)
	script := env.WriteFile("mfa.sh", "#!/bin/sh\necho "+scanMFAProcess+"\n")
	// No Expiration: never cached, it runs at every use.
	process := env.WriteFile("process.sh", "#!/bin/sh\ncat <<'JSON'\n"+`{"Version": 1, "AccessKeyId": "`+seed.CIUser.AccessKeyID+`", "SecretAccessKey": "`+seed.CIUser.SecretAccessKey+`"}`+"\nJSON\n")
	for _, p := range []string{script, process} {
		if err := os.Chmod(p, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env.WriteConfig(mfaScanConfig(script, process))
	sc.addSecret(kindMFA, scanMFACode)
	sc.addSecret(kindMFA, scanMFAProcess)
	sc.addSecret(kindSource, seed.CIUser.SecretAccessKey)
	ghEnv := env.WriteFile("github_env", "")
	env.Set("GITHUB_ENV", ghEnv)
	e.intended[ghEnv] = kindRole
	fed := newFederation(t)
	env.Set("ROLEHOP_FEDERATION_ENDPOINT", fed.URL)

	e.ok(t, "", "explain", "prod", "--debug")
	e.ok(t, "", "explain", "prod", "-o", "json")
	e.ok(t, "", "exec", "prod", "--debug", "--", "aws", "sts", "get-caller-identity", "--output", "json")
	e.spawns("aws") // by name: found on PATH, through its shim
	for _, f := range []string{"sh", "fish", "powershell", "cmd", "dotenv", "json", "github"} {
		e.ok(t, kindRole, "export", "prod", "--debug", "--format", f)
	}
	e.ok(t, kindRole, "credential-process", "prod", "--debug")
	e.ok(t, kindRole, "credential-process", "prod", "--no-cache", "--debug")
	e.ok(t, "", "whoami", "prod", "--debug")
	e.ok(t, "", "whoami", "prod", "-o", "json")
	e.ok(t, "", "doctor", "prod", "--debug")
	e.ok(t, "", "doctor", "prod", "-o", "json")
	e.ok(t, "", "policy", "prod", "--debug")
	e.ok(t, "", "policy", "prod", "--format", "cloudformation", "--account", prodAccount)
	e.ok(t, "", "policy", "prod", "--format", "terraform", "--caller-arn", ciUserARN)
	e.strip = append(e.strip, "written")
	e.ok(t, "", "write", "prod", "--to", "written", "--debug")
	e.ok(t, "", "write", "dev", "--to", "written", "--no-cache")
	e.ok(t, "", "cache", "list")
	e.ok(t, "", "cache", "list", "-o", "json")
	e.ok(t, kindSignin, "console", "prod", "--print", "--debug")
	e.ok(t, kindSignin, "console", "dev", "--duration", "2h") // no browser here: prints
	e.ok(t, kindSignin, "console", "base", "--print", "--federation-endpoint", fed.URL, "--debug")
	// A browser here: the sign-in page opens through xdg-open, and the
	// URL, which carries the sign-in token, must reach it without entering
	// any process's argument list.
	if res := e.runWith(t, withBrowser(), "", "console", "prod", "--debug"); res.Code != 0 {
		t.Errorf("console with a browser: %s", res)
	}
	e.spawns("xdg-open")
	e.ok(t, "", "pick", "--filter", "mfa")
	// MFA: a code on the command line, and from an mfa_process.
	e.ok(t, "", "whoami", "--profile", "base", "--role-arn", auditRoleARN, "--serial-number", mfaSerial, "--token-code", scanMFACode, "--no-cache", "--debug")
	e.ok(t, "", "exec", "mfa", "--debug", "--", "true")
	e.spawns("sh", "true") // the mfa_process through sh -c, the child
	// A credential_process source (sh -c), under a role.
	e.ok(t, "", "whoami", "viaproc", "--debug")
	e.spawns("sh")
	e.ok(t, "", "explain", "mfa", "--debug")
	// Env keys, -u: the source keys must not be exported.
	keys := []string{"AWS_ACCESS_KEY_ID=" + seed.CIUser.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + seed.CIUser.SecretAccessKey}
	if res := e.runWith(t, keys, kindRole, "export", "--role-arn", devRoleARN, "-u", "--debug"); res.Code != 0 {
		t.Errorf("export with env keys: %s", res)
	}
	if res := e.runWith(t, keys, "", "exec", "--role-arn", devRoleARN, "--role-arn", prodRoleARN, "--debug", "--", "true"); res.Code != 0 {
		t.Errorf("exec with env keys: %s", res)
	}
	e.spawns("true")
	e.ok(t, "", "cache", "clear", "prod", "--debug")
	e.ok(t, "", "cache", "clear")
	e.finish(t)
	fed.mu.Lock()
	for _, q := range fed.requests {
		var s struct{ SessionID, SessionKey, SessionToken string }
		if json.Unmarshal([]byte(q.Get("Session")), &s) == nil && s.SessionID != "" {
			sc.addSecret(kindSignin, "signin-token-for-"+s.SessionID)
		}
	}
	fed.mu.Unlock()
}

// scanErrors: bad input and STS refusals (AccessDenied, ExpiredToken,
// throttling) through the proxy, with --debug.
func scanErrors(t *testing.T, sc *scanner) {
	env, _ := newChainEnv(t)
	e := newScanEnv(t, sc, "errors", env)
	env.Set("ROLEHOP_FEDERATION_ENDPOINT", newFederation(t).URL)
	e.fails(t, 2, "exec", "nosuchprofile", "--debug", "--", "true")
	e.spawnsNothing()
	e.fails(t, 2, "export", "prod", "--format", "bogus")
	e.fails(t, 2, "whoami", "base", "--role-arn", "not-an-arn", "--debug")
	e.fails(t, 2, "exec", "prod", "--duration-seconds", "abc", "--", "true")
	e.fails(t, 2, "credential-process", "prod", "--token-code", "12")
	e.fails(t, 2, "write", "prod")
	e.fails(t, 2, "serve", "prod", "--addr", "0.0.0.0:0")
	mustCalls(t, env.Proxy, "AssumeRole", 0) // bad input costs no STS call
	e.fails(t, 2, "policy", "prod", "--hop", "9")
	e.fails(t, 2, "nosuchcommand")
	env.Proxy.InjectAccessDenied(100, ciUserARN, devRoleARN)
	e.fails(t, 1, "whoami", "prod", "--no-cache", "--debug")
	e.fails(t, 1, "export", "prod", "--no-cache", "--debug")
	e.fails(t, 1, "exec", "prod", "--no-cache", "--debug", "--", "true")
	e.spawnsNothing()
	e.fails(t, 1, "serve", "prod", "--debug")
	e.fails(t, 1, "console", "prod", "--print", "--debug")
	if res := e.runWith(t, withBrowser(), "", "console", "prod", "--debug"); res.Code != 1 {
		t.Errorf("console with a browser, refused: exit %d, want 1: %s", res.Code, res)
	}
	e.spawnsNothing() // no browser opens on a failure
	e.fails(t, 1, "doctor", "prod", "--debug")
	e.fails(t, 1, "write", "prod", "--to", "x", "--no-cache", "--debug")
	e.finish(t)

	// Expired credentials, in a world of their own (injections stay).
	env, _ = newChainEnv(t)
	e = newScanEnv(t, sc, "errors", env)
	e.ok(t, kindRole, "credential-process", "dev") // a cached hop 1 for the next failures
	env.Proxy.InjectExpiredToken("AssumeRole", 100)
	env.Proxy.InjectExpiredToken("GetCallerIdentity", 100)
	e.fails(t, 1, "credential-process", "prod", "--debug")
	e.fails(t, 1, "whoami", "dev", "--debug")
	e.fails(t, 1, "doctor", "prod", "--debug")
	e.fails(t, 1, "policy", "prod", "--debug")
	e.finish(t)
}

// scanServe: serve (token file, two profiles) and exec --server, each
// requested by a client; the endpoint's refusals are scanned too.
func scanServe(t *testing.T, sc *scanner) {
	env, _ := newChainEnv(t)
	e := newScanEnv(t, sc, "serve", env)
	e.start(t)
	tokenFile := filepath.Join(env.Dir, "serve-token")
	e.intended[tokenFile] = kindEndpoint

	serveRun := func(routes int, args ...string) {
		t.Helper()
		id := sc.newRunID()
		env.Set(argvRunVar, id)
		srv := startServe(t, env, routes, args...)
		env.Unset(argvRunVar)
		for _, r := range srv.Routes {
			sc.addSecret(kindEndpoint, r.Token)
			if _, err := sdkCallerARN(env, endpointProvider(r)); err != nil {
				t.Errorf("GetCallerIdentity via %s: %v", r.URL, err)
			}
			for _, tok := range []string{"", randHex(32), r.Token + "x"} {
				status, body, err := getEndpoint(r.URL, tok)
				if err != nil || status != 401 {
					t.Errorf("GET %s with a wrong token: %d %v", r.URL, status, err)
				}
				e.record("", []string{"serve (401 body)"}, "", string(body), "")
			}
			status, body, _ := getEndpoint(r.URL+"x", r.Token)
			if status != 404 {
				t.Errorf("GET %sx: %d", r.URL, status)
			}
			e.record("", []string{"serve (404 body)"}, "", string(body), "")
		}
		e.snapshot(t)
		srv.Stop(t)
		e.record(id, args, srv.Stdout(), srv.Stderr(), kindEndpoint)
		e.last = id
		e.spawnsNothing()
		e.snapshot(t)
	}
	serveRun(1, "serve", "prod", "--debug", "--token-file", tokenFile)
	serveRun(2, "serve", "dev", "prod", "--debug")

	out := filepath.Join(t.TempDir(), "child-token") // outside the scanned tree
	// sh and aws by name: found on PATH, through their shims.
	res := e.ok(t, "", "exec", "--server", "prod", "--debug", "--", "sh", "-c",
		`printf %s "$AWS_CONTAINER_AUTHORIZATION_TOKEN" > "$1" && exec "$0" sts get-caller-identity --output json`, "aws", out)
	e.spawns("sh", "aws")
	if res.Code == 0 {
		b, err := os.ReadFile(out)
		if err != nil || len(b) != 64 {
			t.Errorf("the child's token: %q %v", b, err)
		}
		sc.addSecret(kindEndpoint, string(b))
	}
	e.finish(t)
}

// scanWatch: write --watch with 3-second credentials, rewriting the
// section twice, stopped by SIGINT; files are snapshot while it runs.
func scanWatch(t *testing.T, sc *scanner) {
	env, _ := newChainEnv(t)
	e := newScanEnv(t, sc, "watch", env)
	e.start(t)
	e.strip = append(e.strip, "watched")
	env.Proxy.SetExpiration("AssumeRole", 3*time.Second)
	args := []string{"write", "prod", "--to", "watched", "--watch", "--refresh-at", "0.5", "--min-ttl", "1s", "--debug"}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := env.Command(ctx, requireRolehop(t), args...)
	id := sc.newRunID()
	cmd.Env = env.Environ(argvRunVar + "=" + id)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Until it has rewritten the section twice (6 AssumeRole calls: the
	// 2 hops of the first write and of each rewrite), at most 20 s on a
	// loaded machine.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && len(env.Proxy.Calls("AssumeRole")) < 6 {
		e.snapshot(t)
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if code, _ := exitStatus(cmd, err); code != 0 {
		t.Errorf("write --watch after SIGINT: exit %d: %v\n%s", code, err, stderr.String())
	}
	if n := len(env.Proxy.Calls("AssumeRole")); n < 4 {
		t.Errorf("write --watch made %d AssumeRole calls in 20 s of 3-second credentials, want at least 4 (a rewrite)", n)
	}
	e.record(id, args, stdout.String(), stderr.String(), "")
	e.last = id
	e.spawnsNothing()
	e.finish(t)
}

// scanSSO: device-code login, the SSO chain through the sinks, populate,
// a refresh, logout, a refused login, and PKCE logins through a browser
// opener (xdg-open, --browser-command).
func scanSSO(t *testing.T, sc *scanner) {
	env, srv := newSSOEnv(t)
	e := newScanEnv(t, sc, "sso", env)
	srv.SetDeviceScript(AnswerPending)
	e.ok(t, "", "login", "sso-dev", "--no-browser", "--use-device-code")
	e.ok(t, "", "whoami", "sso-dev", "--debug")
	e.ok(t, "", "exec", "roleb", "--debug", "--", "true")
	e.spawns("true")
	e.ok(t, kindRole, "credential-process", "sso-dev", "--debug")
	e.ok(t, kindRole, "export", "roleb", "--debug")
	e.ok(t, "", "explain", "roleb", "--debug")
	e.ok(t, "", "doctor", "sso-dev", "--debug")
	e.ok(t, "", "policy", "roleb", "--debug")
	e.ok(t, "", "sso", "populate", "--sso-session", "corp", "--dry-run")
	e.ok(t, "", "sso", "populate", "--sso-session", "corp")
	e.ok(t, "", "cache", "list")
	e.ok(t, "", "logout", "sso-dev")
	e.fails(t, 1, "whoami", "sso-dev", "--debug")
	// A token 1 minute from expiry: refreshed with its refresh token.
	tok, _ := seedSSOToken(t, env, srv, time.Minute)
	e.ok(t, "", "whoami", "sso-ro", "--debug")
	if len(srv.TokenCalls("refresh_token")) == 0 {
		t.Errorf("no refresh_token grant:\n%s", srv.CallLog())
	}
	e.ok(t, "", "logout", "--sso-session", "corp")
	srv.SetDeviceScript(AnswerDenied)
	e.fails(t, 1, "login", "--sso-session", "corp", "--no-browser", "--use-device-code")
	e.fails(t, 2, "login", "nosuchprofile")
	// With a browser, the authorization-code flow with PKCE: the
	// authorize page opens through xdg-open, then through a
	// --browser-command; the test loads the page each was given.
	pkce := func(extra []string, args ...string) {
		t.Helper()
		id := sc.newRunID()
		browsed := e.browse(id)
		res := e.runID(t, id, extra, "", args...)
		if err := browsed(); err != nil {
			t.Errorf("the browser of rolehop %s: %v", shellQuote(args), err)
		}
		if res.Code != 0 {
			t.Errorf("rolehop %s: %s\nSSO calls:\n%s", shellQuote(args), res, srv.CallLog())
		}
	}
	pkce(withBrowser(), "login", "sso-dev", "--force")
	e.spawns("xdg-open")
	e.ok(t, "", "whoami", "sso-dev", "--debug")
	pkce(nil, "login", "--sso-session", "corp", "--force", "--browser-command", "scan-browser")
	e.spawns("scan-browser")
	e.finish(t)
	e.addSSO(srv)
	for _, v := range []string{tok.AccessToken, tok.RefreshToken, tok.ClientSecret} {
		sc.addSecret(kindSSO, v)
	}
}

// scanWebIdentity: GitHub Actions' OIDC token and a web identity token
// file as sources.
func scanWebIdentity(t *testing.T, sc *scanner) {
	env := newTestEnv(t)
	e := newScanEnv(t, sc, "web identity", env)
	reqToken := "gh-request-" + randHex(16)
	oidc := newGitHubOIDC(t, reqToken)
	sc.addSecret(kindOIDC, reqToken)
	sc.addSecret(kindOIDC, fakeJWT)
	env.Set("ACTIONS_ID_TOKEN_REQUEST_URL", oidc.URL)
	env.Set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", reqToken)
	env.Set("GITHUB_RUN_ID", "4242")
	ghEnv := env.WriteFile("github_env", "")
	env.Set("GITHUB_ENV", ghEnv)
	e.intended[ghEnv] = kindRole
	gh := []string{"--web-identity", "github", "--role-arn", devRoleARN}
	e.ok(t, "", append([]string{"explain", "--debug"}, gh...)...)
	e.ok(t, "", append([]string{"exec", "--debug"}, append(gh, "--", "true")...)...)
	e.spawns("true")
	e.ok(t, "", append([]string{"whoami", "--debug", "--role-arn", prodRoleARN}, gh...)...)
	e.ok(t, kindRole, append([]string{"export", "--debug", "--format", "github"}, gh...)...)
	e.ok(t, "", append([]string{"policy", "--debug"}, gh...)...)
	e.ok(t, "", append([]string{"doctor", "--debug"}, gh...)...)
	env.Set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "wrong-"+reqToken)
	e.fails(t, 1, append([]string{"exec", "--no-cache", "--debug"}, append(gh, "--", "true")...)...)
	e.spawnsNothing()
	env.Unset("ACTIONS_ID_TOKEN_REQUEST_URL")
	env.Unset("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	env.Set("AWS_WEB_IDENTITY_TOKEN_FILE", e.input(t, "token", fakeJWT))
	env.Set("AWS_ROLE_ARN", devRoleARN)
	e.ok(t, "", "whoami", "--debug")
	e.ok(t, kindRole, "credential-process", "--debug")
	e.finish(t)
}

// scanTooling: version, completion, help, the hidden completion command
// and the command groups without a subcommand.
func scanTooling(t *testing.T, sc *scanner) {
	env, _ := newChainEnv(t)
	e := newScanEnv(t, sc, "tooling", env)
	e.ok(t, "", "version")
	e.ok(t, "", "version", "-o", "json")
	e.ok(t, "", "--version")
	e.ok(t, "", "completion")
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		e.ok(t, "", "completion", sh)
	}
	e.ok(t, "", "help")
	e.ok(t, "", "help", "exec")
	e.ok(t, "", "__complete", "exec", "")
	e.ok(t, "", "__complete", "login", "--sso-session", "")
	e.ok(t, "", "cache")
	e.ok(t, "", "sso")
	e.fails(t, 2, "version", "-o", "yaml")
	e.finish(t)
}
