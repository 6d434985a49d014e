//go:build linux

// The SSO guide's picker step needs a pseudo-terminal (pick_test.go's
// startPTY, Linux only), hence linux rather than unix.

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The guides of examples/<scenario>/guide.sh, run as a user runs them: by
// path (their shebang picks bash), with the real rolehop binary and the
// real aws CLI from PATH, against moto (through the test's recording proxy)
// and the harness's test servers (container endpoint, IAM Identity Center,
// GitHub OIDC). Everything test-only reaches a guide through its
// environment: endpoints, a stand-in GITHUB_ENV, a docker shim first on
// PATH. Each test checks what every step must produce: the identities
// printed, the files written, the calls rolehop sent, and that no secret
// was printed.

// guideRunTimeout bounds one guide run (the SSO guide's long job and
// write --watch take ~15 s of it).
const guideRunTimeout = 90 * time.Second

// guideCase is one guide and its test.
type guideCase struct {
	dir string
	// required lists inputs without a default: each one missing must stop
	// the guide before any step with a one-line error naming it.
	required []string
	// inputs is a complete set of the required inputs, for the
	// required-input check (no server needed: the guide must stop before
	// using them).
	inputs map[string]string
	test   func(t *testing.T)
}

var guideCases = []guideCase{
	{
		dir:      "cloudshell-switch-role",
		required: []string{"TARGET_ROLE_ARN", "MFA_SERIAL", "AWS_CONTAINER_CREDENTIALS_FULL_URI"},
		inputs: map[string]string{
			"TARGET_ROLE_ARN":                    "arn:aws:iam::999999999999:role/admin",
			"MFA_SERIAL":                         "arn:aws:iam::555555555555:mfa/alice",
			"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/creds",
		},
		test: testGuideCloudShell,
	},
	{
		dir:      "docker-exported-credentials",
		required: []string{"TARGET_ROLE_ARN"},
		inputs:   map[string]string{"TARGET_ROLE_ARN": "arn:aws:iam::111111111111:role/dev"},
		test:     testGuideDocker,
	},
	{
		dir:      "sso-roleb-kept-fresh",
		required: []string{"SSO_START_URL", "ROLE_A_ACCOUNT_ID", "ROLE_A_NAME", "ROLE_B_ARN"},
		inputs: map[string]string{
			"SSO_START_URL":     ssoStartURL,
			"ROLE_A_ACCOUNT_ID": devAccount,
			"ROLE_A_NAME":       "Developer",
			"ROLE_B_ARN":        "arn:aws:iam::222222222222:role/RoleB",
		},
		test: testGuideSSO,
	},
	{
		dir:      "cross-account-lambda",
		required: []string{"ROLE_B_ARN", "BUCKET_B"},
		inputs: map[string]string{
			"ROLE_B_ARN": "arn:aws:iam::222222222222:role/bot-in-b",
			"BUCKET_B":   "reports-b",
		},
		test: testGuideCrossAccount,
	},
	{
		dir:      "ci-env-keys",
		required: []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "TARGET_ROLE_ARN"},
		inputs: map[string]string{
			"AWS_ACCESS_KEY_ID":     "AKIAGUIDEINPUTS00001",
			"AWS_SECRET_ACCESS_KEY": "guide-inputs-secret",
			"TARGET_ROLE_ARN":       "arn:aws:iam::222222222222:role/terraform",
		},
		test: testGuideCIEnvKeys,
	},
	{
		dir:      "ci-oidc",
		required: []string{"ROLE_ARN", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"},
		inputs: map[string]string{
			"ROLE_ARN":                       "arn:aws:iam::111111111111:role/gha-ci",
			"ACTIONS_ID_TOKEN_REQUEST_URL":   "http://127.0.0.1:9/token",
			"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token",
		},
		test: testGuideCIOIDC,
	},
}

// TestGuides runs every guide (each in parallel with the others).
func TestGuides(t *testing.T) {
	t.Parallel()
	for _, g := range guideCases {
		t.Run(g.dir, func(t *testing.T) {
			t.Parallel()
			g.test(t)
		})
	}
}

