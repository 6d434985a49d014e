package awsarn

import (
	"strings"
	"testing"
)

// FuzzParse: Parse never panics; an ARN it accepts has non-empty
// partition, service and resource and its parts put back together give the
// input; a user or role is Path + Name with Path starting and ending with
// "/" and a non-empty Name without "/"; an assumed-role has a role and a
// session; errors are one line.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"arn:aws:iam::111111111111:user/ci", "arn:aws:iam::111111111111:role/teams/ops/prod",
		"arn:aws-cn:sts::1:assumed-role/r/s/x", "arn:aws:sts::1:federated-user/fed", "arn:aws:iam::1:root",
		"arn:aws:iam::1:role//a", "arn:aws:iam::1:role/", "arn:aws:s3:::bucket/key:x", "arn:aws:iam::1:role/a\nb", "", "arn:::::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") && !strings.Contains(s, "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		if a.Partition == "" || a.Service == "" || a.Resource == "" {
			t.Fatalf("accepted %q with an empty part: %+v", s, a)
		}
		if got := "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource; got != s {
			t.Fatalf("parts of %q join to %q", s, got)
		}
		if typ, _, _ := strings.Cut(a.Resource, "/"); typ != a.Type {
			t.Fatalf("type %q of resource %q", a.Type, a.Resource)
		}
		switch a.Type {
		case "user", "role":
			if !strings.HasPrefix(a.Path, "/") || !strings.HasSuffix(a.Path, "/") || a.Name == "" || strings.Contains(a.Name, "/") ||
				a.Type+a.Path+a.Name != a.Resource {
				t.Fatalf("%q: path %q, name %q", s, a.Path, a.Name)
			}
		case "assumed-role":
			if a.Name == "" || a.Session == "" || a.Type+"/"+a.Name+"/"+a.Session != a.Resource {
				t.Fatalf("%q: role %q, session %q", s, a.Name, a.Session)
			}
		}
	})
}
