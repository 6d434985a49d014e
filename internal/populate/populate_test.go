package populate

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/winetest"
)

var corp = Target{Session: "corp", Region: "us-east-1"}

func mustTemplate(t testing.TB, src string) *Template {
	t.Helper()
	tp, err := ParseTemplate(src)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func threeRoles() []Assignment {
	return []Assignment{
		{AccountID: "111111111111", AccountName: "dev", Email: "dev@example.com", RoleName: "Developer"},
		{AccountID: "111111111111", AccountName: "dev", Email: "dev@example.com", RoleName: "ReadOnly"},
		{AccountID: "222222222222", AccountName: "prod", Email: "prod@example.com", RoleName: "Admin"},
	}
}

func input(t testing.TB, as []Assignment) Input {
	return Input{Target: corp, Assignments: as, Template: mustTemplate(t, DefaultTemplate)}
}

func apply(t *testing.T, data string, in Input) *Result {
	t.Helper()
	res, err := Apply("config", []byte(data), in)
	if err != nil {
		t.Fatalf("Apply: %v\ninput:\n%s", err, data)
	}
	if _, err := awsconfig.Parse("config", res.Data); err != nil {
		t.Fatalf("result does not parse: %v\n%s", err, res.Data)
	}
	return res
}

// outsideBytes returns data without the block of id (the bytes from its
// BEGIN line to the end of its END line), and whether there was one.
func outsideBytes(t testing.TB, data []byte, id string) (before, after []byte, found bool) {
	t.Helper()
	s, err := findBlock("config", data, splitLines(data), id)
	if err != nil {
		t.Fatalf("findBlock: %v", err)
	}
	if !s.found {
		return data, nil, false
	}
	return data[:s.start], data[s.end:], true
}

// sections maps "profile NAME" headers to their keys.
func sections(t testing.TB, data []byte) map[string]map[string]string {
	t.Helper()
	pf, err := awsconfig.Parse("config", data)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, data)
	}
	m := map[string]map[string]string{}
	for _, s := range pf.Sections {
		m[s.Header] = values(s.Keys)
	}
	return m
}

