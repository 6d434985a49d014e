package iampolicy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// pattern is a condition or action value after policy-variable expansion:
// its text, and which bytes are wildcards ("*" or "?" written as such, not
// produced by ${*} or ${?} or a variable's value).
type pattern struct {
	text string
	wild []bool
}

func literal(s string) pattern { return pattern{text: s, wild: make([]bool, len(s))} }

// globPattern treats every "*" and "?" of s as a wildcard.
func globPattern(s string) pattern {
	p := literal(s)
	for i := 0; i < len(s); i++ {
		p.wild[i] = s[i] == '*' || s[i] == '?'
	}
	return p
}

// match reports whether s matches p, where "*" is any run of characters
// and "?" exactly one (IAM's wildcards); fold compares case-insensitively.
// It runs in O(len(p)·len(s)) at worst (greedy with one backtrack point).
func (p pattern) match(s string, fold bool) bool {
	pr, pw := p.runes()
	sr := []rune(s)
	if fold {
		for i := range pr {
			if !pw[i] {
				pr[i] = foldRune(pr[i])
			}
		}
		for i := range sr {
			sr[i] = foldRune(sr[i])
		}
	}
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(sr) {
		switch {
		case pi < len(pr) && pw[pi] && pr[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(pr) && ((pw[pi] && pr[pi] == '?') || (!pw[pi] && pr[pi] == sr[si])):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pr) && pw[pi] && pr[pi] == '*' {
		pi++
	}
	return pi == len(pr)
}

// runes splits the pattern into runes with their wildcard flags.
func (p pattern) runes() ([]rune, []bool) {
	rs := make([]rune, 0, len(p.text))
	ws := make([]bool, 0, len(p.text))
	for i := 0; i < len(p.text); {
		r, n := utf8.DecodeRuneInString(p.text[i:])
		rs = append(rs, r)
		ws = append(ws, p.wild[i])
		i += n
	}
	return rs, ws
}

func foldRune(r rune) rune { return unicode.ToLower(r) }

// split cuts the pattern at each non-wildcard sep byte, at most n parts.
func (p pattern) split(sep byte, n int) []pattern {
	var out []pattern
	start := 0
	for i := 0; i < len(p.text) && len(out) < n-1; i++ {
		if p.text[i] == sep && !p.wild[i] {
			out = append(out, pattern{text: p.text[start:i], wild: p.wild[start:i]})
			start = i + 1
		}
	}
	return append(out, pattern{text: p.text[start:], wild: p.wild[start:]})
}

// arnMatch compares an ARN with an ARN pattern component by component:
// ArnEquals and ArnLike behave identically, each of the six
// colon-delimited parts may hold wildcards (IAM User Guide, condition
// operators, "Amazon Resource Name (ARN) condition operators").
func arnMatch(p pattern, arn string) bool {
	got := strings.SplitN(arn, ":", 6)
	want := p.split(':', 6)
	if len(got) != 6 || len(want) != 6 {
		return false
	}
	for i := range got {
		if !want[i].match(got[i], false) {
			return false
		}
	}
	return true
}
