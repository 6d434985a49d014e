package iampolicy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rolehop/rolehop/internal/awsarn"
)

// principalCheck matches a Principal element against the caller (IAM User
// Guide, "AWS JSON policy elements: Principal"). viaAccount is true when
// the only match is "any principal of the account" or "*".
func principalCheck(p *Principal, c Caller) (Check, bool) {
	if p.Any {
		return Check{Yes, `Principal "*" trusts everyone`}, true
	}
	var trusted []string
	explicit, account := false, false
	types := make([]string, 0, len(p.IDs))
	for t := range p.IDs {
		types = append(types, t)
	}
	sort.Strings(types)
	var others []string
	for _, typ := range types {
		for _, id := range p.IDs[typ] {
			if typ != "AWS" {
				// Service and Federated principals are assumed through
				// services or AssumeRoleWith{WebIdentity,SAML}, never by an
				// IAM user's or role's AssumeRole.
				others = append(others, fmt.Sprintf("%s %s", strings.ToLower(typ), id))
				continue
			}
			trusted = append(trusted, id)
			switch m := matchAWSPrincipal(id, c); m {
			case matchExplicit:
				explicit = true
			case matchAccount:
				account = true
			}
		}
	}
	switch {
	case explicit:
		return Check{Yes, "Principal trusts " + c.ARN}, false
	case account:
		return Check{Yes, fmt.Sprintf("Principal trusts every principal of account %s", c.Account)}, true
	}
	var msg string
	switch {
	case len(trusted) == 0 && len(others) == 0:
		msg = "Principal lists nobody"
	case len(trusted) > 0:
		msg = fmt.Sprintf("Principal trusts %s, not the caller %s", strings.Join(trusted, ", "), c.ARN)
	default:
		msg = fmt.Sprintf("Principal trusts only %s, not an IAM user or role such as the caller %s", strings.Join(others, ", "), c.ARN)
	}
	for _, id := range trusted {
		if isUniqueID(id) {
			msg += fmt.Sprintf(" (%s is the unique id IAM shows for a deleted user or role: put the principal's ARN back into the trust policy)", id)
			break
		}
	}
	return Check{No, msg}, false
}

type principalMatch int

const (
	matchNone principalMatch = iota
	matchAccount
	matchExplicit
)

// matchAWSPrincipal compares one "AWS" principal identifier with the
// caller. Wildcards other than a lone "*" are not allowed in principals,
// so the comparison is literal.
func matchAWSPrincipal(id string, c Caller) principalMatch {
	id = strings.TrimSpace(id)
	switch {
	case id == "*":
		return matchAccount
	case awsarn.IsAccountID(id):
		return accountMatch(id, c)
	case isUniqueID(id):
		if c.UserID != "" && (c.UserID == id || strings.HasPrefix(c.UserID, id+":")) {
			return matchExplicit
		}
		return matchNone
	}
	res := arnResource(id)
	if res == "" {
		return matchNone
	}
	acct := awsarn.Account(id)
	switch {
	case res == "root" && strings.Contains(id, ":iam::"):
		return accountMatch(acct, c)
	case strings.HasPrefix(res, "role/"):
		// A role ARN trusts the sessions of that role. A session ARN has
		// no role path; role names are unique per account (whatever the
		// path), so account and name decide.
		if c.kind() != "assumed-role" {
			return matchNone
		}
		if acct == c.Account && res[strings.LastIndex(res, "/")+1:] == c.roleName() {
			return matchExplicit
		}
		return matchNone
	case id == c.ARN:
		return matchExplicit
	}
	return matchNone
}

func accountMatch(acct string, c Caller) principalMatch {
	if acct != "" && acct == c.Account {
		return matchAccount
	}
	return matchNone
}

// isUniqueID reports an IAM unique id (AIDA… user, AROA… role), which IAM
// shows in a trust policy whose principal was deleted.
func isUniqueID(s string) bool {
	return (strings.HasPrefix(s, "AIDA") || strings.HasPrefix(s, "AROA")) && !strings.Contains(s, ":") && len(s) >= 16
}

// notPrincipalCheck: the statement applies to every principal not listed.
// A caller is excluded only when each of its identities is listed: the
// account, the user, or for a role session the role and the session (IAM
// User Guide, "AWS JSON policy elements: NotPrincipal").
func notPrincipalCheck(p *Principal, c Caller) Check {
	if p.Any {
		return Check{No, `NotPrincipal "*" excludes everyone`}
	}
	listed := map[string]bool{}
	for _, id := range p.IDs["AWS"] {
		id = strings.TrimSpace(id)
		if awsarn.IsAccountID(id) {
			id = "arn:aws:iam::" + id + ":root"
		}
		listed[id] = true
	}
	root := func() bool {
		for id := range listed {
			if arnResource(id) == "root" && awsarn.Account(id) == c.Account {
				return true
			}
		}
		return false
	}
	need := []struct {
		name string
		ok   bool
	}{{"the account " + c.Account, root()}, {c.ARN, listed[c.ARN]}}
	if c.kind() == "assumed-role" {
		role := c.RoleARN
		ok := role != "" && listed[role]
		if role == "" {
			for id := range listed {
				res := arnResource(id)
				if strings.HasPrefix(res, "role/") && awsarn.Account(id) == c.Account && res[strings.LastIndex(res, "/")+1:] == c.roleName() {
					ok, role = true, id
				}
			}
			if role == "" {
				role = "the role " + c.roleName()
			}
		}
		need = append(need, struct {
			name string
			ok   bool
		}{role, ok})
	}
	var missing []string
	for _, n := range need {
		if !n.ok {
			missing = append(missing, n.name)
		}
	}
	if len(missing) == 0 {
		return Check{No, "NotPrincipal excludes the caller " + c.ARN}
	}
	return Check{Yes, fmt.Sprintf("NotPrincipal does not exclude the caller %s (not listed: %s)", c.ARN, strings.Join(missing, ", "))}
}
