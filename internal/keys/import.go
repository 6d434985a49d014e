package keys

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/fsutil"
	"github.com/rolehop/rolehop/internal/keychain"
	"github.com/rolehop/rolehop/internal/plan"
)

// ImportOptions say where keys come from and where they go.
type ImportOptions struct {
	// FromAWSVault reads aws-vault's store instead of the credentials
	// file; FromBackend is that store (AWS_VAULT_BACKEND when empty).
	FromAWSVault bool
	FromBackend  keychain.Choice
	// NoVerify skips the GetCallerIdentity check of each key.
	NoVerify bool
	// To is the store the keys go to.
	To keychain.Choice
}

// keyLines are the lines `keys import` takes out of the credentials file.
var keyLines = []string{"aws_access_key_id", "aws_secret_access_key"}

// Import moves the keys of profiles (every profile that has some, when
// none is named) into the keychain. Each profile is done on its own: one
// that fails is reported and the others go on; the error says how many
// failed. A single profile's failure is the error itself (one line).
func Import(ctx context.Context, e *Env, profiles []string, opts ImportOptions) error {
	var found []imported
	var err error
	if opts.FromAWSVault {
		found, err = e.fromAWSVault(ctx, profiles, opts.FromBackend)
	} else {
		found, err = e.fromCredentialsFile(profiles)
	}
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return errors.New(nothingToImport(e, opts))
	}
	failed := 0
	for _, im := range found {
		if err := e.importOne(ctx, im, opts); err != nil {
			err = fmt.Errorf("profile %q: %w", im.profile, err)
			if len(found) == 1 {
				return err // the one line of a one-profile import
			}
			e.warn("%v", err)
			failed++
		}
	}
	switch {
	case failed == len(found):
		return fmt.Errorf("none of the %d profiles was imported (see above)", failed)
	case failed > 0:
		return fmt.Errorf("%d of %d profiles were not imported (see above); the others were", failed, len(found))
	}
	return nil
}

func nothingToImport(e *Env, opts ImportOptions) string {
	if opts.FromAWSVault {
		return fmt.Sprintf("aws-vault's %s store holds no access keys to import (set AWS_VAULT_BACKEND, or --from-backend, to the store aws-vault uses)", opts.FromBackend.Backend.Describe())
	}
	return fmt.Sprintf("%s has no profile with aws_access_key_id and aws_secret_access_key (and no session token) to import", awsconfig.ShortPath(e.Config.CredentialsFile))
}

// imported is one profile's keys found for import, and where.
type imported struct {
	profile string
	keys    keychain.Keys
	where   string // "~/.aws/credentials:12" or "aws-vault's pass store"
	inFile  bool   // the two lines are to be removed from the credentials file
}

// fromCredentialsFile finds long-term keys in the credentials file's own
// sections (not inherited from [DEFAULT], not a session's).
func (e *Env) fromCredentialsFile(profiles []string) ([]imported, error) {
	path := e.Config.CredentialsFile
	data, err := fsutil.ReadShared(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", awsconfig.ShortPath(path), err)
	}
	pf, err := awsconfig.Parse(path, data)
	if err != nil {
		return nil, err
	}
	bySection := map[string]awsconfig.ParsedSection{}
	var order []string
	for _, s := range pf.Sections {
		if name, ok := awsconfig.ProfileName(awsconfig.CredentialsFile, s.Header); ok {
			bySection[name] = s
			order = append(order, name)
		}
	}
	named := len(profiles) > 0
	if !named {
		profiles = order
	}
	var out []imported
	for _, name := range profiles {
		s, ok := bySection[name]
		if !ok {
			if p, ok := e.Config.Profile(name); ok {
				if v, ok := p.Get("aws_access_key_id"); ok {
					return nil, fmt.Errorf("profile %q keeps its keys in %s, and keys import takes them from %s only: move them there, or add them with `rolehop keys add %s`", name, v.Origin(), awsconfig.ShortPath(path), name)
				}
			}
			return nil, fmt.Errorf("profile %q has no section in %s", name, awsconfig.ShortPath(path))
		}
		id, hasID := s.Keys["aws_access_key_id"]
		secret, hasSecret := s.Keys["aws_secret_access_key"]
		_, hasToken := s.Keys["aws_session_token"]
		_, hasToken2 := s.Keys["aws_security_token"]
		switch {
		case !hasID || !hasSecret || id.Line < s.Line || secret.Line < s.Line:
			if named {
				return nil, fmt.Errorf("profile %q has no aws_access_key_id and aws_secret_access_key of its own in %s", name, awsconfig.ShortPath(path))
			}
			continue
		case hasToken || hasToken2:
			if named {
				return nil, fmt.Errorf("profile %q in %s holds temporary credentials (a session token): only long-term keys go to the keychain", name, awsconfig.ShortPath(path))
			}
			continue
		}
		out = append(out, imported{profile: name, inFile: true, where: id.Origin(),
			keys: keychain.Keys{AccessKeyID: strings.TrimSpace(id.Value), SecretAccessKey: strings.TrimSpace(secret.Value)}})
	}
	return out, nil
}