func TestApplyKeepsOutsideBytes(t *testing.T) {
	block := func(eol string) string {
		return strings.ReplaceAll("# BEGIN rolehop managed profiles for sso-session corp (rolehop sso populate; edits inside are overwritten)\n"+
			"[profile old/Gone]\nsso_session = corp\nsso_account_id = 999999999999\nsso_role_name = Gone\n"+
			"# END rolehop managed profiles for sso-session corp\n", "\n", eol)
	}
	for _, tc := range []struct {
		name, data string
	}{
		{"empty file", ""},
		{"LF, no block", "[default]\nregion = eu-west-1\n\n# my profiles\n[profile mine]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = default\n"},
		{"CRLF, no block", "[default]\r\nregion = eu-west-1\r\n\r\n[profile mine]\r\nregion = x\r\n"},
		{"no trailing newline", "[default]\nregion = eu-west-1"},
		{"trailing blank lines", "[default]\nregion = eu-west-1\n\n\n"},
		{"only comments", "# nothing yet\n; really\n"},
		{"BOM", "\ufeff[default]\nregion = eu-west-1\n"},
		{"block at the start", block("\n") + "\n[profile mine]\nregion = x\n"},
		{"block at the end", "[profile mine]\nregion = x\n\n" + block("\n")},
		{"block at the end without final newline", "[profile mine]\nregion = x\n\n" + strings.TrimSuffix(block("\n"), "\n")},
		{"block in the middle", "[default]\nregion = a\n\n" + block("\n") + "\n# after\n[profile mine]\nregion = x\n"},
		{"CRLF block in the middle", "[default]\r\nregion = a\r\n\r\n" + block("\r\n") + "\r\n[profile mine]\r\nregion = x\r\n"},
		{"LF block in a CRLF file", "[default]\r\nregion = a\r\n\r\n" + block("\n") + "[profile mine]\r\nregion = x\r\n"},
		{"only the block", block("\r\n")},
		{"indented keys before", "[default]\n  region = a\n  output = json\n"},
		{"nested value before", "[default]\ns3 =\n  max_concurrent_requests = 10\n"},
		{"other session's block", "# BEGIN rolehop managed profiles for sso-session other (x)\n[profile o]\nsso_session = other\nsso_account_id = 1\nsso_role_name = r\n# END rolehop managed profiles for sso-session other\n"},
		{"lone CR", "[default]\rregion = a\r"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := input(t, threeRoles())
			res := apply(t, tc.data, in)
			if !res.Changed {
				t.Fatalf("no change")
			}
			b0, a0, _ := outsideBytes(t, []byte(tc.data), corp.ID())
			b1, a1, found := outsideBytes(t, res.Data, corp.ID())
			if !found {
				t.Fatalf("no block in the result:\n%s", res.Data)
			}
			if !bytes.HasPrefix(b1, b0) || !bytes.Equal(a0, a1) {
				t.Fatalf("bytes outside the block changed:\nbefore %q\nafter  %q", tc.data, res.Data)
			}
			// Only a line break and a blank line may be added before a new block.
			if added := string(b1[len(b0):]); added != "" && strings.Trim(added, "\r\n") != "" {
				t.Errorf("added %q before the block", added)
			}
			// The old sections outside are unchanged.
			got := sections(t, res.Data)
			for h, keys := range sections(t, []byte(tc.data)) {
				if h == "profile old/Gone" {
					continue
				}
				if !maps.Equal(got[h], keys) {
					t.Errorf("section [%s]: %v, want %v", h, got[h], keys)
				}
			}
			for _, name := range []string{"dev/Developer", "dev/ReadOnly", "prod/Admin"} {
				if got["profile "+name]["sso_session"] != "corp" {
					t.Errorf("profile %s missing: %v", name, got["profile "+name])
				}
			}
			// The block uses the file's line endings.
			if eol := awsconfig.DominantEOL(b0, a0); eol != "" {
				blk := res.Data[len(b1) : len(res.Data)-len(a1)]
				n := len(splitLines(blk))
				if !bytes.HasSuffix(blk, []byte(eol)) {
					n-- // the file ended without a line break, and still does
				}
				if strings.Count(string(blk), eol) != n {
					t.Errorf("block lines do not all end in %q:\n%q", eol, blk)
				}
			}
			// Idempotent.
			again := apply(t, string(res.Data), in)
			if again.Changed || !bytes.Equal(again.Data, res.Data) {
				t.Errorf("second run changed the file:\n%q\n%q", res.Data, again.Data)
			}
		})
	}
}

func TestApplyBlockContent(t *testing.T) {
	res := apply(t, "", input(t, threeRoles()))
	want := `# BEGIN rolehop managed profiles for sso-session corp (rolehop sso populate; edits inside are overwritten)
[profile dev/Developer]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Developer
region = us-east-1

[profile dev/ReadOnly]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = ReadOnly
region = us-east-1

[profile prod/Admin]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = Admin
region = us-east-1
# END rolehop managed profiles for sso-session corp
`
	if string(res.Data) != want {
		t.Fatalf("got\n%s\nwant\n%s", res.Data, want)
	}
	if !slices.Equal(res.Added, []string{"dev/Developer", "dev/ReadOnly", "prod/Admin"}) || len(res.Updated)+len(res.Removed)+len(res.Stale)+len(res.Skipped) != 0 {
		t.Errorf("counts: %+v", res)
	}
}

func TestApplyLegacyAndNoRegion(t *testing.T) {
	in := input(t, threeRoles()[:1])
	in.Target = Target{StartURL: "https://legacy.awsapps.com/start", SSORegion: "eu-west-1"}
	res := apply(t, "", in)
	want := `# BEGIN rolehop managed profiles for sso_start_url https://legacy.awsapps.com/start (rolehop sso populate; edits inside are overwritten)
[profile dev/Developer]
sso_start_url = https://legacy.awsapps.com/start
sso_region = eu-west-1
sso_account_id = 111111111111
sso_role_name = Developer
# END rolehop managed profiles for sso_start_url https://legacy.awsapps.com/start
`
	if string(res.Data) != want {
		t.Fatalf("got\n%s\nwant\n%s", res.Data, want)
	}
}

