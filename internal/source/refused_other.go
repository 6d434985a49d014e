//go:build !windows

package source

import "syscall"

// errConnRefused is the error of a refused connection, whose text
// tokenRefused looks for.
const errConnRefused = syscall.ECONNREFUSED
