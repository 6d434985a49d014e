package policy

import (
	"fmt"
	"strings"

	"github.com/rolehop/rolehop/internal/iampolicy"
	"github.com/rolehop/rolehop/internal/plan"
)

// STS actions a chain uses.
const (
	actAssumeRole        = "sts:AssumeRole"
	actTagSession        = "sts:TagSession"
	actSetSourceIdentity = "sts:SetSourceIdentity"
	actWebIdentity       = "sts:AssumeRoleWithWebIdentity"
)

// hopStep writes the documents of hop n (1-based), called by caller.
func hopStep(n int, h plan.Hop, caller Caller, carry carried) (Step, error) {
	role, err := ParseIAMARN(h.RoleARN.Value)
	if err != nil || role.Service != "iam" || role.Type != "role" {
		return Step{}, fmt.Errorf("hop %d: %q is not an IAM role ARN", n, h.RoleARN.Value)
	}
	st := Step{Hop: n, Kind: KindAssumeRole, RoleARN: h.RoleARN.Value, Account: role.Account, Caller: caller.ARN, Role: role, From: caller}
	note := func(format string, args ...any) { st.Notes = append(st.Notes, fmt.Sprintf(format, args...)) }

	trust := iampolicy.Statement{Sid: fmt.Sprintf("RolehopHop%d", n), Effect: "Allow", Principal: caller.principal(), Action: iampolicy.Strings{actAssumeRole}}
	// Session tags: the trust policy must allow sts:TagSession for a hop
	// that passes tags, and for every later hop of a chain with transitive
	// tags, since they are passed on (IAM User Guide, "Passing session tags
	// in AWS STS": "Chaining roles with session tags").
	if len(h.Tags) > 0 || carry.tags {
		trust.Action = append(trust.Action, actTagSession)
	}
	// A source identity persists through role chaining and every later
	// role's trust policy must allow sts:SetSourceIdentity, or AssumeRole
	// fails with "not authorized to perform: sts:SetSourceIdentity" (IAM
	// User Guide, "Monitor and control actions taken with assumed roles":
	// "Source identity with role chaining").
	if h.SourceIdentity.IsSet() || carry.sourceIdentity {
		trust.Action = append(trust.Action, actSetSourceIdentity)
	}
	cond := iampolicy.Conditions{}
	if caller.Kind == CallerSSO {
		cond.Add("ArnLike", "aws:PrincipalArn", caller.ARN)
		note("the caller is permission set %s's role AWSReservedSSO_%s_<hash> in account %s, whose full name is not known: the trust policy names the account and narrows it with aws:PrincipalArn", caller.Name, caller.Name, caller.Account)
	}
	if h.SerialNumber.IsSet() {
		// Both MFA paths (AssumeRole with the code, or a GetSessionToken
		// session) give the session aws:MultiFactorAuthPresent = true.
		cond.Add("Bool", "aws:MultiFactorAuthPresent", "true")
	}
	if h.ExternalID.IsSet() {
		cond.Add("StringEquals", "sts:ExternalId", h.ExternalID.Value)
	}
	if h.SessionNameFromCaller {
		if caller.Kind == CallerUser {
			// ${aws:username} is the IAM user's friendly name; it exists
			// only for IAM users (IAM User Guide, "IAM policy elements:
			// Variables and tags": "Where you can use policy variables").
			cond.Add("StringEquals", "sts:RoleSessionName", "${aws:username}")
		} else {
			note("-u: this hop's caller is not an IAM user: ${aws:username} does not exist in its request, so no sts:RoleSessionName condition is written")
		}
	}
	if h.SourceIdentity.IsSet() {
		cond.Add("StringEquals", "sts:SourceIdentity", h.SourceIdentity.Value)
	}
	for _, t := range h.Tags {
		cond.Add("StringEquals", "aws:RequestTag/"+t.Key, t.Value)
	}
	if len(cond) > 0 {
		trust.Condition = cond
	}
	st.TrustPolicy = iampolicy.Document{Version: iampolicy.Version, Statement: []iampolicy.Statement{trust}}

	if caller.PathUnknown {
		note("the caller ARN is a session of role %s, which does not show the role's path: if the role has one, write it into the principal (arn:%s:iam::%s:role/PATH/%s)", caller.Name, caller.Partition, caller.Account, caller.Name)
	}
	if carry.callerCreated {
		// IAM validates a trust policy's principals when it is saved.
		note("create %s before this role: IAM refuses a trust policy whose principal does not exist (\"Invalid principal in policy\")", caller.ARN)
	}
	if !h.Chained && h.DurationSeconds > plan.ChainedMaxSeconds {
		st.MaxSessionDuration = h.DurationSeconds
		note("the hop asks for %d s: the role's maximum session duration must be at least that (IAM default 3600 s)", h.DurationSeconds)
	}
	permissions(&st, h, caller)
	note(notOwnPermissions)
	return st, nil
}

// permissions fills in the caller's permission policy and where it goes.
func permissions(st *Step, h plan.Hop, caller Caller) {
	if caller.Kind == CallerRoot {
		st.PermissionTarget = "none: the account root user is not limited by IAM policies"
		st.Notes = append(st.Notes, "the caller is the account root user: prefer an IAM user or role, root keys are a risk")
		return
	}
	actions := iampolicy.Strings{actAssumeRole}
	if len(h.Tags) > 0 {
		actions = append(actions, actTagSession)
	}
	if h.SourceIdentity.IsSet() {
		actions = append(actions, actSetSourceIdentity)
	}
	st.PermissionPolicy = &iampolicy.Document{Version: iampolicy.Version, Statement: []iampolicy.Statement{{
		Sid: fmt.Sprintf("RolehopAssumeHop%d", st.Hop), Effect: "Allow", Action: actions, Resource: iampolicy.Strings{st.RoleARN},
	}}}
	switch caller.Kind {
	case CallerUser:
		st.PermissionTarget = fmt.Sprintf("IAM user %s in account %s (inline or attached managed policy)", caller.Name, caller.Account)
	case CallerSSO:
		st.PermissionTarget = fmt.Sprintf("IAM Identity Center permission set %s (inline policy, or a customer managed policy that exists in account %s)", caller.Name, caller.Account)
	default:
		st.PermissionTarget = fmt.Sprintf("IAM role %s in account %s (inline or attached managed policy)", caller.Name, caller.Account)
	}
}

// policyName is the name of the caller's policy for a step.
func (s *Step) policyName() string {
	if s.Kind == KindWebIdentity {
		return ""
	}
	return "rolehop-assume-" + strings.ReplaceAll(s.Role.Name, "/", "-")
}
