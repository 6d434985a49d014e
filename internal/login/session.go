// Package login is the `aws login` session for rolehop (AWS CLI v2.32+): a
// profile's login_session names a console sign-in whose credentials the AWS
// CLI caches in $AWS_LOGIN_CACHE_DIRECTORY or ~/.aws/login/cache, and
// refreshes with the AWS Sign-In service's CreateOAuth2Token and a DPoP
// proof. rolehop reads and refreshes the very same file, so a session
// started by `aws login` serves both tools, and either one's refresh the
// other.
package login

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rolehop/rolehop/internal/jsonobj"
	"github.com/rolehop/rolehop/internal/plan"
)

// timeFormat is how botocore writes accessToken.expiresAt
// (botocore/credentials.py, LoginCredentialFetcher.refresh_credentials).
const timeFormat = "2006-01-02T15:04:05Z"

// FileName is the cache file of a login_session (plan.LoginFileName).
func FileName(session string) string { return plan.LoginFileName(session) }

// Session is a cache file's content. Fields rolehop does not know, at the
// top level and inside accessToken, are kept byte for byte on rewrite.
type Session struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	AccountID       string
	ExpiresAt       time.Time
	ClientID        string
	RefreshToken    string
	DPoPKey         string

	raw    jsonobj.Object
	access jsonobj.Object // the accessToken member
}

// required are the fields a session needs, as botocore and the Go SDK
// check them (LoginCredentialFetcher._REQUIRED_TOKEN_FIELDS,
// logincreds loginToken.Validate).
var required = []string{"accessToken.accessKeyId", "accessToken.secretAccessKey", "accessToken.sessionToken",
	"accessToken.accountId", "accessToken.expiresAt", "clientId", "refreshToken", "dpopKey"}

// Parse reads a cache file. Errors say what is missing or malformed and
// never quote the file (it holds keys and tokens).
func Parse(b []byte) (*Session, error) {
	s := &Session{raw: jsonobj.Object{}, access: jsonobj.Object{}}
	if err := json.Unmarshal(b, &s.raw); err != nil || s.raw == nil {
		return nil, errors.New("is not a JSON object")
	}
	if v, ok := s.raw["accessToken"]; ok && json.Unmarshal(v, &s.access) != nil {
		return nil, errors.New("has an accessToken that is not a JSON object")
	}
	str := func(o jsonobj.Object, k string) string { v, _ := o.String(k); return v }
	s.AccessKeyID, s.SecretAccessKey, s.SessionToken = str(s.access, "accessKeyId"), str(s.access, "secretAccessKey"), str(s.access, "sessionToken")
	s.AccountID = str(s.access, "accountId")
	s.ClientID, s.RefreshToken, s.DPoPKey = str(s.raw, "clientId"), str(s.raw, "refreshToken"), str(s.raw, "dpopKey")
	var missing []string
	for _, k := range required {
		if strings.HasPrefix(k, "accessToken.") && str(s.access, strings.TrimPrefix(k, "accessToken.")) == "" ||
			!strings.HasPrefix(k, "accessToken.") && str(s.raw, k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("lacks %s", strings.Join(missing, ", "))
	}
	t, err := parseTime(str(s.access, "expiresAt"))
	if err != nil {
		return nil, errors.New("has an accessToken.expiresAt that is not a time")
	}
	s.ExpiresAt = t
	return s, nil
}

// parseTime reads the expiry as botocore writes it ("…Z") or as the Go SDK
// does (RFC 3339 with fractions), to the second.
func parseTime(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC().Truncate(time.Second), nil
}

// Credentials are the session's current credentials.
func (s *Session) Credentials() aws.Credentials {
	return aws.Credentials{AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey, SessionToken: s.SessionToken,
		CanExpire: true, Expires: s.ExpiresAt, AccountID: s.AccountID, Source: "rolehop:login"}
}

// Marshal encodes the session as the AWS CLI writes it, with every field
// rolehop does not know kept as it was.
func (s *Session) Marshal() ([]byte, error) {
	access := s.access.Clone()
	access.SetString("accessKeyId", s.AccessKeyID)
	access.SetString("secretAccessKey", s.SecretAccessKey)
	access.SetString("sessionToken", s.SessionToken)
	access.SetString("accountId", s.AccountID)
	access.SetString("expiresAt", s.ExpiresAt.UTC().Format(timeFormat))
	b, err := access.Marshal()
	if err != nil {
		return nil, err
	}
	raw := s.raw.Clone()
	raw["accessToken"] = b
	raw.SetString("clientId", s.ClientID)
	raw.SetString("refreshToken", s.RefreshToken)
	raw.SetString("dpopKey", s.DPoPKey)
	return raw.Marshal()
}