// TestGuidesIndex: every examples/<dir>/guide.sh has a test here, a
// README.md, and a link in examples/README.md; every guide follows the
// conventions (bash shebang, set -euo pipefail, executable, valid syntax).
func TestGuidesIndex(t *testing.T) {
	t.Parallel()
	root := guidesRoot(t)
	found, err := filepath.Glob(filepath.Join(root, "examples", "*", "guide.sh"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, f := range found {
		dirs = append(dirs, filepath.Base(filepath.Dir(f)))
	}
	var tested []string
	for _, g := range guideCases {
		tested = append(tested, g.dir)
	}
	sort.Strings(dirs)
	sort.Strings(tested)
	if !slices.Equal(dirs, tested) {
		t.Errorf("examples/*/guide.sh are %q, but the guide tests cover %q", dirs, tested)
	}
	index := readFile(t, filepath.Join(root, "examples", "README.md"))
	for _, d := range tested {
		script := filepath.Join(root, "examples", d, "guide.sh")
		info, err := os.Stat(script)
		if err != nil {
			t.Errorf("%s: %v", d, err)
			continue
		}
		if info.Mode().Perm()&0o111 == 0 {
			t.Errorf("examples/%s/guide.sh is not executable", d)
		}
		src := readFile(t, script)
		if !strings.HasPrefix(src, "#!/usr/bin/env bash\n") {
			t.Errorf("examples/%s/guide.sh does not start with #!/usr/bin/env bash", d)
		}
		if !strings.Contains(src, "\nset -euo pipefail\n") {
			t.Errorf("examples/%s/guide.sh lacks set -euo pipefail", d)
		}
		if !regexp.MustCompile(`(?m)^# Seed: 00\d`).MatchString(src) {
			t.Errorf("examples/%s/guide.sh's header does not name its seed", d)
		}
		if out, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
			t.Errorf("bash -n examples/%s/guide.sh: %v\n%s", d, err, out)
		}
		if _, err := os.Stat(filepath.Join(root, "examples", d, "README.md")); err != nil {
			t.Errorf("examples/%s has no README.md", d)
		}
		if !strings.Contains(index, "("+d+"/README.md)") {
			t.Errorf("examples/README.md does not link %s/README.md", d)
		}
	}
}

// TestGuidesRequiredInputs: a guide missing one of its required inputs
// stops at once, with exit status 2 and one line on stderr that names it.
func TestGuidesRequiredInputs(t *testing.T) {
	t.Parallel()
	requireRolehop(t)
	shim, err := filepath.Abs(filepath.Join("testdata", "docker"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range guideCases {
		t.Run(g.dir, func(t *testing.T) {
			t.Parallel()
			for _, name := range g.required {
				env := newTestEnv(t)
				var extra []string
				for k, v := range g.inputs {
					if k != name {
						extra = append(extra, k+"="+v)
					}
				}
				extra = append(extra, name) // removed
				res := runGuideWithBins(t, env, g.dir, map[string]string{"docker": shim}, extra...)
				if res.Code != 2 {
					t.Errorf("without %s: exit %d, want 2: %s", name, res.Code, res)
				}
				lines := stderrLines(res)
				if len(lines) != 1 || !strings.Contains(lines[0], name) || !strings.HasPrefix(lines[0], "guide.sh: ") {
					t.Errorf("without %s: stderr %q, want one line naming it", name, res.Stderr)
				}
				if strings.Contains(res.Stdout, "==> ") {
					t.Errorf("without %s: a step ran:\n%s", name, res.Stdout)
				}
			}
		})
	}
}

// ---- running a guide ----

var (
	guidesRootOnce sync.Once
	guidesRootDir  string
	guidesRootErr  error
)

func guidesRoot(t *testing.T) string {
	t.Helper()
	guidesRootOnce.Do(func() { guidesRootDir, guidesRootErr = repoRoot() })
	if guidesRootErr != nil {
		t.Fatal(guidesRootErr)
	}
	return guidesRootDir
}

// guideBinDir makes a directory holding rolehop (a link to the binary under
// test) and the given extra programs (name → path), for the front of PATH.
func guideBinDir(t *testing.T, env *TestEnv, extra map[string]string) string {
	t.Helper()
	bin := requireRolehop(t)
	dir := filepath.Join(env.Dir, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{"rolehop": bin}
	for k, v := range extra {
		links[k] = v
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// guideEnviron is env's environment for a guide: PATH with rolehop (and
// extraBins) first, WORK_DIR and TMPDIR inside the test's directory, then
// extra (KEY=VALUE, or KEY to remove).
func guideEnviron(t *testing.T, env *TestEnv, extraBins map[string]string, extra ...string) []string {
	t.Helper()
	bin := guideBinDir(t, env, extraBins)
	base := []string{
		"PATH=" + bin + string(os.PathListSeparator) + env.Get("PATH"),
		"WORK_DIR=" + filepath.Join(env.Dir, "work"),
		"TMPDIR=" + env.Dir,
	}
	return env.Environ(append(base, extra...)...)
}

// guideScript is the absolute path of examples/<dir>/guide.sh.
func guideScript(t *testing.T, dir string) string {
	t.Helper()
	return filepath.Join(guidesRoot(t), "examples", dir, "guide.sh")
}

// runGuide runs a guide with env's environment plus extra, in a new session
// without a controlling terminal (as in CI: nothing can prompt), and
// returns its outcome. Whatever the guide left running is killed.
func runGuide(t *testing.T, env *TestEnv, dir string, extra ...string) Result {
	t.Helper()
	return runGuideWithBins(t, env, dir, nil, extra...)
}

func runGuideWithBins(t *testing.T, env *TestEnv, dir string, bins map[string]string, extra ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guideRunTimeout)
	defer cancel()
	cmd := env.Command(ctx, guideScript(t, dir))
	cmd.Env = guideEnviron(t, env, bins, extra...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // leftovers of the session
	}
	res := Result{Stdout: stdout.String(), Stderr: stderr.String(), Duration: time.Since(start)}
	res.Code, res.Signal = exitStatus(cmd, err)
	res.TimedOut = ctx.Err() == context.DeadlineExceeded
	if res.Code == -1 && res.Signal == 0 && !res.TimedOut {
		t.Fatalf("running examples/%s/guide.sh: %v", dir, err)
	}
	t.Logf("$ examples/%s/guide.sh → %s", dir, res.brief())
	return res
}

// wantGuideOK asserts the guide ran every step to the end: exit 0, the
// numbered steps 1…steps echoed in order, and the final "Done." step.
func wantGuideOK(t *testing.T, res Result, steps int) {
	t.Helper()
	t.Logf("guide stdout:\n%s", res.Stdout)
	if res.Code != 0 {
		t.Fatalf("guide failed: %s", res)
	}
	at := 0
	for i := 1; i <= steps; i++ {
		j := strings.Index(res.Stdout[at:], fmt.Sprintf("\n==> %d. ", i))
		if j < 0 {
			t.Fatalf("step %d not echoed (in order):\n%s", i, res.Stdout)
		}
		at += j + 1
	}
	if !strings.Contains(res.Stdout[at:], "\n==> Done.") {
		t.Fatalf("the guide did not reach its Done. step:\n%s", res.Stdout)
	}
}

// guideStep returns the output lines printed after the n-th (from 1) echoed
// command line starting with "+ "+cmd, up to the next echoed command or
// step. It fails the test when there is no such command.
func guideStep(t *testing.T, out, cmd string, n int) []string {
	t.Helper()
	lines := strings.Split(out, "\n")
	seen := 0
	for i, l := range lines {
		if !strings.HasPrefix(l, "+ "+cmd) {
			continue
		}
		if seen++; seen < n {
			continue
		}
		var got []string
		for _, o := range lines[i+1:] {
			if strings.HasPrefix(o, "+ ") || strings.HasPrefix(o, "==> ") {
				break
			}
			got = append(got, o)
		}
		return got
	}
	t.Fatalf("no echoed command %q (occurrence %d) in the output:\n%s", "+ "+cmd, n, out)
	return nil
}

// wantStepPrints asserts the n-th echoed command starting with cmd printed
// a line equal to want (or, when want ends in "*", starting with it).
func wantStepPrints(t *testing.T, out, cmd string, n int, want string) {
	t.Helper()
	lines := guideStep(t, out, cmd, n)
	for _, l := range lines {
		if l == want || strings.HasSuffix(want, "*") && strings.HasPrefix(l, strings.TrimSuffix(want, "*")) {
			return
		}
	}
	t.Errorf("+ %s… (#%d) printed %q, want a line %q", cmd, n, lines, want)
}

// ---- moto accounts of the guides ----

// Roles the guides assume (moto ignores trust policies; they exist so that
// the IAM side is as a user would have it) and the CI user of seed 004.
const (
	guideCloudShellRole = "arn:aws:iam::555555555555:role/cloudshell-user"
	guideAdminRole      = "arn:aws:iam::999999999999:role/admin"
	guideMFASerial      = "arn:aws:iam::555555555555:mfa/alice"
	guideRoleB          = "arn:aws:iam::222222222222:role/RoleB"
	guideTerraformRole  = "arn:aws:iam::222222222222:role/terraform"
	guideGHARole        = "arn:aws:iam::111111111111:role/gha-ci"
	guideDeployRole     = "arn:aws:iam::222222222222:role/deploy"
	guideBotInB         = "arn:aws:iam::222222222222:role/bot-in-b"
	guideBotBackInA     = "arn:aws:iam::111111111111:role/bot-back-in-a"
	guideBotLambda      = "arn:aws:iam::111111111111:role/bot-lambda"
	guideCIUserName     = "iam-example-user"
)

var (
	guideSeedMu   sync.Mutex
	guideSeedKeys *Keys
)

// seedGuides creates (once per package run) the roles above and user
// iam-example-user with an access key in 111111111111, and returns the key.
func seedGuides(t *testing.T) Keys {
	t.Helper()
	seedAccounts(t)
	guideSeedMu.Lock()
	defer guideSeedMu.Unlock()
	if guideSeedKeys != nil {
		return *guideSeedKeys
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, arn := range []string{guideCloudShellRole, guideAdminRole, guideRoleB, guideTerraformRole, guideGHARole,
		guideDeployRole, guideBotInB, guideBotBackInA, guideBotLambda} {
		account, _, name := arnName(arn)
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"sts:AssumeRole"}]}`
		_, err := motoIAM(account).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
		if err != nil && !isAlreadyExists(err) {
			t.Fatalf("seed: CreateRole %s: %v", arn, err)
		}
	}
	dev := motoIAM(devAccount)
	if _, err := dev.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(guideCIUserName)}); err != nil && !isAlreadyExists(err) {
		t.Fatalf("seed: CreateUser %s: %v", guideCIUserName, err)
	}
	key, err := dev.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(guideCIUserName)})
	if err != nil {
		t.Fatalf("seed: CreateAccessKey: %v", err)
	}
	guideSeedKeys = &Keys{AccessKeyID: aws.ToString(key.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey)}
	return *guideSeedKeys
}

// guideCloudShellEndpoint starts a CloudShell-like container endpoint whose
// credentials are a session of cloudshell-user (555555555555) named alice,
// and points env at it.
func guideCloudShellEndpoint(t *testing.T, env *TestEnv, token string) *ContainerEndpoint {
	t.Helper()
	seed := seedAccounts(t)
	ctr := newContainerEndpoint(t, token, motoAssumeRole(t, seed.CIUser, guideCloudShellRole, "alice"))
	env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", ctr.URL)
	env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", ctr.Token)
	return ctr
}

// ---- 1. cloudshell-switch-role (seed 000) ----

func testGuideCloudShell(t *testing.T) {
	env := newTestEnv(t)
	seedGuides(t)
	ctr := guideCloudShellEndpoint(t, env, "cloudshell-guide-token-0123456789")
	work := filepath.Join(env.Dir, "work")

	res := runGuide(t, env, "cloudshell-switch-role",
		"TARGET_ROLE_ARN="+guideAdminRole, "MFA_SERIAL="+guideMFASerial, "MFA_CODE=123456", "SESSION_NAME=alice")
	wantGuideOK(t, res, 5)
	out := res.Stdout
	admin := assumedARN("999999999999", "admin", "alice")

	// 1: the container credentials; 2: ad hoc; 3: the profile.
	wantStepPrints(t, out, "aws sts get-caller-identity", 1, assumedARN("555555555555", "cloudshell-user", "alice"))
	wantStepPrints(t, out, "rolehop exec --role-arn "+guideAdminRole+" --serial-number "+guideMFASerial+" --token-code ******", 1, admin)
	wantStepPrints(t, out, "rolehop exec prod", 1, admin)

	// One AssumeRole, from the container's credentials, with the MFA device
	// and code; the profile form was served from rolehop's cache.
	c := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
	wantParam(t, c, "RoleArn", guideAdminRole)
	wantParam(t, c, "SerialNumber", guideMFASerial)
	wantParam(t, c, "TokenCode", "123456")
	wantParam(t, c, "RoleSessionName", "alice")
	if c.AccessKeyID != ctr.Keys.AccessKeyID {
		t.Errorf("AssumeRole signed with %q, want the container credentials' key %q", c.AccessKeyID, ctr.Keys.AccessKeyID)
	}
	if ctr.Requests() == 0 || ctr.Unauthorized() != 0 {
		t.Errorf("container endpoint: %d requests, %d unauthorized", ctr.Requests(), ctr.Unauthorized())
	}
	if strings.Contains(out, "123456") {
		t.Errorf("the MFA code was printed:\n%s", out)
	}

	// 3: the seed's profile, as written.
	cfg := sectionKeys(t, filepath.Join(work, "config"))["profile prod"]
	for k, v := range map[string]string{"role_arn": guideAdminRole, "credential_source": "EcsContainer", "mfa_serial": guideMFASerial, "role_session_name": "alice"} {
		if cfg[k] != v {
			t.Errorf("[profile prod] %s = %q, want %q", k, cfg[k], v)
		}
	}

	// 4: explain names the container source and the MFA path.
	explain := strings.Join(guideStep(t, out, "rolehop explain prod", 1), "\n")
	for _, want := range []string{"Source: container credentials endpoint " + ctr.URL, "credential_source = EcsContainer", "mfa serial    " + guideMFASerial, "directly with MFA"} {
		if !strings.Contains(explain, want) {
			t.Errorf("explain output lacks %q:\n%s", want, explain)
		}
	}

	// 5: the trust policy: the CloudShell role as principal, MFA required;
	// IAM (moto) accepts it as the admin role's trust policy.
	raw := readFile(t, filepath.Join(work, "trust-policy.json"))
	var doc struct {
		Statement []struct {
			Effect    string
			Principal struct{ AWS string }
			Action    string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatalf("trust-policy.json: %v\n%s", err, raw)
	}
	if len(doc.Statement) != 1 || doc.Statement[0].Principal.AWS != guideCloudShellRole || doc.Statement[0].Action != "sts:AssumeRole" ||
		doc.Statement[0].Condition["Bool"]["aws:MultiFactorAuthPresent"] != "true" {
		t.Errorf("trust policy %s, want %s may sts:AssumeRole with aws:MultiFactorAuthPresent", raw, guideCloudShellRole)
	}
	if !strings.Contains(out, strings.TrimSpace(raw)) {
		t.Errorf("the trust policy was not shown")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := motoIAM("999999999999").UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{
		RoleName: aws.String("admin"), PolicyDocument: aws.String(raw),
	}); err != nil {
		t.Errorf("IAM refuses the printed trust policy: %v", err)
	}

	assertNoSecrets(t, "guide output", res.Stdout+res.Stderr, append(secretsOf(env, ctr.Keys), ctr.Token))
}

// ---- 2. docker-exported-credentials (seed 001) ----

func testGuideDocker(t *testing.T) {
	env := newTestEnv(t)
	seedGuides(t)
	ctr := guideCloudShellEndpoint(t, env, "docker-guide-token-0123456789")
	shim, err := filepath.Abs(filepath.Join("testdata", "docker"))
	if err != nil {
		t.Fatal(err)
	}
	shimLog := filepath.Join(env.Dir, "docker.log")
	work := filepath.Join(env.Dir, "work")
	const readOnly = "arn:aws:iam::aws:policy/ReadOnlyAccess"

	res := runGuideWithBins(t, env, "docker-exported-credentials", map[string]string{"docker": shim},
		"TARGET_ROLE_ARN="+devRoleARN, "REGION=ap-northeast-1", "KEEP_ENV_FILE=1", "DOCKER_SHIM_LOG="+shimLog)
	wantGuideOK(t, res, 4)
	out := res.Stdout

	// The identities: CloudShell's, then the scoped-down dev session inside
	// both containers.
	wantStepPrints(t, out, "aws sts get-caller-identity", 1, assumedARN("555555555555", "cloudshell-user", "alice"))
	devSession := "arn:aws:sts::" + devAccount + ":assumed-role/dev/rolehop-*"
	wantStepPrints(t, out, "docker run --rm --env-file", 1, devSession)
	wantStepPrints(t, out, "rolehop exec --role-arn "+devRoleARN+" --policy-arns "+readOnly+" --region ap-northeast-1 -- docker run", 1, devSession)

	// The env file: docker's format, region included, 0600.
	envFile := filepath.Join(work, "aws.env")
	wantMode(t, envFile, 0o600)
	vars := map[string]string{}
	var names []string
	for _, l := range strings.Split(strings.TrimRight(readFile(t, envFile), "\n"), "\n") {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("env file line %q is not NAME=VALUE", l)
		}
		vars[k] = v
		names = append(names, k)
	}
	wantNames := []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "AWS_ACCOUNT_ID", "AWS_REGION", "AWS_DEFAULT_REGION"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("env file variables %q, want %q", names, wantNames)
	}
	if vars["AWS_REGION"] != "ap-northeast-1" || vars["AWS_DEFAULT_REGION"] != "ap-northeast-1" {
		t.Errorf("env file region %q/%q, want ap-northeast-1", vars["AWS_REGION"], vars["AWS_DEFAULT_REGION"])
	}

	// Every AssumeRole: dev, scoped down by ReadOnlyAccess, from the
	// container credentials; the file holds what it returned.
	calls := env.Proxy.Calls("AssumeRole")
	if len(calls) == 0 {
		t.Fatalf("no AssumeRole:\n%s", callList(env.Proxy.Calls("")))
	}
	returned := map[string]bool{}
	for _, c := range calls {
		wantParam(t, c, "RoleArn", devRoleARN)
		if got := c.Members("PolicyArns", "arn"); !slices.Equal(got, []string{readOnly}) {
			t.Errorf("AssumeRole PolicyArns %q, want [%s]", got, readOnly)
		}
		if c.AccessKeyID != ctr.Keys.AccessKeyID {
			t.Errorf("AssumeRole signed with %q, want the container credentials' key", c.AccessKeyID)
		}
		id, secret, _ := c.ReturnedCredentials()
		returned[id] = true
		if id == vars["AWS_ACCESS_KEY_ID"] && secret != vars["AWS_SECRET_ACCESS_KEY"] {
			t.Errorf("env file secret is not the one AssumeRole returned")
		}
	}
	if !returned[vars["AWS_ACCESS_KEY_ID"]] {
		t.Errorf("env file key %q was not returned by any AssumeRole", vars["AWS_ACCESS_KEY_ID"])
	}
	// The containers called STS with the scoped session, not the host's.
	gci := env.Proxy.Calls("GetCallerIdentity")
	if len(gci) != 3 {
		t.Fatalf("%d GetCallerIdentity calls, want 3 (host, two containers):\n%s", len(gci), callList(gci))
	}
	for _, c := range gci[1:] {
		if !returned[c.AccessKeyID] {
			t.Errorf("a container called STS with key %q, not the scoped-down session's", c.AccessKeyID)
		}
	}

	// What docker (the shim) gave the containers: the env file's variables
	// or the -e names, plus the endpoint; nothing else of the host.
	runs := strings.Split(strings.TrimSpace(readFile(t, shimLog)), "\n")
	want := []string{
		"run image=amazon/aws-cli env=" + strings.Join(wantNames, ",") + ",AWS_ENDPOINT_URL,AWS_ENDPOINT_URL_STS args=sts get-caller-identity --query Arn --output text",
		"run image=amazon/aws-cli env=AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,AWS_SESSION_TOKEN,AWS_REGION,AWS_DEFAULT_REGION,AWS_ENDPOINT_URL,AWS_ENDPOINT_URL_STS args=sts get-caller-identity --query Arn --output text",
	}
	if !slices.Equal(runs, want) {
		t.Errorf("docker runs:\n%s\nwant:\n%s", strings.Join(runs, "\n"), strings.Join(want, "\n"))
	}

	assertNoSecrets(t, "guide output", res.Stdout+res.Stderr, append(secretsOf(env, ctr.Keys), ctr.Token))
}

// TestGuideDockerShim: the shim gives the "container" only what docker
// would: -e NAME copies the caller's value, -e NAME=VALUE and --env-file
// lines are literal, nothing else of the caller's environment leaks.
func TestGuideDockerShim(t *testing.T) {
	t.Parallel()
	requireHarness(t)
	shim, err := filepath.Abs(filepath.Join("testdata", "docker"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// A fake aws entrypoint that prints its environment and arguments.
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte("#!/bin/sh\nenv | sort\necho \"args=$*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	envFile := filepath.Join(dir, "e.env")
	if err := os.WriteFile(envFile, []byte("# comment\n\nFROM_FILE=a b 'c'\nCOPIED\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(shim, "run", "--rm", "-e", "FROM_HOST", "-e", "LITERAL=x=y", "-e", "UNSET_ON_HOST", "--env-file", envFile, "amazon/aws-cli", "s3", "ls")
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "FROM_HOST=h", "COPIED=c", "AWS_ACCESS_KEY_ID=host-key", "SECRET_OF_HOST=s"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("shim: %v\n%s", err, out)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(l, "HOME=") || strings.HasPrefix(l, "PWD=") || strings.HasPrefix(l, "SHLVL=") || strings.HasPrefix(l, "_=") {
			continue // set by the shell running the fake entrypoint, or the container's HOME
		}
		got = append(got, l)
	}
	want := []string{"COPIED=c", "FROM_FILE=a b 'c'", "FROM_HOST=h", "LITERAL=x=y", "PATH=" + bin + ":/usr/bin:/bin", "args=s3 ls"}
	if !slices.Equal(got, want) {
		t.Errorf("container environment and args:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, bad := range [][]string{{"ps"}, {"run", "-v", "/:/host", "amazon/aws-cli"}, {"run", "alpine", "true"}} {
		c := exec.Command(shim, bad...)
		c.Env = []string{"PATH=" + bin + ":/usr/bin:/bin"}
		if out, err := c.CombinedOutput(); err == nil || !strings.Contains(string(out), "docker (test shim):") {
			t.Errorf("shim %q: %v %q, want a refusal", bad, err, out)
		}
	}
}

// ---- 3. sso-roleb-kept-fresh (seed 002) ----

func testGuideSSO(t *testing.T) {
	env := newTestEnv(t)
	seedGuides(t)
	srv := newSSOServer(t)
	useSSOServer(env, srv)
	srv.SetDeviceScript(AnswerPending) // the user takes one poll to approve
	// RoleB's sessions last 4 s: the long job and write --watch must
	// outlive several of them.
	env.Proxy.SetExpiration("AssumeRole", 4*time.Second)
	work := filepath.Join(env.Dir, "work")

	// On a terminal, for the picker of step 7; stdout to a file.
	stdoutPath := filepath.Join(env.Dir, "stdout")
	stdout, err := os.Create(stdoutPath)
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	extra := guideEnviron(t, env, nil,
		"SSO_START_URL="+ssoStartURL, "SSO_REGION="+ssoRegion, "SSO_SESSION=corp",
		"ROLE_A_ACCOUNT_ID="+devAccount, "ROLE_A_NAME=Developer", "ROLE_B_ARN="+guideRoleB,
		"JOB_ROUNDS=4", "JOB_INTERVAL=2", "WATCH_SECONDS=6", "MIN_TTL=1s",
		"PICK_FILTER=prod Admin", "TERM=xterm-256color", "NO_COLOR=1")
	s := startPTY(t, env, extra, stdout, guideScript(t, "sso-roleb-kept-fresh"))

	// Wait for the picker (after ~20 s of steps), then choose with Enter.
	deadline := time.Now().Add(guideRunTimeout)
	countRe := regexp.MustCompile(` 1/\d+`)
	for {
		if data, _ := os.ReadFile(stdoutPath); bytes.Contains(data, []byte("+ rolehop pick --filter")) {
			if countRe.MatchString(s.Screen()) {
				break
			}
		}
		select {
		case <-s.exited:
			data, _ := os.ReadFile(stdoutPath)
			t.Fatalf("the guide exited (%v) before the picker showed one match\n--- stdout:\n%s\n--- terminal:\n%q\nSSO calls:\n%s", s.waitErr, data, s.Screen(), srv.CallLog())
		default:
		}
		if time.Now().After(deadline) {
			data, _ := os.ReadFile(stdoutPath)
			t.Fatalf("no picker with one match within %s\n--- stdout:\n%s\n--- terminal:\n%q", guideRunTimeout, data, s.Screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.Type("\r")
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("the guide did not finish after the pick; terminal:\n%q", s.Screen())
	}
	code, _ := exitStatus(s.cmd, s.waitErr)
	res := Result{Stdout: readFile(t, stdoutPath), Stderr: s.Screen(), Code: code}
	wantGuideOK(t, res, 7)
	out := res.Stdout
	roleA := ssoAssumedARN(devAccount, "Developer", ssoUser)
	roleB := "arn:aws:sts::222222222222:assumed-role/RoleB/*"

	// 1: explain shows the chain and the 1-hour cap of role chaining.
	explain := strings.Join(guideStep(t, out, "rolehop explain role-b", 1), "\n")
	for _, want := range []string{"IAM Identity Center", devAccount, "Developer", guideRoleB, "1 hour"} {
		if !strings.Contains(explain, want) {
			t.Errorf("explain role-b lacks %q:\n%s", want, explain)
		}
	}

	// 2: the device-code login: one authorization, polled until approved,
	// the URL and code shown; the token cache the AWS CLI reads.
	dev := wantSSOCalls(t, srv, "StartDeviceAuthorization", 1)[0]
	if polls := srv.TokenCalls(deviceGrantType); len(polls) != 2 {
		t.Errorf("%d device-code polls, want 2 (pending, approved):\n%s", len(polls), srv.CallLog())
	}
	if !strings.Contains(res.Stderr, dev.Str("userCode")) || !strings.Contains(res.Stderr, dev.Str("verificationUri")) {
		t.Errorf("the terminal does not show the verification URL and code %q:\n%q", dev.Str("userCode"), res.Stderr)
	}
	tok := readSSOCache(t, ssoCachePath(env, "corp"))
	if tok.StartURL != ssoStartURL || tok.AccessToken == "" {
		t.Errorf("token cache %+v, want a token for %s", tok.Raw, ssoStartURL)
	}
	wantStepPrints(t, out, "rolehop exec role-a", 1, roleA)

	// 3: RoleB through RoleA.
	wantStepPrints(t, out, "rolehop exec role-b", 1, roleB)

	// 4: the long job: 4 rounds, all as RoleB, signed with at least two
	// sessions (4-second credentials over ~6 s).
	job := guideStep(t, out, "rolehop exec --server role-b", 1)
	var rounds int
	for _, l := range job {
		if strings.HasPrefix(l, "round ") {
			rounds++
			if _, arn, _ := strings.Cut(l, ": "); !strings.HasPrefix(arn, strings.TrimSuffix(roleB, "*")) {
				t.Errorf("long job %q, want RoleB", l)
			}
		}
	}
	if rounds != 4 {
		t.Errorf("long job printed %d rounds, want 4: %q", rounds, job)
	}
	var asRoleB []Call
	for _, c := range env.Proxy.Calls("GetCallerIdentity") {
		if strings.Contains(xmlText(c.Response, "Arn"), ":assumed-role/RoleB/") {
			asRoleB = append(asRoleB, c)
		}
	}
	if len(asRoleB) < 6 {
		t.Fatalf("%d GetCallerIdentity calls as RoleB, want ≥ 6 (step 3, 4 rounds, step 5):\n%s", len(asRoleB), callList(asRoleB))
	}
	keys := map[string]bool{}
	for _, c := range asRoleB[1:5] {
		keys[c.AccessKeyID] = true
	}
	if len(keys) < 2 {
		t.Errorf("the long job's 4 rounds used %d session(s), want ≥ 2 (refreshed by exec --server):\n%s", len(keys), callList(asRoleB[1:5]))
	}
	for _, c := range env.Proxy.Calls("AssumeRole") {
		wantParam(t, c, "RoleArn", guideRoleB)
		wantParam(t, c, "DurationSeconds", "3600") // chained after SSO: capped
	}

	// 5: write --watch: [default] written, rewritten before expiry, read by
	// the AWS CLI as RoleB; it stays after the watcher stops.
	wantStepPrints(t, out, "aws --profile default sts get-caller-identity", 1, roleB)
	wantStepPrints(t, out, "aws --profile default sts get-caller-identity", 2, roleB)
	if n := strings.Count(out, "[default] rewritten: expires at "); n < 1 {
		t.Errorf("no rewrite of [default] within 6 s of 4-second credentials:\n%s", out)
	}
	creds := filepath.Join(work, "credentials")
	wantMode(t, creds, 0o600)
	def := sectionKeys(t, creds)["default"]
	for _, k := range []string{"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "x_security_token_expires"} {
		if def[k] == "" {
			t.Errorf("[default] lacks %s after write --watch", k)
		}
	}
	if got := callerARN(t, env, "AWS_SHARED_CREDENTIALS_FILE="+creds, "AWS_CONFIG_FILE="+filepath.Join(work, "config"), "AWS_PROFILE=default"); !strings.HasPrefix(got, strings.TrimSuffix(roleB, "*")) {
		t.Errorf("[default] left by write --watch runs as %q, want RoleB", got)
	}

	// 6: sso populate: a profile per account and role of the portal.
	_, block, _ := managedBlock(t, []byte(readFile(t, filepath.Join(work, "config"))))
	profiles := blockProfiles(block)
	for _, p := range []string{"dev/Developer", "dev/ReadOnly", "prod/Developer", "prod/Admin", "audit/ReadOnly"} {
		if profiles[p] != 1 {
			t.Errorf("managed block lacks [profile %s]:\n%s", p, block)
		}
	}

	// 7: the picker started with the filter, one match, chosen and used.
	if !strings.Contains(out, "\npicked: prod/Admin\n") {
		t.Errorf("picked profile not prod/Admin:\n%s", out)
	}
	wantStepPrints(t, out, "rolehop exec prod/Admin", 1, ssoAssumedARN(prodAccount, "Admin", ssoUser))

	var ssoKeys []Keys
	for _, c := range srv.Issued() {
		ssoKeys = append(ssoKeys, c.Keys)
	}
	secrets := append(secretsOf(env, ssoKeys...), tok.AccessToken, tok.RefreshToken, tok.ClientSecret)
	assertNoSecrets(t, "guide output", res.Stdout+res.Stderr, secrets)
}

// ---- 4. cross-account-lambda (seed 003) ----

func testGuideCrossAccount(t *testing.T) {
	env := newTestEnv(t)
	seed := seedAccounts(t)
	seedGuides(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bucketA, bucketB, inA, inB := ownBuckets(t, ctx, seed, "guide", guideBotBackInA, guideBotInB)
	useEnvKeys(env, seed.CIUser)
	env.Set("AWS_ENDPOINT_URL_S3", motoURL)
	work := filepath.Join(env.Dir, "work")

	res := runGuide(t, env, "cross-account-lambda", append(goEnv(t),
		"ROLE_B_ARN="+guideBotInB, "BUCKET_B="+bucketB, "ROLE_A_ARN="+guideBotBackInA, "BUCKET_A="+bucketA,
		"CALLER_ARN="+guideBotLambda, "REGION=us-east-1", "S3_PATH_STYLE=1")...)
	wantGuideOK(t, res, 4)
	out := res.Stdout

	wantStepPrints(t, out, "aws sts get-caller-identity", 1, ciUserARN)
	if _, err := os.Stat(filepath.Join(work, "cross-account")); err != nil {
		t.Errorf("the program was not built: %v", err)
	}
	const key = "rolehop-cross-account.txt"
	wantB := assumedARN(prodAccount, "bot-in-b", "cross-account-bot")
	wantA := assumedARN(devAccount, "bot-back-in-a", "cross-account-bot")
	run := strings.Join(guideStep(t, out, filepath.Join(work, "cross-account"), 1), "\n")
	for _, want := range []string{"[B] identity: " + wantB, "[A via B] identity: " + wantA,
		"[B] s3://" + bucketB + "/" + key + " round trip ok", "[A via B] s3://" + bucketA + "/" + key + " round trip ok"} {
		if !strings.Contains(run, want) {
			t.Errorf("the program's output lacks %q:\n%s", want, run)
		}
	}
	for _, o := range []struct {
		keys           Keys
		bucket, writer string
	}{{inB, bucketB, wantB}, {inA, bucketA, wantA}} {
		obj, err := motoS3(o.keys).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(key)})
		if err != nil {
			t.Errorf("GetObject s3://%s/%s: %v", o.bucket, key, err)
			continue
		}
		body, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		if want := "hello from " + o.writer + "\n"; string(body) != want {
			t.Errorf("s3://%s/%s = %q, want %q", o.bucket, key, body, want)
		}
	}
	// Direction 1: bot-in-b with the bot's keys; direction 2: bot-in-b →
	// bot-back-in-a, the second hop signed with a key returned for the first.
	calls := mustCalls(t, env.Proxy, "AssumeRole", 3)
	returnedForB := map[string]bool{}
	var back []Call
	for _, c := range calls {
		switch c.Get("RoleArn") {
		case guideBotInB:
			if c.AccessKeyID != seed.CIUser.AccessKeyID {
				t.Errorf("AssumeRole bot-in-b signed with %q, want the bot's key", c.AccessKeyID)
			}
			id, _, _ := c.ReturnedCredentials()
			returnedForB[id] = true
		case guideBotBackInA:
			back = append(back, c)
		default:
			t.Errorf("unexpected AssumeRole %s", c)
		}
	}
	if len(back) != 1 || !returnedForB[back[0].AccessKeyID] {
		t.Fatalf("want one AssumeRole bot-back-in-a signed with a bot-in-b session:\n%s", callList(calls))
	}
	// The session name is the last hop's (WithSessionName): the direct
	// bot-in-b session and bot-back-in-a carry it. (The chain's first hop,
	// bot-in-b on the way to A, gets rolehop's default name.)
	wantParam(t, back[0], "RoleSessionName", "cross-account-bot")
	for _, c := range calls {
		if id, _, _ := c.ReturnedCredentials(); c.Get("RoleArn") == guideBotInB && id != back[0].AccessKeyID {
			wantParam(t, c, "RoleSessionName", "cross-account-bot")
		}
	}

	// 4: Terraform for both directions: B trusts the Lambda role, A trusts
	// B, and each caller may assume its role.
	tf := readFile(t, filepath.Join(work, "cross-account-roles.tf"))
	if !strings.Contains(out, tf) {
		t.Errorf("the Terraform file was not shown")
	}
	blocks := terraformResources(tf)
	for name, wants := range map[string][]string{
		`aws_iam_role" "hop1_bot-in-b"`:                    {`provider = aws.account_222222222222`, `AWS = "` + guideBotLambda + `"`, `Action = "sts:AssumeRole"`},
		`aws_iam_role" "hop2_bot-back-in-a"`:               {`provider = aws.account_111111111111`, `AWS = "` + guideBotInB + `"`},
		`aws_iam_role_policy" "hop1_bot-in-b_caller"`:      {`role     = "bot-lambda"`, `Resource = "` + guideBotInB + `"`},
		`aws_iam_role_policy" "hop2_bot-back-in-a_caller"`: {`Resource = "` + guideBotBackInA + `"`},
	} {
		b, ok := blocks[name]
		if !ok {
			t.Errorf("Terraform file has no resource %q:\n%s", name, tf)
			continue
		}
		for _, w := range wants {
			if !strings.Contains(b, w) {
				t.Errorf("resource %q lacks %q:\n%s", name, w, b)
			}
		}
	}
	assertNoSecrets(t, "guide output", res.Stdout+res.Stderr, secretsOf(env, inA, inB))
}

// terraformResources splits a Terraform file into its resource blocks, by
// `TYPE" "NAME"` (the text between `resource "` and ` {`).
func terraformResources(tf string) map[string]string {
	out := map[string]string{}
	parts := strings.Split(tf, "\nresource \"")
	for _, p := range parts[1:] {
		head, _, _ := strings.Cut(p, " {")
		end := strings.Index(p, "\n}\n")
		if end < 0 {
			end = len(p)
		}
		out[head] = p[:end]
	}
	return out
}

// goEnv is what the go command needs to build offline in a test whose HOME
// is not the user's: the host's module and build caches and go env file.
func goEnv(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "-json", "GOPATH", "GOMODCACHE", "GOCACHE", "GOENV", "GOFLAGS", "GOPROXY", "GOSUMDB", "GOTOOLCHAIN").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	var m map[string]string
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	var env []string
	for k, v := range m {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// ---- 5. ci-env-keys (seed 004) ----

func testGuideCIEnvKeys(t *testing.T) {
	env := newTestEnv(t)
	user := seedGuides(t)
	useEnvKeys(env, user)
	githubEnv := env.WriteFile("github_env", "") // the runner creates it empty
	work := filepath.Join(env.Dir, "work")

	res := runGuide(t, env, "ci-env-keys", "TARGET_ROLE_ARN="+guideTerraformRole, "GITHUB_ENV="+githubEnv)
	wantGuideOK(t, res, 7)
	out := res.Stdout
	userARN := "arn:aws:iam::" + devAccount + ":user/" + guideCIUserName
	asUser := assumedARN("222222222222", "terraform", guideCIUserName)
	cfg := filepath.Join(work, "aws_config")

	wantStepPrints(t, out, "aws sts get-caller-identity", 1, userARN)
	// 2: the pitfall, with the real AWS CLI: AWS_PROFILE → still the user;
	// --profile → the role.
	wantStepPrints(t, out, "env AWS_CONFIG_FILE="+cfg+" AWS_PROFILE=cicd aws sts get-caller-identity", 1, userARN)
	wantStepPrints(t, out, "env AWS_CONFIG_FILE="+cfg+" aws --profile cicd sts get-caller-identity", 1, "arn:aws:sts::222222222222:assumed-role/terraform/botocore-session-*")
	// 3: explain names the pitfall.
	explain := strings.Join(guideStep(t, out, "env AWS_CONFIG_FILE="+cfg+" AWS_PROFILE=cicd rolehop explain", 1), "\n")
	if !strings.Contains(explain, `AWS_PROFILE names role profile "cicd" while AWS_ACCESS_KEY_ID is set`) {
		t.Errorf("explain does not show the pitfall:\n%s", explain)
	}
	// 4: -u; 5: the profile through rolehop.
	wantStepPrints(t, out, "env AWS_ROLE_ARN="+guideTerraformRole+" rolehop exec -u", 1, asUser)
	wantStepPrints(t, out, "env AWS_CONFIG_FILE="+cfg+" AWS_PROFILE=cicd rolehop exec", 1, "arn:aws:sts::222222222222:assumed-role/terraform/rolehop-*")

	// The AssumeRole calls: one by the CLI (--profile; AWS_PROFILE made
	// none), the -u session (the export reuses it from the cache or makes
	// another), and the profile's; all signed with the user's key.
	var botocore, dashU, profile int
	for _, c := range env.Proxy.Calls("AssumeRole") {
		wantParam(t, c, "RoleArn", guideTerraformRole)
		if c.AccessKeyID != user.AccessKeyID {
			t.Errorf("AssumeRole signed with %q, want the user's key", c.AccessKeyID)
		}
		switch name := c.Get("RoleSessionName"); {
		case strings.HasPrefix(name, "botocore-session-"):
			botocore++
		case name == guideCIUserName:
			dashU++
		case strings.HasPrefix(name, "rolehop-"):
			profile++
		default:
			t.Errorf("AssumeRole with session name %q", name)
		}
	}
	if botocore != 1 || dashU < 1 || profile != 1 {
		t.Errorf("AssumeRole sessions: %d botocore (want 1: --profile only), %d %s (want ≥ 1), %d rolehop-* (want 1):\n%s",
			botocore, dashU, guideCIUserName, profile, callList(env.Proxy.Calls("AssumeRole")))
	}

	// 6: GITHUB_ENV got the role's credentials (heredocs); the masks were
	// not printed outside Actions; 7: a later step runs as the role.
	vars := parseGitHubEnv(t, readFile(t, githubEnv))
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		if vars[k] == "" {
			t.Errorf("GITHUB_ENV lacks %s", k)
		}
	}
	if !strings.Contains(out, "(3 ::add-mask:: lines not shown") || strings.Contains(out, "::add-mask::"+vars["AWS_ACCESS_KEY_ID"]) {
		t.Errorf("the mask lines should be counted, not printed:\n%s", out)
	}
	if got := callerARN(t, env, "AWS_ACCESS_KEY_ID="+vars["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY="+vars["AWS_SECRET_ACCESS_KEY"], "AWS_SESSION_TOKEN="+vars["AWS_SESSION_TOKEN"]); got != asUser {
		t.Errorf("GITHUB_ENV's credentials run as %q, want %q", got, asUser)
	}
	step7 := out[strings.Index(out, "\n==> 7. "):]
	wantStepPrints(t, step7, "aws sts get-caller-identity", 1, asUser)

	assertNoSecrets(t, "guide output", res.Stdout+res.Stderr, secretsOf(env, user))
}

// parseGitHubEnv reads a GITHUB_ENV file as the runner does: NAME=VALUE
// lines and NAME<<DELIMITER heredocs.
func parseGitHubEnv(t *testing.T, s string) map[string]string {
	t.Helper()
	vars := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" {
			continue
		}
		if name, delim, ok := strings.Cut(l, "<<"); ok && !strings.Contains(name, "=") {
			var val []string
			closed := false
			for sc.Scan() {
				if sc.Text() == delim {
					closed = true
					break
				}
				val = append(val, sc.Text())
			}
			if !closed {
				t.Fatalf("GITHUB_ENV heredoc %s is not closed", name)
			}
			vars[name] = strings.Join(val, "\n")
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("GITHUB_ENV line %q is neither NAME=VALUE nor NAME<<DELIMITER", l)
		}
		vars[k] = v
	}
	return vars
}

// ---- 6. ci-oidc (seed 004, the better way) ----

func testGuideCIOIDC(t *testing.T) {
	env := newTestEnv(t)
	seedGuides(t)
	oidc := newGitHubOIDC(t, "gh-request-token-0123456789")
	env.Set("ACTIONS_ID_TOKEN_REQUEST_URL", oidc.URL)
	env.Set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", oidc.RequestToken)
	env.Set("GITHUB_RUN_ID", "4242")
	env.Set("GITHUB_REPOSITORY", "acme/infra")
	env.Set("GITHUB_ACTIONS", "true")

	res := runGuide(t, env, "ci-oidc", "ROLE_ARN="+guideGHARole, "SECOND_ROLE_ARN="+guideDeployRole)
	wantGuideOK(t, res, 4)
	out := res.Stdout

	explain := strings.Join(guideStep(t, out, "rolehop explain --web-identity github", 1), "\n")
	for _, want := range []string{"AssumeRoleWithWebIdentity " + guideGHARole, "GitHub Actions OIDC token", "gh-4242"} {
		if !strings.Contains(explain, want) {
			t.Errorf("explain lacks %q:\n%s", want, explain)
		}
	}
	wantStepPrints(t, out, "rolehop exec --web-identity github --role-arn "+guideGHARole+" --", 1, assumedARN(devAccount, "gha-ci", "gh-4242"))
	wantStepPrints(t, out, "rolehop exec --web-identity github --role-arn "+guideGHARole+" --role-arn "+guideDeployRole, 1, assumedARN("222222222222", "deploy", "gh-4242"))

	if oidc.asked.Load() == 0 || oidc.refused.Load() != 0 {
		t.Errorf("OIDC endpoint asked %d times, %d refused", oidc.asked.Load(), oidc.refused.Load())
	}
	web := env.Proxy.Calls("AssumeRoleWithWebIdentity")
	if len(web) == 0 {
		t.Fatalf("no AssumeRoleWithWebIdentity:\n%s", callList(env.Proxy.Calls("")))
	}
	fromWeb := map[string]bool{}
	for _, c := range web {
		wantParam(t, c, "RoleArn", guideGHARole)
		wantParam(t, c, "WebIdentityToken", fakeJWT)
		wantParam(t, c, "RoleSessionName", "gh-4242")
		if c.AccessKeyID != "" {
			t.Errorf("AssumeRoleWithWebIdentity was signed with %q: no stored keys may be used", c.AccessKeyID)
		}
		id, _, _ := c.ReturnedCredentials()
		fromWeb[id] = true
	}
	hop := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
	wantParam(t, hop, "RoleArn", guideDeployRole)
	if !fromWeb[hop.AccessKeyID] {
		t.Errorf("AssumeRole deploy signed with %q, want the web identity session's key", hop.AccessKeyID)
	}

	// 4: Terraform: the OIDC provider for this repository trusted by gha-ci,
	// gha-ci trusted by deploy.
	tf := strings.Join(guideStep(t, out, "rolehop policy --web-identity github", 1), "\n")
	blocks := terraformResources(tf)
	for name, wants := range map[string][]string{
		`aws_iam_role" "web_identity_gha-ci"`: {`Federated = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"`, `"token.actions.githubusercontent.com:sub" = "repo:acme/infra:*"`, `"token.actions.githubusercontent.com:aud" = "sts.amazonaws.com"`},
		`aws_iam_role" "hop1_deploy"`:         {`AWS = "` + guideGHARole + `"`},
	} {
		b, ok := blocks[name]
		if !ok {
			t.Errorf("Terraform output has no resource %q:\n%s", name, tf)
			continue
		}
		for _, w := range wants {
			if !strings.Contains(b, w) {
				t.Errorf("resource %q lacks %q:\n%s", name, w, b)
			}
		}
	}
	assertNoSecrets(t, "guide output", res.Stdout+res.Stderr, append(secretsOf(env), oidc.RequestToken, fakeJWT))
}
