// Package plan turns flags, environment variables and the shared AWS config
// files into one explicit Plan: a credential source followed by zero or more
// role hops. Resolution does no network I/O, so every precedence rule lives
// here, is unit-tested here, and is what `rolehop explain` prints.
package plan

import (
	"fmt"
	"strings"
)

// Setting is a resolved value together with where it came from, e.g.
// "--role-arn", "env AWS_ROLE_SESSION_NAME" or "~/.aws/config:12".
type Setting struct {
	Value string `json:"value"`
	From  string `json:"from"`
}

// IsSet reports whether the setting has a value.
func (s Setting) IsSet() bool { return s.Value != "" }

// Secret is a string that never prints: fmt, %v and JSON show only a mask.
type Secret string

// String masks the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "****"
}

// MarshalJSON masks the secret.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// Reveal returns the secret value for the code that must use it.
func (s Secret) Reveal() string { return string(s) }

// SourceKind names where the first credentials of a chain come from.
type SourceKind string

// The source kinds rolehop can start a chain from.
const (
	SourceEnv       SourceKind = "environment"        // AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
	SourceStatic    SourceKind = "static-keys"        // aws_access_key_id in a profile
	SourceProcess   SourceKind = "credential-process" // credential_process in a profile
	SourceContainer SourceKind = "container"          // ECS / CloudShell container endpoint
	SourceIMDS      SourceKind = "instance-metadata"  // EC2 instance role, or an IMDS emulator (IMDSv2 only)
	SourceWebIdent  SourceKind = "web-identity"       // AssumeRoleWithWebIdentity with an OIDC token
	SourceSSO       SourceKind = "sso"                // IAM Identity Center role credentials
	SourceLogin     SourceKind = "login"              // an `aws login` console session (login_session)
	SourceKeychain  SourceKind = "keychain"           // a profile's access keys in the OS keychain (rolehop keys add)
	SourceProvided  SourceKind = "provided"           // credentials given by a library caller
)

// GitHubOIDC is the WebIdentityTokenFile value that means "ask GitHub
// Actions' OIDC endpoint for a token" (--web-identity github).
const GitHubOIDC = "github-actions"

// Source is the first credentials of a chain.
type Source struct {
	Kind    SourceKind `json:"kind"`
	Profile string     `json:"profile,omitempty"` // profile that supplies it, if any
	From    string     `json:"from"`              // why this source was chosen

	// Static keys (SourceEnv, SourceStatic).
	AccessKeyID     string `json:"access_key_id,omitempty"` // shown masked by MaskKeyID
	SecretAccessKey Secret `json:"-"`
	SessionToken    Secret `json:"-"`

	// SourceProcess.
	Command string `json:"command,omitempty"`

	// AccountID is the account of the source's credentials as the
	// configuration states it (not a secret): AWS_ACCOUNT_ID with env keys,
	// aws_account_id of a static-keys profile (from the file that holds
	// the keys), or aws_account_id of a credential_process profile, used
	// when the process prints no AccountId. botocore reads all three; the
	// Go SDK the first two.
	AccountID Setting `json:"account_id,omitzero"`

	// SourceContainer: the endpoint, its token or token file, and the
	// variables they came from.
	ContainerURL       string `json:"container_url,omitempty"`
	ContainerURLFrom   string `json:"container_url_from,omitempty"`
	ContainerToken     Secret `json:"-"`
	ContainerTokenFile string `json:"container_token_file,omitempty"`
	ContainerTokenFrom string `json:"container_token_from,omitempty"`

	// SourceIMDS: the instance metadata endpoint (always set) and the
	// setting that chose it, e.g. "env AWS_EC2_METADATA_SERVICE_ENDPOINT"
	// or "default: IPv4".
	IMDSEndpoint     string `json:"imds_endpoint,omitempty"`
	IMDSEndpointFrom string `json:"imds_endpoint_from,omitempty"`

	// SourceWebIdent: the role assumed with the token, and where the token
	// comes from (a file, or GitHubOIDC).
	WebIdentityRole        Setting `json:"web_identity_role,omitzero"`
	WebIdentityTokenFile   Setting `json:"web_identity_token_file,omitzero"`
	WebIdentitySessionName Setting `json:"web_identity_session_name,omitzero"`

	// SourceSSO.
	SSO *SSO `json:"sso,omitempty"`

	// SourceLogin.
	Login *Login `json:"login,omitempty"`

	// SourceKeychain: which store holds the profile's keys (AccessKeyID is
	// the key id the index records; the secret is read at run time).
	Keychain *Keychain `json:"keychain,omitempty"`

	// Tried lists the ambient sources looked at before this one, for
	// "no credentials found" messages.
	Tried []string `json:"tried,omitempty"`
}

