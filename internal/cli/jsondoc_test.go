package cli

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/rolehop/rolehop/internal/buildinfo"
	"github.com/rolehop/rolehop/internal/doctor"
	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/upgrade"
)

// TestJSONOutputDocumented: every field the --output json commands can
// print is named in docs/json-output.md, so the schema there cannot fall
// behind the code.
func TestJSONOutputDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/json-output.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for _, v := range []any{identity{}, plan.Plan{}, cacheEntryJSON{}, doctor.Report{}, buildinfo.Info{}, upgrade.Report{}} {
		for _, name := range jsonFields(reflect.TypeOf(v), map[reflect.Type]bool{}) {
			if !strings.Contains(text, "`"+name+"`") {
				t.Errorf("%T: field %q is not in docs/json-output.md", v, name)
			}
		}
	}
	for _, code := range []string{doctor.CodeNoCredentials, doctor.CodeSourceFailed, doctor.CodeExpired, doctor.CodeInvalidKey,
		doctor.CodeWrongSecret, doctor.CodeClockSkew, doctor.CodeAccessDenied, doctor.CodeTrustPolicy, doctor.CodeTrustPolicyDeny,
		doctor.CodeTrustPolicyMaybe, doctor.CodeCallerPermission, doctor.CodeRoleNotFound, doctor.CodeDurationOverMax,
		doctor.CodeChainingCap, doctor.CodeRegionDisabled, doctor.CodeThrottled, doctor.CodeUnreachable, doctor.CodeMFA,
		doctor.CodeSTSError, doctor.CodeIdentityCheckFail} {
		if !strings.Contains(text, "`"+code+"`") {
			t.Errorf("doctor finding code %q is not in docs/json-output.md", code)
		}
	}
}

// jsonFields lists the JSON names of t's fields, and of the structs inside.
func jsonFields(t reflect.Type, seen map[reflect.Type]bool) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] || t.PkgPath() == "time" {
		return nil
	}
	seen[t] = true
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
		out = append(out, jsonFields(f.Type, seen)...)
	}
	return out
}
