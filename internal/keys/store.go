package keys

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rolehop/rolehop/internal/keychain"
	"github.com/rolehop/rolehop/internal/plan"
)

// ConfigKey is the key of the [default] profile in ~/.aws/config that
// chooses the store for new keys (below ROLEHOP_KEYRING_BACKEND).
const ConfigKey = "rolehop_keyring_backend"

// Choose is the store for new keys: ROLEHOP_KEYRING_BACKEND, else
// rolehop_keyring_backend of [default] in the config file, else the
// system's (keychain.Choose).
func Choose(e *Env) (keychain.Choice, error) {
	configured, from := "", ""
	if p, ok := e.Config.Profile("default"); ok {
		if v, ok := p.Get(ConfigKey); ok && v.File == e.Config.ConfigFile {
			configured, from = strings.TrimSpace(v.Value), v.Origin()
		}
	}
	return keychain.Choose(e.Getenv, configured, from)
}

// open opens backend in rolehop's own namespace.
func (e *Env) open(ctx context.Context, b keychain.Backend) (*keychain.Store, error) {
	ns, err := keychain.Rolehop(e.Getenv)
	if err != nil {
		return nil, err
	}
	return keychain.Open(ctx, b, ns, e.Keychain)
}

// store puts k in the store as profile's keys, reads them back, and then
// records them in the index; entry carries what else the index should say.
// A store that had the profile's keys elsewhere (another backend) loses
// them only after the new store holds them.
func (e *Env) store(ctx context.Context, profile string, k keychain.Keys, choice keychain.Choice, entry keychain.Entry) error {
	if err := keychain.CheckProfileName(profile); err != nil {
		return err
	}
	st, err := e.open(ctx, choice.Backend)
	if err != nil {
		return err
	}
	if err := st.Set(ctx, profile, k); err != nil {
		return err
	}
	back, err := st.Get(ctx, profile)
	if err != nil {
		return fmt.Errorf("stored the keys of profile %q but cannot read them back: %w", profile, err)
	}
	if back != k {
		return fmt.Errorf("the %s keychain gave back other keys for profile %q than were stored: nothing was changed in rolehop's index", choice.Backend.Describe(), profile)
	}
	var previous keychain.Entry
	var hadPrevious bool
	entry.Backend, entry.AccessKeyID = choice.Backend, k.AccessKeyID
	if entry.Added.IsZero() {
		entry.Added = e.now().UTC().Truncate(time.Second)
	}
	err = keychain.UpdateIndex(ctx, e.Getenv, func(ix *keychain.Index) error {
		previous, hadPrevious = ix.Profiles[profile]
		ix.Profiles[profile] = entry
		return nil
	})
	if err != nil {
		return err
	}
	if hadPrevious && previous.Backend != choice.Backend {
		if old, err := e.open(ctx, previous.Backend); err == nil {
			if err := old.Remove(ctx, profile); err != nil {
				e.warn("profile %q's previous keys are still in the %s keychain: %v", profile, previous.Backend.Describe(), err)
			}
		}
	}
	return nil
}

// Add stores k as profile's keys in the chosen store.
func Add(ctx context.Context, e *Env, profile string, k keychain.Keys, choice keychain.Choice) error {
	k.AccessKeyID = strings.TrimSpace(k.AccessKeyID)
	if err := CheckKeys(k); err != nil {
		return err
	}
	if err := e.store(ctx, profile, k, choice, keychain.Entry{}); err != nil {
		return err
	}
	e.notice("stored the keys %s of profile %q in the %s keychain (%s)", plan.MaskKeyID(k.AccessKeyID), profile, choice.Backend.Describe(), choice.From)
	if p, ok := e.Config.Profile(profile); ok {
		if v, ok := p.Get("aws_access_key_id"); ok {
			e.warn("profile %q still has plaintext keys at %s: the keychain's are used from now on; `rolehop keys import %s` deletes those lines (it stores the file's keys, so run it only if they are the ones you want)", profile, v.Origin(), profile)
		}
	} else {
		e.notice("profile %q is in no AWS config file: rolehop uses it as it is; for the AWS CLI add [profile %s] with credential_process = rolehop credential-process %s", profile, profile, profile)
	}
	return nil
}

// listRow is one line of `keys list`, and its JSON (docs/json-output.md).
type listRow struct {
	Profile     string    `json:"profile"`
	AccessKeyID string    `json:"access_key_id"` // masked
	Backend     string    `json:"backend"`
	Added       time.Time `json:"added"`
	Created     time.Time `json:"created,omitzero"`
	AgeSeconds  int64     `json:"age_seconds"`
	UserARN     string    `json:"user_arn,omitempty"`
}

// List prints the index: no store is opened.
func List(e *Env, asJSON bool) error {
	ix, err := keychain.LoadIndex(e.Getenv)
	if err != nil {
		return err
	}
	rows := []listRow{}
	now := e.now()
	for _, name := range ix.Names() {
		en := ix.Profiles[name]
		since := en.Added
		if !en.Created.IsZero() {
			since = en.Created
		}
		rows = append(rows, listRow{Profile: name, AccessKeyID: plan.MaskKeyID(en.AccessKeyID), Backend: string(en.Backend),
			Added: en.Added, Created: en.Created, AgeSeconds: int64(now.Sub(since).Seconds()), UserARN: en.UserARN})
	}
	if asJSON {
		enc := json.NewEncoder(e.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	if len(rows) == 0 {
		fmt.Fprintf(e.Out, "no keys in a keychain (index %s): add some with `rolehop keys add PROFILE` or `rolehop keys import`\n", ix.Path)
		return nil
	}
	tw := tabwriter.NewWriter(e.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tACCESS KEY\tSTORE\tAGE")
	for _, r := range rows {
		age := Age(time.Duration(r.AgeSeconds) * time.Second)
		if r.Created.IsZero() {
			age += " (since stored)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Profile, r.AccessKeyID, r.Backend, age)
	}
	return tw.Flush()
}

// Age is a key's age as people read it: 45s, 12m, 5h, 93d.
func Age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// Remove deletes profile's keys from their store, then from the index.
func Remove(ctx context.Context, e *Env, profile string, indexOnly bool) error {
	ix, err := keychain.LoadIndex(e.Getenv)
	if err != nil {
		return err
	}
	en, ok := ix.Lookup(profile)
	if !ok {
		return fmt.Errorf("rolehop's index (%s) has no keys for profile %q: `rolehop keys list` shows those it has", ix.Path, profile)
	}
	if !indexOnly {
		st, err := e.open(ctx, en.Backend)
		if err == nil {
			err = st.Remove(ctx, profile)
		}
		if err != nil {
			return fmt.Errorf("%w (to forget the index entry anyway: rolehop keys remove %s --index-only)", err, profile)
		}
	}
	err = keychain.UpdateIndex(ctx, e.Getenv, func(ix *keychain.Index) error {
		delete(ix.Profiles, profile)
		return nil
	})
	if err != nil {
		return err
	}
	what := "removed"
	if indexOnly {
		what = "forgot (the store was not opened)"
	}
	e.notice("%s the keys %s of profile %q from the %s keychain; the key is still valid in IAM until deleted there (aws iam delete-access-key --access-key-id %s)",
		what, plan.MaskKeyID(en.AccessKeyID), profile, en.Backend.Describe(), en.AccessKeyID)
	return nil
}
