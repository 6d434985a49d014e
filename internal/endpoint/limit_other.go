//go:build !unix

package endpoint

// openFileLimit reports no limit: Windows has no per-process open-file
// limit that connections would exhaust first.
func openFileLimit() (int, bool) { return 0, false }
