package populate

import (
	"bytes"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/rolehop/rolehop/internal/awsconfig"
)

// The managed block is delimited by two comment lines, so that every tool
// reading the file (botocore, the Go SDK, editors) sees ordinary comments:
//
//	# BEGIN rolehop managed profiles for sso-session corp (rolehop sso populate; edits inside are overwritten)
//	...
//	# END rolehop managed profiles for sso-session corp
//
// The text after the BEGIN id is informational: a BEGIN line matches when
// the id is followed by the end of the line or " (".
const (
	beginPrefix = "# BEGIN rolehop managed profiles for "
	endPrefix   = "# END rolehop managed profiles for "
	beginNote   = " (rolehop sso populate; edits inside are overwritten)"
	staleNote   = "# no longer assigned"
)

// BeginLine and EndLine are the marker lines of the block with this id
// ("sso-session NAME" or "sso_start_url URL", see Target.ID).
func BeginLine(id string) string { return beginPrefix + id + beginNote }
func EndLine(id string) string   { return endPrefix + id }

// BlockError is a managed block that cannot be found unambiguously: a
// BEGIN without its END, two blocks for one id, overlapping blocks. The
// user must fix the markers; nothing is written.
type BlockError struct {
	File string
	Line int
	Msg  string
}

func (e *BlockError) Error() string {
	return fmt.Sprintf("%s:%d: %s", awsconfig.ShortPath(e.File), e.Line, e.Msg)
}

// line is one line of a file: data[start:end], the next one starts at next.
type line struct {
	start, end, next int
	text             string // trimmed like configparser trims
	indented         bool   // starts with whitespace
}

// splitLines splits data as the parser does (universal newlines: "\n",
// "\r\n" and a lone "\r"), after a UTF-8 byte order mark.
func splitLines(data []byte) []line {
	var lines []line
	off := 0
	if bytes.HasPrefix(data, []byte("\ufeff")) {
		off = 3
	}
	for off < len(data) {
		l := line{start: off, end: len(data), next: len(data)}
		if i := bytes.IndexAny(data[off:], "\r\n"); i >= 0 {
			l.end = off + i
			l.next = l.end + 1
			if data[l.end] == '\r' && l.next < len(data) && data[l.next] == '\n' {
				l.next++
			}
		}
		raw := string(data[l.start:l.end])
		l.text = strings.TrimFunc(raw, pySpace)
		l.indented = l.text != "" && strings.TrimLeftFunc(raw, pySpace) != raw
		lines = append(lines, l)
		off = l.next
	}
	return lines
}

func (l line) neutral() bool { return l.text == "" || l.text[0] == '#' || l.text[0] == ';' }

// marker reports whether l is a BEGIN or END line, and of which id.
func (l line) marker() (begin, end bool, rest string) {
	if r, ok := strings.CutPrefix(l.text, beginPrefix); ok {
		return true, false, r
	}
	if r, ok := strings.CutPrefix(l.text, endPrefix); ok {
		return false, true, r
	}
	return false, false, ""
}

func beginMatches(rest, id string) bool { return rest == id || strings.HasPrefix(rest, id+" (") }

// span is where the block is in a file.
type span struct {
	found       bool
	first, last int // indexes of the BEGIN and END lines
	start, end  int // bytes: from the BEGIN line to after the END line's break
}

