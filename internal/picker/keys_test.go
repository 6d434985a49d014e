package picker

import (
	"reflect"
	"testing"
)

func feedAll(d *Decoder, chunks ...string) []Key {
	var keys []Key
	for _, c := range chunks {
		keys = append(keys, d.Feed([]byte(c))...)
	}
	return keys
}

func k(kind KeyKind) Key { return Key{Kind: kind} }
func r(c rune) Key       { return Key{Kind: KeyRune, Rune: c} }

func TestDecodeKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []Key
	}{
		{"text", "aZ 9-", []Key{r('a'), r('Z'), r(' '), r('9'), r('-')}},
		{"utf-8", "é€😀", []Key{r('é'), r('€'), r('😀')}},
		{"enter CR", "\r", []Key{k(KeyEnter)}},
		{"enter LF", "\n", []Key{k(KeyEnter)}},
		{"backspace DEL", "\x7f", []Key{k(KeyBackspace)}},
		{"backspace ^H", "\x08", []Key{k(KeyBackspace)}},
		{"ctrl-c", "\x03", []Key{k(KeyCtrlC)}},
		{"ctrl-g", "\x07", []Key{k(KeyEsc)}},
		{"ctrl-p ctrl-n", "\x10\x0e", []Key{k(KeyUp), k(KeyDown)}},
		{"ctrl-u ctrl-w", "\x15\x17", []Key{k(KeyClearLine), k(KeyDeleteWord)}},
		{"arrows", "\x1b[A\x1b[B", []Key{k(KeyUp), k(KeyDown)}},
		{"application arrows", "\x1bOA\x1bOB", []Key{k(KeyUp), k(KeyDown)}},
		{"modified arrow", "\x1b[1;5A", []Key{k(KeyUp)}},
		{"pgup pgdn", "\x1b[5~\x1b[6~", []Key{k(KeyPageUp), k(KeyPageDown)}},
		{"home end", "\x1b[H\x1b[F\x1b[1~\x1b[4~\x1bOH\x1bOF", []Key{k(KeyHome), k(KeyEnd), k(KeyHome), k(KeyEnd), k(KeyHome), k(KeyEnd)}},
		{"ignored sequences", "\x1b[Z\x1b[C\x1b[2~x", []Key{r('x')}},
		{"ignored controls", "\x01\x09\x1fq", []Key{r('q')}},
		{"esc then text", "\x1bq", []Key{k(KeyEsc), r('q')}},
		{"double esc", "\x1b\x1b[A", []Key{k(KeyEsc), k(KeyUp)}},
		{"keys after a sequence", "ab\x1b[Bc\r", []Key{r('a'), r('b'), k(KeyDown), r('c'), k(KeyEnter)}},
		{"malformed CSI", "\x1b[1\x03", []Key{k(KeyCtrlC)}},
		{"invalid utf-8", "\xff\xfeok", []Key{r('o'), r('k')}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d Decoder
			got := d.Feed([]byte(tc.in))
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Feed(%q) = %v, want %v", tc.in, got, tc.want)
			}
			if d.Pending() {
				t.Fatalf("Feed(%q) left something pending", tc.in)
			}
		})
	}
}

func TestDecodeSplitAcrossReads(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
		want   []Key
	}{
		{"up byte by byte", []string{"\x1b", "[", "A"}, []Key{k(KeyUp)}},
		{"down after ESC", []string{"\x1b", "[B"}, []Key{k(KeyDown)}},
		{"down after ESC [", []string{"x\x1b[", "Bz"}, []Key{r('x'), k(KeyDown), r('z')}},
		{"pgup split in the number", []string{"\x1b[", "5", "~"}, []Key{k(KeyPageUp)}},
		{"pgdn split before ~", []string{"\x1b[6", "~\r"}, []Key{k(KeyPageDown), k(KeyEnter)}},
		{"modified arrow", []string{"\x1b[1;", "5B"}, []Key{k(KeyDown)}},
		{"ss3", []string{"\x1bO", "A"}, []Key{k(KeyUp)}},
		{"utf-8", []string{"\xc3", "\xa9"}, []Key{r('é')}},
		{"utf-8 4 bytes", []string{"\xf0\x9f", "\x98", "\x80!"}, []Key{r('😀'), r('!')}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d Decoder
			got := feedAll(&d, tc.chunks...)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Feed(%q) = %v, want %v", tc.chunks, got, tc.want)
			}
			if d.Pending() {
				t.Fatal("something left pending")
			}
		})
	}
}

func TestDecodeLoneEscNeedsFlush(t *testing.T) {
	var d Decoder
	if keys := d.Feed([]byte("ab\x1b")); !reflect.DeepEqual(keys, []Key{r('a'), r('b')}) {
		t.Fatalf("keys %v", keys)
	}
	if !d.Pending() {
		t.Fatal("a lone ESC must wait for a possible sequence")
	}
	if keys := d.Flush(); !reflect.DeepEqual(keys, []Key{k(KeyEsc)}) {
		t.Fatalf("Flush = %v, want Esc", keys)
	}
	if d.Pending() {
		t.Fatal("pending after Flush")
	}
	// An unfinished CSI is Esc too; an unfinished UTF-8 character is dropped.
	d.Feed([]byte("\x1b[5"))
	if keys := d.Flush(); !reflect.DeepEqual(keys, []Key{k(KeyEsc)}) {
		t.Fatalf("Flush = %v, want Esc", keys)
	}
	d.Feed([]byte("\xe2\x82"))
	if keys := d.Flush(); keys != nil {
		t.Fatalf("Flush = %v, want nothing", keys)
	}
	// Garbage that never ends is not kept forever.
	long := "\x1b[1111111111111111111111111111111111111111"
	d.Feed([]byte(long))
	if d.Pending() {
		t.Fatal("an overlong unfinished sequence is kept")
	}
}
