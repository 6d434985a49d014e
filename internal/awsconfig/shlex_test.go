package awsconfig

import (
	"slices"
	"testing"
)

// Expected results were produced with Python 3.11's shlex.split.
func TestShlexSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string // nil: error
	}{
		{`profile x`, []string{"profile", "x"}},
		{`profile "a b"`, []string{"profile", "a b"}},
		{`profile 'a b'`, []string{"profile", "a b"}},
		{`profile a b`, []string{"profile", "a", "b"}},
		{`profile`, []string{"profile"}},
		{`profile "x`, nil},
		{`profile 'x`, nil},
		{`profile x\`, nil},
		{`profile a\ b`, []string{"profile", "a b"}},
		{`profile "a\"b"`, []string{"profile", `a"b`}},
		{`profile "a\nb"`, []string{"profile", `a\nb`}},
		{`profile "a\\b"`, []string{"profile", `a\b`}},
		{`profile 'a\b'`, []string{"profile", `a\b`}},
		{`profile ""`, []string{"profile", ""}},
		{`profile a"b c"d`, []string{"profile", "ab cd"}},
		{"  profile\tx  ", []string{"profile", "x"}},
		{`profile \"x`, []string{"profile", `"x`}},
		{`profile #x`, []string{"profile", "#x"}},
		{``, []string{}},
	}
	for _, tt := range tests {
		got, err := shlexSplit(tt.in)
		if tt.want == nil {
			if err == nil {
				t.Errorf("shlexSplit(%q) = %q, want error", tt.in, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("shlexSplit(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
