package policy

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/rolehop/rolehop/internal/iampolicy"
	"github.com/rolehop/rolehop/internal/plan"
)

// GitHub Actions' OIDC issuer and the audience aws-actions and rolehop ask for.
const (
	githubIssuer   = "token.actions.githubusercontent.com"
	githubAudience = "sts.amazonaws.com"
)

// oidc is what the web identity role's trust policy checks.
type oidc struct {
	issuer    string   // host and path, without https://
	audiences []string // aud condition values
	subject   string   // sub condition (StringLike)
	notes     []string
}

// webIdentityStep writes the documents of the web identity role (hop 0)
// and returns that role as the caller of hop 1.
func webIdentityStep(in Input) (Step, Caller, error) {
	src := in.Plan.Source
	arn := src.WebIdentityRole.Value
	role, err := ParseIAMARN(arn)
	if err != nil || role.Service != "iam" || role.Type != "role" {
		return Step{}, Caller{}, fmt.Errorf("web identity role %q is not an IAM role ARN", arn)
	}
	o := oidcOf(in, src)
	provider := fmt.Sprintf("arn:%s:iam::%s:oidc-provider/%s", role.Partition, role.Account, o.issuer)
	cond := iampolicy.Conditions{}
	cond.Add("StringEquals", o.issuer+":aud", o.audiences...)
	cond.Add("StringLike", o.issuer+":sub", o.subject)
	st := Step{
		Hop: 0, Kind: KindWebIdentity, RoleARN: arn, Account: role.Account, Caller: provider, Role: role,
		From: Caller{Kind: CallerOIDC, ARN: provider, Partition: role.Partition, Account: role.Account, Name: o.issuer},
		TrustPolicy: iampolicy.Document{Version: iampolicy.Version, Statement: []iampolicy.Statement{{
			Sid: "RolehopWebIdentity", Effect: "Allow", Principal: &iampolicy.Principal{IDs: map[string]iampolicy.Strings{"Federated": {provider}}},
			Action: iampolicy.Strings{actWebIdentity}, Condition: cond,
		}}},
		// AssumeRoleWithWebIdentity is not signed: the token is the
		// credential (STS API Reference, AssumeRoleWithWebIdentity).
		PermissionTarget: "none: AssumeRoleWithWebIdentity is not signed with AWS credentials, so no permission policy is needed",
	}
	st.Notes = append(o.notes,
		fmt.Sprintf("account %s needs the IAM OIDC identity provider for https://%s: aws iam create-open-id-connect-provider --url https://%s --client-id-list %s", role.Account, o.issuer, o.issuer, strings.Join(o.audiences, ",")),
		notOwnPermissions)
	return st, roleCaller(role, arn), nil
}

// oidcOf finds the issuer, audience and subject of a web identity source.
func oidcOf(in Input, src plan.Source) oidc {
	if src.WebIdentityTokenFile.Value == plan.GitHubOIDC {
		o := oidc{issuer: githubIssuer, audiences: []string{githubAudience}}
		if repo := in.GitHubRepository; repo != "" {
			o.subject = "repo:" + likeLiteral(repo) + ":*"
			o.notes = append(o.notes, fmt.Sprintf("the subject allows every workflow of %s (any branch, tag, pull request or environment): narrow it, e.g. repo:%s:ref:refs/heads/main", repo, repo))
		} else {
			o.subject = "repo:OWNER/REPO:*"
			o.notes = append(o.notes, "GITHUB_REPOSITORY is not set: edit repo:OWNER/REPO:* in the sub condition to your repository")
		}
		return o
	}
	o := oidc{issuer: "OIDC_ISSUER", audiences: []string{"AUDIENCE"}, subject: "SUBJECT"}
	file := src.WebIdentityTokenFile.Value
	iss, aud, sub, err := tokenClaims(in.Token)
	switch {
	case in.TokenError != "":
		o.notes = append(o.notes, fmt.Sprintf("the token file %s could not be read (%s): replace OIDC_ISSUER, AUDIENCE and SUBJECT with your provider's values", file, in.TokenError))
		return o
	case err != nil:
		o.notes = append(o.notes, fmt.Sprintf("the token in %s %v: replace OIDC_ISSUER, AUDIENCE and SUBJECT with your provider's values", file, err))
		return o
	}
	o.notes = append(o.notes, fmt.Sprintf("issuer, audience and subject are read from the token in %s (not verified)", file))
	if h := issuerHost(iss); h != "" {
		o.issuer = h
	} else {
		o.notes = append(o.notes, "the token has no iss claim: replace OIDC_ISSUER with your provider's issuer (host and path)")
	}
	if len(aud) > 0 {
		o.audiences = nil
		for _, a := range aud {
			o.audiences = append(o.audiences, equalsLiteral(a))
		}
	} else {
		o.notes = append(o.notes, "the token has no aud claim: replace AUDIENCE with the client id your provider puts in aud")
	}
	if sub != "" {
		o.subject = likeLiteral(sub)
		o.notes = append(o.notes, "the sub condition allows exactly this token's subject: widen it with * if other subjects should be allowed")
	} else {
		o.notes = append(o.notes, "the token has no sub claim: replace SUBJECT with the subjects to allow")
	}
	return o
}

// issuerHost is an issuer URL without its scheme and final slash, as IAM
// names OIDC providers and condition keys.
func issuerHost(iss string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(iss, "https://"), "http://")
	return strings.TrimRight(s, "/")
}

// tokenClaims decodes a JWT's payload, without verifying it. Errors never
// contain the token.
func tokenClaims(token []byte) (iss string, aud []string, sub string, err error) {
	parts := strings.Split(strings.TrimSpace(string(token)), ".")
	if len(parts) != 3 {
		return "", nil, "", errors.New("is not a JWT (three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", nil, "", errors.New("has a payload that is not base64url")
	}
	var c struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return "", nil, "", errors.New("has a payload that is not a JSON object of string claims")
	}
	if len(c.Aud) > 0 && string(c.Aud) != "null" {
		var one string
		if json.Unmarshal(c.Aud, &one) == nil {
			aud = []string{one}
		} else if json.Unmarshal(c.Aud, &aud) != nil {
			return "", nil, "", errors.New("has an aud claim that is neither a string nor a list of strings")
		}
	}
	return c.Iss, aud, c.Sub, nil
}

// likeLiteral writes s so that StringLike matches it literally: "*", "?"
// and "${" are written as the policy variables ${*}, ${?} and ${$}{ (IAM
// User Guide, "IAM policy elements: Variables and tags": "Special
// characters").
func likeLiteral(s string) string {
	s = equalsLiteral(s)
	return strings.NewReplacer("*", "${*}", "?", "${?}").Replace(s)
}

// equalsLiteral writes "${" as "${$}{" so that IAM does not read a policy
// variable.
func equalsLiteral(s string) string { return strings.ReplaceAll(s, "${", "${$}{") }
