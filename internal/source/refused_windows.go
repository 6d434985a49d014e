package source

import "golang.org/x/sys/windows"

// errConnRefused is the error of a refused connection. Its text, which
// tokenRefused looks for, is Windows' message for WSAECONNREFUSED, in the
// user's language.
const errConnRefused = windows.WSAECONNREFUSED
