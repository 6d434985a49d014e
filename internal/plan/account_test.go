package plan

import (
	"bytes"
	"strings"
	"testing"
)

// TestSourceAccountID: where the source's account id comes from. Each case
// is what AWS CLI v1 (botocore 1.43.11) uses for the same files and
// environment, read from `aws dynamodb list-tables --debug` (the AccountId
// endpoint parameter); test/e2e TestSinkAccountIDOracle checks it against
// the real CLI.
func TestSourceAccountID(t *testing.T) {
	const keys = "aws_access_key_id = AKIAEXAMPLEKEY000001\naws_secret_access_key = s\n"
	tests := []struct {
		name        string
		config      string
		credentials string
		env         env
		profile     string
		wantKind    SourceKind
		wantAccount string // "" when none
		wantFrom    string // a fragment of Setting.From
		wantNote    string // a fragment of a note, "" for none
	}{
		{name: "env keys with AWS_ACCOUNT_ID",
			env:      env{"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ACCOUNT_ID": "111122223333"},
			wantKind: SourceEnv, wantAccount: "111122223333", wantFrom: "env AWS_ACCOUNT_ID"},
		{name: "env keys without AWS_ACCOUNT_ID",
			env:      env{"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s"},
			wantKind: SourceEnv},
		{name: "AWS_ACCOUNT_ID without env keys is not the profile's account",
			config: "[profile s]\n" + keys, env: env{"AWS_ACCOUNT_ID": "111122223333"}, profile: "s",
			wantKind: SourceStatic},
		{name: "config profile with keys and aws_account_id",
			config: "[profile s]\n" + keys + "aws_account_id = 111111111111\n", profile: "s",
			wantKind: SourceStatic, wantAccount: "111111111111", wantFrom: "config:4"},
		{name: "credentials profile with keys and aws_account_id",
			credentials: "[s]\n" + keys + "aws_account_id = 222222222222\n", profile: "s",
			wantKind: SourceStatic, wantAccount: "222222222222", wantFrom: "credentials:4"},
		{name: "keys in credentials, aws_account_id in config",
			config: "[profile s]\naws_account_id = 111111111111\n", credentials: "[s]\n" + keys, profile: "s",
			wantKind: SourceStatic, wantNote: "takes the account id only from the file that holds the keys (the Go SDK would use it)"},
		{name: "keys in config, aws_account_id in credentials",
			config: "[profile s]\n" + keys, credentials: "[s]\naws_account_id = 222222222222\n", profile: "s",
			wantKind: SourceStatic, wantNote: "takes the account id only from the file that holds the keys"},
		{name: "aws_account_id in both, keys in credentials: the credentials file's",
			config: "[profile s]\naws_account_id = 111111111111\n", credentials: "[s]\n" + keys + "aws_account_id = 222222222222\n", profile: "s",
			wantKind: SourceStatic, wantAccount: "222222222222", wantFrom: "credentials:4"},
		{name: "source_profile with aws_account_id",
			config:   "[profile base]\n" + keys + "aws_account_id = 111111111111\n[profile r]\nrole_arn = arn:aws:iam::222222222222:role/prod\nsource_profile = base\n",
			profile:  "r",
			wantKind: SourceStatic, wantAccount: "111111111111", wantFrom: "config:4"},
		{name: "credential_process with aws_account_id (botocore's fallback)",
			config: "[profile p]\ncredential_process = /bin/creds\naws_account_id = 333333333333\n", profile: "p",
			wantKind: SourceProcess, wantAccount: "333333333333", wantFrom: "config:3"},
		{name: "blank aws_account_id",
			config: "[profile s]\n" + keys + "aws_account_id =\n", profile: "s",
			wantKind: SourceStatic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := resolve(t, load(t, tt.config, tt.credentials), tt.env, Request{Profile: tt.profile, ProfileFrom: "argument"})
			if err != nil {
				t.Fatal(err)
			}
			src := p.Source
			if src.Kind != tt.wantKind {
				t.Fatalf("source kind %s, want %s", src.Kind, tt.wantKind)
			}
			if src.AccountID.Value != tt.wantAccount || !strings.Contains(src.AccountID.From, tt.wantFrom) {
				t.Errorf("account id %+v, want %q from %q", src.AccountID, tt.wantAccount, tt.wantFrom)
			}
			if tt.wantNote != "" {
				wantNote(t, p, tt.wantNote)
			} else {
				for _, n := range p.Notes {
					if strings.Contains(n, "aws_account_id") {
						t.Errorf("unexpected note %q", n)
					}
				}
			}
		})
	}
}

// TestExplainAccount: explain shows the source's account id and which
// account the final credentials are in, and that exec and export pass it
// on where the AWS CLI's export-credentials does not.
func TestExplainAccount(t *testing.T) {
	const keys = "aws_access_key_id = AKIAEXAMPLEKEY000001\naws_secret_access_key = s\n"
	cfg := load(t, "[profile s]\n"+keys+"aws_account_id = 111111111111\n"+
		"[profile r]\nrole_arn = arn:aws:iam::222222222222:role/prod\nsource_profile = s\n"+
		"[profile p]\ncredential_process = /bin/creds\naws_account_id = 333333333333\n"+
		"[profile n]\n"+keys, "")
	tests := []struct {
		profile string
		want    []string
	}{
		{"s", []string{"account id  111111111111", "Account: 111111111111 (", "passed on as AWS_ACCOUNT_ID (exec, export)"}},
		{"r", []string{"account id  111111111111", "Account: 222222222222 (the last role's ARN)"}},
		{"p", []string{"account id  333333333333 when the process prints no AccountId", "Account: as the credentials say (AccountId)"}},
		{"n", []string{"Account: not known: AWS_ACCOUNT_ID is removed"}},
	}
	for _, tt := range tests {
		p, err := resolve(t, cfg, nil, Request{Profile: tt.profile, ProfileFrom: "argument"})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := p.WriteText(&buf); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("explain %s lacks %q:\n%s", tt.profile, w, buf.String())
			}
		}
		buf.Reset()
		if err := p.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		if a := p.Source.AccountID; a.IsSet() && !strings.Contains(buf.String(), `"account_id": {`) {
			t.Errorf("explain -o json lacks source.account_id:\n%s", buf.String())
		}
	}
}
