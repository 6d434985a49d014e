package plan

import (
	"errors"
	"fmt"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/keychain"
)

// HopFlags are the `aws sts assume-role` parameters given on the command
// line. They apply to the last hop of the chain. An empty string means
// "not given".
type HopFlags struct {
	RoleSessionName   string
	DurationSeconds   string
	ExternalID        string
	SerialNumber      string
	TokenCode         string
	Policy            string // JSON, or file://PATH
	PolicyARNs        []string
	SourceIdentity    string
	Tags              string // Key=Value,Key2=Value2
	TransitiveTagKeys []string
}

// Request is every input to resolution.
type Request struct {
	// Profile is the profile named on the command line (positional argument
	// or --profile); ProfileFrom says which.
	Profile     string
	ProfileFrom string

	// RoleARNs are --role-arn values: each one is a further hop.
	RoleARNs []string
	Flags    HopFlags

	// UsernameSession is -u/--username-session: the last hop's session name
	// is the caller's user or session name, read at run time.
	UsernameSession bool

	// Region is --region.
	Region string

	// MFAProcess is --mfa-process: a command that prints the MFA code.
	MFAProcess string

	// WebIdentity is --web-identity: "github" takes the OIDC token from
	// GitHub Actions and the role from the first --role-arn.
	WebIdentity string

	// Getenv reads the environment (os.Getenv in production).
	Getenv func(string) string

	// Config is the parsed ~/.aws/config and ~/.aws/credentials.
	Config *awsconfig.Config

	// Keychain is rolehop's index of the profiles whose access keys are in
	// the OS keychain (keychain.LoadIndex); nil means none.
	Keychain *keychain.Index

	// Provided means the caller supplies the source credentials (the Go
	// library's base aws.Config): no ambient resolution happens.
	Provided bool

	// Describe means the plan is only described, never run (rolehop
	// policy): inputs needed only to fetch credentials, such as the GitHub
	// Actions OIDC request variables, are not required.
	Describe bool

	// LocalUser is the operating-system user name, used in the default
	// session name.
	LocalUser string

	// ReadFile reads file:// policy documents (os.ReadFile in production).
	ReadFile func(string) ([]byte, error)
}

// Error is a resolution failure: the input or the config is wrong, so the
// CLI exits with the usage status. Its message is one line naming what is
// wrong and what to do.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// errorf builds an *Error.
func errorf(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// IsError reports whether err is a resolution error.
func IsError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// NoCredentialsError means no source of credentials could be found. It is
// not a usage error: the environment lacks credentials.
type NoCredentialsError struct{ Tried []string }

func (e *NoCredentialsError) Error() string {
	msg := "no AWS credentials found: tried "
	for i, t := range e.Tried {
		if i > 0 {
			msg += "; "
		}
		msg += t
	}
	return msg + ". Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, name a profile, or run where a container or instance role is available"
}
