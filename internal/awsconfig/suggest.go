package awsconfig

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Suggest returns up to 3 names from candidates that are close to name, best
// first, for "did you mean" hints. A candidate qualifies if it equals name
// ignoring case, or (ignoring case) is within Levenshtein distance 2 of it
// (and less than name's length, so that short names do not match
// everything), shares a prefix of at least 3 runes with it, or contains it
// or is contained in it with at least 3 runes in common. name itself is
// never suggested. Ranking: equal ignoring case, then by distance, then by
// longer shared prefix, then alphabetically.
func Suggest(name string, candidates []string) []string {
	if name == "" {
		return nil
	}
	lname := strings.ToLower(name)
	var scored []suggestion
	seen := map[string]bool{}
	for _, c := range candidates {
		if c == name || seen[c] {
			continue
		}
		seen[c] = true
		if s, ok := score(lname, c); ok {
			scored = append(scored, s)
		}
	}
	sort.Slice(scored, func(i, j int) bool { return scored[i].less(scored[j]) })
	var out []string
	for i := 0; i < len(scored) && i < 3; i++ {
		out = append(out, scored[i].name)
	}
	return out
}

type suggestion struct {
	name   string
	dist   int // Levenshtein distance, ignoring case
	prefix int // shared prefix in runes, ignoring case
}

func (s suggestion) less(t suggestion) bool {
	if s.dist != t.dist {
		return s.dist < t.dist
	}
	if s.prefix != t.prefix {
		return s.prefix > t.prefix
	}
	return s.name < t.name
}

// score rates candidate against the lower-cased name.
func score(lname, candidate string) (suggestion, bool) {
	lc := strings.ToLower(candidate)
	s := suggestion{name: candidate, dist: levenshtein(lname, lc), prefix: commonPrefix(lname, lc)}
	n := utf8.RuneCountInString(lname)
	ok := s.dist == 0 ||
		s.dist <= 2 && s.dist < n ||
		s.prefix >= 3 ||
		containsAtLeast3(lname, lc)
	return s, ok
}

func containsAtLeast3(a, b string) bool {
	if utf8.RuneCountInString(a) > utf8.RuneCountInString(b) {
		a, b = b, a
	}
	return utf8.RuneCountInString(a) >= 3 && strings.Contains(b, a)
}

func commonPrefix(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	n := 0
	for n < len(ra) && n < len(rb) && ra[n] == rb[n] {
		n++
	}
	return n
}

// levenshtein is the edit distance between a and b in runes.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
