// Package keychain keeps long-term AWS access keys in an operating-system
// secret store instead of ~/.aws/credentials: the macOS Keychain, the
// Windows Credential Manager, the Secret Service (GNOME Keyring, KWallet,
// KeePassXC), pass, or a passphrase-encrypted file. The first three are
// reached through github.com/zalando/go-keyring (oskeyring.go), pass by
// running it (pass.go), and the encrypted files are written here under the
// trust rule (filestore.go). What is stored where is recorded in a
// secret-free index (index.go), so that a plan, `rolehop explain` and
// `keys list` never open a store.
package keychain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/prompt"
)

// Backend names a secret store.
type Backend string

// The stores rolehop can keep keys in.
const (
	MacOSKeychain Backend = "keychain"       // macOS Keychain (builds with cgo only)
	WinCred       Backend = "wincred"        // Windows Credential Manager
	SecretService Backend = "secret-service" // freedesktop Secret Service over D-Bus
	Pass          Backend = "pass"           // pass, the standard Unix password manager (GnuPG)
	File          Backend = "file"           // a directory of passphrase-encrypted files
)

// Backends lists every store name, for help text and completion.
var Backends = []Backend{MacOSKeychain, WinCred, SecretService, Pass, File}

// Describe is the store as a person would name it before "keychain".
func (b Backend) Describe() string {
	switch b {
	case MacOSKeychain:
		return "macOS"
	case WinCred:
		return "Windows Credential Manager"
	case SecretService:
		return "Secret Service"
	case Pass:
		return "pass"
	case File:
		return "encrypted-file"
	}
	return string(b)
}

// ParseBackend checks a backend name.
func ParseBackend(name string) (Backend, error) {
	for _, b := range Backends {
		if strings.EqualFold(name, string(b)) {
			return b, nil
		}
	}
	names := make([]string, len(Backends))
	for i, b := range Backends {
		names[i] = string(b)
	}
	return "", fmt.Errorf("unknown keychain backend %q: use one of %s", name, strings.Join(names, ", "))
}

// Keys are one profile's long-term access keys.
type Keys struct {
	AccessKeyID     string
	SecretAccessKey string
}

// item is what a store holds for a profile: the field names are those of
// aws.Credentials, which aws-vault stores, so one decoder reads both.
type item struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string `json:",omitempty"`
}

// Namespace is where in each store a program keeps its items.
type Namespace struct {
	Program string // who owns the items, for messages: "rolehop", "aws-vault"
	// Service is the keyring service name (Keychain, Credential Manager
	// target prefix, Secret Service item attribute).
	Service string
	// Collection is the Secret Service collection; "" is the default one
	// (go-keyring's service/username attributes).
	Collection string
	// KeychainName is the macOS keychain file ("login" is the user's own).
	KeychainName string
	// PassPrefix is the folder inside the password store, and PassDir the
	// store when not PASSWORD_STORE_DIR or ~/.password-store.
	PassPrefix string
	PassDir    string
	// WinCredPrefix prefixes Credential Manager targets.
	WinCredPrefix string
	// FileDir holds the encrypted files of the File backend, and
	// PassphraseEnv the variable that may hold their passphrase
	// (ROLEHOP_KEYRING_PASSWORD when empty).
	FileDir       string
	PassphraseEnv string
}

// Settings say how to reach the stores.
type Settings struct {
	// Getenv reads the environment (os.Getenv in production).
	Getenv func(string) string
	// Passphrase is asked for the File backend's passphrase when neither
	// ROLEHOP_KEYRING_PASSWORD nor ROLEHOP_KEYRING_PASSWORD_COMMAND is set;
	// confirm asks for it twice (a new store). Nil: no terminal.
	Passphrase func(ctx context.Context, question string, confirm bool) (string, error)
	// Stderr receives what a store's own program (pass, gpg) prints.
	Stderr *os.File
	// Timeout bounds one call to a store (an unlock prompt included).
	Timeout time.Duration
}

