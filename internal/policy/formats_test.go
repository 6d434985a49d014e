package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	"gopkg.in/yaml.v3"

	"github.com/rolehop/rolehop/internal/awsarn"
	"github.com/rolehop/rolehop/internal/iampolicy"
)

// generic is a document as encoding/json decodes it, for comparisons that
// do not depend on the Go model.
func generic(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// yamlDocs parses every document of a YAML stream.
func yamlDocs(t *testing.T, src []byte) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("YAML does not parse: %v\n%s", err, src)
		}
		docs = append(docs, d)
	}
}

func at(m any, path ...string) any {
	for _, k := range path {
		mm, _ := m.(map[string]any)
		m = mm[k]
	}
	return m
}

// TestCloudFormationParses: every template parses with yaml.v3, each role's
// AssumeRolePolicyDocument equals the JSON format's trust policy, and each
// policy's document the JSON format's permission policy.
func TestCloudFormationParses(t *testing.T) {
	for _, s := range scenarios {
		r := s.generate(t)
		out, err := CloudFormation(r, "")
		if err != nil {
			t.Fatal(err)
		}
		docs := yamlDocs(t, out)
		trust, perms := map[string]any{}, map[string]any{}
		accounts := map[string]bool{}
		for _, st := range r.Steps {
			trust[st.Role.Path+st.Role.Name] = generic(t, st.TrustPolicy)
			accounts[st.Account] = true
			if st.PermissionPolicy != nil {
				perms[st.policyName()] = generic(t, st.PermissionPolicy)
				accounts[st.From.Account] = true
			}
		}
		if len(docs) != len(accounts) {
			t.Fatalf("%s: %d templates for %d accounts", s.name, len(docs), len(accounts))
		}
		roles, policies := 0, 0
		for _, d := range docs {
			if d["AWSTemplateFormatVersion"] != "2010-09-09" {
				t.Errorf("%s: template without AWSTemplateFormatVersion: %v", s.name, d)
			}
			for id, res := range at(d, "Resources").(map[string]any) {
				props := at(res, "Properties")
				switch at(res, "Type") {
				case "AWS::IAM::Role":
					roles++
					key := at(props, "Path").(string) + at(props, "RoleName").(string)
					if got := at(props, "AssumeRolePolicyDocument"); !reflect.DeepEqual(got, trust[key]) {
						t.Errorf("%s: %s trust policy\n got %v\nwant %v", s.name, id, got, trust[key])
					}
				case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
					policies++
					name, _ := at(props, "PolicyName").(string)
					if name == "" {
						name = at(props, "ManagedPolicyName").(string)
					}
					if got := at(props, "PolicyDocument"); !reflect.DeepEqual(got, perms[name]) {
						t.Errorf("%s: %s policy\n got %v\nwant %v", s.name, id, got, perms[name])
					}
				default:
					t.Errorf("%s: unexpected resource %s: %v", s.name, id, res)
				}
			}
		}
		if roles != len(trust) || policies != len(perms) {
			t.Errorf("%s: %d roles and %d policies in the templates, want %d and %d", s.name, roles, policies, len(trust), len(perms))
		}
	}
}

// TestCloudFormationAccount: --account selects one template.
func TestCloudFormationAccount(t *testing.T) {
	r := scenarios[0].generate(t)
	out, err := CloudFormation(r, "222222222222")
	if err != nil {
		t.Fatal(err)
	}
	docs := yamlDocs(t, out)
	if len(docs) != 1 || !strings.HasPrefix(string(out), "# rolehop policy: CloudFormation template 2 of 2, for account 222222222222.") {
		t.Fatalf("--account 222222222222:\n%s", out)
	}
	res := at(docs[0], "Resources").(map[string]any)
	if len(res) != 3 || res["Hop2Role"] == nil || res["Hop3Role"] == nil || res["Hop3CallerPolicy"] == nil {
		t.Errorf("resources %v", res)
	}
	if _, err := CloudFormation(r, "333333333333"); err == nil || !strings.Contains(err.Error(), "111111111111, 222222222222") {
		t.Errorf("unknown account: %v", err)
	}
}

// tfDoc is one jsonencode(...) of the Terraform output, evaluated.
type tfDoc struct {
	resource string // TYPE.NAME
	attr     string
	value    any
}

