//go:build unix

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const mfaSerial = "arn:aws:iam::" + devAccount + ":mfa/ci-user"

// mfaProcess writes an MFA process script that appends a line to a counter
// file and prints 123456; it returns the script and the counter file.
func mfaProcess(t *testing.T, env *TestEnv) (script, counter string) {
	t.Helper()
	counter = filepath.Join(env.Dir, "mfa-count")
	script = filepath.Join(env.Dir, "mfa.sh")
	body := "#!/bin/sh\necho asked >> " + shellQuote([]string{counter}) + "\necho 123456\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	return script, counter
}

// mfaAsked is how many times the MFA process ran.
func mfaAsked(t *testing.T, counter string) int {
	t.Helper()
	b, err := os.ReadFile(counter)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// newMFAEnv: [base] holds ci-user's long-term keys; a (dev) and b (prod)
// need MFA with the same device and take their code from an MFA process;
// long (audit) needs the same device and a 2-hour session.
func newMFAEnv(t *testing.T) (*TestEnv, Seed, string) {
	t.Helper()
	env := newTestEnv(t)
	seed := seedAccounts(t)
	script, counter := mfaProcess(t, env)
	env.WriteCredentials(ciCredentials("base", seed.CIUser))
	env.WriteConfig(`
		[profile base]
		region = us-east-1

		[profile a]
		role_arn = ` + devRoleARN + `
		source_profile = base
		role_session_name = mfa-a
		mfa_serial = ` + mfaSerial + `
		mfa_process = ` + script + `

		[profile b]
		role_arn = ` + prodRoleARN + `
		source_profile = base
		role_session_name = mfa-b
		mfa_serial = ` + mfaSerial + `
		mfa_process = ` + script + `

		[profile long]
		role_arn = ` + auditRoleARN + `
		source_profile = base
		role_session_name = mfa-long
		duration_seconds = 7200
		mfa_serial = ` + mfaSerial + `
		mfa_process = ` + script + `
	`)
	return env, seed, counter
}

// TestMFAOnce: one MFA code (one GetSessionToken) serves every role profile
// with the same source keys and device; a role needing more than an hour
// is assumed directly with the code instead.
func TestMFAOnce(t *testing.T) {
	t.Parallel()
	env, seed, counter := newMFAEnv(t)

	// explain tells the two paths apart, without asking for a code.
	exA := env.Run(t, "explain", "a")
	if exA.Code != 0 {
		t.Fatalf("rolehop explain a: %s", exA)
	}
	if !strings.Contains(exA.Stdout, "via an MFA session (GetSessionToken)") {
		t.Errorf("explain a does not say %q:\n%s", "via an MFA session (GetSessionToken)", exA.Stdout)
	}
	exLong := env.Run(t, "explain", "long")
	if exLong.Code != 0 {
		t.Fatalf("rolehop explain long: %s", exLong)
	}
	if !strings.Contains(exLong.Stdout, "directly with MFA") {
		t.Errorf("explain long does not say %q:\n%s", "directly with MFA", exLong.Stdout)
	}
	if strings.Contains(exLong.Stdout, "GetSessionToken") {
		t.Errorf("explain long mentions GetSessionToken although the role needs 7200 s:\n%s", exLong.Stdout)
	}
	mustCalls(t, env.Proxy, "", 0)
	if n := mfaAsked(t, counter); n != 0 {
		t.Errorf("explain ran the MFA process %d times", n)
	}

	// a, b, a: one code, one GetSessionToken, one AssumeRole per role.
	arn, res := execCallerARN(t, env, "a")
	if want := assumedARN(devAccount, "dev", "mfa-a"); arn != want {
		t.Errorf("a ran as %q, want %q", arn, want)
	}
	assertNoSecrets(t, "stderr", res.Stderr, secretsOf(env))
	arn, _ = execCallerARN(t, env, "b")
	if want := assumedARN(prodAccount, "prod", "mfa-b"); arn != want {
		t.Errorf("b ran as %q, want %q", arn, want)
	}
	arn, _ = execCallerARN(t, env, "a")
	if want := assumedARN(devAccount, "dev", "mfa-a"); arn != want {
		t.Errorf("a (again) ran as %q, want %q", arn, want)
	}
	if n := mfaAsked(t, counter); n != 1 {
		t.Errorf("the MFA process ran %d times for a, b, a; want 1", n)
	}
	gst := mustCalls(t, env.Proxy, "GetSessionToken", 1)[0]
	wantParam(t, gst, "SerialNumber", mfaSerial)
	wantParam(t, gst, "TokenCode", "123456")
	wantParam(t, gst, "DurationSeconds", "43200")
	if gst.AccessKeyID != seed.CIUser.AccessKeyID {
		t.Errorf("GetSessionToken signed with %q, want ci-user's long-term %q", gst.AccessKeyID, seed.CIUser.AccessKeyID)
	}
	sessionKey, _, _ := gst.ReturnedCredentials()
	ar := mustCalls(t, env.Proxy, "AssumeRole", 2)
	wantParam(t, ar[0], "RoleArn", devRoleARN)
	wantParam(t, ar[1], "RoleArn", prodRoleARN)
	for _, c := range ar {
		noParam(t, c, "SerialNumber")
		noParam(t, c, "TokenCode")
		if c.AccessKeyID != sessionKey {
			t.Errorf("AssumeRole %s signed with %q, want the MFA session's key %q", c.Get("RoleArn"), c.AccessKeyID, sessionKey)
		}
	}

	// cache list shows the MFA session by its serial, without secrets.
	list := env.Run(t, "cache", "list")
	if list.Code != 0 {
		t.Fatalf("rolehop cache list: %s", list)
	}
	if !strings.Contains(list.Stdout, mfaSerial) {
		t.Errorf("cache list does not show the MFA session (%s):\n%s", mfaSerial, list.Stdout)
	}
	assertNoSecrets(t, "cache list", list.Stdout+list.Stderr, secretsOf(env))

	// long needs 7200 s: directly with SerialNumber + TokenCode, a new code.
	arn, _ = execCallerARN(t, env, "long")
	if want := assumedARN(prodAccount, "audit", "mfa-long"); arn != want {
		t.Errorf("long ran as %q, want %q", arn, want)
	}
	mustCalls(t, env.Proxy, "GetSessionToken", 1)
	ar = mustCalls(t, env.Proxy, "AssumeRole", 3)
	direct := ar[2]
	wantParam(t, direct, "RoleArn", auditRoleARN)
	wantParam(t, direct, "SerialNumber", mfaSerial)
	wantParam(t, direct, "TokenCode", "123456")
	wantParam(t, direct, "DurationSeconds", "7200")
	if direct.AccessKeyID != seed.CIUser.AccessKeyID {
		t.Errorf("direct MFA AssumeRole signed with %q, want ci-user's long-term %q", direct.AccessKeyID, seed.CIUser.AccessKeyID)
	}
	if n := mfaAsked(t, counter); n != 2 {
		t.Errorf("the MFA process ran %d times after long, want 2", n)
	}

	// long is cached too: no new code, no call.
	execCallerARN(t, env, "long")
	mustCalls(t, env.Proxy, "AssumeRole", 3)
	if n := mfaAsked(t, counter); n != 2 {
		t.Errorf("the MFA process ran %d times after long (cached), want 2", n)
	}
}

// TestMFAProcessSources: the MFA process also comes from ROLEHOP_MFA_PROCESS
// and --mfa-process, and --token-code wins over any process.
func TestMFAProcessSources(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		args  func(script string) []string
		env   func(script string) []string
		asked int
		code  string
		// serialFlag: the profile has no mfa_serial; --serial-number gives it.
		serialFlag bool
	}{
		{
			name:  "env ROLEHOP_MFA_PROCESS",
			env:   func(s string) []string { return []string{"ROLEHOP_MFA_PROCESS=" + s} },
			asked: 1, code: "123456",
		},
		{
			name:  "flag --mfa-process",
			args:  func(s string) []string { return []string{"--mfa-process", s} },
			asked: 1, code: "123456",
		},
		{
			name:  "flag --token-code wins",
			args:  func(s string) []string { return []string{"--mfa-process", s, "--token-code", "654321"} },
			asked: 0, code: "654321",
		},
		{
			name:       "flag --serial-number",
			args:       func(s string) []string { return []string{"--serial-number", mfaSerial, "--mfa-process", s} },
			asked:      1,
			code:       "123456",
			serialFlag: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			seed := seedAccounts(t)
			script, counter := mfaProcess(t, env)
			env.WriteCredentials(ciCredentials("base", seed.CIUser))
			serialLine := "mfa_serial = " + mfaSerial
			if tc.serialFlag {
				serialLine = ""
			}
			config := `
				[profile m]
				role_arn = ` + devRoleARN + `
				source_profile = base
				role_session_name = mfa-m
				` + serialLine + `
			`
			env.WriteConfig(config)
			args := []string{"m"}
			if tc.args != nil {
				args = append(args, tc.args(script)...)
			}
			var extra []string
			if tc.env != nil {
				extra = tc.env(script)
			}
			res := env.RunWith(t, extra, append([]string{"credential-process"}, args...)...)
			if res.Code != 0 {
				t.Fatalf("rolehop credential-process %s: %s", strings.Join(args, " "), res)
			}
			if n := mfaAsked(t, counter); n != tc.asked {
				t.Errorf("the MFA process ran %d times, want %d", n, tc.asked)
			}
			if tc.serialFlag {
				// --serial-number mirrors aws sts assume-role: the code goes
				// with AssumeRole itself, no MFA session.
				mustCalls(t, env.Proxy, "GetSessionToken", 0)
				ar := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
				wantParam(t, ar, "SerialNumber", mfaSerial)
				wantParam(t, ar, "TokenCode", tc.code)
				return
			}
			gst := mustCalls(t, env.Proxy, "GetSessionToken", 1)[0]
			wantParam(t, gst, "SerialNumber", mfaSerial)
			wantParam(t, gst, "TokenCode", tc.code)
			ar := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
			noParam(t, ar, "TokenCode")
		})
	}
}

