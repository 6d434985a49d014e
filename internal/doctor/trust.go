package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/rolehop/rolehop/internal/awsarn"
	"github.com/rolehop/rolehop/internal/iampolicy"
	"github.com/rolehop/rolehop/internal/plan"
)

// getRole reads the hop's role with the caller's credentials.
func (fc failureContext) getRole(ctx context.Context) (*iamtypes.Role, error) {
	h := fc.plan.Hops[fc.hop]
	if fc.prev == nil {
		return nil, errors.New("no caller credentials")
	}
	if fc.prev.identity != nil && awsarn.Account(h.RoleARN.Value) != fc.prev.identity.Account {
		return nil, errCrossAccount
	}
	res := h.RoleARN.Value[strings.LastIndex(h.RoleARN.Value, "/")+1:]
	out, err := fc.d.iamClient(fc.plan, fc.prev.prov).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(res)})
	if err != nil {
		return nil, err
	}
	return out.Role, nil
}

var errCrossAccount = errors.New("the role is in another account")

// accessDenied explains an AssumeRole AccessDenied: from the role's trust
// policy when the caller can read it, else from what the plan sends.
func (fc failureContext) accessDenied(ctx context.Context, ae awsError) []Finding {
	h := fc.plan.Hops[fc.hop]
	caller := fc.callerName()
	role, err := fc.getRole(ctx)
	if err != nil {
		var nse *iamtypes.NoSuchEntityException
		if errors.As(err, &nse) {
			return []Finding{{Code: CodeRoleNotFound, Severity: SeverityError, Error: ae.String(),
				Problem: fmt.Sprintf("role %s does not exist (iam:GetRole: NoSuchEntity)", h.RoleARN.Value),
				Fix:     fmt.Sprintf("correct the role ARN (%s): check the account id, the role name and its case", fromOr(h.RoleARN.From, "--role-arn"))}}
		}
		why := "the role is in account " + awsarn.Account(h.RoleARN.Value) + ", so its trust policy cannot be read with the caller's credentials"
		if !errors.Is(err, errCrossAccount) {
			detail := oneLine(err.Error())
			if a, ok := fc.apiError(err); ok {
				detail = a.String()
			}
			why = "the caller cannot read the role's trust policy (iam:GetRole: " + detail + ")"
		}
		return []Finding{{Code: CodeAccessDenied, Severity: SeverityError, Error: ae.String(),
			Problem: fmt.Sprintf("%s is not allowed to assume %s, and %s; the likely reasons: %s", caller, h.RoleARN.Value, why, strings.Join(fc.likelyReasons(), "; ")),
			Fix:     fc.permissionFix() + "; otherwise ask the role's owner which condition of its trust policy fails (it is logged in CloudTrail as AssumeRole with errorCode AccessDenied)"}}
	}
	doc, err := iampolicy.Parse(aws.ToString(role.AssumeRolePolicyDocument))
	if err != nil {
		return []Finding{{Code: CodeAccessDenied, Severity: SeverityError, Error: ae.String(),
			Problem: fmt.Sprintf("%s is not allowed to assume %s, and its trust policy cannot be parsed (%v)", caller, h.RoleARN.Value, err),
			Fix:     "check the role's trust policy in IAM"}}
	}
	call := fc.assumeRoleCall()
	ex := iampolicy.Explain(doc, call.Request())
	switch ex.Decision {
	case iampolicy.Allowed:
		return []Finding{{Code: CodeCallerPermission, Severity: SeverityError, Error: ae.String(),
			Problem: fmt.Sprintf("the trust policy of %s allows %s (%s), so the caller's own permissions refuse it: no identity policy of the caller allows %s on the role, or an SCP or permissions boundary denies it",
				h.RoleARN.Value, caller, allowingStatements(ex), strings.Join(call.Actions(), " and ")),
			Fix: fc.permissionFix()}}
	case iampolicy.ExplicitDeny:
		return []Finding{fc.trustFinding(CodeTrustPolicyDeny, ae, ex, "a Deny statement of the trust policy of %s applies to %s")}
	case iampolicy.CannotTell:
		f := fc.trustFinding(CodeTrustPolicyMaybe, ae, ex, "the trust policy of %s allows %s only under conditions rolehop cannot check")
		f.Fix += "; if those hold, " + fc.permissionFix()
		return []Finding{f}
	}
	return []Finding{fc.trustFinding(CodeTrustPolicy, ae, ex, "the trust policy of %s does not allow %s")}
}

