package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/awsclient"
	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/browser"
	"github.com/rolehop/rolehop/internal/cache"
	"github.com/rolehop/rolehop/internal/chain"
	"github.com/rolehop/rolehop/internal/login"
	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/source"
	"github.com/rolehop/rolehop/internal/sso"
)

// ssoTarget finds the IAM Identity Center settings of a profile (or of the
// source of its chain) or of --sso-session.
//
// clients are the settings of the IAM Identity Center clients: the
// profile's plan's, or, with --sso-session, those of the profile named by
// AWS_PROFILE (else default), as the AWS CLI reads them.
func (o *chainOptions) ssoTarget(sys IO, profile, session string) (s *plan.SSO, hint string, clients awsclient.Settings, err error) {
	if session != "" {
		if profile != "" {
			return nil, "", clients, usagef("give a PROFILE or --sso-session, not both")
		}
		cfg, err := awsconfig.LoadEnv(sys.Getenv)
		if err != nil {
			return nil, "", clients, err
		}
		if s, err = plan.SSOFromSession(cfg, session, sys.Getenv); err != nil {
			return nil, "", clients, err
		}
		active := sys.Getenv("AWS_PROFILE")
		if active == "" {
			active = sys.Getenv("AWS_DEFAULT_PROFILE")
		}
		rt, err := plan.ResolveRetry(cfg, active, sys.Getenv)
		if err != nil {
			return nil, "", clients, err
		}
		return s, "rolehop login --sso-session " + session, awsclient.New(rt), nil
	}
	p, err := o.resolve(sys, profile)
	if err != nil {
		return nil, "", clients, err
	}
	if p.Source.Kind != plan.SourceSSO {
		return nil, "", clients, usagef("%s does not use IAM Identity Center (its source is %s): name an SSO profile or --sso-session", orDefault(p.Profile.Value, "the ambient chain"), p.Source.Describe())
	}
	return p.Source.SSO, source.LoginHint(p.Source), chain.Clients(p, nil), nil
}

func newLoginCmd(sys IO) *cobra.Command {
	var o chainOptions
	var session string
	var noBrowser, deviceCode, force bool
	var browserCommand string
	args, complete := oneProfileArg(sys)
	cmd := &cobra.Command{
		Use:   "login [PROFILE | --sso-session NAME]",
		Short: "Sign in to IAM Identity Center (SSO) and cache the token where the AWS CLI reads it",
		Long: `Sign in to IAM Identity Center like "aws sso login": with an sso-session and a browser,
the authorization-code flow with PKCE (the browser comes back to a one-time loopback
address); otherwise — --no-browser, --use-device-code, SSH sessions, legacy profiles — the
device authorization flow, which shows a URL and a code on stderr to confirm. The token is
written to ~/.aws/sso/cache/<sha1>.json exactly as "aws sso login" writes it, so a login by
either tool serves both. Tokens are refreshed automatically with their refresh token; log
in again only when the session itself has ended. PROFILE may be any profile whose chain
starts from IAM Identity Center.`,
		Example: `  rolehop login sso-dev
  rolehop login --sso-session corp --no-browser`,
		Args:              args,
		ValidArgsFunction: complete,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, hint, clients, err := o.ssoTarget(sys, firstArg(args), session)
			if err != nil {
				return err
			}
			home := awsconfig.HomeDir(sys.Getenv)
			if t, err := sso.ReadToken(sso.CachePath(home, s.TokenKey())); err == nil && !force && time.Until(t.ExpiresAt) > sso.RefreshWindow {
				sys.UI.Noticef("already signed in to %s until %s (--force signs in again)", s.StartURL, t.ExpiresAt.Format(time.RFC3339))
				return nil
			}
			opts := sso.LoginOptions{Options: sso.Options{Home: home, AWS: clients, LoginHint: hint, Notice: sys.UI.Warnf}, Out: sys.Err,
				Waiting: func(msg string) func() { return sys.UI.Start(msg).Stop }}
			if browserCommand != "" || (!noBrowser && browser.Available(sys.Getenv)) {
				bo := browser.Options{Command: browserCommand, Getenv: sys.Getenv}
				opts.OpenBrowser = func(url string) error { _, err := browser.Open(url, bo); return err }
			}
			login := sso.LoginDevice
			// The AWS CLI's choice: PKCE with an sso-session and a browser,
			// the device code otherwise (legacy profiles, SSH, headless).
			if opts.OpenBrowser != nil && !deviceCode && s.Session != "" {
				login = sso.LoginPKCE
			}
			t, err := login(cmd.Context(), s, opts)
			if err != nil {
				return err
			}
			sys.UI.Noticef("signed in to %s until %s", s.StartURL, t.ExpiresAt.Format(time.RFC3339))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.profile, "profile", "", "profile whose chain starts from IAM Identity Center (same as the PROFILE argument)")
	f.StringVar(&session, "sso-session", "", "sign in to this [sso-session NAME] instead of a profile's")
	f.BoolVar(&noBrowser, "no-browser", false, "only print the URL and code (for SSH sessions and headless machines)")
	f.BoolVar(&deviceCode, "use-device-code", false, "use the device-code flow even where a browser could open (default without a browser or for legacy profiles)")
	f.StringVar(&browserCommand, "browser-command", "", "program that opens the sign-in page: it is given the path of a private page that redirects to the sign-in URL (a URL in an argument list is readable by every local user)")
	f.BoolVar(&force, "force", false, "sign in even if the cached token is still valid")
	return cmd
}

