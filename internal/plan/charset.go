package plan

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The STS and IAM patterns below are checked by hand rather than with
// regexp: compiling them (the Unicode classes of tag keys above all) cost
// about 7 ms at every start, more than the whole cached credential path.

// wordOr returns a test for ASCII letters, digits, '_' and the extra characters
// (the `[\w…]` classes of the STS API model, where \w is ASCII).
func wordOr(extra string) func(rune) bool {
	return func(r rune) bool {
		return r < utf8.RuneSelf && (r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune(extra, r))
	}
}

var (
	sessionNameRune    = wordOr("+=,.@-")
	externalIDRune     = wordOr("+=,.@:/-")
	serialRune         = wordOr("+=/:,.@-")
	iamResourceNameRun = wordOr("+=,.@/-")
)

// allOf reports whether s has min to max runes, all accepted by ok.
func allOf(s string, min, max int, ok func(rune) bool) bool {
	n := 0
	for _, r := range s {
		if !ok(r) {
			return false
		}
		n++
	}
	return n >= min && n <= max
}

func isDigits(s string, n int) bool {
	return allOf(s, n, n, func(r rune) bool { return '0' <= r && r <= '9' })
}

// validIAMARN checks arn:<partition>:iam::<account>:<kind>/<name> where the
// account is 12 digits (or "aws" when allowAWS, for AWS managed policies).
func validIAMARN(s, kind string, allowAWS bool) bool {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[3] != "" {
		return false
	}
	partition, account, resource := parts[1], parts[4], parts[5]
	if !strings.HasPrefix(partition, "aws") || !allOf(partition[3:], 0, 20, func(r rune) bool { return 'a' <= r && r <= 'z' || r == '-' }) {
		return false
	}
	if !isDigits(account, 12) && !(allowAWS && account == "aws") {
		return false
	}
	name, ok := strings.CutPrefix(resource, kind+"/")
	return ok && allOf(name, 1, 512, iamResourceNameRun)
}

func validRoleARN(s string) bool   { return validIAMARN(s, "role", false) }
func validPolicyARN(s string) bool { return validIAMARN(s, "policy", true) }

// validTagKey: 1–128 of [\p{L}\p{Z}\p{N}_.:/=+\-@] (STS tagKeyType).
func validTagKey(s string) bool {
	return allOf(s, 1, 128, func(r rune) bool {
		return unicode.IsLetter(r) || unicode.In(r, unicode.Z) || unicode.IsNumber(r) || strings.ContainsRune("_.:/=+-@", r)
	})
}
