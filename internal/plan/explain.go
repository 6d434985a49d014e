package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText prints the plan for people: the source, every hop with each
// parameter and where it came from, then warnings and notes. It prints no
// secret and needs no network.
func (p *Plan) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v, from string) {
		if from == "" {
			// No third cell: tabwriter would pad v with trailing spaces.
			fmt.Fprintf(tw, "  %s\t%s\n", k, v)
			return
		}
		fmt.Fprintf(tw, "  %s\t%s\t(%s)\n", k, v, from)
	}
	if p.Profile.IsSet() {
		fmt.Fprintf(tw, "Profile: %s (from %s)\n", p.Profile.Value, p.Profile.From)
	}
	fmt.Fprintf(tw, "Source: %s\n", p.Source.Describe())
	row("why", p.Source.From, "")
	if a := p.Source.AccountID; a.IsSet() {
		v := a.Value
		if p.Source.Kind == SourceProcess {
			v += " when the process prints no AccountId"
		}
		row("account id", v, a.From)
	}
	if p.Source.Kind == SourceWebIdent {
		row("role", p.Source.WebIdentityRole.Value, p.Source.WebIdentityRole.From)
		row("token", p.Source.WebIdentityTokenFile.Value, p.Source.WebIdentityTokenFile.From)
		row("session name", p.Source.WebIdentitySessionName.Value, p.Source.WebIdentitySessionName.From)
	}
	switch s := p.Source; s.Kind {
	case SourceKeychain:
		row("store", s.Keychain.Store+" ("+s.Keychain.Backend+"), opened only when the keys are needed", "")
		row("index", s.Keychain.Index, "added "+s.Keychain.Added)
	case SourceIMDS:
		row("endpoint", s.IMDSEndpoint, s.IMDSEndpointFrom)
		row("protocol", "IMDSv2 only: a session token first (PUT /latest/api/token), no IMDSv1 fallback", "")
	case SourceContainer:
		row("endpoint", s.ContainerURL, s.ContainerURLFrom)
		switch {
		case s.ContainerTokenFile != "":
			row("token", "read from "+s.ContainerTokenFile+" on every request", s.ContainerTokenFrom)
		case s.ContainerToken != "":
			row("token", "given", s.ContainerTokenFrom)
		default:
			row("token", "none (no Authorization header)", "")
		}
	}
	if sso := p.Source.SSO; sso != nil {
		row("start url", sso.StartURL, sso.From)
		row("sso region", sso.Region, "")
		row("token cache", fmt.Sprintf("~/.aws/sso/cache/<sha1 of %q>.json (shared with the AWS CLI)", sso.TokenKey()), "")
		row("note", "IAM Identity Center credentials are a role session: every hop after them is role chaining (max 1 hour)", "")
	}
	if l := p.Source.Login; l != nil {
		row("login session", l.Session, l.From)
		row("cache file", l.CacheFile+" (shared with the AWS CLI)", l.CacheFrom)
		if l.State != "" {
			row("session", l.State, "")
		}
		row("refreshed by", "the sign-in service in "+l.Region+orEndpoint(l.Endpoint)+", under a lock, when less than 5 minutes are left", "")
	}
	if len(p.Source.Tried) > 0 {
		row("tried first", strings.Join(p.Source.Tried, "; "), "")
	}
	for i, h := range p.Hops {
		title := fmt.Sprintf("Hop %d: AssumeRole %s", i+1, h.RoleARN.Value)
		if h.Chained {
			title += " (role chaining: max 1 hour)"
		}
		fmt.Fprintln(tw, title)
		row("role", h.RoleARN.Value, h.RoleARN.From)
		name := h.SessionName.Value
		if h.SessionNameFromCaller {
			name = "<caller's user name>"
		}
		row("session name", name, h.SessionName.From)
		dur := fmt.Sprintf("%ds", h.DurationSeconds)
		if h.RequestedDuration > 0 {
			dur = fmt.Sprintf("%ds (asked %ds, capped)", h.DurationSeconds, h.RequestedDuration)
		}
		row("duration", dur, h.DurationFrom)
		optional := []struct {
			k string
			s Setting
		}{{"external id", h.ExternalID}, {"mfa serial", h.SerialNumber}, {"source identity", h.SourceIdentity}, {"policy", h.Policy}}
		for _, o := range optional {
			if o.s.IsSet() {
				row(o.k, o.s.Value, o.s.From)
			}
		}
		if h.SerialNumber.IsSet() {
			code, from := "asked on the terminal", ""
			switch {
			case h.TokenCode != "":
				code = "given (--token-code)"
			case h.MFA.Process.IsSet():
				code, from = "printed by "+h.MFA.Process.Value, h.MFA.Process.From
			}
			row("mfa code", code, from)
			path := "directly with MFA (AssumeRole carries the code)"
			if h.MFA.Via == MFAViaSession {
				path = "via an MFA session (GetSessionToken)"
			}
			row("mfa path", path, h.MFA.Reason)
		}
		if len(h.PolicyARNs) > 0 {
			row("policy arns", strings.Join(h.PolicyARNs, ","), h.PolicyARNsFrom)
		}
		if len(h.Tags) > 0 {
			var kv []string
			for _, t := range h.Tags {
				kv = append(kv, t.Key+"="+t.Value)
			}
			row("tags", strings.Join(kv, ","), h.TagsFrom)
		}
		if len(h.TransitiveTagKeys) > 0 {
			row("transitive", strings.Join(h.TransitiveTagKeys, ","), h.TransitiveFrom)
		}
	}
	if len(p.Hops) == 0 {
		fmt.Fprintln(tw, "No role to assume: the source credentials are used as they are.")
	}
	region := "(none: the child gets no AWS_REGION)"
	if p.Region.IsSet() {
		region = p.Region.Value + " (" + p.Region.From + ")"
	}
	fmt.Fprintf(tw, "Region: %s\n", region)
	fmt.Fprintf(tw, "Account: %s\n", p.accountText())
	if len(p.Hops) > 0 {
		endpoint := "the regional AWS endpoint"
		if p.STSEndpoint.IsSet() {
			endpoint = p.STSEndpoint.Value + " (" + p.STSEndpoint.From + ")"
		}
		fmt.Fprintf(tw, "STS: region %s, %s\n", p.STSRegion, endpoint)
	}
	rt := p.Retry
	fmt.Fprintln(tw, "Retries of each AWS call (STS, IAM Identity Center, IAM):")
	row("attempts", fmt.Sprintf("up to %d, the first included", rt.Attempts()), originOrDefault(rt.MaxAttemptsFrom))
	mode := rt.SDKMode()
	if rt.Mode == RetryLegacy {
		mode = "legacy, run as standard (aws-sdk-go-v2 has no legacy mode)"
	}
	row("mode", mode, originOrDefault(rt.ModeFrom))
	row("backoff", fmt.Sprintf("jittered exponential, at most %s", rt.MaxBackoff()), originOrDefault(rt.MaxBackoffFrom))
	row("attempt timeout", rt.AttemptTimeout().String(), originOrDefault(rt.AttemptTimeoutFrom))
	for _, list := range []struct {
		title string
		items []string
	}{{"Warnings", p.Warnings}, {"Notes", p.Notes}} {
		if len(list.items) > 0 {
			fmt.Fprintf(tw, "%s:\n", list.title)
			for _, s := range list.items {
				fmt.Fprintf(tw, "  - %s\n", s)
			}
		}
	}
	return tw.Flush()
}