// DefaultTimeout is how long a store may take to answer, unlock prompt
// included, before rolehop gives up rather than hang unseen.
const DefaultTimeout = 2 * time.Minute

func (s Settings) getenv(name string) string {
	if s.Getenv == nil {
		return os.Getenv(name)
	}
	return s.Getenv(name)
}

// Choice is the backend to use and why.
type Choice struct {
	Backend Backend
	From    string
}

// Choose picks the backend for new keys: ROLEHOP_KEYRING_BACKEND, else the
// configured value (the rolehop_keyring_backend key; configured and
// configuredFrom may be empty), else the default for this system:
// the macOS Keychain, the Windows Credential Manager, and on other systems
// the Secret Service when a D-Bus session is there, else pass when a
// password store is initialised, else the encrypted file.
func Choose(getenv func(string) string, configured, configuredFrom string) (Choice, error) {
	if v := getenv("ROLEHOP_KEYRING_BACKEND"); v != "" {
		b, err := ParseBackend(v)
		if err != nil {
			return Choice{}, fmt.Errorf("ROLEHOP_KEYRING_BACKEND: %w", err)
		}
		return Choice{b, "env ROLEHOP_KEYRING_BACKEND"}, nil
	}
	if configured != "" {
		b, err := ParseBackend(configured)
		if err != nil {
			return Choice{}, fmt.Errorf("rolehop_keyring_backend (%s): %w", configuredFrom, err)
		}
		return Choice{b, "rolehop_keyring_backend, " + configuredFrom}, nil
	}
	switch runtime.GOOS {
	case "darwin":
		return Choice{MacOSKeychain, "default on macOS"}, nil
	case "windows":
		return Choice{WinCred, "default on Windows"}, nil
	}
	if sessionBus(getenv) != "" {
		return Choice{SecretService, "default: a D-Bus session is running"}, nil
	}
	if _, err := os.Stat(filepath.Join(passDir(getenv), ".gpg-id")); err == nil {
		return Choice{Pass, "default: no D-Bus session, and " + passDir(getenv) + " is initialised"}, nil
	}
	return Choice{File, "default: no D-Bus session and no pass store"}, nil
}

// sessionBus is the D-Bus session bus address, as libdbus finds it:
// DBUS_SESSION_BUS_ADDRESS, else the systemd user bus socket.
func sessionBus(getenv func(string) string) string {
	if a := getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" {
		return a
	}
	if dir := getenv("XDG_RUNTIME_DIR"); dir != "" {
		if fi, err := os.Stat(filepath.Join(dir, "bus")); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return "unix:path=" + filepath.Join(dir, "bus")
		}
	}
	return ""
}

func passDir(getenv func(string) string) string {
	if d := getenv("PASSWORD_STORE_DIR"); d != "" {
		return d
	}
	return filepath.Join(awsconfig.HomeDir(getenv), ".password-store")
}

// ConfigDir is rolehop's own configuration directory, which holds the key
// index and the File backend's directory: $XDG_CONFIG_HOME/rolehop, else
// ~/.config/rolehop on Unix, else the OS user configuration directory.
func ConfigDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "rolehop"), nil
	}
	if h := getenv("HOME"); h != "" && os.PathSeparator == '/' {
		return filepath.Join(h, ".config", "rolehop"), nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory for the key index: set XDG_CONFIG_HOME (%v)", err)
	}
	return filepath.Join(d, "rolehop"), nil
}

// Rolehop is rolehop's own namespace in every store. In the Secret Service
// it uses the default collection (login, the one a desktop session unlocks
// at sign-in), so there is no second password to set or type: a collection
// of its own would ask for one through a dialog, which a headless session
// cannot show.
func Rolehop(getenv func(string) string) (Namespace, error) {
	dir, err := ConfigDir(getenv)
	if err != nil {
		return Namespace{}, err
	}
	if d := getenv("ROLEHOP_KEYRING_FILE_DIR"); d != "" {
		dir = d
	} else {
		dir = filepath.Join(dir, "keyring")
	}
	return Namespace{Program: "rolehop", Service: "rolehop", KeychainName: "login",
		PassPrefix: "rolehop", WinCredPrefix: "rolehop", FileDir: dir}, nil
}

