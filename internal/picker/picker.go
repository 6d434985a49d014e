// Package picker is a small type-to-filter list picker for a raw terminal.
//
// The logic — filtering, selection movement, scrolling, key decoding and
// rendering a frame into bytes — is pure and lives in Model and Decoder. Run
// drives a Model from any io.Reader/io.Writer pair; RunTerminal opens the
// controlling terminal (/dev/tty, or CONIN$/CONOUT$ on Windows) so the
// picker works while stdout is captured, as in $(rolehop pick), puts it in
// raw mode and restores it on every way out.
package picker

import (
	"strings"
	"unicode"
)

// Item is one choice: a name and a short description beside it. Both are
// searched by the filter.
type Item struct {
	Name   string
	Detail string
}

// Style is how the selected row is shown.
type Style int

const (
	// StyleReverse shows the selected row in reverse video, with a ">" marker.
	StyleReverse Style = iota
	// StyleMarker shows only the ">" marker: no escape sequences beyond
	// cursor movement (NO_COLOR, dumb terminals).
	StyleMarker
)

// DefaultMaxRows is how many items are shown at most.
const DefaultMaxRows = 15

// Options configure a picker.
type Options struct {
	Prompt  string // before the filter on the header line; default "> "
	Filter  string // initial filter
	MaxRows int    // item rows shown at most; default DefaultMaxRows
	Style   Style
}

// Action is what a key asks the caller to do.
type Action int

const (
	ActionNone   Action = iota // keep going (redraw)
	ActionSelect               // Enter on an item: Model.Selected is the choice
	ActionCancel               // Esc or Ctrl-C
)

// Model is the picker's state: the filter, the items matching it, the
// selection (cursor, an index into the matches) and the first visible match
// (offset), for a terminal of a given size.
type Model struct {
	items    []Item
	haystack []string // lower-cased "name detail" of each item
	prompt   string
	maxRows  int
	style    Style

	filter  []rune
	matches []int // indices into items
	cursor  int   // index into matches
	offset  int   // first visible index into matches

	width, height int
}

// NewModel returns a model over items with opts' initial filter, sized
// 80x24 until Resize.
func NewModel(items []Item, opts Options) *Model {
	m := &Model{
		items:   items,
		prompt:  opts.Prompt,
		maxRows: opts.MaxRows,
		style:   opts.Style,
		width:   80,
		height:  24,
	}
	if m.prompt == "" {
		m.prompt = "> "
	}
	if m.maxRows <= 0 {
		m.maxRows = DefaultMaxRows
	}
	m.haystack = make([]string, len(items))
	for i, it := range items {
		m.haystack[i] = strings.ToLower(it.Name + " " + it.Detail)
	}
	m.SetFilter(opts.Filter)
	return m
}

// Matches reports whether item matches filter: every space-separated word of
// the filter is a substring of the item's name or detail, ignoring case. An
// empty filter matches everything.
func Matches(filter string, item Item) bool {
	return matchWords(strings.Fields(strings.ToLower(filter)), strings.ToLower(item.Name+" "+item.Detail))
}

func matchWords(words []string, haystack string) bool {
	for _, w := range words {
		if !strings.Contains(haystack, w) {
			return false
		}
	}
	return true
}

// Filter returns the current filter text.
func (m *Model) Filter() string { return string(m.filter) }

// SetFilter replaces the filter, recomputes the matches (in item order) and
// puts the selection on the first match.
func (m *Model) SetFilter(s string) {
	m.filter = []rune(s)
	words := strings.Fields(strings.ToLower(s))
	m.matches = m.matches[:0]
	for i, h := range m.haystack {
		if matchWords(words, h) {
			m.matches = append(m.matches, i)
		}
	}
	m.cursor, m.offset = 0, 0
}

// MatchIndices returns the indices (into the items) of the matching items.
func (m *Model) MatchIndices() []int { return m.matches }

// Cursor returns the selection as an index into MatchIndices.
func (m *Model) Cursor() int { return m.cursor }

// Offset returns the first visible match, an index into MatchIndices.
func (m *Model) Offset() int { return m.offset }

// Selected returns the index (into the items) of the selected item; false
// when nothing matches.
func (m *Model) Selected() (int, bool) {
	if len(m.matches) == 0 {
		return -1, false
	}
	return m.matches[m.cursor], true
}

// Resize sets the terminal size and keeps the selection visible.
func (m *Model) Resize(width, height int) {
	if width > 0 {
		m.width = width
	}
	if height > 0 {
		m.height = height
	}
	m.scroll()
}

// PageSize is how many item rows fit: at most MaxRows, and one line of the
// terminal is the header.
func (m *Model) PageSize() int {
	return max(1, min(m.maxRows, m.height-1))
}

// Move moves the selection by delta matches, stopping at the first and the
// last, and scrolls to keep it visible.
func (m *Model) Move(delta int) {
	if len(m.matches) == 0 {
		return
	}
	m.cursor = max(0, min(len(m.matches)-1, m.cursor+delta))
	m.scroll()
}

// scroll moves the window of visible matches so that it holds the cursor
// and is as full as possible.
func (m *Model) scroll() {
	page := m.PageSize()
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+page {
		m.offset = m.cursor - page + 1
	}
	m.offset = max(0, min(m.offset, len(m.matches)-page))
}

// Handle applies one key.
func (m *Model) Handle(k Key) Action {
	switch k.Kind {
	case KeyRune:
		m.SetFilter(string(append(m.filter, k.Rune)))
	case KeyBackspace:
		if len(m.filter) > 0 {
			m.SetFilter(string(m.filter[:len(m.filter)-1]))
		}
	case KeyClearLine:
		if len(m.filter) > 0 {
			m.SetFilter("")
		}
	case KeyDeleteWord:
		if len(m.filter) > 0 {
			f := strings.TrimRightFunc(string(m.filter), unicode.IsSpace)
			f = f[:strings.LastIndexFunc(f, unicode.IsSpace)+1]
			m.SetFilter(f)
		}
	case KeyUp:
		m.Move(-1)
	case KeyDown:
		m.Move(1)
	case KeyPageUp:
		m.Move(-m.PageSize())
	case KeyPageDown:
		m.Move(m.PageSize())
	case KeyHome:
		m.Move(-len(m.matches))
	case KeyEnd:
		m.Move(len(m.matches))
	case KeyEnter:
		if _, ok := m.Selected(); ok {
			return ActionSelect
		}
	case KeyEsc, KeyCtrlC:
		return ActionCancel
	}
	return ActionNone
}
