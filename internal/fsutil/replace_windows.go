//go:build windows

package fsutil

import "time"

// replace renames over an existing file. Windows refuses while another
// process has the target open without FILE_SHARE_DELETE (an antivirus scan,
// a reader), so a few short retries ride that out.
func (d *Dir) replace(from, to string) error {
	for i := 0; ; i++ {
		err := d.root.Rename(from, to)
		if err == nil || i == 20 {
			return err
		}
		time.Sleep(time.Duration(i+1) * 5 * time.Millisecond)
	}
}
