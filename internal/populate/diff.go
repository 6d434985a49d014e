package populate

import (
	"slices"
	"strings"

	"github.com/rolehop/rolehop/internal/awsconfig"
)

// maxDiffCells bounds the quadratic part of Diff; beyond it the changed
// middle is shown as all removed, then all added.
const maxDiffCells = 4 << 20

// Diff is a unified-style diff of the managed block: "--- "/"+++ " header
// lines, then the changed profiles, each line prefixed with "-" (removed),
// "+" (added) or " " (unchanged, inside a changed profile). Profiles that
// did not change are left out. It is "" when the blocks are equal.
// oldBlock is nil when the file had no block.
func Diff(path, id string, oldBlock, newBlock []string) string {
	if slices.Equal(oldBlock, newBlock) {
		return ""
	}
	var b strings.Builder
	where := awsconfig.ShortPath(path) + " (managed block for " + id + ")"
	if oldBlock == nil {
		b.WriteString("--- /dev/null\n")
	} else {
		b.WriteString("--- " + where + "\n")
	}
	b.WriteString("+++ " + where + "\n")
	og, ng := groups(oldBlock), groups(newBlock)
	// Equal groups at both ends need no alignment.
	for len(og) > 0 && len(ng) > 0 && og[0].equal(ng[0]) {
		og, ng = og[1:], ng[1:]
	}
	for len(og) > 0 && len(ng) > 0 && og[len(og)-1].equal(ng[len(ng)-1]) {
		og, ng = og[:len(og)-1], ng[:len(ng)-1]
	}
	emit := func(prefix string, lines []string) {
		for _, l := range lines {
			b.WriteString(prefix + l + "\n")
		}
	}
	if len(og)*len(ng) > maxDiffCells {
		for _, g := range og {
			emit("-", g.lines)
		}
		for _, g := range ng {
			emit("+", g.lines)
		}
		return b.String()
	}
	for _, op := range align(len(og), len(ng), func(i, j int) bool { return og[i].key == ng[j].key }) {
		switch {
		case op.i < 0:
			emit("+", ng[op.j].lines)
		case op.j < 0:
			emit("-", og[op.i].lines)
		case !og[op.i].equal(ng[op.j]):
			o, n := og[op.i].lines, ng[op.j].lines
			for _, lop := range align(len(o), len(n), func(i, j int) bool { return o[i] == n[j] }) {
				switch {
				case lop.i < 0:
					emit("+", n[lop.j:lop.j+1])
				case lop.j < 0:
					emit("-", o[lop.i:lop.i+1])
				default:
					emit(" ", o[lop.i:lop.i+1])
				}
			}
		}
	}
	return b.String()
}

// group is a run of block lines: one profile (its header, keys, the blank
// line after it, and the comment lines right above the header), or the
// BEGIN or END line.
type group struct {
	key   string
	lines []string
}

func (g group) equal(h group) bool { return g.key == h.key && slices.Equal(g.lines, h.lines) }

func groups(block []string) []group {
	if len(block) == 0 {
		return nil
	}
	trim := func(s string) string { return strings.TrimFunc(s, pySpace) }
	isHeader := func(s string) bool { return strings.HasPrefix(trim(s), "[") }
	isComment := func(s string) bool { t := trim(s); return t != "" && (t[0] == '#' || t[0] == ';') }
	starts := []int{0}
	for i := 1; i < len(block)-1; i++ {
		if !isHeader(block[i]) {
			continue
		}
		g := i
		for g-1 > 0 && isComment(block[g-1]) {
			g--
		}
		if g > starts[len(starts)-1] {
			starts = append(starts, g)
		}
	}
	if len(block) > 1 {
		starts = append(starts, len(block)-1)
	}
	var out []group
	for n, s := range starts {
		e := len(block)
		if n+1 < len(starts) {
			e = starts[n+1]
		}
		key := "\x00begin"
		switch {
		case n == len(starts)-1 && len(block) > 1:
			key = "\x00end"
		case n > 0:
			for _, l := range block[s:e] {
				if isHeader(l) {
					key = trim(l)
					break
				}
			}
		}
		out = append(out, group{key: key, lines: block[s:e]})
	}
	return out
}

// op pairs index i of the old sequence with j of the new one; -1 marks a
// line only on the other side.
type op struct{ i, j int }

// align is a longest-common-subsequence alignment of two sequences of
// lengths n and m, in order.
func align(n, m int, eq func(i, j int) bool) []op {
	// l[i][j] = LCS length of old[i:] and new[j:].
	l := make([][]int32, n+1)
	for i := range l {
		l[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if eq(i, j) {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var ops []op
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case eq(i, j):
			ops = append(ops, op{i, j})
			i, j = i+1, j+1
		case l[i+1][j] >= l[i][j+1]:
			ops = append(ops, op{i, -1})
			i++
		default:
			ops = append(ops, op{-1, j})
			j++
		}
	}
	for ; i < n; i++ {
		ops = append(ops, op{i, -1})
	}
	for ; j < m; j++ {
		ops = append(ops, op{-1, j})
	}
	return ops
}
