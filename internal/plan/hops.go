package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// STS limits, from the AssumeRole API model (AWS-SEMANTICS §4).
const (
	// DefaultDurationSeconds is what the AWS CLI gets when it sends no
	// DurationSeconds; rolehop sends it explicitly.
	DefaultDurationSeconds = 3600
	// ChainedMaxSeconds is the cap AWS puts on a session assumed with role
	// credentials ("role chaining"). Source: IAM User Guide, "Role chaining";
	// STS AssumeRole DurationSeconds documentation.
	ChainedMaxSeconds = 3600
	minDuration       = 900
	maxDuration       = 43200
	maxPolicyChars    = 2048
	maxPolicyARNs     = 10
	maxTags           = 50
	// MFASessionSeconds is what rolehop asks of GetSessionToken: the STS
	// default for IAM users (12 hours), so one code lasts a working day.
	MFASessionSeconds = 43200
)

// finishHops validates every hop, fills in defaults and applies the
// role-chaining cap.
func (r *resolver) finishHops(raws []rawHop) error {
	prevName := Setting{}
	if src := r.plan.Source; src.Kind == SourceWebIdent {
		prevName = Setting{src.WebIdentitySessionName.Value, "carried from the web identity session"}
	}
	prevFromCaller := false
	for i, raw := range raws {
		last := i == len(raws)-1
		h := Hop{Profile: raw.profile, RoleARN: raw.roleARN}
		label := hopLabel(i, raw)
		if !validRoleARN(h.RoleARN.Value) {
			return errorf("%s: invalid role ARN %q (%s): expected arn:aws:iam::123456789012:role/NAME", label, h.RoleARN.Value, h.RoleARN.From)
		}
		_, known := r.plan.Source.Temporary()
		h.Chained = i > 0 || r.plan.Source.RoleSession()
		if i == 0 && !known {
			r.note(fmt.Sprintf("%s: the source (%s) may hand out role credentials; if it does, AWS caps this hop at 1 hour", label, r.plan.Source.Kind))
		}

		if err := r.sessionName(&h, raw, last, i, prevName, prevFromCaller); err != nil {
			return err
		}
		prevName, prevFromCaller = h.SessionName, h.SessionNameFromCaller

		if err := r.duration(&h, raw, label); err != nil {
			return err
		}
		if err := validateOptional(raw, label); err != nil {
			return err
		}
		h.ExternalID, h.SerialNumber, h.SourceIdentity = raw.externalID, raw.serial, raw.sourceIdent
		if last && r.req.Flags.TokenCode != "" {
			if !isDigits(r.req.Flags.TokenCode, 6) {
				return errorf("--token-code must be exactly 6 digits (the code your MFA device shows now)")
			}
			if !h.SerialNumber.IsSet() {
				return errorf("--token-code needs an MFA device: add --serial-number or mfa_serial to the profile")
			}
			h.TokenCode = Secret(r.req.Flags.TokenCode)
		}
		var err error
		if h.Policy, err = r.policy(raw.policy, label); err != nil {
			return err
		}
		if h.PolicyARNs, err = policyARNs(raw.policyARNs, label); err != nil {
			return err
		}
		h.PolicyARNsFrom = raw.policyARNs.From
		if h.Tags, err = parseTags(raw.tags, label); err != nil {
			return err
		}
		h.TagsFrom = raw.tags.From
		h.TransitiveTagKeys = splitList(raw.transitive.Value)
		h.TransitiveFrom = raw.transitive.From
		if err := checkTransitive(h, label); err != nil {
			return err
		}
		if h.SerialNumber.IsSet() {
			h.MFA = r.mfaPath(h, i, raw)
			if h.MFA.Via == MFAViaSession {
				r.plan.MFASessionSeconds = MFASessionSeconds
			}
		}
		r.plan.Hops = append(r.plan.Hops, h)
	}
	return nil
}

func hopLabel(i int, raw rawHop) string {
	if raw.profile != "" {
		return fmt.Sprintf("hop %d (profile %q)", i+1, raw.profile)
	}
	return fmt.Sprintf("hop %d", i+1)
}

