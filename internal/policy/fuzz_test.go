package policy

import (
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/text/unicode/norm"
	"gopkg.in/yaml.v3"
)

var quoteSeeds = []string{"", "plain", "${aws:username}", "$${x}", "$$${x}", "%{if}", "%%{", "$", "%", "${", "a\"b\\c", "line\nbreak\r\t", "\x00\x1f\x7f\u0085\u2028\u2029\ufeff\uffff", "é e\u0301 日本 🙂", "\xff\xfe", "a$b%c{d}", "}${", "\\u0041"}

// FuzzTerraformString: for any valid UTF-8 string, hclString's output
// parses as an HCL expression that evaluates to the same string. cty
// normalises every string to NFC, as Terraform does, so that is compared.
func FuzzTerraformString(f *testing.F) {
	for _, s := range quoteSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip("HCL and cty strings are UTF-8")
		}
		src := hclString(s)
		expr, diags := hclsyntax.ParseExpression([]byte(src), "q.tf", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("hclString(%q) = %s does not parse: %v", s, src, diags)
		}
		v, diags := expr.Value(&hcl.EvalContext{})
		if diags.HasErrors() {
			t.Fatalf("hclString(%q) = %s does not evaluate: %v", s, src, diags)
		}
		if v.Type() != cty.String || v.AsString() != norm.NFC.String(s) {
			t.Fatalf("hclString(%q) = %s evaluates to %#v", s, src, v)
		}
	})
}

// FuzzYAMLString: yamlString's output is a YAML scalar that reads back as
// the same string.
func FuzzYAMLString(f *testing.F) {
	for _, s := range quoteSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip("invalid UTF-8 is written as U+FFFD")
		}
		src := "k: " + yamlString(s) + "\n"
		var got map[string]string
		if err := yaml.Unmarshal([]byte(src), &got); err != nil {
			t.Fatalf("yamlString(%q) = %s: %v", s, src, err)
		}
		if got["k"] != s {
			t.Fatalf("yamlString(%q) = %s reads back as %q", s, src, got["k"])
		}
	})
}
