package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/keychain"
	"github.com/rolehop/rolehop/internal/keys"
	"github.com/rolehop/rolehop/internal/prompt"
	"github.com/rolehop/rolehop/internal/source"
)

func newKeysCmd(sys IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Keep IAM user access keys in the OS keychain instead of ~/.aws/credentials",
		Long: `rolehop keys stores a profile's long-term access keys in an OS secret store, and every
command then uses them wherever the profile's aws_access_key_id would be used: directly,
as the source_profile of any chain, with MFA. The stores:

  keychain        macOS Keychain (the login keychain)
  wincred         Windows Credential Manager
  secret-service  the Secret Service over D-Bus: GNOME Keyring, KWallet, KeePassXC (the
                  default collection, which the desktop unlocks at sign-in)
  pass            pass, the standard Unix password manager (PASSWORD_STORE_DIR)
  file            passphrase-encrypted files in ~/.config/rolehop/keyring
                  (ROLEHOP_KEYRING_FILE_DIR); the passphrase comes from
                  ROLEHOP_KEYRING_PASSWORD, from the first line printed by
                  ROLEHOP_KEYRING_PASSWORD_COMMAND, or from the terminal

New keys go to ROLEHOP_KEYRING_BACKEND, else rolehop_keyring_backend in the [default]
profile of ~/.aws/config, else the system's own store (the Secret Service on Linux when a
D-Bus session is running, else pass when initialised, else the encrypted file). Which
profile's keys are in which store is recorded, without secrets, in
~/.config/rolehop/keys.json, so that explain and keys list never open a store.

Keys in the keychain outrank aws_access_key_id lines of the same profile; every command
warns while such a plaintext copy is left.`,
		Example: `  rolehop keys add prod-user
  rolehop keys import --from aws-vault
  rolehop keys import               # every profile with keys in ~/.aws/credentials
  rolehop keys list
  rolehop keys rotate prod-user`,
	}
	cmd.AddCommand(newKeysAddCmd(sys), newKeysImportCmd(sys), newKeysListCmd(sys), newKeysRemoveCmd(sys), newKeysRotateCmd(sys))
	return cmd
}

// keysEnv is the environment of the keys operations for this process.
func keysEnv(sys IO) (*keys.Env, error) {
	cfg, err := awsconfig.LoadEnv(sys.Getenv)
	if err != nil {
		return nil, err
	}
	env := &keys.Env{
		Getenv:   sys.Getenv,
		Config:   cfg,
		Keychain: source.KeychainSettings(sys.Getenv),
		Notice:   sys.UI.Noticef,
		Warn:     sys.UI.Warnf,
		Out:      sys.Out,
	}
	if !sys.HasTerminal {
		env.Keychain.Passphrase = nil
	} else {
		env.MFA = prompt.MFA
	}
	return env, nil
}

// keychainChoice is the store for new keys: --backend, else as Choose says.
func keychainChoice(env *keys.Env, flag string) (keychain.Choice, error) {
	if flag != "" {
		b, err := keychain.ParseBackend(flag)
		if err != nil {
			return keychain.Choice{}, usageError{err}
		}
		return keychain.Choice{Backend: b, From: "--backend"}, nil
	}
	c, err := keys.Choose(env)
	if err != nil {
		return keychain.Choice{}, usageError{err}
	}
	return c, nil
}

func addBackendFlag(cmd *cobra.Command, v *string) {
	cmd.Flags().StringVar(v, "backend", "", "the store for the keys: keychain, wincred, secret-service, pass or file (default: ROLEHOP_KEYRING_BACKEND, rolehop_keyring_backend, the system's store)")
	_ = cmd.RegisterFlagCompletionFunc("backend", cobra.FixedCompletions(backendNames(), cobra.ShellCompDirectiveNoFileComp))
}