func TestApplyPruneAndKeep(t *testing.T) {
	first := apply(t, "[profile mine]\nregion = x\n", input(t, threeRoles()))
	// prod/Admin is no longer assigned.
	keep := apply(t, string(first.Data), input(t, threeRoles()[:2]))
	if !slices.Equal(keep.Stale, []string{"prod/Admin"}) || len(keep.Removed) != 0 || len(keep.Added) != 0 {
		t.Fatalf("keep: %+v", keep)
	}
	if !strings.Contains(string(keep.Data), "# no longer assigned\n[profile prod/Admin]\nsso_session = corp\nsso_account_id = 222222222222\n") {
		t.Fatalf("kept profile not marked:\n%s", keep.Data)
	}
	// Kept again: no change.
	if again := apply(t, string(keep.Data), input(t, threeRoles()[:2])); again.Changed || len(again.Stale) != 1 {
		t.Errorf("second keep run: changed=%v stale=%v", again.Changed, again.Stale)
	}
	// Assigned again: the mark goes.
	back := apply(t, string(keep.Data), input(t, threeRoles()))
	if !bytes.Equal(back.Data, first.Data) {
		t.Errorf("re-assigned profile still marked:\n%s", back.Data)
	}
	// --prune removes it, and only it.
	in := input(t, threeRoles()[:2])
	in.Prune = true
	pruned := apply(t, string(keep.Data), in)
	if !slices.Equal(pruned.Removed, []string{"prod/Admin"}) || len(pruned.Stale) != 0 {
		t.Fatalf("prune: %+v", pruned)
	}
	s := sections(t, pruned.Data)
	if _, ok := s["profile prod/Admin"]; ok {
		t.Errorf("prod/Admin not pruned")
	}
	if _, ok := s["profile mine"]; !ok || len(s) != 3 {
		t.Errorf("prune touched other profiles: %v", s)
	}
}

// TestApplyDropsForeignSectionsInBlock: what populate did not write (a
// section without sso_account_id/sso_role_name, a name it would never
// write) is overwritten, not kept.
func TestApplyDropsForeignSectionsInBlock(t *testing.T) {
	data := BeginLine(corp.ID()) + "\n[profile \"a b\"]\nsso_account_id = 999999999999\nsso_role_name = X\n\n[profile hand]\nregion = x\n\n[junk]\nk = v\n" + EndLine(corp.ID()) + "\n"
	res := apply(t, data, input(t, threeRoles()))
	if !slices.Equal(res.Removed, []string{"[junk]", "a b", "hand"}) || len(res.Stale) != 0 || len(res.Added) != 3 {
		t.Fatalf("%+v", res)
	}
}

func TestApplyRenameIsNotStale(t *testing.T) {
	first := apply(t, "", input(t, threeRoles()))
	in := input(t, threeRoles())
	in.Template = mustTemplate(t, "{{.AccountName}}-{{.RoleName | lower}}")
	res := apply(t, string(first.Data), in)
	if len(res.Stale) != 0 || len(res.Removed) != 3 || len(res.Added) != 3 {
		t.Fatalf("rename: %+v", res)
	}
	if _, ok := sections(t, res.Data)["profile dev-readonly"]; !ok {
		t.Errorf("renamed profile missing:\n%s", res.Data)
	}
}

func TestApplyUpdated(t *testing.T) {
	first := apply(t, "", input(t, threeRoles()))
	in := input(t, threeRoles())
	in.Target.Region = "eu-west-1"
	res := apply(t, string(first.Data), in)
	if len(res.Updated) != 3 || len(res.Added)+len(res.Removed) != 0 {
		t.Fatalf("region change: %+v", res)
	}
	// An edit inside the block is overwritten.
	edited := strings.Replace(string(first.Data), "sso_role_name = Admin\n", "sso_role_name = Admin\noutput = json\n", 1)
	res = apply(t, edited, input(t, threeRoles()))
	if !bytes.Equal(res.Data, first.Data) || !slices.Equal(res.Updated, []string{"prod/Admin"}) {
		t.Fatalf("edit inside the block kept: %+v\n%s", res.Updated, res.Data)
	}
}

