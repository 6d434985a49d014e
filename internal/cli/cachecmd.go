package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/chain"
)

func newCacheCmd(sys IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "List or clear the shared credential cache",
		Long: `rolehop caches the result of every STS step (each AssumeRole hop, MFA sessions) and of
credential_process sources with an expiry, in $ROLEHOP_CACHE_DIR, else
$XDG_CACHE_HOME/rolehop, else ~/.cache/rolehop: one 0600 file per step in a 0700 directory.
Entries are reused while more than --min-ttl (default 5m) of validity remains.`,
		Example: `  rolehop cache list
  rolehop cache clear prod
  rolehop cache clear`,
	}
	cmd.AddCommand(newCacheListCmd(sys), newCacheClearCmd(sys))
	return cmd
}

// cacheEntryJSON is one entry of `rolehop cache list --output json`
// (docs/json-output.md).
type cacheEntryJSON struct {
	Kind        string    `json:"kind"`
	RoleARN     string    `json:"role_arn,omitempty"`
	Serial      string    `json:"mfa_serial,omitempty"`
	SessionName string    `json:"session_name,omitempty"`
	Profile     string    `json:"profile,omitempty"`
	Expiration  time.Time `json:"expiration"`
	Remaining   int64     `json:"remaining_seconds"`
	Key         string    `json:"key"`
}

func newCacheListCmd(sys IO) *cobra.Command {
	var output outputFormat
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "Show cached credentials: kind, role or MFA serial, session, profile and remaining validity (no secrets)",
		Example: `  rolehop cache list --output json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := output.isJSON()
			if err != nil {
				return err
			}
			store, err := openStore(sys)
			if err != nil {
				return err
			}
			entries, err := store.List()
			if err != nil {
				return err
			}
			if asJSON {
				rows := []cacheEntryJSON{}
				for _, e := range entries {
					rows = append(rows, cacheEntryJSON{e.Meta.Kind, e.Meta.RoleARN, e.Meta.Serial, e.Meta.SessionName, e.Meta.Profile, e.Expiration, e.Remaining, e.Key})
				}
				enc := json.NewEncoder(sys.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			if len(entries) == 0 {
				fmt.Fprintf(sys.Out, "no cached credentials in %s\n", store.Dir())
				return nil
			}
			tw := tabwriter.NewWriter(sys.Out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tROLE / MFA SERIAL\tSESSION\tPROFILE\tEXPIRES\tREMAINING")
			for _, e := range entries {
				what := e.Meta.RoleARN
				if what == "" {
					what = e.Meta.Serial
				}
				remaining := "expired"
				if e.Remaining > 0 {
					remaining = (time.Duration(e.Remaining) * time.Second).String()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Meta.Kind, orDash(what), orDash(e.Meta.SessionName), orDash(e.Meta.Profile),
					e.Expiration.UTC().Format(time.RFC3339), remaining)
			}
			return tw.Flush()
		},
	}
	addOutputFlag(cmd, &output, "an array of entries")
	return cmd
}

func newCacheClearCmd(sys IO) *cobra.Command {
	var o chainOptions
	args, complete := oneProfileArg(sys)
	cmd := &cobra.Command{
		Use:   "clear [PROFILE] [flags]",
		Short: "Remove cached credentials: those of one profile's chain, or all",
		Example: `  rolehop cache clear prod
  rolehop cache clear --role-arn arn:aws:iam::222222222222:role/deploy
  rolehop cache clear`,
		Args:              args,
		ValidArgsFunction: complete,
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := openStore(sys)
			if err != nil {
				return err
			}
			name, _, err := o.positionalProfile(firstArg(args))
			if err != nil {
				return err
			}
			if name == "" && len(o.roleARNs) == 0 {
				n, err := store.Clear()
				if err != nil {
					return err
				}
				sys.UI.Noticef("removed %d cached credential(s) from %s", n, store.Dir())
				return nil
			}
			// The chain as resolved now, plus every entry made for this
			// profile with other flags (another --role-session-name, say).
			p, err := o.resolve(sys, firstArg(args))
			if err != nil {
				return err
			}
			// A chain that starts with a web identity is keyed by the
			// token's claims, which clear does not read: its entries are
			// found by their Origin. That removes the entries of every
			// token (every identity) that used this web identity, and of
			// every chain from it, not only this profile's hops.
			doomed, origins := map[string]bool{}, map[string]bool{}
			for _, st := range chain.Steps(p) {
				doomed[st.Key] = true
				if st.CappedKey != "" {
					doomed[st.CappedKey] = true
				}
				if st.Meta.Origin != "" {
					origins[st.Meta.Origin] = true
				}
			}
			entries, err := store.List()
			if err != nil {
				return err
			}
			n := 0
			for _, e := range entries {
				if doomed[e.Key] || origins[e.Meta.Origin] || (name != "" && e.Meta.Profile == name) {
					n++
					doomed[e.Key] = true
				}
			}
			for key := range doomed {
				if err := store.Delete(key); err != nil {
					return err
				}
			}
			sys.UI.Noticef("removed %d cached credential(s) of this chain and profile", n)
			return nil
		},
	}
	addChainFlags(cmd, &o, sys)
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