func newKeysAddCmd(sys IO) *cobra.Command {
	var fromEnv bool
	var backend string
	cmd := &cobra.Command{
		Use:   "add PROFILE",
		Short: "Store a profile's access keys in the keychain (asked on the terminal, or --env)",
		Long: `Stores the access key id and secret access key of an IAM user in the keychain as the keys
of PROFILE. The secret is read from the terminal without echo, or with --env from
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. PROFILE need not exist in ~/.aws/config: a
profile that only the keychain knows is usable as it is, and as a source_profile.`,
		Example: `  rolehop keys add prod-user
  AWS_ACCESS_KEY_ID=AKIA… AWS_SECRET_ACCESS_KEY=… rolehop keys add prod-user --env
  rolehop keys add prod-user --backend pass`,
		Args:              exactProfileArg,
		ValidArgsFunction: profileCompletion(sys),
		RunE: func(cmd *cobra.Command, args []string) error {
			env, err := keysEnv(sys)
			if err != nil {
				return err
			}
			choice, err := keychainChoice(env, backend)
			if err != nil {
				return err
			}
			var k keychain.Keys
			if fromEnv {
				k = keychain.Keys{AccessKeyID: sys.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: sys.Getenv("AWS_SECRET_ACCESS_KEY")}
				if k.AccessKeyID == "" || k.SecretAccessKey == "" {
					return usagef("--env needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set")
				}
			} else {
				if !sys.HasTerminal {
					return usagef("no terminal to ask for the keys on: pass them with --env (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
				}
				if k, err = askKeys(cmd.Context()); err != nil {
					return err
				}
			}
			return keys.Add(cmd.Context(), env, args[0], k, choice)
		},
	}
	cmd.Flags().BoolVar(&fromEnv, "env", false, "read the keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	addBackendFlag(cmd, &backend)
	return cmd
}

// askKeys reads an access key id (echoed: it is not a secret) and the
// secret access key (not echoed) on the terminal.
func askKeys(ctx context.Context) (keychain.Keys, error) {
	id, err := prompt.Line(ctx, "Access key ID: ")
	if err != nil {
		return keychain.Keys{}, err
	}
	secret, err := prompt.Secret(ctx, "Secret access key: ")
	if err != nil {
		return keychain.Keys{}, err
	}
	return keychain.Keys{AccessKeyID: id, SecretAccessKey: secret}, nil
}

func newKeysListCmd(sys IO) *cobra.Command {
	var output outputFormat
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show the profiles whose keys are in the keychain: key id (masked), store, age (no secrets)",
		Long: `Lists what rolehop's index says: each profile with keys in a keychain, its access key id
(masked), the store, and the key's age (since IAM created it when rolehop knows, from
keys rotate; else since it was stored). It opens no store: no unlock prompt.`,
		Example: `  rolehop keys list
  rolehop keys list --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := output.isJSON()
			if err != nil {
				return err
			}
			env, err := keysEnv(sys)
			if err != nil {
				return err
			}
			return keys.List(env, asJSON)
		},
	}
	addOutputFlag(cmd, &output, "an array of profiles")
	return cmd
}

func newKeysRemoveCmd(sys IO) *cobra.Command {
	var indexOnly bool
	cmd := &cobra.Command{
		Use:   "remove PROFILE",
		Short: "Delete a profile's keys from the keychain (the IAM key itself stays)",
		Long: `Deletes PROFILE's keys from the store that holds them and from rolehop's index. The key
stays valid in IAM: to revoke it, delete it there (aws iam delete-access-key). With
--index-only, only the index entry goes (for a store that is gone or unreachable).`,
		Example:           `  rolehop keys remove prod-user`,
		Args:              exactProfileArg,
		ValidArgsFunction: keychainCompletion(sys),
		RunE: func(cmd *cobra.Command, args []string) error {
			env, err := keysEnv(sys)
			if err != nil {
				return err
			}
			return keys.Remove(cmd.Context(), env, args[0], indexOnly)
		},
	}
	cmd.Flags().BoolVar(&indexOnly, "index-only", false, "forget the index entry without opening the store")
	return cmd
}

// exactProfileArg wants one PROFILE argument.
func exactProfileArg(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("name one profile (got %d arguments)", len(args))
	}
	return nil
}

// keychainCompletion completes the profiles of the keychain index, with
// their store.
func keychainCompletion(sys IO) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		ix, err := keychain.LoadIndex(sys.Getenv)
		if err != nil || len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, name := range ix.Names() {
			out = append(out, candidate(name, "keys in the "+ix.Profiles[name].Backend.Describe()+" keychain"))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func newKeysImportCmd(sys IO) *cobra.Command {
	var from, fromBackend, backend string
	var noVerify bool
	cmd := &cobra.Command{
		Use:   "import [PROFILE...]",
		Short: "Move access keys from ~/.aws/credentials, or from aws-vault, into the keychain",
		Long: `Moves the long-term access keys of each PROFILE (by default every profile that has
aws_access_key_id and aws_secret_access_key of its own, without a session token) from the
credentials file into the keychain. Each key is first checked with one STS
GetCallerIdentity call (--no-verify skips it), stored, read back, and only then are its two
lines deleted from the credentials file: every other byte of the file stays, and the file
is replaced atomically under the same lock as every rolehop write.

With --from aws-vault, the keys are read from aws-vault's own store instead
(AWS_VAULT_BACKEND, or --from-backend: keychain, wincred, secret-service, pass or file;
aws-vault's AWS_VAULT_FILE_DIR, AWS_VAULT_FILE_PASSPHRASE, AWS_VAULT_PASS_PASSWORD_STORE_DIR
and AWS_VAULT_PASS_PREFIX are honoured). aws-vault's cached sessions are skipped, and its
copy of the keys is left as it is.`,
		Example: `  rolehop keys import
  rolehop keys import prod-user --backend pass
  rolehop keys import --from aws-vault
  AWS_VAULT_FILE_PASSPHRASE=… rolehop keys import --from aws-vault --from-backend file`,
		ValidArgsFunction: profileCompletion(sys),
		RunE: func(cmd *cobra.Command, args []string) error {
			env, err := keysEnv(sys)
			if err != nil {
				return err
			}
			to, err := keychainChoice(env, backend)
			if err != nil {
				return err
			}
			opts := keys.ImportOptions{NoVerify: noVerify, To: to}
			switch from {
			case "", "credentials":
				if fromBackend != "" {
					return usagef("--from-backend goes with --from aws-vault")
				}
			case "aws-vault":
				opts.FromAWSVault = true
				if fromBackend != "" {
					b, err := keychain.ParseBackend(fromBackend)
					if err != nil {
						return usageError{err}
					}
					opts.FromBackend = keychain.Choice{Backend: b, From: "--from-backend"}
				} else if opts.FromBackend, err = keychain.AWSVaultBackend(sys.Getenv); err != nil {
					return usageError{err}
				}
			default:
				return usagef("unknown --from %q: use credentials (the default) or aws-vault", from)
			}
			return keys.Import(cmd.Context(), env, args, opts)
		},
	}
	cmd.Flags().StringVar(&from, "from", "credentials", "where the keys are now: credentials (~/.aws/credentials) or aws-vault")
	_ = cmd.RegisterFlagCompletionFunc("from", cobra.FixedCompletions([]string{"credentials\t~/.aws/credentials", "aws-vault\taws-vault's store"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.Flags().StringVar(&fromBackend, "from-backend", "", "aws-vault's store, with --from aws-vault (default: AWS_VAULT_BACKEND, else aws-vault's default here)")
	_ = cmd.RegisterFlagCompletionFunc("from-backend", cobra.FixedCompletions(backendNames(), cobra.ShellCompDirectiveNoFileComp))
	cmd.Flags().BoolVar(&noVerify, "no-verify", false, "do not check each key with STS GetCallerIdentity before moving it")
	addBackendFlag(cmd, &backend)
	return cmd
}

func backendNames() []string {
	names := make([]string, len(keychain.Backends))
	for i, b := range keychain.Backends {
		names[i] = string(b)
	}
	return names
}