func TestApplySkipsNamesDefinedOutside(t *testing.T) {
	data := "[profile dev/ReadOnly]\nregion = x\n\n[profile  prod/Admin]\nregion = y\n\n[default]\n"
	in := input(t, append(threeRoles(), Assignment{AccountID: "333333333333", AccountName: "default", RoleName: "x"}))
	in.Template = mustTemplate(t, `{{if eq .AccountName "default"}}default{{else}}{{.AccountName}}/{{.RoleName}}{{end}}`)
	res := apply(t, data, in)
	var skipped []string
	for _, s := range res.Skipped {
		skipped = append(skipped, s.Name)
	}
	slices.Sort(skipped)
	if !slices.Equal(skipped, []string{"default", "dev/ReadOnly", "prod/Admin"}) || !slices.Equal(res.Added, []string{"dev/Developer"}) {
		t.Fatalf("skipped %q, added %q", skipped, res.Added)
	}
	if !strings.Contains(res.Skipped[0].Reason+res.Skipped[1].Reason+res.Skipped[2].Reason, "already defined outside the managed block (config:1)") {
		t.Errorf("reasons: %+v", res.Skipped)
	}
	if !strings.HasPrefix(string(res.Data), data) {
		t.Errorf("outside changed")
	}
	// A profile that was managed and is then defined outside leaves the block.
	managed := apply(t, "", input(t, threeRoles()))
	// (The same header twice would not parse; botocore refuses it too.)
	moved := "[profile  dev/ReadOnly]\nregion = x\n\n" + string(managed.Data)
	res = apply(t, moved, input(t, threeRoles()))
	if !slices.Equal(res.Removed, []string{"dev/ReadOnly"}) || len(res.Skipped) != 1 {
		t.Fatalf("moved: %+v", res)
	}
}

func TestApplyDuplicateNames(t *testing.T) {
	as := []Assignment{
		{AccountID: "111111111111", AccountName: "shared", RoleName: "Admin"},
		{AccountID: "222222222222", AccountName: "shared", RoleName: "Admin"},
		{AccountID: "333333333333", AccountName: "Team Blue", RoleName: "Admin"},
		{AccountID: "444444444444", AccountName: "Team  Blue", RoleName: "Admin"},
		{AccountID: "555555555555", AccountName: "solo", RoleName: "Admin"},
	}
	res := apply(t, "", input(t, as))
	want := []string{"Team-Blue/Admin-333333333333", "Team-Blue/Admin-444444444444", "shared/Admin-111111111111", "shared/Admin-222222222222", "solo/Admin"}
	if !slices.Equal(res.Added, want) {
		t.Fatalf("names %q, want %q", res.Added, want)
	}
	// A template without the role: same account twice gets the role too.
	in := input(t, threeRoles())
	in.Template = mustTemplate(t, "{{.AccountName}}")
	res = apply(t, "", in)
	if want := []string{"dev-111111111111-Developer", "dev-111111111111-ReadOnly", "prod"}; !slices.Equal(res.Added, want) {
		t.Fatalf("names %q, want %q", res.Added, want)
	}
}

func TestApplyEmptyAndBadNames(t *testing.T) {
	as := []Assignment{
		{AccountID: "111111111111", AccountName: "  ", RoleName: "Admin"},
		{AccountID: "222222222222", AccountName: "x", RoleName: "bad\nrole"},
		{AccountID: "333333333333", AccountName: "ok", RoleName: "Admin"},
	}
	in := input(t, as)
	in.Template = mustTemplate(t, "{{.AccountName}}")
	res := apply(t, "", in)
	if len(res.Skipped) != 2 || !slices.Equal(res.Added, []string{"ok"}) {
		t.Fatalf("%+v", res)
	}
}

