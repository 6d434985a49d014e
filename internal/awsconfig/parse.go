package awsconfig

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind says which of the two shared files a section was read from. Both are
// parsed the same way, but their section headers name profiles differently
// (see ProfileName).
type Kind int

const (
	// ConfigFile is ~/.aws/config: [default] and [profile NAME].
	ConfigFile Kind = iota
	// CredentialsFile is ~/.aws/credentials: [NAME].
	CredentialsFile
)

// String returns "config" or "credentials".
func (k Kind) String() string {
	switch k {
	case ConfigFile:
		return "config"
	case CredentialsFile:
		return "credentials"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseError is a malformed file. Error() is one line:
// `FILE:LINE: <what is wrong>; <what to do>`.
type ParseError struct {
	File string
	Line int
	Msg  string
}

// Error returns "FILE:LINE: MSG" with the home directory shortened to "~".
func (e *ParseError) Error() string { return origin(e.File, e.Line) + ": " + e.Msg }

// ParsedFile is one parsed file: what botocore's raw_config_parse returns,
// plus the position of every section and value.
type ParsedFile struct {
	Sections []ParsedSection // in file order; [DEFAULT] is not listed
}

// ParsedSection is one [section] of a file.
type ParsedSection struct {
	// Title is the text between "[" and "]", trimmed.
	Title string
	// Header is the exact text between "[" and the last "]" of the line,
	// untrimmed. botocore and rolehop decide what a section is from Header,
	// so "[ profile x ]" is not a profile.
	Header string
	// Line is the line of the section header.
	Line int
	// Keys holds the lower-cased keys. As in configparser, keys of a
	// [DEFAULT] section are added to every section that lacks them.
	Keys map[string]Value
}

// defaultSection is configparser's special section whose keys are inherited
// by every other section of the same file.
const defaultSection = "DEFAULT"

// Parse parses the bytes of one config or credentials file with botocore's
// rules (Python's configparser.RawConfigParser plus botocore's nested
// blocks). path is only used in Values and errors. A malformed file gives a
// *ParseError. Unlike botocore, a leading UTF-8 byte order mark is accepted.
func Parse(path string, data []byte) (*ParsedFile, error) {
	text := strings.TrimPrefix(string(data), "\ufeff")
	lines := fileLines(text)
	p := &parser{path: path, byHeader: map[string]*rawSection{}}
	for i, line := range lines {
		if err := p.line(i+1, line); err != nil {
			return nil, err
		}
	}
	return p.finish()
}

// rawSection is a section while it is being read.
type rawSection struct {
	header  string
	line    int
	options []*rawOption          // in file order
	byKey   map[string]*rawOption // lower-cased key
}

// rawOption is a key and the pieces of its (possibly multi-line) value.
type rawOption struct {
	key    string
	line   int
	pieces []piece
	value  *Value // set by parser.value
}

// piece is one line of a value: the text after the separator on the key's
// line, then one per continuation or blank line.
type piece struct {
	text string
	line int
}

// parser follows configparser's RawConfigParser._read line by line.
type parser struct {
	path     string
	byHeader map[string]*rawSection
	order    []*rawSection
	defaults *rawSection // [DEFAULT], or nil
	cur      *rawSection // current section, or nil before the first header
	opt      *rawOption  // option that continuation lines extend, or nil
	indent   int         // indentation of the last key or header line
}

func (p *parser) errorf(line int, format string, args ...any) *ParseError {
	return &ParseError{File: p.path, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// line handles line number n.
func (p *parser) line(n int, line string) error {
	if !utf8.ValidString(line) {
		return p.errorf(n, "line is not valid UTF-8; save the file as UTF-8")
	}
	text := pyTrim(line)
	if text == "" {
		// A blank line inside a value is kept (configparser's
		// empty_lines_in_values); trailing ones are trimmed later.
		if p.opt != nil {
			p.opt.pieces = append(p.opt.pieces, piece{"", n})
		}
		return nil
	}
	if text[0] == '#' || text[0] == ';' {
		return nil
	}
	indent := pyIndent(line)
	if p.opt != nil && indent > p.indent {
		p.opt.pieces = append(p.opt.pieces, piece{text, n})
		return nil
	}
	p.indent = indent
	if header, ok := sectionHeader(text); ok {
		return p.section(n, header)
	}
	return p.option(n, text)
}

// sectionHeader matches configparser's SECTCRE, `\[(?P<header>.+)\]`, which
// is anchored only at the start: the header runs to the last "]" and
// anything after it is ignored.
func sectionHeader(text string) (string, bool) {
	if text[0] != '[' {
		return "", false
	}
	end := strings.LastIndexByte(text, ']')
	if end < 2 {
		return "", false
	}
	return text[1:end], true
}

func (p *parser) section(n int, header string) error {
	p.opt = nil
	if header == defaultSection {
		if p.defaults == nil {
			p.defaults = newRawSection(header, n)
		}
		p.cur = p.defaults
		return nil
	}
	if first, dup := p.byHeader[header]; dup {
		return p.errorf(n, "duplicate section %s (first defined on line %d); merge the two sections or delete one",
			quoteLine("["+header+"]"), first.line)
	}
	s := newRawSection(header, n)
	p.byHeader[header] = s
	p.order = append(p.order, s)
	p.cur = s
	return nil
}

func newRawSection(header string, line int) *rawSection {
	return &rawSection{header: header, line: line, byKey: map[string]*rawOption{}}
}

// option handles a line that is neither blank, a comment, a continuation
// nor a section header.
func (p *parser) option(n int, text string) error {
	sep := strings.IndexAny(text, "=:")
	switch {
	case text[0] == '[' && sep < 0:
		if strings.HasPrefix(text, "[]") {
			return p.errorf(n, "section header %s has no name; write [default], [profile NAME] or [NAME]", quoteLine(text))
		}
		return p.errorf(n, "section header %s has no closing \"]\"; end the line with \"]\"", quoteLine(text))
	case p.cur == nil:
		return p.errorf(n, "line %s comes before any section header; put a header such as [default] or [profile NAME] above it",
			quoteLine(text))
	case sep < 0:
		return p.errorf(n, "line %s has no \"=\" (expected \"key = value\"); add \"= VALUE\" or make it a comment with \"#\"",
			quoteLine(text))
	}
	key := pyLower(pyTrimRight(text[:sep]))
	if key == "" {
		return p.errorf(n, "line %s has no key before %q; write \"key = value\"", quoteLine(text), text[sep:sep+1])
	}
	if first, dup := p.cur.byKey[key]; dup {
		return p.errorf(n, "duplicate key %q in section %s (first set on line %d); delete one of them",
			key, quoteLine("["+p.cur.header+"]"), first.line)
	}
	o := &rawOption{key: key, line: n, pieces: []piece{{pyTrim(text[sep+1:]), n}}}
	p.cur.options = append(p.cur.options, o)
	p.cur.byKey[key] = o
	p.opt = o
	return nil
}

// finish builds the ParsedFile, checking nested blocks the way botocore's
// raw_config_parse does: per section, own keys first, then inherited
// [DEFAULT] keys.
func (p *parser) finish() (*ParsedFile, error) {
	pf := &ParsedFile{Sections: make([]ParsedSection, 0, len(p.order))}
	for _, s := range p.order {
		keys := make(map[string]Value, len(s.options))
		if err := p.addValues(keys, s.options); err != nil {
			return nil, err
		}
		if p.defaults != nil {
			if err := p.addValues(keys, p.defaults.options); err != nil {
				return nil, err
			}
		}
		pf.Sections = append(pf.Sections, ParsedSection{
			Title:  pyTrim(s.header),
			Header: s.header,
			Line:   s.line,
			Keys:   keys,
		})
	}
	return pf, nil
}

// addValues adds the options that keys does not have yet.
func (p *parser) addValues(keys map[string]Value, options []*rawOption) error {
	for _, o := range options {
		if _, ok := keys[o.key]; ok {
			continue
		}
		v, err := p.value(o)
		if err != nil {
			return err
		}
		keys[o.key] = v
	}
	return nil
}

// value joins an option's pieces as configparser does ("\n"-joined, then
// right-trimmed). A value that then starts with "\n" (an empty value
// followed by indented lines) is a botocore nested block such as
// "s3 =\n  addressing_style = path"; each of its lines needs an "=".
func (p *parser) value(o *rawOption) (Value, error) {
	if o.value != nil {
		return *o.value, nil
	}
	texts := make([]string, len(o.pieces))
	for i, pc := range o.pieces {
		texts[i] = pc.text
	}
	joined := pyTrimRight(strings.Join(texts, "\n"))
	if strings.HasPrefix(joined, "\n") {
		if err := p.checkNested(o); err != nil {
			return Value{}, err
		}
	}
	o.value = &Value{Value: pyTrim(joined), File: p.path, Line: o.line}
	return *o.value, nil
}

// checkNested reports the first line of a nested block without "=", where
// botocore's _parse_nested fails.
func (p *parser) checkNested(o *rawOption) error {
	for _, pc := range o.pieces[1:] {
		for _, sub := range pySplitLines(pc.text) {
			if pyTrim(sub) != "" && !strings.Contains(sub, "=") {
				return p.errorf(pc.line, "line %s in the nested %q block has no \"=\"; write nested settings as \"key = value\"",
					quoteLine(pyTrim(sub)), o.key)
			}
		}
	}
	return nil
}

// quoteLine quotes s for a one-line message, shortening it if it is long.
func quoteLine(s string) string {
	const max = 60
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max-3]) + "..."
	}
	return strconv.Quote(s)
}