// terraformDocs parses the HCL with hclsyntax and evaluates every
// jsonencode(...) with cty's JSONEncodeFunc: what Terraform would send.
func terraformDocs(t *testing.T, src []byte) ([]tfDoc, map[string]map[string]string) {
	t.Helper()
	f, diags := hclsyntax.ParseConfig(src, "policy.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("HCL does not parse: %v\n%s", diags, src)
	}
	ctx := &hcl.EvalContext{Functions: map[string]function.Function{"jsonencode": stdlib.JSONEncodeFunc}}
	var docs []tfDoc
	literals := map[string]map[string]string{}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "resource" {
			continue
		}
		name := strings.Join(b.Labels, ".")
		literals[name] = map[string]string{}
		for _, a := range b.Body.Attributes {
			call, ok := a.Expr.(*hclsyntax.FunctionCallExpr)
			if !ok || call.Name != "jsonencode" {
				if v, diags := a.Expr.Value(nil); !diags.HasErrors() && v.Type() == cty.String {
					literals[name][a.Name] = v.AsString()
				}
				continue
			}
			v, diags := a.Expr.Value(ctx)
			if diags.HasErrors() {
				t.Fatalf("%s.%s does not evaluate: %v", name, a.Name, diags)
			}
			var doc any
			if err := json.Unmarshal([]byte(v.AsString()), &doc); err != nil {
				t.Fatalf("%s.%s: jsonencode gave %q: %v", name, a.Name, v.AsString(), err)
			}
			docs = append(docs, tfDoc{name, a.Name, doc})
		}
	}
	return docs, literals
}

// TestTerraformEvaluates: every jsonencode(...) evaluates to exactly the
// JSON format's document — which is what proves the $${ and %%{ escaping.
func TestTerraformEvaluates(t *testing.T) {
	for _, s := range scenarios {
		r := s.generate(t)
		docs, literals := terraformDocs(t, Terraform(r))
		var want []any
		for _, st := range r.Steps {
			want = append(want, generic(t, st.TrustPolicy))
			if st.PermissionPolicy != nil {
				want = append(want, generic(t, st.PermissionPolicy))
			}
		}
		if len(docs) != len(want) {
			t.Fatalf("%s: %d jsonencode documents, want %d", s.name, len(docs), len(want))
		}
		for i, d := range docs {
			if !reflect.DeepEqual(d.value, want[i]) {
				t.Errorf("%s: %s.%s\n got %v\nwant %v", s.name, d.resource, d.attr, d.value, want[i])
			}
		}
		for _, st := range r.Steps {
			role := literals["aws_iam_role."+tfName(&st)]
			if role["name"] != st.Role.Name || role["path"] != st.Role.Path {
				t.Errorf("%s: aws_iam_role.%s name %q path %q", s.name, tfName(&st), role["name"], role["path"])
			}
		}
	}
}

// TestFormatsEscapeEverything: values that would break YAML or start an
// HCL interpolation survive both formats unchanged.
func TestFormatsEscapeEverything(t *testing.T) {
	nasty := "a\"b\\c ${x} %{if} $${y} : # - [x] \n\t\u2028"
	c := iampolicy.Conditions{}
	c.Add("StringEquals", "aws:RequestTag/"+nasty, nasty)
	c.Add("Null", "aws:TokenIssueTime", "false")
	doc := iampolicy.Document{Version: iampolicy.Version, Statement: []iampolicy.Statement{{Sid: "S", Effect: "Allow", Principal: iampolicy.AWSPrincipal("arn:aws:iam::111111111111:root"), Action: iampolicy.Strings{"sts:AssumeRole"}, Condition: c}}}
	st := Step{Hop: 1, Kind: KindAssumeRole, RoleARN: "arn:aws:iam::111111111111:role/r", Account: "111111111111", TrustPolicy: doc,
		Role: awsarn.ARN{Partition: "aws", Service: "iam", Account: "111111111111", Type: "role", Path: "/", Name: "r"}, From: Caller{Kind: CallerRoot}}
	r := &Result{Steps: []Step{st}}
	want := generic(t, doc)

	out, err := CloudFormation(r, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := at(yamlDocs(t, out)[0], "Resources", "Hop1Role", "Properties", "AssumeRolePolicyDocument"); !reflect.DeepEqual(got, want) {
		t.Errorf("YAML\n got %v\nwant %v\n%s", got, want, out)
	}
	docs, _ := terraformDocs(t, Terraform(r))
	if len(docs) != 1 || !reflect.DeepEqual(docs[0].value, want) {
		t.Errorf("HCL\n got %v\nwant %v", docs, want)
	}
}
