package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/login"
	"github.com/rolehop/rolehop/internal/source"
)

func newExplainCmd(sys IO) *cobra.Command {
	var o chainOptions
	var output outputFormat
	args, complete := oneProfileArg(sys)
	cmd := &cobra.Command{
		Use:   "explain [PROFILE] [flags]",
		Short: "Show the resolved chain — source, hops, parameters and where each came from — without calling AWS",
		Long: `Resolve the profile, flags and environment exactly as the other commands do, and print
the plan: the source of credentials and why it was chosen, every hop with each parameter
and its origin (flag, env var, or file:line), the region, how each AWS call is retried and
timed out (max_attempts, retry_mode, ROLEHOP_HTTP_TIMEOUT), and warnings — for example when
AWS_PROFILE names a role profile while AWS_ACCESS_KEY_ID is set, where the AWS CLI would
silently use the keys. No network call is made and no secret is printed.`,
		Example: `  rolehop explain prod
  AWS_PROFILE=prod rolehop explain --output json`,
		Args:              args,
		ValidArgsFunction: complete,
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := output.isJSON()
			if err != nil {
				return err
			}
			p, err := o.resolve(sys, firstArg(args))
			if err != nil {
				return err
			}
			if l := p.Source.Login; l != nil {
				l.State = login.Describe(l.CacheDir, l.Session, source.LoginHint(p.Source), time.Now())
			}
			if asJSON {
				return p.WriteJSON(sys.Out)
			}
			return p.WriteText(sys.Out)
		},
	}
	addChainFlags(cmd, &o, sys)
	addOutputFlag(cmd, &output, "the plan")
	return cmd
}