// findBlock locates the block of id in data.
func findBlock(path string, data []byte, lines []line, id string) (span, error) {
	s := span{first: -1, last: -1}
	for i, l := range lines {
		begin, end, rest := l.marker()
		switch {
		case begin && beginMatches(rest, id):
			if s.first >= 0 {
				return s, &BlockError{path, i + 1, fmt.Sprintf("a second managed block for %s (the first starts on line %d): delete one of them", id, s.first+1)}
			}
			s.first = i
		case end && rest == id:
			if s.first < 0 || s.last >= 0 {
				return s, &BlockError{path, i + 1, fmt.Sprintf("%q has no matching BEGIN line above it: delete it or restore %q", EndLine(id), BeginLine(id))}
			}
			s.last = i
		case (begin || end) && s.first >= 0 && s.last < 0:
			return s, &BlockError{path, i + 1, fmt.Sprintf("another managed block's marker inside the block for %s (line %d): move that block out", id, s.first+1)}
		}
	}
	if s.first >= 0 && s.last < 0 {
		return s, &BlockError{path, s.first + 1, fmt.Sprintf("the managed block for %s has no END line: add %q after its last profile", id, EndLine(id))}
	}
	if s.first >= 0 {
		s.found, s.start, s.end = true, lines[s.first].start, lines[s.last].next
	}
	return s, nil
}

// CheckBlock reports a *BlockError when the block of id cannot be found
// unambiguously in data, so that a broken file fails before any network
// call.
func CheckBlock(path string, data []byte, id string) error {
	_, err := findBlock(path, data, splitLines(data), id)
	return err
}

// splice puts the block lines (without line breaks) in place of the block
// s of data, or at the end of data when there is none. It returns the new
// file and the 1-based line numbers of the new BEGIN and END lines. Every
// byte outside the old block is kept: before it, after it, or (without a
// block) all of data followed by, when needed, a line break and one blank
// line.
func splice(data []byte, lines []line, s span, block []string) (out []byte, first, last int) {
	var prefix, suffix []byte
	if s.found {
		prefix, suffix = data[:s.start], data[s.end:]
	} else {
		prefix = data
	}
	eol := awsconfig.DominantEOL(prefix, suffix)
	if eol == "" && s.found {
		eol = awsconfig.DominantEOL(data[s.start:s.end])
	}
	if eol == "" {
		eol = "\n"
	}
	var b bytes.Buffer
	b.Grow(len(data) + 64*len(block))
	b.Write(prefix)
	if !s.found && len(lines) > 0 {
		switch lastByte := data[len(data)-1]; {
		case lastByte != '\n' && lastByte != '\r':
			b.WriteString(eol)
			fallthrough
		case lastByte == '\n' || eol != "\n":
			if lines[len(lines)-1].text != "" {
				b.WriteString(eol) // a blank line before the block
			}
		}
		// A final lone "\r" in a file that mostly ends lines with "\n" gets
		// no blank line: a "\n" would join it into one line break, and a
		// "\r" would change which line ending the file mostly uses.
	}
	first = countBreaks(b.Bytes()) + 1
	for i, l := range block {
		b.WriteString(l)
		if i < len(block)-1 || !s.found || lines[s.last].next > lines[s.last].end {
			b.WriteString(eol)
		}
	}
	last = first + len(block) - 1
	if len(suffix) > 0 && suffix[0] == '\n' && bytes.HasSuffix(b.Bytes(), []byte("\r")) {
		// A final lone "\r" would join the "\n" that follows into one
		// line break and swallow a line.
		b.WriteByte('\n')
	}
	b.Write(suffix)
	return b.Bytes(), first, last
}

// countBreaks counts line breaks as the parser does ("\r\n" is one).
func countBreaks(b []byte) int {
	return bytes.Count(b, []byte("\n")) + bytes.Count(b, []byte("\r")) - bytes.Count(b, []byte("\r\n"))
}

// renderBlock is the block's lines: the markers around the profiles, one
// blank line between profiles.
func renderBlock(id string, profiles []Profile) []string {
	out := []string{BeginLine(id)}
	for i, p := range profiles {
		if i > 0 {
			out = append(out, "")
		}
		if p.Stale {
			out = append(out, staleNote)
		}
		out = append(out, "[profile "+p.Name+"]")
		for _, kv := range p.Keys {
			out = append(out, kv.Key+" = "+kv.Value)
		}
	}
	return append(out, EndLine(id))
}

