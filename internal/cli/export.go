package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/sink"
)

func newExportCmd(sys IO) *cobra.Command {
	var o chainOptions
	var format string
	args, complete := oneProfileArg(sys)
	cmd := &cobra.Command{
		Use:   "export [PROFILE] [flags]",
		Short: "Print the role's credentials as shell, dotenv, JSON or GitHub Actions lines",
		Long: `Print the final credentials in the format a program wants:
  sh          export NAME='value' lines, safe to eval in sh, bash and zsh (default)
  fish        set -gx NAME 'value'
  powershell  $Env:NAME = 'value'
  cmd         set "NAME=value"
  dotenv      NAME=value, for docker run --env-file
  json        credential_process Version 1 JSON (with AccountId when known)
  github      ::add-mask:: lines on stdout; the variables are appended to $GITHUB_ENV
These set the same variables as exec: AWS_CREDENTIAL_EXPIRATION always, AWS_ACCOUNT_ID when
the account is known (the SDKs read it with the keys, for account-based endpoints), and
AWS_REGION/AWS_DEFAULT_REGION when a region is known; the shell formats also unset stale
variables that would contradict them.

` + sink.CLIFormatNote,
		Example: `  eval "$(rolehop export prod)"
  eval "$(rolehop export prod --format env)"   # what aws configure export-credentials --format env prints
  rolehop export prod --format fish | source
  rolehop export prod --format dotenv > aws.env && docker run --env-file aws.env amazon/aws-cli s3 ls`,
		Args:              args,
		ValidArgsFunction: complete,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !validFormat(format) {
				return usagef("unknown --format %q: use one of %s", format, strings.Join(sink.Formats(), ", "))
			}
			p, creds, err := o.credentials(cmd.Context(), sys, firstArg(args))
			if err != nil {
				return err
			}
			return sink.WriteExport(sys.Out, creds, sink.ExportOptions{Format: format, Region: p.Region.Value, GitHubEnv: sys.Getenv("GITHUB_ENV")})
		},
	}
	addChainFlags(cmd, &o, sys)
	cmd.Flags().StringVarP(&format, "format", "f", "sh", "output format: "+strings.Join(sink.Formats(), "|"))
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(sink.Formats(), cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func validFormat(f string) bool {
	for _, v := range sink.Formats() {
		if v == f {
			return true
		}
	}
	return false
}
