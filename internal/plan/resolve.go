package plan

import (
	"cmp"
	"fmt"
	"maps"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rolehop/rolehop/internal/awsconfig"
)

// defaultSTSRegion is used for STS calls when no region is configured. The
// AWS CLI then uses the global endpoint, which is signed for us-east-1.
const defaultSTSRegion = "us-east-1"

// rawHop is one hop's settings before validation and defaults.
type rawHop struct {
	profile                                 string
	roleARN, sessionName, duration          Setting
	externalID, serial, policy, sourceIdent Setting
	policyARNs, tags, transitive            Setting
	mfaProcess                              Setting
}

type resolver struct {
	req   Request
	cfg   *awsconfig.Config
	plan  *Plan
	notes []string
}

func (r *resolver) env(name string) string {
	if r.req.Getenv == nil {
		return ""
	}
	return r.req.Getenv(name)
}

// Resolve turns a Request into a Plan. It reads no network and no file other
// than file:// policy documents. Errors are *Error (bad input or config) or
// *NoCredentialsError.
func Resolve(req Request) (*Plan, error) {
	r := &resolver{req: req, cfg: req.Config, plan: &Plan{}}
	if r.cfg == nil {
		r.cfg = &awsconfig.Config{}
	}
	r.addKeychainProfiles()
	src, raws, err := r.chain()
	if err != nil {
		return nil, err
	}
	for _, arn := range r.req.RoleARNs {
		raws = append(raws, rawHop{roleARN: Setting{arn, "--role-arn"}})
	}
	if flag := r.req.Flags.firstGiven(); len(raws) == 0 && flag != "" {
		if src.Kind == SourceWebIdent {
			return nil, errorf("%s needs an AssumeRole hop, and this chain has none: its only role (%s) is assumed with the web identity token, which takes only --role-session-name; add --role-arn for a role to assume next", flag, src.WebIdentityRole.Value)
		}
		return nil, errorf("%s needs a role to assume: name a role profile or add --role-arn", flag)
	}
	if len(raws) > 0 {
		r.applyLastHopFlags(&raws[len(raws)-1])
	}
	r.plan.Source = src
	r.checkUnusedIMDS()
	r.noteIgnoredAccountID(src)
	if err := r.finishHops(raws); err != nil {
		return nil, err
	}
	r.resolveRegion()
	r.resolveEndpoint()
	r.resolveLogin()
	if err := r.resolveRetry(); err != nil {
		return nil, err
	}
	r.plan.Notes = append(r.plan.Notes, r.notes...)
	return r.plan, nil
}

// chain picks the source and the profile-defined hops.
func (r *resolver) chain() (Source, []rawHop, error) {
	name, from := r.req.Profile, r.req.ProfileFrom
	envProfile, envDefault := r.env("AWS_PROFILE"), r.env("AWS_DEFAULT_PROFILE")
	// --web-identity is a flag: it outranks a profile named by the
	// environment, and a profile on the command line contradicts it.
	if r.req.WebIdentity != "" {
		if name != "" {
			return Source{}, nil, errorf("--web-identity starts the chain with an OIDC token; it does not combine with profile %q (%s): drop one of them", name, from)
		}
		if p := cmp.Or(envProfile, envDefault); p != "" {
			r.note(fmt.Sprintf("--web-identity starts the chain: the profile %q named by the environment (AWS_PROFILE/AWS_DEFAULT_PROFILE) is not used", p))
		}
		src, err := r.githubWebIdentity()
		return src, nil, err
	}
	// A library caller's own credentials are the source: AWS_PROFILE does
	// not redirect them.
	if name == "" && !r.req.Provided {
		switch {
		case envProfile != "":
			name, from = envProfile, "env AWS_PROFILE"
			if envDefault != "" && envDefault != envProfile {
				r.note(fmt.Sprintf("AWS_PROFILE=%s and AWS_DEFAULT_PROFILE=%s differ: rolehop, AWS CLI v2 and the Go SDK use AWS_PROFILE; AWS CLI v1 and boto3 use AWS_DEFAULT_PROFILE", envProfile, envDefault))
			}
		case envDefault != "":
			name, from = envDefault, "env AWS_DEFAULT_PROFILE"
		}
	}
	if name != "" {
		r.plan.Profile = Setting{name, from}
		if _, ok := r.cfg.Profile(name); !ok {
			return Source{}, nil, r.unknownProfile(name, from)
		}
		src, raws, err := r.profileChain(name, nil)
		if err != nil {
			return src, raws, err
		}
		if len(raws) > 0 && strings.HasPrefix(from, "env ") && r.env("AWS_ACCESS_KEY_ID") != "" {
			r.note(fmt.Sprintf("%s names role profile %q while AWS_ACCESS_KEY_ID is set: the AWS CLI and SDKs would silently use the keys and not assume the role; rolehop assumes the role", strings.TrimPrefix(from, "env "), name))
		}
		return src, raws, nil
	}

	src, raws, err := r.ambient()
	if err != nil {
		return src, raws, err
	}
	roleUsedByWebIdentity := src.Kind == SourceWebIdent && src.WebIdentityRole.From == "env AWS_ROLE_ARN"
	if arn := r.env("AWS_ROLE_ARN"); arn != "" && len(r.req.RoleARNs) == 0 && !roleUsedByWebIdentity {
		raws = append(raws, rawHop{roleARN: Setting{arn, "env AWS_ROLE_ARN"}})
		if r.env("AWS_WEB_IDENTITY_TOKEN_FILE") != "" {
			r.note("AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE are set but access keys in the environment come first (as in the SDKs); AWS_ROLE_ARN is assumed with those keys")
		} else {
			r.note("AWS_ROLE_ARN without AWS_WEB_IDENTITY_TOKEN_FILE: rolehop assumes it from the ambient credentials (arar compatibility); the AWS CLI ignores it")
		}
	}
	return src, raws, nil
}

