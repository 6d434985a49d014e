package awsconfig

import "errors"

// errShlex is returned by shlexSplit for an unclosed quote or a trailing
// backslash, where Python's shlex raises ValueError.
var errShlex = errors.New("unbalanced quotes or trailing backslash")

// shlexSplit splits s like Python's shlex.split(s): POSIX mode, words
// separated by space, tab, CR or LF, '...' and "..." quoting, and backslash
// escapes (inside "..." only \" and \\ are escapes). botocore uses it to split
// section titles such as `profile "a b"`.
func shlexSplit(s string) ([]string, error) {
	var (
		parts []string
		tok   []rune
		inTok bool // a token has started (a quoted "" counts)
		quote rune // the open quote, or 0
	)
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				tok = append(tok, c)
			}
		case quote == '"' && c == '"':
			quote = 0
		case c == '\\' && (quote == 0 || quote == '"'):
			if i+1 == len(rs) {
				return nil, errShlex
			}
			i++
			if quote == '"' && rs[i] != '"' && rs[i] != '\\' {
				tok = append(tok, '\\')
			}
			tok = append(tok, rs[i])
			inTok = true
		case quote == '"':
			tok = append(tok, c)
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			if inTok {
				parts = append(parts, string(tok))
				tok, inTok = tok[:0], false
			}
		case c == '\'' || c == '"':
			quote, inTok = c, true
		default:
			tok, inTok = append(tok, c), true
		}
	}
	if quote != 0 {
		return nil, errShlex
	}
	if inTok {
		parts = append(parts, string(tok))
	}
	return parts, nil
}
