// Package doctor walks a chain step by step against STS and says where it
// breaks and why: for the source and each hop it retrieves the credentials
// through the same providers every command uses (without the disk cache),
// calls sts:GetCallerIdentity with them, and turns a failure into findings
// that name the fix — reading and evaluating the role's trust policy when
// STS says AccessDenied.
package doctor

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolehop/rolehop/internal/awsarn"
	"github.com/rolehop/rolehop/internal/awsclient"
	"github.com/rolehop/rolehop/internal/chain"
	"github.com/rolehop/rolehop/internal/hop"
	"github.com/rolehop/rolehop/internal/plan"
)

// RoleReader is the part of the IAM API the doctor uses.
type RoleReader interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
}

// Options are the injectable parts of a diagnosis.
type Options struct {
	// AWS is the run's HTTP client and retry settings (awsclient.New of
	// the plan's Retry); the doctor wraps the HTTP client's transport to
	// read response Date headers. A nil HTTPClient gets one with the
	// settings' timeout.
	AWS awsclient.Settings
	// Now is the local clock; nil means time.Now.
	Now func() time.Time
	// Getenv reads AWS_ENDPOINT_URL_IAM and AWS_ENDPOINT_URL; nil means
	// os.Getenv.
	Getenv func(string) string
	// NewIAM returns the IAM client for iam:GetRole signed with creds; nil
	// means aws-sdk-go-v2's service/iam at the endpoint the SDK would use.
	NewIAM func(creds aws.CredentialsProvider) RoleReader
	// PolicyCommand is the command that prints the identity policy a caller
	// needs, suggested in caller-permission findings.
	PolicyCommand string
}

// Doctor diagnoses chains. Build the chain with HTTPClient() so that the
// doctor sees every response.
type Doctor struct {
	opts Options
	aws  awsclient.Settings // opts.AWS with the recording client
	rec  *recorder
}

// New returns a Doctor.
func New(opts Options) *Doctor {
	if opts.AWS.HTTPClient == nil {
		opts.AWS.HTTPClient = awsclient.NewHTTPClient(opts.AWS.Retry.AttemptTimeout())
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.PolicyCommand == "" {
		opts.PolicyCommand = "rolehop policy"
	}
	next := opts.AWS.HTTPClient.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	rec := &recorder{next: next, now: opts.Now}
	client := *opts.AWS.HTTPClient
	client.Transport = rec
	settings := opts.AWS
	settings.HTTPClient = &client
	return &Doctor{opts: opts, aws: settings, rec: rec}
}

// HTTPClient is the client to build the chain with (chain.Options).
func (d *Doctor) HTTPClient() *http.Client { return d.aws.HTTPClient }

// NoCredentials is the report for a plan that could not be resolved
// because no source of credentials exists.
func NoCredentials(err *plan.NoCredentialsError, profile string) *Report {
	tried := "nothing"
	if len(err.Tried) > 0 {
		tried = fmt.Sprint(err.Tried)
	}
	return &Report{
		SchemaVersion: SchemaVersion,
		Profile:       profile,
		FailedStep:    "source",
		Steps: []Step{{
			Name: "source", Status: StatusFailed, Kind: "none", Description: "no credentials found",
			Findings: []Finding{{
				Code:     CodeNoCredentials,
				Severity: SeverityError,
				Problem:  "no AWS credentials found: tried " + trimBrackets(tried),
				Fix:      "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, name a profile with keys or a role (rolehop doctor PROFILE), or run where a container or instance role is available",
				Error:    err.Error(),
			}},
		}},
	}
}

func trimBrackets(s string) string {
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		return s[1 : len(s)-1]
	}
	return s
}

// stepState is what a finished step hands to the next.
type stepState struct {
	prov     aws.CredentialsProvider
	creds    aws.Credentials
	identity *Identity
}

// Run diagnoses the plan p whose step providers (chain.BuildSteps, built
// with HTTPClient()) are steps.
func (d *Doctor) Run(ctx context.Context, p *plan.Plan, steps []chain.StepProvider) *Report {
	rep := &Report{SchemaVersion: SchemaVersion, Profile: p.Profile.Value, Warnings: p.Warnings}
	var prev *stepState
	for _, sp := range steps {
		st := describeStep(p, sp.Hop)
		if rep.FailedStep != "" {
			st.Status = StatusSkipped
			rep.Steps = append(rep.Steps, st)
			continue
		}
		cur, findings := d.runStep(ctx, p, sp, prev)
		if len(findings) > 0 {
			st.Status, st.Findings = StatusFailed, findings
			rep.FailedStep = st.Name
		} else {
			st.Status = StatusOK
			st.Identity = cur.identity
			if cur.creds.CanExpire {
				exp := cur.creds.Expires.UTC()
				st.Expiration = &exp
			}
			if sp.Hop >= 0 && p.Hops[sp.Hop].SessionNameFromCaller && prev != nil && prev.identity != nil {
				st.SessionName = callerSessionName(prev.identity.ARN)
			}
		}
		rep.Steps = append(rep.Steps, st)
		prev = cur
	}
	d.clockReport(rep)
	rep.OK = rep.FailedStep == ""
	return rep
}

