package awsconfig

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzReplaceSection: for any file, name and values, ReplaceSection does not
// panic; it fails exactly when the file does not parse or the name or keys
// cannot be written; and when it succeeds the result parses, the other
// sections are unchanged, the target holds exactly the new keys, the bytes
// outside the section are unchanged, and doing it again changes nothing.
// Each input is also checked as a CRLF file, with a byte-order mark, and
// without its final line break (see fileVariants).
func FuzzReplaceSection(f *testing.F) {
	for _, fx := range writeFixtures {
		for _, name := range []string{"first", "middle", "last", "new"} {
			f.Add([]byte(fx.data), name, "x_extra", "ASIAVALUE", "token==", uint8(3))
		}
	}
	for _, s := range seedFiles {
		f.Add([]byte(s), "a", "k", "v", "", uint8(2))
		f.Add([]byte(s), "default", "region", "", "w", uint8(3))
	}
	f.Add([]byte("[a]\n  k = 1\n  [b]\n"), "a", "k", "1", "2", uint8(3))
	f.Add([]byte("[a]\nk = 1\r"), "b", "K", "1", "2", uint8(3))
	f.Add([]byte("[DEFAULT]\nk = d\n[a]\n[DEFAULT]\nj = e\n"), "a", "j", "1", "2", uint8(3))
	f.Add([]byte("[DEFAULT]\n0=\n 0"), "0", "0", "0", "0", uint8(3)) // the DEFAULT block only parses when overridden
	f.Add([]byte("[DEFAULT]\n0=\n 0"), "0", "0", "0", "0", uint8(2))
	f.Add([]byte("[default]\n0=0\r\r 0"), "default", "0", "", "0", uint8(1)) // mostly CR, but not once the section is replaced
	f.Add([]byte("[0]\n0=0\n [0]"), "0", "0", "0", "0", uint8(3))
	f.Add([]byte("[0]\r0=0\r\n\r\r\r"), "0", "0", "0", "0", uint8(3)) // "\r" + "\n" of the next line
	f.Add([]byte("[0]\r0=0\r\n\n\r\r"), "0", "0", "0", "0", uint8(0))
	f.Add([]byte("[0]\n\n\r\r\r"), "0", "0", "0", "0", uint8(3))
	f.Add([]byte("# c\n[First]\nk = 1\n[first ]\nk = 2\n[profile first]\nk = 3\n; c\n[first]\n# c\nk = 4\n\n# after\n[firstx]\nk = 5\n"), "first", "k", "v", "w", uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, name, key, v1, v2 string, n uint8) {
		kv := []KeyValue{{"aws_access_key_id", v1}, {"aws_session_token", v2}, {key, v1 + v2}}[:n%4]
		for _, v := range fileVariants(data) {
			checkReplaceSection(t, v, name, kv)
		}
	})
}

// fileVariants returns data and, where they differ from it, data with CRLF
// line ends, with a UTF-8 byte-order mark, and without its final line break.
func fileVariants(data []byte) [][]byte {
	vs := [][]byte{data}
	if !bytes.Contains(data, []byte("\r")) && bytes.Contains(data, []byte("\n")) {
		vs = append(vs, bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")))
	}
	if !bytes.HasPrefix(data, utf8BOM) {
		vs = append(vs, append(slices.Clone(utf8BOM), data...))
	}
	if trimmed := bytes.TrimSuffix(bytes.TrimSuffix(data, []byte("\n")), []byte("\r")); len(trimmed) < len(data) {
		vs = append(vs, trimmed)
	}
	return vs
}

// checkReplaceSection checks one ReplaceSection call (see FuzzReplaceSection).
func checkReplaceSection(t *testing.T, data []byte, name string, kv []KeyValue) {
	t.Helper()
	out, err := ReplaceSection(data, name, kv)
	_, parseErr := Parse("f", data)
	validErr := validateSection(name, kv)
	switch {
	case validErr != nil:
		if err == nil {
			t.Fatalf("invalid input (%v) accepted", validErr)
		}
		return
	case parseErr != nil:
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("input does not parse (%v), ReplaceSection: %v", parseErr, err)
		}
		return
	case err != nil:
		// Allowed only if a section holding kv cannot be added to the
		// file (a [DEFAULT] value that fails once inherited).
		if _, probeErr := expectedSection(data, kv); probeErr == nil {
			t.Fatalf("ReplaceSection failed on a valid input: %v", err)
		}
		if !strings.Contains(err.Error(), "would then not parse") {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	checkReplaced(t, data, out, name, kv)
	again, err := ReplaceSection(out, name, kv)
	if err != nil || !bytes.Equal(again, out) {
		t.Fatalf("second ReplaceSection changed the file (%v):\n%q\n%q", err, out, again)
	}
}