// sessionName decides a hop's RoleSessionName. Precedence: explicit (flag
// or role_session_name) > AWS_ROLE_SESSION_NAME (last hop) > -u (first hop,
// read at run time) > the previous hop's name (so one person's chain keeps
// one name in CloudTrail) > "rolehop-<local user>".
func (r *resolver) sessionName(h *Hop, raw rawHop, last bool, i int, prev Setting, prevFromCaller bool) error {
	switch {
	case raw.sessionName.IsSet():
		h.SessionName = raw.sessionName
	case last && r.env("AWS_ROLE_SESSION_NAME") != "":
		h.SessionName = Setting{r.env("AWS_ROLE_SESSION_NAME"), "env AWS_ROLE_SESSION_NAME"}
	case i == 0 && r.req.UsernameSession:
		h.SessionName = Setting{"", "-u: the caller's user name, read with sts:GetCallerIdentity"}
		h.SessionNameFromCaller = true
		return nil
	case i > 0 && prevFromCaller:
		h.SessionName = Setting{"", "carried from hop 1 (the caller's user name)"}
		h.SessionNameFromCaller = true
		return nil
	case i > 0:
		h.SessionName = Setting{prev.Value, fmt.Sprintf("carried from hop %d", i)}
		return nil
	case prev.IsSet():
		h.SessionName = prev
		return nil
	default:
		user := r.req.LocalUser
		name, _ := SanitizeSessionName("rolehop-" + user)
		if user == "" || len(name) < 2 {
			name = "rolehop"
		}
		h.SessionName = Setting{name, "default: rolehop-<local user>"}
		return nil
	}
	clean, err := SanitizeSessionName(h.SessionName.Value)
	if err != nil {
		return errorf("role session name %q (%s) %v", h.SessionName.Value, h.SessionName.From, err)
	}
	if clean != h.SessionName.Value {
		r.plan.Warnings = append(r.plan.Warnings, fmt.Sprintf("role session name %q (%s) is not valid for STS: using %q", h.SessionName.Value, h.SessionName.From, clean))
		h.SessionName.Value = clean
	}
	return nil
}

// SanitizeSessionName makes name valid as an STS RoleSessionName: 2–64
// characters of [\w+=,.@-]. Other characters become '-', and the name is cut
// at 64 characters. A name with fewer than 2 allowed characters cannot be
// made valid and returns an error.
func SanitizeSessionName(name string) (string, error) {
	var b strings.Builder
	valid := 0
	for _, c := range name {
		if sessionNameRune(c) {
			b.WriteRune(c)
			valid++
		} else {
			b.WriteByte('-')
		}
	}
	out := b.String()
	if len(out) > 64 {
		out = out[:64]
	}
	if valid < 2 {
		return "", fmt.Errorf("cannot be made valid: STS needs 2 to 64 characters of letters, digits and + = , . @ _ -")
	}
	return out, nil
}

// duration applies the default, validates the range, and caps chained hops.
func (r *resolver) duration(h *Hop, raw rawHop, label string) error {
	h.DurationSeconds, h.DurationFrom = DefaultDurationSeconds, "default, like the AWS CLI"
	if raw.duration.IsSet() {
		n, err := strconv.Atoi(raw.duration.Value)
		if err != nil || n < minDuration || n > maxDuration {
			return errorf("%s: duration %q (%s) must be a whole number of seconds from %d to %d", label, raw.duration.Value, raw.duration.From, minDuration, maxDuration)
		}
		h.DurationSeconds, h.DurationFrom = n, raw.duration.From
	}
	if h.Chained && h.DurationSeconds > ChainedMaxSeconds {
		h.RequestedDuration = h.DurationSeconds
		h.DurationSeconds = ChainedMaxSeconds
		r.plan.Warnings = append(r.plan.Warnings, fmt.Sprintf("%s: duration %ds (%s) capped to %ds: AWS limits a role assumed with role credentials (role chaining) to 1 hour", label, h.RequestedDuration, h.DurationFrom, ChainedMaxSeconds))
	}
	return nil
}

func validateOptional(raw rawHop, label string) error {
	if v := raw.externalID; v.IsSet() && !allOf(v.Value, 2, 1224, externalIDRune) {
		return errorf("%s: external id %q (%s) must be 2 to 1224 characters of letters, digits and + = , . @ : / -", label, v.Value, v.From)
	}
	if v := raw.serial; v.IsSet() && !allOf(v.Value, 9, 256, serialRune) {
		return errorf("%s: MFA serial %q (%s) must be an MFA device ARN (arn:aws:iam::123456789012:mfa/NAME) or a hardware serial", label, v.Value, v.From)
	}
	if v := raw.sourceIdent; v.IsSet() && (!allOf(v.Value, 2, 64, sessionNameRune) || strings.HasPrefix(strings.ToLower(v.Value), "aws:")) {
		return errorf("%s: source identity %q (%s) must be 2 to 64 characters of letters, digits and + = , . @ _ - and not start with \"aws:\"", label, v.Value, v.From)
	}
	return nil
}

