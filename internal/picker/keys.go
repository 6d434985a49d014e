package picker

import (
	"unicode"
	"unicode/utf8"
)

// KeyKind is what a decoded key does.
type KeyKind int

const (
	KeyUnknown    KeyKind = iota // anything else: ignored
	KeyRune                      // a printable character (Key.Rune)
	KeyEnter                     // Enter (CR or LF)
	KeyBackspace                 // Backspace (DEL or Ctrl-H)
	KeyClearLine                 // Ctrl-U: clear the filter
	KeyDeleteWord                // Ctrl-W: delete the filter's last word
	KeyUp                        // Up arrow, Ctrl-P
	KeyDown                      // Down arrow, Ctrl-N
	KeyPageUp                    // PgUp
	KeyPageDown                  // PgDn
	KeyHome                      // Home
	KeyEnd                       // End
	KeyEsc                       // Esc, Ctrl-G
	KeyCtrlC                     // Ctrl-C
)

// Key is one decoded keystroke.
type Key struct {
	Kind KeyKind
	Rune rune // for KeyRune
}

// maxPending bounds an unfinished escape sequence: a longer one is garbage.
const maxPending = 32

// Decoder turns the bytes a raw terminal sends into keys. Escape sequences
// and UTF-8 characters may be split across reads: Feed keeps an unfinished
// tail until the next Feed. A lone ESC is ambiguous (the Esc key, or the
// start of a sequence whose rest is still on its way); the caller resolves
// it with Flush when no more bytes arrived for a short while.
type Decoder struct {
	pending []byte
}

// Pending reports whether an unfinished sequence waits for more bytes.
func (d *Decoder) Pending() bool { return len(d.pending) > 0 }

// Feed decodes p (after whatever was pending) and returns the complete keys.
func (d *Decoder) Feed(p []byte) []Key {
	buf := append(d.pending, p...)
	d.pending = nil
	var keys []Key
	for i := 0; i < len(buf); {
		k, n := decodeOne(buf[i:])
		if n == 0 { // unfinished: keep it for the next Feed
			if len(buf)-i <= maxPending {
				d.pending = append([]byte(nil), buf[i:]...)
			}
			break
		}
		if k.Kind != KeyUnknown {
			keys = append(keys, k)
		}
		i += n
	}
	return keys
}

// Flush resolves what is pending as if no more bytes will follow: an
// unfinished escape sequence is the Esc key; an unfinished UTF-8 character
// is dropped.
func (d *Decoder) Flush() []Key {
	p := d.pending
	d.pending = nil
	if len(p) > 0 && p[0] == 0x1b {
		return []Key{{Kind: KeyEsc}}
	}
	return nil
}

// decodeOne decodes the key at the start of b and returns it with the number
// of bytes it took; n == 0 means b holds only the start of a key. An ignored
// byte comes back as KeyUnknown with n > 0.
func decodeOne(b []byte) (k Key, n int) {
	c := b[0]
	switch c {
	case 0x1b:
		return decodeEscape(b)
	case '\r', '\n':
		return Key{Kind: KeyEnter}, 1
	case 0x7f, 0x08:
		return Key{Kind: KeyBackspace}, 1
	case 0x03:
		return Key{Kind: KeyCtrlC}, 1
	case 0x07:
		return Key{Kind: KeyEsc}, 1
	case 0x10:
		return Key{Kind: KeyUp}, 1
	case 0x0e:
		return Key{Kind: KeyDown}, 1
	case 0x15:
		return Key{Kind: KeyClearLine}, 1
	case 0x17:
		return Key{Kind: KeyDeleteWord}, 1
	}
	if c < 0x20 {
		return Key{}, 1
	}
	if c < utf8.RuneSelf {
		return Key{Kind: KeyRune, Rune: rune(c)}, 1
	}
	if !utf8.FullRune(b) {
		return Key{}, 0
	}
	r, size := utf8.DecodeRune(b)
	if r == utf8.RuneError || !unicode.IsPrint(r) {
		return Key{}, size
	}
	return Key{Kind: KeyRune, Rune: r}, size
}

// decodeEscape decodes a sequence starting with ESC: CSI (ESC [ params
// final) and SS3 (ESC O final) keys; ESC followed by anything else is the
// Esc key (the next byte is decoded on its own).
func decodeEscape(b []byte) (Key, int) {
	if len(b) < 2 {
		return Key{}, 0
	}
	switch b[1] {
	case '[':
		// Parameter bytes 0x30-0x3f, intermediate bytes 0x20-0x2f, then a
		// final byte 0x40-0x7e.
		for j := 2; j < len(b); j++ {
			c := b[j]
			switch {
			case c >= 0x20 && c <= 0x3f:
				continue
			case c >= 0x40 && c <= 0x7e:
				return csiKey(string(b[2:j]), c), j + 1
			default: // malformed: drop what we saw, decode c on its own
				return Key{}, j
			}
		}
		return Key{}, 0
	case 'O':
		if len(b) < 3 {
			return Key{}, 0
		}
		return csiKey("", b[2]), 3
	}
	return Key{Kind: KeyEsc}, 1
}

// csiKey maps a CSI or SS3 sequence to a key. Modifiers (ESC [1;5A) are
// ignored: Ctrl-Up is Up.
func csiKey(params string, final byte) Key {
	switch final {
	case 'A':
		return Key{Kind: KeyUp}
	case 'B':
		return Key{Kind: KeyDown}
	case 'H':
		return Key{Kind: KeyHome}
	case 'F':
		return Key{Kind: KeyEnd}
	case '~':
		first := params
		for i := 0; i < len(params); i++ {
			if params[i] == ';' {
				first = params[:i]
				break
			}
		}
		switch first {
		case "5":
			return Key{Kind: KeyPageUp}
		case "6":
			return Key{Kind: KeyPageDown}
		case "1", "7":
			return Key{Kind: KeyHome}
		case "4", "8":
			return Key{Kind: KeyEnd}
		}
	}
	return Key{}
}
