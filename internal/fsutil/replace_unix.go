//go:build !windows

package fsutil

func (d *Dir) replace(from, to string) error { return d.root.Rename(from, to) }