// awsVaultSession matches the names aws-vault gives cached sessions and
// tokens rather than long-term keys (vault/sessionkeyring.go,
// vault/oidctokenkeyring.go): "TYPE,b64(profile),b64(mfa),EXPIRY", the
// older "session,…", "session:…" and "… session (…)", and "oidc:URL".
var awsVaultSession = regexp.MustCompile(`^[^,]+,[^,]+,[^,]*,[0-9]+$|^session[,:]|^oidc:| session \(`)

// fromAWSVault reads long-term keys from aws-vault's store.
func (e *Env) fromAWSVault(ctx context.Context, profiles []string, from keychain.Choice) ([]imported, error) {
	st, err := keychain.Open(ctx, from.Backend, keychain.AWSVault(e.Getenv), e.Keychain)
	if err != nil {
		return nil, fmt.Errorf("aws-vault's store (%s): %w", from.From, err)
	}
	named := len(profiles) > 0
	if !named {
		names, err := st.Names(ctx)
		switch {
		case errors.Is(err, keychain.ErrCannotList):
			names = e.Config.ProfileNames() // try each profile aws-vault might know
		case err != nil:
			return nil, err
		}
		for _, n := range names {
			if !awsVaultSession.MatchString(n) {
				profiles = append(profiles, n)
			}
		}
	}
	where := fmt.Sprintf("aws-vault's %s store", from.Backend.Describe())
	var out []imported
	for _, name := range profiles {
		k, err := st.Get(ctx, name)
		if errors.Is(err, keychain.ErrNotFound) && !named {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, imported{profile: name, keys: k, where: where})
	}
	return out, nil
}

// importOne verifies, stores, and then takes the plaintext lines out.
func (e *Env) importOne(ctx context.Context, im imported, opts ImportOptions) error {
	if err := CheckKeys(im.keys); err != nil {
		return err
	}
	var entry keychain.Entry
	if !opts.NoVerify {
		t, err := e.targetFor(im.profile)
		if err != nil {
			return err
		}
		arn, err := t.whoami(ctx, im.keys)
		if err != nil {
			return fmt.Errorf("%v; nothing was changed (--no-verify imports them anyway)", err)
		}
		entry.UserARN = arn
	}
	ix, err := keychain.LoadIndex(e.Getenv)
	if err != nil {
		return err
	}
	to := opts.To
	if have, ok := ix.Lookup(im.profile); ok && have.AccessKeyID == im.keys.AccessKeyID {
		to = keychain.Choice{Backend: have.Backend, From: "already there"}
	} else {
		if ok {
			e.notice("profile %q: replacing the keys %s in the %s keychain with %s from %s", im.profile, plan.MaskKeyID(have.AccessKeyID), have.Backend.Describe(), plan.MaskKeyID(im.keys.AccessKeyID), im.where)
		}
		if err := e.store(ctx, im.profile, im.keys, to, entry); err != nil {
			return err
		}
	}
	if im.inFile {
		if err := e.removePlaintext(ctx, im); err != nil {
			return fmt.Errorf("the keys are in the %s keychain, but their plaintext copy is still in %s: %w", to.Backend.Describe(), im.where, err)
		}
		e.notice("moved the keys %s of profile %q from %s to the %s keychain", plan.MaskKeyID(im.keys.AccessKeyID), im.profile, im.where, to.Backend.Describe())
		return nil
	}
	e.notice("copied the keys %s of profile %q from %s to the %s keychain; aws-vault's copy is untouched (`aws-vault remove %s` deletes it)", plan.MaskKeyID(im.keys.AccessKeyID), im.profile, im.where, to.Backend.Describe(), im.profile)
	return nil
}

// removePlaintext deletes the two key lines of the profile from the
// credentials file, with the same locked, atomic, compare-and-swap update
// as every write to it; the keys there must still be the ones stored.
func (e *Env) removePlaintext(ctx context.Context, im imported) error {
	path := e.Config.CredentialsFile
	_, err := awsconfig.UpdateFile(ctx, path, awsconfig.UpdateOptions{Secret: true, Notice: e.Notice}, func(data []byte, _ bool) ([]byte, error) {
		keys, ok, err := awsconfig.SectionKeys(data, im.profile)
		if err != nil {
			return nil, err
		}
		if !ok || strings.TrimSpace(keys["aws_access_key_id"]) != im.keys.AccessKeyID || strings.TrimSpace(keys["aws_secret_access_key"]) != im.keys.SecretAccessKey {
			return nil, fmt.Errorf("the keys of [%s] in %s changed while rolehop worked: run keys import again", im.profile, awsconfig.ShortPath(path))
		}
		out, _, err := awsconfig.RemoveKeys(data, im.profile, keyLines...)
		return out, err
	})
	return err
}
