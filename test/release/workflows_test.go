package release

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"gopkg.in/yaml.v3"
)

// pinnedUses is an action reference pinned to a full commit SHA, with the
// release it is in the line's comment: a tag can be moved to other code, a
// commit cannot.
var pinnedUses = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$`)

// TestWorkflowPins: every `uses:` in the workflows and in the GitHub Action
// (action.yml) is a local path or an action pinned to a commit SHA with its
// tag in a comment; ci.yml runs .ci/run and release.yml runs on v* tags.
func TestWorkflowPins(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root(t), ".github", "workflows", "*.yml"))
	if err != nil || len(files) < 2 {
		t.Fatalf("want ci.yml and release.yml in .github/workflows, found %q (%v)", files, err)
	}
	files = append(files, filepath.Join(root(t), "action.yml"))
	count := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		walkUses(&doc, func(v *yaml.Node) {
			count++
			if len(v.Value) > 2 && v.Value[:2] == "./" {
				return
			}
			if !pinnedUses.MatchString(v.Value) {
				t.Errorf("%s:%d: uses %q is not pinned to a full commit SHA", filepath.Base(file), v.Line, v.Value)
			}
			if !regexp.MustCompile(`^# v\d`).MatchString(v.LineComment) {
				t.Errorf("%s:%d: uses %q has no `# vX.Y.Z` comment naming its release", filepath.Base(file), v.Line, v.Value)
			}
		})
	}
	if count == 0 {
		t.Fatal("no `uses:` found: the walk is broken")
	}

	ci, err := os.ReadFile(filepath.Join(root(t), ".github", "workflows", "ci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"bash .ci/run", "windows-latest", "macos-latest", "pull_request:"} {
		if !regexp.MustCompile(regexp.QuoteMeta(want)).Match(ci) {
			t.Errorf("ci.yml lacks %q", want)
		}
	}
	rel, err := os.ReadFile(filepath.Join(root(t), ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`tags: ["v*"]`, "subject-checksums: dist/checksums.txt", "id-token: write", "attestations: write", "version: v2.15.1"} {
		if !regexp.MustCompile(regexp.QuoteMeta(want)).Match(rel) {
			t.Errorf("release.yml lacks %q", want)
		}
	}
}

// walkUses calls f with the value node of every `uses` key.
func walkUses(n *yaml.Node, f func(*yaml.Node)) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "uses" && n.Content[i+1].Kind == yaml.ScalarNode {
				f(n.Content[i+1])
			}
		}
	}
	for _, c := range n.Content {
		walkUses(c, f)
	}
}
