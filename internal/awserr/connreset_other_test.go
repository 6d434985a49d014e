//go:build !windows

package awserr

import "syscall"

// connReset is the error a read gets when the peer resets the connection.
const connReset = syscall.ECONNRESET
