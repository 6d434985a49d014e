package cli

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/chain"
	"github.com/rolehop/rolehop/internal/plan"
)

// expiryKey is written next to the keys; the SDKs ignore unknown keys, and
// awsume and aws-mfa use this name for the same purpose.
const expiryKey = "x_security_token_expires"

type writeOptions struct {
	chainOptions
	to        string
	force     bool
	watch     bool
	refreshAt float64
}

func newWriteCmd(sys IO) *cobra.Command {
	var o writeOptions
	args, complete := oneProfileArg(sys)
	cmd := &cobra.Command{
		Use:   "write [PROFILE] [flags] --to NAME",
		Short: "Write the role's credentials into a profile of ~/.aws/credentials, optionally keeping them fresh",
		Long: `Write aws_access_key_id, aws_secret_access_key, aws_session_token and x_security_token_expires
into section [NAME] of the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
~/.aws/credentials), for programs that only read profiles. Every other byte of the file is
kept; the file keeps its permissions (0600 when new) and is replaced atomically under a lock.
A section that holds long-term keys is never overwritten without --force.

With --watch, rolehop stays in the foreground and rewrites the section each time a fraction
(--refresh-at) of the credentials' remaining lifetime has passed — the replacement for
"watch -n 3500 aws sts assume-role …" — retrying STS errors with backoff, until SIGINT/SIGTERM.`,
		Example: `  rolehop write prod --to prod-session
  rolehop write prod --to default --watch
  AWS_PROFILE=prod-session terraform plan`,
		Args:              args,
		ValidArgsFunction: complete,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.to == "" {
				return usagef("write needs --to NAME: the credentials-file profile to write")
			}
			if o.refreshAt <= 0 || o.refreshAt >= 1 {
				return usagef("--refresh-at %v must be between 0 and 1 (e.g. 0.8: rewrite when 80%% of the remaining lifetime has passed)", o.refreshAt)
			}
			p, err := o.resolve(sys, firstArg(args))
			if err != nil {
				return err
			}
			for _, w := range p.Warnings {
				sys.UI.Warnf("%s", w)
			}
			_, path := awsconfig.FilePaths(sys.Getenv)
			if !o.watch {
				creds, err := o.fetch(cmd.Context(), sys, p, 0)
				if err != nil {
					return err
				}
				return o.store(sys, path, creds)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return o.watchLoop(ctx, sys, p, path)
		},
	}
	addChainFlags(cmd, &o.chainOptions, sys)
	f := cmd.Flags()
	f.StringVar(&o.to, "to", "", "credentials-file profile (section) to write")
	f.BoolVar(&o.force, "force", false, "overwrite the section even if it holds long-term access keys")
	f.BoolVar(&o.watch, "watch", false, "stay in the foreground and rewrite the section before the credentials expire")
	f.Float64Var(&o.refreshAt, "refresh-at", 0.8, "with --watch: rewrite when this fraction of the credentials' remaining lifetime has passed")
	return cmd
}

// fetch builds the chain and returns its credentials; finalMinTTL > 0
// forces the last hop to be newer than what has only that much left.
func (o *writeOptions) fetch(ctx context.Context, sys IO, p *plan.Plan, finalMinTTL time.Duration) (aws.Credentials, error) {
	prov, err := o.build(sys, p, finalMinTTL)
	if err != nil {
		return aws.Credentials{}, err
	}
	creds, err := prov.Retrieve(ctx)
	return creds, chain.Cause(err)
}

func (o *writeOptions) store(sys IO, path string, creds aws.Credentials) error {
	kv := []awsconfig.KeyValue{
		{Key: "aws_access_key_id", Value: creds.AccessKeyID},
		{Key: "aws_secret_access_key", Value: creds.SecretAccessKey},
	}
	if creds.SessionToken != "" {
		kv = append(kv, awsconfig.KeyValue{Key: "aws_session_token", Value: creds.SessionToken})
	}
	if creds.CanExpire {
		kv = append(kv, awsconfig.KeyValue{Key: expiryKey, Value: expiryText(creds)})
	}
	err := awsconfig.WriteCredentialsSection(path, o.to, kv, awsconfig.WriteOptions{Force: o.force, Notice: sys.UI.Warnf})
	if err != nil {
		return err
	}
	sys.UI.Noticef("wrote [%s] in %s (%s)", o.to, awsconfig.ShortPath(path), validity(creds))
	return nil
}

// watchLoop writes, sleeps until refreshAt of the remaining lifetime has
// passed, and writes again; STS failures are retried with jittered
// exponential backoff while the last written credentials stay in place.
func (o *writeOptions) watchLoop(ctx context.Context, sys IO, p *plan.Plan, path string) error {
	var finalMinTTL time.Duration
	backoff := time.Second
	first := true
	for {
		creds, err := o.fetch(ctx, sys, p, finalMinTTL)
		if err == nil {
			err = o.store(sys, path, creds)
		}
		if ctx.Err() != nil {
			return nil
		}
		var wait time.Duration
		switch {
		case err != nil && (first || errors.Is(err, awsconfig.ErrLongTermKeys)):
			return err
		case err != nil:
			wait = backoff/2 + rand.N(backoff/2+1)
			sys.UI.Noticef("refresh failed, retrying in %s: %v", wait.Round(time.Second), err)
			backoff = min(backoff*2, time.Minute)
		default:
			remaining := time.Until(creds.Expires)
			if !creds.CanExpire {
				sys.UI.Noticef("these credentials do not expire: nothing to refresh")
				return nil
			}
			if !first {
				sys.UI.Noticef("refreshed [%s]: %s", o.to, validity(creds))
			}
			wait = time.Duration(float64(remaining) * o.refreshAt)
			// At wake-up the current credentials have remaining-wait left;
			// only newer ones may be used then.
			finalMinTTL = remaining - wait + time.Second
			backoff = time.Second
		}
		first = false
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

func validity(c aws.Credentials) string {
	if !c.CanExpire {
		return "no expiry"
	}
	return fmt.Sprintf("expires %s, in %s", expiryText(c), time.Until(c.Expires).Round(time.Second))
}