// AWSVault is aws-vault's namespace (v7, github.com/byteness/aws-vault:
// cli/global.go), with its own variables for the pass and file stores.
func AWSVault(getenv func(string) string) Namespace {
	dir := getenv("AWS_VAULT_FILE_DIR")
	if dir == "" {
		dir = filepath.Join(awsconfig.HomeDir(getenv), ".awsvault", "keys")
	}
	return Namespace{Program: "aws-vault", Service: "aws-vault", Collection: "awsvault", KeychainName: "aws-vault",
		PassPrefix: getenv("AWS_VAULT_PASS_PREFIX"), PassDir: getenv("AWS_VAULT_PASS_PASSWORD_STORE_DIR"),
		WinCredPrefix: "aws-vault", FileDir: dir, PassphraseEnv: "AWS_VAULT_FILE_PASSPHRASE"}
}

// AWSVaultBackend is the store aws-vault uses: AWS_VAULT_BACKEND, else
// what it would find first here (its default order: the system's store,
// then pass, then the encrypted file).
func AWSVaultBackend(getenv func(string) string) (Choice, error) {
	if v := getenv("AWS_VAULT_BACKEND"); v != "" {
		b, err := ParseBackend(v)
		if err != nil {
			return Choice{}, fmt.Errorf("AWS_VAULT_BACKEND: %w (rolehop reads aws-vault's keychain, wincred, secret-service, pass and file stores)", err)
		}
		return Choice{b, "env AWS_VAULT_BACKEND"}, nil
	}
	switch runtime.GOOS {
	case "darwin":
		return Choice{MacOSKeychain, "aws-vault's default on macOS"}, nil
	case "windows":
		return Choice{WinCred, "aws-vault's default on Windows"}, nil
	}
	if sessionBus(getenv) != "" {
		return Choice{SecretService, "aws-vault's default: a D-Bus session is running"}, nil
	}
	if _, err := os.Stat(AWSVault(getenv).FileDir); err == nil {
		return Choice{File, "aws-vault's file store exists"}, nil
	}
	return Choice{Pass, "aws-vault's default without D-Bus"}, nil
}

// Store is one backend, opened in one namespace.
type Store struct {
	Backend Backend
	ns      Namespace
	ring    ring
	timeout time.Duration
}

// UnavailableError says a backend cannot be used here, and what to use.
type UnavailableError struct {
	Backend Backend
	Reason  string
	// Reading says keys already in that store are needed, so choosing
	// another store for new keys would not help.
	Reading bool
}

func (e *UnavailableError) Error() string {
	alt := "choose another store with ROLEHOP_KEYRING_BACKEND (" + alternatives(e.Backend) + ")"
	if e.Reading {
		alt = "the keys are in that store: make it available here, or store them in another (rolehop keys add --backend)"
	}
	return fmt.Sprintf("the %s keychain is not available: %s; %s", e.Backend.Describe(), e.Reason, alt)
}

func alternatives(not Backend) string {
	var out []string
	for _, b := range available() {
		if b != not {
			out = append(out, string(b))
		}
	}
	return strings.Join(out, ", ")
}

// available lists the backends this platform has.
func available() []Backend {
	switch runtime.GOOS {
	case "darwin":
		return []Backend{MacOSKeychain, Pass, File}
	case "windows":
		return []Backend{WinCred, File}
	}
	return []Backend{SecretService, Pass, File}
}

