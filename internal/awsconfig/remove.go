package awsconfig

import (
	"bytes"
	"fmt"
	"maps"
)

// RemoveKeys returns data without the lines that set keys (lower-case) in
// credentials-file profile name: each key's line and its continuation
// lines go, and every other byte stays (other keys, comments, blank lines,
// line endings, the section header even when it is left empty). removed
// lists the keys that were there. It refuses a key that the section only
// inherits from [DEFAULT] (removing a line cannot unset it), and checks the
// result as ReplaceSection does: it parses, the other sections are
// unchanged, and the section holds what it held less the removed keys.
func RemoveKeys(data []byte, name string, keys ...string) (out []byte, removed []string, err error) {
	before, err := Parse(sourceLabel, data)
	if err != nil {
		return nil, nil, err
	}
	var target *ParsedSection
	for i, s := range before.Sections {
		if n, ok := ProfileName(CredentialsFile, s.Header); ok && n == name {
			target = &before.Sections[i]
		}
	}
	if target == nil {
		return data, nil, nil
	}
	lines := scanLines(data)
	end := len(lines) // index of the next header line after the section
	for i := target.Line; i < len(lines); i++ {
		if lines[i].kind == headerLine {
			end = i
			break
		}
	}
	drop := make([]bool, len(lines))
	for _, key := range keys {
		v, ok := target.Keys[key]
		if !ok {
			continue
		}
		first := v.Line - 1
		if first < target.Line || first >= end || lines[first].kind != optionLine {
			return nil, nil, fmt.Errorf("%s of profile [%s] comes from a [DEFAULT] section (line %d): delete it there by hand", key, name, v.Line)
		}
		last := first
		for i := first + 1; i < end && lines[i].kind != optionLine; i++ {
			if lines[i].kind == contLine {
				last = i
			}
		}
		for i := first; i <= last; i++ {
			drop[i] = true
		}
		removed = append(removed, key)
	}
	if len(removed) == 0 {
		return data, nil, nil
	}
	var b bytes.Buffer
	if bytes.HasPrefix(data, utf8BOM) {
		b.Write(utf8BOM)
	}
	for i, l := range lines {
		if !drop[i] {
			b.Write(data[l.start:l.next])
		}
	}
	out = b.Bytes()
	if err := verifyRemoval(before, out, name, removed); err != nil {
		return nil, nil, err
	}
	return out, removed, nil
}

// verifyRemoval checks a RemoveKeys result against the file it came from.
func verifyRemoval(before *ParsedFile, out []byte, name string, removed []string) error {
	after, err := Parse(sourceLabel, out)
	if err != nil {
		return fmt.Errorf("internal error: removing keys of [%s] would leave a file that does not parse: %w", name, err)
	}
	want := map[string]map[string]string{}
	for _, s := range before.Sections {
		v := valuesOf(s.Keys)
		if n, ok := ProfileName(CredentialsFile, s.Header); ok && n == name {
			for _, k := range removed {
				delete(v, k)
			}
		}
		want[s.Header] = v
	}
	got := map[string]map[string]string{}
	for _, s := range after.Sections {
		got[s.Header] = valuesOf(s.Keys)
	}
	if !maps.EqualFunc(want, got, maps.Equal) {
		return fmt.Errorf("internal error: removing keys of [%s] would change more than those keys", name)
	}
	return nil
}
