package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/chain"
	"github.com/rolehop/rolehop/internal/hop"
	"github.com/rolehop/rolehop/internal/plan"
)

// identity is whoami's JSON output.
type identity struct {
	Account    string `json:"Account"`
	Arn        string `json:"Arn"`
	UserId     string `json:"UserId"`
	Expiration string `json:"Expiration,omitempty"`
}

func newWhoamiCmd(sys IO) *cobra.Command {
	var o chainOptions
	var output outputFormat
	args, complete := oneProfileArg(sys)
	cmd := &cobra.Command{
		Use:   "whoami [PROFILE] [flags]",
		Short: "Show the identity (sts:GetCallerIdentity) and expiry of the chain's final credentials",
		Example: `  rolehop whoami prod
  rolehop whoami --role-arn arn:aws:iam::222222222222:role/audit --output json`,
		Args:              args,
		ValidArgsFunction: complete,
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := output.isJSON()
			if err != nil {
				return err
			}
			p, creds, err := o.credentials(cmd.Context(), sys, firstArg(args))
			if err != nil {
				return err
			}
			out, err := stsWith(p, creds).GetCallerIdentity(cmd.Context(), &sts.GetCallerIdentityInput{})
			if err != nil {
				return fmt.Errorf("sts:GetCallerIdentity with the final credentials failed: %s", oneLine(err.Error()))
			}
			id := identity{Account: aws.ToString(out.Account), Arn: aws.ToString(out.Arn), UserId: aws.ToString(out.UserId)}
			if creds.CanExpire {
				id.Expiration = expiryText(creds)
			}
			if asJSON {
				enc := json.NewEncoder(sys.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(id)
			}
			tw := tabwriter.NewWriter(sys.Out, 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "Arn:\t%s\nAccount:\t%s\nUserId:\t%s\n", id.Arn, id.Account, id.UserId)
			if creds.CanExpire {
				fmt.Fprintf(tw, "Expiration:\t%s (in %s)\n", id.Expiration, time.Until(creds.Expires).Round(time.Second))
			}
			return tw.Flush()
		},
	}
	addChainFlags(cmd, &o, sys)
	addOutputFlag(cmd, &output, "{Account, Arn, UserId, Expiration}")
	return cmd
}

// stsWith is an STS client signing with creds, at the plan's STS region and
// endpoint, with the plan's retry settings and timeout: for calls made with
// a chain's final credentials.
func stsWith(p *plan.Plan, creds aws.Credentials) *sts.Client {
	return hop.NewSTSClient(staticProvider(creds), hop.Options{Region: p.STSRegion, Endpoint: p.STSEndpoint.Value, AWS: chain.Clients(p, nil)})
}

// staticProvider hands out fixed credentials.
type staticProvider aws.Credentials

// Retrieve implements aws.CredentialsProvider.
func (s staticProvider) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials(s), nil
}
