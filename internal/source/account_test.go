package source

import (
	"context"
	"testing"

	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/winetest"
)

// TestSourceAccountID: the credentials of a source carry the account id
// the plan found (AWS_ACCOUNT_ID with env keys, a profile's
// aws_account_id), and a credential_process's own AccountId wins over the
// profile's, as in botocore's ProcessProvider.
func TestSourceAccountID(t *testing.T) {
	dir := winetest.TempDir(t)
	withAccount := processScript(t, dir, "with", `{"Version":1,"AccessKeyId":"AKIAP","SecretAccessKey":"s","AccountId":"444455556666"}`, "", 0)
	without := processScript(t, dir, "without", `{"Version":1,"AccessKeyId":"AKIAP","SecretAccessKey":"s"}`, "", 0)
	profileAccount := plan.Setting{Value: "111122223333", From: "~/.aws/config:3"}
	tests := []struct {
		name string
		src  plan.Source
		want string
	}{
		{"env keys with AWS_ACCOUNT_ID", plan.Source{Kind: plan.SourceEnv, AccessKeyID: "AKIAENV", SecretAccessKey: "s",
			AccountID: plan.Setting{Value: "111122223333", From: "env AWS_ACCOUNT_ID"}}, "111122223333"},
		{"static keys without", plan.Source{Kind: plan.SourceStatic, AccessKeyID: "AKIAS", SecretAccessKey: "s"}, ""},
		{"static keys with aws_account_id", plan.Source{Kind: plan.SourceStatic, AccessKeyID: "AKIAS", SecretAccessKey: "s",
			AccountID: profileAccount}, "111122223333"},
		{"process AccountId wins", plan.Source{Kind: plan.SourceProcess, Profile: "p", Command: withAccount, AccountID: profileAccount}, "444455556666"},
		{"process without AccountId: the profile's", plan.Source{Kind: plan.SourceProcess, Profile: "p", Command: without, AccountID: profileAccount}, "111122223333"},
		{"process AccountId alone", plan.Source{Kind: plan.SourceProcess, Profile: "p", Command: withAccount}, "444455556666"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			c, err := p.Retrieve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if c.AccountID != tt.want {
				t.Errorf("AccountID = %q, want %q", c.AccountID, tt.want)
			}
		})
	}
}
