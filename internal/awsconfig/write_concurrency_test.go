package awsconfig

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/fsutil"
	"github.com/rolehop/rolehop/internal/winetest"
)

func acquireForTest(path string) (*fsutil.Lock, error) {
	return fsutil.Acquire(context.Background(), path, time.Second, nil)
}

// The concurrency test runs the test binary itself as writer processes:
// with writerHelperEnv set, TestHelperProcess writes one section and exits.
const (
	writerHelperEnv     = "ROLEHOP_AWSCONFIG_WRITE_HELPER"
	writerHelperPathEnv = "ROLEHOP_AWSCONFIG_WRITE_HELPER_PATH"
)

func TestHelperProcess(t *testing.T) {
	name := os.Getenv(writerHelperEnv)
	if name == "" {
		t.Skip("helper process for TestWriteCredentialsSectionConcurrent")
	}
	err := WriteCredentialsSection(os.Getenv(writerHelperPathEnv), name, concurrentKV(name), WriteOptions{LockTimeout: time.Minute})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// concurrentKV is what writer name writes: values that say whose they are.
func concurrentKV(name string) []KeyValue {
	return []KeyValue{
		{"aws_access_key_id", "ASIA-" + name},
		{"aws_secret_access_key", "secret-" + name},
		{"aws_session_token", "token-" + name + strings.Repeat("x", 500)},
	}
}

// TestWriteCredentialsSectionConcurrent: 20 goroutines, then 20 processes,
// then both at once, each write a different section of the same file at
// the same time; every section must be there, intact, and the sections
// that were there before must be unchanged.
func TestWriteCredentialsSectionConcurrent(t *testing.T) {
	const initial = "# my credentials\n[keep]\naws_access_key_id = AKIAKEEP\naws_secret_access_key = keep\n\n; end\n"
	run := func(t *testing.T, goroutines, processes int) {
		path := filepath.Join(winetest.TempDir(t), "credentials")
		writeString(t, path, initial, 0o600)
		var names []string
		var wg sync.WaitGroup
		errs := make(chan error, goroutines+processes)
		start := make(chan struct{})
		var cmds []*exec.Cmd
		for i := range processes {
			name := fmt.Sprintf("proc%02d", i)
			names = append(names, name)
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
			cmd.Env = append(os.Environ(), writerHelperEnv+"="+name, writerHelperPathEnv+"="+path)
			cmds = append(cmds, cmd)
		}
		for _, cmd := range cmds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if out, err := cmd.CombinedOutput(); err != nil {
					errs <- fmt.Errorf("%s: %v: %s", cmd.Env[len(cmd.Env)-2], err, out)
				}
			}()
		}
		for i := range goroutines {
			name := fmt.Sprintf("goroutine%02d", i)
			names = append(names, name)
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if err := WriteCredentialsSection(path, name, concurrentKV(name), WriteOptions{LockTimeout: time.Minute}); err != nil {
					errs <- fmt.Errorf("%s: %w", name, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		data := []byte(readString(t, path))
		pf, err := Parse(path, data)
		if err != nil {
			t.Fatal(err)
		}
		profiles := credProfiles(pf)
		if len(profiles) != len(names)+1 {
			t.Errorf("%d sections, want %d", len(profiles), len(names)+1)
		}
		for _, name := range names {
			want := map[string]string{}
			for _, kv := range concurrentKV(name) {
				want[kv.Key] = kv.Value
			}
			if got := profiles[name]; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("section [%s] = %v", name, got)
			}
		}
		if !strings.HasPrefix(string(data), initial) {
			t.Errorf("the original content changed:\n%s", data)
		}
	}
	t.Run("goroutines", func(t *testing.T) { run(t, 20, 0) })
	t.Run("processes", func(t *testing.T) { run(t, 0, 20) })
	t.Run("both", func(t *testing.T) { run(t, 20, 20) })
}
