//go:build !windows

package hop

import "syscall"

// errConnRefused is the error of a refused connection.
const errConnRefused = syscall.ECONNREFUSED
