package picker

import (
	"runtime"
	"strings"
	"testing"
)

func TestRenderSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name  string
		style Style
		want  string
	}{
		{"reverse video", StyleReverse, "\r" +
			"profile> prod                                           2/6\x1b[K\r\n" +
			"  billing-prod    role arn:aws:iam::222222222222:role/Admi…\x1b[K\r\n" +
			"\x1b[7m> search-prod     sso 333333333333 Developer  eu-central-1 \x1b[m\x1b[K" +
			"\x1b[J\x1b[2A\r\x1b[13C"},
		{"NO_COLOR marker", StyleMarker, "\r" +
			"profile> prod                                           2/6\x1b[K\r\n" +
			"  billing-prod    role arn:aws:iam::222222222222:role/Admi…\x1b[K\r\n" +
			"> search-prod     sso 333333333333 Developer  eu-central-1\x1b[K" +
			"\x1b[J\x1b[2A\r\x1b[13C"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewModel(sample, Options{Prompt: "profile> ", Filter: "prod", Style: tc.style})
			m.Resize(60, 10)
			m.Move(1)
			if got := string(m.Render()); got != tc.want {
				t.Fatalf("frame:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestRenderMarkerStyleHasNoSGR(t *testing.T) {
	m := NewModel(manyItems(30), Options{Style: StyleMarker})
	m.Resize(50, 20)
	m.Move(3)
	if got := string(m.Render()); strings.Contains(got, reverseOn) || strings.Contains(got, reverseOff) {
		t.Fatalf("NO_COLOR frame has reverse video: %q", got)
	}
}

func TestViewDefaultPromptAndCount(t *testing.T) {
	m := NewModel(manyItems(340), Options{})
	m.Resize(40, 30)
	v := m.View()
	if want := ">" + strings.Repeat(" ", 31) + "340/340"; v.Header != want {
		t.Fatalf("header %q, want %q", v.Header, want)
	}
	if v.Column != 2 {
		t.Fatalf("column %d, want 2", v.Column)
	}
	if len(v.Rows) != DefaultMaxRows {
		t.Fatalf("%d rows, want %d", len(v.Rows), DefaultMaxRows)
	}
	if v.Rows[0].Text != "> p000  keys" || !v.Rows[0].Selected || v.Rows[1].Text != "  p001  keys" || v.Rows[1].Selected {
		t.Fatalf("rows %+v", v.Rows[:2])
	}
	m.SetFilter("p01")
	if v := m.View(); !strings.HasSuffix(v.Header, " 10/340") || !strings.HasPrefix(v.Header, "> p01 ") {
		t.Fatalf("header %q", v.Header)
	}
}

func TestViewNoMatches(t *testing.T) {
	m := NewModel(sample, Options{Filter: "zzz"})
	v := m.View()
	if len(v.Rows) != 1 || v.Rows[0].Text != "  (no matches)" || v.Rows[0].Selected {
		t.Fatalf("rows %+v", v.Rows)
	}
	if !strings.HasSuffix(v.Header, "0/6") {
		t.Fatalf("header %q", v.Header)
	}
	if v := NewModel(nil, Options{}).View(); v.Rows[0].Text != "  (nothing to pick)" {
		t.Fatalf("rows %+v", v.Rows)
	}
}

func TestViewLongFilterShowsItsEnd(t *testing.T) {
	m := NewModel(sample, Options{Filter: "abcdefghijklmnopqrstuvwxyz0123456789"})
	m.Resize(30, 10)
	v := m.View()
	// 29 columns: "0/6" and a space leave 25 for "> …" and the filter's end.
	if want := "> …opqrstuvwxyz0123456789 0/6"; v.Header != want {
		t.Fatalf("header %q, want %q", v.Header, want)
	}
	if v.Column != 25 {
		t.Fatalf("column %d, want 25", v.Column)
	}
	// Too narrow for the count: it is left out.
	m.Resize(8, 10)
	v = m.View()
	if v.Header != "> …6789" || v.Column != 7 {
		t.Fatalf("narrow header %q column %d", v.Header, v.Column)
	}
}

func TestViewFitsWidthAndSanitizes(t *testing.T) {
	items := []Item{
		{"evil\x1b[2Jname", "detail\twith\ncontrols"},
		{strings.Repeat("x", 100), "long name"},
	}
	m := NewModel(items, Options{})
	m.Resize(40, 10)
	v := m.View()
	for _, line := range append([]string{v.Header}, v.Rows[0].Text, v.Rows[1].Text) {
		if strings.ContainsAny(line, "\x1b\t\n") {
			t.Errorf("line has control characters: %q", line)
		}
		if n := runeLen(line); n > 39 {
			t.Errorf("line of %d columns in a 40-column terminal: %q", n, line)
		}
	}
	if got := v.Rows[1].Text; !strings.HasSuffix(got, "…") {
		t.Errorf("long row not cut with an ellipsis: %q", got)
	}
	frame := string(m.Render())
	if strings.Contains(frame, "\x1b[2J") {
		t.Errorf("an item's escape sequence reached the frame: %q", frame)
	}
}

func TestStyleFor(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	unknownTerm := StyleMarker
	if runtime.GOOS == "windows" {
		unknownTerm = StyleReverse // the console speaks VT sequences whatever TERM says
	}
	for _, tc := range []struct {
		env  []string
		want Style
	}{
		{[]string{"NO_COLOR", "1", "TERM", "xterm-256color"}, StyleMarker},
		{[]string{"NO_COLOR", "", "TERM", "xterm-256color"}, StyleReverse}, // empty NO_COLOR does not count
		{[]string{"TERM", "screen"}, StyleReverse},
		{[]string{"TERM", "dumb"}, unknownTerm},
		{nil, unknownTerm},
	} {
		if got := StyleFor(env(tc.env...)); got != tc.want {
			t.Errorf("StyleFor(%q) = %v, want %v", tc.env, got, tc.want)
		}
	}
}
