package awsconfig

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

// flat is a parsed file reduced to header -> key -> value.
type flat map[string]map[string]string

func flatten(pf *ParsedFile) flat {
	out := flat{}
	for _, s := range pf.Sections {
		m := map[string]string{}
		for k, v := range s.Keys {
			m[k] = v.Value
		}
		out[s.Header] = m
	}
	return out
}

func equalFlat(a, b flat) bool {
	return maps.EqualFunc(a, b, func(x, y map[string]string) bool { return maps.Equal(x, y) })
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want flat
	}{
		{"empty", "", flat{}},
		{"blank lines", "\n\n[a]\n\nk = v\n\n", flat{"a": {"k": "v"}}},
		{"full-line comments", "# c\n; c\n  # indented\n\t; tab\n[a]\n# k = x\nk = v\n;k = y\n", flat{"a": {"k": "v"}}},
		{"inline comment kept", "[a]\nregion = us-east-1 # x\nb = 1 ; y\n", flat{"a": {"region": "us-east-1 # x", "b": "1 ; y"}}},
		{"header comment ignored", "[a] # c\nk=v\n", flat{"a": {"k": "v"}}},
		{"header runs to last bracket", "[a]]b] junk\nk=v\n", flat{"a]]b": {"k": "v"}}},
		{"bom", "\ufeff[a]\nk = v\n", flat{"a": {"k": "v"}}},
		{"bom before comment", "\ufeff# c\n[a]\n", flat{"a": {}}},
		{"crlf", "[a]\r\nk = v\r\nm = w\r\n", flat{"a": {"k": "v", "m": "w"}}},
		{"lone cr", "[a]\rk = v\rm = w", flat{"a": {"k": "v", "m": "w"}}},
		{"colon separator", "[a]\nk: v\n", flat{"a": {"k": "v"}}},
		{"first separator wins", "[a]\nk = a:b\nm: a=b\nurl = http://x\n", flat{"a": {"k": "a:b", "m": "a=b", "url": "http://x"}}},
		{"keys trimmed and lower-cased", "[a]\n  Region\t =  Us-East-1  \n", flat{"a": {"region": "Us-East-1"}}},
		{"key with spaces", "[a]\nmy key = v\n", flat{"a": {"my key": "v"}}},
		{"quotes kept", "[a]\nk = \"v\"\nm = 'w'\n", flat{"a": {"k": `"v"`, "m": "'w'"}}},
		{"empty value", "[a]\nk =\nm:\n", flat{"a": {"k": "", "m": ""}}},
		{"nested block", "[a]\ns3 =\n  endpoint_url = http://x\n  addressing_style = path\nk = v\n",
			flat{"a": {"s3": "endpoint_url = http://x\naddressing_style = path", "k": "v"}}},
		{"nested block with blank line", "[a]\ns3 =\n\n  x = 1\n\n  y = 2\n\n",
			flat{"a": {"s3": "x = 1\n\ny = 2"}}},
		{"continuation", "[a]\nk = a\n  b\n\tc\n", flat{"a": {"k": "a\nb\nc"}}},
		{"continuation that looks like a key", "[a]\nk = a\n  x = 1\n", flat{"a": {"k": "a\nx = 1"}}},
		{"blank line inside value", "[a]\nk = a\n\n  b\n", flat{"a": {"k": "a\n\nb"}}},
		{"trailing blank lines trimmed", "[a]\nk = a\n\n\n[b]\n", flat{"a": {"k": "a"}, "b": {}}},
		{"comment inside value skipped", "[a]\nk = a\n  # c\n  b\n", flat{"a": {"k": "a\nb"}}},
		{"indented header after key is a continuation", "[a]\nk = v\n  [b]\n", flat{"a": {"k": "v\n[b]"}}},
		{"indented keys after header", "[a]\n  k = v\n  m = w\n", flat{"a": {"k": "v", "m": "w"}}},
		{"deeper line continues indented key", "[a]\n  k = v\n    w\nm = x\n", flat{"a": {"k": "v\nw", "m": "x"}}},
		{"open bracket with separator is a key", "[a]\n[b=1\n", flat{"a": {"[b": "1"}}},
		{"section names case-sensitive", "[A]\nk=1\n[a]\nk=2\n", flat{"A": {"k": "1"}, "a": {"k": "2"}}},
		{"same key in two sections", "[a]\nk=1\n[b]\nk=2\n", flat{"a": {"k": "1"}, "b": {"k": "2"}}},
		{"DEFAULT keys inherited", "[DEFAULT]\nr = 1\n[a]\nk = v\n[b]\nr = 2\n",
			flat{"a": {"k": "v", "r": "1"}, "b": {"r": "2"}}},
		{"two DEFAULT sections", "[DEFAULT]\nr = 1\n[a]\n[DEFAULT]\ns = 2\n", flat{"a": {"r": "1", "s": "2"}}},
		{"bad nested DEFAULT unused", "[DEFAULT]\ns3 =\n  bad\n", flat{}},
		{"bad nested DEFAULT shadowed", "[DEFAULT]\ns3 =\n  bad\n[a]\ns3 = x\n", flat{"a": {"s3": "x"}}},
		{"python whitespace", "[a]\n\u00a0k\x1c=\x1f v\u3000\n", flat{"a": {"k": "v"}}},
		{"percent kept", "[a]\nk = %(x)s\n", flat{"a": {"k": "%(x)s"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pf, err := Parse("f", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := flatten(pf); !equalFlat(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestParsePositions(t *testing.T) {
	in := "# c\n[DEFAULT]\nd = 0\n[ profile x ]\n\nRegion = a\ns3 =\n  k = v\n[b]\n"
	pf, err := Parse("/p/config", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(pf.Sections) != 2 {
		t.Fatalf("got %d sections, want 2", len(pf.Sections))
	}
	s := pf.Sections[0]
	if s.Title != "profile x" || s.Header != " profile x " || s.Line != 4 {
		t.Errorf("section = %q %q line %d; want %q %q line 4", s.Title, s.Header, s.Line, "profile x", " profile x ")
	}
	want := map[string]Value{
		"region": {"a", "/p/config", 6},
		"s3":     {"k = v", "/p/config", 7},
		"d":      {"0", "/p/config", 3},
	}
	if !maps.Equal(s.Keys, want) {
		t.Errorf("keys = %v, want %v", s.Keys, want)
	}
	if b := pf.Sections[1]; b.Header != "b" || b.Line != 9 || b.Keys["d"].Line != 3 {
		t.Errorf("second section = %+v", b)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		msg  string
	}{
		{"no separator", "[a]\nrole_arn\n", 2, `line "role_arn" has no "=" (expected "key = value"); `},
		{"no separator after value", "[a]\nk = v\nrole_arn\n", 3, `line "role_arn" has no "="`},
		{"key before section", "k = v\n", 1, `line "k = v" comes before any section header; put a header`},
		{"key before section after comments", "# c\n\n  k=v\n[a]\n", 3, "before any section header"},
		{"text before section", "hello\n[a]\n", 1, "before any section header"},
		{"bom not stripped twice", "\ufeff\ufeff[a]\n", 1, "before any section header"},
		{"unterminated header", "[profile x\nk=v\n", 1, `section header "[profile x" has no closing "]"`},
		{"unterminated header later", "[a]\n[profile x\n", 2, `has no closing "]"`},
		{"empty header", "[a]\n[]\n", 2, `section header "[]" has no name`},
		{"duplicate section", "[a]\nk=1\n[b]\n[a]\n", 4, `duplicate section "[a]" (first defined on line 1); merge`},
		{"duplicate key", "[a]\nk=1\nK : 2\n", 3, `duplicate key "k" in section "[a]" (first set on line 2); delete one`},
		{"duplicate key in two DEFAULT sections", "[DEFAULT]\nk=1\n[DEFAULT]\nk=2\n", 4, `duplicate key "k"`},
		{"no key", "[a]\n= v\n", 2, `line "= v" has no key before "="`},
		{"no key colon", "[a]\n : v\n", 2, `has no key before ":"`},
		{"nested line without =", "[a]\ns3 =\n  endpoint_url = x\n  addressing_style: path\n", 4,
			`line "addressing_style: path" in the nested "s3" block has no "="`},
		{"nested via DEFAULT", "[DEFAULT]\ns3 =\n  bad\n[a]\n", 3, `in the nested "s3" block`},
		{"nested split at form feed", "[a]\ns3 =\n  a = 1\fb\n", 3, `line "b" in the nested`},
		{"invalid utf-8", "[a]\nk = \xff\n", 2, "not valid UTF-8"},
		{"crlf line numbers", "[a]\r\nk=1\r\nbad\r\n", 3, `line "bad"`},
		{"lone cr line numbers", "[a]\rk=1\rbad", 3, `line "bad"`},
		{"long line shortened", "[a]\n" + strings.Repeat("x", 100) + "\n", 2, `"` + strings.Repeat("x", 57) + `..." has no "="`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pf, err := Parse("/p/config", []byte(tt.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v, %v; want *ParseError", pf, err)
			}
			if pe.File != "/p/config" || pe.Line != tt.line || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("error = %s:%d: %s\nwant line %d and %q", pe.File, pe.Line, pe.Msg, tt.line, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "/p/config:") || strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("Error() = %q, want one line starting with the file", err.Error())
			}
		})
	}
}

func TestKindString(t *testing.T) {
	if ConfigFile.String() != "config" || CredentialsFile.String() != "credentials" || Kind(7).String() != "Kind(7)" {
		t.Errorf("Kind strings: %v %v %v", ConfigFile, CredentialsFile, Kind(7))
	}
}
