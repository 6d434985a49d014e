package sink

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// This file holds the formats of `aws configure export-credentials
// --format` (AWS CLI v2, awscli/customizations/configure/exportcreds.py)
// whose names rolehop does not use for a format of its own. They print what
// that command prints for the same credentials:
//
//   - the variables AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, then
//     AWS_SESSION_TOKEN when there is a token and AWS_CREDENTIAL_EXPIRATION
//     when the credentials expire; nothing else (no unsets, no region, no
//     account id: the CLI prints none);
//   - one line per variable, each value written as it is, without quotes
//     or escapes;
//   - the expiry as Python's datetime.isoformat() of a UTC time,
//     "2006-01-02T15:04:05+00:00", with ".ffffff" when the microseconds are
//     not zero;
//   - "process": json.dumps(…, indent=2, separators=(',', ': ')) and a
//     newline, with Python's escaping (ensure_ascii: every character outside
//     printable ASCII becomes \uXXXX).
//
// Python writes stdout in text mode, so on Windows the CLI ends the lines of
// windows-cmd and process with CRLF; rolehop does the same there. For env
// and env-no-export rolehop always writes LF, as the CLI's newest source does
// for the formats meant for POSIX shells (aws/aws-cli#8187: a CR at the end
// of each value broke Git Bash on Windows).
//
// Values the unquoted line formats cannot carry exactly are refused with the
// usual one-line error that names the variable; rolehop's own formats (sh,
// cmd, powershell) quote and carry them.

// cliFormat is one format of `aws configure export-credentials`.
type cliFormat struct {
	// line renders one assignment, without the line end.
	line func(name, value string) string
	// check returns why value cannot be written exactly, or "".
	check func(value string) string
	// crlfOnWindows: the CLI's text-mode stdout turns "\n" into "\r\n".
	crlfOnWindows bool
}

// cliFormatFor returns the CLI format named name, and false for a name that
// is not one of CLIFormats.
func cliFormatFor(name string) (cliFormat, bool) {
	switch name {
	case "env":
		return cliFormat{line: func(n, v string) string { return "export " + n + "=" + v }, check: checkUnquotedSh}, true
	case "env-no-export":
		return cliFormat{line: func(n, v string) string { return n + "=" + v }, check: checkUnquotedSh}, true
	case "windows-cmd":
		return cliFormat{line: func(n, v string) string { return "set " + n + "=" + v }, check: checkUnquotedCmd, crlfOnWindows: true}, true
	case "process":
		return cliFormat{crlfOnWindows: true}, true
	}
	return cliFormat{}, false
}

// CLIFormats returns the names of `aws configure export-credentials
// --format` that rolehop accepts in addition to its own formats, in the
// order of the CLI's help. ("fish" and "powershell", the CLI's other two
// names, are rolehop formats already; see CLIFormatNote.) Each call returns
// a new slice.
func CLIFormats() []string {
	return []string{"env", "env-no-export", "windows-cmd", "process"}
}

// CLIFormatNote explains, for help text, how the CLI's format names map to
// rolehop's formats and why rolehop's fish and powershell win.
const CLIFormatNote = `The names of "aws configure export-credentials --format" work too, and print what
AWS CLI v2 prints for the same credentials, byte for byte: AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and AWS_CREDENTIAL_EXPIRATION (as
2030-01-02T03:04:05+00:00), unquoted, and nothing else (no region, no account id, no unsets):
  env            export NAME=value     rolehop's quoted equivalent: sh
  env-no-export  NAME=value            sh
  windows-cmd    set NAME=value        cmd (CRLF on Windows, as the CLI)
  process        credential_process JSON as the CLI writes it (without AccountId): json
A value these unquoted formats cannot carry exactly is refused: use the rolehop format.
fish and powershell are CLI names too, and rolehop's formats keep them: sourced, they set
the same credentials as the CLI's lines, and they also quote every value, clear stale
variables the CLI's lines leave behind (an old AWS_SESSION_TOKEN breaks keys without one),
and set the region and AWS_ACCOUNT_ID.`

