package fsutil

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/winetest"
)

func TestLockExcludesInProcess(t *testing.T) {
	path := filepath.Join(winetest.TempDir(t), "x.lock")
	l, err := Acquire(context.Background(), path, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	waits := 0
	start := time.Now()
	_, err = Acquire(context.Background(), path, 100*time.Millisecond, func() { waits++ })
	if !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("second Acquire: %v, want ErrLockTimeout", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("second Acquire gave up after %s, want about 100ms", d)
	}
	if waits != 1 {
		t.Errorf("onWait called %d times, want 1", waits)
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if _, err := Acquire(ctx, path, time.Minute, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire with a cancelled context: %v, want context.Canceled", err)
	}

	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	// The two waits that gave up left their goroutines waiting in the
	// kernel: they take the released lock for an instant and drop it.
	l2, err := Acquire(context.Background(), path, 2*time.Second, nil)
	if err != nil {
		t.Fatalf("Acquire after Release: %v (did a wait that gave up keep the lock?)", err)
	}
	l2.Release()

	fresh := filepath.Join(winetest.TempDir(t), "y.lock")
	for range 2 {
		l, err := Acquire(context.Background(), fresh, 100*time.Millisecond, func() { t.Error("onWait called for a free lock") })
		if err != nil {
			t.Fatalf("Acquire of a free lock: %v", err)
		}
		l.Release()
	}
}

// TestLockWaitersTakeTurns: goroutines that each wait for the lock (with
// their own file, like processes) all get it in turn once the holder
// releases it, each exactly once, and a waiter that gave up is not among
// them.
func TestLockWaitersTakeTurns(t *testing.T) {
	path := filepath.Join(winetest.TempDir(t), "x.lock")
	holder, err := Acquire(context.Background(), path, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Acquire(context.Background(), path, 10*time.Millisecond, nil); !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("Acquire of a held lock: %v, want ErrLockTimeout", err)
	}
	const waiters = 10
	var inside, turns atomic.Int32
	waiting := make(chan struct{}, waiters)
	var wg sync.WaitGroup
	for range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := Acquire(context.Background(), path, time.Minute, func() { waiting <- struct{}{} })
			if err != nil {
				t.Error(err)
				return
			}
			if inside.Add(1) != 1 {
				t.Error("two holders at once")
			}
			turns.Add(1)
			time.Sleep(time.Millisecond)
			inside.Add(-1)
			l.Release()
		}()
	}
	for range waiters {
		<-waiting
	}
	holder.Release()
	wg.Wait()
	if n := turns.Load(); n != waiters {
		t.Errorf("%d turns, want %d", n, waiters)
	}
}

// TestLockExcludesProcess: a lock held by another process makes Acquire time
// out, and killing the holder (SIGKILL on unix, TerminateProcess on
// Windows) frees it at once.
func TestLockExcludesProcess(t *testing.T) {
	path := filepath.Join(winetest.TempDir(t), "x.lock")
	cmd, _, line := startHelper(t, "lock", path)
	if line != "locked" {
		t.Fatalf("helper said %q", line)
	}
	_, err := Acquire(context.Background(), path, 150*time.Millisecond, nil)
	if !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("Acquire while another process holds the lock: %v, want ErrLockTimeout", err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	start := time.Now()
	l, err := Acquire(context.Background(), path, 2*time.Second, nil)
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	defer l.Release()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Acquire after the kill took %s", d)
	}
}

// TestLockReleasedOnExit: a holder that releases and exits normally frees the
// lock too.
func TestLockReleasedOnExit(t *testing.T) {
	path := filepath.Join(winetest.TempDir(t), "x.lock")
	cmd, stdin, _ := startHelper(t, "lock", path)
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	l, err := Acquire(context.Background(), path, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Release()
}