func newLogoutCmd(sys IO) *cobra.Command {
	var o chainOptions
	var session string
	args, complete := oneProfileArg(sys)
	cmd := &cobra.Command{
		Use:   "logout [PROFILE | --sso-session NAME]",
		Short: "End an IAM Identity Center or aws login session: remove its token and the role credentials cached from it",
		Long: `Sign out of the session a profile's chain starts from, and remove every role credential
rolehop cached from it, however many hops down:

  - IAM Identity Center: the token in ~/.aws/sso/cache (after telling the portal to end the
    session), as "aws sso logout" does;
  - aws login (login_session): the session's file in the login cache, as "aws logout" does.`,
		Example: `  rolehop logout sso-dev
  rolehop logout console`,
		Args:              args,
		ValidArgsFunction: complete,
		RunE: func(cmd *cobra.Command, args []string) error {
			if session == "" {
				p, err := o.resolve(sys, firstArg(args))
				if err != nil {
					return err
				}
				if l := p.Source.Login; l != nil {
					removed, err := login.Logout(l.CacheDir, l.Session)
					if err != nil {
						return err
					}
					n := removeDerived(sys, func(m cache.Meta) bool { return m.Login == l.Session })
					state := "no session was cached"
					if removed {
						state = "session removed from " + l.CacheFile
					}
					sys.UI.Noticef("signed out of the aws login session %s: %s, %d cached credential(s) removed", l.Session, state, n)
					return nil
				}
			}
			s, hint, clients, err := o.ssoTarget(sys, firstArg(args), session)
			if err != nil {
				return err
			}
			removed, err := sso.Logout(cmd.Context(), s, sso.Options{Home: awsconfig.HomeDir(sys.Getenv), AWS: clients, LoginHint: hint})
			if err != nil {
				return err
			}
			n := removeDerived(sys, func(m cache.Meta) bool { return m.SSO == s.TokenKey() })
			state := "no token was cached"
			if removed {
				state = "token removed"
			}
			sys.UI.Noticef("signed out of %s (%s): %s, %d cached credential(s) removed", s.TokenKey(), s.StartURL, state, n)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.profile, "profile", "", "profile whose chain starts from IAM Identity Center or an aws login session (same as the PROFILE argument)")
	cmd.Flags().StringVar(&session, "sso-session", "", "sign out of this [sso-session NAME]")
	return cmd
}

// removeDerived removes the cache entries of a session: every entry
// derived from it, the source's and those of the MFA sessions and roles
// after it however many hops down, carries the session in its Meta
// (chain.StepsWith). It returns how many it removed.
func removeDerived(sys IO, of func(cache.Meta) bool) int {
	store, err := openStore(sys)
	if err != nil {
		return 0
	}
	entries, _ := store.List()
	n := 0
	for _, e := range entries {
		if of(e.Meta) && store.Delete(e.Key) == nil {
			n++
		}
	}
	return n
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