// Temporary reports whether the source is known to hand out session
// credentials, and whether that is known at all (a credential_process or a
// container endpoint may return either kind).
func (s Source) Temporary() (temporary, known bool) {
	switch s.Kind {
	case SourceEnv, SourceStatic:
		return s.SessionToken != "", true
	case SourceKeychain:
		return false, true
	case SourceIMDS, SourceWebIdent, SourceSSO, SourceLogin:
		return true, true
	}
	return false, false
}

// SSO is an IAM Identity Center source: a role in an account, reached with
// the access token of an SSO login.
type SSO struct {
	Session   string   `json:"session,omitempty"` // [sso-session NAME]; "" for the legacy style
	StartURL  string   `json:"start_url"`
	Region    string   `json:"region"`
	Scopes    []string `json:"scopes,omitempty"`
	AccountID string   `json:"account_id"`
	RoleName  string   `json:"role_name"`
	From      string   `json:"from"`
	// PortalEndpoint and OIDCEndpoint override the AWS endpoints
	// (AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL_SSO_OIDC, AWS_ENDPOINT_URL).
	PortalEndpoint string `json:"portal_endpoint,omitempty"`
	OIDCEndpoint   string `json:"oidc_endpoint,omitempty"`
}

// TokenKey is what names the token cache file, as in the AWS CLI: the
// sso-session name, or the start URL exactly as written (legacy profiles).
func (s *SSO) TokenKey() string {
	if s.Session != "" {
		return s.Session
	}
	return s.StartURL
}

// Keychain is a source whose keys are in the OS keychain. Resolution reads
// only rolehop's index of stored keys, never the store itself.
type Keychain struct {
	Backend string `json:"backend"` // keychain.Backend
	// Store is the backend as a person names it, e.g. "Secret Service (D-Bus)".
	Store string `json:"store"`
	// Index is the index file that says so.
	Index string `json:"index"`
	// Added is when the keys were stored (RFC 3339).
	Added string `json:"added,omitempty"`
}

// LongTermKeys reports whether the source is an IAM user's long-term
// access keys (no session token), in the environment, a profile or the
// keychain.
func (s Source) LongTermKeys() bool {
	switch s.Kind {
	case SourceEnv, SourceStatic:
		return s.SessionToken == ""
	case SourceKeychain:
		return true
	}
	return false
}

// Login is an `aws login` source: the console session a profile's
// login_session names, cached by the AWS CLI.
type Login struct {
	// Session is the login_session value (the signed-in principal's ARN).
	Session string `json:"session"`
	From    string `json:"from"`
	// CacheDir holds the session's file, FileName(Session); CacheFrom says
	// why that directory (AWS_LOGIN_CACHE_DIRECTORY or the default).
	CacheDir  string `json:"cache_dir"`
	CacheFile string `json:"cache_file"`
	CacheFrom string `json:"cache_from"`
	// Region and Endpoint of the sign-in service that refreshes it.
	Region   string `json:"region"`
	Endpoint string `json:"endpoint,omitempty"`
	// State is what the cache file says now (explain fills it): the
	// session's expiry, or why it cannot be used. Never a token.
	State string `json:"state,omitempty"`
}

// RoleSession reports whether the source's credentials are known to be a
// role session, so that assuming a role with them is role chaining (capped
// at 1 hour). EC2 instance roles are exempt by AWS's definition.
// AWS-SEMANTICS §4: IAM Identity Center credentials are sessions of an
// AWSReservedSSO_* role, so a role assumed with them is chained too.
func (s Source) RoleSession() bool { return s.Kind == SourceWebIdent || s.Kind == SourceSSO }