// inRange reports whether 1-based line n is within [first, last].
func inRange(n, first, last int) bool { return n >= first && n <= last }

// verify checks the spliced file before it is written: it parses; every
// section outside the block has the keys and values it had; the block
// holds exactly the profiles with exactly their keys (plus what a
// [DEFAULT] section adds to every section, as botocore reads it).
func verify(path string, before *awsconfig.ParsedFile, oldFirst, oldLast int, out []byte, first, last int, profiles []Profile, after []line) error {
	parsed, err := awsconfig.Parse(path, out)
	if err != nil {
		return fmt.Errorf("the updated %s would not parse (%s); nothing was written", awsconfig.ShortPath(path), oneLine(err))
	}
	outside := func(pf *awsconfig.ParsedFile, first, last int) map[string]map[string]string {
		m := map[string]map[string]string{}
		for _, s := range pf.Sections {
			if !inRange(s.Line, first, last) {
				m[s.Header] = values(s.Keys)
			}
		}
		return m
	}
	if !maps.EqualFunc(outside(before, oldFirst, oldLast), outside(parsed, first, last), maps.Equal) {
		return fmt.Errorf("updating the managed block would change other sections of %s%s; nothing was written", awsconfig.ShortPath(path), afterHint(after, last))
	}
	defaults, err := defaultKeys(path, out)
	if err != nil {
		return err
	}
	inside := map[string]map[string]string{}
	for _, s := range parsed.Sections {
		if inRange(s.Line, first, last) {
			inside[s.Header] = values(s.Keys)
		}
	}
	if len(inside) != len(profiles) {
		return fmt.Errorf("internal error: the new managed block of %s holds %d sections, want %d", awsconfig.ShortPath(path), len(inside), len(profiles))
	}
	for _, p := range profiles {
		want := maps.Clone(defaults)
		for _, kv := range p.Keys {
			want[kv.Key] = kv.Value
		}
		if got, ok := inside["profile "+p.Name]; !ok || !maps.Equal(got, want) {
			return fmt.Errorf("profile %q would not read back as written in %s%s; nothing was written", p.Name, awsconfig.ShortPath(path), afterHint(after, last))
		}
	}
	return nil
}

// afterHint explains the usual cause of a failed check: the first line
// after the END marker (1-based line last) that is not blank or a comment
// is not an unindented section header, so the parser reads it as part of
// the block's last profile.
func afterHint(lines []line, last int) string {
	for i := last; i < len(lines); i++ {
		l := lines[i]
		if l.neutral() {
			continue
		}
		if l.text[0] != '[' || l.indented {
			return fmt.Sprintf(" (line %d, after the END marker, is not an unindented section header, so it would join the block's last profile: put a [section] header above it)", i+1)
		}
		break
	}
	return ""
}

func values(keys map[string]awsconfig.Value) map[string]string {
	m := make(map[string]string, len(keys))
	for k, v := range keys {
		m[k] = v.Value
	}
	return m
}

// defaultKeys returns the keys a [DEFAULT] section of data adds to every
// section (botocore's configparser), read from a probe section appended to
// data.
func defaultKeys(path string, data []byte) (map[string]string, error) {
	probe := "rolehop-populate-probe"
	for i := 0; bytes.Contains(data, []byte("["+probe+"]")); i++ {
		probe = "rolehop-populate-probe-" + strconv.Itoa(i)
	}
	b := bytes.Clone(data)
	b = append(b, "\n["+probe+"]\n"...)
	pf, err := awsconfig.Parse(path, b)
	if err != nil || len(pf.Sections) == 0 || pf.Sections[len(pf.Sections)-1].Header != probe {
		return nil, fmt.Errorf("the [DEFAULT] section of %s cannot be read (%v); nothing was written", awsconfig.ShortPath(path), err)
	}
	return values(pf.Sections[len(pf.Sections)-1].Keys), nil
}
