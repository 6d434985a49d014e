//go:build unix

package endpoint

import "syscall"

// openFileLimit is the process's soft RLIMIT_NOFILE (the Go runtime raises
// it to the hard limit at start-up); unlimited or huge limits count as none.
func openFileLimit() (int, bool) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return 0, false
	}
	return int(r.Cur), true
}
