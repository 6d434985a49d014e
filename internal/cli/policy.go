package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/chain"
	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/policy"
	"github.com/rolehop/rolehop/internal/source"
)

// policyFormats are the output formats of `rolehop policy`.
func policyFormats() []string { return []string{"json", "cloudformation", "terraform"} }

type policyOptions struct {
	format, document, account, callerARN string
	hop                                  int
}

func newPolicyCmd(sys IO) *cobra.Command {
	var o chainOptions
	var po policyOptions
	args, complete := oneProfileArg(sys)
	cmd := &cobra.Command{
		Use:   "policy [PROFILE] [flags]",
		Short: "Print the trust and permission policies each hop of the chain needs",
		Long: `Print, for every hop of the chain, the trust policy its role needs and the permission
policy its caller needs (sts:AssumeRole, and sts:TagSession / sts:SetSourceIdentity when the
chain uses them), with the conditions the hop's settings require: MFA, external id,
-u (sts:RoleSessionName = ${aws:username}), source identity, session tags.

The caller of hop 1 is the IAM Identity Center permission set or the web identity role when
the profile uses one; otherwise --caller-arn names it, or one sts:GetCallerIdentity with the
source credentials finds it. With --caller-arn no network call is made.

  json            {"steps":[…]}; with --hop N --document trust|permission one bare document
  cloudformation  one YAML template per account, separated by ---; --account selects one
  terraform       one file with an aliased aws provider per account`,
		Example: `  rolehop policy prod
  rolehop policy --role-arn arn:aws:iam::222222222222:role/deploy --caller-arn arn:aws:iam::111111111111:user/ci
  aws iam create-role --role-name prod --assume-role-policy-document "$(rolehop policy prod --hop 2 --document trust)"
  rolehop policy prod --format cloudformation --account 222222222222 > prod-roles.yaml
  rolehop policy --web-identity github --role-arn arn:aws:iam::111111111111:role/ci --format terraform`,
		Args:              args,
		ValidArgsFunction: complete,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPolicy(cmd.Context(), sys, &o, po, cmd.Flags().Changed("hop"), firstArg(args))
		},
	}
	addChainFlags(cmd, &o, sys)
	f := cmd.Flags()
	f.StringVarP(&po.format, "format", "f", "json", "output format: "+strings.Join(policyFormats(), "|"))
	f.IntVar(&po.hop, "hop", 0, "print only this hop (0: the web identity role)")
	f.StringVar(&po.document, "document", "", "with --hop and --format json: print only the hop's trust or permission document")
	f.StringVar(&po.account, "account", "", "with --format cloudformation: print only this account's template")
	f.StringVar(&po.callerARN, "caller-arn", "", "ARN of the identity that calls hop 1 (user, role or assumed-role session); no network call")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(policyFormats(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("document", cobra.FixedCompletions([]string{"trust", "permission"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (po policyOptions) check(hopSet bool) error {
	switch {
	case !slices.Contains(policyFormats(), po.format):
		return usagef("unknown --format %q: use one of %s", po.format, strings.Join(policyFormats(), ", "))
	case po.document != "" && po.document != "trust" && po.document != "permission":
		return usagef("unknown --document %q: use trust or permission", po.document)
	case po.document != "" && !hopSet:
		return usagef("--document needs --hop N to say which hop's document to print")
	case po.document != "" && po.format != "json":
		return usagef("--document prints an IAM JSON document: it does not combine with --format %s", po.format)
	case po.account != "" && po.format != "cloudformation":
		return usagef("--account selects a CloudFormation template: add --format cloudformation")
	case hopSet && po.hop < 0:
		return usagef("--hop %d: hops are numbered from 1 (0 is the web identity role)", po.hop)
	}
	if po.callerARN != "" {
		if _, err := policy.ParseCaller(po.callerARN); err != nil {
			return usagef("--caller-arn: %v", err)
		}
	}
	return nil
}

func runPolicy(ctx context.Context, sys IO, o *chainOptions, po policyOptions, hopSet bool, profileArg string) error {
	if err := po.check(hopSet); err != nil {
		return err
	}
	p, err := resolveForPolicy(sys, o, po.callerARN != "", profileArg)
	if err != nil {
		return err
	}
	for _, w := range p.Warnings {
		sys.UI.Warnf("%s", w)
	}
	if len(p.Hops) == 0 && p.Source.Kind != plan.SourceWebIdent {
		src := p.Source.Describe()
		if p.Source.Kind == plan.SourceProvided {
			src = "--caller-arn " + po.callerARN
		}
		return usagef("the chain assumes no role (its source is %s): there is no role to write a policy for; name a role profile or add --role-arn", src)
	}
	in := policy.Input{Plan: p, CallerARN: po.callerARN, GitHubRepository: sys.Getenv("GITHUB_REPOSITORY")}
	switch p.Source.Kind {
	case plan.SourceSSO, plan.SourceWebIdent:
		if po.callerARN != "" {
			return usagef("--caller-arn does not apply: the caller of hop 1 is %s; remove --caller-arn", p.Source.Describe())
		}
		if file := p.Source.WebIdentityTokenFile.Value; p.Source.Kind == plan.SourceWebIdent && file != plan.GitHubOIDC {
			if in.Token, err = os.ReadFile(file); err != nil {
				in.TokenError = oneLine(err.Error())
			}
		}
	default:
		if in.CallerARN == "" {
			o.debugf(sys, "source: %s (%s): asking sts:GetCallerIdentity for hop 1's caller", p.Source.Describe(), p.Source.From)
			if in.CallerARN, err = sourceCaller(ctx, sys, p); err != nil {
				return err
			}
			o.debugf(sys, "caller: %s", in.CallerARN)
		}
	}
	res, err := policy.Generate(in)
	if err != nil {
		return usageError{err}
	}
	return writePolicy(sys, res, po, hopSet)
}

// resolveForPolicy is chainOptions.resolve, with two differences that only
// policy needs: with --caller-arn and no profile the source is "provided"
// (no ambient credentials are needed, as for the library's WithBaseConfig),
// and the plan is only described (--web-identity github resolves outside
// GitHub Actions, because the token is never fetched).
func resolveForPolicy(sys IO, o *chainOptions, haveCaller bool, profileArg string) (*plan.Plan, error) {
	name, _, err := o.positionalProfile(profileArg)
	if err != nil {
		return nil, err
	}
	o.provided = haveCaller && name == "" && o.webIdentity == "" && sys.Getenv("AWS_PROFILE") == "" && sys.Getenv("AWS_DEFAULT_PROFILE") == ""
	o.describe = true
	p, err := o.resolve(sys, profileArg)
	var nc *plan.NoCredentialsError
	if errors.As(err, &nc) {
		return nil, fmt.Errorf("%v; or pass --caller-arn ARN to write the policies without credentials", err)
	}
	return p, err
}

// sourceCaller is the ARN of the source credentials: one
// sts:GetCallerIdentity, with only the source's provider built (no hop is
// assumed).
func sourceCaller(ctx context.Context, sys IO, p *plan.Plan) (string, error) {
	clients := chain.Clients(p, nil)
	prov, err := source.New(p.Source, source.Options{HTTPClient: clients.HTTPClient, AWS: clients, STSRegion: p.STSRegion, STSEndpoint: p.STSEndpoint.Value, Getenv: sys.Getenv})
	if err != nil {
		return "", fmt.Errorf("cannot use the source credentials (%s): %s; pass --caller-arn ARN to name hop 1's caller", p.Source.Describe(), oneLine(err.Error()))
	}
	creds, err := prov.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("%s; pass --caller-arn ARN to name hop 1's caller", oneLine(chain.Cause(err).Error()))
	}
	out, err := stsWith(p, creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("sts:GetCallerIdentity with the source credentials (%s) failed: %s; pass --caller-arn ARN to name hop 1's caller", p.Source.Describe(), oneLine(err.Error()))
	}
	return aws.ToString(out.Arn), nil
}

func writePolicy(sys IO, res *policy.Result, po policyOptions, hopSet bool) error {
	if hopSet {
		st, ok := res.Find(po.hop)
		if !ok {
			return usagef("--hop %d: the chain has hops %s", po.hop, strings.Join(res.Hops(), ", "))
		}
		res = &policy.Result{Steps: []policy.Step{*st}}
	}
	var out []byte
	switch {
	case po.document == "trust":
		out = res.Steps[0].TrustPolicy.JSON()
	case po.document == "permission":
		st := res.Steps[0]
		if st.PermissionPolicy == nil {
			return usagef("hop %d needs no permission policy: %s", st.Hop, strings.TrimPrefix(st.PermissionTarget, "none: "))
		}
		out = st.PermissionPolicy.JSON()
	case po.format == "cloudformation":
		var err error
		if out, err = policy.CloudFormation(res, po.account); err != nil {
			return usageError{err}
		}
	case po.format == "terraform":
		out = policy.Terraform(res)
	default:
		out = policy.JSON(res)
	}
	_, err := sys.Out.Write(out)
	return err
}