// policy reads an inline session policy (JSON or file://PATH), checks it is
// JSON, and compacts it: the 2,048-character STS limit counts whitespace.
func (r *resolver) policy(s Setting, label string) (Setting, error) {
	if !s.IsSet() {
		return s, nil
	}
	doc := []byte(s.Value)
	if path, ok := strings.CutPrefix(s.Value, "file://"); ok {
		if r.req.ReadFile == nil {
			return s, errorf("%s: cannot read policy file %s", label, path)
		}
		b, err := r.req.ReadFile(path)
		if err != nil {
			return s, errorf("%s: cannot read session policy (%s): %v", label, s.From, err)
		}
		doc = b
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, doc); err != nil {
		return s, errorf("%s: session policy (%s) is not valid JSON: %v", label, s.From, err)
	}
	if buf.Len() > maxPolicyChars {
		return s, errorf("%s: session policy (%s) is %d characters after compacting; STS allows %d", label, s.From, buf.Len(), maxPolicyChars)
	}
	return Setting{buf.String(), s.From}, nil
}

func policyARNs(s Setting, label string) ([]string, error) {
	arns := splitList(s.Value)
	if len(arns) > maxPolicyARNs {
		return nil, errorf("%s: %d policy ARNs (%s); STS allows at most %d", label, len(arns), s.From, maxPolicyARNs)
	}
	for _, a := range arns {
		if !validPolicyARN(a) {
			return nil, errorf("%s: invalid policy ARN %q (%s): expected arn:aws:iam::ACCOUNT:policy/NAME", label, a, s.From)
		}
	}
	return arns, nil
}

// parseTags parses "Key=Value,Key2=Value2".
func parseTags(s Setting, label string) ([]Tag, error) {
	var tags []Tag
	seen := map[string]bool{}
	for _, item := range splitList(s.Value) {
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !validTagKey(k) {
			return nil, errorf("%s: session tag %q (%s) must look like Key=Value (key: 1 to 128 letters, digits, spaces and _ . : / = + - @)", label, item, s.From)
		}
		if utf8.RuneCountInString(v) > 256 {
			return nil, errorf("%s: session tag %q (%s) has a value longer than 256 characters", label, k, s.From)
		}
		if seen[strings.ToLower(k)] {
			return nil, errorf("%s: session tag %q (%s) is given twice (tag keys are case-insensitive)", label, k, s.From)
		}
		seen[strings.ToLower(k)] = true
		tags = append(tags, Tag{k, v})
	}
	if len(tags) > maxTags {
		return nil, errorf("%s: %d session tags (%s); STS allows at most %d", label, len(tags), s.From, maxTags)
	}
	return tags, nil
}

func checkTransitive(h Hop, label string) error {
	for _, k := range h.TransitiveTagKeys {
		found := false
		for _, t := range h.Tags {
			found = found || strings.EqualFold(t.Key, k)
		}
		if !found {
			return errorf("%s: transitive tag key %q (%s) is not one of the session tags", label, k, h.TransitiveFrom)
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// mfaPath decides how hop i uses its MFA device. A code is asked once per
// GetSessionToken session when that is possible and does not shorten the
// hop; otherwise AssumeRole carries the code itself. STS rules: only
// long-term keys may call GetSessionToken, and a role assumed with its
// session is capped at 1 hour like role chaining (AWS-SEMANTICS §5).
func (r *resolver) mfaPath(h Hop, i int, raw rawHop) MFAPath {
	m := MFAPath{Via: MFADirect}
	switch {
	case r.req.MFAProcess != "":
		m.Process = Setting{r.req.MFAProcess, "--mfa-process"}
	case raw.mfaProcess.IsSet():
		m.Process = raw.mfaProcess
	case r.env("ROLEHOP_MFA_PROCESS") != "":
		m.Process = Setting{r.env("ROLEHOP_MFA_PROCESS"), "env ROLEHOP_MFA_PROCESS"}
	}
	temporary, known := r.plan.Source.Temporary()
	switch {
	case h.SerialNumber.From == "--serial-number":
		m.Reason = "--serial-number was given: AssumeRole carries the code, as with aws sts assume-role (set mfa_serial in a profile to share one MFA session)"
	case i > 0:
		m.Reason = "the caller is a role session, which cannot call GetSessionToken: AssumeRole carries the code"
	case !known || temporary:
		m.Reason = "the source credentials are not long-term keys, which GetSessionToken needs: AssumeRole carries the code"
	case h.DurationSeconds > ChainedMaxSeconds:
		m.Reason = fmt.Sprintf("the hop asks for %ds; a role assumed with an MFA session is capped at 1 hour, so the role is assumed directly from the long-term keys with the code", h.DurationSeconds)
	default:
		m.Via = MFAViaSession
		m.Reason = "one code opens a 12-hour MFA session (GetSessionToken) shared by every profile with the same keys and serial; the role session lasts at most 1 hour and is refreshed from it without asking again"
	}
	return m
}
