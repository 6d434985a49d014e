package cli

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/keys"
)

func newKeysRotateCmd(sys IO) *cobra.Command {
	var mfaProcess string
	var verifyTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "rotate PROFILE",
		Short: "Replace a profile's stored access key by a new one in IAM, and delete the old one",
		Long: `Rotates the long-term access key of PROFILE, an IAM user's key kept in the keychain:
it checks with GetCallerIdentity that the stored key is an IAM user's, creates a second
key for that user (CreateAccessKey), waits until the new key works as the same user (IAM
takes a few seconds to accept a new key; --verify-timeout bounds the wait), stores it in
the same store as the old one, and only then deletes the old key in IAM
(DeleteAccessKey).

A failure at any step leaves a working key stored: before the new key is stored, the new
key is deleted again and the old one stays; after, the message says which key exists
where and the command that deletes what is left; Ctrl-C before the new key is stored
deletes it again. A user that already has two access
keys, the most IAM allows, is refused: the message names both and how to delete the one
not in use.

The user needs iam:ListAccessKeys, iam:CreateAccessKey and iam:DeleteAccessKey on itself
(arn:aws:iam::ACCOUNT:user/${aws:username}). When the profile has mfa_serial, the IAM
calls are signed with an MFA session (GetSessionToken), as policies that let users
manage their own keys only with MFA require: the code comes from --mfa-process, the
profile's mfa_process, or the terminal.`,
		Example: `  rolehop keys rotate prod-user
  rolehop keys rotate prod-user --mfa-process 'ykman oath accounts code -s aws'
  rolehop keys rotate prod-user --verify-timeout 2m`,
		Args:              exactProfileArg,
		ValidArgsFunction: keychainCompletion(sys),
		RunE: func(cmd *cobra.Command, args []string) error {
			if verifyTimeout <= 0 {
				return usagef("--verify-timeout must be positive (got %s)", verifyTimeout)
			}
			env, err := keysEnv(sys)
			if err != nil {
				return err
			}
			// Ctrl-C while a new key exists deletes it again rather than
			// leaving it behind in IAM.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return keys.Rotate(ctx, env, args[0], keys.RotateOptions{
				VerifyTimeout: verifyTimeout,
				MFAProcess:    mfaProcess,
				Stderr:        sys.Err,
			})
		},
	}
	cmd.Flags().StringVar(&mfaProcess, "mfa-process", "", "command that prints the MFA code when the profile has mfa_serial (e.g. ykman oath accounts code -s NAME); default: the profile's mfa_process, else ask on the terminal")
	cmd.Flags().DurationVar(&verifyTimeout, "verify-timeout", keys.DefaultVerifyTimeout, "how long to wait for IAM to accept the new key before deleting it again")
	return cmd
}