// Open opens backend b in namespace ns. It checks what would otherwise
// fail obscurely (no D-Bus session, pass not set up, the wrong system) and
// says so in one line.
func Open(ctx context.Context, b Backend, ns Namespace, s Settings) (*Store, error) {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	st := &Store{Backend: b, ns: ns, timeout: timeout}
	switch b {
	case File:
		env := []string{"ROLEHOP_KEYRING_PASSWORD"}
		if ns.PassphraseEnv != "" {
			env = []string{ns.PassphraseEnv}
		}
		fs, err := openFileStore(ctx, ns.FileDir, s, env...)
		if err != nil {
			return nil, err
		}
		// Another program's directory is read as it is, not tightened.
		fs.private = ns.Program == "" || ns.Program == "rolehop"
		st.ring = fs
	case MacOSKeychain:
		if runtime.GOOS != "darwin" {
			return nil, &UnavailableError{Backend: b, Reason: "it exists on macOS only"}
		}
		st.ring = osRing{service: ns.Service}
		if ns.KeychainName != "" && ns.KeychainName != "login" {
			st.ring = securityRing{service: ns.Service, keychain: ns.KeychainName, home: awsconfig.HomeDir(s.getenv)}
		}
	case WinCred:
		if runtime.GOOS != "windows" {
			return nil, &UnavailableError{Backend: b, Reason: "it exists on Windows only"}
		}
		st.ring = osRing{service: ns.Service}
	case SecretService:
		if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
			return nil, &UnavailableError{Backend: b, Reason: "it needs D-Bus, which " + runtime.GOOS + " does not have"}
		}
		if sessionBus(s.getenv) == "" {
			return nil, &UnavailableError{Backend: b, Reason: "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set; over SSH or in a container there is usually none)"}
		}
		if err := st.call(ctx, "answer", func() error { return checkSecretService(s.getenv) }); err != nil {
			return nil, err
		}
		if ns.Collection != "" {
			st.ring = &collectionRing{collection: ns.Collection}
		} else {
			st.ring = osRing{service: ns.Service}
		}
	case Pass:
		if runtime.GOOS == "windows" {
			return nil, &UnavailableError{Backend: b, Reason: "pass does not run on Windows"}
		}
		dir := passDir(s.getenv)
		if ns.PassDir != "" {
			dir = ns.PassDir
		}
		if _, err := exec.LookPath("pass"); err != nil {
			return nil, &UnavailableError{Backend: b, Reason: "the pass program is not installed"}
		}
		if _, err := os.Stat(filepath.Join(dir, ".gpg-id")); err != nil {
			return nil, &UnavailableError{Backend: b, Reason: dir + " is not initialised (run `pass init GPG-KEY-ID` first)"}
		}
		st.ring = &passRing{dir: dir, prefix: ns.PassPrefix, stderr: s.Stderr}
	default:
		return nil, fmt.Errorf("unknown keychain backend %q", b)
	}
	return st, nil
}

// ring is one store's primitive operations on opaque entries.
type ring interface {
	get(name string) ([]byte, error) // errNoEntry when absent
	set(name, label string, data []byte) error
	remove(name string) error // errNoEntry when absent
	names() ([]string, error)
}

// errNoEntry is a ring's "no such entry".
var errNoEntry = errors.New("no such entry")

// ErrCannotList means a store cannot list its entries (the macOS Keychain
// and the Credential Manager through their APIs here): name them.
var ErrCannotList = errors.New("this store cannot list its entries: name the profiles")

// ErrNotFound means the store holds no keys for the profile.
var ErrNotFound = errors.New("no keys in the keychain")

// call runs f with the store's time limit: a store that waits on an
// unlock dialog nobody can see fails instead of hanging.
func (s *Store) call(ctx context.Context, what string, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("the %s keychain did not answer to %s within %s (is an unlock prompt waiting on another screen?)", s.Backend.Describe(), what, s.timeout)
		}
		return ctx.Err()
	}
}

