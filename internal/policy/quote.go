package policy

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// yamlString writes s as a double-quoted scalar that is also a JSON string:
// only the escapes both languages share (\" \\ \n \r \t \uXXXX), and every
// character outside YAML's printable set (C0 and C1 controls, DEL, U+FEFF,
// U+FFFE/U+FFFF) or that YAML 1.1 reads as a line break (U+2028, U+2029)
// escaped. Invalid UTF-8 becomes U+FFFD.
func yamlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s { // ranging replaces invalid UTF-8 with U+FFFD
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case yamlPrintable(r):
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r) // all such runes are in the BMP
		}
	}
	b.WriteByte('"')
	return b.String()
}

func yamlPrintable(r rune) bool {
	switch {
	case r >= 0x20 && r <= 0x7e:
		return true
	case r == 0x2028 || r == 0x2029 || r == 0xfeff:
		return false
	case r >= 0xa0 && r <= 0xd7ff, r >= 0xe000 && r <= 0xfffd, r >= 0x10000:
		return true
	}
	return false
}

// yamlKey writes a mapping key bare when YAML (1.1, which CloudFormation
// reads, or 1.2) takes it as that string, else quoted.
func yamlKey(k string) string {
	switch strings.ToLower(k) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null":
		return yamlString(k)
	}
	if simpleKey(k) {
		return k
	}
	return yamlString(k)
}

// hclString writes s as an HCL quoted template that evaluates to s.
// Terraform reads "${" and "%{" in any quoted string as an interpolation or
// directive, even inside jsonencode(…): they are written "$${" and "%%{"
// (Terraform language, "Strings and Templates": "Escape sequences").
// Besides \" and \\, control characters and characters HCL treats as line
// breaks are \u escapes. Invalid UTF-8 becomes U+FFFD.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case (r == '$' || r == '%') && strings.HasPrefix(s[i+1:], "{"):
			b.WriteRune(r)
			b.WriteRune(r)
		case r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0x2028 || r == 0x2029 || r == 0xfeff:
			fmt.Fprintf(&b, `\u%04x`, r)
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
