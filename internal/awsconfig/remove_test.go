package awsconfig

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

func TestRemoveKeys(t *testing.T) {
	tests := []struct {
		name, in, want string
		removed        []string
		wantErr        bool
	}{
		{name: "two lines of one section",
			in:      "# keys\n[dev]\naws_access_key_id = AKIA1\n# mine\naws_secret_access_key = s\nregion = eu-west-1\n\n[prod]\naws_access_key_id = AKIA2\naws_secret_access_key = t\n",
			want:    "# keys\n[dev]\n# mine\nregion = eu-west-1\n\n[prod]\naws_access_key_id = AKIA2\naws_secret_access_key = t\n",
			removed: []string{"aws_access_key_id", "aws_secret_access_key"}},
		{name: "CRLF, continuation, header left empty",
			in:      "[dev]\r\nAWS_Access_Key_ID=AKIA1\r\naws_secret_access_key = s\r\n  more\r\n[x]\r\nk=v",
			want:    "[dev]\r\n[x]\r\nk=v",
			removed: []string{"aws_access_key_id", "aws_secret_access_key"}},
		{name: "no such section", in: "[a]\nk = v\n", want: "[a]\nk = v\n"},
		{name: "config-style header is not the profile", in: "[profile dev]\naws_access_key_id = A\n", want: "[profile dev]\naws_access_key_id = A\n"},
		{name: "from DEFAULT", in: "[DEFAULT]\naws_access_key_id = A\n[dev]\nregion = x\n", wantErr: true},
		{name: "byte-order mark", in: "\ufeff[dev]\naws_secret_access_key = s\nk = v\n", want: "\ufeff[dev]\nk = v\n", removed: []string{"aws_secret_access_key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, removed, err := RemoveKeys([]byte(tt.in), "dev", "aws_access_key_id", "aws_secret_access_key")
			if tt.wantErr {
				if err == nil {
					t.Fatalf("no error, got %q", out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want || !slices.Equal(removed, tt.removed) {
				t.Fatalf("got %q %v, want %q %v", out, removed, tt.want, tt.removed)
			}
		})
	}
}

// FuzzRemoveKeys: for any file and profile, RemoveKeys does not panic; it
// fails when the file does not parse; when it succeeds the result parses,
// is the file with whole lines taken out (every other byte kept), the keys
// are gone from the section while the rest of the file reads the same
// (verifyRemoval, checked again here from the outside), and doing it again
// changes nothing. Each input is also tried as a CRLF file, with a
// byte-order mark, and without its final line break.
func FuzzRemoveKeys(f *testing.F) {
	for _, fx := range writeFixtures {
		for _, name := range []string{"first", "middle", "last", "new"} {
			f.Add([]byte(fx.data), name)
		}
	}
	for _, s := range seedFiles {
		f.Add([]byte(s), "default")
	}
	f.Add([]byte("[a]\naws_access_key_id = 1\n  aws_secret_access_key = 2\nk = v\n"), "a")
	f.Add([]byte("  [a]\n    aws_access_key_id = 1\n  [b]\n"), "a")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		for _, v := range fileVariants(data) {
			checkRemoveKeys(t, v, name)
		}
	})
}

func checkRemoveKeys(t *testing.T, data []byte, name string) {
	t.Helper()
	keys := []string{"aws_access_key_id", "aws_secret_access_key"}
	out, removed, err := RemoveKeys(data, name, keys...)
	before, parseErr := Parse("f", data)
	if parseErr != nil {
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("input does not parse (%v), RemoveKeys: %v", parseErr, err)
		}
		return
	}
	if err != nil {
		return // a key inherited from [DEFAULT]: refused
	}
	after, err := Parse("f", out)
	if err != nil {
		t.Fatalf("result does not parse: %v\n%q", err, out)
	}
	if !isLineSubsequence(out, data) {
		t.Fatalf("result is not the file with whole lines removed:\n%q\n%q", data, out)
	}
	for i, s := range after.Sections {
		if n, ok := ProfileName(CredentialsFile, s.Header); ok && n == name {
			for _, k := range removed {
				if _, still := s.Keys[k]; still {
					t.Fatalf("%s still set: %q", k, out)
				}
			}
			continue
		}
		if len(before.Sections) != len(after.Sections) || !mapsEqual(valuesOf(before.Sections[i].Keys), valuesOf(s.Keys)) {
			t.Fatalf("another section changed: %q -> %q", data, out)
		}
	}
	again, removedAgain, err := RemoveKeys(out, name, keys...)
	if err != nil || !bytes.Equal(again, out) || len(removedAgain) != 0 {
		t.Fatalf("second RemoveKeys changed the file (%v, %v)", err, removedAgain)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// isLineSubsequence reports whether out is data with some lines (each with
// its line break) left out.
func isLineSubsequence(out, data []byte) bool {
	ol, dl := splitKeepEOL(out), splitKeepEOL(data)
	j := 0
	for _, l := range dl {
		if j < len(ol) && bytes.Equal(ol[j], l) {
			j++
		}
	}
	return j == len(ol)
}

func splitKeepEOL(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.IndexAny(b, "\r\n")
		if i < 0 {
			out = append(out, b)
			break
		}
		n := i + 1
		if b[i] == '\r' && n < len(b) && b[n] == '\n' {
			n++
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}
