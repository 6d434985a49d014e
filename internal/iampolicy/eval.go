package iampolicy

import (
	"fmt"
	"sort"

	"github.com/rolehop/rolehop/internal/awsarn"
)

// Caller is the principal making a request, as sts:GetCallerIdentity names
// it.
type Caller struct {
	// ARN is an IAM user ARN (arn:aws:iam::ACCT:user/PATH/NAME) or an
	// assumed-role session ARN (arn:aws:sts::ACCT:assumed-role/ROLE/SESSION).
	ARN string
	// RoleARN is, for a role session, the role's ARN with its path when
	// known; "" if unknown.
	RoleARN string
	// Account is the caller's account id.
	Account string
	// UserID is GetCallerIdentity's UserId (AIDA… or AROA…:session); "" if
	// unknown.
	UserID string
}

// kind is the caller ARN's resource type: "user", "assumed-role",
// "federated-user", "root", or "" when the ARN does not parse.
func (c Caller) kind() string {
	a, _ := awsarn.Parse(c.ARN)
	return a.Type
}

// roleName is the role of an assumed-role session ARN.
func (c Caller) roleName() string {
	if a, _ := awsarn.Parse(c.ARN); a.Type == "assumed-role" {
		return a.Name
	}
	return ""
}

// arnResource is the resource field of an ARN, "" when it does not parse.
func arnResource(s string) string {
	a, _ := awsarn.Parse(s)
	return a.Resource
}

// Request is one request to evaluate against a resource-based policy such
// as a role's trust policy: who asks, for which actions (each evaluated
// separately, all must be allowed), with which condition keys.
type Request struct {
	Caller  Caller
	Actions []string
	Context Context
}

// Decision is the outcome of evaluating a policy for a request.
type Decision string

// Decisions.
const (
	Allowed      Decision = "allowed"       // an Allow statement applies and no Deny
	ExplicitDeny Decision = "explicit-deny" // a Deny statement applies
	ImplicitDeny Decision = "implicit-deny" // no statement allows
	CannotTell   Decision = "unknown"       // depends on what rolehop cannot know
)

// Check is the verdict on a statement's principal or action element.
type Check struct {
	Result Tri    `json:"result"`
	Reason string `json:"reason"`
}

// StatementResult explains one statement for one action.
type StatementResult struct {
	Index      int              `json:"index"` // 1-based position in the document
	Sid        string           `json:"sid,omitempty"`
	Effect     string           `json:"effect"`
	Applies    Tri              `json:"applies"`
	Principal  Check            `json:"principal"`
	Action     Check            `json:"action"`
	Conditions []ConditionCheck `json:"conditions,omitempty"`
	// ViaAccount is true when the principal matched only as "any principal
	// of the account" (an account id, :root, or "*"): the caller's own
	// identity policy must then allow the action as well.
	ViaAccount bool `json:"via_account,omitempty"`
}

// Name is "statement 2" or `statement 2 (Sid "X")`.
func (s StatementResult) Name() string {
	if s.Sid != "" {
		return fmt.Sprintf("statement %d (Sid %q)", s.Index, s.Sid)
	}
	return fmt.Sprintf("statement %d", s.Index)
}

// Failures are the reasons the statement does not apply (or cannot be
// told to): the principal, action and condition checks that are not Yes.
func (s StatementResult) Failures() []string {
	var out []string
	if s.Principal.Result != Yes {
		out = append(out, s.Principal.Reason)
	}
	if s.Action.Result != Yes {
		out = append(out, s.Action.Reason)
	}
	for _, c := range s.Conditions {
		if c.Result != Yes {
			out = append(out, c.Reason)
		}
	}
	return out
}

// ActionResult is the decision for one action with every statement's
// verdict.
type ActionResult struct {
	Action     string            `json:"action"`
	Decision   Decision          `json:"decision"`
	Statements []StatementResult `json:"statements"`
}

// Explanation is the evaluation of a document for a request.
type Explanation struct {
	Decision Decision       `json:"decision"`
	Actions  []ActionResult `json:"actions"`
}

