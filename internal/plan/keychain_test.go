package plan

import (
	"strings"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/keychain"
)

// keychainIndex says profiles' keys are in the pass store.
func keychainIndex(profiles ...string) *keychain.Index {
	ix := &keychain.Index{Path: "/home/u/.config/rolehop/keys.json", Profiles: map[string]keychain.Entry{}}
	for _, p := range profiles {
		ix.Profiles[p] = keychain.Entry{Backend: keychain.Pass, AccessKeyID: "AKIAKEYCHAIN" + strings.ToUpper(p), Added: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	}
	return ix
}

// TestKeychainSource: keys in the keychain are the profile's static keys
// wherever those are used, and outrank access keys written in the profile.
func TestKeychainSource(t *testing.T) {
	const config = `[profile base]
region = eu-west-1

[profile dev]
role_arn = arn:aws:iam::111111111111:role/dev
source_profile = base

[profile self]
role_arn = arn:aws:iam::111111111111:role/dev
source_profile = self

[profile own]
role_arn = arn:aws:iam::111111111111:role/dev

[profile proc]
credential_process = rolehop credential-process proc
`
	const credentials = `[base]
aws_access_key_id = AKIAPLAINTEXT0000001
aws_secret_access_key = plain
`
	tests := []struct {
		name, profile string
		inKeychain    []string
		wantProfile   string
		wantHops      int
		wantWarning   string
		wantNote      string
	}{
		{name: "outranks the credentials file", profile: "base", inKeychain: []string{"base"}, wantProfile: "base", wantWarning: "plaintext copy is still in"},
		{name: "as source_profile", profile: "dev", inKeychain: []string{"base"}, wantProfile: "base", wantHops: 1, wantWarning: "plaintext copy"},
		{name: "source_profile naming itself", profile: "self", inKeychain: []string{"self"}, wantProfile: "self", wantHops: 1},
		{name: "role profile with its own keys", profile: "own", inKeychain: []string{"own"}, wantProfile: "own", wantHops: 1, wantNote: "keys in the keychain but no source_profile"},
		{name: "over credential_process (no recursion through rolehop)", profile: "proc", inKeychain: []string{"proc"}, wantProfile: "proc"},
		{name: "a profile only the keychain knows", profile: "ghost", inKeychain: []string{"ghost"}, wantProfile: "ghost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Resolve(Request{Profile: tt.profile, ProfileFrom: "argument", Config: load(t, config, credentials), Keychain: keychainIndex(tt.inKeychain...)})
			if err != nil {
				t.Fatal(err)
			}
			s := p.Source
			if s.Kind != SourceKeychain || s.Profile != tt.wantProfile || s.Keychain.Backend != "pass" || len(p.Hops) != tt.wantHops {
				t.Fatalf("source %s of %q, %d hops: %+v", s.Kind, s.Profile, len(p.Hops), s)
			}
			if s.AccessKeyID != "AKIAKEYCHAIN"+strings.ToUpper(tt.wantProfile) || s.SecretAccessKey != "" {
				t.Fatalf("key %q (the plan must carry the index's key id and no secret)", s.AccessKeyID)
			}
			if !strings.Contains(s.Describe(), "from the pass keychain") {
				t.Fatalf("Describe: %s", s.Describe())
			}
			if got := strings.Join(p.Warnings, "\n"); (tt.wantWarning == "") != (got == "") || !strings.Contains(got, tt.wantWarning) {
				t.Fatalf("warnings %q, want %q", got, tt.wantWarning)
			}
			if tt.wantNote != "" && !strings.Contains(strings.Join(p.Notes, "\n"), tt.wantNote) {
				t.Fatalf("notes %q, want %q", p.Notes, tt.wantNote)
			}
		})
	}
	// Without the index entry the same config gives the file's keys.
	p, err := Resolve(Request{Profile: "dev", Config: load(t, config, credentials)})
	if err != nil || p.Source.Kind != SourceStatic || p.Source.AccessKeyID != "AKIAPLAINTEXT0000001" {
		t.Fatalf("without the keychain: %v %+v", err, p.Source)
	}
}
