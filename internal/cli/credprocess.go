package cli

import (
	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/sink"
)

func newCredentialProcessCmd(sys IO) *cobra.Command {
	var o chainOptions
	args, complete := oneProfileArg(sys)
	cmd := &cobra.Command{
		Use:   "credential-process [PROFILE] [flags]",
		Short: "Print credential_process JSON, for credential_process = rolehop credential-process NAME",
		Long: `Print the final credentials as credential_process Version 1 JSON (with Expiration, and
AccountId when the account is known: botocore and aws-sdk-go-v2 read it as the credentials'
account, for account-based endpoints), so the AWS CLI and every SDK can use a rolehop chain
through ~/.aws/config:

  [profile prod-via-rolehop]
  credential_process = rolehop credential-process prod`,
		Example: `  rolehop credential-process prod
  aws configure set credential_process "rolehop credential-process prod" --profile prod-via-rolehop`,
		Args:              args,
		ValidArgsFunction: complete,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, creds, err := o.credentials(cmd.Context(), sys, firstArg(args))
			if err != nil {
				return err
			}
			out, err := sink.ProcessJSON(creds)
			if err != nil {
				return err
			}
			_, err = sys.Out.Write(out)
			return err
		},
	}
	addChainFlags(cmd, &o, sys)
	return cmd
}
