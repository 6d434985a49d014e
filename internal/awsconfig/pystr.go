package awsconfig

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The helpers in this file reproduce the few Python str operations that
// configparser relies on, so that odd whitespace is handled the way botocore
// handles it.

// pySpace reports whether Python's str.isspace (and the regex class \s) is
// true for r. It is unicode.IsSpace plus the ASCII separators U+001C..U+001F.
func pySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// pyTrim is Python's str.strip().
func pyTrim(s string) string { return strings.TrimFunc(s, pySpace) }

// pyTrimRight is Python's str.rstrip().
func pyTrimRight(s string) string { return strings.TrimRightFunc(s, pySpace) }

// pyIndent returns the index, in code points, of the first non-space
// character of line, as configparser computes a line's indentation.
func pyIndent(line string) int {
	n := 0
	for _, r := range line {
		if !pySpace(r) {
			break
		}
		n++
	}
	return n
}

// pySplitLines is Python's str.splitlines(): it also breaks at \v, \f,
// U+001C..U+001E, U+0085, U+2028 and U+2029.
func pySplitLines(s string) []string {
	var lines []string
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !pyLineBreak(r) {
			i += size
			continue
		}
		lines = append(lines, s[start:i])
		i += size
		if r == '\r' && i < len(s) && s[i] == '\n' {
			i++
		}
		start = i
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

func pyLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

// fileLines splits data into lines the way Python reads a text file with
// universal newlines: "\n", "\r\n" and a lone "\r" all end a line.
func fileLines(s string) []string {
	var lines []string
	for len(s) > 0 {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			lines = append(lines, s)
			break
		}
		lines = append(lines, s[:i])
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
	}
	return lines
}

// pyLower is Python's str.lower() as configparser applies it to keys. It
// differs from strings.ToLower in the one unconditional full lowercase
// mapping: U+0130 (İ) becomes "i\u0307". (Python's context-dependent final
// sigma is not reproduced.)
func pyLower(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, "\u0130", "i\u0307"))
}
