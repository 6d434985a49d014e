package sink

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// ExportOptions configures WriteExport.
type ExportOptions struct {
	// Format is one of Formats(); empty means "sh".
	Format string
	// Region, when not empty, is also exported as AWS_REGION and
	// AWS_DEFAULT_REGION (ignored by "json").
	Region string
	// GitHubEnv is the path held in $GITHUB_ENV. Only the "github" format
	// uses it, and that format requires it.
	GitHubEnv string
}

// WriteExport writes creds to w in opts.Format. Nothing is written when an
// error is returned, except that "github" may have printed its mask lines
// before failing to append to the GITHUB_ENV file.
//
// rolehop's own formats write the variables of Vars (with AWS_ACCOUNT_ID
// when the account is known, and the region variables when opts.Region is
// set), the same environment exec gives a child:
//
//   - sh (the default): `export NAME='value'` lines for eval in sh, bash,
//     zsh, ksh and dash, after one `unset` line for the variables that would
//     override or confuse them: AWS_SECURITY_TOKEN, AWS_SESSION_EXPIRATION,
//     AWS_ACCESS_KEY, AWS_SECRET_KEY, plus AWS_ACCOUNT_ID when the account is
//     not known, AWS_SESSION_TOKEN when there is no token and
//     AWS_CREDENTIAL_EXPIRATION when the credentials do not expire.
//     AWS_PROFILE and the base-source variables (container, web identity)
//     are left alone in the user's shell.
//   - fish: `set -gx NAME 'value'`, `set -e NAME; or true` for the same
//     unsets. (fish's set keeps the previous status, and set -e of a missing
//     variable fails: without "or true" the sourced output would end with
//     status 4, and `… | source; and aws …` would not run aws.)
//   - powershell: `$Env:NAME = 'value'`, `Remove-Item Env:NAME
//     -ErrorAction SilentlyContinue` for the unsets. Values with line breaks
//     are refused (the output is usually piped line by line into
//     Invoke-Expression).
//   - cmd: `set "NAME=value"` and `set "NAME="` for the unsets, CRLF line
//     ends. Values must be printable ASCII without `"`, `%`, `!` or `^`.
//   - dotenv: raw `NAME=value` lines for `docker run --env-file`, which
//     strips no quotes. No unsets (the format cannot express them); line
//     breaks and invalid UTF-8 are refused.
//   - json: the credential_process document of ProcessJSON.
//   - github: `::add-mask::` lines on w for the access key id, secret key and
//     session token, then the variables appended to the opts.GitHubEnv file
//     with the heredoc syntax `NAME<<DELIM`, value, `DELIM`, using a random
//     delimiter. The file keeps its content and mode.
//
// The names of `aws configure export-credentials --format` that rolehop
// does not use itself (env, env-no-export, windows-cmd, process; see
// CLIFormats) write what AWS CLI v2 writes for the same credentials, byte
// for byte; opts.Region is ignored for them. "fish" and "powershell" are
// both rolehop's and the CLI's names: rolehop's format wins (see
// CLIFormatNote).
//
// An unknown format is an error that lists the valid ones. A value the format
// cannot carry exactly (for example a NUL byte anywhere, or a newline for
// dotenv) is an error that names the variable but never shows the value.
func WriteExport(w io.Writer, creds aws.Credentials, opts ExportOptions) error {
	format := opts.Format
	if format == "" {
		format = "sh"
	}
	lf, isLineFormat := lineFormatFor(format)
	_, isCLIFormat := cliFormatFor(format)
	if !isLineFormat && !isCLIFormat && format != "json" && format != "github" {
		return fmt.Errorf("unknown export format %q (valid: %s)", format, strings.Join(Formats(), ", "))
	}
	if err := checkKeys(creds); err != nil {
		return err
	}
	if isCLIFormat {
		return writeCLIFormat(w, format, creds, runtime.GOOS)
	}
	switch format {
	case "json":
		b, err := ProcessJSON(creds)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case "github":
		return writeGitHub(w, creds, opts)
	}

	return writeLines(w, format, lf, exportUnsets(creds), Vars(creds, opts.Region))
}

// WriteContainerExport prints, in the shell format (sh, fish, powershell
// or cmd), the lines that point a shell's AWS tools at a credentials
// endpoint: unset ConflictingVars, then set ContainerVars.
func WriteContainerExport(w io.Writer, format string, vars []Var) error {
	lf, ok := lineFormatFor(format)
	if !ok || format == "dotenv" {
		return fmt.Errorf("unknown shell format %q (valid: sh, fish, powershell, cmd)", format)
	}
	return writeLines(w, format, lf, ConflictingVars(), vars)
}

