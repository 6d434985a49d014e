//go:build unix

package soak

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// table is a Markdown table of soak figures.
type table struct {
	title  string
	header []string
	rows   [][]string
}

func (tb *table) add(cells ...any) {
	row := make([]string, len(cells))
	for i, c := range cells {
		row[i] = fmt.Sprint(c)
	}
	tb.rows = append(tb.rows, row)
}

func (tb *table) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n| %s |\n|", tb.title, strings.Join(tb.header, " | "))
	for range tb.header {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range tb.rows {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(r, " | "))
	}
	return b.String()
}

// report logs the tables and appends them to $SOAK_REPORT when it is set.
func report(t *testing.T, tables ...*table) {
	t.Helper()
	var b strings.Builder
	for _, tb := range tables {
		b.WriteString(tb.String() + "\n")
	}
	t.Logf("\n%s", b.String())
	path := os.Getenv("SOAK_REPORT")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Errorf("SOAK_REPORT: %v", err)
		return
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		t.Errorf("SOAK_REPORT: %v", err)
	}
}
