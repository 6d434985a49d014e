package awsconfig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// KeyValue is one line to write.
type KeyValue struct{ Key, Value string }

// ErrLongTermKeys means the target section holds aws_access_key_id without
// aws_session_token (long-term keys); WriteCredentialsSection refuses to
// overwrite it unless WriteOptions.Force is set.
var ErrLongTermKeys = errors.New("holds long-term access keys (no aws_session_token)")

// sourceLabel names the data in the errors of ReplaceSection and
// SectionKeys, which do not know the file's path.
const sourceLabel = "credentials file"

// ReplaceSection returns data with the section that defines credentials-file
// profile name (see ProfileName: a bare "[NAME]", exact case; "[profile
// NAME]" is not the profile NAME there) replaced by a section holding
// exactly kv, in order. If there is no such section, the new section is
// appended, separated by one blank line (a missing final line break is added
// first).
//
// Every byte outside the replaced section is kept: other sections,
// comments, blank lines, spacing, key order and line endings. The replaced
// section runs from its header line to its last key or continuation line;
// comment and blank lines after that belong to what follows and are kept.
// The header line itself is kept as it is (so a comment after "]" stays).
// The key lines are written as "key = value" with the file's dominant line
// ending (CRLF if most lines end in CRLF; the key lines being replaced are
// not counted, so writing the same section twice gives the same bytes),
// indented only when the next section header is indented (an unindented key
// line would turn that header into a continuation line).
//
// data must parse (see Parse), so a file that defines the section twice, or
// that botocore would refuse for any other reason, gives a *ParseError. The
// name must be usable as a credentials-file profile name, keys must be
// distinct, and values must survive a round trip: no CR or LF, no leading or
// trailing whitespace, valid UTF-8 (errors name the key, never the value).
// The result is checked before it is returned: it parses, every other
// section has the same keys and values as before, and the target section
// has exactly kv (plus keys inherited from a [DEFAULT] section, as botocore
// reads it). The one valid input that fails that check is a [DEFAULT]
// section with a malformed nested value: configparser only parses it once a
// section inherits it, so botocore would refuse the result.
func ReplaceSection(data []byte, name string, kv []KeyValue) ([]byte, error) {
	e, err := edit(sourceLabel, data, name, kv)
	if err != nil {
		return nil, err
	}
	return e.out, nil
}

// SectionKeys returns the keys (lower-cased) and values of credentials-file
// profile name in data, as botocore reads them (so keys of a [DEFAULT]
// section are included), and whether the section exists. A file that does
// not parse gives a *ParseError.
func SectionKeys(data []byte, name string) (map[string]string, bool, error) {
	pf, err := Parse(sourceLabel, data)
	if err != nil {
		return nil, false, err
	}
	for _, s := range pf.Sections {
		if n, ok := ProfileName(CredentialsFile, s.Header); ok && n == name {
			return valuesOf(s.Keys), true, nil
		}
	}
	return nil, false, nil
}

// WriteOptions tunes WriteCredentialsSection.
type WriteOptions struct {
	Force       bool          // overwrite a section with long-term keys
	LockTimeout time.Duration // how long to wait for the lock; default 10s
	// Notice is told when a file that others could read is tightened.
	Notice func(format string, args ...any)
	// beforeCommit: UpdateOptions.BeforeCommit (tests).
	beforeCommit func(attempt int)
}

// WriteCredentialsSection sets section name of the credentials file at path
// to exactly kv (see ReplaceSection), keeping the rest of the file as it is,
// through UpdateFile (trust rule, lock, atomic write, compare-and-swap). The
// file keeps its mode, except that one that group or others could read is
// tightened to 0600: it now holds credentials.
//
// A target section whose own keys include aws_access_key_id but neither
// aws_session_token nor aws_security_token holds long-term keys: unless
// opts.Force, the write is refused with an error wrapping ErrLongTermKeys.
func WriteCredentialsSection(path, name string, kv []KeyValue, opts WriteOptions) error {
	if err := validateSection(name, kv); err != nil {
		return err
	}
	uo := UpdateOptions{LockTimeout: opts.LockTimeout, Secret: true, Notice: opts.Notice, BeforeCommit: opts.beforeCommit}
	_, err := UpdateFile(context.Background(), path, uo, func(data []byte, _ bool) ([]byte, error) {
		e, err := edit(path, data, name, kv)
		if err != nil {
			return nil, err
		}
		if e.found && !opts.Force && e.longTerm() {
			return nil, fmt.Errorf("section [%s] of %s %w: refusing to overwrite them; pass --force or choose another --to",
				name, ShortPath(path), ErrLongTermKeys)
		}
		return e.out, nil
	})
	return err
}