func (r *resolver) note(s string) { r.notes = append(r.notes, s) }

func (r *resolver) unknownProfile(name, from string) error {
	where := fmt.Sprintf("%s or %s", awsconfig.ShortPath(r.cfg.ConfigFile), awsconfig.ShortPath(r.cfg.CredentialsFile))
	hint := ""
	if s := awsconfig.Suggest(name, r.cfg.ProfileNames()); len(s) > 0 {
		hint = fmt.Sprintf(" (did you mean %q?)", s[0])
	} else if names := r.cfg.ProfileNames(); len(names) == 0 {
		hint = " (no profiles are defined)"
	}
	by := ""
	if from != "" && from != "argument" {
		by = " (from " + from + ")"
	}
	return errorf("profile %q%s not found in %s%s", name, by, where, hint)
}

// ambient is the chain used when no profile is named: env keys, then the
// default profile, then the container endpoint, then instance metadata.
func (r *resolver) ambient() (Source, []rawHop, error) {
	if r.req.Provided {
		return Source{Kind: SourceProvided, From: "the base aws.Config"}, nil, nil
	}
	var tried []string
	src, ok, err := r.envKeys("ambient credentials: AWS_ACCESS_KEY_ID is set")
	if err != nil || ok {
		return src, nil, err
	}
	tried = append(tried, "environment (AWS_ACCESS_KEY_ID not set)")

	// botocore's order: env keys, then web identity from the environment.
	if file, role := r.env("AWS_WEB_IDENTITY_TOKEN_FILE"), r.env("AWS_ROLE_ARN"); file != "" {
		if role == "" {
			return Source{}, nil, errorf("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not: set the role to assume with the token")
		}
		src, err := r.webIdentity(Setting{role, "env AWS_ROLE_ARN"}, Setting{file, "env AWS_WEB_IDENTITY_TOKEN_FILE"}, Setting{}, "")
		src.From, src.Tried = "ambient credentials: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are set", tried
		return src, nil, err
	}
	tried = append(tried, "web identity (AWS_WEB_IDENTITY_TOKEN_FILE not set)")

	if p, ok := r.cfg.Profile("default"); ok && holdsCredentials(p) {
		src, raws, err := r.profileChain("default", nil)
		src.Tried = tried
		src.From = "the default profile (no profile named) — " + src.From
		return src, raws, err
	} else if ok {
		// A default profile of settings only (region, the instance
		// metadata endpoint): the SDKs go on to the container endpoint
		// and instance metadata, and so does rolehop.
		tried = append(tried, fmt.Sprintf("default profile (%s: settings only, no credentials)", p.Origin()))
	} else {
		tried = append(tried, fmt.Sprintf("default profile (not in %s or %s)", awsconfig.ShortPath(r.cfg.ConfigFile), awsconfig.ShortPath(r.cfg.CredentialsFile)))
	}

	src, ok, err = r.container("ambient credentials: container endpoint variables are set")
	if err != nil || ok {
		src.Tried = tried
		return src, nil, err
	}
	tried = append(tried, "container endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI and _RELATIVE_URI not set)")

	if r.imdsDisabled() {
		tried = append(tried, "EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)")
		return Source{}, nil, &NoCredentialsError{Tried: tried}
	}
	src, err = r.imds("ambient credentials: nothing else found, trying EC2 instance metadata", tried)
	return src, nil, err
}

