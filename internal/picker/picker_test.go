package picker

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

var sample = []Item{
	{"billing-dev", "role arn:aws:iam::111111111111:role/Dev  eu-west-1"},
	{"billing-prod", "role arn:aws:iam::222222222222:role/Admin  eu-west-1"},
	{"default", "keys"},
	{"search-prod", "sso 333333333333 Developer  eu-central-1"},
	{"search-staging", "sso 444444444444 Developer  us-east-1"},
	{"tools", "credential_process aws-vault"},
}

func names(m *Model) []string {
	var out []string
	for _, i := range m.MatchIndices() {
		out = append(out, m.items[i].Name)
	}
	return out
}

func TestMatches(t *testing.T) {
	it := Item{Name: "Billing-Prod", Detail: "role arn:aws:iam::222222222222:role/Admin  eu-west-1"}
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{"", true},
		{"   ", true},
		{"billing", true},
		{"BILLING", true},
		{"PROD admin", true},        // words in name and detail
		{"eu prod", true},           // any order
		{"  prod   eu-west ", true}, // extra spaces
		{"prod us", false},          // every word must match
		{"billing-dev", false},
		{"222222222222", true},
		{"prod-admin", false}, // one word must match as a whole substring
	} {
		if got := Matches(tc.filter, it); got != tc.want {
			t.Errorf("Matches(%q) = %v, want %v", tc.filter, got, tc.want)
		}
	}
}

func TestFilterKeepsItemOrder(t *testing.T) {
	m := NewModel(sample, Options{Filter: "prod"})
	if got, want := names(m), []string{"billing-prod", "search-prod"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("matches %v, want %v", got, want)
	}
	m.SetFilter("Developer")
	if got, want := names(m), []string{"search-prod", "search-staging"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("matches %v, want %v", got, want)
	}
	m.SetFilter("nothing-like-this")
	if len(m.MatchIndices()) != 0 {
		t.Fatalf("matches %v, want none", names(m))
	}
	if _, ok := m.Selected(); ok {
		t.Fatal("Selected with no matches")
	}
	m.Move(1) // must not panic
	if m.Handle(Key{Kind: KeyEnter}) != ActionNone {
		t.Fatal("Enter with no matches selected something")
	}
}

func TestTypingEditsFilterAndResetsSelection(t *testing.T) {
	m := NewModel(sample, Options{})
	m.Move(3)
	for _, r := range "prod eu" {
		m.Handle(Key{Kind: KeyRune, Rune: r})
	}
	if m.Filter() != "prod eu" || m.Cursor() != 0 {
		t.Fatalf("filter %q cursor %d, want %q 0", m.Filter(), m.Cursor(), "prod eu")
	}
	if got := names(m); !reflect.DeepEqual(got, []string{"billing-prod", "search-prod"}) {
		t.Fatalf("matches %v", got)
	}
	m.Handle(Key{Kind: KeyDown})
	m.Handle(Key{Kind: KeyBackspace})
	if m.Filter() != "prod e" || m.Cursor() != 0 {
		t.Fatalf("after Backspace: filter %q cursor %d", m.Filter(), m.Cursor())
	}
	m.Handle(Key{Kind: KeyDeleteWord})
	if m.Filter() != "prod " {
		t.Fatalf("after Ctrl-W: filter %q, want %q", m.Filter(), "prod ")
	}
	m.Handle(Key{Kind: KeyDeleteWord})
	if m.Filter() != "" {
		t.Fatalf("after 2nd Ctrl-W: filter %q, want empty", m.Filter())
	}
	m.Handle(Key{Kind: KeyBackspace}) // on an empty filter: nothing
	m.SetFilter("abc")
	m.Handle(Key{Kind: KeyClearLine})
	if m.Filter() != "" || len(m.MatchIndices()) != len(sample) {
		t.Fatalf("after Ctrl-U: filter %q, %d matches", m.Filter(), len(m.MatchIndices()))
	}
	m.Handle(Key{Kind: KeyRune, Rune: 'é'})
	if m.Filter() != "é" {
		t.Fatalf("filter %q, want é", m.Filter())
	}
}

