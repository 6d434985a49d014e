//go:build unix

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/awsconfig"
)

// `rolehop sso populate` end to end: against the test IAM Identity Center
// with 300 accounts × 3 roles and throttling, then the generated profiles
// used by the AWS CLI and by rolehop.

const (
	populateBegin = "# BEGIN rolehop managed profiles for sso-session corp (rolehop sso populate; edits inside are overwritten)"
	populateEnd   = "# END rolehop managed profiles for sso-session corp"
)

// populateAccounts is 300 accounts with Admin, Developer and ReadOnly;
// account 5 is "Team Blue" (a space to sanitize), 7 and 8 are both
// "shared" (a duplicate name).
func populateAccounts() []SSOAccount {
	var out []SSOAccount
	for i := 1; i <= 300; i++ {
		a := SSOAccount{ID: populateID(i), Name: fmt.Sprintf("acct-%03d", i), Email: fmt.Sprintf("aws+%d@example.com", i),
			Roles: []string{"Admin", "Developer", "ReadOnly"}}
		switch i {
		case 5:
			a.Name = "Team Blue"
		case 7, 8:
			a.Name = "shared"
		}
		out = append(out, a)
	}
	return out
}

func populateID(i int) string { return fmt.Sprintf("5%011d", i) }

// populateName is the profile name the default template gives.
func populateName(i int, role string) string {
	switch i {
	case 5:
		return "Team-Blue/" + role
	case 7, 8:
		return "shared/" + role + "-" + populateID(i)
	}
	return fmt.Sprintf("acct-%03d/%s", i, role)
}

// managedBlock splits the config file into the bytes before the managed
// block, the block, and the bytes after it.
func managedBlock(t *testing.T, data []byte) (before, block, after []byte) {
	t.Helper()
	b := bytes.Index(data, []byte(populateBegin))
	e := bytes.Index(data, []byte(populateEnd))
	if b < 0 || e < b || bytes.Count(data, []byte(populateBegin)) != 1 || bytes.Count(data, []byte(populateEnd)) != 1 {
		t.Fatalf("config has no single managed block:\n%s", data)
	}
	e += len(populateEnd) + 1
	return data[:b], data[b:e], data[e:]
}

// blockProfiles counts the [profile NAME] headers of a block.
func blockProfiles(block []byte) map[string]int {
	m := map[string]int{}
	for _, l := range strings.Split(string(block), "\n") {
		if name, ok := strings.CutPrefix(l, "[profile "); ok {
			m[strings.TrimSuffix(name, "]")]++
		}
	}
	return m
}

var summaryRe = regexp.MustCompile(`rolehop: sso-session corp: (\d+) accounts, (\d+) roles \((\d+) calls(?:, (\d+) retried)?\): (\d+) added, (\d+) updated, (\d+) removed, (\d+) kept as no longer assigned, (\d+) skipped; (.*) in `)

// populateSummary returns the numbers of the summary line.
func populateSummary(t *testing.T, res Result) (accounts, roles, added, updated, removed, kept, skipped int, outcome string) {
	t.Helper()
	m := summaryRe.FindStringSubmatch(res.Stderr)
	if m == nil {
		t.Fatalf("no summary on stderr: %s", res)
	}
	n := func(s string) int { var v int; fmt.Sscan(s, &v); return v }
	return n(m[1]), n(m[2]), n(m[5]), n(m[6]), n(m[7]), n(m[8]), n(m[9]), m[10]
}