// runStep retrieves one step's credentials (an AssumeRole for a hop, with
// the previous step's credentials) and asks STS who they belong to.
func (d *Doctor) runStep(ctx context.Context, p *plan.Plan, sp chain.StepProvider, prev *stepState) (*stepState, []Finding) {
	fc := failureContext{d: d, plan: p, hop: sp.Hop, prev: prev}
	creds, err := sp.Provider.Retrieve(ctx)
	if err != nil {
		return nil, fc.retrieveFailed(ctx, err)
	}
	out, err := d.stsWith(p, staticProvider(creds)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fc.identityFailed(err)
	}
	return &stepState{
		prov:  sp.Provider,
		creds: creds,
		identity: &Identity{
			ARN: aws.ToString(out.Arn), Account: aws.ToString(out.Account), UserID: aws.ToString(out.UserId),
		},
	}, nil
}

func (d *Doctor) stsWith(p *plan.Plan, creds aws.CredentialsProvider) *sts.Client {
	return hop.NewSTSClient(creds, hop.Options{Region: p.STSRegion, Endpoint: p.STSEndpoint.Value, AWS: d.aws})
}

// iamClient is an IAM client signing with creds. IAM is global: its
// endpoint is in us-east-1 (aws-cn: cn-north-1, aws-us-gov: us-gov-west-1).
func (d *Doctor) iamClient(p *plan.Plan, creds aws.CredentialsProvider) RoleReader {
	if d.opts.NewIAM != nil {
		return d.opts.NewIAM(creds)
	}
	region := "us-east-1"
	switch {
	case len(p.STSRegion) > 3 && p.STSRegion[:3] == "cn-":
		region = "cn-north-1"
	case len(p.STSRegion) > 7 && p.STSRegion[:7] == "us-gov-":
		region = "us-gov-west-1"
	}
	// Reading the trust policy is a best-effort extra: without max_attempts
	// it is tried twice, not three times.
	settings := d.aws.WithDefaultMaxAttempts(2)
	return iam.NewFromConfig(settings.Config(region, creds), func(o *iam.Options) {
		for _, k := range []string{"AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL"} {
			if v := d.opts.Getenv(k); v != "" {
				o.BaseEndpoint = aws.String(v)
				break
			}
		}
	})
}

// clockReport adds the measured skew, and a finding when it is over the
// limit and no step already reported it.
func (d *Doctor) clockReport(rep *Report) {
	skew, ok := d.rec.skew()
	if !ok {
		return
	}
	secs := skew.Round(time.Second).Seconds()
	rep.ClockSkewSeconds = &secs
	if absDuration(skew) <= skewLimit {
		return
	}
	for _, st := range rep.Steps {
		for _, f := range st.Findings {
			if f.Code == CodeClockSkew {
				return
			}
		}
	}
	context := "from the Date header of STS's responses"
	if d.rec.sdkCorrected() {
		context += "; aws-sdk-go-v2 retried with a corrected signing time, so rolehop's calls went through, but expiry times and other tools are still affected"
	}
	severity := SeverityWarning
	if rep.FailedStep != "" {
		severity = SeverityError
	}
	rep.Findings = append(rep.Findings, clockFinding(skew, severity, context))
}

// describeStep is the report's step before it runs.
func describeStep(p *plan.Plan, i int) Step {
	if i < 0 {
		s := p.Source
		return Step{Name: "source", Kind: string(s.Kind), Description: s.Describe(), Profile: s.Profile, From: s.From}
	}
	h := p.Hops[i]
	st := Step{
		Name: fmt.Sprintf("hop %d", i+1), Kind: "assume-role", Description: h.RoleARN.Value, Profile: h.Profile,
		From: h.RoleARN.From, RoleARN: h.RoleARN.Value, SessionName: h.SessionName.Value, DurationSeconds: h.DurationSeconds,
	}
	if h.SessionNameFromCaller {
		st.SessionName = ""
	}
	if h.SerialNumber.IsSet() {
		st.MFA = h.MFA.Via
	}
	return st
}

// callerSessionName is the -u session name for a caller ARN, as hop
// decides it.
func callerSessionName(arn string) string {
	name, ok := awsarn.CallerName(arn)
	if !ok {
		return ""
	}
	clean, err := plan.SanitizeSessionName(name)
	if err != nil {
		return ""
	}
	return clean
}

// staticProvider hands out fixed credentials.
type staticProvider aws.Credentials

// Retrieve implements aws.CredentialsProvider.
func (s staticProvider) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials(s), nil
}
