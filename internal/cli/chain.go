package cli

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/cache"
	"github.com/rolehop/rolehop/internal/chain"
	"github.com/rolehop/rolehop/internal/keychain"
	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/prompt"
)

// chainOptions are the flags every credential-producing command shares.
type chainOptions struct {
	profile  string
	roleARNs []string
	flags    plan.HopFlags
	tags     []string
	username bool
	region   string
	debug    bool

	noCache     bool
	minTTL      time.Duration
	mfaProcess  string
	webIdentity string

	// provided resolves as the library's WithBaseConfig does: the source is
	// credentials the command has in hand (or, for policy --caller-arn,
	// needs none), so no ambient source is looked for.
	provided bool
	// describe: the plan is only printed, never run (plan.Request.Describe).
	describe bool
}

// addChainFlags registers the chain flags, named like `aws sts assume-role`.
func addChainFlags(cmd *cobra.Command, o *chainOptions, sys IO) {
	f := cmd.Flags()
	f.StringVar(&o.profile, "profile", "", "profile from ~/.aws/config or ~/.aws/credentials (same as the PROFILE argument)")
	f.StringArrayVar(&o.roleARNs, "role-arn", nil, "role to assume after the profile or ambient credentials; repeat for more hops")
	f.StringVar(&o.flags.RoleSessionName, "role-session-name", "", "session name of the last hop (2-64 chars of [A-Za-z0-9+=,.@_-])")
	f.StringVar(&o.flags.DurationSeconds, "duration-seconds", "", "lifetime of the last hop's credentials, 900-43200 (chained hops: max 3600)")
	f.StringVar(&o.flags.ExternalID, "external-id", "", "external id the last role's trust policy requires")
	f.StringVar(&o.flags.SerialNumber, "serial-number", "", "MFA device ARN or serial for the last hop")
	f.StringVar(&o.flags.TokenCode, "token-code", "", "6-digit MFA code (asked on the terminal when omitted)")
	f.StringVar(&o.flags.Policy, "policy", "", "inline session policy: JSON or file://PATH")
	f.StringSliceVar(&o.flags.PolicyARNs, "policy-arns", nil, "managed policy ARNs that scope the session down (comma-separated)")
	f.StringVar(&o.flags.SourceIdentity, "source-identity", "", "source identity to set on the last hop")
	f.StringArrayVar(&o.tags, "tags", nil, "session tags Key=Value,Key2=Value2")
	f.StringSliceVar(&o.flags.TransitiveTagKeys, "transitive-tag-keys", nil, "session tag keys that pass on to later hops")
	f.BoolVarP(&o.username, "username-session", "u", false, "use the caller's IAM user name as the session name (for sts:RoleSessionName = ${aws:username})")
	f.StringVar(&o.region, "region", "", "AWS region for STS and for the program (default: AWS_REGION, AWS_DEFAULT_REGION, profile region)")
	f.StringVar(&o.mfaProcess, "mfa-process", "", "command that prints the MFA code (e.g. ykman oath accounts code -s NAME); default: ask on the terminal")
	f.StringVar(&o.webIdentity, "web-identity", "", `"github": assume the first --role-arn (or AWS_ROLE_ARN) with GitHub Actions' OIDC token`)
	f.BoolVar(&o.noCache, "no-cache", false, "neither read nor write the shared credential cache")
	f.DurationVar(&o.minTTL, "min-ttl", chain.DefaultMinTTL, "use cached credentials only while they have more than this left; warn when handing out less")
	f.BoolVar(&o.debug, "debug", false, "log each step on stderr (access key ids shortened, no secrets)")
	_ = cmd.RegisterFlagCompletionFunc("profile", profileCompletion(sys))
}

