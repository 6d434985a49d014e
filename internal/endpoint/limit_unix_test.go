//go:build unix

package endpoint_test

import (
	"syscall"
	"testing"

	"github.com/rolehop/rolehop/internal/endpoint"
)

// TestMaxConnsFollowsOpenFileLimit: the connection limit leaves 64 file
// descriptors under RLIMIT_NOFILE, and never goes below 16.
func TestMaxConnsFollowsOpenFileLimit(t *testing.T) {
	t.Parallel()
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		t.Skip(err)
	}
	for _, opt := range []int{0, 10, 100000} {
		got := endpoint.MaxConns(opt)
		want := opt
		if want == 0 {
			want = endpoint.DefaultMaxConns
		}
		if r.Cur <= 1<<30 {
			want = min(want, max(int(r.Cur)-64, 16))
		}
		if got != want {
			t.Errorf("MaxConns(%d) = %d with an open-file limit of %d, want %d", opt, got, r.Cur, want)
		}
	}
}
