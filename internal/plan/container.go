package plan

import (
	"net"
	"net/url"
	"strings"
)

// ecsHost is where AWS_CONTAINER_CREDENTIALS_RELATIVE_URI points.
const ecsHost = "http://169.254.170.2"

// ContainerURL returns the container credentials URL from the two
// environment variables, or "" when neither is set. The relative URI wins
// and is appended to http://169.254.170.2, so it must start with "/"
// (aws-sdk-go-v2 config/resolve_credentials.go ecsContainerURI; botocore
// utils.py ContainerMetadataFetcher.full_url). A plain-http full URI must
// point at a loopback address, "localhost" or one of the ECS/EKS
// link-local addresses 169.254.170.2, 169.254.170.23 and fd00:ec2::23;
// https may go to any host (aws-sdk-go-v2 resolveLocalHTTPCredProvider,
// isAllowedHost; botocore ContainerMetadataFetcher._validate_allowed_url).
// Anything else is an error rather than a credential request to another
// host. Host names other than localhost are refused, not resolved: botocore
// does the same, while aws-sdk-go-v2 resolves a name and accepts it when
// every address is allowed.
func ContainerURL(relative, full string) (string, error) {
	if relative != "" {
		if !strings.HasPrefix(relative, "/") {
			return "", errorf("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI %q (env) must start with \"/\": it is appended to %s, e.g. /v2/credentials/ID", relative, ecsHost)
		}
		return ecsHost + relative, nil
	}
	if full == "" {
		return "", nil
	}
	const accepted = "plain http is only allowed to a loopback address, localhost, 169.254.170.2, 169.254.170.23 or [fd00:ec2::23]; https to any host"
	u, err := url.Parse(full)
	if err != nil || u.Host == "" {
		return "", errorf("AWS_CONTAINER_CREDENTIALS_FULL_URI %q (env) is not a URL: expected e.g. http://localhost:1338/latest/meta-data/container/security-credentials (%s)", full, accepted)
	}
	shown := u.Redacted()
	if u.Hostname() == "" {
		return "", errorf("AWS_CONTAINER_CREDENTIALS_FULL_URI %q (env) has no host: %s", shown, accepted)
	}
	switch u.Scheme {
	case "https":
		return full, nil
	case "http":
		if allowedContainerHost(u.Hostname()) {
			return full, nil
		}
		return "", errorf("AWS_CONTAINER_CREDENTIALS_FULL_URI %q (env): %s", shown, accepted)
	}
	return "", errorf("AWS_CONTAINER_CREDENTIALS_FULL_URI %q (env): the scheme must be http or https (%s)", shown, accepted)
}

func allowedContainerHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	for _, allowed := range []string{"169.254.170.2", "169.254.170.23", "fd00:ec2::23"} {
		if ip.Equal(net.ParseIP(allowed)) {
			return true
		}
	}
	return false
}
