//go:build unix

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// DoctorReport is the part of `rolehop doctor --json` the tests read.
type DoctorReport struct {
	SchemaVersion    int      `json:"schema_version"`
	OK               bool     `json:"ok"`
	FailedStep       string   `json:"failed_step"`
	ClockSkewSeconds *float64 `json:"clock_skew_seconds"`
	Steps            []struct {
		Step     string `json:"step"`
		Status   string `json:"status"`
		Identity *struct {
			ARN string `json:"arn"`
		} `json:"identity"`
		Expiration string          `json:"expiration"`
		Findings   []DoctorFinding `json:"findings"`
	} `json:"steps"`
	Findings []DoctorFinding `json:"findings"`
}

// DoctorFinding is one finding of the report.
type DoctorFinding struct {
	Code, Severity, Problem, Fix, Error string
}

// doctorJSON runs `rolehop doctor ARGS… --json`, checks the exit code, that
// stdout is one report and that no secret of the test's world (plus extra)
// appears on stdout or stderr.
func doctorJSON(t *testing.T, env *TestEnv, code int, extra []Keys, args ...string) DoctorReport {
	t.Helper()
	res := env.Run(t, append(append([]string{"doctor"}, args...), "--json")...)
	if res.Code != code {
		t.Fatalf("exit code %d, want %d: %s", res.Code, code, res)
	}
	var rep DoctorReport
	if err := json.Unmarshal([]byte(res.Stdout), &rep); err != nil {
		t.Fatalf("doctor --json output is not a report: %v\n%s", err, res)
	}
	if rep.SchemaVersion != 1 {
		t.Errorf("schema_version %d, want 1", rep.SchemaVersion)
	}
	secrets := secretsOf(env, extra...)
	assertNoSecrets(t, "stdout", res.Stdout, secrets)
	assertNoSecrets(t, "stderr", res.Stderr, secrets)
	return rep
}

// wantDoctorFinding asserts the report failed at step with a finding of
// code whose problem or fix mentions every fragment, and returns it.
func wantDoctorFinding(t *testing.T, rep DoctorReport, step, code string, fragments ...string) DoctorFinding {
	t.Helper()
	if rep.OK || rep.FailedStep != step {
		t.Fatalf("failed_step %q (ok %v), want %q: %+v", rep.FailedStep, rep.OK, step, rep)
	}
	for _, st := range rep.Steps {
		if st.Step != step {
			continue
		}
		if st.Status != "failed" {
			t.Errorf("%s: status %q, want failed", step, st.Status)
		}
		for _, f := range st.Findings {
			if f.Code != code {
				continue
			}
			text := f.Problem + "\n" + f.Fix
			for _, frag := range fragments {
				if !strings.Contains(text, frag) {
					t.Errorf("%s finding does not mention %q:\nproblem: %s\nfix: %s", code, frag, f.Problem, f.Fix)
				}
			}
			return f
		}
		t.Fatalf("%s has no %s finding: %+v", step, code, st.Findings)
	}
	t.Fatalf("no step %q in %+v", step, rep.Steps)
	return DoctorFinding{}
}

// TestDoctorTwoHops: a working chain exits 0 and names each step's
// identity, in JSON and in the text report.
func TestDoctorTwoHops(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	useEnvKeys(env, seedAccounts(t).CIUser)
	args := []string{"--role-arn", devRoleARN, "--role-arn", prodRoleARN, "--role-session-name", "doc"}
	rep := doctorJSON(t, env, 0, nil, args...)
	// --role-session-name names the last hop; hop 1 has the default
	// rolehop-<local user>.
	want := []string{ciUserARN, assumedARN(devAccount, "dev", "rolehop-"), assumedARN(prodAccount, "prod", "doc")}
	if !rep.OK || len(rep.Steps) != 3 {
		t.Fatalf("report %+v", rep)
	}
	for i, st := range rep.Steps {
		exact := i != 1
		if st.Status != "ok" || st.Identity == nil || (exact && st.Identity.ARN != want[i]) || !strings.HasPrefix(st.Identity.ARN, want[i]) {
			t.Errorf("step %d: %+v, want ok as %s", i, st, want[i])
		}
	}
	if rep.Steps[1].Expiration == "" || rep.Steps[0].Expiration != "" {
		t.Errorf("expirations: source %q, hop 1 %q", rep.Steps[0].Expiration, rep.Steps[1].Expiration)
	}
	// Doctor bypasses the cache: each hop really called STS, nothing was stored.
	mustCalls(t, env.Proxy, "AssumeRole", 2)
	res := env.Run(t, append([]string{"doctor"}, args...)...)
	if res.Code != 0 {
		t.Fatalf("text report: %s", res)
	}
	assertNoSecrets(t, "text report", res.Stdout+res.Stderr, secretsOf(env))
	for _, frag := range []string{"source  ok", "hop 1   ok", "hop 2   ok", want[2], "result: ok"} {
		if !strings.Contains(res.Stdout, frag) {
			t.Errorf("text report lacks %q:\n%s", frag, res.Stdout)
		}
	}
	mustCalls(t, env.Proxy, "AssumeRole", 4)
}

func TestDoctorNoCredentials(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	rep := doctorJSON(t, env, 1, nil, "--role-arn", prodRoleARN)
	wantDoctorFinding(t, rep, "source", "no-credentials", "no AWS credentials found", "AWS_ACCESS_KEY_ID")
	if n := len(env.Proxy.Calls("")); n != 0 {
		t.Errorf("%d AWS calls without credentials", n)
	}
}

