package awsarn

import "testing"

func TestParse(t *testing.T) {
	for in, want := range map[string]ARN{
		"arn:aws:iam::111111111111:user/ci":             {Partition: "aws", Service: "iam", Account: "111111111111", Resource: "user/ci", Type: "user", Path: "/", Name: "ci"},
		"arn:aws:iam::111111111111:role/teams/ops/prod": {Partition: "aws", Service: "iam", Account: "111111111111", Resource: "role/teams/ops/prod", Type: "role", Path: "/teams/ops/", Name: "prod"},
		"arn:aws-cn:sts::1:assumed-role/r/s":            {Partition: "aws-cn", Service: "sts", Account: "1", Resource: "assumed-role/r/s", Type: "assumed-role", Name: "r", Session: "s"},
		"arn:aws:sts::1:federated-user/fed":             {Partition: "aws", Service: "sts", Account: "1", Resource: "federated-user/fed", Type: "federated-user", Name: "fed", Session: "fed"},
		"arn:aws:iam::1:root":                           {Partition: "aws", Service: "iam", Account: "1", Resource: "root", Type: "root"},
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v\nwant %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "garbage", "arn:aws:iam::1:", "arn:aws:iam::1:role/", "arn:aws:iam::1:role/p/", "arn:aws:sts::1:assumed-role/r", "arn::iam::1:root"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
}

func TestCallerName(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::1:user/a":                 "a",
		"arn:aws:iam::1:user/p/q/a":             "a",
		"arn:aws:sts::1:assumed-role/r/s":       "s",
		"arn:aws-cn:sts::1:federated-user/fedx": "fedx",
		"arn:aws:iam::1:root":                   "",
		"garbage":                               "",
	} {
		got, ok := CallerName(arn)
		if got != want || ok != (want != "") {
			t.Errorf("CallerName(%q) = %q, %v; want %q", arn, got, ok, want)
		}
	}
	if Account("arn:aws:iam::222222222222:role/x") != "222222222222" || Account("nope") != "" {
		t.Error("Account")
	}
}
