package policy

import (
	"fmt"
	"strings"
)

// CallerKind names what kind of identity calls sts:AssumeRole for a hop.
type CallerKind string

// The caller kinds a policy can be written for.
const (
	CallerUser CallerKind = "user" // an IAM user: arn:P:iam::A:user/PATH/NAME
	CallerRole CallerKind = "role" // a role session; the principal is the role
	CallerRoot CallerKind = "root" // the account's root user
	// CallerSSO is an IAM Identity Center permission set's
	// AWSReservedSSO_<set>_<hash> role, whose full name is not known.
	CallerSSO CallerKind = "sso"
	// CallerOIDC is a web identity provider (AssumeRoleWithWebIdentity).
	CallerOIDC CallerKind = "oidc"
)

// Caller is the identity that calls AssumeRole for one step.
type Caller struct {
	Kind      CallerKind
	ARN       string // the principal ARN; for CallerSSO the ArnLike pattern
	Partition string
	Account   string
	Name      string // user or role name, permission set name
	Path      string // IAM path, "/" when none
	// PathUnknown: the caller ARN was an assumed-role session ARN, which
	// does not carry the role's path.
	PathUnknown bool
}

// ARNParts is a parsed IAM user or role ARN.
type ARNParts struct {
	Partition, Service, Account, Type, Path, Name string
	// Resource is everything after "TYPE/".
	Resource string
}

// ParseIAMARN splits arn:P:SERVICE::ACCOUNT:TYPE/PATH/NAME. Path is "/" when
// the resource has no path, else "/PATH/".
func ParseIAMARN(arn string) (ARNParts, error) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[1] == "" || f[3] != "" || !isAccount(f[4]) || f[5] == "" {
		return ARNParts{}, fmt.Errorf("%q is not an IAM ARN (arn:aws:iam::123456789012:user/NAME)", arn)
	}
	p := ARNParts{Partition: f[1], Service: f[2], Account: f[4]}
	res := f[5]
	if res == "root" {
		p.Type = "root"
		return p, nil
	}
	typ, rest, ok := strings.Cut(res, "/")
	if !ok || rest == "" || strings.HasSuffix(rest, "/") {
		return ARNParts{}, fmt.Errorf("%q: resource %q has no name", arn, res)
	}
	p.Type, p.Resource = typ, rest
	p.Path, p.Name = "/", rest
	if i := strings.LastIndex(rest, "/"); i >= 0 {
		p.Path, p.Name = "/"+rest[:i+1], rest[i+1:]
	}
	return p, nil
}

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ParseCaller turns a caller ARN (what sts:GetCallerIdentity returns, or
// --caller-arn) into the principal a trust policy names:
//
//	arn:P:sts::A:assumed-role/R/S  → arn:P:iam::A:role/R (path unknown)
//	arn:P:iam::A:user/PATH/N       → as is
//	arn:P:iam::A:role/PATH/R       → as is
//	arn:P:iam::A:root              → as is
//	arn:P:sts::A:federated-user/N  → error: such sessions cannot call AssumeRole
func ParseCaller(arn string) (Caller, error) {
	p, err := ParseIAMARN(arn)
	if err != nil {
		return Caller{}, fmt.Errorf("caller %v", err)
	}
	c := Caller{Partition: p.Partition, Account: p.Account, Name: p.Name, Path: p.Path}
	switch {
	case p.Service == "iam" && p.Type == "root":
		c.Kind, c.ARN, c.Path = CallerRoot, arn, ""
	case p.Service == "iam" && p.Type == "user":
		c.Kind, c.ARN = CallerUser, arn
	case p.Service == "iam" && p.Type == "role":
		c.Kind, c.ARN = CallerRole, arn
	case p.Service == "sts" && p.Type == "assumed-role":
		// The session ARN is assumed-role/ROLE/SESSION: the role name is the
		// first segment; the role's path is not in it.
		role, session, _ := strings.Cut(p.Resource, "/")
		if role == "" || session == "" {
			return Caller{}, fmt.Errorf("caller %q: expected arn:%s:sts::%s:assumed-role/ROLE/SESSION", arn, p.Partition, p.Account)
		}
		c.Kind, c.Name, c.Path, c.PathUnknown = CallerRole, role, "/", true
		c.ARN = fmt.Sprintf("arn:%s:iam::%s:role/%s", p.Partition, p.Account, role)
	case p.Service == "sts" && p.Type == "federated-user":
		// IAM User Guide, "Comparing the AWS STS API operations": a
		// GetFederationToken session cannot call AssumeRole.
		return Caller{}, fmt.Errorf("caller %q is a federated-user session (GetFederationToken), which cannot call sts:AssumeRole: use the IAM user's own keys or pass --caller-arn with the user's ARN", arn)
	default:
		return Caller{}, fmt.Errorf("caller %q is not an IAM user, role, assumed-role session or account root ARN", arn)
	}
	return c, nil
}
