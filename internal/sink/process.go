package sink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// processDocument is the credential_process Version 1 object. Field order is
// the key order of the output.
type processDocument struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken,omitempty"`
	Expiration      string `json:"Expiration,omitempty"`
	AccountID       string `json:"AccountId,omitempty"`
}

// ProcessJSON returns creds as the credential_process Version 1 document,
// keys in this order: Version (the JSON number 1), AccessKeyId,
// SecretAccessKey, SessionToken (when there is one), Expiration (when
// creds.CanExpire; RFC 3339 UTC "2006-01-02T15:04:05Z"), AccountId (when
// known). It is indented with two spaces and ends with a newline, like
// `aws configure export-credentials`. Both keys must be present, and every
// value must be valid UTF-8 (JSON would silently replace bad bytes).
func ProcessJSON(creds aws.Credentials) ([]byte, error) {
	if err := checkKeys(creds); err != nil {
		return nil, err
	}
	doc := processDocument{
		Version:         1,
		AccessKeyID:     creds.AccessKeyID,
		SecretAccessKey: creds.SecretAccessKey,
		SessionToken:    creds.SessionToken,
		AccountID:       creds.AccountID,
	}
	if creds.CanExpire {
		doc.Expiration = formatExpiration(creds.Expires)
	}
	for _, f := range []struct{ name, value string }{
		{"AccessKeyId", doc.AccessKeyID},
		{"SecretAccessKey", doc.SecretAccessKey},
		{"SessionToken", doc.SessionToken},
		{"AccountId", doc.AccountID},
	} {
		if !utf8.ValidString(f.value) {
			return nil, fmt.Errorf("cannot write %s as JSON: the value contains invalid UTF-8", f.name)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		// Strings and an int always encode; keep the value out of the message.
		return nil, errors.New("cannot encode credential_process JSON")
	}
	return buf.Bytes(), nil
}
