package awsconfig

import (
	"slices"
	"testing"
)

func TestSuggest(t *testing.T) {
	profiles := []string{"default", "dev", "Dev", "dev-admin", "prod", "prod-admin", "prod-readonly", "staging"}
	tests := []struct {
		name  string
		cands []string
		want  []string
	}{
		{"DEV", profiles, []string{"Dev", "dev", "dev-admin"}},
		{"dev", profiles, []string{"Dev", "dev-admin"}},
		{"prod-admn", profiles, []string{"prod-admin", "prod-readonly", "prod"}},
		{"stagin", profiles, []string{"staging"}},
		{"admin", profiles, []string{"dev-admin", "prod-admin"}},
		{"defualt", profiles, []string{"default"}},
		{"zzz", profiles, nil},
		{"", profiles, nil},
		{"a", []string{"b", "ab", "A"}, []string{"A"}}, // a 1-rune name only matches case-insensitively
		{"ab", []string{"cd", "abc"}, []string{"abc"}},
		{"x", nil, nil},
		{"prod", []string{"prod", "prod", "prd", "prd"}, []string{"prd"}},
	}
	for _, tt := range tests {
		if got := Suggest(tt.name, tt.cands); !slices.Equal(got, tt.want) {
			t.Errorf("Suggest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestLevenshtein(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"dév", "dev", 1}, {"ab", "ba", 2},
	}
	for _, tt := range tests {
		if got := levenshtein(tt.a, tt.b); got != tt.want {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
