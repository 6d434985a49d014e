package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/doctor"
	"github.com/rolehop/rolehop/internal/ui"
)

func TestDoctorUsageAndNoCredentials(t *testing.T) {
	code, _, stderr := run(t, testConfig, nil, "doctor", "nosuch")
	if code != exitUsage || !strings.Contains(stderr, "nosuch") {
		t.Errorf("unknown profile: exit %d, stderr %q", code, stderr)
	}
	code, stdout, stderr := run(t, "", nil, "doctor", "--json")
	if code != exitFailure || stderr != "" {
		t.Fatalf("no credentials: exit %d, stderr %q", code, stderr)
	}
	var rep doctor.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Steps) != 1 || rep.Steps[0].Findings[0].Code != doctor.CodeNoCredentials {
		t.Errorf("report %s", stdout)
	}
}

func TestDoctorText(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 0, 0, 0, time.UTC)
	exp := now.Add(time.Hour)
	rep := &doctor.Report{Profile: "prod", FailedStep: "hop 2", Steps: []doctor.Step{
		{Name: "source", Status: doctor.StatusOK, Description: "access keys of profile \"base\" (AKIA…0001)", Profile: "base",
			Identity: &doctor.Identity{ARN: "arn:aws:iam::111111111111:user/ci"}},
		{Name: "hop 1", Status: doctor.StatusOK, Description: "arn:aws:iam::111111111111:role/dev", From: "~/.aws/config:4",
			SessionName: "ci", DurationSeconds: 3600, Identity: &doctor.Identity{ARN: "arn:aws:sts::111111111111:assumed-role/dev/ci"}, Expiration: &exp},
		{Name: "hop 2", Status: doctor.StatusFailed, Description: "arn:aws:iam::222222222222:role/prod", DurationSeconds: 3600,
			Findings: []doctor.Finding{{Code: "trust-policy", Severity: "error", Problem: "P", Fix: "F", Error: "AccessDenied: x"}}},
		{Name: "hop 3", Status: doctor.StatusSkipped, Description: "arn:aws:iam::333333333333:role/x"},
	}}
	var b strings.Builder
	if err := writeDoctorText(&b, rep, now, ui.New(ui.Options{}).Paint); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"profile \"prod\"",
		"source  ok      access keys of profile \"base\" (AKIA…0001)\n        identity  arn:aws:iam::111111111111:user/ci\n        expires   never",
		"hop 1   ok      arn:aws:iam::111111111111:role/dev (~/.aws/config:4)\n        session   ci, 3600 s\n",
		"expires   2025-01-02T04:00:00Z (in 1h0m0s)",
		"hop 2   FAILED  arn:aws:iam::222222222222:role/prod\n        session   (the caller's name, -u), 3600 s\n        problem   P\n        fix       F\n        error     AccessDenied: x\n",
		"hop 3   skipped arn:aws:iam::333333333333:role/x\n\n",
		"result: FAILED at hop 2",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, b.String())
		}
	}
}