func TestApplyNoAssignmentsNoBlock(t *testing.T) {
	res := apply(t, "[default]\n", input(t, nil))
	if res.Changed || string(res.Data) != "[default]\n" {
		t.Fatalf("%+v", res)
	}
	// With a block, pruning everything leaves the markers.
	first := apply(t, "[default]\n", input(t, threeRoles()))
	in := input(t, nil)
	in.Prune = true
	res = apply(t, string(first.Data), in)
	if want := "[default]\n\n" + BeginLine(corp.ID()) + "\n" + EndLine(corp.ID()) + "\n"; string(res.Data) != want {
		t.Fatalf("got %q, want %q", res.Data, want)
	}
}

func TestApplyBlockErrors(t *testing.T) {
	b, e := BeginLine(corp.ID()), EndLine(corp.ID())
	for _, tc := range []struct{ name, data, want string }{
		{"no END", "[default]\n" + b + "\n[profile x]\n", "config:2: the managed block for sso-session corp has no END line"},
		{"END first", e + "\n" + b + "\n" + e + "\n", "config:1: \"# END rolehop managed profiles for sso-session corp\" has no matching BEGIN"},
		{"two blocks", b + "\n" + e + "\n" + b + "\n" + e + "\n", "config:3: a second managed block for sso-session corp (the first starts on line 1)"},
		{"nested", b + "\n" + BeginLine("sso-session other") + "\n" + EndLine("sso-session other") + "\n" + e + "\n", "config:2: another managed block's marker inside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Apply("config", []byte(tc.data), input(t, threeRoles()))
			var be *BlockError
			if !errors.As(err, &be) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err %v, want a one-line BlockError with %q", err, tc.want)
			}
			if err := CheckBlock("config", []byte(tc.data), corp.ID()); err == nil {
				t.Errorf("CheckBlock found no problem")
			}
		})
	}
	// A BEGIN line with another note still matches.
	data := strings.Replace(string(apply(t, "", input(t, threeRoles())).Data), " (rolehop sso populate; edits inside are overwritten)", " (hand-edited note)", 1)
	res := apply(t, data, input(t, threeRoles()))
	if !res.Changed || strings.Contains(string(res.Data), "hand-edited") || strings.Count(string(res.Data), "# BEGIN") != 1 {
		t.Errorf("BEGIN with another note:\n%s", res.Data)
	}
	// A malformed file is its parse error.
	var pe *awsconfig.ParseError
	if _, err := Apply("config", []byte("[a]\n[a]\n"), input(t, threeRoles())); !errors.As(err, &pe) {
		t.Errorf("duplicate sections: %v", err)
	}
}

func TestApplyRefusesLinesJoiningTheBlock(t *testing.T) {
	first := string(apply(t, "", input(t, threeRoles())).Data)
	for _, tail := range []string{"output = json\n", "  indented = 1\n", "   [profile indented]\n"} {
		_, err := Apply("config", []byte(first+tail), input(t, threeRoles()[:2]))
		if err == nil || !strings.Contains(err.Error(), "after the END marker") || !strings.Contains(err.Error(), "nothing was written") {
			t.Errorf("tail %q: err %v", tail, err)
		}
	}
	// Unchanged is fine whatever follows.
	if res, err := Apply("config", []byte(first+"output = json\n"), input(t, threeRoles())); err != nil || res.Changed {
		t.Errorf("unchanged block with a tail: %v", err)
	}
}

