package iampolicy

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics and its errors are one line; a document
// it accepts prints (Compact, JSON, and Compact URL-encoded as IAM's
// GetRole returns it) as text that parses back to the same document: its
// Compact form is the same.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		policy(allow(`"*"`, "")),
		policy(allow(`{"AWS":["111111111111","`+userARN+`"],"Service":"ec2.amazonaws.com"}`, `{"StringLike":{"sts:RoleSessionName":"${aws:username}*"},"BoolIfExists":{"aws:MultiFactorAuthPresent":true}}`)),
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":["sts:AssumeRole",1,true,null],"Condition":{"NumericLessThan":{"k":[1.5e3,"2"]}}}}`,
		`{"Statement":null}`, `{"Statement":[]}`, `{"Statement":[{"NotPrincipal":{"AWS":"*"},"NotAction":"*","Sid":"<&>"}]}`,
		"%7B%22Statement%22%3A%5B%5D%7D", " {} ", "%zz", "[]", "null", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		d, err := Parse(text)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		compact := d.Compact()
		for name, printed := range map[string]string{"Compact": compact, "JSON": string(d.JSON()), "URL-encoded": url.QueryEscape(compact)} {
			back, err := Parse(printed)
			if err != nil {
				t.Fatalf("%s output does not parse: %v\n%s", name, err, printed)
			}
			if back.Compact() != compact {
				t.Fatalf("%s output parses to another document:\n%s\n%s", name, compact, back.Compact())
			}
		}
	})
}
