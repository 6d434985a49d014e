package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// staleTemp is the age after which a temp file of WriteFile is garbage: a
// live writer renames it within milliseconds.
const staleTemp = time.Minute

// CleanTemps removes the temp files that WriteFile leaves next to name
// when its process dies between creating one and renaming it over name
// (".NAME.tmp-<digits>", regular files of the user's only), once they are
// more than a minute old. Such files accumulate, one per writer killed at
// the wrong moment; WriteFile calls CleanTemps after each successful
// write. It returns the first error, but removes what it can.
func (d *Dir) CleanTemps(name string) error {
	entries, err := d.Entries()
	if err != nil {
		return err
	}
	prefix := "." + name + ".tmp-"
	cutoff := time.Now().Add(-staleTemp)
	var errs []error
	for _, e := range entries {
		digits, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			continue
		}
		if err := d.Remove(e.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// CleanTemps is Dir.CleanTemps for the file at path, in its directory
// opened under the trust rule.
func CleanTemps(path string) error {
	d, err := OpenDir(filepath.Dir(path), DirOptions{})
	if err != nil {
		return err
	}
	defer d.Close()
	return d.CleanTemps(filepath.Base(path))
}
