package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/chain"
	"github.com/rolehop/rolehop/internal/doctor"
	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/prompt"
	"github.com/rolehop/rolehop/internal/ui"
)

const doctorLong = `Walk the chain step by step against STS and report where it breaks and the likely reason.

For the source, rolehop gets the credentials and calls sts:GetCallerIdentity with them;
for each hop it calls sts:AssumeRole with the previous step's credentials, then
GetCallerIdentity with the result. A failure becomes findings, each with the problem and
the fix (naming the profile and file:line where the setting lives):

  - source credentials missing, failing, expired, deleted (InvalidClientTokenId) or with
    a wrong secret key;
  - AccessDenied: the role's trust policy is read with the caller's credentials
    (iam:GetRole) and evaluated against the exact request — which statement does not
    match and why (principal, MFA, external id, session name, source identity, tags) —
    or, when it allows the caller, the caller's own missing sts:AssumeRole permission
    (` + "`rolehop policy`" + ` prints the policy to attach). When the trust policy cannot be read
    (another account, no iam:GetRole), the likely reasons from the plan;
  - a duration over the role's MaxSessionDuration or the 1-hour role-chaining cap;
  - STS not activated in the region; throttling; STS unreachable;
  - a local clock more than 5 minutes off (from the Date header of STS's responses).

The doctor uses the same resolution and providers as every other command but never the
shared credential cache: every step really calls STS (--no-cache and --min-ttl do not
matter). It prints no secret. Exit status: 0 when every step works, 1 when one fails,
2 for bad input or config.

--output json prints one object (schema_version 1; fields may be added, none changes meaning):

  {
    "schema_version": 1,
    "ok": false,                       // true when every step works
    "profile": "prod",                 // omitted without a profile
    "failed_step": "hop 2",            // the first failed step, omitted when ok
    "steps": [{
      "step": "source" | "hop N",
      "status": "ok" | "failed" | "skipped",
      "kind": "environment" | "static-keys" | … | "assume-role",
      "description": "…", "profile": "…", "from": "file:line or flag",
      "role_arn": "…", "session_name": "…", "duration_seconds": 3600, "mfa": "direct" | "session",
      "identity": {"arn": "…", "account": "…", "user_id": "…"},   // when ok
      "expiration": "2025-01-02T03:04:05Z",                       // omitted for long-term keys
      "findings": [FINDING…]
    }],
    "findings": [FINDING…],            // not tied to a step (the local clock)
    "clock_skew_seconds": 0,           // STS's Date header minus the local clock
    "warnings": ["…"]
  }
  FINDING = {"code": "…", "severity": "error" | "warning", "problem": "…", "fix": "…", "error": "the AWS error"}

Finding codes: no-credentials, source-failed, expired-credentials, invalid-key,
wrong-secret, clock-skew, access-denied, trust-policy, trust-policy-deny,
trust-policy-unknown, caller-permission, role-not-found, duration-over-max,
chaining-cap, region-disabled, throttled, unreachable, mfa, sts-error.`

func newDoctorCmd(sys IO) *cobra.Command {
	var o chainOptions
	var output outputFormat
	args, complete := oneProfileArg(sys)
	cmd := &cobra.Command{
		Use:   "doctor [PROFILE] [flags]",
		Short: "Check every step of the chain against STS and say where and why it breaks",
		Long:  doctorLong,
		Example: `  rolehop doctor prod
  rolehop doctor --role-arn arn:aws:iam::222222222222:role/deploy -u --output json
  rolehop doctor prod -o json | jq -r '.steps[].findings[]?.fix'`,
		Args:              args,
		ValidArgsFunction: complete,
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := output.isJSON()
			if err != nil {
				return err
			}
			rep, err := o.doctor(cmd, sys, firstArg(args))
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(sys.Out)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else if err := writeDoctorText(sys.Out, rep, time.Now(), sys.UI.Paint); err != nil {
				return err
			}
			if !rep.OK {
				return exitError{exitFailure}
			}
			return nil
		},
	}
	addChainFlags(cmd, &o, sys)
	addOutputFlag(cmd, &output, "the report, also in --help")
	return cmd
}

