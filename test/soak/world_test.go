//go:build unix

package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/cache"
	"github.com/rolehop/rolehop/internal/fsutil"
)

// configFile is the soak's ~/.aws/config: three chains sharing hop 1
// (base → dev), each with its own second hop.
const configFile = `[profile base]
region = us-east-1

[profile dev]
role_arn = arn:aws:iam::111111111111:role/dev
source_profile = base
role_session_name = soak

[profile prod]
role_arn = arn:aws:iam::222222222222:role/prod
source_profile = dev
role_session_name = alice
duration_seconds = 3600

[profile audit]
role_arn = arn:aws:iam::222222222222:role/audit
source_profile = dev
role_session_name = auditor

[profile ops]
role_arn = arn:aws:iam::333333333333:role/ops
source_profile = dev
role_session_name = operator
`

// credentialsFile is the soak's ~/.aws/credentials, with CRLF line
// endings: the source keys, comments, spacing that must survive byte for
// byte, other profiles, and the sections rolehop writes (named in
// sections, each already holding an old session).
func credentialsFile(k Keys, sections ...string) []byte {
	var b strings.Builder
	b.WriteString("# rolehop soak: comments, odd spacing and other profiles must survive byte for byte\n\n")
	fmt.Fprintf(&b, "[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n", k.AccessKeyID, k.SecretAccessKey)
	b.WriteString("; a semicolon comment\n[other]\naws_access_key_id=AKIAOTHER00000000001\naws_secret_access_key   =   otherSecret0000000000   \nregion\t=\teu-west-1\n\n")
	for i, s := range sections {
		fmt.Fprintf(&b, "[%s]\naws_access_key_id = ASIAOLD%013d\naws_secret_access_key = oldSecret%d\naws_session_token = oldToken%d\nx_security_token_expires = 2020-01-01T00:00:00Z\n", s, i, i, i)
		b.WriteString("   # an indented comment after the section\n\n")
	}
	b.WriteString("[   spaced   ]\naws_access_key_id    =    AKIASPACED0000000001\naws_secret_access_key=spaced\n\n")
	b.WriteString("[last]\naws_access_key_id = AKIALAST000000000001\naws_secret_access_key = last  # not a comment in configparser")
	return []byte(strings.ReplaceAll(b.String(), "\n", "\r\n"))
}

// world is one soak's isolated environment: HOME, config and credentials
// files, cache directory and the recording proxy in front of moto.
type world struct {
	dir, home, configPath, credsPath, cacheDir string
	proxy                                      *Proxy
	env                                        []string
	store                                      *cache.Store
}

func newWorld(t *testing.T, sections ...string) *world {
	t.Helper()
	requireHarness(t)
	dir := t.TempDir()
	w := &world{dir: dir, home: filepath.Join(dir, "home"), cacheDir: filepath.Join(dir, "cache")}
	w.configPath = filepath.Join(w.home, ".aws", "config")
	w.credsPath = filepath.Join(w.home, ".aws", "credentials")
	if err := os.MkdirAll(filepath.Dir(w.configPath), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.configPath, []byte(configFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.credsPath, credentialsFile(baseKeys, sections...), 0o600); err != nil {
		t.Fatal(err)
	}
	w.proxy = newProxy(t)
	w.store = cache.Open(w.cacheDir)
	w.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + w.home,
		"USER=soak",
		"AWS_CONFIG_FILE=" + w.configPath,
		"AWS_SHARED_CREDENTIALS_FILE=" + w.credsPath,
		"ROLEHOP_CACHE_DIR=" + w.cacheDir,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_STS=" + w.proxy.URL,
		"AWS_ENDPOINT_URL=" + w.proxy.URL,
		"AWS_DEFAULT_REGION=us-east-1",
	}
	return w
}

// command prepares rolehop with the world's environment, in its own
// process group (killed with the context).
func (w *world) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, rolehopBin, args...)
	cmd.Env = w.env
	cmd.Dir = w.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// WaitDelay starts when rolehop exits; when it runs out, Wait closes
	// the stdout pipe even if its reader has not drained it yet. With 100+
	// processes on two cores the reading goroutine can wait over 2 s for
	// the CPU: a credential-process run that exited 0 then came back
	// with only its first 512 bytes (bytes.Buffer reads 512 at a time). The
	// pipe closes at once when rolehop exits, unless a child kept it open,
	// so a long delay costs nothing.
	cmd.WaitDelay = 30 * time.Second
	return cmd
}

// result is one finished rolehop run.
type result struct {
	args           []string
	stdout, stderr string
	code           int  // exit code; -1 when killed by a signal
	killed         bool // ended by SIGKILL
	timedOut       bool
	took           time.Duration
}

func (r result) String() string {
	s := fmt.Sprintf("rolehop %s: exit %d", strings.Join(r.args, " "), r.code)
	if r.killed {
		s += " (killed)"
	}
	if r.timedOut {
		s += " (TIMED OUT)"
	}
	return s + fmt.Sprintf(" after %s; stderr: %q", r.took.Round(time.Millisecond), strings.TrimSpace(r.stderr))
}

