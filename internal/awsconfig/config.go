package awsconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/rolehop/rolehop/internal/fsutil"
)

// Profile is one merged profile: the config-file section merged with the
// credentials-file section of the same name.
type Profile struct {
	Name string
	File string           // file of the section header that defined it (config file if present there, else credentials file)
	Line int              // line of that section header
	Keys map[string]Value // lower-cased keys
}

// Get returns the value of key, which is lower-cased first. It is safe on a
// nil Profile.
func (p *Profile) Get(key string) (Value, bool) {
	if p == nil {
		return Value{}, false
	}
	v, ok := p.Keys[pyLower(key)]
	return v, ok
}

// Has reports whether key is present with a value that is not blank.
func (p *Profile) Has(key string) bool {
	v, ok := p.Get(key)
	return ok && strings.TrimSpace(v.Value) != ""
}

// Origin returns "FILE:LINE" of the profile's section header.
func (p *Profile) Origin() string {
	if p == nil {
		return ""
	}
	return origin(p.File, p.Line)
}

// Section is a non-profile section of the config file: [sso-session NAME]
// or [services NAME].
type Section struct {
	Name string
	File string
	Line int
	Keys map[string]Value
}

// Config is the parsed pair of files.
type Config struct {
	ConfigFile, CredentialsFile string // paths used (even if the files do not exist)
	Profiles                    map[string]*Profile
	SSOSessions                 map[string]*Section // [sso-session NAME]
	Services                    map[string]*Section // [services NAME]
}

// Load reads both files. A missing file is empty, not an error. A malformed
// file gives a *ParseError; any other read error is returned wrapped.
func Load(configPath, credentialsPath string) (*Config, error) {
	cfg, err := parseFile(configPath)
	if err != nil {
		return nil, err
	}
	cred, err := parseFile(credentialsPath)
	if err != nil {
		return nil, err
	}
	return build(configPath, cfg, credentialsPath, cred), nil
}

// LoadEnv is FilePaths(getenv) followed by Load.
func LoadEnv(getenv func(string) string) (*Config, error) {
	return Load(FilePaths(getenv))
}

// parseFile reads a file under fsutil.ReadShared's rule: it may name a
// credential_process (a command rolehop runs) and holds keys, so someone
// else's file is refused where the AWS CLI would read it.
func parseFile(path string) (*ParsedFile, error) {
	data, err := fsutil.ReadShared(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &ParsedFile{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read AWS shared config: %w", err)
	}
	return Parse(path, data)
}

// Profile returns the named profile. Names are case-sensitive.
func (c *Config) Profile(name string) (*Profile, bool) {
	if c == nil {
		return nil, false
	}
	p, ok := c.Profiles[name]
	return p, ok
}

// ProfileNames returns the profile names, sorted.
func (c *Config) ProfileNames() []string {
	if c == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(c.Profiles))
}

// sectionKind is what a section header makes of a section.
type sectionKind int

const (
	otherSection sectionKind = iota
	profileSection
	ssoSessionSection
	servicesSection
)

// namedPrefixes are the config-file headers of the form "PREFIX NAME", in the
// order botocore's build_profile_map tests them.
var namedPrefixes = []struct {
	prefix string
	kind   sectionKind
}{
	{"profile", profileSection},
	{"sso-session", ssoSessionSection},
	{"services", servicesSection},
}

// classify says what header defines in a file of the given kind, and the
// name it gives. It follows botocore: for the config file,
// build_profile_map (a header starting with "profile", "sso-session" or
// "services" names the second word if it shlex-splits into exactly two
// words, and is ignored otherwise; "default" is a profile); for the
// credentials file, session.full_config (every header is a profile name),
// except that rolehop, like the Go SDK, ignores "[profile NAME]" there.
// [DEFAULT] is never a section of its own.
func classify(kind Kind, header string) (sectionKind, string) {
	if header == defaultSection {
		return otherSection, ""
	}
	if kind == CredentialsFile {
		if isProfilePrefixed(header) {
			return otherSection, ""
		}
		return profileSection, header
	}
	for _, np := range namedPrefixes {
		if strings.HasPrefix(header, np.prefix) {
			if name, ok := secondWord(header); ok {
				return np.kind, name
			}
			return otherSection, ""
		}
	}
	if header == "default" {
		return profileSection, header
	}
	return otherSection, ""
}

// isProfilePrefixed reports whether header is "profile" followed by a space
// or tab.
func isProfilePrefixed(header string) bool {
	rest, ok := strings.CutPrefix(header, "profile")
	return ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t')
}

// secondWord is botocore's _parse_section: the second of exactly two shlex
// words.
func secondWord(header string) (string, bool) {
	parts, err := shlexSplit(header)
	if err != nil || len(parts) != 2 {
		return "", false
	}
	return parts[1], true
}

// ProfileName returns the name of the profile that a section header (the
// text between "[" and "]", see ParsedSection.Header) defines in a file of
// the given kind, and false if the section is not a profile there.
func ProfileName(kind Kind, header string) (string, bool) {
	if k, name := classify(kind, header); k == profileSection {
		return name, true
	}
	return "", false
}

// build merges the two parsed files like botocore's session.full_config:
// config-file profiles first (a later section with the same profile name
// replaces an earlier one entirely), then each credentials-file profile is
// added or merged over the config-file one key by key.
func build(configPath string, cfg *ParsedFile, credentialsPath string, cred *ParsedFile) *Config {
	c := &Config{
		ConfigFile:      configPath,
		CredentialsFile: credentialsPath,
		Profiles:        map[string]*Profile{},
		SSOSessions:     map[string]*Section{},
		Services:        map[string]*Section{},
	}
	for _, s := range cfg.Sections {
		switch kind, name := classify(ConfigFile, s.Header); kind {
		case profileSection:
			c.Profiles[name] = &Profile{Name: name, File: configPath, Line: s.Line, Keys: copyKeys(s.Keys)}
		case ssoSessionSection:
			c.SSOSessions[name] = &Section{Name: name, File: configPath, Line: s.Line, Keys: copyKeys(s.Keys)}
		case servicesSection:
			c.Services[name] = &Section{Name: name, File: configPath, Line: s.Line, Keys: copyKeys(s.Keys)}
		}
	}
	for _, s := range cred.Sections {
		name, ok := ProfileName(CredentialsFile, s.Header)
		if !ok {
			continue
		}
		p := c.Profiles[name]
		if p == nil {
			p = &Profile{Name: name, File: credentialsPath, Line: s.Line, Keys: map[string]Value{}}
			c.Profiles[name] = p
		}
		maps.Copy(p.Keys, s.Keys)
	}
	return c
}

// copyKeys returns a copy that the Config owns; it is never nil.
func copyKeys(keys map[string]Value) map[string]Value {
	out := make(map[string]Value, len(keys))
	maps.Copy(out, keys)
	return out
}

// SSOSessionNames returns the names of the [sso-session NAME] sections of
// the config file, sorted.
func (c *Config) SSOSessionNames() []string {
	if c == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(c.SSOSessions))
}
