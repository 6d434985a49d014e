package plan

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rolehop/rolehop/internal/awsconfig"
)

var validSessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// FuzzResolve checks resolution over arbitrary config files and flag
// values: no panic, the same input always gives the same plan, errors are
// one line, and every plan it accepts is one STS would accept.
func FuzzResolve(f *testing.F) {
	f.Add(baseConfig, "prod", "", "", "", "")
	f.Add(baseConfig, "tagged", roleAudit, "7200", "x y", "a=b,c=d")
	f.Add("[profile a]\nrole_arn = arn:aws:iam::111111111111:role/a\nsource_profile = a\naws_access_key_id=k\naws_secret_access_key=s\n", "a", "", "900", "", "")
	f.Add("[default]\nrole_arn = arn:aws:iam::111111111111:role/a\ncredential_source = Environment\n", "", roleProd, "", "ü", "")
	f.Fuzz(func(t *testing.T, config, profile, roleARN, duration, session, tags string) {
		dir := t.TempDir()
		cp := filepath.Join(dir, "config")
		if err := os.WriteFile(cp, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := awsconfig.Load(cp, filepath.Join(dir, "credentials"))
		if err != nil {
			return
		}
		req := Request{Profile: profile, Flags: HopFlags{DurationSeconds: duration, RoleSessionName: session, Tags: tags},
			Config: cfg, LocalUser: "fuzz", Getenv: env{"AWS_ACCESS_KEY_ID": "AKIAFUZZ", "AWS_SECRET_ACCESS_KEY": "s"}.get}
		if roleARN != "" {
			req.RoleARNs = []string{roleARN}
		}
		p1, err1 := Resolve(req)
		p2, err2 := Resolve(req)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("not deterministic: %v vs %v", err1, err2)
		}
		if err1 != nil {
			if err1.Error() != err2.Error() || strings.ContainsAny(err1.Error(), "\n\r") {
				t.Fatalf("error not deterministic or not one line: %q / %q", err1, err2)
			}
			return
		}
		var j1, j2 bytes.Buffer
		_ = p1.WriteJSON(&j1)
		_ = p2.WriteJSON(&j2)
		if j1.String() != j2.String() {
			t.Fatalf("plans differ:\n%s\n%s", j1.String(), j2.String())
		}
		for i, h := range p1.Hops {
			if !h.SessionNameFromCaller && !validSessionName.MatchString(h.SessionName.Value) {
				t.Errorf("hop %d: invalid session name %q", i+1, h.SessionName.Value)
			}
			if h.DurationSeconds < 900 || h.DurationSeconds > 43200 || (h.Chained && h.DurationSeconds > ChainedMaxSeconds) {
				t.Errorf("hop %d: duration %d (chained %v)", i+1, h.DurationSeconds, h.Chained)
			}
			if !validRoleARN(h.RoleARN.Value) {
				t.Errorf("hop %d: invalid role ARN %q accepted", i+1, h.RoleARN.Value)
			}
		}
	})
}

// The STS/IAM patterns as regular expressions: the specification the
// hand-written checks in charset.go must match exactly.
var (
	specRoleARN   = regexp.MustCompile(`^arn:aws[a-z-]{0,20}:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	specPolicyARN = regexp.MustCompile(`^arn:aws[a-z-]{0,20}:iam::(\d{12}|aws):policy/[\w+=,.@/-]{1,512}$`)
	specTagKey    = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
	specSerial    = regexp.MustCompile(`^[\w+=/:,.@-]{9,256}$`)
	specSession   = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

func FuzzValidatorsMatchTheirPatterns(f *testing.F) {
	for _, s := range []string{roleProd, "arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws-cn:iam::123456789012:role/a/b", "team", "arn:aws:iam::111111111111:mfa/x", "ab", "é", "a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, pair := range map[string]struct {
			got  bool
			spec *regexp.Regexp
		}{
			"role ARN":     {validRoleARN(s), specRoleARN},
			"policy ARN":   {validPolicyARN(s), specPolicyARN},
			"tag key":      {validTagKey(s), specTagKey},
			"serial":       {allOf(s, 9, 256, serialRune), specSerial},
			"session name": {allOf(s, 2, 64, sessionNameRune), specSession},
		} {
			if utf8.ValidString(s) && pair.got != pair.spec.MatchString(s) {
				t.Errorf("%s %q: check says %v, pattern says %v", name, s, pair.got, !pair.got)
			}
		}
	})
}