// TestMFASessionSourceGoesDirect: GetSessionToken needs long-term keys, so
// a first hop whose source already has a session token is assumed directly
// with SerialNumber and TokenCode.
func TestMFASessionSourceGoesDirect(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	seed := seedAccounts(t)
	script, counter := mfaProcess(t, env)
	session := motoAssumeRole(t, seed.CIUser, auditRoleARN, "ambient")
	useEnvKeys(env, session)
	env.WriteConfig(`
		[profile s]
		role_arn = ` + devRoleARN + `
		credential_source = Environment
		role_session_name = mfa-s
		mfa_serial = ` + mfaSerial + `
		mfa_process = ` + script + `
	`)
	ex := env.Run(t, "explain", "s")
	if ex.Code != 0 {
		t.Fatalf("rolehop explain s: %s", ex)
	}
	if !strings.Contains(ex.Stdout, "directly with MFA") {
		t.Errorf("explain s does not say %q:\n%s", "directly with MFA", ex.Stdout)
	}
	arn, _ := execCallerARN(t, env, "--profile", "s")
	if want := assumedARN(devAccount, "dev", "mfa-s"); arn != want {
		t.Errorf("s ran as %q, want %q", arn, want)
	}
	mustCalls(t, env.Proxy, "GetSessionToken", 0)
	c := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
	wantParam(t, c, "SerialNumber", mfaSerial)
	wantParam(t, c, "TokenCode", "123456")
	if c.AccessKeyID != session.AccessKeyID {
		t.Errorf("AssumeRole signed with %q, want the environment's session key %q", c.AccessKeyID, session.AccessKeyID)
	}
	if n := mfaAsked(t, counter); n != 1 {
		t.Errorf("the MFA process ran %d times, want 1", n)
	}
}
