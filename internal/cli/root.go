// Package cli is rolehop's command line: one file per command, each turning
// flags into a plan.Request, running the shared pipeline (resolve → build
// providers → credentials) and handing the result to a sink. Streams and the
// environment are injected so commands are tested without a terminal.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/awsconfig"
	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/ui"
)

// Exit statuses (DESIGN.md): usage errors 2, other failures 1.
const (
	exitFailure = 1
	exitUsage   = 2
)

// IO is what a command may touch of the outside world.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
	Getenv   func(string) string
	Environ  func() []string
	// HasTerminal reports whether a controlling terminal may exist for MFA
	// prompts (/dev/tty); opening it can still fail, which the prompt reports.
	HasTerminal bool
	// UI prints notices, warnings and progress on Err (--quiet, spinner on
	// a terminal, colour without NO_COLOR); nil means plain lines on Err.
	UI *ui.Output
}

// SystemIO is the real process's streams and environment.
func SystemIO() IO {
	_, err := os.Stat("/dev/tty")
	return IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv, Environ: os.Environ, HasTerminal: err == nil,
		UI: ui.New(ui.Detect(os.Stdout, os.Stderr, os.Getenv))}
}

// usageError marks errors that exit with status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitError carries a child's exit status through cobra without a message.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Main runs rolehop with args (without the program name) and returns the
// process exit status.
func Main(ctx context.Context, args []string, sys IO) int {
	root := newRoot(sys)
	if len(args) > 0 && strings.HasPrefix(args[0], cobra.ShellCompRequestCmd) {
		completeTree(root, sys) // a shell asks for completions (__complete, __completeNoDesc)
	}
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintf(sys.Err, "rolehop: %s\n", oneLine(err.Error()))
	if isUsage(err) {
		return exitUsage
	}
	return exitFailure
}

func isUsage(err error) bool {
	var ue usageError
	var pe *awsconfig.ParseError
	// cobra reports an unknown subcommand with a plain error.
	return errors.As(err, &ue) || errors.As(err, &pe) || plan.IsError(err) || strings.HasPrefix(err.Error(), "unknown command")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func newRoot(sys IO) *cobra.Command {
	if sys.UI == nil {
		sys.UI = ui.New(ui.Options{Err: sys.Err})
	}
	root := &cobra.Command{
		Use:   "rolehop",
		Short: "Assume AWS roles from any credentials and hand them to any program",
		Long: `rolehop resolves a chain of AWS roles — from env keys, a profile, the CloudShell/ECS
container endpoint, an instance role or a credential_process — and hands the final
credentials to a program: a child process (exec), shell lines (export), or
credential_process JSON. It reads ~/.aws/config and ~/.aws/credentials like the AWS CLI.

Calls to STS, IAM Identity Center and IAM are tried 3 times with jittered backoff on
throttling, HTTP 5xx, connection failures and timeouts; max_attempts and retry_mode of the
profile, or AWS_MAX_ATTEMPTS and AWS_RETRY_MODE, change that as for the AWS CLI. Each attempt
has ROLEHOP_HTTP_TIMEOUT (a duration such as 5s; default 10s) to answer, and
ROLEHOP_RETRY_MAX_BACKOFF caps the wait between attempts (default 20s).`,
		Example: `  rolehop exec prod -- aws s3 ls
  rolehop exec --role-arn arn:aws:iam::222222222222:role/deploy -u -- terraform plan
  eval "$(rolehop export prod)"
  rolehop explain prod`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(sys.In)
	root.SetOut(sys.Out)
	root.SetErr(sys.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().BoolVarP(&sys.UI.Quiet, "quiet", "q", false, "print only errors on stderr: no notices, warnings or progress")
	root.AddCommand(
		newExecCmd(sys),
		newExportCmd(sys),
		newCredentialProcessCmd(sys),
		newWhoamiCmd(sys),
		newExplainCmd(sys),
		newCacheCmd(sys),
		newWriteCmd(sys),
		newServeCmd(sys),
		newLoginCmd(sys),
		newLogoutCmd(sys),
		newConsoleCmd(sys),
		newSSOCmd(sys),
		newPickCmd(sys),
		newDoctorCmd(sys),
		newPolicyCmd(sys),
		newKeysCmd(sys),
	)
	addTooling(root, sys) // version, completion: last, it walks the tree
	return root
}
