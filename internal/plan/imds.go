package plan

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/rolehop/rolehop/internal/awsconfig"
)

// The EC2 instance metadata endpoints of the two endpoint modes
// (aws-sdk-go-v2 feature/ec2/imds/api_client.go defaultIPv4Endpoint,
// defaultIPv6Endpoint; botocore utils.py METADATA_BASE_URL(_IPv6)).
const (
	IMDSEndpointIPv4 = "http://169.254.169.254"
	IMDSEndpointIPv6 = "http://[fd00:ec2::254]"
)

// The instance metadata settings: each is an environment variable, else a
// key of the profile in use (docs/aws-semantics.md, "Instance metadata and
// container endpoints").
const (
	envIMDSEndpoint   = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
	keyIMDSEndpoint   = "ec2_metadata_service_endpoint"
	envIMDSMode       = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"
	keyIMDSMode       = "ec2_metadata_service_endpoint_mode"
	envIMDSUseIPv6    = "AWS_IMDS_USE_IPV6" // botocore only
	keyIMDSUseIPv6    = "imds_use_ipv6"     // botocore only
	envIMDSV1Disabled = "AWS_EC2_METADATA_V1_DISABLED"
	keyIMDSV1Disabled = "ec2_metadata_v1_disabled"
)

// imdsValue is one instance metadata setting as found: its value, the name
// it was set under (variable or key) and where.
type imdsValue struct {
	value, name, where string
}

// from is the Setting.From form: "env NAME", or "KEY, profile "P", FILE:LINE".
func (v imdsValue) from() string {
	if v.where == "env" {
		return "env " + v.name
	}
	return v.name + ", " + v.where
}

// imdsProfile is the profile whose keys configure instance metadata: the
// profile named (argument, --profile, AWS_PROFILE, AWS_DEFAULT_PROFILE),
// else default. Both SDKs read these settings from the profile in use, also
// when instance metadata is the credential_source of a source_profile
// further down the chain (aws-sdk-go-v2 config/resolve_credentials.go
// resolveEC2RoleCredentials builds the client from the loaded config;
// botocore credentials.py create_credential_resolver builds one
// InstanceMetadataProvider from the session's profile).
func (r *resolver) imdsProfile() *awsconfig.Profile {
	name := r.plan.Profile.Value
	if name == "" {
		name = "default"
	}
	p, _ := r.cfg.Profile(name)
	return p
}

// imdsLookup returns the environment variable if it is set, else the
// profile key. An empty value counts as unset, as in aws-sdk-go-v2
// (config/env_config.go, shared_config.go).
func (r *resolver) imdsLookup(envName, key string) (imdsValue, bool) {
	if v := r.env(envName); v != "" {
		return imdsValue{v, envName, "env"}, true
	}
	p := r.imdsProfile()
	if v, ok := p.Get(key); ok && strings.TrimSpace(v.Value) != "" {
		return imdsValue{strings.TrimSpace(v.Value), key, fmt.Sprintf("profile %q, %s", p.Name, v.Origin())}, true
	}
	return imdsValue{}, false
}

// imdsMode resolves the endpoint mode: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE,
// else ec2_metadata_service_endpoint_mode, else botocore's older
// AWS_IMDS_USE_IPV6 / imds_use_ipv6. It returns "IPv4", "IPv6" or "" (not
// set), and the setting that decided. A mode that is neither IPv4 nor IPv6
// is an error, as in both SDKs, even when an endpoint is also set.
func (r *resolver) imdsMode() (string, imdsValue, error) {
	if v, ok := r.imdsLookup(envIMDSMode, keyIMDSMode); ok {
		// aws-sdk-go-v2 trims and compares case-insensitively
		// (feature/ec2/imds/internal/config EndpointModeState.SetFromString);
		// botocore lower-cases (utils.py resolve_imds_endpoint_mode).
		switch m := strings.TrimSpace(v.value); {
		case strings.EqualFold(m, "IPv4"):
			return "IPv4", v, nil
		case strings.EqualFold(m, "IPv6"):
			return "IPv6", v, nil
		}
		return "", v, errorf("%s %q (%s) is not an instance metadata endpoint mode: use IPv4 or IPv6 (case-insensitive)", v.name, v.value, v.where)
	}
	// botocore utils.py ensure_boolean: only "true" (any case) is true.
	if v, ok := r.imdsLookup(envIMDSUseIPv6, keyIMDSUseIPv6); ok && strings.EqualFold(strings.TrimSpace(v.value), "true") {
		return "IPv6", v, nil
	}
	return "", imdsValue{}, nil
}

