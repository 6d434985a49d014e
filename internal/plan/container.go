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
// (AWS-SEMANTICS §7). A plain-http full URI must point at a loopback address,
// "localhost" or one of the ECS/EKS link-local addresses, as botocore and
// aws-sdk-go-v2 require; anything else is an error rather than a silent
// credential leak to another host.
func ContainerURL(relative, full string) (string, error) {
	if relative != "" {
		return ecsHost + relative, nil
	}
	if full == "" {
		return "", nil
	}
	u, err := url.Parse(full)
	if err != nil || u.Host == "" {
		return "", errorf("AWS_CONTAINER_CREDENTIALS_FULL_URI %q is not a URL: expected e.g. http://localhost:1338/latest/meta-data/container/security-credentials", full)
	}
	switch u.Scheme {
	case "https":
		return full, nil
	case "http":
		if allowedContainerHost(u.Hostname()) {
			return full, nil
		}
		return "", errorf("AWS_CONTAINER_CREDENTIALS_FULL_URI %q: plain http is only allowed to a loopback address, localhost, 169.254.170.2, 169.254.170.23 or fd00:ec2::23; use https for other hosts", full)
	}
	return "", errorf("AWS_CONTAINER_CREDENTIALS_FULL_URI %q: scheme must be http or https", full)
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
