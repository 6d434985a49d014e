// Package populate is `rolehop sso populate`: it lists every account and
// role an IAM Identity Center login may use (ListAccounts and
// ListAccountRoles, throttling-tolerant, a bounded number at a time), names
// a profile for each with a template, and rewrites one clearly marked
// managed block of the AWS config file, leaving every byte outside it as
// it was.
package populate

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rolehop/rolehop/internal/awsconfig"
)

// Assignment is one role the user may use: a permission set in an account.
type Assignment struct {
	AccountID   string
	AccountName string
	Email       string
	RoleName    string
}

// Target is the login the profiles use and the block they live in.
type Target struct {
	// Session is the [sso-session NAME] the profiles name; "" for a legacy
	// login, whose profiles carry StartURL and SSORegion themselves.
	Session   string
	StartURL  string
	SSORegion string
	// Region, when set, is written as each profile's region.
	Region string
}

// ID names the block: "sso-session NAME" or "sso_start_url URL".
func (t Target) ID() string {
	if t.Session != "" {
		return "sso-session " + t.Session
	}
	return "sso_start_url " + t.StartURL
}

// keys are the lines of a profile for a, in the order they are written.
func (t Target) keys(a Assignment) []awsconfig.KeyValue {
	var kv []awsconfig.KeyValue
	if t.Session != "" {
		kv = append(kv, awsconfig.KeyValue{Key: "sso_session", Value: t.Session})
	} else {
		kv = append(kv, awsconfig.KeyValue{Key: "sso_start_url", Value: t.StartURL}, awsconfig.KeyValue{Key: "sso_region", Value: t.SSORegion})
	}
	kv = append(kv, awsconfig.KeyValue{Key: "sso_account_id", Value: a.AccountID}, awsconfig.KeyValue{Key: "sso_role_name", Value: a.RoleName})
	if t.Region != "" {
		kv = append(kv, awsconfig.KeyValue{Key: "region", Value: t.Region})
	}
	return kv
}

// managedKeys are the keys populate writes, in its order; a kept profile
// that is no longer assigned keeps these and loses any other.
var managedKeys = []string{"sso_session", "sso_start_url", "sso_region", "sso_account_id", "sso_role_name", "region"}

// Profile is one section of the managed block.
type Profile struct {
	Name      string
	AccountID string
	RoleName  string
	Keys      []awsconfig.KeyValue
	// Stale marks a profile whose account or role is no longer assigned,
	// kept (without --prune) under a "# no longer assigned" comment.
	Stale bool
}

// Skip is an assignment that gets no profile, and why.
type Skip struct {
	Assignment
	Name   string
	Reason string
}

// Input is what Apply needs besides the file.
type Input struct {
	Target      Target
	Assignments []Assignment
	Template    *Template
	// Prune removes profiles whose account or role is no longer assigned;
	// without it they are kept and marked.
	Prune bool
}

// Result is a computed update of the file.
type Result struct {
	Data    []byte // the whole new file
	Changed bool   // Data differs from the input
	// OldBlock and NewBlock are the block's lines (OldBlock is nil when the
	// file had no block), for Diff.
	OldBlock, NewBlock []string
	// Profile names by what happened to them (each sorted).
	Added, Updated, Removed, Stale []string
	Skipped                        []Skip
}

// oldProfile is a section found in the old block.
type oldProfile struct {
	name            string
	accountID, role string
	keys            map[string]string
	isProfile       bool
}