// writeCLIFormat writes creds in the CLI format named format, with the line
// ends the CLI writes on goos.
func writeCLIFormat(w io.Writer, format string, creds aws.Credentials, goos string) error {
	f, _ := cliFormatFor(format)
	vars := cliVars(creds)
	var buf bytes.Buffer
	if format == "process" {
		for _, v := range vars {
			if !utf8.ValidString(v.Value) {
				return fmt.Errorf("cannot write %s as JSON: the value contains invalid UTF-8", processKey(v.Name))
			}
		}
		buf.WriteString("{\n")
		fmt.Fprintf(&buf, "  %s: 1", pyJSONString("Version"))
		for _, v := range vars {
			fmt.Fprintf(&buf, ",\n  %s: %s", pyJSONString(processKey(v.Name)), pyJSONString(v.Value))
		}
		buf.WriteString("\n}\n")
	} else {
		if err := checkValues(format, vars, f.check); err != nil {
			return err
		}
		for _, v := range vars {
			buf.WriteString(f.line(v.Name, v.Value) + "\n")
		}
	}
	out := buf.Bytes()
	if f.crlfOnWindows && goos == "windows" {
		// No value holds a raw "\n": JSON escapes it, windows-cmd refuses it.
		out = bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n"))
	}
	_, err := w.Write(out)
	return err
}

// processKey returns the credential_process key of a variable of cliVars.
func processKey(name string) string {
	switch name {
	case envAccessKeyID:
		return "AccessKeyId"
	case envSecretAccessKey:
		return "SecretAccessKey"
	case envSessionToken:
		return "SessionToken"
	}
	return "Expiration"
}

// cliVars returns the variables the CLI's formats print, in their order.
func cliVars(creds aws.Credentials) []Var {
	vars := []Var{{envAccessKeyID, creds.AccessKeyID}, {envSecretAccessKey, creds.SecretAccessKey}}
	if creds.SessionToken != "" {
		vars = append(vars, Var{envSessionToken, creds.SessionToken})
	}
	if creds.CanExpire {
		vars = append(vars, Var{envCredentialExpiry, pyISOFormat(creds.Expires)})
	}
	return vars
}

// pyISOFormat renders t in UTC as Python's datetime.isoformat() renders an
// aware UTC datetime: seconds, ".ffffff" only when the microseconds are not
// zero (the nanoseconds beyond them are dropped), and "+00:00".
func pyISOFormat(t time.Time) string {
	t = t.UTC()
	s := t.Format("2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s + "+00:00"
}

// pyJSONString quotes s as Python's json.dumps does with ensure_ascii (the
// default): \" \\ \n \r \t \b \f, every other character outside printable
// ASCII (0x20-0x7e) as \uXXXX in lower-case hex, and characters beyond the
// BMP as a UTF-16 surrogate pair. s must be valid UTF-8.
func pyJSONString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r >= 0x20 && r <= 0x7e:
				b.WriteRune(r)
			case r > 0xffff:
				r -= 0x10000
				fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			default:
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// checkUnquotedSh accepts what a POSIX shell (sh, dash, bash, zsh, ksh)
// keeps literally in the unquoted value of `NAME=value`: letters, digits
// and _ - . / + = : , @ %, except "=" at the start or after ":", where zsh
// expands =cmd to the command's path (assignments are colon lists). Every
// other character either needs quoting (space, quotes, $, `, \, ;, &, |,
// <, >, (, ), *, ?, [, #, !, {, }) or is expanded in some shell (~ after
// "=" or ":", ^ in old shells).
func checkUnquotedSh(v string) string {
	for i := 0; i < len(v); i++ {
		c := v[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_-./+=:,@%", c) >= 0
		if !ok || c == '=' && (i == 0 || v[i-1] == ':') {
			return "a character the AWS CLI's unquoted env format cannot carry (only letters, digits and _-./+=:,@% are safe, and = not first or after :); use the sh format"
		}
	}
	return ""
}

// checkUnquotedCmd accepts printable ASCII without the characters cmd.exe
// treats specially in an unquoted `set NAME=value`: " % ! ^ & | < > ( ).
func checkUnquotedCmd(v string) string {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c > 0x7e || strings.IndexByte(`"%!^&|<>()`, c) >= 0 {
			return `a character cmd.exe cannot carry in an unquoted set (", %, !, ^, &, |, <, >, (, ), a control or non-ASCII character); use the powershell format`
		}
	}
	return ""
}
