package policy

import (
	"fmt"

	"github.com/rolehop/rolehop/internal/awsarn"
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

// ParseIAMARN parses an IAM or STS ARN of an account (12 digits): a user,
// role, assumed-role or federated-user session, or the account root.
func ParseIAMARN(arn string) (awsarn.ARN, error) {
	a, err := awsarn.Parse(arn)
	if err != nil {
		return awsarn.ARN{}, err
	}
	if a.Region != "" || !awsarn.IsAccountID(a.Account) {
		return awsarn.ARN{}, fmt.Errorf("%q is not an IAM ARN (arn:aws:iam::123456789012:user/NAME)", arn)
	}
	return a, nil
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
		// The session ARN is assumed-role/ROLE/SESSION: it names the role
		// but not the role's path.
		c.Kind, c.Path, c.PathUnknown = CallerRole, "/", true
		c.ARN = fmt.Sprintf("arn:%s:iam::%s:role/%s", p.Partition, p.Account, p.Name)
	case p.Service == "sts" && p.Type == "federated-user":
		// IAM User Guide, "Comparing the AWS STS API operations": a
		// GetFederationToken session cannot call AssumeRole.
		return Caller{}, fmt.Errorf("caller %q is a federated-user session (GetFederationToken), which cannot call sts:AssumeRole: use the IAM user's own keys or pass --caller-arn with the user's ARN", arn)
	default:
		return Caller{}, fmt.Errorf("caller %q is not an IAM user, role, assumed-role session or account root ARN", arn)
	}
	return c, nil
}
