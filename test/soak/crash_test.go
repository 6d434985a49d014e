//go:build unix

package soak

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/fsutil"
)

// crashKind is one way of running rolehop that the crash soak kills.
type crashKind struct {
	name  string
	cold  bool // remove the cache entries before the run
	write bool // the run writes the credentials file too
	args  []string
}

// forced (--min-ttl longer than the credentials' 1-hour lifetime) makes
// every step refresh: both AssumeRole calls and both cache writes happen on
// every run.
var forced = []string{"--min-ttl", "2h"}

var crashKinds = []crashKind{
	{"`credential-process prod`, cold cache", true, false, []string{"credential-process", "prod"}},
	{"`credential-process prod --min-ttl 2h` (refresh)", false, false, append([]string{"credential-process", "prod"}, forced...)},
	{"`write prod --to target`, cold cache", true, true, []string{"write", "prod", "--to", "target"}},
	{"`write prod --to target --min-ttl 2h` (refresh)", false, true, append([]string{"write", "prod", "--to", "target"}, forced...)},
}

// crashStats counts what happened to one kind's killed runs.
type crashStats struct {
	runs        int
	exited      int // finished before the kill came
	none        int // killed before it wrote anything
	between     int // killed after some of its writes
	after       int // killed after all its writes, before it exited
	duringSTS   int // killed while its AssumeRole request was at the proxy
	midCache    int // left a cache temp file: killed between temp file and rename
	midCreds    int // left a credentials-file temp file
	corrupt     int // torn or inconsistent files found after the kill
	heldLocks   int // locks still held after the kill
	nextFailed  int // the next, uninterrupted run failed
	tempsLeft   int // temp files the next run did not clean
	delayMax    time.Duration
	runDuration []time.Duration // uninterrupted runs of the kind's family
}

