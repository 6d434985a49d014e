// Package policy writes the IAM policies a chain needs (`rolehop policy`):
// for each hop, the trust policy of the role and the permission policy of
// its caller, as IAM JSON, CloudFormation YAML or Terraform HCL. It is pure:
// a resolved plan and the caller's identity in, documents out; the CLI does
// the reading and the one optional sts:GetCallerIdentity.
package policy

import (
	"fmt"
	"strconv"

	"github.com/rolehop/rolehop/internal/awsarn"
	"github.com/rolehop/rolehop/internal/iampolicy"
	"github.com/rolehop/rolehop/internal/plan"
)

// Step kinds.
const (
	KindAssumeRole  = "assume-role"
	KindWebIdentity = "web-identity"
)

// Input is everything the generator needs.
type Input struct {
	Plan *plan.Plan
	// CallerARN is the identity of the source credentials (from
	// --caller-arn or sts:GetCallerIdentity). Required unless the source is
	// IAM Identity Center or web identity, whose caller the plan names.
	CallerARN string
	// GitHubRepository is GITHUB_REPOSITORY (OWNER/REPO) for a
	// --web-identity github source; empty writes a placeholder.
	GitHubRepository string
	// Token is the content of a web identity token file, decoded (not
	// verified) for its iss, aud and sub claims; it is never printed.
	// TokenError says why the file could not be read.
	Token      []byte
	TokenError string
}

// Result is the documents for a whole chain.
type Result struct {
	Steps []Step `json:"steps"`
}

// Step is the documents for one role the chain assumes.
type Step struct {
	// Hop is the hop number (1 = first AssumeRole); 0 is the web identity
	// role of a web identity source.
	Hop     int    `json:"hop"`
	Kind    string `json:"kind"`
	RoleARN string `json:"role_arn"`
	Account string `json:"account"`
	// Caller is the principal that calls STS for this step: an ARN, an
	// ArnLike pattern (IAM Identity Center) or an OIDC provider ARN.
	Caller      string             `json:"caller"`
	TrustPolicy iampolicy.Document `json:"trust_policy"`
	// PermissionPolicy is absent when the caller needs none (web identity,
	// account root).
	PermissionPolicy *iampolicy.Document `json:"permission_policy,omitempty"`
	PermissionTarget string              `json:"permission_target"`
	Notes            []string            `json:"notes,omitempty"`

	// Role is the role ARN's parts and From the caller, for the output
	// formats.
	Role awsarn.ARN `json:"-"`
	From Caller     `json:"-"`
	// MaxSessionDuration is the role's MaxSessionDuration this hop needs;
	// 0 when the IAM default (3600 s) is enough.
	MaxSessionDuration int `json:"-"`
}

// Find returns the step with hop number n.
func (r *Result) Find(n int) (*Step, bool) {
	for i := range r.Steps {
		if r.Steps[i].Hop == n {
			return &r.Steps[i], true
		}
	}
	return nil, false
}

// Hops lists the hop numbers of the steps, for error messages.
func (r *Result) Hops() []string {
	out := make([]string, len(r.Steps))
	for i, s := range r.Steps {
		out[i] = strconv.Itoa(s.Hop)
	}
	return out
}

// notOwnPermissions is on every step: the output is only about assuming.
const notOwnPermissions = "these documents only let the caller assume the role; what the role may do (its own permission policies) is not part of this output"

// Generate writes the documents for every step of in.Plan.
func Generate(in Input) (*Result, error) {
	p := in.Plan
	if len(p.Hops) == 0 && p.Source.Kind != plan.SourceWebIdent {
		return nil, fmt.Errorf("the chain assumes no role (its source is %s): there is no role to write a policy for; name a role profile or add --role-arn", p.Source.Describe())
	}
	res := &Result{}
	var caller Caller
	var carry carried
	switch p.Source.Kind {
	case plan.SourceSSO:
		role, err := ParseIAMARN(p.Hops[0].RoleARN.Value)
		if err != nil {
			return nil, err
		}
		caller = ssoCaller(p.Source.SSO, role.Partition)
	case plan.SourceWebIdent:
		st, c, err := webIdentityStep(in)
		if err != nil {
			return nil, err
		}
		res.Steps = append(res.Steps, st)
		caller = c
		carry.callerCreated = true
	default:
		if in.CallerARN == "" {
			return nil, fmt.Errorf("the caller of hop 1 (%s) is not known: pass --caller-arn ARN", p.Source.Describe())
		}
		c, err := ParseCaller(in.CallerARN)
		if err != nil {
			return nil, err
		}
		caller = c
	}
	for i, h := range p.Hops {
		st, err := hopStep(i+1, h, caller, carry)
		if err != nil {
			return nil, err
		}
		res.Steps = append(res.Steps, st)
		carry.tags = carry.tags || len(h.TransitiveTagKeys) > 0
		carry.sourceIdentity = carry.sourceIdentity || h.SourceIdentity.IsSet()
		carry.callerCreated = true
		caller = roleCaller(st.Role, h.RoleARN.Value)
	}
	return res, nil
}

// carried is what earlier hops pass on to later ones.
type carried struct {
	tags           bool // an earlier hop set transitive tag keys
	sourceIdentity bool // an earlier hop set a source identity
	callerCreated  bool // the caller is a role this output creates
}

// roleCaller is the caller of the hop after a role: that role, exactly.
func roleCaller(role awsarn.ARN, arn string) Caller {
	return Caller{Kind: CallerRole, ARN: arn, Partition: role.Partition, Account: role.Account, Name: role.Name, Path: role.Path}
}

// ssoCaller is an IAM Identity Center permission set's role. Its name is
// AWSReservedSSO_<permission set>_<hash> and its path
// /aws-reserved/sso.amazonaws.com/ (with the region for sets in other
// regions), so a trust policy trusts the account and narrows it with
// aws:PrincipalArn. Source: IAM Identity Center User Guide, "Referencing
// permission sets in resource policies, Amazon EKS cluster configuration
// maps, and AWS KMS key policies". In ArnLike, "*" also matches "/", so one
// pattern covers both paths.
func ssoCaller(s *plan.SSO, partition string) Caller {
	pattern := fmt.Sprintf("arn:%s:iam::%s:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_%s_*", partition, s.AccountID, s.RoleName)
	return Caller{Kind: CallerSSO, ARN: pattern, Partition: partition, Account: s.AccountID, Name: s.RoleName, Path: "/aws-reserved/sso.amazonaws.com/"}
}

// principal is the Principal element that names c.
func (c Caller) principal() *iampolicy.Principal {
	if c.Kind == CallerSSO {
		return iampolicy.AWSPrincipal(fmt.Sprintf("arn:%s:iam::%s:root", c.Partition, c.Account))
	}
	return iampolicy.AWSPrincipal(c.ARN)
}