func (r result) ok() bool { return r.code == 0 && !r.killed && !r.timedOut }

// finish waits for a started command and describes how it ended.
func finish(ctx context.Context, cmd *exec.Cmd, args []string, started time.Time, stdout, stderr *bytes.Buffer) result {
	err := cmd.Wait()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String(), took: time.Since(started), code: -1}
	if cmd.ProcessState != nil {
		r.code = cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.killed = ws.Signal() == syscall.SIGKILL
		}
	} else if err != nil {
		r.stderr += err.Error()
	}
	r.timedOut = ctx.Err() == context.DeadlineExceeded
	return r
}

// run runs rolehop to the end (bounded by timeout).
func (w *world) run(timeout time.Duration, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := w.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return result{args: args, code: -1, stderr: err.Error()}
	}
	return finish(ctx, cmd, args, started, &stdout, &stderr)
}

// consistent checks that a credential set is exactly one AssumeRole answer
// (all parts from it, none from another) handed out for role r.
func (w *world) consistent(what, id, secret, token string, r role) (Answer, error) {
	a, ok := w.proxy.Answer(id)
	switch {
	case id == "":
		return a, fmt.Errorf("%s: no access key id", what)
	case !ok:
		return a, fmt.Errorf("%s: access key id %s comes from no AssumeRole answer", what, id)
	case a.RoleARN != r.arn() || a.SessionName != r.session:
		return a, fmt.Errorf("%s: credentials of %s session %s, want %s session %s", what, a.RoleARN, a.SessionName, r.arn(), r.session)
	case secret != a.Secret:
		return a, fmt.Errorf("%s: key %s with the secret of another answer", what, id)
	case token != a.Token:
		return a, fmt.Errorf("%s: key %s with the session token of another answer", what, id)
	}
	return a, nil
}

// closeTimes reports whether two expirations are the same instant as far as
// the formats involved keep it (whole seconds).
func closeTimes(a, b time.Time) bool {
	d := a.Sub(b)
	return d > -time.Second && d < time.Second
}

// processOutput is credential_process Version 1 JSON.
type processOutput struct {
	Version                                                int
	AccessKeyId, SecretAccessKey, SessionToken, Expiration string //nolint:revive // the JSON names
}

// checkProcessOutput checks credential-process output: complete JSON whose
// credentials are one AssumeRole answer for role r.
func (w *world) checkProcessOutput(out string, r role) (string, error) {
	var p processOutput
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		return "", fmt.Errorf("credential-process output is not JSON (%d bytes): %v", len(out), err)
	}
	if p.Version != 1 {
		return "", fmt.Errorf("credential-process output has Version %d", p.Version)
	}
	a, err := w.consistent("credential-process output", p.AccessKeyId, p.SecretAccessKey, p.SessionToken, r)
	if err != nil {
		return "", err
	}
	exp, err := time.Parse(time.RFC3339, p.Expiration)
	if err != nil || !closeTimes(exp, a.Expiration) {
		return "", fmt.Errorf("credential-process output: Expiration %q, the answer's is %s", p.Expiration, a.Expiration)
	}
	return p.AccessKeyId, nil
}

// roleByARN finds a soak role.
func roleByARN(arn, session string) (role, bool) {
	for _, r := range []role{devRole, prodRole, auditRole, opsRole} {
		if r.arn() == arn && r.session == session {
			return r, true
		}
	}
	return role{}, false
}

// cacheState is what a scan of the cache directory found.
type cacheState struct {
	entries map[string][]byte // entry file name → content
	roles   map[string]string // entry file name → role ARN
	ids     map[string]string // entry file name → access key id
	temps   []string          // temp files of WriteFileAtomic (paths)
	locks   []string          // lock files (paths)
}

