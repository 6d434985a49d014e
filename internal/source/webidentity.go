package source

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

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
	client := sts.NewFromConfig(opts.AWS.Config(opts.STSRegion, aws.AnonymousCredentials{}), func(o *sts.Options) {
		if opts.STSEndpoint != "" {
			o.BaseEndpoint = aws.String(opts.STSEndpoint)
		}
	})
	var token stscreds.IdentityTokenRetriever = tokenRetriever(src, opts)
	if opts.WebIdentityToken != nil {
		token = opts.WebIdentityToken
	}
	return stscreds.NewWebIdentityRoleProvider(client, src.WebIdentityRole.Value, token, func(w *stscreds.WebIdentityRoleOptions) {
		w.RoleSessionName = src.WebIdentitySessionName.Value
	})
}

// tokenRetriever reads the token of a web-identity source on every call:
// the file, or a request to GitHub's OIDC endpoint.
func tokenRetriever(src plan.Source, opts Options) stscreds.IdentityTokenRetriever {
	if src.WebIdentityTokenFile.Value != plan.GitHubOIDC {
		return stscreds.IdentityTokenFile(src.WebIdentityTokenFile.Value)
	}
	client := opts.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	return githubToken{url: getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), bearer: getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"), client: client}
}

// WebIdentityToken is a web-identity token read once, for a chain behind
// the on-disk cache: its claims (Claims) are part of the cache keys, and
// the first AssumeRoleWithWebIdentity sends these very bytes, so the
// credentials stored under a key were issued for a token with that key's
// claims, and STS sees every token whose claims have no entry.
type WebIdentityToken struct {
	claims string
	reread stscreds.IdentityTokenRetriever
	now    func() time.Time

	mu      sync.Mutex
	first   []byte    // the token read first; nil once used
	expires time.Time // its exp claim; zero when it has none
}

// ReadWebIdentityToken reads the token of a SourceWebIdent source once (the
// file, or one request to GitHub's OIDC endpoint) and hashes its claims
// (ClaimsHash). Failures are *Error and never quote the token.
func ReadWebIdentityToken(src plan.Source, opts Options) (*WebIdentityToken, error) {
	r := tokenRetriever(src, opts)
	b, err := r.GetIdentityToken()
	if err != nil {
		return nil, &Error{Source: src, Err: err}
	}
	c, err := parseClaims(b)
	if err != nil {
		return nil, &Error{Source: src, Err: err}
	}
	now := opts.Clock
	if now == nil {
		now = time.Now
	}
	return &WebIdentityToken{claims: c.hash, reread: r, now: now, first: b, expires: c.expires}, nil
}

// Claims is the token's ClaimsHash: what the web-identity step's cache key
// holds of it.
func (t *WebIdentityToken) Claims() string { return t.claims }

// GetIdentityToken implements stscreds.IdentityTokenRetriever. The first
// call returns the token ReadWebIdentityToken read, unless it has expired
// since. Later calls (a refresh in a long-lived process, such as a program
// using the rolehop library) read the token again, as tokens are
// short-lived and rotated, and refuse one whose claims differ from the
// first's: the credentials would go to the cache entry of the first
// token's identity.
func (t *WebIdentityToken) GetIdentityToken() ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b := t.first; b != nil {
		t.first = nil
		if t.expires.IsZero() || t.now().Before(t.expires) {
			return b, nil
		}
	}
	b, err := t.reread.GetIdentityToken()
	if err != nil {
		return nil, err
	}
	c, err := parseClaims(b)
	if err != nil {
		return nil, err
	}
	if c.hash != t.claims {
		return nil, errors.New("the web identity token now names another identity (other claims: subject, repository, ref…) than when this chain was built: run rolehop again")
	}
	return b, nil
}

// errNotJWT is how a token rolehop cannot read claims from is refused. It
// never quotes the token.
const errNotJWT = "the web identity token is not a JWT (header.claims.signature, the claims a base64url JSON object): rolehop keys its credential cache by the token's claims; use --no-cache for another kind of token"

// tokenClaims is what rolehop reads from a token: the hash of its identity
// claims and its expiry.
type tokenClaims struct {
	hash    string
	expires time.Time
}

// ClaimsHash returns the hex SHA-256 of a JWT's claims without exp, iat,
// nbf and jti (RFC 7519 §4.1.4-4.1.7: when the token is valid and which
// token it is, new in every token of the same identity); iss, sub, aud and
// every other claim (for GitHub: repository, ref, job_workflow_ref,
// environment, run_id, …), which a role's trust policy may condition on,
// are hashed. The claims are canonical JSON (sorted keys, numbers as
// written), so the order in which the issuer wrote them does not matter.
// The signature is not verified: STS does that when the token is used. A
// token that is not a JWT with a JSON object of claims is an error that
// does not quote it.
func ClaimsHash(token []byte) (string, error) {
	c, err := parseClaims(token)
	return c.hash, err
}

func parseClaims(token []byte) (tokenClaims, error) {
	parts := bytes.Split(token, []byte("."))
	if len(parts) != 3 {
		return tokenClaims{}, errors.New(errNotJWT)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(string(parts[1]), "="))
	if err != nil {
		return tokenClaims{}, errors.New(errNotJWT)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var claims map[string]any
	if dec.Decode(&claims) != nil || claims == nil || !errors.Is(dec.Decode(new(any)), io.EOF) {
		return tokenClaims{}, errors.New(errNotJWT)
	}
	var c tokenClaims
	if exp, ok := claims["exp"].(json.Number); ok {
		if f, err := exp.Float64(); err == nil && f > 0 && f < 1<<40 {
			c.expires = time.Unix(int64(f), 0)
		}
	}
	for _, k := range []string{"exp", "iat", "nbf", "jti"} {
		delete(claims, k)
	}
	canon, err := json.Marshal(claims)
	if err != nil {
		return tokenClaims{}, errors.New(errNotJWT)
	}
	sum := sha256.Sum256(canon)
	c.hash = hex.EncodeToString(sum[:])
	return c, nil
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