// Explain evaluates d for r: per action, whether each statement applies
// and if not exactly why. Explicit Deny wins over Allow; anything that
// depends on an unknown context value is Unknown, never a guess.
func Explain(d *Document, r Request) Explanation {
	if r.Context == nil {
		r.Context = Context{}
	}
	vars := d.Version == Version
	ex := Explanation{Decision: Allowed}
	if len(r.Actions) == 0 {
		ex.Decision = CannotTell
	}
	for _, action := range r.Actions {
		ar := ActionResult{Action: action}
		allow, deny := No, No
		for i, st := range d.Statement {
			sr := explainStatement(i+1, st, action, r, vars)
			ar.Statements = append(ar.Statements, sr)
			switch st.Effect {
			case "Allow":
				allow = or(allow, sr.Applies)
			case "Deny":
				deny = or(deny, sr.Applies)
			}
		}
		switch {
		case deny == Yes:
			ar.Decision = ExplicitDeny
		case deny == Unknown:
			ar.Decision = CannotTell
		case allow == Yes:
			ar.Decision = Allowed
		case allow == Unknown:
			ar.Decision = CannotTell
		default:
			ar.Decision = ImplicitDeny
		}
		ex.Actions = append(ex.Actions, ar)
		ex.Decision = worse(ex.Decision, ar.Decision)
	}
	return ex
}

// worse orders decisions: explicit deny, implicit deny, unknown, allowed.
func worse(a, b Decision) Decision {
	rank := map[Decision]int{Allowed: 0, CannotTell: 1, ImplicitDeny: 2, ExplicitDeny: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func explainStatement(index int, st Statement, action string, r Request, vars bool) StatementResult {
	sr := StatementResult{Index: index, Sid: st.Sid, Effect: st.Effect}
	switch {
	case st.Principal != nil && st.NotPrincipal != nil:
		sr.Principal = Check{No, "the statement has both Principal and NotPrincipal, which IAM does not accept"}
	case st.Principal != nil:
		sr.Principal, sr.ViaAccount = principalCheck(st.Principal, r.Caller)
	case st.NotPrincipal != nil:
		sr.Principal = notPrincipalCheck(st.NotPrincipal, r.Caller)
	default:
		sr.Principal = Check{No, "the statement has no Principal, so it trusts nobody"}
	}
	sr.Action = actionCheck(st, action)
	results := []Tri{sr.Principal.Result, sr.Action.Result}
	for _, op := range st.Condition.Operators() {
		keys := make([]string, 0, len(st.Condition[op]))
		for k := range st.Condition[op] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			cc := evalCondition(op, k, st.Condition[op][k], r.Context, vars)
			sr.Conditions = append(sr.Conditions, cc)
			results = append(results, cc.Result)
		}
	}
	sr.Applies = and(results...)
	if st.Effect != "Allow" && st.Effect != "Deny" {
		sr.Applies = No
		sr.Action = Check{No, fmt.Sprintf("the statement's Effect %q is neither Allow nor Deny", st.Effect)}
	}
	return sr
}

func actionCheck(st Statement, action string) Check {
	matches := func(list Strings) bool {
		for _, a := range list {
			if globPattern(a).match(action, true) {
				return true
			}
		}
		return false
	}
	switch {
	case len(st.Action) > 0 && len(st.NotAction) > 0:
		return Check{No, "the statement has both Action and NotAction, which IAM does not accept"}
	case len(st.Action) > 0:
		if matches(st.Action) {
			return Check{Yes, "Action covers " + action}
		}
		return Check{No, fmt.Sprintf("Action %s does not cover %s", describeValues(st.Action), action)}
	case len(st.NotAction) > 0:
		if matches(st.NotAction) {
			return Check{No, fmt.Sprintf("NotAction %s excludes %s", describeValues(st.NotAction), action)}
		}
		return Check{Yes, "NotAction does not exclude " + action}
	}
	return Check{No, "the statement has no Action"}
}
