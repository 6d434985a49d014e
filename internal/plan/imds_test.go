package plan

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// imdsConfig has profiles that configure instance metadata in each way.
const imdsConfig = `[default]
region = us-east-1
ec2_metadata_service_endpoint = http://127.0.0.1:9911

[profile v6]
ec2_metadata_service_endpoint_mode = IPv6

[profile v6-lower]
ec2_metadata_service_endpoint_mode = ipv6

[profile v4]
ec2_metadata_service_endpoint_mode = IPv4

[profile both]
ec2_metadata_service_endpoint = http://[::1]:9911/
ec2_metadata_service_endpoint_mode = IPv6

[profile legacy-v6]
imds_use_ipv6 = true
region = eu-west-1

[profile legacy-and-mode]
imds_use_ipv6 = true
ec2_metadata_service_endpoint_mode = IPv4

[profile role-imds]
role_arn = arn:aws:iam::222222222222:role/prod
credential_source = Ec2InstanceMetadata
ec2_metadata_service_endpoint = http://127.0.0.1:9922

[profile top]
role_arn = arn:aws:iam::111111111111:role/dev
source_profile = role-imds

[profile regiononly]
region = eu-west-1

[profile v1-allowed]
ec2_metadata_service_endpoint = http://127.0.0.1:9911
ec2_metadata_v1_disabled = false

[profile bad-mode]
ec2_metadata_service_endpoint_mode = IPv7

[profile bad-mode-with-endpoint]
ec2_metadata_service_endpoint = http://127.0.0.1:9911
ec2_metadata_service_endpoint_mode = dual

[profile with-path]
ec2_metadata_service_endpoint = http://127.0.0.1:9911/imds

[profile keys-and-bad-mode]
aws_access_key_id = AKIAKEYS000000000001
aws_secret_access_key = keysecret
ec2_metadata_service_endpoint_mode = both
`

