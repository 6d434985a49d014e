package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// staleTemp is the age after which a temp file of WriteFileAtomic is
// garbage: a live writer renames it within milliseconds.
const staleTemp = time.Minute

// CleanTemps removes the temp files that WriteFileAtomic leaves next to path
// when its process dies between creating one and renaming it over path
// (".NAME.tmp-<digits>", regular files only), once they are more than a
// minute old. Such files accumulate, one per writer killed at the wrong
// moment; WriteFileAtomic calls CleanTemps after each successful write. It
// returns the first error, but removes what it can.
func CleanTemps(path string) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	prefix := "." + base + ".tmp-"
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
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}