func TestSSOPopulate(t *testing.T) {
	t.Parallel()
	start := time.Now()
	env, srv := newSSOEnv(t)
	srv.PageSize = 100 // the real portal's maximum page
	accounts := populateAccounts()
	srv.SetAccounts(accounts)
	seedSSOToken(t, env, srv, 8*time.Hour)

	// The user's own config: the SSO profiles, comments, and a profile
	// with the name populate would give acct-010's Admin role.
	orig := []byte(dedent(ssoConfig) + "\n# my own notes: keep them\n[profile acct-010/Admin]\nregion = eu-central-1\n; the end\n")
	if err := os.WriteFile(env.ConfigFile, orig, 0o600); err != nil {
		t.Fatal(err)
	}

	// Throttling: more than one call in a row gets a 429.
	srv.InjectError("ListAccounts", 2, 0, "TooManyRequestsException", "Rate exceeded")
	srv.InjectError("ListAccountRoles", 16, 0, "TooManyRequestsException", "Rate exceeded")
	res := env.Run(t, "sso", "populate", "--sso-session", "corp")
	if res.Code != 0 {
		t.Fatalf("populate: %s", res)
	}
	t.Logf("populate of 300 accounts × 3 roles with 18 throttled calls: %s", res.Duration.Round(time.Millisecond))
	nAcc, nRoles, added, updated, removed, kept, skipped, outcome := populateSummary(t, res)
	if nAcc != 300 || nRoles != 900 || added != 899 || updated+removed+kept != 0 || skipped != 1 || !strings.HasPrefix(outcome, "wrote ") {
		t.Errorf("summary: %s", res.Stderr)
	}
	if !strings.Contains(res.Stderr, "rolehop: warning: no profile for role Admin in account "+populateID(10)) || !strings.Contains(res.Stderr, `"acct-010/Admin" is already defined outside the managed block`) {
		t.Errorf("no warning for the profile defined outside the block:\n%s", res.Stderr)
	}
	injected := map[string]int{}
	for _, c := range srv.Calls("") {
		if c.Injected {
			injected[c.Op]++
		}
	}
	if injected["ListAccounts"] != 2 || injected["ListAccountRoles"] != 16 {
		t.Errorf("injected 429s answered: %v", injected)
	}
	if n := srv.Count("ListAccountRoles") - 16; n != 300 {
		t.Errorf("%d successful ListAccountRoles calls, want one per account (300)", n)
	}

	data, err := os.ReadFile(env.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	before, block, after := managedBlock(t, data)
	if !bytes.Equal(before, append(bytes.Clone(orig), '\n')) || len(after) != 0 {
		t.Fatalf("bytes outside the block changed:\nbefore %q\nafter %q", before, after)
	}
	if _, err := awsconfig.Parse(env.ConfigFile, data); err != nil {
		t.Fatalf("the config does not parse: %v", err)
	}
	profiles := blockProfiles(block)
	if len(profiles) != 899 {
		t.Errorf("%d profiles in the block, want 899", len(profiles))
	}
	for i := 1; i <= 300; i++ {
		for _, role := range []string{"Admin", "Developer", "ReadOnly"} {
			name, want := populateName(i, role), 1
			if i == 10 && role == "Admin" {
				want = 0
			}
			if profiles[name] != want {
				t.Fatalf("profile %q is in the block %d times, want %d", name, profiles[name], want)
			}
		}
	}
	wantSection := "[profile Team-Blue/Developer]\nsso_session = corp\nsso_account_id = " + populateID(5) + "\nsso_role_name = Developer\nregion = us-east-1\n"
	if !bytes.Contains(block, []byte(wantSection)) {
		t.Errorf("block lacks\n%s", wantSection)
	}

	// Second run: nothing changes, the file is not even rewritten.
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(env.ConfigFile, past, past); err != nil {
		t.Fatal(err)
	}
	st1, _ := os.Stat(env.ConfigFile)
	res = env.Run(t, "sso", "populate", "--sso-session", "corp")
	if res.Code != 0 {
		t.Fatalf("second populate: %s", res)
	}
	if _, _, added, updated, removed, _, _, outcome := populateSummary(t, res); added+updated+removed != 0 || !strings.HasPrefix(outcome, "no change") {
		t.Errorf("second run summary: %s", res.Stderr)
	}
	st2, _ := os.Stat(env.ConfigFile)
	if again, _ := os.ReadFile(env.ConfigFile); !bytes.Equal(again, data) || !st2.ModTime().Equal(st1.ModTime()) || !os.SameFile(st1, st2) {
		t.Errorf("the second run rewrote the file")
	}

	// The AWS CLI and rolehop use generated profiles with the cached token.
	aws := env.RunCmd(t, awsBin, "sts", "get-caller-identity", "--output", "json", "--profile", "Team-Blue/Admin")
	if aws.Code != 0 {
		t.Fatalf("aws --profile Team-Blue/Admin: %s\nSSO calls:\n%s", aws, srv.CallLog())
	}
	if id := parseIdentity(t, aws.Stdout); id.Arn != ssoAssumedARN(populateID(5), "Admin", ssoUser) || id.Account != populateID(5) {
		t.Errorf("AWS CLI identity %+v", id)
	}
	w, _ := whoami(t, env, "shared/ReadOnly-"+populateID(8))
	if w.Arn != ssoAssumedARN(populateID(8), "ReadOnly", ssoUser) {
		t.Errorf("rolehop whoami identity %q", w.Arn)
	}

	// --dry-run prints the block's diff and writes nothing.
	res = env.Run(t, "sso", "populate", "--sso-session", "corp", "--region", "eu-west-1", "--dry-run")
	if res.Code != 0 || !strings.Contains(res.Stdout, "-region = us-east-1\n+region = eu-west-1\n") || !strings.Contains(res.Stderr, "dry run, nothing written") {
		t.Errorf("dry run: %s", res.Stdout[:min(len(res.Stdout), 600)]+res.Stderr)
	}
	if again, _ := os.ReadFile(env.ConfigFile); !bytes.Equal(again, data) {
		t.Errorf("--dry-run wrote the file")
	}

	// 50 accounts go, and account 1 loses ReadOnly: kept and marked, then
	// pruned with --prune; nothing outside the block moves.
	gone := append([]SSOAccount{}, accounts[:250]...)
	gone[0].Roles = []string{"Admin", "Developer"}
	srv.SetAccounts(gone)
	res = env.Run(t, "sso", "populate", "--sso-session", "corp")
	if _, _, added, _, removed, kept, _, _ := populateSummary(t, res); res.Code != 0 || added+removed != 0 || kept != 151 {
		t.Fatalf("populate after removals: %s", res)
	}
	data, _ = os.ReadFile(env.ConfigFile)
	before, block, after = managedBlock(t, data)
	if !bytes.Equal(before, append(bytes.Clone(orig), '\n')) || len(after) != 0 || len(blockProfiles(block)) != 899 {
		t.Fatalf("after removals: outside changed or profiles lost")
	}
	if n := bytes.Count(block, []byte("# no longer assigned\n[profile ")); n != 151 {
		t.Errorf("%d profiles marked no longer assigned, want 151", n)
	}
	res = env.Run(t, "sso", "populate", "--sso-session", "corp", "--prune")
	if _, _, added, _, removed, kept, _, _ := populateSummary(t, res); res.Code != 0 || added != 0 || removed != 151 || kept != 0 {
		t.Fatalf("populate --prune: %s", res)
	}
	data, _ = os.ReadFile(env.ConfigFile)
	before, block, after = managedBlock(t, data)
	if !bytes.Equal(before, append(bytes.Clone(orig), '\n')) || len(after) != 0 {
		t.Fatalf("--prune changed bytes outside the block")
	}
	profiles = blockProfiles(block)
	if len(profiles) != 748 || profiles[populateName(1, "ReadOnly")] != 0 || profiles[populateName(251, "Admin")] != 0 || profiles[populateName(250, "Admin")] != 1 {
		t.Errorf("after --prune: %d profiles", len(profiles))
	}
	if bytes.Contains(block, []byte("no longer assigned")) {
		t.Errorf("marks left after --prune")
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("the test took %s, want < 30 s", d)
	}
}

// TestSSOPopulateErrors: usage errors exit 2 before any network call; no
// login exits 1 with the login hint; a broken block is refused; the file
// is never touched.
func TestSSOPopulateErrors(t *testing.T) {
	t.Parallel()
	env, srv := newSSOEnv(t)
	orig, _ := os.ReadFile(env.ConfigFile)

	res := env.Run(t, "sso", "populate", "--sso-session", "corp", "--template", "{{.AccountNmae}}/{{.RoleName}}")
	wantCLIError(t, env, res, 2, "--template", "AccountNmae")
	res = env.Run(t, "sso", "populate", "--sso-session", "corp", "--template", "{{.AccountName")
	wantCLIError(t, env, res, 2, "--template")
	res = env.Run(t, "sso", "populate", "--sso-session", "corp", "--concurrency", "0")
	wantCLIError(t, env, res, 2, "--concurrency")
	res = env.Run(t, "sso", "populate", "--sso-session", "corpp")
	wantCLIError(t, env, res, 2, "no [sso-session corpp]")
	wantSSOCalls(t, srv, "ListAccounts", 0)

	res = env.Run(t, "sso", "populate", "--sso-session", "corp")
	wantLoginHint(t, env, res, "corp")

	broken := append(bytes.Clone(orig), []byte("\n"+populateBegin+"\n[profile x]\nregion = y\n")...)
	if err := os.WriteFile(env.ConfigFile, broken, 0o600); err != nil {
		t.Fatal(err)
	}
	seedSSOToken(t, env, srv, 8*time.Hour)
	res = env.Run(t, "sso", "populate", "--sso-session", "corp")
	wantCLIError(t, env, res, 1, "has no END line")
	wantSSOCalls(t, srv, "ListAccounts", 0)
	if data, _ := os.ReadFile(env.ConfigFile); !bytes.Equal(data, broken) {
		t.Errorf("the config was written")
	}
}

// TestSSOPopulateLegacy: populating from a legacy profile writes legacy
// profiles (sso_start_url and sso_region in each), in a block for the
// start URL, that the AWS CLI reads with the start URL's token.
func TestSSOPopulateLegacy(t *testing.T) {
	t.Parallel()
	env, srv := newSSOEnv(t)
	tok := srv.IssueToken(8 * time.Hour)
	writeSSOCache(t, env, legacyStartURL, legacyStartURL, ssoRegion, tok)
	res := env.Run(t, "sso", "populate", "legacy", "--template", "old-{{.AccountName}}-{{.RoleName | lower}}", "--region", "eu-west-1")
	if res.Code != 0 {
		t.Fatalf("populate legacy: %s", res)
	}
	data, _ := os.ReadFile(env.ConfigFile)
	want := "# BEGIN rolehop managed profiles for sso_start_url " + legacyStartURL + " (rolehop sso populate; edits inside are overwritten)\n" +
		"[profile old-audit-readonly]\nsso_start_url = " + legacyStartURL + "\nsso_region = us-east-1\nsso_account_id = 333333333333\nsso_role_name = ReadOnly\nregion = eu-west-1\n"
	if !bytes.Contains(data, []byte(want)) {
		t.Fatalf("config lacks\n%s\ngot\n%s", want, data)
	}
	aws := env.RunCmd(t, awsBin, "sts", "get-caller-identity", "--output", "json", "--profile", "old-prod-admin")
	if aws.Code != 0 {
		t.Fatalf("aws --profile old-prod-admin: %s\nSSO calls:\n%s", aws, srv.CallLog())
	}
	if id := parseIdentity(t, aws.Stdout); id.Arn != ssoAssumedARN(prodAccount, "Admin", ssoUser) {
		t.Errorf("AWS CLI identity %q", id.Arn)
	}
}
