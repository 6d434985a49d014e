package picker

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape sequences of a frame. Only these are used: carriage return, line
// feed, erase to the end of the line / of the screen, cursor up/right, and
// (StyleReverse) reverse video.
const (
	eraseLine   = "\x1b[K"
	eraseBelow  = "\x1b[J"
	reverseOn   = "\x1b[7m"
	reverseOff  = "\x1b[m"
	noMatches   = "(no matches)"
	nothingHere = "(nothing to pick)"
)

// ClearSequence erases a drawn frame, leaving the cursor at the start of the
// line where the frame's header was.
const ClearSequence = "\r" + eraseBelow

// Row is one item line of a frame.
type Row struct {
	Text     string // what is shown, fitted to the width, without escapes
	Selected bool
}

// View is a frame without escape sequences: the header line (prompt, filter
// and the "matches/total" count), the item rows, and the column where the
// cursor stands on the header line (after the filter).
type View struct {
	Header string
	Rows   []Row
	Column int
}

// lineWidth is how many columns a line may use: one less than the terminal,
// so that no line reaches the last column and makes the terminal wrap.
func (m *Model) lineWidth() int { return max(1, m.width-1) }

// View lays out the current frame for the model's size.
func (m *Model) View() View {
	w := m.lineWidth()
	var v View

	count := strconv.Itoa(len(m.matches)) + "/" + strconv.Itoa(len(m.items))
	prompt := sanitize(m.prompt)
	filter := string(m.filter)
	avail := w - runeLen(count) - 1 // room for prompt and filter beside the count
	showCount := avail >= runeLen(prompt)+4
	if !showCount {
		avail = w
	}
	left := prompt + filter
	if runeLen(left) > avail {
		// Show the end of the filter: that is where the typing happens.
		keep := avail - runeLen(prompt) - 1
		if keep > 0 {
			r := []rune(filter)
			left = prompt + "…" + string(r[len(r)-keep:])
		} else {
			left = fit(left, avail)
		}
	}
	v.Column = runeLen(left)
	if showCount {
		v.Header = left + strings.Repeat(" ", w-runeLen(left)-runeLen(count)) + count
	} else {
		v.Header = left
	}

	if len(m.matches) == 0 {
		msg := noMatches
		if len(m.items) == 0 {
			msg = nothingHere
		}
		v.Rows = []Row{{Text: fit("  "+msg, w)}}
		return v
	}
	nameWidth := 0
	for _, it := range m.items {
		nameWidth = max(nameWidth, runeLen(sanitize(it.Name)))
	}
	nameWidth = min(nameWidth, max(w/2, 1))
	end := min(len(m.matches), m.offset+m.PageSize())
	for i := m.offset; i < end; i++ {
		it := m.items[m.matches[i]]
		marker := "  "
		if i == m.cursor {
			marker = "> "
		}
		name := sanitize(it.Name)
		text := marker + name
		if detail := sanitize(it.Detail); detail != "" {
			text += strings.Repeat(" ", max(0, nameWidth-runeLen(name))) + "  " + detail
		}
		v.Rows = append(v.Rows, Row{Text: fit(text, w), Selected: i == m.cursor})
	}
	return v
}

// Render returns the bytes that draw the current frame over the previous
// one. The frame starts at the cursor's line (the header) and the cursor is
// left on the header line after the filter, so the next frame draws over
// this one: lines the new frame does not reach are erased. At the bottom
// of the screen the line feeds scroll the terminal to make room.
func (m *Model) Render() []byte {
	v := m.View()
	var b strings.Builder
	b.WriteString("\r")
	b.WriteString(v.Header)
	b.WriteString(eraseLine)
	for _, r := range v.Rows {
		b.WriteString("\r\n")
		if r.Selected && m.style == StyleReverse {
			b.WriteString(reverseOn)
			b.WriteString(r.Text)
			b.WriteString(strings.Repeat(" ", max(0, m.lineWidth()-runeLen(r.Text))))
			b.WriteString(reverseOff)
		} else {
			b.WriteString(r.Text)
		}
		b.WriteString(eraseLine)
	}
	b.WriteString(eraseBelow)
	if len(v.Rows) > 0 {
		b.WriteString("\x1b[" + strconv.Itoa(len(v.Rows)) + "A")
	}
	b.WriteString("\r")
	if v.Column > 0 {
		b.WriteString("\x1b[" + strconv.Itoa(v.Column) + "C")
	}
	return []byte(b.String())
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// fit cuts s to at most n runes, ending in "…" when it was longer.
func fit(s string, n int) string {
	if runeLen(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// sanitize replaces control characters (which could move the cursor or
// start an escape sequence) with spaces.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
}
