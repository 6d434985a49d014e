package source

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolehop/rolehop/internal/plan"
)

// githubAudience is what AWS's OIDC provider for GitHub expects by default
// (aws-actions/configure-aws-credentials uses the same).
const githubAudience = "sts.amazonaws.com"

// webIdentity is AssumeRoleWithWebIdentity with the SDK's provider. The
// call is unsigned, so the STS client has anonymous credentials.
func webIdentity(src plan.Source, opts Options) aws.CredentialsProvider {
	o := sts.Options{Region: opts.STSRegion, Credentials: aws.AnonymousCredentials{}, AppID: "rolehop", RetryMaxAttempts: 3}
	if opts.HTTPClient != nil {
		o.HTTPClient = opts.HTTPClient
	}
	if opts.STSEndpoint != "" {
		o.BaseEndpoint = aws.String(opts.STSEndpoint)
	}
	var token stscreds.IdentityTokenRetriever = stscreds.IdentityTokenFile(src.WebIdentityTokenFile.Value)
	if src.WebIdentityTokenFile.Value == plan.GitHubOIDC {
		client := opts.HTTPClient
		if client == nil {
			client = http.DefaultClient
		}
		token = githubToken{url: opts.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), bearer: opts.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"), client: client}
	}
	return stscreds.NewWebIdentityRoleProvider(sts.New(o), src.WebIdentityRole.Value, token, func(w *stscreds.WebIdentityRoleOptions) {
		w.RoleSessionName = src.WebIdentitySessionName.Value
	})
}

// githubToken asks GitHub Actions' OIDC endpoint for a token, as
// actions/core getIDToken does: GET ACTIONS_ID_TOKEN_REQUEST_URL with
// &audience=…, Authorization: bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN,
// answer {"value": "<jwt>"}.
type githubToken struct {
	url, bearer string
	client      *http.Client
}

// GetIdentityToken implements stscreds.IdentityTokenRetriever.
func (g githubToken) GetIdentityToken() ([]byte, error) {
	sep := "?"
	if strings.Contains(g.url, "?") {
		sep = "&"
	}
	req, err := http.NewRequest(http.MethodGet, g.url+sep+"audience="+url.QueryEscape(githubAudience), nil)
	if err != nil {
		return nil, fmt.Errorf("ACTIONS_ID_TOKEN_REQUEST_URL: %v", err)
	}
	req.Header.Set("Authorization", "bearer "+g.bearer)
	req.Header.Set("Accept", "application/json")
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GitHub OIDC token request: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("GitHub OIDC token request: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GitHub OIDC token endpoint answered %s: does the job have `permissions: id-token: write`?", resp.Status)
	}
	var answer struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.Value == "" {
		return nil, fmt.Errorf("GitHub OIDC token endpoint: no token in the answer")
	}
	return []byte(answer.Value), nil
}