// trustFinding lists, per action not allowed, each relevant statement's
// failures, and the fixes they suggest.
func (fc failureContext) trustFinding(code string, ae awsError, ex iampolicy.Explanation, headline string) Finding {
	h := fc.plan.Hops[fc.hop]
	var parts, fixes []string
	seenFix := map[string]bool{}
	addFix := func(s string) {
		if s != "" && !seenFix[s] {
			seenFix[s] = true
			fixes = append(fixes, s)
		}
	}
	for _, a := range ex.Actions {
		if a.Decision == iampolicy.Allowed {
			continue
		}
		for _, s := range relevant(a) {
			parts = append(parts, fmt.Sprintf("%s: %s %s: %s", a.Action, s.Effect, s.Name(), strings.Join(s.Failures(), "; ")))
			for _, fix := range fc.fixesFor(s, a.Action) {
				addFix(fix)
			}
		}
		if len(relevant(a)) == 0 {
			parts = append(parts, a.Action+": the trust policy has no statement")
		}
	}
	if len(fixes) == 0 {
		addFix("change the trust policy of " + h.RoleARN.Value + " or what the hop sends")
	}
	return Finding{Code: code, Severity: SeverityError, Error: ae.String(),
		Problem: fmt.Sprintf(headline, h.RoleARN.Value, fc.callerName()) + " — " + strings.Join(parts, " | "),
		Fix:     strings.Join(fixes, "; ")}
}

// relevant picks the statements worth reporting for an action that is not
// allowed: applying or undecided Deny statements if any; else the Allow
// statements that trust the caller (their conditions are what fail); else
// every Allow statement (none trusts the caller).
func relevant(a iampolicy.ActionResult) []iampolicy.StatementResult {
	var deny, trusting, allow []iampolicy.StatementResult
	for _, s := range a.Statements {
		switch {
		case s.Effect == "Deny" && s.Applies != iampolicy.No:
			deny = append(deny, s)
		case s.Effect == "Allow":
			allow = append(allow, s)
			if s.Principal.Result == iampolicy.Yes {
				trusting = append(trusting, s)
			}
		}
	}
	if a.Decision == iampolicy.ExplicitDeny || a.Decision == iampolicy.CannotTell && len(deny) > 0 {
		return deny
	}
	if len(trusting) > 0 {
		return trusting
	}
	return allow
}

func allowingStatements(ex iampolicy.Explanation) string {
	var names []string
	seen := map[string]bool{}
	for _, a := range ex.Actions {
		for _, s := range a.Statements {
			if s.Effect == "Allow" && s.Applies == iampolicy.Yes && !seen[s.Name()] {
				seen[s.Name()] = true
				names = append(names, s.Name())
			}
		}
	}
	return strings.Join(names, ", ")
}

// fixesFor turns a statement's failures into what to change.
func (fc failureContext) fixesFor(s iampolicy.StatementResult, action string) []string {
	h := fc.plan.Hops[fc.hop]
	where := settingWhere(h, "")
	var out []string
	if s.Principal.Result == iampolicy.No && s.Effect == "Allow" {
		out = append(out, fmt.Sprintf("make the trust policy of %s trust the caller: add %q to its Principal, or start the chain from a principal it trusts", h.RoleARN.Value, fc.principalToTrust()))
	}
	if s.Action.Result == iampolicy.No && s.Effect == "Allow" {
		switch action {
		case "sts:TagSession":
			out = append(out, fmt.Sprintf("add sts:TagSession to the trust policy's Action, or stop sending session tags (session_tags/--tags, %s)", fromOr(h.TagsFrom, where)))
		case "sts:SetSourceIdentity":
			out = append(out, fmt.Sprintf("add sts:SetSourceIdentity to the trust policy's Action, or stop setting source_identity (%s)", fromOr(h.SourceIdentity.From, where)))
		}
	}
	for _, c := range s.Conditions {
		if c.Result == iampolicy.Yes {
			continue
		}
		out = append(out, fc.conditionFix(c, where))
	}
	return out
}

