//go:build unix

package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// newRoleEnv is a test env whose ambient source is ci-user's env keys and
// whose role is AWS_ROLE_ARN=dev: one AssumeRole per rolehop run.
func newRoleEnv(t *testing.T) (*TestEnv, Seed) {
	t.Helper()
	env := newTestEnv(t)
	seed := seedAccounts(t)
	useEnvKeys(env, seed.CIUser)
	env.Set("AWS_ROLE_ARN", devRoleARN)
	env.Set("AWS_ROLE_SESSION_NAME", "exec")
	return env, seed
}

// TestExecChildEnvironment: the child gets the session's keys, token,
// expiration and region, and no AWS_PROFILE.
func TestExecChildEnvironment(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args   []string
		region string
	}{
		{nil, "us-east-1"},
		{[]string{"--region", "eu-west-1"}, "eu-west-1"},
	} {
		// A fresh env each time: a cached session would skip AssumeRole.
		env := newTestEnv(t)
		seed := seedAccounts(t)
		useEnvKeys(env, seed.CIUser)
		env.Set("AWS_PROFILE", "prod-env")
		env.Set("AWS_DEFAULT_PROFILE", "prod-env")
		env.WriteConfig(`
			[profile prod-env]
			role_arn = ` + prodRoleARN + `
			credential_source = Environment
		`)
		res := env.Run(t, append(append([]string{"exec"}, tc.args...), "--", "env")...)
		if res.Code != 0 {
			t.Fatalf("rolehop exec -- env: %s", res)
		}
		child := map[string]string{}
		for _, l := range strings.Split(res.Stdout, "\n") {
			if k, v, ok := strings.Cut(l, "="); ok {
				child[k] = v
			}
		}
		call := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
		key, secret, token := call.ReturnedCredentials()
		if child["AWS_ACCESS_KEY_ID"] != key || child["AWS_SECRET_ACCESS_KEY"] != secret || child["AWS_SESSION_TOKEN"] != token || key == "" {
			t.Errorf("child's credentials are not the AssumeRole result (key %q, want %q)", child["AWS_ACCESS_KEY_ID"], key)
		}
		if exp, err := time.Parse(time.RFC3339, child["AWS_CREDENTIAL_EXPIRATION"]); err != nil || !exp.After(time.Now()) {
			t.Errorf("AWS_CREDENTIAL_EXPIRATION %q is not a future RFC 3339 time (%v)", child["AWS_CREDENTIAL_EXPIRATION"], err)
		}
		for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
			if v, ok := child[k]; ok {
				t.Errorf("child still has %s=%s", k, v)
			}
		}
		if child["AWS_REGION"] != tc.region || child["AWS_DEFAULT_REGION"] != tc.region {
			t.Errorf("%v: child region AWS_REGION=%q AWS_DEFAULT_REGION=%q, want %q", tc.args, child["AWS_REGION"], child["AWS_DEFAULT_REGION"], tc.region)
		}
		if child["HOME"] != env.Home || child["PATH"] != env.Get("PATH") {
			t.Errorf("child lost the rest of the environment (HOME=%q)", child["HOME"])
		}
	}
}

// TestExecExitCodes: rolehop exec exits with the child's code, and 128+N
// when the child was killed by signal N.
func TestExecExitCodes(t *testing.T) {
	t.Parallel()
	env, _ := newRoleEnv(t)

	if res := env.Run(t, "exec", "--", "sh", "-c", "exit 42"); res.Code != 42 {
		t.Errorf("child exit 42: %s", res)
	}
	if res := env.Run(t, "exec", "--", "sh", "-c", "kill -TERM $$"); res.Code != 128+int(syscall.SIGTERM) {
		t.Errorf("child killed by SIGTERM: want exit 143: %s", res)
	}
	if res := env.Run(t, "exec", "--", "true"); res.Code != 0 {
		t.Errorf("child true: %s", res)
	}
}

// TestExecForwardsSIGTERM: a SIGTERM sent to rolehop reaches the child, and
// rolehop exits with the code the child chose.
func TestExecForwardsSIGTERM(t *testing.T) {
	t.Parallel()
	env, _ := newRoleEnv(t)
	bin := requireRolehop(t)
	marker := filepath.Join(env.Dir, "child-running")

	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := env.Command(ctx, bin, "exec", "--", "sh", "-c",
		`trap "exit 9" TERM; : > "$1"; while :; do sleep 0.1; done`, "sh", marker)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	deadline := time.After(20 * time.Second)
wait:
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("rolehop exited before the child ran: %v\nstderr: %s", err, stderr.String())
		case <-deadline:
			t.Fatalf("child never started\nstderr: %s", stderr.String())
		case <-time.After(20 * time.Millisecond):
			continue wait
		}
	}

	// Signal rolehop only (not its process group): forwarding is its job.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		code, sig := exitStatus(cmd, err)
		if code != 9 {
			t.Errorf("rolehop exited with code %d (signal %v), want the child's 9\nstderr: %s", code, sig, stderr.String())
		}
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatalf("rolehop did not exit within 10 s of SIGTERM\nstderr: %s", stderr.String())
	}
}