// sectionEdit is a computed ReplaceSection.
type sectionEdit struct {
	out        []byte
	found      bool   // the section existed
	start, end int    // its bytes in the input, when found
	old        []byte // the input
	path       string
}

// longTerm reports whether the replaced section's own keys (not those
// inherited from [DEFAULT]) are long-term access keys.
func (e *sectionEdit) longTerm() bool {
	if !e.found {
		return false
	}
	pf, err := Parse(e.path, e.old[e.start:e.end])
	if err != nil || len(pf.Sections) != 1 {
		return true // cannot happen (the span parses on its own); refuse to be safe
	}
	keys := pf.Sections[0].Keys
	has := func(k string) bool { return strings.TrimSpace(keys[k].Value) != "" }
	return has("aws_access_key_id") && !has("aws_session_token") && !has("aws_security_token")
}

// lineKind is what the parser makes of a line.
type lineKind uint8

const (
	neutralLine lineKind = iota // blank or full-line comment
	contLine                    // continuation of the previous key's value
	headerLine                  // [section]
	optionLine                  // key = value
)

// srcLine is one line of a file: its text is data[start:end], and the next
// line starts at next (after "\n", "\r\n" or "\r").
type srcLine struct {
	start, end, next int
	kind             lineKind
	header           string // for headerLine
	indent           int    // for headerLine, optionLine and contLine
}

var utf8BOM = []byte("\ufeff")

// scanLines classifies the lines of data exactly as parser.line does.
func scanLines(data []byte) []srcLine {
	var lines []srcLine
	off := 0
	if bytes.HasPrefix(data, utf8BOM) {
		off = len(utf8BOM)
	}
	hasOpt, indent := false, 0
	for off < len(data) {
		l := srcLine{start: off, end: len(data), next: len(data)}
		if i := bytes.IndexAny(data[off:], "\r\n"); i >= 0 {
			l.end = off + i
			l.next = l.end + 1
			if data[l.end] == '\r' && l.next < len(data) && data[l.next] == '\n' {
				l.next++
			}
		}
		line := string(data[l.start:l.end])
		text := pyTrim(line)
		switch {
		case text == "" || text[0] == '#' || text[0] == ';':
			l.kind = neutralLine
		default:
			l.indent = pyIndent(line)
			switch header, ok := sectionHeader(text); {
			case hasOpt && l.indent > indent:
				l.kind = contLine
			case ok:
				l.kind, l.header = headerLine, header
				hasOpt, indent = false, l.indent
			default:
				l.kind = optionLine
				hasOpt, indent = true, l.indent
			}
		}
		lines = append(lines, l)
		off = l.next
	}
	return lines
}

// DominantEOL returns the most common line ending in parts, or "" if there
// is none ("\n" wins ties with CRLF; CRLF wins ties with a lone CR). Writers
// use it so that the lines they add match the file.
func DominantEOL(parts ...[]byte) string {
	var crlf, lf, cr int
	for _, p := range parts {
		n := bytes.Count(p, []byte("\r\n"))
		crlf += n
		lf += bytes.Count(p, []byte("\n")) - n
		cr += bytes.Count(p, []byte("\r")) - n
	}
	switch {
	case crlf == 0 && lf == 0 && cr == 0:
		return ""
	case crlf > lf && crlf >= cr:
		return "\r\n"
	case cr > lf && cr > crlf:
		return "\r"
	}
	return "\n"
}

// dominantEOL is DominantEOL with "\n" when the parts have no line break.
func dominantEOL(parts ...[]byte) string {
	if eol := DominantEOL(parts...); eol != "" {
		return eol
	}
	return "\n"
}