// Get returns the keys stored for profile.
func (s *Store) Get(ctx context.Context, profile string) (Keys, error) {
	if err := CheckProfileName(profile); err != nil {
		return Keys{}, err
	}
	var data []byte
	err := s.call(ctx, "read the keys of profile "+profile, func() (err error) {
		data, err = s.ring.get(profile)
		return err
	})
	if errors.Is(err, errNoEntry) {
		return Keys{}, fmt.Errorf("%w: the %s keychain (%s) holds nothing for profile %q", ErrNotFound, s.Backend.Describe(), s.ns.Program, profile)
	}
	if err != nil {
		return Keys{}, s.wrap("read the keys of profile "+profile, err)
	}
	var v item
	if err := json.Unmarshal(unwrap(data), &v); err != nil || v.AccessKeyID == "" || v.SecretAccessKey == "" {
		return Keys{}, fmt.Errorf("the %s keychain entry of profile %q (%s) is not a pair of access keys", s.Backend.Describe(), profile, s.ns.Program)
	}
	if v.SessionToken != "" {
		return Keys{}, fmt.Errorf("the %s keychain entry of profile %q (%s) holds temporary credentials, not long-term keys", s.Backend.Describe(), profile, s.ns.Program)
	}
	return Keys{AccessKeyID: v.AccessKeyID, SecretAccessKey: v.SecretAccessKey}, nil
}

// Set stores keys for profile, replacing what was there.
func (s *Store) Set(ctx context.Context, profile string, k Keys) error {
	if err := CheckProfileName(profile); err != nil {
		return err
	}
	data, err := json.Marshal(item{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey})
	if err != nil {
		return err
	}
	label := "AWS access keys of profile " + profile + " (" + s.ns.Program + ")"
	return s.wrap("store the keys of profile "+profile, s.call(ctx, "store the keys of profile "+profile, func() error { return s.ring.set(profile, label, data) }))
}

// Remove deletes profile's keys. Removing keys that are not there is not
// an error.
func (s *Store) Remove(ctx context.Context, profile string) error {
	if err := CheckProfileName(profile); err != nil {
		return err
	}
	err := s.call(ctx, "remove the keys of profile "+profile, func() error { return s.ring.remove(profile) })
	if errors.Is(err, errNoEntry) {
		return nil
	}
	return s.wrap("remove the keys of profile "+profile, err)
}

// Names lists the item names of the namespace (profile names, and for
// aws-vault its cached sessions too).
func (s *Store) Names(ctx context.Context) ([]string, error) {
	var names []string
	err := s.call(ctx, "list its entries", func() (err error) {
		names, err = s.ring.names()
		return err
	})
	return names, s.wrap("list its entries", err)
}

func (s *Store) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	var ee *passphraseError
	if errors.As(err, &ee) || strings.Contains(err.Error(), "keychain did not answer") {
		return err
	}
	return fmt.Errorf("the %s keychain could not %s: %w", s.Backend.Describe(), what, err)
}

// CheckProfileName refuses profile names a store would turn into a path
// elsewhere (pass and the File backend use it as a file name).
func CheckProfileName(name string) error {
	switch {
	case name == "":
		return errors.New("the profile name is empty")
	case strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, "."):
		return fmt.Errorf("profile name %q cannot name a keychain entry (no /, \\ or leading dot): rename the profile", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("profile name %q has a control character: rename the profile", name)
		}
	}
	return nil
}

// envelope is how 99designs/keyring (and so aws-vault) wraps an entry in
// its file, pass and Secret Service stores: the entry's bytes are Data.
type envelope struct {
	Key         string
	Data        []byte
	Label       string `json:",omitempty"`
	Description string `json:",omitempty"`
}

// unwrap returns the entry inside an envelope, or data itself.
func unwrap(data []byte) []byte {
	var e envelope
	if json.Unmarshal(data, &e) == nil && e.Key != "" && len(e.Data) > 0 {
		return e.Data
	}
	return data
}

// TerminalPassphrase asks for a passphrase on the controlling terminal,
// twice for a new store.
func TerminalPassphrase(ctx context.Context, question string, confirm bool) (string, error) {
	pw, err := prompt.Secret(ctx, question)
	if err != nil || !confirm {
		return pw, err
	}
	again, err := prompt.Secret(ctx, "Again, to confirm: ")
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", errors.New("the two passphrases differ")
	}
	return pw, nil
}
