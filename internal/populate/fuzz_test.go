package populate

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/rolehop/rolehop/internal/awsconfig"
)

// FuzzReplaceBlock: for any file, Apply either refuses (the file does not
// parse, its markers are broken, or the new block would change what lies
// outside it) or returns a file that parses, whose bytes outside the block
// are those of the input, and that a second run leaves as it is. A file
// that parses and has no markers is never refused.
func FuzzReplaceBlock(f *testing.F) {
	b, e := BeginLine(corp.ID()), EndLine(corp.ID())
	for _, seed := range []string{
		"",
		"[default]\nregion = eu-west-1\n",
		"[default]\r\nregion = eu-west-1\r\n",
		"[default]\rregion = a",
		"\ufeff[profile dev/Developer]\nregion = x\n",
		"[profile x]\nk = v\n\n" + b + "\n[profile old/Gone]\nsso_session = corp\nsso_account_id = 999999999999\nsso_role_name = Gone\n" + e + "\n\n[profile y]\n",
		b + "\r\n" + e,
		"[profile x]\ns3 =\n  a = b\n" + b + "\n" + e + "\n  c = d\n",
		"[DEFAULT]\nregion = x\n" + b + "\n" + e + "\n",
		"# BEGIN rolehop managed profiles for sso-session other\n" + b + "\n",
		"[profile a]\nk = v\n" + b + "\n[profile dev/ReadOnly]\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\n" + e + "\nkey = after\n",
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, prune bool) {
		in := input(t, threeRoles())
		in.Prune = prune
		if prune {
			in.Assignments = in.Assignments[1:]
		}
		_, parseErr := awsconfig.Parse("config", data)
		res, err := Apply("config", data, in)
		if err != nil {
			var be *BlockError
			var pe *awsconfig.ParseError
			switch {
			case errors.As(err, &pe):
				if parseErr == nil {
					t.Fatalf("Apply: parse error %v on a file that parses", err)
				}
			case parseErr != nil:
				t.Fatalf("Apply on a file that does not parse: %v, want its parse error", err)
			case errors.As(err, &be):
			case strings.Contains(err.Error(), "nothing was written"):
				if !bytes.Contains(data, []byte("# BEGIN")) && !bytes.Contains(data, []byte("# END")) && !bytes.Contains(data, []byte("[DEFAULT]")) {
					t.Fatalf("a file without markers was refused: %v", err)
				}
			default:
				t.Fatalf("unexpected error: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		if parseErr != nil {
			t.Fatalf("Apply accepted a file that does not parse (%v)", parseErr)
		}
		if _, err := awsconfig.Parse("config", res.Data); err != nil {
			t.Fatalf("result does not parse: %v\n%q", err, res.Data)
		}
		before, after, found := outsideBytes(t, data, corp.ID())
		nb, na, nfound := outsideBytes(t, res.Data, corp.ID())
		if !res.Changed {
			if !bytes.Equal(res.Data, data) {
				t.Fatalf("unchanged result differs from the input")
			}
			return
		}
		if !nfound {
			t.Fatalf("changed file has no block:\n%q", res.Data)
		}
		if found {
			if !bytes.Equal(before, nb) {
				t.Fatalf("bytes before the block changed:\n%q\n%q", before, nb)
			}
		} else if !bytes.HasPrefix(nb, data) || strings.Trim(string(nb[len(data):]), "\r\n") != "" {
			t.Fatalf("appended block: prefix %q, input %q", nb, data)
		}
		if !bytes.Equal(after, na) {
			t.Fatalf("bytes after the block changed:\n%q\n%q", after, na)
		}
		if d := Diff("config", corp.ID(), res.OldBlock, res.NewBlock); !slices.Equal(res.OldBlock, res.NewBlock) && !strings.HasPrefix(d, "--- ") {
			t.Fatalf("changed block, diff %q", d)
		}
		again, err := Apply("config", res.Data, in)
		if err != nil || again.Changed {
			t.Fatalf("second run: %v changed=%v\n%q\n%q", err, again != nil && again.Changed, res.Data, again.Data)
		}
	})
}