// TestIMDSEndpointResolution is the precedence table of the instance
// metadata endpoint (docs/aws-semantics.md): endpoint variable > endpoint
// key of the profile in use > mode variable > mode key > imds_use_ipv6 >
// IPv4.
func TestIMDSEndpointResolution(t *testing.T) {
	cfg := load(t, imdsConfig, "")
	noDefault := load(t, "[profile v6]\nec2_metadata_service_endpoint_mode = IPv6\n", "")
	tests := []struct {
		name      string
		noDefault bool // resolve without imdsConfig's [default]
		env       env
		profile   string
		endpoint  string
		from      string // fragment of IMDSEndpointFrom
		note      string // fragment of a note, if one is expected
	}{
		{name: "nothing set: IPv4", noDefault: true, endpoint: IMDSEndpointIPv4, from: "default: IPv4"},
		{name: "endpoint variable", noDefault: true, env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9911"}, endpoint: "http://127.0.0.1:9911", from: "env AWS_EC2_METADATA_SERVICE_ENDPOINT"},
		{name: "endpoint key of the default profile", endpoint: "http://127.0.0.1:9911", from: `ec2_metadata_service_endpoint, profile "default", `},
		{name: "endpoint variable beats the profile key", env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://localhost:1234"}, endpoint: "http://localhost:1234", from: "env AWS_EC2_METADATA_SERVICE_ENDPOINT"},
		{name: "mode variable IPv6", noDefault: true, env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"}, endpoint: IMDSEndpointIPv6, from: "env AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE = IPv6"},
		{name: "mode is case-insensitive and trimmed (Go SDK)", noDefault: true, env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": " ipv6 "}, endpoint: IMDSEndpointIPv6, from: "ENDPOINT_MODE"},
		{name: "mode variable IPv4", noDefault: true, env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "ipv4"}, endpoint: IMDSEndpointIPv4, from: "env AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE = ipv4"},
		{name: "mode key of the named profile", profile: "v6", endpoint: IMDSEndpointIPv6, from: `ec2_metadata_service_endpoint_mode, profile "v6"`},
		{name: "mode key, lower case", profile: "v6-lower", endpoint: IMDSEndpointIPv6, from: "= ipv6"},
		{name: "mode variable beats the mode key", env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv4"}, profile: "v6", endpoint: IMDSEndpointIPv4, from: "env AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"},
		{name: "endpoint key beats the mode key in the same profile", profile: "both", endpoint: "http://[::1]:9911/", from: `ec2_metadata_service_endpoint, profile "both"`, note: "is ignored"},
		{name: "endpoint key beats the mode variable", env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"}, endpoint: "http://127.0.0.1:9911", from: `profile "default"`, note: "env AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is ignored"},
		{name: "the named profile's settings, not the default's", profile: "v4", endpoint: IMDSEndpointIPv4, from: `ec2_metadata_service_endpoint_mode, profile "v4"`},
		{name: "AWS_PROFILE names the profile in use", env: env{"AWS_PROFILE": "v6"}, endpoint: IMDSEndpointIPv6, from: `profile "v6"`},
		{name: "botocore's imds_use_ipv6", profile: "legacy-v6", env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT": ""}, endpoint: IMDSEndpointIPv6, from: "imds_use_ipv6"},
		{name: "AWS_IMDS_USE_IPV6", noDefault: true, env: env{"AWS_IMDS_USE_IPV6": "TRUE"}, endpoint: IMDSEndpointIPv6, from: "env AWS_IMDS_USE_IPV6"},
		{name: "AWS_IMDS_USE_IPV6 other than true is false", noDefault: true, env: env{"AWS_IMDS_USE_IPV6": "1"}, endpoint: IMDSEndpointIPv4, from: "default"},
		{name: "the mode beats imds_use_ipv6", profile: "legacy-and-mode", endpoint: IMDSEndpointIPv4, from: "ec2_metadata_service_endpoint_mode"},
		{name: "IMDSv1 allowed by a setting: noted, not done", profile: "v1-allowed", endpoint: "http://127.0.0.1:9911", from: "v1-allowed", note: "IMDSv2 only"},
		{name: "IMDSv1 allowed by the variable", noDefault: true, env: env{"AWS_EC2_METADATA_V1_DISABLED": "false"}, endpoint: IMDSEndpointIPv4, note: "env AWS_EC2_METADATA_V1_DISABLED = false is ignored"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			if tc.noDefault {
				c = noDefault
			}
			p, err := resolve(t, c, tc.env, Request{Profile: tc.profile, ProfileFrom: "argument"})
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if p.Source.Kind != SourceIMDS {
				t.Fatalf("source = %s (%s), want instance metadata", p.Source.Kind, p.Source.From)
			}
			if p.Source.IMDSEndpoint != tc.endpoint || !strings.Contains(p.Source.IMDSEndpointFrom, tc.from) {
				t.Errorf("endpoint = %q from %q, want %q from …%s…", p.Source.IMDSEndpoint, p.Source.IMDSEndpointFrom, tc.endpoint, tc.from)
			}
			if tc.note != "" {
				wantNote(t, p, tc.note)
			} else if len(p.Notes) > 0 {
				t.Errorf("unexpected notes %q", p.Notes)
			}
		})
	}
}

// TestIMDSSource: which chains reach instance metadata, and with which
// endpoint.
func TestIMDSSource(t *testing.T) {
	cfg := load(t, imdsConfig, "")
	t.Run("credential_source reads the profile in use", func(t *testing.T) {
		p, err := resolve(t, cfg, nil, Request{Profile: "role-imds"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Source.Kind != SourceIMDS || p.Source.IMDSEndpoint != "http://127.0.0.1:9922" || len(p.Hops) != 1 {
			t.Errorf("source %+v, %d hops", p.Source, len(p.Hops))
		}
	})
	t.Run("a source_profile's settings are not read (SDK rule), with a note", func(t *testing.T) {
		p, err := resolve(t, cfg, nil, Request{Profile: "top"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Source.Kind != SourceIMDS || p.Source.IMDSEndpoint != IMDSEndpointIPv4 || !strings.Contains(p.Source.IMDSEndpointFrom, "default") || len(p.Hops) != 2 {
			t.Errorf("source %+v, %d hops", p.Source, len(p.Hops))
		}
		wantNote(t, p, `profile "role-imds" sets the instance metadata endpoint`)
	})
	t.Run("default profile of settings only: ambient chain goes on", func(t *testing.T) {
		p, err := resolve(t, cfg, nil, Request{RoleARNs: []string{roleProd}})
		if err != nil {
			t.Fatal(err)
		}
		if p.Source.Kind != SourceIMDS || p.Source.IMDSEndpoint != "http://127.0.0.1:9911" || len(p.Source.Tried) != 4 || !strings.Contains(p.Source.Tried[2], "settings only") {
			t.Errorf("source %+v", p.Source)
		}
	})
	t.Run("default profile of settings only, then the container", func(t *testing.T) {
		p, err := resolve(t, cfg, env{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x"}, Request{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Source.Kind != SourceContainer || p.Source.ContainerURLFrom != "env AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" {
			t.Errorf("source %+v", p.Source)
		}
	})
	t.Run("default profile of settings only, instance metadata disabled", func(t *testing.T) {
		_, err := resolve(t, cfg, env{"AWS_EC2_METADATA_DISABLED": "TRUE"}, Request{})
		var nc *NoCredentialsError
		if !errors.As(err, &nc) || !strings.Contains(err.Error(), "settings only") || !strings.Contains(err.Error(), "disabled by AWS_EC2_METADATA_DISABLED") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("AWS_EC2_METADATA_DISABLED must say true", func(t *testing.T) {
		p, err := resolve(t, cfg, env{"AWS_EC2_METADATA_DISABLED": "1"}, Request{})
		if err != nil || p.Source.Kind != SourceIMDS {
			t.Errorf("plan %+v, err %v", p, err)
		}
	})
	t.Run("named profile that configures instance metadata", func(t *testing.T) {
		p, err := resolve(t, cfg, nil, Request{Profile: "v6", ProfileFrom: "argument"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Source.Kind != SourceIMDS || p.Source.Profile != "v6" || !strings.Contains(p.Source.From, "holds no credentials") || len(p.Source.Tried) != 0 {
			t.Errorf("source %+v", p.Source)
		}
	})
	t.Run("named profile that configures instance metadata, container set", func(t *testing.T) {
		p, err := resolve(t, cfg, env{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:80/creds"}, Request{Profile: "v6"})
		if err != nil || p.Source.Kind != SourceContainer || p.Source.Profile != "v6" {
			t.Errorf("plan %+v, err %v", p, err)
		}
	})
	t.Run("named profile that configures instance metadata, disabled", func(t *testing.T) {
		_, err := resolve(t, cfg, env{"AWS_EC2_METADATA_DISABLED": "true"}, Request{Profile: "v6"})
		if !IsError(err) || !strings.Contains(err.Error(), "AWS_EC2_METADATA_DISABLED") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("named profile without credentials or instance metadata settings stays an error", func(t *testing.T) {
		_, err := resolve(t, cfg, nil, Request{Profile: "regiononly"})
		if !IsError(err) || !strings.Contains(err.Error(), "has no credentials") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("explain shows the endpoint and where it came from", func(t *testing.T) {
		p, err := resolve(t, cfg, nil, Request{Profile: "v6"})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := p.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "endpoint  "+IMDSEndpointIPv6) || !strings.Contains(b.String(), `(ec2_metadata_service_endpoint_mode, profile "v6"`) {
			t.Errorf("explain text:\n%s", b.String())
		}
		b.Reset()
		if err := p.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), `"imds_endpoint": "http://[fd00:ec2::254]"`) || !strings.Contains(b.String(), `"imds_endpoint_from": "ec2_metadata_service_endpoint_mode, profile \"v6\"`) {
			t.Errorf("explain json:\n%s", b.String())
		}
	})
}

// TestIMDSSettingErrors: a bad mode or a malformed endpoint is a one-line
// usage error naming the setting, where it is, and what is accepted.
func TestIMDSSettingErrors(t *testing.T) {
	cfg := load(t, imdsConfig, "")
	tests := []struct {
		name    string
		env     env
		profile string
		want    []string
	}{
		{name: "mode variable", env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "ipv7"}, want: []string{`AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE "ipv7" (env)`, "IPv4 or IPv6"}},
		{name: "mode key", profile: "bad-mode", want: []string{`ec2_metadata_service_endpoint_mode "IPv7" (profile "bad-mode", `, "config:", "IPv4 or IPv6"}},
		{name: "bad mode with an endpoint set (both SDKs refuse it too)", profile: "bad-mode-with-endpoint", want: []string{`"dual"`, "IPv4 or IPv6"}},
		{name: "endpoint without a scheme", env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "127.0.0.1:9911"}, want: []string{`AWS_EC2_METADATA_SERVICE_ENDPOINT "127.0.0.1:9911" (env)`, "http://HOST[:PORT]"}},
		{name: "endpoint with another scheme", env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "ftp://127.0.0.1"}, want: []string{"http:// or https://"}},
		{name: "IPv6 endpoint without brackets", env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://fd00:ec2::254"}, want: []string{"needs brackets", "http://[fd00:ec2::254]"}},
		{name: "endpoint with a path", profile: "with-path", want: []string{`ec2_metadata_service_endpoint "http://127.0.0.1:9911/imds" (profile "with-path", `, "has a path"}},
		{name: "endpoint with a query", env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9911?x=1"}, want: []string{"query"}},
		{name: "endpoint without a host", env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://:9911"}, want: []string{"has no host"}},
		{name: "endpoint port out of range", env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:99999"}, want: []string{"port"}},
		{name: "endpoint with an empty port", env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:"}, want: []string{"port"}},
		{name: "endpoint with a password (masked)", env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://me:hunter22@127.0.0.1"}, want: []string{"user name or password", "me:xxxxx@"}},
		{name: "credential_source profile with a bad variable", env: env{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "v6"}, profile: "role-imds", want: []string{`"v6"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := resolve(t, cfg, tc.env, Request{Profile: tc.profile})
			if !IsError(err) {
				t.Fatalf("err = %v (%T), want a usage error", err, err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || strings.Contains(msg, "hunter22") {
				t.Errorf("message has several lines or a password: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
	t.Run("unused bad settings are a warning, not an error", func(t *testing.T) {
		p, err := resolve(t, cfg, nil, Request{Profile: "keys-and-bad-mode"})
		if err != nil || p.Source.Kind != SourceStatic {
			t.Fatalf("plan %+v, err %v", p, err)
		}
		wantWarning(t, p, `ec2_metadata_service_endpoint_mode "both"`)
		wantWarning(t, p, "the AWS CLI refuses")
	})
}

func TestContainerSource(t *testing.T) {
	cfg := load(t, "", "")
	t.Run("token file outranks the token variable", func(t *testing.T) {
		p, err := resolve(t, cfg, env{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials",
			"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token",
			"AWS_CONTAINER_AUTHORIZATION_TOKEN":      "ignored"}, Request{})
		if err != nil {
			t.Fatal(err)
		}
		s := p.Source
		if s.Kind != SourceContainer || s.ContainerToken != "" || s.ContainerTokenFrom != "env AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" || s.ContainerURLFrom != "env AWS_CONTAINER_CREDENTIALS_FULL_URI" {
			t.Errorf("source %+v", s)
		}
		wantNote(t, p, "the file wins")
	})
	t.Run("relative URI outranks the full URI", func(t *testing.T) {
		p, err := resolve(t, cfg, env{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1/x", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc",
			"AWS_CONTAINER_AUTHORIZATION_TOKEN": "tok"}, Request{})
		if err != nil {
			t.Fatal(err)
		}
		if s := p.Source; s.ContainerURL != "http://169.254.170.2/v2/credentials/abc" || s.ContainerToken != "tok" || s.ContainerTokenFrom != "env AWS_CONTAINER_AUTHORIZATION_TOKEN" {
			t.Errorf("source %+v", s)
		}
		wantNote(t, p, "the relative URI wins")
	})
	t.Run("explain text names the token's origin, not the token", func(t *testing.T) {
		p, err := resolve(t, cfg, env{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://[fd00:ec2::23]/v1/credentials", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "s3cr3t-token"}, Request{})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := p.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.Contains(out, "s3cr3t-token") || !strings.Contains(out, "(env AWS_CONTAINER_AUTHORIZATION_TOKEN)") || !strings.Contains(out, "http://[fd00:ec2::23]/v1/credentials  (env AWS_CONTAINER_CREDENTIALS_FULL_URI)") {
			t.Errorf("explain text:\n%s", out)
		}
	})
}

// FuzzIMDSEndpoint: the endpoint check never panics; what it accepts is an
// http(s) URL with a host and no path, query or user info, which the Go
// SDK can use as it is; what it shows never holds a password.
func FuzzIMDSEndpoint(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:9911", "http://[fd00:ec2::254]", "http://[::1]:9911/", "https://imds.example/",
		"127.0.0.1:9911", "http://fd00:ec2::254", "http://u:p@h/", "http://h/x?y#z", "http://:1", "http://h:0", "HTTP://H"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		problem, shown := checkIMDSEndpoint(s)
		if u, err := url.Parse(s); err == nil && u.User != nil {
			// The password may also be text of the fragment ("//:p@#:p@"),
			// which is not a secret: look where a password is.
			if pw, ok := u.User.Password(); ok && pw != "" && pw != "xxxxx" {
				su, err := url.Parse(shown)
				leaked := strings.Contains(shown, ":"+pw+"@")
				if err == nil {
					spw, _ := su.User.Password()
					leaked = spw == pw
				}
				if leaked {
					t.Fatalf("shown %q holds the password", shown)
				}
			}
		}
		if problem != "" {
			return
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("accepted %q (%+v, %v)", s, u, err)
		}
	})
}

// FuzzContainerURL: ContainerURL never panics, its errors are one-line
// usage errors, and a plain-http URL it accepts points at an allowed host.
func FuzzContainerURL(f *testing.F) {
	for _, s := range []string{"http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/c", "http://localhost:1338/x", "https://e.example/x",
		"http://10.0.0.1/", "http://[::1/", "ftp://localhost/"} {
		f.Add("", s)
	}
	f.Add("/v2/credentials/x", "")
	f.Add("v2", "")
	f.Fuzz(func(t *testing.T, relative, full string) {
		got, err := ContainerURL(relative, full)
		if err != nil {
			if !IsError(err) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %T %q", err, err)
			}
			return
		}
		if relative != "" {
			if got != ecsHost+relative || !strings.HasPrefix(relative, "/") {
				t.Fatalf("ContainerURL(%q, %q) = %q", relative, full, got)
			}
			return
		}
		if got == "" {
			if full != "" {
				t.Fatalf("ContainerURL(%q) = \"\" without an error", full)
			}
			return
		}
		u, err := url.Parse(got)
		if err != nil || (u.Scheme == "http" && !allowedContainerHost(u.Hostname())) || (u.Scheme != "http" && u.Scheme != "https") {
			t.Fatalf("accepted %q", got)
		}
	})
}
