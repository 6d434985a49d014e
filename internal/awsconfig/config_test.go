package awsconfig

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rolehop/rolehop/internal/winetest"
)

// writeFiles writes config and credentials (skipping a file whose content is
// "-") to a temp dir and returns their paths.
func writeFiles(t *testing.T, config, credentials string) (string, string) {
	t.Helper()
	dir := winetest.TempDir(t)
	cfg, cred := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	for path, data := range map[string]string{cfg: config, cred: credentials} {
		if data == "-" {
			continue
		}
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return cfg, cred
}

func load(t *testing.T, config, credentials string) *Config {
	t.Helper()
	cfg, cred := writeFiles(t, config, credentials)
	c, err := Load(cfg, cred)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// profileMap reduces a Config to profile -> key -> value.
func profileMap(c *Config) flat {
	out := flat{}
	for name, p := range c.Profiles {
		m := map[string]string{}
		for k, v := range p.Keys {
			m[k] = v.Value
		}
		out[name] = m
	}
	return out
}

func TestLoadProfiles(t *testing.T) {
	tests := []struct {
		name        string
		config      string
		credentials string
		want        flat
	}{
		{"missing files", "-", "-", flat{}},
		{"config sections",
			"[default]\nregion = a\n[profile dev]\nregion = b\n[dev2]\nx = 1\n[profilefoo]\nx = 1\n" +
				"[profile a b]\nx = 1\n[profile \"c d\"]\nk = v\n[ profile e ]\nx = 1\n[profile 'f']\nk = w\n" +
				"[sso-session s]\nsso_region = x\n[services svc]\ns3 =\n  endpoint_url = http://x\n[DEFAULT]\n",
			"-",
			flat{"default": {"region": "a"}, "dev": {"region": "b"}, "c d": {"k": "v"}, "f": {"k": "w"}}},
		{"botocore prefix quirk", "[profiles x]\nk = 1\n[profile-y z]\nk = 2\n", "-", flat{"x": {"k": "1"}, "z": {"k": "2"}}},
		{"unbalanced quote ignored", "[profile \"x]\nk = 1\n", "-", flat{}},
		{"empty quoted name", "[profile \"\"]\nk = 1\n", "-", flat{"": {"k": "1"}}},
		{"profile default after default wins", "[default]\na = 1\n[profile default]\nb = 2\n", "-", flat{"default": {"b": "2"}}},
		{"default after profile default wins", "[profile default]\nb = 2\n[default]\na = 1\n", "-", flat{"default": {"a": "1"}}},
		{"later section of same profile wins", "[profile x]\na = 1\n[profile \"x\"]\nb = 2\n", "-", flat{"x": {"b": "2"}}},
		{"credentials sections", "-",
			"[default]\naws_access_key_id = A\n[profile x]\nk = v\n[profilefoo]\nk = 1\n[creds-only]\nk = v\n[DEFAULT]\nd = 1\n",
			flat{"default": {"aws_access_key_id": "A", "d": "1"}, "profilefoo": {"k": "1", "d": "1"}, "creds-only": {"k": "v", "d": "1"}}},
		{"credentials header is literal", "-", "[ x ]\nk = 1\n[\"y\"]\nk = 2\n", flat{" x ": {"k": "1"}, `"y"`: {"k": "2"}}},
		{"merge credentials over config",
			"[profile dev]\nregion = a\nrole_arn = r\n[default]\nregion = d\n",
			"[dev]\nregion = b\naws_access_key_id = k\n[other]\nx = 1\n",
			flat{"dev": {"region": "b", "role_arn": "r", "aws_access_key_id": "k"}, "default": {"region": "d"}, "other": {"x": "1"}}},
		{"credentials profile x does not merge", "[profile x]\na = 1\n", "[profile x]\na = 2\n", flat{"x": {"a": "1"}}},
		{"config-only bare section is not merged into", "[dev]\na = 1\n", "[dev]\nb = 2\n", flat{"dev": {"b": "2"}}},
		{"names are case-sensitive", "[profile Dev]\na = 1\n", "[dev]\nb = 2\n", flat{"Dev": {"a": "1"}, "dev": {"b": "2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := load(t, tt.config, tt.credentials)
			if got := profileMap(c); !equalFlat(got, tt.want) {
				t.Errorf("profiles = %q\nwant %q", got, tt.want)
			}
			for name, p := range c.Profiles {
				if p.Name != name {
					t.Errorf("profile %q has Name %q", name, p.Name)
				}
			}
		})
	}
}

func TestLoadOrigins(t *testing.T) {
	config := "[profile dev]\nregion = a\nrole_arn = r\n\n[sso-session s]\nsso_region = x\n[services svc]\ns3 =\n  endpoint_url = http://x\n"
	creds := "[other]\nx = 1\n[dev]\nregion = b\n"
	cfgPath, credPath := writeFiles(t, config, creds)
	c, err := Load(cfgPath, credPath)
	if err != nil {
		t.Fatal(err)
	}
	if c.ConfigFile != cfgPath || c.CredentialsFile != credPath {
		t.Errorf("paths = %q, %q", c.ConfigFile, c.CredentialsFile)
	}
	dev, ok := c.Profile("dev")
	if !ok {
		t.Fatal("no profile dev")
	}
	checks := []struct {
		what      string
		file      string
		line      int
		wantFile  string
		wantLine  int
		wantValue string
		value     string
	}{
		{"dev header", dev.File, dev.Line, cfgPath, 1, "", ""},
		{"dev region", dev.Keys["region"].File, dev.Keys["region"].Line, credPath, 4, "b", dev.Keys["region"].Value},
		{"dev role_arn", dev.Keys["role_arn"].File, dev.Keys["role_arn"].Line, cfgPath, 3, "r", dev.Keys["role_arn"].Value},
		{"other header", c.Profiles["other"].File, c.Profiles["other"].Line, credPath, 1, "", ""},
		{"sso-session", c.SSOSessions["s"].File, c.SSOSessions["s"].Line, cfgPath, 5, "x", c.SSOSessions["s"].Keys["sso_region"].Value},
		{"services", c.Services["svc"].File, c.Services["svc"].Line, cfgPath, 7, "endpoint_url = http://x", c.Services["svc"].Keys["s3"].Value},
	}
	for _, ch := range checks {
		if ch.file != ch.wantFile || ch.line != ch.wantLine || ch.value != ch.wantValue {
			t.Errorf("%s: %s:%d %q, want %s:%d %q", ch.what, ch.file, ch.line, ch.value, ch.wantFile, ch.wantLine, ch.wantValue)
		}
	}
	if got, want := dev.Origin(), ShortPath(cfgPath)+":1"; got != want { // on Windows the temp dir is under the home directory
		t.Errorf("Origin() = %q, want %q", got, want)
	}
	if got := c.ProfileNames(); !slices.Equal(got, []string{"dev", "other"}) {
		t.Errorf("ProfileNames() = %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Run("config parse error", func(t *testing.T) {
		cfg, cred := writeFiles(t, "[a]\nbad\n", "[b]\nbad\n")
		_, err := Load(cfg, cred)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != cfg || pe.Line != 2 {
			t.Errorf("Load = %v, want *ParseError at %s:2", err, cfg)
		}
	})
	t.Run("credentials parse error", func(t *testing.T) {
		cfg, cred := writeFiles(t, "[a]\n", "[b]\nk=1\n[b]\n")
		_, err := Load(cfg, cred)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != cred || pe.Line != 3 {
			t.Errorf("Load = %v, want *ParseError at %s:3", err, cred)
		}
	})
	t.Run("unreadable file", func(t *testing.T) {
		dir := winetest.TempDir(t) // a directory cannot be read as a file
		_, err := Load(dir, filepath.Join(dir, "missing"))
		var pe *ParseError
		if err == nil || errors.As(err, &pe) || !strings.Contains(err.Error(), dir) {
			t.Errorf("Load(dir) = %v, want a read error naming %s", err, dir)
		}
	})
}

func TestProfileName(t *testing.T) {
	tests := []struct {
		kind   Kind
		header string
		want   string
		ok     bool
	}{
		{ConfigFile, "default", "default", true},
		{ConfigFile, "profile default", "default", true},
		{ConfigFile, "profile x", "x", true},
		{ConfigFile, "profile\tx", "x", true},
		{ConfigFile, `profile "a b"`, "a b", true},
		{ConfigFile, `profile ""`, "", true},
		{ConfigFile, "profiles x", "x", true}, // botocore only checks the prefix
		{ConfigFile, "profile a b", "", false},
		{ConfigFile, "profilefoo", "", false},
		{ConfigFile, "profile", "", false},
		{ConfigFile, `profile "x`, "", false},
		{ConfigFile, " profile x", "", false},
		{ConfigFile, "Default", "", false},
		{ConfigFile, "DEFAULT", "", false},
		{ConfigFile, "sso-session x", "", false},
		{ConfigFile, "services x", "", false},
		{ConfigFile, "x", "", false},
		{CredentialsFile, "x", "x", true},
		{CredentialsFile, "default", "default", true},
		{CredentialsFile, " x ", " x ", true},
		{CredentialsFile, "profilefoo", "profilefoo", true},
		{CredentialsFile, "profile", "profile", true},
		{CredentialsFile, "profile x", "", false},
		{CredentialsFile, "profile\tx", "", false},
		{CredentialsFile, "DEFAULT", "", false},
	}
	for _, tt := range tests {
		got, ok := ProfileName(tt.kind, tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ProfileName(%v, %q) = %q, %v; want %q, %v", tt.kind, tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestProfileAccessors(t *testing.T) {
	p := &Profile{Name: "p", Keys: map[string]Value{"region": {Value: "x"}, "blank": {Value: "  "}}}
	if v, ok := p.Get("REGION"); !ok || v.Value != "x" {
		t.Errorf("Get(REGION) = %v, %v", v, ok)
	}
	if !p.Has("Region") || p.Has("blank") || p.Has("missing") {
		t.Error("Has: want region only")
	}
	var nilp *Profile
	if _, ok := nilp.Get("x"); ok || nilp.Has("x") || nilp.Origin() != "" {
		t.Error("nil Profile should have nothing")
	}
	var nilc *Config
	if _, ok := nilc.Profile("x"); ok || nilc.ProfileNames() != nil {
		t.Error("nil Config should have nothing")
	}
}

func TestOrigin(t *testing.T) {
	home := winetest.TempDir(t)
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	sep := string(filepath.Separator)
	tests := []struct {
		file string
		line int
		want string
	}{
		{filepath.Join(home, ".aws", "config"), 7, "~" + sep + filepath.Join(".aws", "config") + ":7"},
		{home, 1, "~:1"},
		{home + "x" + sep + "config", 2, home + "x" + sep + "config:2"},
		{sep + "etc" + sep + "config", 3, sep + "etc" + sep + "config:3"},
		{"config", 0, "config"},
	}
	for _, tt := range tests {
		if got := (Value{File: tt.file, Line: tt.line}).Origin(); got != tt.want {
			t.Errorf("Origin(%q, %d) = %q, want %q", tt.file, tt.line, got, tt.want)
		}
	}
	pe := &ParseError{File: filepath.Join(home, ".aws", "config"), Line: 7, Msg: `line "role_arn" has no "=" (expected "key = value")`}
	if want := "~" + sep + filepath.Join(".aws", "config") + `:7: line "role_arn" has no "=" (expected "key = value")`; pe.Error() != want {
		t.Errorf("Error() = %q, want %q", pe.Error(), want)
	}
}

func TestLoadEnv(t *testing.T) {
	cfg, cred := writeFiles(t, "[profile a]\nk = 1\n", "[b]\nk = 2\n")
	env := map[string]string{EnvConfigFile: cfg, EnvCredentialsFile: cred}
	c, err := LoadEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ProfileNames(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("ProfileNames() = %q", got)
	}
}

func TestSSOSessionNames(t *testing.T) {
	cfg, cred := writeFiles(t, "[sso-session zeta]\nsso_region = x\n[profile sso-session]\n[sso-session alpha]\n[sso-session  two words here]\n[sso-session \"quoted name\"]\n", "[sso-session cred]\n")
	c, err := Load(cfg, cred)
	if err != nil {
		t.Fatal(err)
	}
	// Sorted; botocore's rules for the header; only the config file has
	// sessions (the credentials file's [sso-session cred] is a profile).
	if got, want := c.SSOSessionNames(), []string{"alpha", "quoted name", "zeta"}; !slices.Equal(got, want) {
		t.Errorf("SSOSessionNames() = %q, want %q", got, want)
	}
	var nilc *Config
	if nilc.SSOSessionNames() != nil {
		t.Error("nil Config should have no sessions")
	}
}
