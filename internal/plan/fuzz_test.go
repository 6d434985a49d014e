package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/winetest"
)

var validSessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// resolveMarker stands for every secret a fuzzed request holds: the env
// keys, the MFA code's place, and the values of aws_secret_access_key,
// aws_session_token and aws_security_token lines where the fuzzer writes
// "SECRET". No error, plan JSON or explain text may contain it.
const resolveMarker = "xR3s0lv3S3cr3t8d1f4a7c2e9bx"

// secretLine matches a top-level secret key line of a config or
// credentials file (indented lines are continuations, not keys).
var secretLine = regexp.MustCompile(`(?im)^(aws_secret_access_key|aws_session_token|aws_security_token)[ \t]*[=:].*$`)

// withMarker puts the marker where "SECRET" appears in a secret key line.
func withMarker(file string) string {
	return secretLine.ReplaceAllStringFunc(file, func(line string) string {
		return strings.ReplaceAll(line, "SECRET", resolveMarker)
	})
}

// fuzzEnv reads "NAME=value" lines; "SECRET" in a value becomes the
// marker only for the secret variables.
func fuzzEnv(lines string) env {
	e := env{"AWS_ACCESS_KEY_ID": "AKIAFUZZ", "AWS_SECRET_ACCESS_KEY": resolveMarker}
	for _, line := range strings.Split(lines, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch k {
		case "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN":
			v = strings.ReplaceAll(v, "SECRET", resolveMarker)
		}
		e[k] = v
	}
	return e
}

// FuzzResolve checks resolution over arbitrary config and credentials
// files, environment and flag values: no panic; deterministic (the same
// request resolves twice to the same plan JSON and explain text, or the
// same error); every error is a one-line *Error or *NoCredentialsError;
// no secret reaches an error, the plan JSON or the explain text; and every
// plan it accepts is one STS would accept.
func FuzzResolve(f *testing.F) {
	const keys = "[default]\naws_access_key_id = AKIAD\naws_secret_access_key = SECRET\n[base]\naws_access_key_id = AKIAB\naws_secret_access_key = SECRET\naws_session_token = SECRET\n"
	f.Add(baseConfig, keys, "prod", "", "", "", "", "", "")
	f.Add(baseConfig, keys, "tagged", roleAudit, "7200", "x y", "a=b,c=d", `{"Version":"2012-10-17", "Statement":[]}`, "AWS_REGION=eu-west-1")
	f.Add("[profile a]\nrole_arn = arn:aws:iam::111111111111:role/a\nsource_profile = a\naws_access_key_id=k\naws_secret_access_key=SECRET\n", "", "a", "", "900", "", "", "", "")
	f.Add("[default]\nrole_arn = arn:aws:iam::111111111111:role/a\ncredential_source = Environment\n", "", "", roleProd, "", "ü", "", "", "AWS_SESSION_TOKEN=SECRET")
	f.Add(baseConfig, "[partial]\naws_secret_access_key = SECRET\n", "partial", "", "", "", "", "", "")
	f.Add(baseConfig, keys, "", roleProd, "", "", " =v,k=, k = v ", "{", "AWS_PROFILE=dev\nAWS_ROLE_ARN="+roleProd+"\nAWS_ROLE_SESSION_NAME=s s")
	f.Add("", "", "", roleProd, "", "", "", "", "AWS_ACCESS_KEY_ID=\nAWS_CONTAINER_CREDENTIALS_FULL_URI=http://localhost/x\nAWS_CONTAINER_AUTHORIZATION_TOKEN=SECRET")
	f.Add("", "", "", roleProd, "", "", "", "", "AWS_ACCESS_KEY_ID=\nAWS_EC2_METADATA_DISABLED=true")
	f.Add("[profile w]\nrole_arn = "+roleProd+"\nweb_identity_token_file = /t\n", "", "w", "", "", "", "", "", "AWS_WEB_IDENTITY_TOKEN_FILE=/x")
	f.Add("[profile s]\nsso_session = c\nsso_account_id = 111111111111\nsso_role_name = r\n[sso-session c]\nsso_start_url = https://x\nsso_region = us-east-1\n", "", "s", roleProd, "", "", "", "", "")
	// One directory for all iterations (they run one at a time per worker).
	dir := winetest.TempDir(f)
	cp, kp := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	f.Fuzz(func(t *testing.T, config, credentials, profile, roleARN, duration, session, tags, policy, envLines string) {
		if err := os.WriteFile(cp, []byte(withMarker(config)), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(kp, []byte(withMarker(credentials)), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := awsconfig.Load(cp, kp)
		if err != nil {
			return
		}
		req := Request{Profile: profile, Flags: HopFlags{DurationSeconds: duration, RoleSessionName: session, Tags: tags, Policy: policy},
			Config: cfg, LocalUser: "fuzz", Getenv: fuzzEnv(envLines).get}
		if roleARN != "" {
			req.RoleARNs = []string{roleARN}
		}
		if strings.Contains(profile+roleARN+duration+session+tags+policy, resolveMarker[:12]) {
			t.Skip("the marker is in a flag value, where it is no secret")
		}
		p1, err1 := Resolve(req)
		p2, err2 := Resolve(req)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("not deterministic: %v vs %v", err1, err2)
		}
		if err1 != nil {
			var pe *Error
			var nc *NoCredentialsError
			if !errors.As(err1, &pe) && !errors.As(err1, &nc) {
				t.Fatalf("error %T is neither *plan.Error nor *NoCredentialsError: %v", err1, err1)
			}
			msg := err1.Error()
			if msg != err2.Error() || strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("error not deterministic or not one line: %q / %q", err1, err2)
			}
			if strings.Contains(msg, resolveMarker[:12]) {
				t.Fatalf("error holds a secret: %q", msg)
			}
			return
		}
		for _, out := range []func(*Plan, *bytes.Buffer) error{
			func(p *Plan, b *bytes.Buffer) error { return p.WriteJSON(b) },
			func(p *Plan, b *bytes.Buffer) error { return p.WriteText(b) },
		} {
			var o1, o2 bytes.Buffer
			if err := out(p1, &o1); err != nil {
				t.Fatal(err)
			}
			_ = out(p2, &o2)
			if o1.String() != o2.String() {
				t.Fatalf("plans differ:\n%s\n%s", o1.String(), o2.String())
			}
			if strings.Contains(o1.String(), resolveMarker[:12]) {
				t.Fatalf("explain shows a secret:\n%s", o1.String())
			}
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
			if len(h.Policy.Value) > maxPolicyChars || (h.Policy.IsSet() && !json.Valid([]byte(h.Policy.Value))) {
				t.Errorf("hop %d: session policy %q accepted", i+1, h.Policy.Value)
			}
			if len(h.Tags) > maxTags {
				t.Errorf("hop %d: %d tags", i+1, len(h.Tags))
			}
			for _, tag := range h.Tags {
				if !validTagKey(tag.Key) || utf8.RuneCountInString(tag.Value) > 256 {
					t.Errorf("hop %d: tag %q accepted", i+1, tag)
				}
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
