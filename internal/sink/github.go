package sink

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// writeGitHub implements the "github" export format: mask the secrets in the
// job log, then append the variables to the $GITHUB_ENV file.
func writeGitHub(w io.Writer, creds aws.Credentials, opts ExportOptions) error {
	if opts.GitHubEnv == "" {
		return errors.New("GITHUB_ENV is not set: --format github runs inside GitHub Actions")
	}
	vars := Vars(creds, opts.Region)
	// The runner reads the file as UTF-8 text and, on Windows runners, takes a
	// CR before LF as part of the line end, so neither can round-trip.
	if err := checkValues("github", vars, checkGitHub); err != nil {
		return err
	}

	var block bytes.Buffer
	for _, v := range vars {
		delim, err := heredocDelimiter(v.Value)
		if err != nil {
			return err
		}
		block.WriteString(v.Name + "<<" + delim + "\n" + v.Value + "\n" + delim + "\n")
	}

	var masks bytes.Buffer
	for _, secret := range []string{creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken} {
		if secret != "" {
			masks.WriteString("::add-mask::" + escapeCommandData(secret) + "\n")
		}
	}
	// The masks must reach the runner before anything could print a value.
	if _, err := w.Write(masks.Bytes()); err != nil {
		return err
	}
	return appendGitHubEnv(opts.GitHubEnv, block.Bytes())
}

// appendGitHubEnv appends block to the existing file at path in one write,
// without creating, truncating or re-moding it.
func appendGitHubEnv(path string, block []byte) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("cannot append to GITHUB_ENV: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("cannot append to GITHUB_ENV: %w", cerr)
		}
	}()
	if fi, serr := f.Stat(); serr == nil && fi.Size() > 0 {
		// The file may not end with a line break; an empty line is skipped
		// by the runner, a missing one would glue our first line to its last.
		block = append([]byte("\n"), block...)
	}
	if _, err := f.Write(block); err != nil {
		return fmt.Errorf("cannot append to GITHUB_ENV: %w", err)
	}
	return nil
}

func checkGitHub(v string) string {
	if r := checkUTF8(v); r != "" {
		return r
	}
	if strings.IndexByte(v, '\r') >= 0 {
		return "a carriage return"
	}
	return ""
}

// heredocDelimiter returns a random delimiter that does not occur in value.
func heredocDelimiter(value string) (string, error) {
	for range 8 {
		d := "ROLEHOP_EOF_" + rand.Text()
		if !strings.Contains(value, d) {
			return d, nil
		}
	}
	return "", errors.New("cannot choose a GITHUB_ENV heredoc delimiter")
}

// escapeCommandData escapes a workflow command's data the way the runner
// unescapes it (and as @actions/core escapeData does), so a value with a line
// break is masked whole rather than printed from its second line on.
func escapeCommandData(s string) string {
	s = strings.ReplaceAll(s, "%", "%25")
	s = strings.ReplaceAll(s, "\r", "%0D")
	return strings.ReplaceAll(s, "\n", "%0A")
}
