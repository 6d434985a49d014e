package sso

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"

	"github.com/rolehop/rolehop/internal/plan"
)

// defaultScope is what the AWS CLI registers for the auth-code flow.
const defaultScope = "sso:account:access"

// browserWait is how long LoginPKCE waits for the browser to come back.
const browserWait = 10 * time.Minute

// LoginPKCE runs the authorization-code flow with PKCE that `aws sso login`
// uses by default since CLI 2.22 (AWS-SEMANTICS §9): register a client for
// a loopback redirect, open <oidc>/authorize in the browser, receive the
// code on http://127.0.0.1:PORT/oauth/callback, check the state, and trade
// the code and verifier for a token. OpenBrowser is required. The wait for
// the browser ends with the first callback request that carries this
// login's state (with a code or an error), after 10 minutes, or with ctx.
func LoginPKCE(ctx context.Context, s *plan.SSO, o LoginOptions) (*Token, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer l.Close()
	redirect := fmt.Sprintf("http://%s/oauth/callback", l.Addr())
	scopes := s.Scopes
	if len(scopes) == 0 {
		scopes = []string{defaultScope}
	}
	client := oidcClient(s, o.Options)
	reg, err := client.RegisterClient(ctx, &ssooidc.RegisterClientInput{
		ClientName:   aws.String(fmt.Sprintf("rolehop-%d", o.now().Unix())),
		ClientType:   aws.String("public"),
		Scopes:       scopes,
		GrantTypes:   []string{"authorization_code", "refresh_token"},
		RedirectUris: []string{"http://127.0.0.1/oauth/callback"},
		IssuerUrl:    aws.String(s.StartURL),
	})
	if err != nil {
		return nil, fmt.Errorf("register with IAM Identity Center (%s): %s", s.Region, apiError(err))
	}
	verifier, state := randomString(64), randomString(32)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {aws.ToString(reg.ClientId)},
		"redirect_uri":          {redirect},
		"state":                 {state},
		"code_challenge_method": {"S256"},
		"scopes":                {strings.Join(scopes, ",")},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
	}
	base := s.OIDCEndpoint
	if base == "" {
		base = "https://oidc." + s.Region + ".amazonaws.com"
	}
	authorize := strings.TrimSuffix(base, "/") + "/authorize?" + q.Encode()

	type result struct{ code, err string }
	got := make(chan result, 1)
	// Any local user can reach this port (it shows in /proc/net/tcp): only
	// a request with this login's state is the authorization server's
	// answer. Others are refused, without a word about the state, and the
	// wait goes on, so a stray or hostile request cannot end the login.
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/callback" {
			http.NotFound(w, r)
			return
		}
		v := r.URL.Query()
		if subtle.ConstantTimeCompare([]byte(v.Get("state")), []byte(state)) != 1 {
			http.Error(w, "rolehop: this is not the answer to the sign-in in progress (wrong or missing state); still waiting", http.StatusBadRequest)
			return
		}
		var res result
		switch {
		case v.Get("error") != "":
			res.err = printable(v.Get("error") + " " + v.Get("error_description"))
		case v.Get("code") != "":
			res.code = v.Get("code")
		default:
			http.Error(w, "rolehop: the redirect carried neither a code nor an error; still waiting", http.StatusBadRequest)
			return
		}
		select {
		case got <- res:
		default:
			http.Error(w, "rolehop: the sign-in had its answer already", http.StatusConflict)
			return
		}
		if res.err != "" {
			http.Error(w, "rolehop: sign-in failed: "+res.err, http.StatusBadRequest)
		} else {
			fmt.Fprintln(w, "rolehop: signed in. You can close this window.")
		}
	})}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	fmt.Fprintf(o.Out, "rolehop: opening the browser to sign in to %s; if it does not open, visit:\n%s\n", describe(s), authorize)
	if err := o.OpenBrowser(authorize); err != nil {
		fmt.Fprintf(o.Out, "rolehop: could not open a browser (%v): open the URL yourself\n", err)
	}
	ctx, cancel := context.WithTimeout(ctx, browserWait)
	defer cancel()
	var res result
	stop := o.waiting(s)
	select {
	case <-ctx.Done():
		stop()
		return nil, fmt.Errorf("no answer from the browser: %v (use --use-device-code on machines without one)", ctx.Err())
	case res = <-got:
		stop()
	}
	if res.err != "" {
		return nil, fmt.Errorf("sign-in to %s failed: %s", describe(s), res.err)
	}
	out, err := client.CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String("authorization_code"),
		Code: aws.String(res.code), RedirectUri: aws.String(redirect), CodeVerifier: aws.String(verifier),
	})
	if err != nil {
		return nil, fmt.Errorf("sign-in to %s failed: %s", describe(s), apiError(err))
	}
	return storeLogin(s, o.Options, reg, out)
}

// printable is s on one line without control characters: the redirect's
// error text goes to the terminal.
func printable(s string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)), " ")
}

// randomString is n URL-safe random characters.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}
