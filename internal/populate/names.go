package populate

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"
)

// DefaultTemplate names a profile after its account and role.
const DefaultTemplate = "{{.AccountName}}/{{.RoleName}}"

// TemplateData is what a --template sees.
type TemplateData struct {
	AccountName string
	AccountID   string
	RoleName    string
	SessionName string // the sso-session name; "" for a legacy start URL
	Email       string // the account's email address
}

// templateFuncs are the few helpers a name template may call.
var templateFuncs = template.FuncMap{
	"lower":      strings.ToLower,
	"upper":      strings.ToUpper,
	"replace":    func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
	"trimPrefix": func(prefix, s string) string { return strings.TrimPrefix(s, prefix) },
	"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
}

// Template turns an assignment into a profile name.
type Template struct {
	t *template.Template
}

// ParseTemplate parses a Go text/template over TemplateData and tries it on
// a sample, so that a misspelt field fails before any network call. Errors
// are one line.
func ParseTemplate(src string) (*Template, error) {
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("--template is empty: give a name template such as " + DefaultTemplate)
	}
	t, err := template.New("name").Funcs(templateFuncs).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("--template %q: %s", src, oneLine(err))
	}
	tp := &Template{t: t}
	sample := TemplateData{AccountName: "dev", AccountID: "111111111111", RoleName: "Admin", SessionName: "corp", Email: "aws@example.com"}
	if _, err := tp.execute(sample); err != nil {
		return nil, fmt.Errorf("--template %q: %s (fields: .AccountName .AccountID .RoleName .SessionName .Email)", src, oneLine(err))
	}
	return tp, nil
}

func (t *Template) execute(d TemplateData) (string, error) {
	var b strings.Builder
	if err := t.t.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

// unsafeInHeader lists the characters a profile name may not hold: "[" and
// "]" end or confuse the header, quotes and "\" are shlex syntax (botocore
// splits "profile NAME" with shlex), and the Go SDK cuts a header at "#"
// or ";".
const unsafeInHeader = "[]\"'\\#;"

func unsafeRune(r rune) bool {
	return r == utf8.RuneError || pySpace(r) || !unicode.IsPrint(r) || strings.ContainsRune(unsafeInHeader, r)
}

// pySpace is Python's str.isspace, which configparser trims with.
func pySpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

// Sanitize makes s safe as NAME in a "[profile NAME]" header that botocore
// and the Go SDK both read back as NAME: each run of whitespace and unsafe
// characters (with the dashes next to it) becomes one "-", and such runs at
// either end are dropped. Case and every other character are kept, so
// "Prod - EU/Admin" becomes "Prod-EU/Admin" and "a--b" stays "a--b".
func Sanitize(s string) string {
	var b strings.Builder
	pending := false // a run of unsafe characters since the last kept one
	dashes := 0      // dashes since the last kept character
	for _, r := range s {
		switch {
		case unsafeRune(r):
			pending = true
		case r == '-':
			dashes++
		default:
			if pending {
				if b.Len() > 0 {
					b.WriteByte('-')
				}
			} else {
				b.WriteString(strings.Repeat("-", dashes))
			}
			pending, dashes = false, 0
			b.WriteRune(r)
		}
	}
	if !pending {
		b.WriteString(strings.Repeat("-", dashes))
	}
	return b.String()
}

// named is an assignment with its profile name.
type named struct {
	Assignment
	name string
}

// nameAll names every assignment: the template, sanitized; names that
// several assignments share get "-<AccountID>" appended (all of them, so a
// name does not depend on which account was listed first), then
// "-<RoleName>" if they still collide, then a counter. Assignments whose
// template gives an empty name are returned as skips.
func nameAll(t *Template, session string, as []Assignment) ([]named, []Skip, error) {
	var out []named
	var skips []Skip
	for _, a := range as {
		raw, err := t.execute(TemplateData{AccountName: a.AccountName, AccountID: a.AccountID, RoleName: a.RoleName, SessionName: session, Email: a.Email})
		if err != nil {
			return nil, nil, fmt.Errorf("--template for account %s role %s: %s", a.AccountID, a.RoleName, oneLine(err))
		}
		name := Sanitize(raw)
		if name == "" {
			skips = append(skips, Skip{Assignment: a, Name: raw, Reason: "the template gives an empty name"})
			continue
		}
		out = append(out, named{a, name})
	}
	slices.SortFunc(out, func(x, y named) int {
		return strings.Compare(x.AccountID+"\x00"+x.RoleName, y.AccountID+"\x00"+y.RoleName)
	})
	base := make([]string, len(out))
	for i := range out {
		base[i] = out[i].name
	}
	suffixes := []func(a Assignment) string{
		func(a Assignment) string { return "-" + a.AccountID },
		func(a Assignment) string { return "-" + a.AccountID + "-" + Sanitize(a.RoleName) },
	}
	for _, suffix := range suffixes {
		count := map[string]int{}
		for _, n := range out {
			count[n.name]++
		}
		for i := range out {
			if count[out[i].name] > 1 {
				out[i].name = base[i] + suffix(out[i].Assignment)
			}
		}
	}
	seen := map[string]bool{}
	for i := range out {
		name := out[i].name
		for k := 2; seen[name]; k++ {
			name = fmt.Sprintf("%s-%d", out[i].name, k)
		}
		out[i].name = name
		seen[name] = true
	}
	return out, skips, nil
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