func writeLines(w io.Writer, format string, lf lineFormat, unset []string, vars []Var) error {
	if err := checkValues(format, vars, lf.check); err != nil {
		return err
	}
	var buf bytes.Buffer
	if lf.unset != nil {
		lf.unset(&buf, unset)
	}
	for _, v := range vars {
		lf.set(&buf, v.Name, v.Value)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// exportUnsets lists the variables an export removes from the user's shell:
// those that would override or contradict the exported credentials, without
// the profile and base-source variables the user still needs there.
func exportUnsets(creds aws.Credentials) []string {
	names := []string{"AWS_SECURITY_TOKEN", "AWS_SESSION_EXPIRATION", "AWS_ACCESS_KEY", "AWS_SECRET_KEY"}
	if creds.AccountID == "" {
		names = append(names, envAccountID)
	}
	if creds.SessionToken == "" {
		names = append(names, envSessionToken)
	}
	if !creds.CanExpire {
		names = append(names, envCredentialExpiry)
	}
	return names
}

// lineFormat describes a format made of one line per variable.
type lineFormat struct {
	// unset writes the lines that remove names; nil when the format has none.
	unset func(b *bytes.Buffer, names []string)
	// set writes the line that assigns value to name.
	set func(b *bytes.Buffer, name, value string)
	// check returns why value cannot be written exactly, or "" if it can.
	check func(value string) string
}

func lineFormatFor(format string) (lineFormat, bool) {
	switch format {
	case "sh":
		return lineFormat{
			unset: func(b *bytes.Buffer, names []string) {
				b.WriteString("unset " + strings.Join(names, " ") + "\n")
			},
			set: func(b *bytes.Buffer, name, value string) {
				b.WriteString("export " + name + "=" + shQuote(value) + "\n")
			},
			check: checkNUL,
		}, true
	case "fish":
		return lineFormat{
			unset: func(b *bytes.Buffer, names []string) {
				for _, n := range names {
					b.WriteString("set -e " + n + "; or true\n")
				}
			},
			set: func(b *bytes.Buffer, name, value string) {
				b.WriteString("set -gx " + name + " " + fishQuote(value) + "\n")
			},
			check: checkUTF8,
		}, true
	case "powershell":
		return lineFormat{
			unset: func(b *bytes.Buffer, names []string) {
				for _, n := range names {
					b.WriteString("Remove-Item Env:" + n + " -ErrorAction SilentlyContinue\n")
				}
			},
			set: func(b *bytes.Buffer, name, value string) {
				b.WriteString("$Env:" + name + " = " + powershellQuote(value) + "\n")
			},
			check: checkSingleLine,
		}, true
	case "cmd":
		return lineFormat{
			unset: func(b *bytes.Buffer, names []string) {
				for _, n := range names {
					b.WriteString(`set "` + n + "=\"\r\n")
				}
			},
			set: func(b *bytes.Buffer, name, value string) {
				b.WriteString(`set "` + name + "=" + value + "\"\r\n")
			},
			check: checkCmd,
		}, true
	case "dotenv":
		return lineFormat{
			set: func(b *bytes.Buffer, name, value string) {
				b.WriteString(name + "=" + value + "\n")
			},
			check: checkSingleLine,
		}, true
	}
	return lineFormat{}, false
}

// shQuote single-quotes s for POSIX shells: inside single quotes every byte
// is literal, and each single quote becomes quote, backslash, quote, quote
// (close the string, add an escaped quote, reopen).
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// fishQuote single-quotes s for fish, where \\ and \' are the only escapes
// inside single quotes.
func fishQuote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `'`, `\'`)
	return "'" + s + "'"
}

// powershellQuote single-quotes s for PowerShell. PowerShell also treats the
// typographic quotes U+2018..U+201B as single quotes, so each of those is
// doubled too, as PowerShell's own EscapeSingleQuotedStringContent does.
func powershellQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\u2018', '\u2019', '\u201a', '\u201b':
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// checkNUL refuses NUL, which no environment variable can hold.
func checkNUL(v string) string {
	if strings.IndexByte(v, 0) >= 0 {
		return "a NUL byte"
	}
	return ""
}

func checkUTF8(v string) string {
	if r := checkNUL(v); r != "" {
		return r
	}
	if !utf8.ValidString(v) {
		return "invalid UTF-8"
	}
	return ""
}

func checkSingleLine(v string) string {
	if r := checkUTF8(v); r != "" {
		return r
	}
	if strings.ContainsAny(v, "\r\n") {
		return "a line break"
	}
	return ""
}

// checkCmd accepts printable ASCII without the characters cmd.exe expands or
// treats specially even inside `set "NAME=value"`: " % ! ^.
func checkCmd(v string) string {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c > 0x7e || strings.IndexByte(`"%!^`, c) >= 0 {
			return `a character cmd.exe cannot carry literally (", %, !, ^, a control or non-ASCII character); use the powershell format`
		}
	}
	return ""
}

func checkValues(format string, vars []Var, check func(string) string) error {
	for _, v := range vars {
		if reason := check(v.Value); reason != "" {
			return fmt.Errorf("cannot export %s in %s format: the value contains %s", v.Name, format, reason)
		}
	}
	return nil
}

// checkKeys refuses credentials without the two required parts.
func checkKeys(creds aws.Credentials) error {
	switch {
	case creds.AccessKeyID == "":
		return errors.New("cannot export credentials: the access key id is empty")
	case creds.SecretAccessKey == "":
		return errors.New("cannot export credentials: the secret access key is empty")
	}
	return nil
}
