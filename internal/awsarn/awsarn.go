// Package awsarn reads the ARNs rolehop meets — IAM users and roles, STS
// assumed-role and federated-user sessions, account roots — into their
// parts: one parser for the plan's principals, the policy generator, the
// trust-policy evaluator and the hop's -u session name.
package awsarn

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// ARN is a parsed ARN. Type, Path, Name and Session are filled in for the
// IAM and STS resource shapes:
//
//	arn:P:iam::A:user/PATH/NAME            Type user, Path "/PATH/", Name NAME
//	arn:P:iam::A:role/PATH/NAME            Type role
//	arn:P:sts::A:assumed-role/ROLE/SESSION Type assumed-role, Name ROLE, Session SESSION
//	arn:P:sts::A:federated-user/NAME       Type federated-user, Name and Session NAME
//	arn:P:iam::A:root                      Type root
type ARN struct {
	Partition, Service, Region, Account string
	// Resource is everything after the account field.
	Resource string
	// Type is the resource's first segment ("user", "role", "root", …).
	Type string
	// Path is "/" or "/a/b/" for users and roles; "" otherwise.
	Path string
	// Name is the user or role name: the resource's last segment, or the
	// role of an assumed-role session.
	Name string
	// Session is the session name of an assumed-role ARN, or the name of a
	// federated user.
	Session string
}

// Parse splits s into its parts.
func Parse(s string) (ARN, error) {
	a, err := arn.Parse(s)
	if err != nil || a.Partition == "" || a.Service == "" || a.Resource == "" {
		return ARN{}, fmt.Errorf("%q is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)", s)
	}
	out := ARN{Partition: a.Partition, Service: a.Service, Region: a.Region, Account: a.AccountID, Resource: a.Resource}
	typ, rest, _ := strings.Cut(a.Resource, "/")
	out.Type = typ
	switch typ {
	case "user", "role":
		if rest == "" || strings.HasSuffix(rest, "/") {
			return ARN{}, fmt.Errorf("%q: resource %q has no name", s, a.Resource)
		}
		out.Path, out.Name = "/", rest
		if i := strings.LastIndex(rest, "/"); i >= 0 {
			out.Path, out.Name = "/"+rest[:i+1], rest[i+1:]
		}
	case "assumed-role":
		// The session ARN carries the role's name, not its path.
		role, session, ok := strings.Cut(rest, "/")
		if !ok || role == "" || session == "" {
			return ARN{}, fmt.Errorf("%q: expected arn:%s:sts::%s:assumed-role/ROLE/SESSION", s, a.Partition, a.AccountID)
		}
		out.Name, out.Session = role, session
	case "federated-user":
		out.Name, out.Session = rest, rest
	}
	return out, nil
}

// Account is the account field of s, or "" when s is not an ARN.
func Account(s string) string {
	a, err := arn.Parse(s)
	if err != nil {
		return ""
	}
	return a.AccountID
}

// CallerName is what -u (--username-session) uses as the session name: the
// IAM user's name, or the session name of an assumed-role or federated-user
// caller (AWS-SEMANTICS §5). ok is false for other ARNs (the account root).
func CallerName(s string) (name string, ok bool) {
	a, err := Parse(s)
	if err != nil {
		return "", false
	}
	switch a.Type {
	case "user":
		return a.Name, true
	case "assumed-role", "federated-user":
		return a.Session, true
	}
	return "", false
}

// IsAccountID reports whether s is a 12-digit AWS account id.
func IsAccountID(s string) bool {
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