func TestMovementBounds(t *testing.T) {
	m := NewModel(sample, Options{})
	m.Resize(80, 24)
	steps := []struct {
		key  KeyKind
		want int
	}{
		{KeyUp, 0}, // stays at the top
		{KeyDown, 1},
		{KeyDown, 2},
		{KeyUp, 1},
		{KeyEnd, 5},
		{KeyDown, 5}, // stays at the bottom
		{KeyPageUp, 0},
		{KeyPageDown, 5},
		{KeyHome, 0},
	}
	for i, s := range steps {
		if a := m.Handle(Key{Kind: s.key}); a != ActionNone {
			t.Fatalf("step %d: action %v", i, a)
		}
		if m.Cursor() != s.want {
			t.Fatalf("step %d (key %v): cursor %d, want %d", i, s.key, m.Cursor(), s.want)
		}
	}
	m.Handle(Key{Kind: KeyDown})
	if a := m.Handle(Key{Kind: KeyEnter}); a != ActionSelect {
		t.Fatalf("Enter: action %v, want select", a)
	}
	if i, ok := m.Selected(); !ok || sample[i].Name != "billing-prod" {
		t.Fatalf("Selected %d %v", i, ok)
	}
	for _, k := range []KeyKind{KeyEsc, KeyCtrlC} {
		if a := m.Handle(Key{Kind: k}); a != ActionCancel {
			t.Errorf("key %v: action %v, want cancel", k, a)
		}
	}
}

func manyItems(n int) []Item {
	items := make([]Item, n)
	for i := range items {
		items[i] = Item{Name: fmt.Sprintf("p%03d", i), Detail: "keys"}
	}
	return items
}

func TestScrolling(t *testing.T) {
	m := NewModel(manyItems(40), Options{})
	m.Resize(80, 50)
	if m.PageSize() != DefaultMaxRows {
		t.Fatalf("page size %d, want %d", m.PageSize(), DefaultMaxRows)
	}
	m.Resize(80, 6) // 5 rows of items below the header
	if m.PageSize() != 5 {
		t.Fatalf("page size %d, want 5", m.PageSize())
	}
	check := func(step string, cursor, offset int) {
		t.Helper()
		if m.Cursor() != cursor || m.Offset() != offset {
			t.Fatalf("%s: cursor %d offset %d, want %d %d", step, m.Cursor(), m.Offset(), cursor, offset)
		}
		v := m.View()
		if len(v.Rows) != 5 {
			t.Fatalf("%s: %d rows, want 5", step, len(v.Rows))
		}
		sel := 0
		for i, r := range v.Rows {
			if r.Selected {
				sel++
				if want := fmt.Sprintf("> p%03d", cursor); !strings.HasPrefix(r.Text, want) || i != cursor-offset {
					t.Fatalf("%s: selected row %d %q, want row %d %q", step, i, r.Text, cursor-offset, want)
				}
			}
		}
		if sel != 1 {
			t.Fatalf("%s: %d selected rows", step, sel)
		}
	}
	check("start", 0, 0)
	m.Move(4)
	check("last visible row", 4, 0)
	m.Move(1)
	check("scrolled one down", 5, 1)
	m.Handle(Key{Kind: KeyPageDown})
	check("page down", 10, 6)
	m.Handle(Key{Kind: KeyUp})
	m.Handle(Key{Kind: KeyUp})
	m.Handle(Key{Kind: KeyUp})
	m.Handle(Key{Kind: KeyUp})
	check("up inside the window", 6, 6)
	m.Handle(Key{Kind: KeyUp})
	check("scrolled one up", 5, 5)
	m.Handle(Key{Kind: KeyEnd})
	check("end", 39, 35)
	m.Handle(Key{Kind: KeyPageUp})
	check("page up", 34, 34)
	m.Resize(80, 3) // shrink: the selection stays visible
	if m.Cursor() != 34 || m.Offset() > 34 || m.Offset()+m.PageSize() <= 34 {
		t.Fatalf("after shrink: cursor %d offset %d page %d", m.Cursor(), m.Offset(), m.PageSize())
	}
	m.Resize(80, 24) // grow near the end: the window is filled, not left half-empty
	if m.Offset() != 40-15 {
		t.Fatalf("after grow: offset %d, want %d", m.Offset(), 40-15)
	}
	m.Resize(80, 1) // a one-line terminal still shows one row
	if m.PageSize() != 1 {
		t.Fatalf("page size %d, want 1", m.PageSize())
	}
}

func TestMaxRowsOption(t *testing.T) {
	m := NewModel(manyItems(40), Options{MaxRows: 3})
	m.Resize(80, 50)
	if got := len(m.View().Rows); got != 3 {
		t.Fatalf("%d rows, want 3", got)
	}
}