func TestDoctorExpiredSource(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	useEnvKeys(env, seedAccounts(t).CIUser)
	env.Proxy.InjectExpiredToken("GetCallerIdentity", 10)
	rep := doctorJSON(t, env, 1, nil, "--role-arn", devRoleARN)
	wantDoctorFinding(t, rep, "source", "expired-credentials", "expired", "refresh")
	if rep.Steps[1].Status != "skipped" {
		t.Errorf("hop 1 status %q, want skipped", rep.Steps[1].Status)
	}
}

// doctorMaxRole is a role in 111111111111 whose MaxSessionDuration is 7200.
const doctorMaxRole = "arn:aws:iam::" + devAccount + ":role/doctor-max"

func seedMaxRole(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := motoIAM(devAccount).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String("doctor-max"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + devAccount + `"},"Action":"sts:AssumeRole"}]}`),
		MaxSessionDuration:       aws.Int32(7200),
	})
	if err != nil && !isAlreadyExists(err) {
		t.Fatalf("CreateRole doctor-max: %v", err)
	}
}

func TestDoctorDurationOverRoleMaximum(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	useEnvKeys(env, seedAccounts(t).CIUser)
	seedMaxRole(t)
	// moto does not enforce MaxSessionDuration: inject STS's answer.
	env.Proxy.InjectSTSError("AssumeRole", 10, http.StatusBadRequest, "ValidationError",
		"The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	rep := doctorJSON(t, env, 1, nil, "--role-arn", doctorMaxRole, "--duration-seconds", "14400")
	wantDoctorFinding(t, rep, "hop 1", "duration-over-max", "14400 s", "--duration-seconds", "at most 7200 s", "duration_seconds = 7200")
	wantParam(t, mustCalls(t, env.Proxy, "GetRole", 1)[0], "RoleName", "doctor-max")
}

func TestDoctorChainingCap(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	seed := seedAccounts(t)
	// Env keys that are a role session: rolehop cannot know it is chaining,
	// so it sends the 2 hours asked for, and STS refuses.
	session := motoAssumeRole(t, seed.CIUser, devRoleARN, "doc-chain")
	useEnvKeys(env, session)
	env.Proxy.InjectSTSError("AssumeRole", 10, http.StatusBadRequest, "ValidationError",
		"The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	rep := doctorJSON(t, env, 1, []Keys{session}, "--role-arn", prodRoleARN, "--duration-seconds", "7200")
	wantDoctorFinding(t, rep, "hop 1", "chaining-cap", "role chaining", assumedARN(devAccount, "dev", "doc-chain"), "7200 s", "duration_seconds = 3600")
	wantParam(t, mustCalls(t, env.Proxy, "AssumeRole", 1)[0], "DurationSeconds", "7200")
}

func TestDoctorRegionDisabled(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	useEnvKeys(env, seedAccounts(t).CIUser)
	env.Proxy.InjectSTSError("AssumeRole", 10, http.StatusForbidden, "RegionDisabledException",
		"STS is not activated in this region for account:111111111111. Your account administrator can activate STS in this region using the IAM Console.")
	rep := doctorJSON(t, env, 1, nil, "--role-arn", prodRoleARN, "--region", "ap-east-1")
	wantDoctorFinding(t, rep, "hop 1", "region-disabled", "not activated in region ap-east-1 for account "+devAccount, "Account settings", "--region")
}

// TestDoctorClockSkew: STS's Date header says the local clock is off.
// aws-sdk-go-v2 retries a skew error with a corrected signing time; the
// doctor reports the skew in both cases.
func TestDoctorClockSkew(t *testing.T) {
	t.Parallel()
	t.Run("calls succeed, warning", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		useEnvKeys(env, seedAccounts(t).CIUser)
		env.Proxy.ShiftDate(-10 * time.Minute) // local clock 10 min ahead
		rep := doctorJSON(t, env, 0, nil, "--role-arn", devRoleARN)
		if !rep.OK || rep.ClockSkewSeconds == nil || *rep.ClockSkewSeconds > -590 || *rep.ClockSkewSeconds < -610 {
			t.Fatalf("want ok with about -600 s skew: %+v", rep)
		}
		if len(rep.Findings) != 1 || rep.Findings[0].Code != "clock-skew" || rep.Findings[0].Severity != "warning" ||
			!strings.Contains(rep.Findings[0].Problem, "10m0s ahead of") || !strings.Contains(rep.Findings[0].Fix, "NTP") {
			t.Errorf("findings %+v", rep.Findings)
		}
	})
	t.Run("signature expired", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t)
		useEnvKeys(env, seedAccounts(t).CIUser)
		env.Proxy.ShiftDate(10 * time.Minute) // local clock 10 min behind
		now := time.Now().UTC()
		const f = "20060102T150405Z"
		env.Proxy.InjectSTSError("AssumeRole", 10, http.StatusForbidden, "SignatureDoesNotMatch",
			fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)",
				now.Format(f), now.Add(5*time.Minute).Format(f), now.Add(10*time.Minute).Format(f)))
		rep := doctorJSON(t, env, 1, nil, "--role-arn", devRoleARN)
		wantDoctorFinding(t, rep, "hop 1", "clock-skew", "10m0s behind", "Date header", "timedatectl")
		// The SDK saw the skew in the Date header and retried, signing
		// the later attempts about 10 minutes later than the first.
		calls := env.Proxy.Calls("AssumeRole")
		if len(calls) < 2 {
			t.Fatalf("want the SDK to retry the skewed AssumeRole, got %d calls", len(calls))
		}
		first, err1 := time.Parse(f, calls[0].AmzDate)
		last, err2 := time.Parse(f, calls[len(calls)-1].AmzDate)
		if err1 != nil || err2 != nil || last.Sub(first) < 9*time.Minute {
			t.Errorf("signing times %q … %q: want the retry corrected by about 10 minutes", calls[0].AmzDate, calls[len(calls)-1].AmzDate)
		}
	})
}
