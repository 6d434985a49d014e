package hop

import "golang.org/x/sys/windows"

// errConnRefused is the error of a refused connection; its text is
// Windows' ("No connection could be made because the target machine
// actively refused it."), not POSIX's.
const errConnRefused = windows.WSAECONNREFUSED
