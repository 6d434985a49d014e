package iampolicy

import (
	"reflect"
	"testing"
)

func TestParseShortcuts(t *testing.T) {
	// One statement instead of a list, strings instead of lists, a bare
	// boolean condition value, URL encoding as GetRole returns it.
	const doc = `%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A111111111111%3Aroot%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%2C%22Condition%22%3A%7B%22Bool%22%3A%7B%22aws%3AMultiFactorAuthPresent%22%3Atrue%7D%7D%7D%7D`
	d, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := &Document{Version: Version, Statement: []Statement{{
		Effect:    "Allow",
		Principal: AWSPrincipal("arn:aws:iam::111111111111:root"),
		Action:    Strings{"sts:AssumeRole"},
		Condition: Conditions{"Bool": {"aws:MultiFactorAuthPresent": {"true"}}},
	}}}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("parsed %+v\nwant   %+v", d, want)
	}
	// Round trip: marshal, parse, same document.
	back, err := Parse(string(d.JSON()))
	if err != nil || !reflect.DeepEqual(back, want) {
		t.Fatalf("round trip: %v %+v", err, back)
	}
}

func TestMarshalShapes(t *testing.T) {
	c := Conditions{}
	c.Add("StringEquals", "sts:RoleSessionName", "${aws:username}")
	d := Document{Version: Version, Statement: []Statement{
		{Effect: "Allow", Principal: &Principal{Any: true}, Action: Strings{"sts:AssumeRole", "sts:TagSession"}, Condition: c},
	}}
	got := d.Compact()
	want := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:RoleSessionName":"${aws:username}"}}}]}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{
		``,
		`{"Statement": [{"Principal": "someone"}]}`,
		`{"Statement": [{"Action": {"a": 1}}]}`,
		`%ZZ`,
		`{"Statement": 3}`,
	} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
}
