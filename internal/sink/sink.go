// Package sink is where final credentials go: environment variables for a
// child process (Run, ChildEnv), shell exports (WriteExport) and the
// credential_process JSON document (ProcessJSON).
//
// The package only consumes aws.Credentials; it never fetches or refreshes
// them. Values are secrets: no error produced here contains a credential value.
package sink

import (
	"runtime"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Environment variable names written by Vars.
const (
	envAccessKeyID      = "AWS_ACCESS_KEY_ID"
	envSecretAccessKey  = "AWS_SECRET_ACCESS_KEY"
	envSessionToken     = "AWS_SESSION_TOKEN"
	envCredentialExpiry = "AWS_CREDENTIAL_EXPIRATION"
	envAccountID        = "AWS_ACCOUNT_ID"
	envRegion           = "AWS_REGION"
	envDefaultRegion    = "AWS_DEFAULT_REGION"
)

// expirationLayout is RFC 3339 in UTC with a literal "Z" and whole seconds:
// Go's processcreds needs an offset, and botocore's dateutil parse needs one
// to compare with an aware datetime.
const expirationLayout = "2006-01-02T15:04:05Z"

// formatExpiration renders t as expirationLayout in UTC.
func formatExpiration(t time.Time) string {
	return t.UTC().Format(expirationLayout)
}

// Formats returns the export formats accepted by WriteExport, in the order
// help text should list them: rolehop's own formats (the first one is the
// default), then the names of `aws configure export-credentials --format`
// that rolehop does not already use (CLIFormats). Each call returns a new
// slice.
func Formats() []string {
	return append([]string{"sh", "fish", "powershell", "cmd", "dotenv", "json", "github"}, CLIFormats()...)
}

// Var is one environment assignment.
type Var struct {
	Name  string
	Value string
}

// Vars returns the ordered environment assignments for creds:
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (when there is a
// token), AWS_CREDENTIAL_EXPIRATION (RFC 3339 UTC with "Z", when
// creds.CanExpire), AWS_ACCOUNT_ID (when creds.AccountID is known), then
// AWS_REGION and AWS_DEFAULT_REGION when region is not empty.
//
// AWS_ACCOUNT_ID is set because botocore (EnvProvider) and aws-sdk-go-v2
// (config.NewEnvConfig) read it together with the env keys as the
// credentials' account, for account-based endpoints: a child given the keys
// this way uses the same endpoints as one that resolves the profile itself
// (both SDKs take the account of assumed-role credentials from the
// AssumedRoleUser ARN). `aws configure export-credentials` does not print
// it, and rolehop's formats under its names (CLIFormats) do not either.
func Vars(creds aws.Credentials, region string) []Var {
	vars := make([]Var, 0, 7)
	vars = append(vars,
		Var{envAccessKeyID, creds.AccessKeyID},
		Var{envSecretAccessKey, creds.SecretAccessKey},
	)
	if creds.SessionToken != "" {
		vars = append(vars, Var{envSessionToken, creds.SessionToken})
	}
	if creds.CanExpire {
		vars = append(vars, Var{envCredentialExpiry, formatExpiration(creds.Expires)})
	}
	if creds.AccountID != "" {
		vars = append(vars, Var{envAccountID, creds.AccountID})
	}
	if region != "" {
		vars = append(vars, Var{envRegion, region}, Var{envDefaultRegion, region})
	}
	return vars
}

// OverridingVars returns the names of the variables that would override or
// confuse the credentials set by Vars, so ChildEnv removes them from a
// child's environment:
//
//   - AWS_PROFILE, AWS_DEFAULT_PROFILE: profile selection, which wins over env
//     keys in tools that pass the profile explicitly;
//   - AWS_SECURITY_TOKEN: botocore reads it before AWS_SESSION_TOKEN;
//   - AWS_SESSION_EXPIRATION: the legacy expiry name some tools read;
//   - AWS_ACCESS_KEY, AWS_SECRET_KEY: aws-sdk-go-v2's aliases of the key vars;
//   - AWS_ACCOUNT_ID: read by botocore and the Go SDK together with the env
//     keys (account-based endpoints); a stale one names another account, so
//     it is removed and set again by Vars only when the account is known;
//   - AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
//     AWS_CONTAINER_AUTHORIZATION_TOKEN, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE:
//     container credentials;
//   - AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME: web
//     identity from the environment.
//
// Exports unset only the subset that is safe to drop from the user's shell
// (see WriteExport). Each call returns a new slice.
func OverridingVars() []string {
	return []string{
		"AWS_PROFILE",
		"AWS_DEFAULT_PROFILE",
		"AWS_SECURITY_TOKEN",
		"AWS_SESSION_EXPIRATION",
		"AWS_ACCESS_KEY",
		"AWS_SECRET_KEY",
		"AWS_ACCOUNT_ID",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_ROLE_ARN",
		"AWS_ROLE_SESSION_NAME",
	}
}

// ChildEnv returns the environment for a child process that must use creds:
// parent without OverridingVars and without every existing copy of the
// variables Vars sets, followed by Vars(creds, region). AWS_SESSION_TOKEN,
// AWS_CREDENTIAL_EXPIRATION and AWS_ACCOUNT_ID are removed even when creds
// has no token, no expiry or no known account, so stale values from the
// parent cannot pair with the new keys. Other settings, such as
// AWS_ACCOUNT_ID_ENDPOINT_MODE, reach the child unchanged.
// AWS_REGION and AWS_DEFAULT_REGION from parent are kept when region is empty.
// The order of the remaining parent entries is preserved. On Windows names
// are compared case-insensitively, as the OS does.
func ChildEnv(parent []string, creds aws.Credentials, region string) []string {
	return childEnv(parent, creds, region, runtime.GOOS == "windows")
}

func childEnv(parent []string, creds aws.Credentials, region string, foldCase bool) []string {
	return replaceEnv(parent, Vars(creds, region), region != "", foldCase)
}

// ContainerVars are the variables that point an AWS SDK at a container
// credentials endpoint: AWS_CONTAINER_CREDENTIALS_FULL_URI, then
// AWS_CONTAINER_AUTHORIZATION_TOKEN (or _TOKEN_FILE when tokenFile is set),
// then the region variables when region is not empty.
func ContainerVars(url, token, tokenFile, region string) []Var {
	vars := []Var{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url}}
	if tokenFile != "" {
		vars = append(vars, Var{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokenFile})
	} else {
		vars = append(vars, Var{"AWS_CONTAINER_AUTHORIZATION_TOKEN", token})
	}
	if region != "" {
		vars = append(vars, Var{envRegion, region}, Var{envDefaultRegion, region})
	}
	return vars
}

// ServerChildEnv is ChildEnv for exec --server: the child gets no keys at
// all, only ContainerVars, so its SDK fetches and refreshes credentials from
// the endpoint by itself.
func ServerChildEnv(parent []string, url, token, region string) []string {
	return replaceEnv(parent, ContainerVars(url, token, "", region), region != "", runtime.GOOS == "windows")
}

// ConflictingVars are what an environment must not hold for the container
// variables to take effect: credentials and everything that outranks the
// container provider in the SDKs' chains (env keys, profiles, web
// identity, the relative URI, a token file).
func ConflictingVars() []string {
	return append(OverridingVars(), envAccessKeyID, envSecretAccessKey, envSessionToken, envCredentialExpiry)
}

// replaceEnv returns parent without ConflictingVars (and without the region
// variables when dropRegion), followed by vars.
func replaceEnv(parent []string, vars []Var, dropRegion, foldCase bool) []string {
	drop := ConflictingVars()
	if dropRegion {
		drop = append(drop, envRegion, envDefaultRegion)
	}
	out := make([]string, 0, len(parent)+len(vars))
	for _, kv := range parent {
		if !containsName(drop, envName(kv), foldCase) {
			out = append(out, kv)
		}
	}
	for _, v := range vars {
		out = append(out, v.Name+"="+v.Value)
	}
	return out
}

// envName returns the name part of a "NAME=value" entry. A leading '=' is part
// of the name, as in Windows' per-drive "=C:=C:\dir" entries. An entry
// without '=' is all name.
func envName(kv string) string {
	start := 0
	if strings.HasPrefix(kv, "=") {
		start = 1
	}
	if i := strings.IndexByte(kv[start:], '='); i >= 0 {
		return kv[:start+i]
	}
	return kv
}

// envLookup returns the value of the last entry named name in env: os/exec
// keeps the last of duplicated names when it starts a process.
func envLookup(env []string, name string, foldCase bool) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		n := envName(env[i])
		if n == name || (foldCase && strings.EqualFold(n, name)) {
			if len(n) < len(env[i]) {
				return env[i][len(n)+1:], true
			}
			return "", true
		}
	}
	return "", false
}

func containsName(names []string, name string, foldCase bool) bool {
	for _, n := range names {
		if n == name || (foldCase && strings.EqualFold(n, name)) {
			return true
		}
	}
	return false
}