// Describe is a one-line, secret-free description of the source.
func (s Source) Describe() string {
	switch s.Kind {
	case SourceEnv:
		return "access keys from the environment (AWS_ACCESS_KEY_ID " + MaskKeyID(s.AccessKeyID) + ")"
	case SourceStatic:
		return fmt.Sprintf("access keys of profile %q (%s)", s.Profile, MaskKeyID(s.AccessKeyID))
	case SourceKeychain:
		return fmt.Sprintf("keys of profile %q from the %s keychain (%s)", s.Profile, s.Keychain.Store, MaskKeyID(s.AccessKeyID))
	case SourceProcess:
		return fmt.Sprintf("credential_process of profile %q", s.Profile)
	case SourceContainer:
		return "container credentials endpoint " + s.ContainerURL
	case SourceIMDS:
		if s.IMDSEndpoint == "" {
			return "EC2 instance metadata (IMDSv2)"
		}
		return "EC2 instance metadata (IMDSv2) at " + s.IMDSEndpoint
	case SourceProvided:
		return "the credentials of the caller's aws.Config"
	case SourceSSO:
		where := "sso-session " + s.SSO.Session
		if s.SSO.Session == "" {
			where = s.SSO.StartURL
		}
		return fmt.Sprintf("IAM Identity Center role %s in %s (%s)", s.SSO.RoleName, s.SSO.AccountID, where)
	case SourceLogin:
		return fmt.Sprintf("aws login session of profile %q (%s)", s.Profile, s.Login.Session)
	case SourceWebIdent:
		token := "the token in " + s.WebIdentityTokenFile.Value
		if s.WebIdentityTokenFile.Value == GitHubOIDC {
			token = "a GitHub Actions OIDC token"
		}
		return "AssumeRoleWithWebIdentity " + s.WebIdentityRole.Value + " with " + token
	}
	return string(s.Kind)
}

// MaskKeyID shows at most the first 4 and last 4 characters of an access key id.
func MaskKeyID(id string) string {
	if len(id) <= 8 {
		return strings.Repeat("*", len(id))
	}
	return id[:4] + "…" + id[len(id)-4:]
}

// Tag is one STS session tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Hop is one sts:AssumeRole step.
type Hop struct {
	Profile string  `json:"profile,omitempty"` // profile that defines the hop, "" for flags and env
	RoleARN Setting `json:"role_arn"`

	// SessionName is the RoleSessionName to send. When SessionNameFromCaller
	// is true the name is taken at run time from the caller's identity
	// (-u/--username-session) and SessionName holds only the fallback origin.
	SessionName           Setting `json:"session_name"`
	SessionNameFromCaller bool    `json:"session_name_from_caller,omitempty"`

	DurationSeconds   int      `json:"duration_seconds"`
	DurationFrom      string   `json:"duration_from"`
	RequestedDuration int      `json:"requested_duration_seconds,omitempty"` // set when capped
	Chained           bool     `json:"chained"`                              // source is known role credentials
	ExternalID        Setting  `json:"external_id,omitzero"`
	SerialNumber      Setting  `json:"serial_number,omitzero"`
	TokenCode         Secret   `json:"-"`
	Policy            Setting  `json:"policy,omitzero"`
	PolicyARNs        []string `json:"policy_arns,omitempty"`
	PolicyARNsFrom    string   `json:"policy_arns_from,omitempty"`
	SourceIdentity    Setting  `json:"source_identity,omitzero"`
	Tags              []Tag    `json:"tags,omitempty"`
	TagsFrom          string   `json:"tags_from,omitempty"`
	TransitiveTagKeys []string `json:"transitive_tag_keys,omitempty"`
	TransitiveFrom    string   `json:"transitive_tag_keys_from,omitempty"`

	// MFA is how the MFA code reaches STS when SerialNumber is set.
	MFA MFAPath `json:"mfa,omitzero"`
}

// MFA paths.
const (
	// MFAViaSession: GetSessionToken with the code once, cached and shared by
	// every profile with the same source keys and serial; the role is then
	// assumed with that session (AWS caps such a role session at 1 hour).
	MFAViaSession = "session"
	// MFADirect: AssumeRole itself carries SerialNumber and TokenCode.
	MFADirect = "direct"
)

// MFAPath says how a hop's MFA code is used and where codes come from.
type MFAPath struct {
	Via    string `json:"via,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Process is a command that prints the code (mfa_process); empty means
	// the terminal prompt.
	Process Setting `json:"process,omitzero"`
}

// Plan is everything rolehop will do to produce the final credentials.
type Plan struct {
	Profile     Setting `json:"profile,omitzero"`
	Source      Source  `json:"source"`
	Hops        []Hop   `json:"hops"`
	Region      Setting `json:"region,omitzero"`
	STSRegion   string  `json:"sts_region"`
	STSEndpoint Setting `json:"sts_endpoint,omitzero"`
	// MFASessionSeconds is the lifetime asked of GetSessionToken for
	// MFAViaSession hops.
	MFASessionSeconds int `json:"mfa_session_seconds,omitempty"`
	// Retry is how every AWS call of the run is retried and timed out
	// (awsclient.New builds the clients from it).
	Retry    Retry    `json:"retry"`
	Warnings []string `json:"warnings,omitempty"` // printed on stderr by every command
	Notes    []string `json:"notes,omitempty"`    // shown by explain only
}
