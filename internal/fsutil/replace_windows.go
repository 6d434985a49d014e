//go:build windows

package fsutil

import (
	"time"

	"golang.org/x/sys/windows"
)

// replace renames over an existing file. Windows refuses while another
// process has the target open without FILE_SHARE_DELETE (an antivirus scan,
// a reader), so a few short retries ride that out.
func replace(from, to string) error {
	f, err := windows.UTF16PtrFromString(from)
	if err != nil {
		return err
	}
	t, err := windows.UTF16PtrFromString(to)
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		err = windows.MoveFileEx(f, t, windows.MOVEFILE_REPLACE_EXISTING|windows.MOVEFILE_WRITE_THROUGH)
		if err == nil || i == 20 {
			return err
		}
		time.Sleep(time.Duration(i+1) * 5 * time.Millisecond)
	}
}