// accountText says which account the final credentials belong to, as far
// as the plan knows it, and that exec and export pass it on as
// AWS_ACCOUNT_ID (credential-process as AccountId), where the AWS CLI's
// export-credentials prints none: on purpose, since the SDKs read both for
// account-based endpoints.
func (p *Plan) accountText() string {
	const passed = "; passed on as AWS_ACCOUNT_ID (exec, export) and AccountId (credential-process, export --format json), which aws configure export-credentials and its format names do not"
	arnAccount := func(arn string) string {
		if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
			return parts[4]
		}
		return ""
	}
	switch {
	case len(p.Hops) > 0:
		h := p.Hops[len(p.Hops)-1]
		return arnAccount(h.RoleARN.Value) + " (the last role's ARN)" + passed
	case p.Source.Kind == SourceWebIdent:
		return arnAccount(p.Source.WebIdentityRole.Value) + " (the role's ARN)" + passed
	case p.Source.SSO != nil:
		return p.Source.SSO.AccountID + " (sso_account_id)" + passed
	case p.Source.Login != nil:
		return arnAccount(p.Source.Login.Session) + " (the aws login session's, accountId in its cache file)" + passed
	case p.Source.AccountID.IsSet() && p.Source.Kind != SourceProcess:
		return p.Source.AccountID.Value + " (" + p.Source.AccountID.From + ")" + passed
	case p.Source.Kind == SourceProcess || p.Source.Kind == SourceContainer:
		return "as the credentials say (AccountId), when they do" + passed
	}
	return "not known: AWS_ACCOUNT_ID is removed from a child and unset by export (set aws_account_id, or AWS_ACCOUNT_ID with env keys, to pass it on)"
}

// WriteJSON prints the plan as indented JSON with the access key id masked
// and no secret.
func (p *Plan) WriteJSON(w io.Writer) error {
	masked := *p
	masked.Source.AccessKeyID = MaskKeyID(p.Source.AccessKeyID)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(masked)
}

// orEndpoint is " at ENDPOINT" for an overridden endpoint.
func orEndpoint(endpoint string) string {
	if endpoint == "" {
		return ""
	}
	return " at " + endpoint
}

// originOrDefault is from, or FromDefault for a plan built without ResolveRetry.
func originOrDefault(from string) string {
	if from == "" {
		return FromDefault
	}
	return from
}