// ssoSource reads an IAM Identity Center profile: either sso_session with
// an [sso-session NAME] section, or the legacy sso_start_url/sso_region keys
// in the profile; both need sso_account_id and sso_role_name. A key set in
// both the profile and the session must agree (botocore checks this).
func (r *resolver) ssoSource(p *awsconfig.Profile, from string) (Source, error) {
	get := func(k string) string { v, _ := p.Get(k); return strings.TrimSpace(v.Value) }
	s := &SSO{AccountID: get("sso_account_id"), RoleName: get("sso_role_name"), StartURL: get("sso_start_url"), Region: get("sso_region"),
		From: fmt.Sprintf("profile %q (%s)", p.Name, p.Origin())}
	if name := get("sso_session"); name != "" {
		sec, ok := r.cfg.SSOSessions[name]
		if !ok {
			return Source{}, errorf("profile %q: sso_session %q has no [sso-session %s] section in %s: add it with sso_start_url and sso_region", p.Name, name, name, awsconfig.ShortPath(r.cfg.ConfigFile))
		}
		s.Session = name
		for key, dst := range map[string]*string{"sso_start_url": &s.StartURL, "sso_region": &s.Region} {
			v := strings.TrimSpace(sec.Keys[key].Value)
			if *dst != "" && v != "" && *dst != v {
				return Source{}, errorf("profile %q sets %s = %s but [sso-session %s] says %s: remove it from the profile", p.Name, key, *dst, name, v)
			}
			if v != "" {
				*dst = v
			}
		}
		s.Scopes = splitList(sec.Keys["sso_registration_scopes"].Value)
	}
	var missing []string
	for key, v := range map[string]string{"sso_start_url": s.StartURL, "sso_region": s.Region, "sso_account_id": s.AccountID, "sso_role_name": s.RoleName} {
		if v == "" {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return Source{}, errorf("IAM Identity Center profile %q (%s) lacks %s", p.Name, p.Origin(), strings.Join(missing, ", "))
	}
	if !isDigits(s.AccountID, 12) {
		return Source{}, errorf("profile %q: sso_account_id %q must be 12 digits", p.Name, s.AccountID)
	}
	s.PortalEndpoint = firstEnv(r.env, "AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL")
	s.OIDCEndpoint = firstEnv(r.env, "AWS_ENDPOINT_URL_SSO_OIDC", "AWS_ENDPOINT_URL")
	return Source{Kind: SourceSSO, Profile: p.Name, From: from, SSO: s}, nil
}

// SSOFromSession is the SSO settings of [sso-session name] alone, for
// `rolehop login --sso-session NAME` (no account or role needed).
func SSOFromSession(cfg *awsconfig.Config, name string, getenv func(string) string) (*SSO, error) {
	sec, ok := cfg.SSOSessions[name]
	if !ok {
		names := make([]string, 0, len(cfg.SSOSessions))
		for n := range cfg.SSOSessions {
			names = append(names, n)
		}
		hint := ""
		if s := awsconfig.Suggest(name, names); len(s) > 0 {
			hint = fmt.Sprintf(" (did you mean %q?)", s[0])
		}
		return nil, errorf("no [sso-session %s] in %s%s", name, awsconfig.ShortPath(cfg.ConfigFile), hint)
	}
	s := &SSO{Session: name, StartURL: strings.TrimSpace(sec.Keys["sso_start_url"].Value), Region: strings.TrimSpace(sec.Keys["sso_region"].Value),
		Scopes: splitList(sec.Keys["sso_registration_scopes"].Value), From: fmt.Sprintf("[sso-session %s] (%s:%d)", name, awsconfig.ShortPath(sec.File), sec.Line)}
	if s.StartURL == "" || s.Region == "" {
		return nil, errorf("[sso-session %s] needs sso_start_url and sso_region", name)
	}
	s.PortalEndpoint = firstEnv(getenv, "AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL")
	s.OIDCEndpoint = firstEnv(getenv, "AWS_ENDPOINT_URL_SSO_OIDC", "AWS_ENDPOINT_URL")
	return s, nil
}

func firstEnv(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// webIdentity builds an AssumeRoleWithWebIdentity source. The session name
// is explicit, else AWS_ROLE_SESSION_NAME, else names the GitHub run or the
// local user.
func (r *resolver) webIdentity(role, tokenFile, session Setting, profile string) (Source, error) {
	if !validRoleARN(role.Value) {
		return Source{}, errorf("web identity: invalid role ARN %q (%s): expected arn:aws:iam::123456789012:role/NAME", role.Value, role.From)
	}
	switch {
	case session.IsSet():
	case r.env("AWS_ROLE_SESSION_NAME") != "":
		session = Setting{r.env("AWS_ROLE_SESSION_NAME"), "env AWS_ROLE_SESSION_NAME"}
	case r.env("GITHUB_RUN_ID") != "":
		session = Setting{"gh-" + r.env("GITHUB_RUN_ID"), "default: gh-<GITHUB_RUN_ID>"}
	default:
		session = Setting{"rolehop-" + r.req.LocalUser, "default: rolehop-<local user>"}
	}
	clean, err := SanitizeSessionName(session.Value)
	if err != nil {
		clean = "rolehop"
		if session.From != "default: rolehop-<local user>" {
			return Source{}, errorf("web identity session name %q (%s) %v", session.Value, session.From, err)
		}
	}
	session.Value = clean
	return Source{Kind: SourceWebIdent, Profile: profile, WebIdentityRole: role, WebIdentityTokenFile: tokenFile, WebIdentitySessionName: session}, nil
}

// githubWebIdentity is --web-identity github: the token comes from GitHub
// Actions' OIDC endpoint, the role from the first --role-arn or AWS_ROLE_ARN.
func (r *resolver) githubWebIdentity() (Source, error) {
	if r.req.WebIdentity != "github" {
		return Source{}, errorf("--web-identity %q: the only provider is \"github\" (use AWS_WEB_IDENTITY_TOKEN_FILE for a token file)", r.req.WebIdentity)
	}
	if !r.req.Describe && (r.env("ACTIONS_ID_TOKEN_REQUEST_URL") == "" || r.env("ACTIONS_ID_TOKEN_REQUEST_TOKEN") == "") {
		return Source{}, errorf("--web-identity github needs ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN: run inside GitHub Actions with `permissions: id-token: write`")
	}
	var role Setting
	switch {
	case len(r.req.RoleARNs) > 0:
		role = Setting{r.req.RoleARNs[0], "--role-arn"}
		r.req.RoleARNs = r.req.RoleARNs[1:]
	case r.env("AWS_ROLE_ARN") != "":
		role = Setting{r.env("AWS_ROLE_ARN"), "env AWS_ROLE_ARN"}
	default:
		return Source{}, errorf("--web-identity github needs the role to assume: --role-arn or AWS_ROLE_ARN")
	}
	var session Setting
	if len(r.req.RoleARNs) == 0 && r.req.Flags.RoleSessionName != "" {
		// The token's role is the last of the chain: the last hop's session
		// name flag names its session.
		session = Setting{r.req.Flags.RoleSessionName, "--role-session-name"}
		r.req.Flags.RoleSessionName = ""
	}
	src, err := r.webIdentity(role, Setting{GitHubOIDC, "--web-identity github"}, session, "")
	src.From = "--web-identity github"
	return src, err
}

func (r *resolver) imdsDisabled() bool {
	return strings.EqualFold(r.env("AWS_EC2_METADATA_DISABLED"), "true")
}

// envKeys returns the environment's access keys as a source. ok is false
// when AWS_ACCESS_KEY_ID is unset.
func (r *resolver) envKeys(from string) (Source, bool, error) {
	id, secret := r.env("AWS_ACCESS_KEY_ID"), r.env("AWS_SECRET_ACCESS_KEY")
	if id == "" {
		return Source{}, false, nil
	}
	if secret == "" {
		return Source{}, false, errorf("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or unset AWS_ACCESS_KEY_ID")
	}
	token := r.env("AWS_SESSION_TOKEN")
	if token == "" {
		token = r.env("AWS_SECURITY_TOKEN")
	} else if st := r.env("AWS_SECURITY_TOKEN"); st != "" && st != token {
		r.note("AWS_SECURITY_TOKEN and AWS_SESSION_TOKEN differ: rolehop uses AWS_SESSION_TOKEN (botocore would use AWS_SECURITY_TOKEN); exec removes AWS_SECURITY_TOKEN from the child")
	}
	src := Source{Kind: SourceEnv, From: from, AccessKeyID: id, SecretAccessKey: Secret(secret), SessionToken: Secret(token)}
	// botocore EnvProvider and aws-sdk-go-v2 NewEnvConfig read
	// AWS_ACCOUNT_ID only together with the keys, as they are.
	if acct := r.env("AWS_ACCOUNT_ID"); acct != "" {
		src.AccountID = Setting{acct, "env AWS_ACCOUNT_ID"}
	}
	return src, true, nil
}

// container returns the container credentials endpoint as a source. ok is
// false when neither URI variable is set.
func (r *resolver) container(from string) (Source, bool, error) {
	relative, full := r.env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"), r.env("AWS_CONTAINER_CREDENTIALS_FULL_URI")
	url, err := ContainerURL(relative, full)
	if err != nil || url == "" {
		return Source{}, false, err
	}
	src := Source{Kind: SourceContainer, From: from, ContainerURL: url, ContainerURLFrom: "env AWS_CONTAINER_CREDENTIALS_FULL_URI"}
	if relative != "" {
		src.ContainerURLFrom = "env AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
		if full != "" {
			r.note("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are both set: the relative URI wins, as in the SDKs")
		}
	}
	// docs/aws-semantics.md: the token file wins over the token variable
	// and is read on every fetch (internal/source), and a token containing
	// CR or LF is rejected by botocore and the Go SDK.
	if f := r.env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); f != "" {
		src.ContainerTokenFile, src.ContainerTokenFrom = f, "env AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
		if r.env("AWS_CONTAINER_AUTHORIZATION_TOKEN") != "" {
			r.note("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE and AWS_CONTAINER_AUTHORIZATION_TOKEN are both set: the file wins, as in the SDKs")
		}
	} else if t := r.env("AWS_CONTAINER_AUTHORIZATION_TOKEN"); t != "" {
		if strings.ContainsAny(t, "\r\n") {
			return Source{}, false, errorf("AWS_CONTAINER_AUTHORIZATION_TOKEN contains a line break: remove it (the SDKs reject such tokens too)")
		}
		src.ContainerToken, src.ContainerTokenFrom = Secret(t), "env AWS_CONTAINER_AUTHORIZATION_TOKEN"
	}
	return src, true, nil
}

// settingsOnly is the source of a named profile that holds no credentials
// but sets the instance metadata endpoint or mode: as in the SDKs, the
// container endpoint if its variables are set, else instance metadata.
// (The SDKs do this for any profile without credentials; rolehop keeps
// "has no credentials" for a profile that does not configure instance
// metadata, since an empty or misspelt profile deserves a clear message
// rather than a probe of 169.254.169.254.)
func (r *resolver) settingsOnly(p *awsconfig.Profile) (Source, error) {
	why := fmt.Sprintf("profile %q (%s) holds no credentials, only settings", p.Name, p.Origin())
	src, ok, err := r.container(why + ": the container endpoint comes first, as in the SDKs")
	if err != nil || ok {
		src.Profile = p.Name
		return src, err
	}
	if r.imdsDisabled() {
		return Source{}, errorf("%s, and instance metadata is disabled by AWS_EC2_METADATA_DISABLED: unset it, or give the profile credentials", why)
	}
	src, err = r.imds(why+": instance metadata, as in the SDKs", nil)
	src.Profile = p.Name
	return src, err
}

// profileChain resolves a profile into its source and hops. stack holds the
// profiles already on the way here, to detect cycles.
func (r *resolver) profileChain(name string, stack []string) (Source, []rawHop, error) {
	p, _ := r.cfg.Profile(name)
	if !p.Has("role_arn") {
		return r.profileSource(p, stack)
	}
	if p.Has("web_identity_token_file") {
		get := func(k string) Setting {
			v, _ := p.Get(k)
			return Setting{strings.TrimSpace(v.Value), v.Origin()}
		}
		src, err := r.webIdentity(get("role_arn"), get("web_identity_token_file"), get("role_session_name"), name)
		src.From = fmt.Sprintf("web_identity_token_file of profile %q", name)
		return src, nil, err
	}
	sp, hasSP := p.Get("source_profile")
	cs, hasCS := p.Get("credential_source")
	hasSP, hasCS = hasSP && sp.Value != "", hasCS && cs.Value != ""
	var src Source
	var raws []rawHop
	var err error
	switch {
	case hasSP && hasCS:
		return Source{}, nil, errorf("profile %q sets both source_profile (%s) and credential_source (%s): keep only one", name, sp.Origin(), cs.Origin())
	case hasSP:
		src, raws, err = r.viaSourceProfile(p, sp, stack)
	case hasCS:
		src, err = r.credentialSource(p, cs)
	case r.inKeychain(p.Name):
		src = r.keychainSource(p, "its own access keys in the keychain (no source_profile or credential_source)")
		r.note(fmt.Sprintf("profile %q has role_arn and keys in the keychain but no source_profile: rolehop uses those keys as it would the profile's own access keys (the Go SDK's rule)", name))
	case hasStaticKeys(p):
		src, err = staticSource(p, "its own access keys (no source_profile or credential_source)")
		r.note(fmt.Sprintf("profile %q has role_arn and its own access keys but no source_profile: rolehop uses its keys as the Go SDK does; the AWS CLI refuses this profile", name))
	case p.Has("sso_session") || p.Has("sso_account_id"):
		src, err = r.ssoSource(p, "its own IAM Identity Center settings (no source_profile)")
	case p.Has("login_session"):
		src = r.loginSource(p, "its own aws login session (no source_profile)")
		r.note(fmt.Sprintf("profile %q has role_arn and login_session but no source_profile: rolehop assumes the role with the session's credentials as the Go SDK does", name))
	case p.Has("credential_process"):
		src = processSource(p, "its own credential_process (no source_profile or credential_source)")
		r.note(fmt.Sprintf("profile %q has role_arn and credential_process but no source_profile: rolehop assumes the role with the process's credentials as the Go SDK does; the AWS CLI refuses this profile", name))
	default:
		role, _ := p.Get("role_arn")
		return Source{}, nil, errorf("profile %q has role_arn (%s) but no source of credentials: add source_profile = NAME or credential_source = Environment|EcsContainer|Ec2InstanceMetadata", name, role.Origin())
	}
	if err != nil {
		return Source{}, nil, err
	}
	return src, append(raws, r.profileHop(p)), nil
}

// viaSourceProfile follows source_profile.
func (r *resolver) viaSourceProfile(p *awsconfig.Profile, sp awsconfig.Value, stack []string) (Source, []rawHop, error) {
	target := sp.Value
	// AWS-SEMANTICS §3: a profile may name itself as source_profile only
	// when it holds static keys (botocore _validate_source_profile).
	if target == p.Name {
		if r.inKeychain(p.Name) {
			return r.keychainSource(p, "its own access keys in the keychain (source_profile names itself)"), nil, nil
		}
		if hasStaticKeys(p) {
			src, err := staticSource(p, "its own access keys (source_profile names itself)")
			return src, nil, err
		}
		return Source{}, nil, errorf("profile %q: source_profile names the profile itself (%s) but it has no access keys: point source_profile at a profile with credentials", p.Name, sp.Origin())
	}
	for i, s := range stack {
		if s == target {
			path := append(append([]string{}, stack[i:]...), p.Name, target)
			return Source{}, nil, errorf("source_profile cycle %s (%s): give one of these profiles access keys or a credential_source", strings.Join(path, " → "), sp.Origin())
		}
	}
	sourceP, ok := r.cfg.Profile(target)
	if !ok {
		hint := ""
		if s := awsconfig.Suggest(target, r.cfg.ProfileNames()); len(s) > 0 {
			hint = fmt.Sprintf(" (did you mean %q?)", s[0])
		}
		return Source{}, nil, errorf("profile %q: source_profile %q (%s) does not exist%s", p.Name, target, sp.Origin(), hint)
	}
	// botocore: static keys win over role_arn in a source profile; keys in
	// the keychain are the profile's static keys.
	if r.inKeychain(target) {
		if sourceP.Has("role_arn") {
			r.note(fmt.Sprintf("profile %q has both keys in the keychain and role_arn; as a source_profile its keys are used and its role is not assumed (AWS CLI rule for access keys)", target))
		}
		return r.keychainSource(sourceP, fmt.Sprintf("source_profile of %q (%s)", p.Name, sp.Origin())), nil, nil
	}
	if hasStaticKeys(sourceP) {
		if sourceP.Has("role_arn") {
			r.note(fmt.Sprintf("profile %q has both access keys and role_arn; as a source_profile its keys are used and its role is not assumed (AWS CLI rule)", target))
		}
		src, err := staticSource(sourceP, fmt.Sprintf("source_profile of %q (%s)", p.Name, sp.Origin()))
		return src, nil, err
	}
	return r.profileChain(target, append(stack, p.Name))
}

// profileSource resolves a profile without role_arn into a plain source.
func (r *resolver) profileSource(p *awsconfig.Profile, stack []string) (Source, []rawHop, error) {
	from := fmt.Sprintf("profile %q (%s)", p.Name, p.Origin())
	if len(stack) > 0 {
		from = fmt.Sprintf("source_profile of %q", stack[len(stack)-1])
	}
	switch {
	case r.inKeychain(p.Name):
		return r.keychainSource(p, from), nil, nil
	case hasStaticKeys(p) || p.Has("aws_access_key_id") || p.Has("aws_secret_access_key"):
		src, err := staticSource(p, from)
		return src, nil, err
	// Before credential_process, as in botocore (CredentialResolver: login,
	// then process) and aws-sdk-go-v2 (config/resolve_credentials.go).
	case p.Has("login_session"):
		return r.loginSource(p, from), nil, nil
	case p.Has("credential_process"):
		return processSource(p, from), nil, nil
	case p.Has("sso_session") || p.Has("sso_start_url") || p.Has("sso_account_id") || p.Has("sso_role_name"):
		src, err := r.ssoSource(p, from)
		return src, nil, err
	case p.Has("web_identity_token_file"):
		return Source{}, nil, errorf("profile %q (%s): web_identity_token_file needs role_arn", p.Name, p.Origin())
	case p.Has("credential_source") || p.Has("source_profile"):
		return Source{}, nil, errorf("profile %q (%s) has credential_source/source_profile but no role_arn: add role_arn = arn:aws:iam::ACCOUNT:role/NAME", p.Name, p.Origin())
	case len(stack) == 0 && !holdsCredentials(p) && configuresIMDS(p):
		src, err := r.settingsOnly(p)
		return src, nil, err
	}
	return Source{}, nil, errorf("profile %q (%s) has no credentials: add aws_access_key_id/aws_secret_access_key, credential_process, login_session (aws login), or role_arn with source_profile", p.Name, p.Origin())
}

// loginSource reads an `aws login` profile: login_session names the session
// whose credentials the AWS CLI caches (botocore utils.py
// get_login_token_cache_directory, generate_login_cache_key).
func (r *resolver) loginSource(p *awsconfig.Profile, from string) Source {
	v, _ := p.Get("login_session")
	dir, dirFrom := LoginCacheDir(r.env, awsconfig.HomeDir(r.env))
	name := strings.TrimSpace(v.Value)
	return Source{Kind: SourceLogin, Profile: p.Name, From: from, Login: &Login{
		Session: name, From: v.Origin(), CacheDir: dir, CacheFile: filepath.Join(dir, LoginFileName(name)), CacheFrom: dirFrom,
	}}
}

// resolveLogin sets the sign-in service a login source refreshes with: the
// chain's region, else the login profile's own, else us-east-1; its
// endpoint from AWS_ENDPOINT_URL_SIGNIN, then AWS_ENDPOINT_URL.
func (r *resolver) resolveLogin() {
	l := r.plan.Source.Login
	if l == nil {
		return
	}
	l.Region = r.plan.Region.Value
	if l.Region == "" {
		if prof, ok := r.cfg.Profile(r.plan.Source.Profile); ok {
			if v, ok := prof.Get("region"); ok {
				l.Region = strings.TrimSpace(v.Value)
			}
		}
	}
	if l.Region == "" {
		l.Region = defaultSTSRegion
		r.note("no region configured: the aws login session is refreshed through the sign-in service in " + defaultSTSRegion + " (set region in the profile)")
	}
	if strings.EqualFold(r.env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return
	}
	l.Endpoint = firstEnv(r.env, "AWS_ENDPOINT_URL_SIGNIN", "AWS_ENDPOINT_URL")
}

// credentialSource handles credential_source = Environment | EcsContainer | Ec2InstanceMetadata.
func (r *resolver) credentialSource(p *awsconfig.Profile, cs awsconfig.Value) (Source, error) {
	from := fmt.Sprintf("credential_source = %s of profile %q (%s)", cs.Value, p.Name, cs.Origin())
	switch cs.Value {
	case "Environment":
		src, ok, err := r.envKeys(from)
		if err == nil && !ok {
			err = errorf("profile %q: credential_source = Environment (%s) but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set", p.Name, cs.Origin())
		}
		src.Profile = p.Name
		return src, err
	case "EcsContainer":
		src, ok, err := r.container(from)
		if err == nil && !ok {
			err = errorf("profile %q: credential_source = EcsContainer (%s) but neither AWS_CONTAINER_CREDENTIALS_FULL_URI nor AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is set", p.Name, cs.Origin())
		}
		src.Profile = p.Name
		return src, err
	case "Ec2InstanceMetadata":
		if r.imdsDisabled() {
			return Source{}, errorf("profile %q: credential_source = Ec2InstanceMetadata (%s) but AWS_EC2_METADATA_DISABLED=true", p.Name, cs.Origin())
		}
		if inUse := r.imdsProfile(); configuresIMDS(p) && (inUse == nil || inUse.Name != p.Name) {
			r.note(fmt.Sprintf("profile %q sets the instance metadata endpoint or mode, but like the SDKs rolehop reads those settings only from the profile in use (%q): move them there or into the environment", p.Name, cmp.Or(r.plan.Profile.Value, "default")))
		}
		src, err := r.imds(from, nil)
		src.Profile = p.Name
		return src, err
	}
	hint := "use Environment, EcsContainer or Ec2InstanceMetadata"
	for _, v := range []string{"Environment", "EcsContainer", "Ec2InstanceMetadata"} {
		if strings.EqualFold(v, cs.Value) {
			hint = fmt.Sprintf("did you mean %q? (the value is case-sensitive)", v)
		}
	}
	return Source{}, errorf("profile %q: unknown credential_source %q (%s): %s", p.Name, cs.Value, cs.Origin(), hint)
}

// addKeychainProfiles makes a profile of every one in the keychain index
// that no config file names, so that `rolehop keys add NAME` alone is
// enough to use NAME (as with aws-vault). The caller's Config is not
// changed.
func (r *resolver) addKeychainProfiles() {
	ix := r.req.Keychain
	var missing []string
	for _, name := range ix.Names() {
		if _, ok := r.cfg.Profile(name); !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return
	}
	cfg := *r.cfg
	cfg.Profiles = maps.Clone(r.cfg.Profiles)
	if cfg.Profiles == nil {
		cfg.Profiles = map[string]*awsconfig.Profile{}
	}
	for _, name := range missing {
		cfg.Profiles[name] = &awsconfig.Profile{Name: name, File: ix.Path, Keys: map[string]awsconfig.Value{}}
	}
	r.cfg = &cfg
}

func (r *resolver) inKeychain(profile string) bool {
	_, ok := r.req.Keychain.Lookup(profile)
	return ok
}

// keychainSource is a profile whose keys are in the keychain. They outrank
// access keys written in the profile: the keychain is where `keys add` and
// `keys import` put them on purpose, and a plaintext copy left behind is
// what the user is moving away from (so every command warns about it).
func (r *resolver) keychainSource(p *awsconfig.Profile, from string) Source {
	e, _ := r.req.Keychain.Lookup(p.Name)
	src := Source{Kind: SourceKeychain, Profile: p.Name, From: from, AccessKeyID: e.AccessKeyID,
		Keychain: &Keychain{Backend: string(e.Backend), Store: e.Backend.Describe(), Index: r.req.Keychain.Path}}
	if !e.Added.IsZero() {
		src.Keychain.Added = e.Added.UTC().Format(time.RFC3339)
	}
	if id, ok := p.Get("aws_access_key_id"); ok {
		r.plan.Warnings = append(r.plan.Warnings, fmt.Sprintf("profile %q: the keys in the %s keychain are used, and a plaintext copy is still in %s: delete its aws_access_key_id and aws_secret_access_key lines (if it is the same key, `rolehop keys import %s` deletes them)",
			p.Name, e.Backend.Describe(), id.Origin(), p.Name))
	}
	if acct, ok := accountID(p); ok {
		src.AccountID = Setting{strings.TrimSpace(acct.Value), acct.Origin()}
	}
	return src
}

func hasStaticKeys(p *awsconfig.Profile) bool {
	return p.Has("aws_access_key_id") && p.Has("aws_secret_access_key")
}

func staticSource(p *awsconfig.Profile, from string) (Source, error) {
	id, _ := p.Get("aws_access_key_id")
	secret, _ := p.Get("aws_secret_access_key")
	if id.Value == "" || secret.Value == "" {
		missing, have := "aws_secret_access_key", id
		if id.Value == "" {
			missing, have = "aws_access_key_id", secret
		}
		return Source{}, errorf("profile %q has partial credentials (%s): %s is missing", p.Name, have.Origin(), missing)
	}
	token, ok := p.Get("aws_session_token")
	if !ok || token.Value == "" {
		token, _ = p.Get("aws_security_token")
	}
	src := Source{Kind: SourceStatic, Profile: p.Name, From: from, AccessKeyID: id.Value,
		SecretAccessKey: Secret(secret.Value), SessionToken: Secret(token.Value)}
	// botocore's SharedCredentialProvider and ConfigProvider each read
	// aws_account_id from the section that holds the keys, so an account id
	// in the other file does not count (noteIgnoredAccountID says so).
	if acct, ok := accountID(p); ok && acct.File == id.File {
		src.AccountID = Setting{strings.TrimSpace(acct.Value), acct.Origin()}
	}
	return src, nil
}

// accountID returns the profile's aws_account_id when it is not blank.
func accountID(p *awsconfig.Profile) (awsconfig.Value, bool) {
	v, ok := p.Get("aws_account_id")
	return v, ok && strings.TrimSpace(v.Value) != ""
}

// noteIgnoredAccountID notes an aws_account_id that a static-keys source
// does not use because it is in the other file than the keys.
func (r *resolver) noteIgnoredAccountID(src Source) {
	if src.Kind != SourceStatic || src.AccountID.IsSet() {
		return
	}
	p, _ := r.cfg.Profile(src.Profile)
	if acct, ok := accountID(p); ok {
		id, _ := p.Get("aws_access_key_id")
		goSDK := ""
		if acct.File == r.cfg.ConfigFile {
			// aws-sdk-go-v2 keeps the config file's aws_account_id when it
			// merges in the credentials file's keys (mergeSections).
			goSDK = " (the Go SDK would use it)"
		}
		r.note(fmt.Sprintf("aws_account_id of profile %q (%s) is not used: the profile's keys are in %s, and the AWS CLI takes the account id only from the file that holds the keys%s",
			src.Profile, acct.Origin(), awsconfig.ShortPath(id.File), goSDK))
	}
}

func processSource(p *awsconfig.Profile, from string) Source {
	cmd, _ := p.Get("credential_process")
	src := Source{Kind: SourceProcess, Profile: p.Name, From: from, Command: cmd.Value}
	// botocore ProcessProvider: the output's AccountId, else the profile's
	// aws_account_id (the Go SDK reads only the output's).
	if acct, ok := accountID(p); ok {
		src.AccountID = Setting{strings.TrimSpace(acct.Value), acct.Origin()}
	}
	return src
}

// profileHop reads one hop's settings from a role profile.
func (r *resolver) profileHop(p *awsconfig.Profile) rawHop {
	get := func(key string) Setting {
		v, ok := p.Get(key)
		if !ok {
			return Setting{}
		}
		return Setting{strings.TrimSpace(v.Value), v.Origin()}
	}
	return rawHop{
		profile:     p.Name,
		roleARN:     get("role_arn"),
		sessionName: get("role_session_name"),
		duration:    get("duration_seconds"),
		externalID:  get("external_id"),
		serial:      get("mfa_serial"),
		policy:      get("policy"),
		sourceIdent: get("source_identity"),
		policyARNs:  get("policy_arns"),
		tags:        get("session_tags"),
		transitive:  get("transitive_session_tags"),
		mfaProcess:  get("mfa_process"),
	}
}

// applyLastHopFlags lets command-line flags override the last hop.
func (r *resolver) applyLastHopFlags(h *rawHop) {
	f := r.req.Flags
	set := func(dst *Setting, v, flag string) {
		if v != "" {
			*dst = Setting{v, flag}
		}
	}
	set(&h.sessionName, f.RoleSessionName, "--role-session-name")
	set(&h.duration, f.DurationSeconds, "--duration-seconds")
	set(&h.externalID, f.ExternalID, "--external-id")
	set(&h.serial, f.SerialNumber, "--serial-number")
	set(&h.policy, f.Policy, "--policy")
	set(&h.sourceIdent, f.SourceIdentity, "--source-identity")
	set(&h.tags, f.Tags, "--tags")
	set(&h.policyARNs, strings.Join(f.PolicyARNs, ","), "--policy-arns")
	set(&h.transitive, strings.Join(f.TransitiveTagKeys, ","), "--transitive-tag-keys")
}

// firstGiven names the first hop flag that was given, or "" if none was.
func (f HopFlags) firstGiven() string {
	for _, c := range []struct {
		name string
		set  bool
	}{
		{"--role-session-name", f.RoleSessionName != ""}, {"--duration-seconds", f.DurationSeconds != ""},
		{"--external-id", f.ExternalID != ""}, {"--serial-number", f.SerialNumber != ""},
		{"--token-code", f.TokenCode != ""}, {"--policy", f.Policy != ""},
		{"--policy-arns", len(f.PolicyARNs) > 0}, {"--source-identity", f.SourceIdentity != ""},
		{"--tags", f.Tags != ""}, {"--transitive-tag-keys", len(f.TransitiveTagKeys) > 0},
	} {
		if c.set {
			return c.name
		}
	}
	return ""
}

func (r *resolver) resolveRegion() {
	p := r.plan
	switch {
	case r.req.Region != "":
		p.Region = Setting{r.req.Region, "--region"}
	case r.env("AWS_REGION") != "":
		p.Region = Setting{r.env("AWS_REGION"), "env AWS_REGION"}
	case r.env("AWS_DEFAULT_REGION") != "":
		p.Region = Setting{r.env("AWS_DEFAULT_REGION"), "env AWS_DEFAULT_REGION"}
	default:
		name := p.Profile.Value
		if name == "" {
			name = "default"
		}
		if prof, ok := r.cfg.Profile(name); ok {
			if v, ok := prof.Get("region"); ok && v.Value != "" {
				p.Region = Setting{strings.TrimSpace(v.Value), v.Origin()}
			}
		}
	}
	p.STSRegion = p.Region.Value
	if p.STSRegion == "" {
		p.STSRegion = defaultSTSRegion
		if len(p.Hops) > 0 {
			r.note("no region configured: STS calls go to " + defaultSTSRegion + " and the child gets no AWS_REGION (set --region or AWS_REGION)")
		}
	}
}

func (r *resolver) resolveEndpoint() {
	if strings.EqualFold(r.env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return
	}
	switch {
	case r.env("AWS_ENDPOINT_URL_STS") != "":
		r.plan.STSEndpoint = Setting{r.env("AWS_ENDPOINT_URL_STS"), "env AWS_ENDPOINT_URL_STS"}
	case r.env("AWS_ENDPOINT_URL") != "":
		r.plan.STSEndpoint = Setting{r.env("AWS_ENDPOINT_URL"), "env AWS_ENDPOINT_URL"}
	}
}

// resolveRetry reads the retry settings of the profile the region comes
// from: the one named (argument, --profile, AWS_PROFILE), else default.
func (r *resolver) resolveRetry() error {
	rt, err := ResolveRetry(r.cfg, r.plan.Profile.Value, r.env)
	if err != nil {
		return err
	}
	r.plan.Retry = rt
	if rt.Mode == RetryLegacy {
		n := ""
		if !rt.MaxAttemptsSet() {
			n = fmt.Sprintf(", %d attempts (botocore's legacy mode makes 5)", rt.Attempts())
		}
		r.note(fmt.Sprintf("retry_mode legacy (%s) is botocore's old retry handler; aws-sdk-go-v2 has no legacy mode, so rolehop runs the standard mode%s", rt.ModeFrom, n))
	}
	return nil
}
