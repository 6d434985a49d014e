package source

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rolehop/rolehop/internal/keychain"
	"github.com/rolehop/rolehop/internal/plan"
)

// keychainKeys reads a profile's long-term keys from the OS keychain when
// they are first needed: a chain whose hops are cached does not open the
// keychain at all (no unlock prompt, no passphrase).
type keychainKeys struct {
	src  plan.Source
	opts Options
}

func (k keychainKeys) Retrieve(ctx context.Context) (aws.Credentials, error) {
	ns, err := keychain.Rolehop(k.opts.Getenv)
	if err != nil {
		return aws.Credentials{}, err
	}
	store, err := keychain.Open(ctx, keychain.Backend(k.src.Keychain.Backend), ns, KeychainSettings(k.opts.Getenv))
	var ue *keychain.UnavailableError
	if errors.As(err, &ue) {
		ue.Reading = true
	}
	if err != nil {
		return aws.Credentials{}, err
	}
	keys, err := store.Get(ctx, k.src.Profile)
	switch {
	case errors.Is(err, keychain.ErrNotFound):
		return aws.Credentials{}, fmt.Errorf("%w (rolehop's index %s lists it: store the keys again with `rolehop keys add %s`, or forget them with `rolehop keys remove %s`)", err, k.src.Keychain.Index, k.src.Profile, k.src.Profile)
	case err != nil:
		// The store is there but would not open (passphrase, gpg, D-Bus):
		// its own error says what to do; the keys need no re-adding.
		return aws.Credentials{}, err
	}
	if keys.AccessKeyID != k.src.AccessKeyID && k.opts.Notice != nil {
		k.opts.Notice("the %s keychain holds key %s for profile %q, not %s as rolehop's index says: using the keychain's (run `rolehop keys add %s` to set both)",
			k.src.Keychain.Store, plan.MaskKeyID(keys.AccessKeyID), k.src.Profile, plan.MaskKeyID(k.src.AccessKeyID), k.src.Profile)
	}
	return aws.Credentials{AccessKeyID: keys.AccessKeyID, SecretAccessKey: keys.SecretAccessKey, Source: "rolehop keychain"}, nil
}

// KeychainSettings are how every command reaches the keychain: the
// passphrase of the encrypted-file store is asked on the terminal (never
// stdin or stdout, which carry the command's data), and what pass and gpg
// print goes to stderr.
func KeychainSettings(getenv func(string) string) keychain.Settings {
	return keychain.Settings{Getenv: getenv, Stderr: os.Stderr, Passphrase: keychain.TerminalPassphrase}
}
