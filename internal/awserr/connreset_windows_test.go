package awserr

import "syscall"

// connReset is the error a read gets when the peer resets the connection;
// its text is Windows' ("An existing connection was forcibly closed by the
// remote host."), not POSIX's.
const connReset = syscall.WSAECONNRESET