// imdsEndpoint resolves the instance metadata endpoint and where it came
// from: ec2_metadata_service_endpoint (variable, then profile key) wins over
// any endpoint mode; else the mode picks the IPv6 or IPv4 endpoint; IPv4 is
// the default. notes collects remarks for explain.
func (r *resolver) imdsEndpoint() (ep Setting, notes []string, err error) {
	mode, modeFrom, err := r.imdsMode()
	if err != nil {
		return Setting{}, nil, err
	}
	if v, ok := r.imdsLookup(envIMDSEndpoint, keyIMDSEndpoint); ok {
		if problem, shown := checkIMDSEndpoint(v.value); problem != "" {
			return Setting{}, nil, errorf("%s %q (%s) %s: expected http://HOST[:PORT] or https://HOST[:PORT], an IPv6 address in brackets, e.g. http://127.0.0.1:9911 or %s", v.name, shown, v.where, problem, IMDSEndpointIPv6)
		}
		if mode != "" {
			notes = append(notes, fmt.Sprintf("%s is ignored: %s sets the instance metadata endpoint, which wins over the endpoint mode (as in the SDKs)", modeFrom.from(), v.from()))
		}
		return Setting{v.value, v.from()}, notes, nil
	}
	switch mode {
	case "IPv6":
		return Setting{IMDSEndpointIPv6, modeFrom.from() + " = " + modeFrom.value}, notes, nil
	case "IPv4":
		return Setting{IMDSEndpointIPv4, modeFrom.from() + " = " + modeFrom.value}, notes, nil
	}
	return Setting{IMDSEndpointIPv4, "default: IPv4"}, notes, nil
}

// checkIMDSEndpoint returns what is wrong with an endpoint ("" if nothing)
// and the endpoint as it may be shown (any password masked). Beyond the
// SDKs' checks (botocore utils.py is_valid_uri; aws-sdk-go-v2 parses the URL
// when it sends), rolehop refuses a path, a query and user info: the Go SDK
// replaces the path with the operation's and botocore appends to it, so an
// endpoint with a path means different URLs to different clients.
func checkIMDSEndpoint(s string) (problem, shown string) {
	u, err := url.Parse(s)
	if err != nil {
		if strings.Count(s, ":") > 2 && !strings.Contains(s, "[") {
			return "is not a URL (an IPv6 address needs brackets)", s
		}
		return "is not a URL", s
	}
	shown = u.Redacted()
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "does not start with http:// or https://", shown
	case u.Hostname() == "":
		return "has no host", shown
	case u.User != nil:
		return "holds a user name or password", shown
	case u.Path != "" && u.Path != "/":
		return "has a path (the Go SDK would drop it, botocore would keep it)", shown
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "has a query or fragment", shown
	}
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "has a port outside 1-65535", shown
		}
	}
	return "", shown
}

// imds returns the instance metadata source with its resolved endpoint.
func (r *resolver) imds(from string, tried []string) (Source, error) {
	ep, notes, err := r.imdsEndpoint()
	if err != nil {
		return Source{}, err
	}
	for _, n := range notes {
		r.note(n)
	}
	// rolehop builds its IMDS client with IMDSv1 fallback off (see
	// internal/source): say so when a setting asks for the fallback.
	if v, ok := r.imdsLookup(envIMDSV1Disabled, keyIMDSV1Disabled); ok && !strings.EqualFold(strings.TrimSpace(v.value), "true") {
		r.note(fmt.Sprintf("%s = %s is ignored: rolehop uses IMDSv2 only and never falls back to IMDSv1", v.from(), v.value))
	}
	return Source{Kind: SourceIMDS, From: from, IMDSEndpoint: ep.Value, IMDSEndpointFrom: ep.From, Tried: tried}, nil
}

// checkUnusedIMDS warns when the instance metadata settings are malformed
// although instance metadata is not this plan's source: rolehop ignores
// them then, but the AWS CLI refuses to load any credentials with them
// (botocore builds its instance metadata provider, and validates these
// settings, for every credential lookup), which a child of exec would hit.
func (r *resolver) checkUnusedIMDS() {
	if r.plan.Source.Kind == SourceIMDS || r.plan.Source.Kind == SourceProvided {
		return
	}
	if _, _, err := r.imdsEndpoint(); err != nil {
		r.plan.Warnings = append(r.plan.Warnings, err.Error()+"; rolehop does not use instance metadata here, but the AWS CLI refuses to load any credentials with this setting")
	}
}

// configuresIMDS reports whether the profile itself sets the instance
// metadata endpoint or endpoint mode (or botocore's imds_use_ipv6).
func configuresIMDS(p *awsconfig.Profile) bool {
	return p.Has(keyIMDSEndpoint) || p.Has(keyIMDSMode) || p.Has(keyIMDSUseIPv6)
}

// holdsCredentials reports whether the profile has any key that makes a
// profile a source of credentials or a role; a profile with none of them
// holds only settings (region, instance metadata endpoint, …).
// login_session is the `aws login` source's key.
func holdsCredentials(p *awsconfig.Profile) bool {
	for _, k := range []string{
		"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token",
		"credential_process", "credential_source", "source_profile", "role_arn", "web_identity_token_file",
		"sso_session", "sso_start_url", "sso_account_id", "sso_role_name", "login_session",
	} {
		if _, ok := p.Get(k); ok {
			return true
		}
	}
	return false
}
