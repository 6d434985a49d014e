package hop

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolehop/rolehop/internal/plan"
)

// SessionToken opens an MFA session with sts:GetSessionToken, so that one
// MFA code serves every role assumed from it until the session expires.
type SessionToken struct {
	step
	serial, code string
	seconds      int
}

// NewSessionToken returns the MFA-session step in front of hop h, called
// with the long-term keys of prev.
func NewSessionToken(h plan.Hop, seconds int, prev aws.CredentialsProvider, opts Options) *SessionToken {
	label := fmt.Sprintf("MFA session for %s", h.SerialNumber.Value)
	return &SessionToken{step: step{label: label, prev: prev, opts: opts}, serial: h.SerialNumber.Value, code: h.TokenCode.Reveal(), seconds: seconds}
}

// Retrieve implements aws.CredentialsProvider.
func (s *SessionToken) Retrieve(ctx context.Context) (aws.Credentials, error) {
	code, err := s.tokenCode(ctx, s.serial, s.code)
	if err != nil {
		return aws.Credentials{}, err
	}
	out, err := s.sts().GetSessionToken(ctx, &sts.GetSessionTokenInput{
		SerialNumber:    aws.String(s.serial),
		TokenCode:       aws.String(code),
		DurationSeconds: aws.Int32(int32(s.seconds)),
	})
	if err != nil {
		return aws.Credentials{}, s.explain(ctx, err)
	}
	creds := Credentials(out.Credentials, "rolehop:GetSessionToken")
	if err := s.complete(creds, "GetSessionToken"); err != nil {
		return aws.Credentials{}, err
	}
	return creds, nil
}
