// Package console turns credentials into an AWS Management Console sign-in
// URL through the federation endpoint (AWS-SEMANTICS §10): getSigninToken,
// then a login URL valid for 15 minutes.
package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// DefaultDestination is where the console opens.
const DefaultDestination = "https://console.aws.amazon.com/"

// Endpoint returns the federation endpoint of the partition of region.
func Endpoint(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "https://signin.amazonaws.cn/federation"
	case strings.HasPrefix(region, "us-gov-"):
		return "https://signin.amazonaws-us-gov.com/federation"
	}
	return "https://signin.aws.amazon.com/federation"
}

// Request is one sign-in.
type Request struct {
	Endpoint    string
	Destination string
	Issuer      string
	// SessionDuration asks for a console session of this length. AWS
	// accepts it only for credentials from an AssumeRole call made with an
	// IAM user's long-term keys; 0 leaves it out (the console session then
	// lasts as long as the credentials).
	SessionDuration time.Duration
	HTTPClient      *http.Client
}

// URL returns the sign-in URL for creds, which must be temporary.
func URL(ctx context.Context, creds aws.Credentials, r Request) (string, error) {
	if creds.SessionToken == "" {
		return "", fmt.Errorf("the console needs temporary credentials (with a session token)")
	}
	session, err := json.Marshal(map[string]string{"sessionId": creds.AccessKeyID, "sessionKey": creds.SecretAccessKey, "sessionToken": creds.SessionToken})
	if err != nil {
		return "", err
	}
	q := url.Values{"Action": {"getSigninToken"}, "Session": {string(session)}}
	if r.SessionDuration > 0 {
		q.Set("SessionDuration", fmt.Sprint(int(r.SessionDuration/time.Second)))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.Endpoint+"?"+q.Encode(), nil)
	if err != nil {
		return "", fmt.Errorf("federation endpoint %q: %v", r.Endpoint, err)
	}
	client := r.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 20 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		// The request URL holds the credentials: report the endpoint only.
		return "", fmt.Errorf("cannot reach the federation endpoint %s", r.Endpoint)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		hint := ""
		if r.SessionDuration > 0 {
			hint = " (a console session duration is only allowed for a role assumed directly with an IAM user's keys: drop --duration)"
		}
		return "", fmt.Errorf("the federation endpoint %s refused the credentials: %s%s", r.Endpoint, resp.Status, hint)
	}
	var answer struct{ SigninToken string }
	if err := json.Unmarshal(body, &answer); err != nil || answer.SigninToken == "" {
		return "", fmt.Errorf("the federation endpoint %s answered without a SigninToken", r.Endpoint)
	}
	dest := r.Destination
	if dest == "" {
		dest = DefaultDestination
	}
	issuer := r.Issuer
	if issuer == "" {
		issuer = "rolehop"
	}
	login := url.Values{"Action": {"login"}, "Issuer": {issuer}, "Destination": {dest}, "SigninToken": {answer.SigninToken}}
	return r.Endpoint + "?" + login.Encode(), nil
}

// AdministratorPolicy is passed to GetFederationToken, whose session gets
// the intersection of it and the user's own policies — the user's rights.
const AdministratorPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
