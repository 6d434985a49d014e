//go:build !windows

package fsutil

import "os"

func replace(from, to string) error { return os.Rename(from, to) }