func TestApplyDefaultSection(t *testing.T) {
	data := "[DEFAULT]\nregion = eu-west-1\nfoo = bar\n\n[profile mine]\nx = 1\n"
	res := apply(t, data, input(t, threeRoles()))
	again := apply(t, string(res.Data), input(t, threeRoles()))
	if again.Changed || len(again.Updated) != 0 {
		t.Fatalf("[DEFAULT] keys make profiles look updated: %+v", again.Updated)
	}
	// A kept stale profile does not take the inherited keys as its own.
	kept := apply(t, string(res.Data), input(t, threeRoles()[:2]))
	if strings.Contains(string(kept.Data[len(data):]), "foo") {
		t.Errorf("inherited key written:\n%s", kept.Data)
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"dev/Admin":         "dev/Admin",
		"Prod - EU/Admin":   "Prod-EU/Admin",
		"  padded  ":        "padded",
		"a--b":              "a--b",
		"-lead":             "-lead",
		"trail-":            "trail-",
		"x]y[z":             "x-y-z",
		`q"u'o\te#s;`:       "q-u-o-te-s",
		"tab\there":         "tab-here",
		"new\nline":         "new-line",
		"nbsp\u00a0x":       "nbsp-x",
		"bad\xffutf8":       "bad-utf8",
		"Ünïcödé/Rôle":      "Ünïcödé/Rôle",
		"UPPER.case@x+y=z,": "UPPER.case@x+y=z,",
		" ] ":               "",
		"a - - b":           "a-b",
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSanitizedNamesReadBack(t *testing.T) {
	names := []string{"Prod - EU/Admin", `we"ird'na\me`, "a#b;c", "x]y", "sp ace", "tab\t"}
	var as []Assignment
	for i, n := range names {
		as = append(as, Assignment{AccountID: strings.Repeat(string(rune('1'+i)), 12), AccountName: n, RoleName: "R"})
	}
	res := apply(t, "", input(t, as))
	s := sections(t, res.Data)
	cfg, err := awsconfig.Load(writeTemp(t, res.Data), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range res.Added {
		if _, ok := s["profile "+n]; !ok {
			t.Errorf("header for %q missing", n)
		}
		if _, ok := cfg.Profile(n); !ok {
			t.Errorf("profile %q does not read back (profiles: %q)", n, cfg.ProfileNames())
		}
	}
}

func TestTemplate(t *testing.T) {
	for _, bad := range []string{"{{.AccountName", "{{.Nope}}", "{{nope .AccountName}}", "", "  "} {
		_, err := ParseTemplate(bad)
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "--template") {
			t.Errorf("ParseTemplate(%q) = %v, want a one-line --template error", bad, err)
		}
	}
	tp := mustTemplate(t, `{{.SessionName}}:{{.AccountID}}:{{.Email}}:{{.AccountName | lower | replace "-" "_"}}:{{.RoleName | upper | trimPrefix "AWS"}}`)
	got, err := tp.execute(TemplateData{AccountName: "My-Acct", AccountID: "1", RoleName: "awsAdmin", SessionName: "corp", Email: "e@x"})
	if err != nil || got != "corp:1:e@x:my_acct:ADMIN" {
		t.Errorf("execute = %q, %v", got, err)
	}
}

func TestDiff(t *testing.T) {
	first := apply(t, "", input(t, threeRoles()))
	d := Diff("config", corp.ID(), first.OldBlock, first.NewBlock)
	if !strings.HasPrefix(d, "--- /dev/null\n+++ config (managed block for sso-session corp)\n+# BEGIN") || strings.Contains(d, "\n-") {
		t.Fatalf("first diff:\n%s", d)
	}
	if n := strings.Count(d, "\n+") - 1; n != len(first.NewBlock) {
		t.Errorf("first diff has %d added lines, want %d", n, len(first.NewBlock))
	}
	in := input(t, append(threeRoles()[1:], Assignment{AccountID: "333333333333", AccountName: "audit", RoleName: "ReadOnly"}))
	in.Prune = true
	in.Target.Region = "eu-west-1"
	second := apply(t, string(first.Data), in)
	d = Diff("config", corp.ID(), second.OldBlock, second.NewBlock)
	for _, want := range []string{
		"--- config (managed block for sso-session corp)\n+++ config",
		"+[profile audit/ReadOnly]\n",
		"-[profile dev/Developer]\n",
		" [profile dev/ReadOnly]\n sso_session = corp\n sso_account_id = 111111111111\n sso_role_name = ReadOnly\n-region = us-east-1\n+region = eu-west-1\n",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
	if strings.Contains(d, "# BEGIN") || strings.Contains(d, "# END") {
		t.Errorf("unchanged markers in the diff:\n%s", d)
	}
	if d := Diff("config", corp.ID(), second.NewBlock, second.NewBlock); d != "" {
		t.Errorf("diff of equal blocks: %q", d)
	}
}

func writeTemp(t testing.TB, data []byte) string {
	t.Helper()
	p := filepath.Join(winetest.TempDir(t), "config")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
