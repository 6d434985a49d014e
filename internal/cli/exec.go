package cli

import (
	"context"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/sink"
)

func newExecCmd(sys IO) *cobra.Command {
	var o chainOptions
	var server, pick bool
	_, complete := oneProfileArg(sys)
	cmd := &cobra.Command{
		Use:   "exec [PROFILE] [flags] -- CMD [ARGS...]",
		Short: "Run a command with the role's credentials in its environment",
		Long: `Run CMD with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
AWS_CREDENTIAL_EXPIRATION, AWS_ACCOUNT_ID when the account is known (the role's, or
aws_account_id / AWS_ACCOUNT_ID of the source: the SDKs read it with the keys, for
account-based endpoints) and, when a region is known, AWS_REGION/AWS_DEFAULT_REGION.
Variables that would override them in the child (AWS_PROFILE, AWS_SECURITY_TOKEN, a stale
AWS_ACCOUNT_ID, container and web-identity variables) are removed; other settings, such as
AWS_ACCOUNT_ID_ENDPOINT_MODE, reach the child unchanged. Signals are forwarded, and rolehop
exits with the child's exit code (128+N when the child is killed by signal N).

With --server the child gets no keys: rolehop serves the credentials on a random loopback
port with a fresh token (AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN),
refreshing them in the background until the child exits — for jobs that outlive one session.`,
		Example: `  rolehop exec prod -- aws sts get-caller-identity
  AWS_ROLE_ARN=arn:aws:iam::222222222222:role/terraform rolehop exec -u -- terraform plan
  rolehop exec --server prod -- terraform apply
  rolehop exec --role-arn arn:aws:iam::111111111111:role/dev --role-arn arn:aws:iam::222222222222:role/prod -- ./deploy.sh`,
		// Past the PROFILE only the command's own arguments can follow
		// (cobra hides whether -- was typed): let the shell complete file names.
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveDefault
			}
			return complete(cmd, args, toComplete)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			if dash < 0 {
				if len(args) > 1 {
					return usagef("put the command after --: rolehop exec %s -- %s", args[0], strings.Join(args[1:], " "))
				}
				return usagef("exec needs a command after --: rolehop exec [PROFILE] -- CMD [ARGS...]")
			}
			if dash > 1 {
				return usagef("expected at most one PROFILE before --, got %d", dash)
			}
			command := args[dash:]
			if len(command) == 0 {
				return usagef("exec needs a command after --: rolehop exec [PROFILE] -- CMD [ARGS...]")
			}
			profile := ""
			if dash == 1 {
				profile = args[0]
			}
			if pick {
				if profile != "" || o.profile != "" {
					return usagef("give a PROFILE or --pick, not both")
				}
				picked, err := pickProfile(cmd.Context(), sys, "")
				if err != nil {
					return err
				}
				profile = picked
			}
			// Ctrl-C while credentials are being fetched stops rolehop; once
			// the child runs, signals are forwarded to it instead.
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			var env []string
			if server {
				url, token, p, stopServer, err := o.serveForChild(ctx, sys, profile)
				stop()
				if err != nil {
					return err
				}
				defer stopServer()
				env = sink.ServerChildEnv(sys.Environ(), url, token, p.Region.Value)
			} else {
				p, creds, err := o.credentials(ctx, sys, profile)
				stop()
				if err != nil {
					return err
				}
				env = sink.ChildEnv(sys.Environ(), creds, p.Region.Value)
			}
			code, err := sink.Run(context.WithoutCancel(cmd.Context()), command, env, sink.Stdio{In: sys.In, Out: sys.Out, Err: sys.Err})
			if err != nil {
				return err
			}
			if code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	addChainFlags(cmd, &o, sys)
	cmd.Flags().BoolVar(&server, "server", false, "give the child a local credentials endpoint instead of keys: its SDK refreshes by itself, past the 1-hour chaining limit")
	cmd.Flags().BoolVar(&pick, "pick", false, "choose the profile from a list on the terminal first (see rolehop pick)")
	return cmd
}