// Apply computes the file data with its managed block for in.Target
// holding a profile for every assignment, and checks the result (it
// parses, nothing outside the block changes meaning) before returning it.
// A file that does not parse gives its *awsconfig.ParseError, broken
// markers a *BlockError.
func Apply(path string, data []byte, in Input) (*Result, error) {
	before, err := awsconfig.Parse(path, data)
	if err != nil {
		return nil, err
	}
	lines := splitLines(data)
	id := in.Target.ID()
	blk, err := findBlock(path, data, lines, id)
	if err != nil {
		return nil, err
	}
	oldFirst, oldLast := 0, -1 // 1-based line range of the old block
	if blk.found {
		oldFirst, oldLast = blk.first+1, blk.last+1
	}

	// Profiles defined outside the block, and the sections inside it.
	outside := map[string]int{}
	var inside []awsconfig.ParsedSection
	for _, s := range before.Sections {
		if inRange(s.Line, oldFirst, oldLast) {
			inside = append(inside, s)
		} else if name, ok := awsconfig.ProfileName(awsconfig.ConfigFile, s.Header); ok {
			outside[name] = s.Line
		}
	}
	if blk.found {
		// The block on its own gives each section's own keys, without
		// those of a [DEFAULT] section or of lines after the END marker.
		if pf, err := awsconfig.Parse(path, data[blk.start:blk.end]); err == nil {
			inside = pf.Sections
		}
	}
	var old []oldProfile
	for _, s := range inside {
		name, isProfile := awsconfig.ProfileName(awsconfig.ConfigFile, s.Header)
		if !isProfile {
			name = "[" + s.Header + "]"
		}
		v := values(s.Keys)
		old = append(old, oldProfile{name: name, isProfile: isProfile, accountID: v["sso_account_id"], role: v["sso_role_name"], keys: v})
	}

	res := &Result{}
	var usable []Assignment
	for _, a := range in.Assignments {
		if !writable(a.AccountID) || !writable(a.RoleName) {
			res.Skipped = append(res.Skipped, Skip{Assignment: a, Reason: "the account id or role name cannot be written on one config line"})
			continue
		}
		usable = append(usable, a)
	}
	named, skips, err := nameAll(in.Template, in.Target.Session, usable)
	if err != nil {
		return nil, err
	}
	res.Skipped = append(res.Skipped, skips...)
	type pair struct{ account, role string }
	assigned := map[pair]bool{}
	for _, a := range in.Assignments {
		assigned[pair{a.AccountID, a.RoleName}] = true
	}
	var profiles []Profile
	taken := map[string]bool{}
	for _, n := range named {
		if line, ok := outside[n.name]; ok {
			res.Skipped = append(res.Skipped, Skip{Assignment: n.Assignment, Name: n.name,
				Reason: fmt.Sprintf("profile %q is already defined outside the managed block (%s:%d)", n.name, awsconfig.ShortPath(path), line)})
			continue
		}
		if n.name == "default" {
			res.Skipped = append(res.Skipped, Skip{Assignment: n.Assignment, Name: n.name, Reason: `"default" is reserved for [default]`})
			continue
		}
		profiles = append(profiles, Profile{Name: n.name, AccountID: n.AccountID, RoleName: n.RoleName, Keys: in.Target.keys(n.Assignment)})
		taken[n.name] = true
	}

	// What the old block had: kept when no longer assigned (unless
	// --prune), dropped when the assignment lives on under another name or
	// the section is not a profile populate wrote.
	oldByName := map[string]oldProfile{}
	for _, o := range old {
		oldByName[o.name] = o
		switch {
		case taken[o.name]:
		case !o.isProfile || o.accountID == "" || o.role == "" || Sanitize(o.name) != o.name || o.name == "default":
			res.Removed = append(res.Removed, o.name)
		case outside[o.name] != 0: // line numbers start at 1
			res.Removed = append(res.Removed, o.name)
		case assigned[pair{o.accountID, o.role}] || in.Prune:
			res.Removed = append(res.Removed, o.name)
		default:
			p := Profile{Name: o.name, AccountID: o.accountID, RoleName: o.role, Stale: true}
			for _, k := range managedKeys {
				if v, ok := o.keys[k]; ok && v != "" && !strings.ContainsAny(v, "\r\n") {
					p.Keys = append(p.Keys, awsconfig.KeyValue{Key: k, Value: v})
				}
			}
			profiles = append(profiles, p)
			res.Stale = append(res.Stale, o.name)
			taken[o.name] = true
		}
	}
	for _, p := range profiles {
		if p.Stale {
			continue
		}
		o, ok := oldByName[p.Name]
		switch {
		case !ok:
			res.Added = append(res.Added, p.Name)
		case !maps.Equal(o.keys, keyMap(p.Keys)):
			res.Updated = append(res.Updated, p.Name)
		}
	}
	slices.SortFunc(profiles, func(a, b Profile) int { return strings.Compare(a.Name, b.Name) })
	for _, l := range [][]string{res.Added, res.Updated, res.Removed, res.Stale} {
		slices.Sort(l)
	}

	res.NewBlock = renderBlock(id, profiles)
	if blk.found {
		for i := blk.first; i <= blk.last; i++ {
			res.OldBlock = append(res.OldBlock, string(data[lines[i].start:lines[i].end]))
		}
	}
	if !blk.found && len(profiles) == 0 {
		res.Data = data
		return res, nil // nothing to add, and no block to empty
	}
	out, first, last := splice(data, lines, blk, res.NewBlock)
	res.Data = out
	if res.Changed = string(out) != string(data); !res.Changed {
		return res, nil
	}
	if err := verify(path, before, oldFirst, oldLast, out, first, last, profiles, splitLines(out)); err != nil {
		return nil, err
	}
	return res, nil
}

func keyMap(kv []awsconfig.KeyValue) map[string]string {
	m := make(map[string]string, len(kv))
	for _, p := range kv {
		m[p.Key] = p.Value
	}
	return m
}

// writable reports whether v reads back unchanged as a one-line value.
func writable(v string) bool {
	return v != "" && utf8.ValidString(v) && strings.TrimFunc(v, pySpace) == v && !strings.ContainsFunc(v, unicode.IsControl) && !strings.Contains(v, " #") && !strings.Contains(v, " ;")
}