// doctor resolves the plan and runs the diagnosis. A missing source of
// credentials is the source step's finding, not an error.
func (o *chainOptions) doctor(cmd *cobra.Command, sys IO, profileArg string) (*doctor.Report, error) {
	p, err := o.resolve(sys, profileArg)
	var nc *plan.NoCredentialsError
	if errors.As(err, &nc) {
		name, _, _ := o.positionalProfile(profileArg)
		return doctor.NoCredentials(nc, name), nil
	}
	if err != nil {
		return nil, err
	}
	for _, w := range p.Warnings {
		sys.UI.Warnf("%s", w)
	}
	o.debugf(sys, "source: %s (%s)", p.Source.Describe(), p.Source.From)
	for i, h := range p.Hops {
		o.debugf(sys, "hop %d: %s session=%q duration=%ds", i+1, h.RoleARN.Value, h.SessionName.Value, h.DurationSeconds)
	}
	d := doctor.New(doctor.Options{Getenv: sys.Getenv, AWS: chain.Clients(p, nil)})
	// No Store: the doctor must really call STS for every step.
	// NoChainingRetry: a duration over the chaining cap is a finding.
	opts := chain.Options{HTTPClient: d.HTTPClient(), Stderr: sys.Err, Getenv: sys.Getenv, MinTTL: o.minTTL, NoChainingRetry: true}
	if sys.HasTerminal {
		opts.Prompt = prompt.MFA
	}
	steps, err := chain.BuildSteps(p, opts)
	if err != nil {
		return nil, err
	}
	return d.Run(cmd.Context(), p, steps), nil
}

// writeDoctorText prints one block per step, then the overall result;
// paint colours the status words (ui.Output.Paint).
func writeDoctorText(w io.Writer, rep *doctor.Report, now time.Time, paint func(color, s string) string) error {
	var b strings.Builder
	if rep.Profile != "" {
		fmt.Fprintf(&b, "rolehop doctor: profile %q\n\n", rep.Profile)
	}
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "        %-9s %s\n", name, value)
		}
	}
	findings := func(fs []doctor.Finding) {
		for _, f := range fs {
			label := "problem"
			if f.Severity == doctor.SeverityWarning {
				label = "warning"
			}
			field(label, f.Problem)
			field("fix", f.Fix)
			field("error", f.Error)
		}
	}
	for _, st := range rep.Steps {
		status := map[string]string{doctor.StatusOK: "ok", doctor.StatusFailed: "FAILED", doctor.StatusSkipped: "skipped"}[st.Status]
		color := map[string]string{doctor.StatusOK: ui.Green, doctor.StatusFailed: ui.Red, doctor.StatusSkipped: ui.Yellow}[st.Status]
		fmt.Fprintf(&b, "%-7s %s %s\n", st.Name, paint(color, fmt.Sprintf("%-7s", status)), stepTitle(st))
		if st.Name != "source" && st.Status != doctor.StatusSkipped {
			session := st.SessionName
			if session == "" {
				session = "(the caller's name, -u)"
			}
			field("session", fmt.Sprintf("%s, %d s", session, st.DurationSeconds))
		}
		if st.Identity != nil {
			field("identity", st.Identity.ARN)
		}
		if st.Status == doctor.StatusOK {
			if st.Expiration != nil {
				field("expires", fmt.Sprintf("%s (in %s)", st.Expiration.Format(time.RFC3339), st.Expiration.Sub(now).Round(time.Second)))
			} else {
				field("expires", "never (long-term keys)")
			}
		}
		findings(st.Findings)
		b.WriteString("\n")
	}
	if len(rep.Findings) > 0 {
		b.WriteString("clock\n")
		findings(rep.Findings)
		b.WriteString("\n")
	}
	if rep.OK {
		fmt.Fprintf(&b, "result: %s — all %d steps work\n", paint(ui.Green, "ok"), len(rep.Steps))
	} else {
		fmt.Fprintf(&b, "result: %s at %s\n", paint(ui.Red, "FAILED"), rep.FailedStep)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// stepTitle is the step's description; a hop adds where it is defined
// (the source's description already names its profile).
func stepTitle(st doctor.Step) string {
	t := st.Description
	if st.Name == "source" {
		return t
	}
	var where []string
	if st.Profile != "" {
		where = append(where, fmt.Sprintf("profile %q", st.Profile))
	}
	if st.From != "" {
		where = append(where, st.From)
	}
	if len(where) > 0 {
		t += " (" + strings.Join(where, ", ") + ")"
	}
	return t
}
