package cli

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/browser"
	"github.com/rolehop/rolehop/internal/chain"
	"github.com/rolehop/rolehop/internal/console"
	"github.com/rolehop/rolehop/internal/hop"
	"github.com/rolehop/rolehop/internal/plan"
)

func newConsoleCmd(sys IO) *cobra.Command {
	var o chainOptions
	var print bool
	var destination, endpoint string
	var duration time.Duration
	args, complete := oneProfileArg(sys)
	cmd := &cobra.Command{
		Use:   "console [PROFILE] [flags]",
		Short: "Open the AWS console as the chain's final role (or print the sign-in URL)",
		Long: `Sign in to the AWS Management Console with the chain's final credentials through the
federation endpoint (getSigninToken, then a login URL valid for 15 minutes). Long-term IAM
user keys are first turned into a federated session with GetFederationToken. The URL
carries a sign-in token: --print writes it to stdout; otherwise it opens in the browser
through a private page (0600, in a new 0700 directory) that redirects to it, so that it never
appears in a process's argument list, where every local user could read it. Only https URLs
(and http to this machine, for emulators) are opened.`,
		Example: `  rolehop console prod
  rolehop console prod --print --destination https://console.aws.amazon.com/s3/`,
		Args:              args,
		ValidArgsFunction: complete,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, creds, err := o.credentials(cmd.Context(), sys, firstArg(args))
			if err != nil {
				return err
			}
			req := console.Request{Endpoint: endpoint, Destination: destination, HTTPClient: chain.Clients(p, nil).HTTPClient}
			if req.Endpoint == "" {
				req.Endpoint = sys.Getenv("ROLEHOP_FEDERATION_ENDPOINT")
			}
			if req.Endpoint == "" {
				req.Endpoint = console.Endpoint(p.STSRegion)
			}
			if creds.SessionToken == "" {
				// AWS-SEMANTICS §10: GetFederationToken credentials must not
				// be given a SessionDuration; its own DurationSeconds rules.
				if creds, err = federate(cmd, p, creds, duration); err != nil {
					return err
				}
			} else if duration > 0 {
				if !directFromUserKeys(p) {
					return usagef("--duration works only for a role assumed directly with an IAM user's keys (AWS refuses it for chained roles and other sessions)")
				}
				req.SessionDuration = duration
			}
			url, err := console.URL(cmd.Context(), creds, req)
			if err != nil {
				return err
			}
			if print || !browser.Available(sys.Getenv) {
				_, err := fmt.Fprintln(sys.Out, url)
				return err
			}
			page, err := browser.Open(url, browser.Options{Getenv: sys.Getenv})
			if err != nil {
				return fmt.Errorf("could not open a browser (%v): use --print", err)
			}
			sys.UI.Noticef("opened the AWS console in the browser through the private page %s, which a later run removes once its sign-in token has expired (if the browser cannot open local files, as Firefox or Chromium from a snap, use --print)", page)
			return nil
		},
	}
	addChainFlags(cmd, &o, sys)
	f := cmd.Flags()
	f.BoolVar(&print, "print", false, "print the sign-in URL on stdout instead of opening it")
	f.StringVar(&destination, "destination", console.DefaultDestination, "console page to open")
	f.StringVar(&endpoint, "federation-endpoint", "", "federation endpoint (default: ROLEHOP_FEDERATION_ENDPOINT, else the partition's signin endpoint)")
	f.DurationVar(&duration, "duration", 0, "console session length (15m-12h; only for a role assumed directly with IAM user keys, or long-term keys)")
	return cmd
}

// directFromUserKeys: one hop, assumed with long-term keys.
func directFromUserKeys(p *plan.Plan) bool {
	temporary, known := p.Source.Temporary()
	return len(p.Hops) == 1 && known && !temporary
}

// federate turns long-term keys into a federated session that the console
// accepts, with the user's own permissions.
func federate(cmd *cobra.Command, p *plan.Plan, creds aws.Credentials, duration time.Duration) (aws.Credentials, error) {
	client := stsWith(p, creds)
	in := &sts.GetFederationTokenInput{Name: aws.String("rolehop-console"), Policy: aws.String(console.AdministratorPolicy)}
	if duration > 0 {
		in.DurationSeconds = aws.Int32(int32(duration / time.Second))
	}
	out, err := client.GetFederationToken(cmd.Context(), in)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("GetFederationToken with the IAM user's keys failed: %s", oneLine(err.Error()))
	}
	return hop.Credentials(out.Credentials, "rolehop:GetFederationToken"), nil
}
