package cli

import (
	"fmt"
	"regexp"
	"time"

	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/populate"
	"github.com/rolehop/rolehop/internal/sso"
)

func newSSOCmd(sys IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sso",
		Short: "IAM Identity Center tools: generate a profile for every account and role",
		Example: `  rolehop login --sso-session corp && rolehop sso populate --sso-session corp
  rolehop sso populate --sso-session corp --dry-run`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for \"rolehop sso\": the subcommand is populate", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newSSOPopulateCmd(sys))
	return cmd
}

var regionRe = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func newSSOPopulateCmd(sys IO) *cobra.Command {
	var o chainOptions
	var session, tmplText, region string
	var prune, dryRun bool
	var concurrency int
	args, complete := oneProfileArg(sys)
	cmd := &cobra.Command{
		Use:   "populate [PROFILE | --sso-session NAME]",
		Short: "Write a profile for every account and role of an IAM Identity Center login into ~/.aws/config",
		Long: `Lists every account and role the IAM Identity Center login may use (ListAccounts,
then ListAccountRoles for up to --concurrency accounts at a time; throttled calls,
TooManyRequestsException, are retried with jittered exponential backoff, up to 10
attempts each) and writes one profile per role into a managed block of the AWS config
file (AWS_CONFIG_FILE or ~/.aws/config):

  # BEGIN rolehop managed profiles for sso-session NAME (rolehop sso populate; edits inside are overwritten)
  [profile dev/Admin]
  sso_session = NAME
  sso_account_id = 111111111111
  sso_role_name = Admin
  region = us-east-1
  # END rolehop managed profiles for sso-session NAME

Only the block is ever rewritten: every byte outside it stays as it is, and a run that
changes nothing does not touch the file. Profiles are sorted by name. A legacy profile
(sso_start_url in the profile) gives legacy profiles, in a block for its start URL.

Names come from --template, a Go text/template over .AccountName .AccountID .RoleName
.SessionName .Email (functions: lower, upper, replace OLD NEW, trimPrefix, trimSuffix).
Whitespace and characters unsafe in a [profile NAME] header ([ ] quotes \ # ;) become
"-". Names that several roles share get "-<AccountID>" appended; a name already defined
outside the block is skipped with a warning. A profile whose account or role is no
longer assigned is kept under "# no longer assigned" unless --prune. The region is
--region, else the region of PROFILE, else the sso_region. Needs a login
(rolehop login or aws sso login).`,
		Example: `  rolehop sso populate --sso-session corp
  rolehop sso populate --sso-session corp --template '{{.AccountName | lower}}.{{.RoleName}}' --prune --dry-run
  rolehop sso populate sso-dev --region eu-west-1`,
		Args:              args,
		ValidArgsFunction: complete,
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			tmpl, err := populate.ParseTemplate(tmplText)
			if err != nil {
				return usageError{err}
			}
			if concurrency < 1 || concurrency > 32 {
				return usagef("--concurrency %d: give 1 to 32", concurrency)
			}
			if cmd.Flags().Changed("region") && !regionRe.MatchString(region) {
				return usagef("--region %q is not a region name such as us-east-1", region)
			}
			s, hint, clients, err := o.ssoTarget(sys, firstArg(args), session)
			if err != nil {
				return err
			}
			target := populate.Target{Session: s.Session, Region: region}
			if s.Session == "" {
				target.StartURL, target.SSORegion = s.StartURL, s.Region
			}
			configPath, _ := awsconfig.FilePaths(sys.Getenv)
			if target.Region == "" {
				target.Region = s.Region
				if name, _, _ := o.positionalProfile(firstArg(args)); name != "" {
					cfg, err := awsconfig.LoadEnv(sys.Getenv)
					if err != nil {
						return err
					}
					if p, ok := cfg.Profile(name); ok && p.Has("region") && regionRe.MatchString(p.Keys["region"].Value) {
						target.Region = p.Keys["region"].Value
					}
				}
			}
			// A broken block fails before any network call.
			data, _, err := populate.Read(configPath)
			if err != nil {
				return err
			}
			if err := populate.CheckBlock(configPath, data, target.ID()); err != nil {
				return err
			}

			home := awsconfig.HomeDir(sys.Getenv)
			token, err := sso.AccessToken(cmd.Context(), s, sso.Options{Home: home, AWS: clients, LoginHint: hint, Notice: sys.UI.Warnf})
			if err != nil {
				return err
			}
			progress := sys.UI.Start("listing the accounts and roles of " + target.ID())
			assignments, stats, err := populate.List(cmd.Context(), populate.NewPortal(s, populate.ClientOptions{AWS: clients}), token,
				populate.ListOptions{Concurrency: concurrency, LoginHint: hint, Login: target.ID(), Progress: func(done, known int) {
					progress.Set(fmt.Sprintf("listing the roles of %s: %d of %d accounts so far", target.ID(), done, known))
				}})
			progress.Stop()
			if err != nil {
				return err
			}
			in := populate.Input{Target: target, Assignments: assignments, Template: tmpl, Prune: prune}
			var res *populate.Result
			if dryRun {
				data, _, err := populate.Read(configPath)
				if err != nil {
					return err
				}
				if res, err = populate.Apply(configPath, data, in); err != nil {
					return err
				}
				fmt.Fprint(sys.Out, populate.Diff(configPath, target.ID(), res.OldBlock, res.NewBlock))
			} else if res, err = populate.Update(cmd.Context(), configPath, in); err != nil {
				return err
			}

			for _, sk := range res.Skipped {
				sys.UI.Warnf("no profile for role %s in account %s (%s): %s", sk.RoleName, sk.AccountID, sk.AccountName, sk.Reason)
			}
			outcome := "wrote " + awsconfig.ShortPath(configPath)
			switch {
			case dryRun:
				outcome = "dry run, nothing written"
			case !res.Changed:
				outcome = "no change to " + awsconfig.ShortPath(configPath)
			}
			retried := ""
			if stats.Retries > 0 {
				retried = fmt.Sprintf(", %d retried", stats.Retries)
			}
			sys.UI.Noticef("%s: %d accounts, %d roles (%d calls%s): %d added, %d updated, %d removed, %d kept as no longer assigned, %d skipped; %s in %s",
				target.ID(), stats.Accounts, stats.Roles, stats.Calls, retried, len(res.Added), len(res.Updated), len(res.Removed), len(res.Stale), len(res.Skipped),
				outcome, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.profile, "profile", "", "profile whose chain starts from IAM Identity Center (same as the PROFILE argument)")
	f.StringVar(&session, "sso-session", "", "populate for this [sso-session NAME]")
	f.StringVar(&tmplText, "template", populate.DefaultTemplate, "profile name template (Go text/template over .AccountName .AccountID .RoleName .SessionName .Email)")
	f.BoolVar(&prune, "prune", false, "remove managed profiles whose account or role is no longer assigned (default: keep them, marked)")
	f.BoolVar(&dryRun, "dry-run", false, "print a diff of the managed block on stdout and write nothing")
	f.StringVar(&region, "region", "", "region of every profile (default: the region of PROFILE, else the sso_region)")
	f.IntVar(&concurrency, "concurrency", populate.DefaultConcurrency, "accounts whose roles are listed at the same time")
	return cmd
}