// profileCompletion completes profile names from the config files, but
// not those already given as arguments.
func profileCompletion(sys IO) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		cfg, err := awsconfig.LoadEnv(sys.Getenv)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		out := profileCandidates(cfg, args)
		if ix, err := keychain.LoadIndex(sys.Getenv); err == nil {
			for _, name := range ix.Names() {
				if _, ok := cfg.Profile(name); !ok && !slices.Contains(args, name) {
					out = append(out, candidate(name, "keys in the "+ix.Profiles[name].Backend.Describe()+" keychain"))
				}
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// positionalProfile merges the PROFILE argument with --profile.
func (o *chainOptions) positionalProfile(arg string) (name, from string, err error) {
	switch {
	case arg != "" && o.profile != "" && arg != o.profile:
		return "", "", usagef("profile given twice: argument %q and --profile %q; use one", arg, o.profile)
	case arg != "":
		return arg, "argument", nil
	case o.profile != "":
		return o.profile, "--profile", nil
	}
	return "", "", nil
}

// resolve builds the plan for this invocation.
func (o *chainOptions) resolve(sys IO, profileArg string) (*plan.Plan, error) {
	name, from, err := o.positionalProfile(profileArg)
	if err != nil {
		return nil, err
	}
	cfg, err := awsconfig.LoadEnv(sys.Getenv)
	if err != nil {
		return nil, err
	}
	keys, err := keychain.LoadIndex(sys.Getenv)
	if err != nil {
		return nil, err
	}
	flags := o.flags
	flags.Tags = strings.Join(o.tags, ",")
	return plan.Resolve(plan.Request{
		Profile:         name,
		ProfileFrom:     from,
		RoleARNs:        o.roleARNs,
		Flags:           flags,
		UsernameSession: o.username,
		Region:          o.region,
		MFAProcess:      o.mfaProcess,
		WebIdentity:     o.webIdentity,
		Provided:        o.provided,
		Describe:        o.describe,
		Getenv:          sys.Getenv,
		Config:          cfg,
		Keychain:        keys,
		LocalUser:       localUser(sys.Getenv),
		ReadFile:        os.ReadFile,
	})
}

// credentials runs the pipeline: resolve, print warnings, build the chain,
// and retrieve the final credentials.
func (o *chainOptions) credentials(ctx context.Context, sys IO, profileArg string) (*plan.Plan, aws.Credentials, error) {
	p, err := o.resolve(sys, profileArg)
	if err != nil {
		return nil, aws.Credentials{}, err
	}
	for _, w := range p.Warnings {
		sys.UI.Warnf("%s", w)
	}
	o.debugf(sys, "source: %s (%s)", p.Source.Describe(), p.Source.From)
	for i, h := range p.Hops {
		o.debugf(sys, "hop %d: %s session=%q duration=%ds", i+1, h.RoleARN.Value, h.SessionName.Value, h.DurationSeconds)
	}
	prov, err := o.build(sys, p, 0)
	if err != nil {
		return nil, aws.Credentials{}, err
	}
	creds, err := prov.Retrieve(ctx)
	if err != nil {
		return nil, aws.Credentials{}, chain.Cause(err)
	}
	o.debugf(sys, "credentials: %s, expires %s", plan.MaskKeyID(creds.AccessKeyID), expiryText(creds))
	if creds.CanExpire && time.Until(creds.Expires) < o.minTTL {
		sys.UI.Warnf("these credentials expire in %s, less than --min-ttl %s: a long task may outlive them",
			time.Until(creds.Expires).Round(time.Second), o.minTTL)
	}
	return p, creds, nil
}

// build makes the chain's provider with the shared cache (unless
// --no-cache). finalMinTTL > 0 raises the last step's min-ttl (write --watch).
func (o *chainOptions) build(sys IO, p *plan.Plan, finalMinTTL time.Duration) (aws.CredentialsProvider, error) {
	// The HTTP client and retries follow p.Retry (chain.Clients).
	opts := chain.Options{Stderr: sys.Err, Getenv: sys.Getenv, MinTTL: o.minTTL, FinalMinTTL: finalMinTTL, Warn: sys.UI.Warnf}
	if sys.HasTerminal {
		opts.Prompt = prompt.MFA
	}
	if !o.noCache {
		store, err := openStore(sys)
		if err != nil {
			return nil, err
		}
		opts.Store = store
	}
	return chain.Build(p, opts)
}

// openStore opens the shared cache. A wait for another process's refresh
// longer than a second shows on stderr, so nobody wonders why a command
// stalls.
func openStore(sys IO) (*cache.Store, error) {
	dir, err := cache.Dir(sys.Getenv)
	if err != nil {
		return nil, err
	}
	return cache.Open(dir, cache.WithNotice(sys.UI.Warnf), cache.WithWaitNotice(func(m cache.Meta) func() {
		what := m.RoleARN
		if what == "" {
			what = m.Serial
		}
		return sys.UI.Start("waiting for another rolehop process that is refreshing " + what).Stop
	})), nil
}

func (o *chainOptions) debugf(sys IO, format string, args ...any) {
	if o.debug {
		fmt.Fprintf(sys.Err, "rolehop: debug: "+format+"\n", args...)
	}
}

func expiryText(c aws.Credentials) string {
	if !c.CanExpire {
		return "never"
	}
	return c.Expires.UTC().Format("2006-01-02T15:04:05Z")
}

// localUser is the operating-system user, for the default session name.
func localUser(getenv func(string) string) string {
	for _, k := range []string{"USER", "USERNAME", "LOGNAME"} {
		if v := getenv(k); v != "" {
			return v
		}
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// oneProfileArg accepts zero or one positional PROFILE.
func oneProfileArg(sys IO) (cobra.PositionalArgs, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)) {
	args := func(_ *cobra.Command, args []string) error {
		if len(args) > 1 {
			return usagef("expected at most one PROFILE argument, got %d: %s", len(args), strings.Join(args, " "))
		}
		return nil
	}
	complete := func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return profileCompletion(sys)(cmd, args, prefix)
	}
	return args, complete
}

func firstArg(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return ""
}