// scanCache reads every file of the cache directory. Each entry must be
// one the cache reads (Store.Get; a torn or foreign file is corrupt here,
// not a miss) holding exactly one AssumeRole answer for the entry's role
// and session; besides entries there may only be lock files and temp files.
// An entry that disappears while it is read (cache clear) is skipped.
func (w *world) scanCache() (cacheState, []error) {
	st := cacheState{entries: map[string][]byte{}, roles: map[string]string{}, ids: map[string]string{}}
	names, err := os.ReadDir(w.cacheDir)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, []error{err}
	}
	var errs []error
	for _, d := range names {
		name, path := d.Name(), filepath.Join(w.cacheDir, d.Name())
		switch {
		case strings.HasPrefix(name, ".") && strings.Contains(name, ".json.tmp-"):
			st.temps = append(st.temps, path)
		case strings.HasSuffix(name, ".lock"):
			st.locks = append(st.locks, path)
		case strings.HasSuffix(name, ".json"):
			b, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			e, ok := w.store.Get(strings.TrimSuffix(name, ".json"))
			if !ok {
				if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
					continue
				}
				errs = append(errs, fmt.Errorf("cache entry %s is corrupt (%d bytes): the cache cannot read it", name, len(b)))
				continue
			}
			r, known := roleByARN(e.Meta.RoleARN, e.Meta.SessionName)
			if !known {
				errs = append(errs, fmt.Errorf("cache entry %s is for an unknown step %s/%s", name, e.Meta.RoleARN, e.Meta.SessionName))
				continue
			}
			c := e.Credentials
			a, err := w.consistent("cache entry "+name, c.AccessKeyID, c.SecretAccessKey, c.SessionToken, r)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !closeTimes(c.Expiration, a.Expiration) {
				errs = append(errs, fmt.Errorf("cache entry %s: expiration %s, the answer's is %s", name, c.Expiration, a.Expiration))
				continue
			}
			st.entries[name], st.roles[name], st.ids[name] = b, e.Meta.RoleARN, c.AccessKeyID
		default:
			errs = append(errs, fmt.Errorf("unexpected file %s in the cache directory", name))
		}
	}
	return st, errs
}

// freeLocks checks that nobody holds any of the lock files: each must be
// taken at once.
func freeLocks(paths ...string) []error {
	var errs []error
	for _, p := range paths {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		l, err := fsutil.Acquire(context.Background(), p, 0, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("lock %s is still held: %v", filepath.Base(p), err))
			continue
		}
		l.Release()
	}
	return errs
}

// credsTemps lists the temp files WriteFileAtomic left next to the
// credentials file.
func (w *world) credsTemps() []string {
	m, _ := filepath.Glob(filepath.Join(filepath.Dir(w.credsPath), ".credentials.tmp-*"))
	return m
}

// expiryFormat is how rolehop writes x_security_token_expires.
const expiryFormat = "2006-01-02T15:04:05Z"

// checkCredentials checks the credentials file against orig: it parses,
// has mode 0600, and is byte for byte orig with each section in sections
// (name → role) either as in orig or holding exactly the keys of one
// AssumeRole answer for that role, as rolehop writes them. It returns the
// access key id found in each section ("" when it is orig's).
func (w *world) checkCredentials(orig []byte, sections map[string]role) (map[string]string, error) {
	data, err := os.ReadFile(w.credsPath)
	if err != nil {
		return nil, err
	}
	if _, err := awsconfig.Parse(w.credsPath, data); err != nil {
		return nil, fmt.Errorf("the credentials file does not parse: %v", err)
	}
	if st, err := os.Stat(w.credsPath); err != nil || st.Mode().Perm() != 0o600 {
		return nil, fmt.Errorf("the credentials file's mode is %v (%v), want 0600", st.Mode(), err)
	}
	want := orig
	ids := map[string]string{}
	names := make([]string, 0, len(sections))
	for name := range sections {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		keys, ok, err := awsconfig.SectionKeys(data, name)
		if err != nil || !ok {
			return nil, fmt.Errorf("the credentials file has no section [%s] (%v)", name, err)
		}
		old, _, _ := awsconfig.SectionKeys(orig, name)
		id := keys["aws_access_key_id"]
		if id == old["aws_access_key_id"] {
			ids[name] = ""
			continue
		}
		a, err := w.consistent("section ["+name+"]", id, keys["aws_secret_access_key"], keys["aws_session_token"], sections[name])
		if err != nil {
			return nil, err
		}
		kv := []awsconfig.KeyValue{
			{Key: "aws_access_key_id", Value: a.AccessKeyID},
			{Key: "aws_secret_access_key", Value: a.Secret},
			{Key: "aws_session_token", Value: a.Token},
			{Key: "x_security_token_expires", Value: a.Expiration.UTC().Format(expiryFormat)},
		}
		if want, err = awsconfig.ReplaceSection(want, name, kv); err != nil {
			return nil, err
		}
		ids[name] = id
	}
	if !bytes.Equal(want, data) {
		return nil, fmt.Errorf("the credentials file is not the original with whole sections replaced: %s", firstDiff(want, data))
	}
	return ids, nil
}

// firstDiff describes where two byte strings start to differ.
func firstDiff(want, got []byte) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	clip := func(b []byte) []byte {
		lo, hi := max(0, i-40), min(len(b), i+40)
		return b[lo:hi]
	}
	return fmt.Sprintf("%d vs %d bytes, first difference at byte %d: want …%q…, got …%q…", len(want), len(got), i, clip(want), clip(got))
}

// ageFiles makes files look a few minutes old, so that CleanTemps (which
// spares temp files of writers that may still be running) treats them as
// garbage.
func ageFiles(t *testing.T, paths []string) {
	t.Helper()
	old := time.Now().Add(-5 * time.Minute)
	for _, p := range paths {
		if err := os.Chtimes(p, old, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
}

// existing returns those of paths that still exist.
func existing(paths []string) []string {
	var out []string
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}