// edit computes ReplaceSection; path is used in errors.
func edit(path string, data []byte, name string, kv []KeyValue) (*sectionEdit, error) {
	if err := validateSection(name, kv); err != nil {
		return nil, err
	}
	before, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	lines := scanLines(data)
	// The scan must find the headers the parser found.
	var headers []int
	for i, l := range lines {
		if l.kind == headerLine && l.header != defaultSection {
			headers = append(headers, i)
		}
	}
	if len(headers) != len(before.Sections) {
		return nil, fmt.Errorf("internal error: %s: found %d section headers, the parser %d", path, len(headers), len(before.Sections))
	}
	target := -1
	for n, i := range headers {
		if s := before.Sections[n]; s.Line != i+1 || s.Header != lines[i].header {
			return nil, fmt.Errorf("internal error: %s:%d: section header mismatch", path, i+1)
		}
		if pn, ok := ProfileName(CredentialsFile, lines[i].header); ok && pn == name {
			if target >= 0 {
				return nil, &ParseError{File: path, Line: i + 1, Msg: fmt.Sprintf(
					"section [%s] is defined more than once (first on line %d); merge the sections or delete one", name, target+1)}
			}
			target = i
		}
	}

	e := &sectionEdit{old: data, path: path}
	var out bytes.Buffer
	eol := dominantEOL(data)
	if target < 0 {
		out.Write(data)
		if len(lines) > 0 {
			sep := eol
			switch last := data[len(data)-1]; {
			case last != '\n' && last != '\r':
				out.WriteString(eol)
			case last == '\r' && eol == "\n":
				sep = "\r" // a "\n" would join the final "\r" into one line break
			}
			if l := lines[len(lines)-1]; pyTrim(string(data[l.start:l.end])) != "" {
				out.WriteString(sep)
			}
		}
		out.WriteString("[" + name + "]" + eol)
		writeKeys(&out, kv, 0, eol)
	} else {
		// The section ends at its last key or continuation line; the
		// comment and blank lines after it stay with what follows.
		next, last := len(lines), target
		for i := target + 1; i < len(lines); i++ {
			if lines[i].kind == headerLine {
				next = i
				break
			}
			if lines[i].kind != neutralLine {
				last = i
			}
		}
		indent := 0
		if next < len(lines) {
			indent = lines[next].indent
		}
		h := lines[target]
		e.found, e.start, e.end = true, h.start, lines[last].next
		// The key lines being replaced do not count, so that writing the
		// same section again gives the same bytes.
		eol = dominantEOL(data[:h.next], data[e.end:])
		out.Write(data[:h.next])
		if h.next == h.end && len(kv) > 0 {
			out.WriteString(eol) // the header was the last line, without a line break
		}
		writeKeys(&out, kv, indent, eol)
		if rest := data[e.end:]; len(rest) > 0 && rest[0] == '\n' && bytes.HasSuffix(out.Bytes(), []byte("\r")) {
			// A final lone "\r" would join the "\n" of the blank line
			// that follows into one line break.
			out.WriteByte('\n')
		}
		out.Write(data[e.end:])
	}
	e.out = out.Bytes()
	if err := verifyEdit(path, before, e.out, name, kv, eol); err != nil {
		return nil, err
	}
	return e, nil
}

func writeKeys(out *bytes.Buffer, kv []KeyValue, indent int, eol string) {
	pad := strings.Repeat(" ", indent)
	for _, p := range kv {
		out.WriteString(pad + p.Key + " =")
		if p.Value != "" {
			out.WriteString(" " + p.Value)
		}
		out.WriteString(eol)
	}
}

// verifyEdit checks that out parses, that every section other than name's
// has the keys and values it had in before, and that name's section has
// exactly kv plus the keys inherited from [DEFAULT].
func verifyEdit(path string, before *ParsedFile, out []byte, name string, kv []KeyValue, eol string) error {
	after, err := Parse(path, out)
	if err != nil {
		// Possible without a bug: a [DEFAULT] value that botocore cannot
		// parse is only parsed once a section inherits it.
		return fmt.Errorf("cannot write section [%s]: %s would then not parse: %w", name, path, err)
	}
	isTarget := func(header string) bool {
		n, ok := ProfileName(CredentialsFile, header)
		return ok && n == name
	}
	others := func(pf *ParsedFile) map[string]map[string]string {
		m := map[string]map[string]string{}
		for _, s := range pf.Sections {
			if !isTarget(s.Header) {
				m[s.Header] = valuesOf(s.Keys)
			}
		}
		return m
	}
	if !maps.EqualFunc(others(before), others(after), maps.Equal) {
		return fmt.Errorf("internal error: updating section [%s] would change other sections of %s", name, path)
	}
	var got map[string]string
	for _, s := range after.Sections {
		if isTarget(s.Header) {
			got = valuesOf(s.Keys)
		}
	}
	want, err := expectedKeys(path, out, after, kv, eol)
	if err != nil {
		return err
	}
	if got == nil || !maps.Equal(got, want) {
		return fmt.Errorf("internal error: section [%s] of the updated %s would not hold exactly the given keys", name, path)
	}
	return nil
}

