//go:build unix

package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Commands of the concurrency soak; runKindWeights are their shares of the
// runs, in percent.
const (
	runCredentialProcess = iota
	runExec
	runWrite
	runClearProfile
	runClearAll
	numRunKinds
)

var runKindNames = [numRunKinds]string{
	"`credential-process PROFILE`",
	"`exec PROFILE -- sh -c 'printf …$AWS_…'` (exec -- true, printing the keys it got)",
	"`write PROFILE --to w-PROFILE`",
	"`cache clear PROFILE`",
	"`cache clear`",
}

var runKindWeights = [numRunKinds]int{40, 30, 26, 2, 2}

// chainSteps is the number of cached steps of the soak's three chains:
// the shared hop to dev, and prod, audit and ops.
const chainSteps = 4

// stepsOfProfile is how many steps `cache clear PROFILE` removes: the
// profile's two hops.
const stepsOfProfile = 2

// execChild prints the credentials exec gave it, one per line.
const execChild = `printf '%s\n%s\n%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN"`

// kindStats counts one kind of command's runs.
type kindStats struct {
	runs, failures int
	slowest        time.Duration
	total          time.Duration
}

// TestConcurrencySoak keeps SOAK_PROCS rolehop processes running at once
// for SOAK_DURATION, the first wave started together on a cold cache: a mix
// of credential-process, exec, write --to and cache clear on three chains
// (prod, audit, ops) that share their first hop, with every write going to
// the credentials file that also holds the chains' source keys. It checks
// that
//
//   - every process exits 0, and each output holds exactly one AssumeRole
//     answer's credentials for the profile's role;
//   - the AssumeRole calls (counted at the proxy) stay within the
//     single-flight bound: one per step, plus one per step a clear removed;
//   - while it runs and at the end, every cache entry and the credentials
//     file are complete and consistent (as in the crash soak), no lock is
//     left held and no temp file left behind;
//   - a sample of the credentials, checked with GetCallerIdentity at moto,
//     belongs to the right role.
func TestConcurrencySoak(t *testing.T) {
	sections := map[string]role{}
	var sectionNames []string
	for p, r := range profiles {
		sections["w-"+p] = r
		sectionNames = append(sectionNames, "w-"+p)
	}
	slices.Sort(sectionNames)
	w := newWorld(t, sectionNames...)
	procs := envInt(t, "SOAK_PROCS", 100)
	duration := envDuration(t, "SOAK_DURATION", 20*time.Second)
	if duration <= 0 {
		t.Fatalf("SOAK_DURATION must be positive")
	}
	orig := mustRead(t, w.credsPath)
	profileNames := []string{"audit", "ops", "prod"}

	var (
		mu         sync.Mutex
		stats      [numRunKinds]kindStats
		bound      = chainSteps // one call per step, one per step each clear removes
		tight      = chainSteps // the same, with what `cache clear` says it removed
		failures   []string
		corrupt    []string
		samples    = map[string][]Answer{} // profile → credentials to check at moto
		sampleSeen = map[string]bool{}
	)
	fail := func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, msg)
	}
	sample := func(profile string, a Answer) {
		mu.Lock()
		defer mu.Unlock()
		if len(samples[profile]) < 5 && !sampleSeen[a.AccessKeyID] {
			sampleSeen[a.AccessKeyID] = true
			samples[profile] = append(samples[profile], a)
		}
	}
	pick := func() int {
		n := rand.N(100)
		for k, wgt := range runKindWeights {
			if n < wgt {
				return k
			}
			n -= wgt
		}
		return runCredentialProcess
	}

	// Files are checked while the processes run, too.
	checkFiles := func() []string {
		var out []string
		_, errs := w.scanCache()
		for _, err := range errs {
			out = append(out, err.Error())
		}
		if _, err := w.checkCredentials(orig, sections); err != nil {
			out = append(out, err.Error())
		}
		return out
	}
	stopChecker := make(chan struct{})
	checkerDone := make(chan int)
	go func() {
		checks := 0
		defer func() { checkerDone <- checks }()
		for {
			select {
			case <-stopChecker:
				return
			case <-time.After(200 * time.Millisecond):
			}
			checks++
			if errs := checkFiles(); len(errs) > 0 {
				mu.Lock()
				corrupt = append(corrupt, errs...)
				mu.Unlock()
			}
		}
	}()

	start := make(chan struct{})
	var ready, done sync.WaitGroup
	var began time.Time
	var deadline time.Time
	for range procs {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			for time.Now().Before(deadline) {
				kind, profile := pick(), profileNames[rand.N(len(profileNames))]
				var args []string
				switch kind {
				case runCredentialProcess:
					args = []string{"credential-process", profile}
				case runExec:
					args = []string{"exec", profile, "--", shBin, "-c", execChild}
				case runWrite:
					args = []string{"write", profile, "--to", "w-" + profile}
				case runClearProfile:
					args = []string{"cache", "clear", profile}
				case runClearAll:
					args = []string{"cache", "clear"}
				}
				r := w.run(2*time.Minute, args...)
				var problem error
				switch {
				case !r.ok():
					problem = fmt.Errorf("%s", r)
				case kind == runCredentialProcess:
					if id, err := w.checkProcessOutput(r.stdout, profiles[profile]); err != nil {
						problem = fmt.Errorf("rolehop %s: %v", strings.Join(args, " "), err)
					} else if a, ok := w.proxy.Answer(id); ok {
						sample(profile, a)
					}
				case kind == runExec:
					lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
					if len(lines) != 3 {
						problem = fmt.Errorf("rolehop exec %s: the child printed %d lines, want 3", profile, len(lines))
					} else if a, err := w.consistent("exec's child environment", lines[0], lines[1], lines[2], profiles[profile]); err != nil {
						problem = err
					} else {
						sample(profile, a)
					}
				}
				mu.Lock()
				s := &stats[kind]
				s.runs++
				s.total += r.took
				s.slowest = max(s.slowest, r.took)
				if problem != nil {
					s.failures++
				}
				switch kind {
				case runClearProfile:
					bound += stepsOfProfile
					tight += stepsOfProfile
				case runClearAll:
					bound += chainSteps
					tight += removed(r.stderr, chainSteps)
				}
				mu.Unlock()
				if problem != nil {
					fail(problem.Error())
				}
			}
		}()
	}
	ready.Wait()
	began = time.Now()
	deadline = began.Add(duration)
	close(start)
	done.Wait()
	took := time.Since(began)
	close(stopChecker)
	checks := <-checkerDone

	// At the end: complete files, no held lock, no temp file.
	endErrs := checkFiles()
	st, _ := w.scanCache()
	for _, err := range freeLocks(append(slices.Clone(st.locks), w.credsPath+".lock")...) {
		endErrs = append(endErrs, err.Error())
	}
	if temps := append(st.temps, w.credsTemps()...); len(temps) > 0 {
		endErrs = append(endErrs, fmt.Sprintf("temp files left behind: %v", baseNames(temps)))
	}
	if len(st.entries) > chainSteps {
		endErrs = append(endErrs, fmt.Sprintf("the cache holds %d entries, want at most %d (one per step)", len(st.entries), chainSteps))
	}
	ids, err := w.checkCredentials(orig, sections)
	if err == nil {
		for name, id := range ids {
			if a, ok := w.proxy.Answer(id); ok {
				sample(strings.TrimPrefix(name, "w-"), a)
			}
		}
	}

	// A sample of what the processes got, checked at moto.
	identityChecks := 0
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, profile := range profileNames {
		if len(samples[profile]) == 0 {
			t.Errorf("no credentials of profile %s to check", profile)
		}
		for _, a := range samples[profile] {
			cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(motoURL),
				Credentials: credentials.NewStaticCredentialsProvider(a.AccessKeyID, a.Secret, a.Token)}
			out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			identityChecks++
			if err != nil {
				t.Errorf("GetCallerIdentity with %s's credentials %s: %v", profile, a.AccessKeyID, err)
			} else if got, want := aws.ToString(out.Arn), profiles[profile].assumedARN(); got != want {
				t.Errorf("credentials %s given out for profile %s are %s's, want %s", a.AccessKeyID, profile, got, want)
			}
		}
	}

	calls := w.proxy.Arrived("AssumeRole")
	clears := stats[runClearProfile].runs + stats[runClearAll].runs
	if calls > bound {
		t.Errorf("%d AssumeRole calls, more than the single-flight bound %d (%d steps + one per step removed by %d clears)", calls, bound, chainSteps, clears)
	} else if calls > tight {
		t.Errorf("%d AssumeRole calls, more than the single-flight bound %d counting the entries each `cache clear` says it removed", calls, tight)
	}
	if n := w.proxy.Failed("AssumeRole"); n > 0 {
		t.Errorf("%d AssumeRole calls failed at moto or the proxy", n)
	}
	for i, f := range failures {
		if i == 10 {
			t.Errorf("… and %d more failures", len(failures)-10)
			break
		}
		t.Errorf("failure: %s", f)
	}
	for i, c := range append(corrupt, endErrs...) {
		if i == 10 {
			t.Errorf("… and %d more file problems", len(corrupt)+len(endErrs)-10)
			break
		}
		t.Errorf("file problem: %s", c)
	}

	runs := &table{
		title:  "Concurrency soak: " + strconv.Itoa(procs) + " processes at once for " + took.Round(time.Second).String() + " (SOAK_PROCS=" + strconv.Itoa(procs) + ", SOAK_DURATION=" + duration.String() + ")",
		header: []string{"command", "runs", "failures", "mean", "slowest"},
	}
	var total kindStats
	for k := range numRunKinds {
		s := stats[k]
		runs.add(runKindNames[k], s.runs, s.failures, mean(s), s.slowest.Round(time.Millisecond))
		total.runs += s.runs
		total.failures += s.failures
		total.total += s.total
		total.slowest = max(total.slowest, s.slowest)
	}
	runs.add("**all**", total.runs, total.failures, mean(total), total.slowest.Round(time.Millisecond))
	sum := &table{
		title:  "Concurrency soak: STS calls and files",
		header: []string{"AssumeRole calls", "single-flight bound", "bound with the entries `cache clear` removed", "clears", "file checks while running", "corrupt files or held locks", "GetCallerIdentity checks"},
	}
	sum.add(calls, fmt.Sprintf("%d = %d steps + %d×%d (`cache clear PROFILE`) + %d×%d (`cache clear`)", bound, chainSteps,
		stats[runClearProfile].runs, stepsOfProfile, stats[runClearAll].runs, chainSteps),
		tight, clears, checks, len(corrupt)+len(endErrs), identityChecks)
	report(t, runs, sum)
}

var removedRe = regexp.MustCompile(`removed (\d+) cached credential`)

// removed reads how many entries `cache clear` says it removed (at most
// all: it may count one that another clear removed just before); def when
// it does not say.
func removed(stderr string, def int) int {
	if m := removedRe.FindStringSubmatch(stderr); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			return min(n, def)
		}
	}
	return def
}

func mean(s kindStats) string {
	if s.runs == 0 {
		return "-"
	}
	return (s.total / time.Duration(s.runs)).Round(time.Millisecond).String()
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
