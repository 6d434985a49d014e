package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// cfnTemplate is one account's template.
type cfnTemplate struct {
	account   string
	comments  []string
	resources []field
}

// CloudFormation writes one YAML template per account (CloudFormation
// deploys a stack into one account), as YAML documents separated by "---",
// in the order they must be deployed. account, when not empty, selects one
// template.
func CloudFormation(r *Result, account string) ([]byte, error) {
	roles := createdRoles(r)
	var order []*cfnTemplate
	byAccount := map[string]*cfnTemplate{}
	get := func(acct string) *cfnTemplate {
		if t, ok := byAccount[acct]; ok {
			return t
		}
		t := &cfnTemplate{account: acct}
		byAccount[acct] = t
		order = append(order, t)
		return t
	}
	for i := range r.Steps {
		st := &r.Steps[i]
		t := get(st.Account)
		t.resources = append(t.resources, kv(cfnRoleID(st), cfnRole(st, roles)))
		if st.PermissionPolicy == nil {
			continue
		}
		pt := get(st.From.Account)
		id, res := cfnPolicy(st, pt.account, roles)
		pt.resources = append(pt.resources, kv(id, res))
		if st.From.Kind == CallerSSO {
			pt.comments = append(pt.comments, fmt.Sprintf("%s: add it to permission set %s as a customer managed policy named %s; it must exist in every account the set is provisioned to", id, st.From.Name, st.policyName()))
		}
	}
	var docs []string
	for i, t := range order {
		if account != "" && t.account != account {
			continue
		}
		docs = append(docs, t.yaml(i+1, len(order)))
	}
	if len(docs) == 0 {
		accts := make([]string, len(order))
		for i, t := range order {
			accts[i] = t.account
		}
		return nil, fmt.Errorf("--account %s: the chain creates nothing in that account; its accounts are %s", account, strings.Join(accts, ", "))
	}
	return []byte(strings.Join(docs, "---\n")), nil
}

func (t *cfnTemplate) yaml(i, n int) string {
	lines := []string{
		fmt.Sprintf("# rolehop policy: CloudFormation template %d of %d, for account %s.", i, n, t.account),
		fmt.Sprintf("# Deploy it with credentials for account %s, the templates in the order shown", t.account),
		"# (IAM refuses a trust policy whose principal does not exist yet):",
		fmt.Sprintf("#   aws cloudformation deploy --stack-name rolehop-%s --capabilities CAPABILITY_NAMED_IAM --template-file FILE", t.account),
	}
	for _, c := range t.comments {
		lines = append(lines, "# "+c)
	}
	doc := obj(
		kv("AWSTemplateFormatVersion", str("2010-09-09")),
		kv("Description", str("Roles and policies for a rolehop chain, account "+t.account)),
		kv("Resources", obj(t.resources...)),
	)
	lines = append(lines, yamlLines(doc, 0)...)
	return strings.Join(lines, "\n") + "\n"
}

// createdRoles maps the ARN of every role the result creates to its step.
func createdRoles(r *Result) map[string]*Step {
	m := map[string]*Step{}
	for i := range r.Steps {
		m[r.Steps[i].RoleARN] = &r.Steps[i]
	}
	return m
}

func cfnRoleID(st *Step) string {
	if st.Kind == KindWebIdentity {
		return "WebIdentityRole"
	}
	return fmt.Sprintf("Hop%dRole", st.Hop)
}

// cfnRole is the AWS::IAM::Role of a step. It depends on its caller's role
// when that is in the same template, because IAM refuses a trust policy
// naming a principal that does not exist yet.
func cfnRole(st *Step, roles map[string]*Step) node {
	props := []field{
		kv("RoleName", str(st.Role.Name)),
		kv("Path", str(st.Role.Path)),
		kv("AssumeRolePolicyDocument", treeOf(st.TrustPolicy)),
	}
	if st.MaxSessionDuration > 0 {
		props = append(props, kv("MaxSessionDuration", node{kind: nodeRaw, text: strconv.Itoa(st.MaxSessionDuration)}))
	}
	res := []field{kv("Type", str("AWS::IAM::Role"))}
	if c, ok := roles[st.From.ARN]; ok && st.From.Kind == CallerRole && c.Account == st.Account {
		res = append(res, kv("DependsOn", str(cfnRoleID(c))))
	}
	return obj(append(res, kv("Properties", obj(props...)))...)
}

// cfnPolicy is the caller's permission: an AWS::IAM::Policy on the user or
// role, or for a permission set an AWS::IAM::ManagedPolicy to add to it.
func cfnPolicy(st *Step, account string, roles map[string]*Step) (string, node) {
	doc := kv("PolicyDocument", treeOf(*st.PermissionPolicy))
	name := str(st.policyName())
	switch st.From.Kind {
	case CallerSSO:
		return fmt.Sprintf("Hop%dPermissionSetPolicy", st.Hop), obj(
			kv("Type", str("AWS::IAM::ManagedPolicy")),
			kv("Properties", obj(
				kv("ManagedPolicyName", name),
				kv("Description", str(fmt.Sprintf("Lets permission set %s assume %s (rolehop)", st.From.Name, st.RoleARN))),
				doc,
			)))
	case CallerUser:
		return fmt.Sprintf("Hop%dCallerPolicy", st.Hop), obj(
			kv("Type", str("AWS::IAM::Policy")),
			kv("Properties", obj(kv("PolicyName", name), doc, kv("Users", arr(str(st.From.Name))))))
	}
	target := str(st.From.Name)
	if c, ok := roles[st.From.ARN]; ok && c.Account == account {
		target = obj(kv("Ref", str(cfnRoleID(c))))
	}
	return fmt.Sprintf("Hop%dCallerPolicy", st.Hop), obj(
		kv("Type", str("AWS::IAM::Policy")),
		kv("Properties", obj(kv("PolicyName", name), doc, kv("Roles", arr(target)))))
}
