package populate

import (
	"strings"
	"testing"

	"github.com/rolehop/rolehop/internal/awsconfig"
)

// FuzzSanitize: Sanitize is idempotent, and a non-empty result written as
// "[profile NAME]" reads back (with botocore's rules) as exactly that
// profile name. ParseTemplate never panics on any --template, and its
// errors are one line.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"Prod - EU/Admin", "a--b", " -x- ", "[a]", "a\"b'c\\d#e;f", "\u00a0\u2028\x1c\x7f\xff", "é日本", "-", "", "profile x"} {
		f.Add(s, DefaultTemplate)
	}
	f.Add("x", "{{.AccountName | lower}}-{{.RoleName}}")
	f.Add("x", "{{.Nope}}")
	f.Add("x", "{{")
	f.Add("x", "{{range .AccountName}}{{end}}\n")
	f.Fuzz(func(t *testing.T, s, tmpl string) {
		name := Sanitize(s)
		if again := Sanitize(name); again != name {
			t.Fatalf("Sanitize(%q) = %q, then %q", s, name, again)
		}
		if name != "" {
			pf, err := awsconfig.Parse("config", []byte("[profile "+name+"]\nregion = x\n"))
			if err != nil || len(pf.Sections) != 1 {
				t.Fatalf("[profile %s] does not parse: %v", name, err)
			}
			if got, ok := awsconfig.ProfileName(awsconfig.ConfigFile, pf.Sections[0].Header); !ok || got != name {
				t.Fatalf("[profile %s] reads back as %q (%v)", name, got, ok)
			}
		}
		if len(tmpl) > 200 || strings.Contains(tmpl, "range") {
			return // text/template has no step limit: {{range 1e12}} is the user's own loop
		}
		if _, err := ParseTemplate(tmpl); err != nil && strings.ContainsAny(err.Error(), "\r\n") {
			t.Fatalf("error is not one line: %q", err)
		}
	})
}