// expectedKeys returns the keys that a section holding kv has in data: kv
// plus those inherited from [DEFAULT] sections, read from a section holding
// kv appended to data.
func expectedKeys(path string, data []byte, pf *ParsedFile, kv []KeyValue, eol string) (map[string]string, error) {
	headers := map[string]bool{}
	for _, s := range pf.Sections {
		headers[s.Header] = true
	}
	probe := "rolehop-probe"
	for i := 0; headers[probe]; i++ {
		probe = "rolehop-probe-" + strconv.Itoa(i)
	}
	var b bytes.Buffer
	b.Write(data)
	b.WriteString(eol + "[" + probe + "]" + eol)
	writeKeys(&b, kv, 0, eol)
	probed, err := Parse(path, b.Bytes())
	if err != nil || len(probed.Sections) == 0 || probed.Sections[len(probed.Sections)-1].Header != probe {
		return nil, fmt.Errorf("internal error: cannot read the [DEFAULT] keys of %s: %v", path, err)
	}
	want := valuesOf(probed.Sections[len(probed.Sections)-1].Keys)
	for _, p := range kv {
		if want[pyLower(p.Key)] != p.Value {
			return nil, fmt.Errorf("internal error: key %q does not read back", p.Key)
		}
	}
	return want, nil
}

func valuesOf(keys map[string]Value) map[string]string {
	m := make(map[string]string, len(keys))
	for k, v := range keys {
		m[k] = v.Value
	}
	return m
}

// validateSection checks that name can be written as a credentials-file
// section header and kv as its key lines, and that both read back
// unchanged. Errors name keys but never values.
func validateSection(name string, kv []KeyValue) error {
	if err := validateName(name); err != nil {
		return err
	}
	seen := map[string]string{}
	for _, p := range kv {
		if err := validateKey(p.Key); err != nil {
			return err
		}
		lower := pyLower(p.Key)
		if first, dup := seen[lower]; dup {
			return fmt.Errorf("key %q is given twice (as %q and %q); keys are case-insensitive", lower, first, p.Key)
		}
		seen[lower] = p.Key
		switch v := p.Value; {
		case strings.ContainsAny(v, "\r\n"):
			return fmt.Errorf("the value of key %q contains a line break; a credentials-file value must be one line", p.Key)
		case !utf8.ValidString(v):
			return fmt.Errorf("the value of key %q is not valid UTF-8", p.Key)
		case pyTrim(v) != v:
			return fmt.Errorf("the value of key %q starts or ends with whitespace, which would be lost", p.Key)
		}
	}
	return nil
}

func validateName(name string) error {
	switch {
	case name == "":
		return errors.New("the profile name is empty")
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		return fmt.Errorf("profile name %q contains control characters or invalid UTF-8", name)
	case pyTrim(name) != name:
		return fmt.Errorf("profile name %q starts or ends with whitespace", name)
	case name == defaultSection:
		return fmt.Errorf("%q cannot be a profile name: botocore treats [DEFAULT] as defaults for every section", name)
	case isProfilePrefixed(name):
		return fmt.Errorf("profile name %q starts with \"profile \": in the credentials file the section is [NAME], without the prefix", name)
	}
	return nil
}

func validateKey(key string) error {
	switch {
	case key == "":
		return errors.New("a key is empty")
	case !utf8.ValidString(key) || strings.ContainsFunc(key, unicode.IsControl):
		return fmt.Errorf("key %q contains control characters or invalid UTF-8", key)
	case pyTrim(key) != key:
		return fmt.Errorf("key %q starts or ends with whitespace", key)
	case strings.ContainsAny(key, "=:"):
		return fmt.Errorf("key %q contains \"=\" or \":\"", key)
	case strings.ContainsAny(key[:1], "#;["):
		return fmt.Errorf("key %q starts with %q, which would not read back as a key", key, key[:1])
	}
	return nil
}
