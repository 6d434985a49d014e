package iampolicy

import (
	"sort"
	"strconv"
	"time"

	"github.com/rolehop/rolehop/internal/awsarn"
)

// Tag is one session tag of an AssumeRole request.
type Tag struct {
	Key, Value string
}

// AssumeRole describes one sts:AssumeRole call, to be explained against
// the role's trust policy.
type AssumeRole struct {
	Caller Caller
	// MFA is aws:MultiFactorAuthPresent. Requests made with long-term keys
	// do not carry the key at all (KeyAbsent); temporary credentials carry
	// "true" or "false"; for credentials of unknown origin it is unknown.
	MFA KeyValue
	// ExternalID, SourceIdentity: "" means the request does not send one.
	ExternalID     string
	SourceIdentity string
	// SessionName is the RoleSessionName; "" means unknown.
	SessionName string
	// Tags and TransitiveTagKeys are the session tags the hop sends.
	Tags              []Tag
	TransitiveTagKeys []string
	// InheritedTags is true when an earlier hop passed transitive tags, so
	// the request's tags are not known completely.
	InheritedTags bool
	// Now, when set, gives aws:CurrentTime and aws:EpochTime.
	Now time.Time
}

// Actions are the actions the call needs allowed: sts:AssumeRole, plus
// sts:TagSession when it sends session tags and sts:SetSourceIdentity when
// it sets a source identity (IAM User Guide, "Passing session tags in
// AWS STS" and "Monitor and control actions taken with assumed roles").
func (a AssumeRole) Actions() []string {
	out := []string{"sts:AssumeRole"}
	if len(a.Tags) > 0 || len(a.TransitiveTagKeys) > 0 {
		out = append(out, "sts:TagSession")
	}
	if a.SourceIdentity != "" {
		out = append(out, "sts:SetSourceIdentity")
	}
	return out
}

// Request is the request the trust policy sees.
func (a AssumeRole) Request() Request {
	c := a.Caller
	ctx := Context{}
	ctx.Set("aws:PrincipalAccount", c.Account)
	switch c.kind() {
	case "user":
		user, _ := awsarn.Parse(c.ARN)
		ctx.Set("aws:username", user.Name)
		ctx.Set("aws:PrincipalType", "User")
		ctx.Set("aws:PrincipalArn", c.ARN)
	case "assumed-role":
		ctx.SetAbsent("aws:username", "the caller is a role session, which has no aws:username")
		ctx.Set("aws:PrincipalType", "AssumedRole")
		// aws:PrincipalArn of a role session is the role's ARN (with its
		// path), not the session's.
		if c.RoleARN != "" {
			ctx.Set("aws:PrincipalArn", c.RoleARN)
		} else {
			ctx.SetUnknown("aws:PrincipalArn", "the caller's role ARN (with its path) is not known")
		}
	case "root":
		ctx.SetAbsent("aws:username", "the caller is the account root user")
		ctx.Set("aws:PrincipalType", "Account")
		ctx.Set("aws:PrincipalArn", c.ARN)
	default:
		ctx.SetUnknown("aws:username", "the caller's kind is not known")
	}
	if c.UserID != "" {
		ctx.Set("aws:userid", c.UserID)
	}
	ctx["aws:multifactorauthpresent"] = a.MFA
	if a.MFA.State == KeyAbsent {
		ctx.SetAbsent("aws:MultiFactorAuthAge", a.MFA.Why)
	}
	if a.ExternalID != "" {
		ctx.Set("sts:ExternalId", a.ExternalID)
	} else {
		ctx.SetAbsent("sts:ExternalId", "the hop sends no external id")
	}
	if a.SessionName != "" {
		ctx.Set("sts:RoleSessionName", a.SessionName)
	} else {
		ctx.SetUnknown("sts:RoleSessionName", "the session name is decided at run time")
	}
	if a.SourceIdentity != "" {
		ctx.Set("sts:SourceIdentity", a.SourceIdentity)
	} else {
		ctx.SetAbsent("sts:SourceIdentity", "the hop sets no source identity")
	}
	switch {
	case a.InheritedTags:
		ctx.SetUnknown("aws:TagKeys", "an earlier hop passes transitive session tags")
		for _, t := range a.Tags {
			ctx.Set("aws:RequestTag/"+t.Key, t.Value)
		}
	case len(a.Tags) == 0:
		ctx.SetAbsent("aws:TagKeys", "the hop sends no session tags")
	default:
		keys := make([]string, 0, len(a.Tags))
		for _, t := range a.Tags {
			keys = append(keys, t.Key)
			ctx.Set("aws:RequestTag/"+t.Key, t.Value)
		}
		sort.Strings(keys)
		ctx.Set("aws:TagKeys", keys...)
	}
	if len(a.TransitiveTagKeys) > 0 {
		ctx.Set("sts:TransitiveTagKeys", a.TransitiveTagKeys...)
	} else {
		ctx.SetAbsent("sts:TransitiveTagKeys", "the hop marks no session tag transitive")
	}
	if !a.Now.IsZero() {
		ctx.Set("aws:CurrentTime", a.Now.UTC().Format(time.RFC3339))
		ctx.Set("aws:EpochTime", strconv.FormatInt(a.Now.Unix(), 10))
	}
	return Request{Caller: c, Actions: a.Actions(), Context: ctx}
}
