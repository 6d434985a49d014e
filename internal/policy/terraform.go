package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// Terraform writes the chain's roles and policies as one Terraform file:
// an aliased aws provider per account, aws_iam_role resources with
// assume_role_policy = jsonencode({…}), and the callers' permissions as
// aws_iam_user_policy, aws_iam_role_policy or (for a permission set)
// aws_iam_policy.
func Terraform(r *Result) []byte {
	roles := createdRoles(r)
	var accounts []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			accounts = append(accounts, a)
		}
	}
	for _, st := range r.Steps {
		add(st.Account)
		if st.PermissionPolicy != nil {
			add(st.From.Account)
		}
	}
	var b strings.Builder
	b.WriteString("# rolehop policy: the roles and policies of a rolehop chain.\n")
	b.WriteString("# Configure each provider's credentials (profile, assume_role, ...) for its account, then terraform init && terraform apply.\n\n")
	b.WriteString("terraform {\n  required_providers {\n    aws = {\n      source = \"hashicorp/aws\"\n    }\n  }\n}\n")
	for _, a := range accounts {
		fmt.Fprintf(&b, "\n# Account %s: configure this provider's credentials.\nprovider \"aws\" {\n  alias               = %s\n  allowed_account_ids = [%s]\n}\n",
			a, hclString(tfAlias(a)), hclString(a))
	}
	for i := range r.Steps {
		st := &r.Steps[i]
		b.WriteString("\n")
		tfRole(&b, st, roles)
		if st.PermissionPolicy != nil {
			b.WriteString("\n")
			tfPolicy(&b, st, roles)
		}
	}
	return []byte(b.String())
}

func tfAlias(account string) string { return "account_" + account }

// tfName is a step's resource name: a valid HCL identifier.
func tfName(st *Step) string {
	prefix := "hop" + strconv.Itoa(st.Hop)
	if st.Kind == KindWebIdentity {
		prefix = "web_identity"
	}
	return prefix + "_" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, st.Role.Name)
}

// tfRole writes the aws_iam_role of a step; it depends on its caller's
// role when this file creates it, because IAM refuses a trust policy naming
// a principal that does not exist yet.
func tfRole(b *strings.Builder, st *Step, roles map[string]*Step) {
	fmt.Fprintf(b, "resource \"aws_iam_role\" %s {\n", hclString(tfName(st)))
	fmt.Fprintf(b, "  provider = aws.%s\n", tfAlias(st.Account))
	fmt.Fprintf(b, "  name     = %s\n", hclString(st.Role.Name))
	fmt.Fprintf(b, "  path     = %s\n", hclString(st.Role.Path))
	if st.MaxSessionDuration > 0 {
		fmt.Fprintf(b, "  max_session_duration = %d\n", st.MaxSessionDuration)
	}
	fmt.Fprintf(b, "  assume_role_policy = jsonencode(%s)\n", hclValue(treeOf(st.TrustPolicy), 2))
	if c, ok := roles[st.From.ARN]; ok && st.From.Kind == CallerRole {
		fmt.Fprintf(b, "  depends_on = [aws_iam_role.%s]\n", tfName(c))
	}
	b.WriteString("}\n")
}

// tfPolicy writes the caller's permission for a step.
func tfPolicy(b *strings.Builder, st *Step, roles map[string]*Step) {
	name := tfName(st) + "_caller"
	switch st.From.Kind {
	case CallerSSO:
		fmt.Fprintf(b, "# Add this policy to permission set %s as a customer managed policy named %s;\n", st.From.Name, st.policyName())
		b.WriteString("# it must exist in every account the set is provisioned to.\n")
		fmt.Fprintf(b, "resource \"aws_iam_policy\" %s {\n", hclString(name))
		fmt.Fprintf(b, "  provider    = aws.%s\n", tfAlias(st.From.Account))
		fmt.Fprintf(b, "  name        = %s\n", hclString(st.policyName()))
		fmt.Fprintf(b, "  description = %s\n", hclString(fmt.Sprintf("Lets permission set %s assume %s (rolehop)", st.From.Name, st.RoleARN)))
	case CallerUser:
		fmt.Fprintf(b, "resource \"aws_iam_user_policy\" %s {\n", hclString(name))
		fmt.Fprintf(b, "  provider = aws.%s\n", tfAlias(st.From.Account))
		fmt.Fprintf(b, "  name     = %s\n", hclString(st.policyName()))
		fmt.Fprintf(b, "  user     = %s\n", hclString(st.From.Name))
	default:
		role := hclString(st.From.Name)
		if c, ok := roles[st.From.ARN]; ok {
			role = "aws_iam_role." + tfName(c) + ".name"
		}
		fmt.Fprintf(b, "resource \"aws_iam_role_policy\" %s {\n", hclString(name))
		fmt.Fprintf(b, "  provider = aws.%s\n", tfAlias(st.From.Account))
		fmt.Fprintf(b, "  name     = %s\n", hclString(st.policyName()))
		fmt.Fprintf(b, "  role     = %s\n", role)
	}
	fmt.Fprintf(b, "  policy = jsonencode(%s)\n}\n", hclValue(treeOf(*st.PermissionPolicy), 2))
}

// hclValue writes a node as an HCL expression (objects, tuples, quoted
// strings) at indent.
func hclValue(n node, indent int) string {
	pad := strings.Repeat(" ", indent)
	switch n.kind {
	case nodeString:
		return hclString(n.text)
	case nodeRaw:
		return n.text
	case nodeObject:
		if len(n.fields) == 0 {
			return "{}"
		}
		var b strings.Builder
		b.WriteString("{\n")
		for _, f := range n.fields {
			key := f.key
			if !simpleKey(key) {
				key = hclString(key)
			}
			fmt.Fprintf(&b, "%s  %s = %s\n", pad, key, hclValue(f.val, indent+2))
		}
		return b.String() + pad + "}"
	default:
		if len(n.items) == 0 {
			return "[]"
		}
		var b strings.Builder
		b.WriteString("[\n")
		for _, item := range n.items {
			fmt.Fprintf(&b, "%s  %s,\n", pad, hclValue(item, indent+2))
		}
		return b.String() + pad + "]"
	}
}
