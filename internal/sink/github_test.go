package sink

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rolehop/rolehop/internal/winetest"
)

// parseGitHubEnv mimics the Linux runner's GITHUB_ENV parser (actions/runner
// SetEnvFileCommand): empty lines are skipped; NAME=VALUE when '=' comes
// before any "<<"; otherwise NAME<<DELIM opens a heredoc whose value is the
// text up to the line break before the line equal to DELIM.
func parseGitHubEnv(text string) (map[string]string, error) {
	vars := map[string]string{}
	i := 0
	readLine := func() (line string, hasNewline, ok bool) {
		if i >= len(text) {
			return "", false, false
		}
		j := strings.IndexByte(text[i:], '\n')
		if j < 0 {
			line, i = text[i:], len(text)
			return line, false, true
		}
		line, i = text[i:i+j], i+j+1
		return line, true, true
	}
	for {
		line, _, ok := readLine()
		if !ok {
			return vars, nil
		}
		if line == "" {
			continue
		}
		eq, hd := strings.Index(line, "="), strings.Index(line, "<<")
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			vars[line[:eq]] = line[eq+1:]
		case hd >= 0:
			name, delim := line[:hd], line[hd+2:]
			if name == "" || delim == "" {
				return nil, fmt.Errorf("invalid format %q", line)
			}
			start, end := i, i
			for {
				l, nl, ok := readLine()
				if !ok {
					return nil, fmt.Errorf("matching delimiter not found %q", delim)
				}
				if l == delim {
					break
				}
				if !nl {
					return nil, errors.New("EOF marker missing new line")
				}
				end = i - 1
			}
			vars[name] = text[start:end]
		default:
			return nil, fmt.Errorf("invalid format %q", line)
		}
	}
}

func newGitHubEnvFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(winetest.TempDir(t), "github_env")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil { // not subject to umask
		t.Fatal(err)
	}
	return path
}

func TestExportGitHub(t *testing.T) {
	const existing = "EXISTING=1\nMULTI<<EOF\nline one\nline two\nEOF\nLAST=no trailing newline"
	multiline := aws.Credentials{
		AccessKeyID:     "ASIAMULTI",
		SecretAccessKey: "first line\nsecond %0A line\nROLEHOP_EOF_\n",
		SessionToken:    "tok<<en=\n\nEOF",
		CanExpire:       true,
		Expires:         fixedExpiry,
	}
	tests := []struct {
		name      string
		creds     aws.Credentials
		region    string
		wantMasks string
	}{
		{"session", fullCreds(), "eu-west-1",
			"::add-mask::ASIAEXAMPLEKEYID0001\n" +
				"::add-mask::wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n" +
				"::add-mask::FwoGZXIvYXdzEXAMPLETOKEN//+==\n"},
		{"static", staticCreds(), "",
			"::add-mask::AKIAEXAMPLEKEYID0002\n::add-mask::static/secret+key\n"},
		{"multi-line values", multiline, "",
			"::add-mask::ASIAMULTI\n" +
				"::add-mask::first line%0Asecond %250A line%0AROLEHOP_EOF_%0A\n" +
				"::add-mask::tok<<en=%0A%0AEOF\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := newGitHubEnvFile(t, existing)
			var out bytes.Buffer
			if err := WriteExport(&out, tt.creds, ExportOptions{Format: "github", Region: tt.region, GitHubEnv: path}); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.wantMasks {
				t.Errorf("stdout =\n%s\nwant\n%s", out.String(), tt.wantMasks)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), existing) {
				t.Fatalf("existing content not preserved:\n%s", data)
			}
			if runtime.GOOS != "windows" {
				if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
					t.Errorf("mode changed: %v %v", fi.Mode(), err)
				}
			}
			got, err := parseGitHubEnv(string(data))
			if err != nil {
				t.Fatalf("runner would reject GITHUB_ENV: %v\n%s", err, data)
			}
			want := map[string]string{"EXISTING": "1", "MULTI": "line one\nline two", "LAST": "no trailing newline"}
			for _, v := range Vars(tt.creds, tt.region) {
				want[v.Name] = v.Value
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("runner reads\n%q\nwant\n%q\nfile:\n%s", got, want, data)
			}
			if !strings.Contains(string(data), "AWS_SECRET_ACCESS_KEY<<ROLEHOP_EOF_") {
				t.Errorf("no heredoc syntax in:\n%s", data)
			}
		})
	}
}

func TestExportGitHubAppendsAgain(t *testing.T) {
	path := newGitHubEnvFile(t, "")
	for _, c := range []aws.Credentials{staticCreds(), fullCreds()} {
		if err := WriteExport(&bytes.Buffer{}, c, ExportOptions{Format: "github", GitHubEnv: path}); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(path)
	if strings.HasPrefix(string(data), "\n") {
		t.Errorf("empty file got a leading blank line")
	}
	got, err := parseGitHubEnv(string(data))
	if err != nil {
		t.Fatal(err)
	}
	if got["AWS_ACCESS_KEY_ID"] != fullCreds().AccessKeyID {
		t.Errorf("the last export does not win: %q", got)
	}
}

func TestExportGitHubErrors(t *testing.T) {
	t.Run("GITHUB_ENV unset", func(t *testing.T) {
		var out bytes.Buffer
		err := WriteExport(&out, fullCreds(), ExportOptions{Format: "github"})
		if err == nil || err.Error() != "GITHUB_ENV is not set: --format github runs inside GitHub Actions" {
			t.Errorf("err = %v", err)
		}
		if out.Len() != 0 {
			t.Errorf("wrote %q", out.Bytes())
		}
	})
	t.Run("missing file is not created", func(t *testing.T) {
		path := filepath.Join(winetest.TempDir(t), "nope")
		err := WriteExport(&bytes.Buffer{}, fullCreds(), ExportOptions{Format: "github", GitHubEnv: path})
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v", err)
		}
		if _, serr := os.Stat(path); serr == nil {
			t.Error("GITHUB_ENV file was created")
		}
	})
	t.Run("carriage return refused", func(t *testing.T) {
		path := newGitHubEnvFile(t, "A=1\n")
		var out bytes.Buffer
		creds := aws.Credentials{AccessKeyID: "AKIA", SecretAccessKey: "S3CR3T\r"}
		err := WriteExport(&out, creds, ExportOptions{Format: "github", GitHubEnv: path})
		if err == nil || strings.Contains(err.Error(), "S3CR3T") || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") {
			t.Errorf("err = %v", err)
		}
		if data, _ := os.ReadFile(path); string(data) != "A=1\n" || out.Len() != 0 {
			t.Errorf("wrote despite the error: file %q, stdout %q", data, out.Bytes())
		}
	})
}

func TestHeredocDelimiter(t *testing.T) {
	a, err := heredocDelimiter("x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := heredocDelimiter("x")
	if a == b || len(a) < 30 {
		t.Errorf("delimiters not random enough: %q %q", a, b)
	}
	// A value made of a delimiter candidate's prefix cannot contain a full one.
	v := strings.Repeat(a[:len(a)-1], 3)
	d, err := heredocDelimiter(v)
	if err != nil || strings.Contains(v, d) {
		t.Errorf("delimiter %q occurs in the value (err %v)", d, err)
	}
}