// conditionFix says what to set so that condition c holds.
func (fc failureContext) conditionFix(c iampolicy.ConditionCheck, where string) string {
	h := fc.plan.Hops[fc.hop]
	want := strings.Join(c.Values, " or ")
	key := strings.ToLower(c.Key)
	switch {
	case key == "sts:externalid":
		if h.ExternalID.IsSet() {
			return fmt.Sprintf("the hop's external_id (%s) is not what the trust policy wants (sts:ExternalId %s): correct it", h.ExternalID.From, want)
		}
		return fmt.Sprintf("send the external id: external_id = %s in %s, or --external-id %s", want, where, first(c.Values))
	case key == "aws:multifactorauthpresent" || key == "aws:multifactorauthage":
		if !h.SerialNumber.IsSet() {
			return fmt.Sprintf("the trust policy requires MFA (%s): add mfa_serial = %s to %s (or --serial-number) so the hop sends an MFA code", c.Key, fc.mfaSerialHint(), where)
		}
		return fmt.Sprintf("the trust policy's MFA condition (%s %s) fails although the hop sends an MFA code: check mfa_serial (%s)", c.Operator, c.Key, h.SerialNumber.From)
	case key == "sts:rolesessionname":
		if strings.Contains(want, "${aws:username}") {
			return fmt.Sprintf("the session name must be the IAM user name: use -u (--username-session), or role_session_name = %s in %s", fc.callerUserName(), where)
		}
		return fmt.Sprintf("set the session name the trust policy wants (sts:RoleSessionName %s): role_session_name in %s, or --role-session-name", want, where)
	case key == "sts:sourceidentity":
		return fmt.Sprintf("set the source identity the trust policy wants (sts:SourceIdentity %s): source_identity in %s, or --source-identity", want, where)
	case strings.HasPrefix(key, "aws:requesttag/") || key == "aws:tagkeys" || key == "sts:transitivetagkeys":
		return fmt.Sprintf("send the session tags the trust policy wants (%s %s): session_tags in %s, or --tags", c.Operator, c.Key, where)
	}
	return fmt.Sprintf("the trust policy's condition %s %s = %s does not hold for this caller: start the chain from a principal that satisfies it, or change the condition", c.Operator, c.Key, want)
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// principalToTrust is the ARN a trust policy would name for the caller:
// the user, or the role (not the session) for a role session.
func (fc failureContext) principalToTrust() string {
	if fc.prev == nil || fc.prev.identity == nil {
		return "the caller's ARN"
	}
	arn := fc.prev.identity.ARN
	if fc.hop > 0 && strings.Contains(arn, ":assumed-role/") {
		return fc.plan.Hops[fc.hop-1].RoleARN.Value
	}
	if strings.Contains(arn, ":assumed-role/") {
		seg := strings.Split(arn, "/")
		return fmt.Sprintf("arn:aws:iam::%s:role/%s", fc.prev.identity.Account, seg[1])
	}
	return arn
}

func (fc failureContext) callerUserName() string {
	if fc.prev != nil && fc.prev.identity != nil && strings.Contains(fc.prev.identity.ARN, ":user/") {
		return callerSessionName(fc.prev.identity.ARN)
	}
	return "<your IAM user name>"
}

func (fc failureContext) mfaSerialHint() string {
	if fc.prev != nil && fc.prev.identity != nil && strings.Contains(fc.prev.identity.ARN, ":user/") {
		name, _ := awsarn.CallerName(fc.prev.identity.ARN)
		return fmt.Sprintf("arn:aws:iam::%s:mfa/%s (your MFA device's ARN)", fc.prev.identity.Account, name)
	}
	return "<your MFA device's ARN>"
}

// permissionFix: the caller's identity policy must allow the actions.
func (fc failureContext) permissionFix() string {
	h := fc.plan.Hops[fc.hop]
	actions := strings.Join(fc.assumeRoleCall().Actions(), ", ")
	cmd := fc.d.opts.PolicyCommand
	if target := fc.plan.Profile.Value; target != "" {
		cmd += " " + target
	} else {
		cmd += " <the same flags>"
	}
	cmd += fmt.Sprintf(" --hop %d --document permission", fc.hop+1)
	return fmt.Sprintf("allow %s on %s in an identity policy of %s (`%s` prints the policy to attach), and check SCPs and permissions boundaries",
		actions, h.RoleARN.Value, fc.principalToTrust(), cmd)
}

// likelyReasons lists, without pretending to know, what in the plan a
// trust policy commonly refuses.
func (fc failureContext) likelyReasons() []string {
	h := fc.plan.Hops[fc.hop]
	out := []string{"the trust policy may not trust " + fc.principalToTrust() + " or its account"}
	if h.ExternalID.IsSet() {
		out = append(out, "the external id sent ("+h.ExternalID.From+") may not be the one the trust policy wants")
	} else {
		out = append(out, "the hop sends no external id (no external_id), which a trust policy for third parties may require")
	}
	if !h.SerialNumber.IsSet() {
		out = append(out, "the hop sends no MFA code (no mfa_serial), which a trust policy with aws:MultiFactorAuthPresent refuses")
	}
	name := h.SessionName.Value
	if h.SessionNameFromCaller {
		name = "(the caller's name, -u)"
	}
	out = append(out, fmt.Sprintf("the session name %q (%s) may not be what sts:RoleSessionName requires (e.g. ${aws:username}: use -u)", name, fromOr(h.SessionName.From, "default")))
	if h.SourceIdentity.IsSet() {
		out = append(out, "the hop sets a source identity, so the trust policy must allow sts:SetSourceIdentity")
	}
	if len(h.Tags) > 0 || len(h.TransitiveTagKeys) > 0 {
		out = append(out, "the hop sends session tags, so the trust policy must allow sts:TagSession")
	}
	out = append(out, "the caller's own policies may not allow sts:AssumeRole on the role, or an SCP or permissions boundary denies it")
	return out
}

// assumeRoleCall is the hop's AssumeRole as the trust policy sees it.
func (fc failureContext) assumeRoleCall() iampolicy.AssumeRole {
	h := fc.plan.Hops[fc.hop]
	c := iampolicy.Caller{}
	if fc.prev != nil && fc.prev.identity != nil {
		c = iampolicy.Caller{ARN: fc.prev.identity.ARN, Account: fc.prev.identity.Account, UserID: fc.prev.identity.UserID}
		if fc.hop > 0 {
			c.RoleARN = fc.plan.Hops[fc.hop-1].RoleARN.Value
		}
	}
	call := iampolicy.AssumeRole{
		Caller: c, MFA: mfaState(fc.plan, fc.hop), ExternalID: h.ExternalID.Value,
		SessionName: h.SessionName.Value, SourceIdentity: h.SourceIdentity.Value,
		TransitiveTagKeys: h.TransitiveTagKeys, Now: fc.d.opts.Now(),
	}
	if h.SessionNameFromCaller {
		call.SessionName = callerSessionName(c.ARN)
	}
	for _, t := range h.Tags {
		call.Tags = append(call.Tags, iampolicy.Tag{Key: t.Key, Value: t.Value})
	}
	for j := 0; j < fc.hop; j++ {
		prev := fc.plan.Hops[j]
		if len(prev.TransitiveTagKeys) > 0 {
			call.InheritedTags = true
		}
		if call.SourceIdentity == "" && prev.SourceIdentity.IsSet() {
			// A source identity, once set, stays with every later session.
			call.SourceIdentity = prev.SourceIdentity.Value
		}
	}
	return call
}

// mfaState is aws:MultiFactorAuthPresent in hop i's AssumeRole request.
// Requests signed with long-term keys lack the key; temporary credentials
// carry whether MFA was used to get them (IAM User Guide, AWS global
// condition context keys, aws:MultiFactorAuthPresent).
func mfaState(p *plan.Plan, i int) iampolicy.KeyValue {
	h := p.Hops[i]
	if h.SerialNumber.IsSet() {
		// Direct: the request carries the code; via session: the caller's
		// credentials come from GetSessionToken with the code.
		return iampolicy.KeyValue{State: iampolicy.KeyPresent, Values: []string{"true"}}
	}
	if i > 0 {
		prev := p.Hops[i-1]
		if prev.SerialNumber.IsSet() {
			return iampolicy.KeyValue{State: iampolicy.KeyPresent, Values: []string{"true"}}
		}
		noMFA := longTermKeys(p.Source)
		for j := 0; j < i; j++ {
			noMFA = noMFA && !p.Hops[j].SerialNumber.IsSet()
		}
		if noMFA {
			return iampolicy.KeyValue{State: iampolicy.KeyPresent, Values: []string{"false"},
				Why: "the caller's role session was assumed without MFA"}
		}
		return iampolicy.KeyValue{Why: "rolehop does not know whether the MFA of an earlier step carries over role chaining"}
	}
	if longTermKeys(p.Source) {
		return iampolicy.KeyValue{State: iampolicy.KeyAbsent,
			Why: "the hop sends no MFA code (no mfa_serial) and long-term access keys carry no MFA"}
	}
	kind := string(p.Source.Kind)
	if p.Source.Kind == plan.SourceEnv || p.Source.Kind == plan.SourceStatic {
		kind = "session-credentials"
	}
	return iampolicy.KeyValue{Why: "whether the " + kind + " source's credentials were obtained with MFA is unknown"}
}

func longTermKeys(s plan.Source) bool { return s.LongTermKeys() }