// TestCrashSoak kills rolehop at random moments, hundreds of times, on a
// cold and on a forced-refresh cache, with and without the credentials-file
// write, and after every kill checks:
//
//   - every cache entry reads back (a torn one counts as corrupt) and holds
//     exactly one AssumeRole answer for its step;
//   - the credentials file is the original byte for byte except [target],
//     which holds the original keys or exactly one answer's keys for prod;
//   - no lock is held by the dead process;
//   - the next, uninterrupted run succeeds, prints or writes one answer's
//     credentials, and removes the temp files the kill left (once they are
//     stale, as CleanTemps wants).
func TestCrashSoak(t *testing.T) {
	w := newWorld(t, "target")
	iterations := envInt(t, "SOAK_CRASH_ITERATIONS", 300)
	budget := envDuration(t, "SOAK_CRASH_BUDGET", 25*time.Second)
	orig, err := os.ReadFile(w.credsPath)
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]role{"target": prodRole}
	credsLock := w.credsPath + ".lock"
	stats := make([]crashStats, len(crashKinds))
	family := func(k crashKind) int { // stats index whose runDuration calibrates k
		if k.write {
			return 2
		}
		return 0
	}

	// next runs kind k's uninterrupted, forced-refresh variant and checks
	// its output; it returns false when it failed.
	next := func(k crashKind, label string) bool {
		t.Helper()
		args := append([]string{"credential-process", "prod"}, forced...)
		if k.write {
			args = append([]string{"write", "prod", "--to", "target"}, forced...)
		}
		before, _ := w.checkCredentials(orig, sections)
		r := w.run(30*time.Second, args...)
		f := &stats[family(k)]
		f.runDuration = append(f.runDuration, r.took)
		if !r.ok() {
			t.Errorf("%s: the next run failed: %s", label, r)
			return false
		}
		if !k.write {
			if _, err := w.checkProcessOutput(r.stdout, prodRole); err != nil {
				t.Errorf("%s: the next run: %v", label, err)
				return false
			}
			return true
		}
		ids, err := w.checkCredentials(orig, sections)
		if err != nil {
			t.Errorf("%s: after the next run: %v", label, err)
			return false
		}
		if ids["target"] == "" || ids["target"] == before["target"] {
			t.Errorf("%s: the next run did not write new credentials into [target]", label)
			return false
		}
		return true
	}
	for _, k := range []crashKind{crashKinds[0], crashKinds[2]} {
		for range 3 {
			if !next(k, "warm-up") {
				t.FailNow()
			}
		}
	}

	failures := func() int {
		n := 0
		for _, s := range stats {
			n += s.corrupt + s.heldLocks + s.nextFailed + s.tempsLeft
		}
		return n
	}
	start := time.Now()
	done := 0
	for i := range iterations {
		if budget > 0 && time.Since(start) > budget {
			t.Logf("SOAK_CRASH_BUDGET %s reached after %d of %d iterations", budget, i, iterations)
			break
		}
		if failures() > 10 {
			t.Fatalf("stopping after %d failures", failures())
		}
		k := crashKinds[i%len(crashKinds)]
		s := &stats[i%len(crashKinds)]
		label := "iteration " + strconv.Itoa(i) + " (" + k.name + ")"
		if k.cold {
			entries, _ := filepath.Glob(filepath.Join(w.cacheDir, "*.json"))
			for _, e := range entries {
				if err := os.Remove(e); err != nil {
					t.Fatal(err)
				}
			}
		}
		beforeCache, errs := w.scanCache()
		if len(errs) > 0 {
			t.Fatalf("%s: before the run: %v", label, errs)
		}
		beforeCreds, _ := os.ReadFile(w.credsPath)
		aborted := w.proxy.Aborted()
		firstNew := w.proxy.Answers() // answers from here on are this run's
		isNew := func(id string) bool { a, ok := w.proxy.Answer(id); return ok && a.Seq >= firstNew }

		// Kill at a random moment up to 30% past a typical run's end.
		typical := median(stats[family(k)].runDuration)
		delay := rand.N(typical * 13 / 10)
		s.delayMax = max(s.delayMax, delay)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := w.command(ctx, k.args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		started := time.Now()
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		r := finish(ctx, cmd, k.args, started, &stdout, &stderr)
		cancel()
		s.runs++
		done++

		// What did the run leave?
		st, errs := w.scanCache()
		for _, err := range errs {
			s.corrupt++
			t.Errorf("%s: after the kill: %v", label, err)
		}
		// Each file is its old version or holds this run's new answer.
		for name, b := range st.entries {
			if !bytes.Equal(b, beforeCache.entries[name]) && !isNew(st.ids[name]) {
				s.corrupt++
				t.Errorf("%s: after the kill: cache entry %s is neither its old version nor this run's", label, name)
			}
		}
		if ids, err := w.checkCredentials(orig, sections); err != nil {
			s.corrupt++
			t.Errorf("%s: after the kill: %v", label, err)
		} else if now, _ := os.ReadFile(w.credsPath); !bytes.Equal(now, beforeCreds) && !isNew(ids["target"]) {
			s.corrupt++
			t.Errorf("%s: after the kill: the credentials file is neither its old version nor this run's", label)
		}
		for _, err := range freeLocks(append(slices.Clone(st.locks), credsLock)...) {
			s.heldLocks++
			t.Errorf("%s: after the kill: %v", label, err)
		}
		temps := append(st.temps, w.credsTemps()...)
		if len(st.temps) > 0 {
			s.midCache++
		}
		if len(w.credsTemps()) > 0 {
			s.midCreds++
		}
		wrote, writes := 0, 2
		for _, role := range []string{devRole.arn(), prodRole.arn()} {
			if changed(beforeCache, st, role) {
				wrote++
			}
		}
		if k.write {
			writes++
			if now, _ := os.ReadFile(w.credsPath); !bytes.Equal(now, beforeCreds) {
				wrote++
			}
		}
		switch {
		case !r.killed:
			s.exited++
			if !r.ok() {
				s.nextFailed++
				t.Errorf("%s: the run failed before the kill: %s", label, r)
			} else if !k.write {
				if _, err := w.checkProcessOutput(r.stdout, prodRole); err != nil {
					s.corrupt++
					t.Errorf("%s: %v", label, err)
				}
			}
		case wrote == 0:
			s.none++
		case wrote < writes:
			s.between++
		default:
			s.after++
		}

		// The next run must work, and clean up what the kill left once
		// it is stale.
		ageFiles(t, temps)
		if !next(k, label) {
			s.nextFailed++
		}
		if left := existing(temps); len(left) > 0 {
			s.tempsLeft += len(left)
			t.Errorf("%s: the next run left the stale temp files %v", label, baseNames(left))
		}
		if _, errs := w.scanCache(); len(errs) > 0 {
			s.corrupt += len(errs)
			t.Errorf("%s: after the next run: %v", label, errs)
		}
		if w.proxy.Aborted() > aborted {
			s.duringSTS++
		}
	}
	took := time.Since(start)

	// Whatever is left is cleaned by CleanTemps once stale, and the
	// directories hold nothing else.
	st, _ := w.scanCache()
	ageFiles(t, append(st.temps, w.credsTemps()...))
	for name := range st.entries {
		if err := fsutil.CleanTemps(filepath.Join(w.cacheDir, name)); err != nil {
			t.Error(err)
		}
	}
	if err := fsutil.CleanTemps(w.credsPath); err != nil {
		t.Error(err)
	}
	st, errs := w.scanCache()
	if len(errs) > 0 || len(st.temps) > 0 || len(w.credsTemps()) > 0 {
		t.Errorf("after CleanTemps: errors %v, temp files %v", errs, baseNames(append(st.temps, w.credsTemps()...)))
	}
	if len(st.entries) != 2 {
		t.Errorf("the cache holds %d entries at the end, want 2 (one per hop)", len(st.entries))
	}
	awsFiles, _ := os.ReadDir(filepath.Dir(w.credsPath))
	var names []string
	for _, f := range awsFiles {
		names = append(names, f.Name())
	}
	if want := []string{"config", "credentials", "credentials.lock"}; !slices.Equal(names, want) {
		t.Errorf("~/.aws holds %v at the end, want %v", names, want)
	}

	tb := &table{
		title: "Crash soak: " + strconv.Itoa(done) + " runs killed at random (SOAK_CRASH_ITERATIONS=" + strconv.Itoa(iterations) + "), " +
			took.Round(time.Second).String() + ", " + strconv.Itoa(w.proxy.Arrived("AssumeRole")) + " AssumeRole calls",
		header: []string{"run", "runs", "kill delay (max)", "exited first", "killed before any write", "killed between writes",
			"killed after its writes", "killed during an STS call", "killed mid-write: cache temp left", "killed mid-write: credentials temp left", "corrupt files", "held locks", "next run failed", "stale temps left"},
	}
	var total crashStats
	for i, k := range crashKinds {
		s := stats[i]
		tb.add(k.name, s.runs, s.delayMax.Round(time.Millisecond), s.exited, s.none, s.between, s.after, s.duringSTS, s.midCache, s.midCreds, s.corrupt, s.heldLocks, s.nextFailed, s.tempsLeft)
		total.runs += s.runs
		total.exited += s.exited
		total.none += s.none
		total.between += s.between
		total.after += s.after
		total.duringSTS += s.duringSTS
		total.midCache += s.midCache
		total.midCreds += s.midCreds
		total.corrupt += s.corrupt
		total.heldLocks += s.heldLocks
		total.nextFailed += s.nextFailed
		total.tempsLeft += s.tempsLeft
	}
	tb.add("**all**", total.runs, "", total.exited, total.none, total.between, total.after, total.duringSTS, total.midCache, total.midCreds, total.corrupt, total.heldLocks, total.nextFailed, total.tempsLeft)
	t.Logf("typical uninterrupted run: credential-process %s, write %s", median(stats[0].runDuration).Round(time.Millisecond), median(stats[2].runDuration).Round(time.Millisecond))
	report(t, tb)
	if total.runs-total.exited == 0 {
		t.Errorf("no run was killed before it exited")
	}
}

// changed reports whether the entry of role differs between two scans.
func changed(before, after cacheState, role string) bool {
	find := func(st cacheState) []byte {
		for name, r := range st.roles {
			if r == role {
				return st.entries[name]
			}
		}
		return nil
	}
	return !bytes.Equal(find(before), find(after))
}

// median of ds; 50 ms when there is none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 50 * time.Millisecond
	}
	if len(ds) > 51 {
		ds = ds[len(ds)-51:] // the recent runs: load changes
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}
