package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/rolehop/rolehop/internal/chain"
	"github.com/rolehop/rolehop/internal/endpoint"
	"github.com/rolehop/rolehop/internal/fsutil"
	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/sink"
)

// credentialsPath is where a chain is served; the profile name follows.
const credentialsPath = "/v1/credentials"

type serveOptions struct {
	chainOptions
	addr        string
	tokenFile   string
	format      string
	window      time.Duration
	allowRemote bool
	tlsCert     string
	tlsKey      string
}

func newServeCmd(sys IO) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve [PROFILE...] [flags]",
		Short: "Serve the role's credentials on a local container-credentials endpoint that refreshes itself",
		Long: `Serve the chain's credentials the way AWS CloudShell and ECS do, on a loopback address,
to any AWS SDK or the AWS CLI pointed at it with AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN. The clients refresh by themselves, and rolehop refreshes
ahead of expiry in the background (through the shared cache), so a long job keeps working
past the 1-hour limit of a chained role for as long as the source credentials last.

On start, rolehop prints the lines to set in the consuming shell (they also unset what would
take precedence over the endpoint, such as AWS_ACCESS_KEY_ID and AWS_PROFILE), then serves
until SIGINT/SIGTERM. Each profile gets its own path and its own 256-bit token. Requests
need the exact token, GET, the right path, and a Host header naming the loopback address.`,
		Example: `  eval "$(rolehop serve prod &)"   # then: aws s3 ls, terraform apply, ...
  rolehop serve prod --token-file ~/.aws/rolehop-token --addr 127.0.0.1:9911
  rolehop serve dev prod                # two profiles, two paths, two tokens`,
		ValidArgsFunction: profileCompletion(sys),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return o.run(ctx, sys, args)
		},
	}
	addChainFlags(cmd, &o.chainOptions, sys)
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:0", "address to listen on (loopback only; port 0 picks a free one)")
	f.StringVar(&o.tokenFile, "token-file", "", "write the token to this file (0600, no newline) and print AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
	f.StringVarP(&o.format, "format", "f", "sh", "shell syntax of the printed lines: sh|fish|powershell|cmd")
	f.DurationVar(&o.window, "refresh-window", endpoint.DefaultWindow, "refresh this long before expiry; answers always carry at least this much validity")
	f.BoolVar(&o.allowRemote, "allow-remote", false, "listen on a non-loopback address (needs --tls-cert and --tls-key)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate file, with --allow-remote")
	f.StringVar(&o.tlsKey, "tls-key", "", "TLS key file, with --allow-remote")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"sh", "fish", "powershell", "cmd"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// oneProcessor limits the Go scheduler to one processor unless GOMAXPROCS is
// set: the endpoint needs little CPU and should not compete with the job it
// serves. On the 2-core bench machine (bench/endpoint.sh, wrk on the same
// cores) one processor gave the same or better req/s and p99 than two:
// 66k vs 41k req/s and p99 4.2 vs 23.8 ms at -t2 -c50 in one run.
func oneProcessor(getenv func(string) string) {
	if getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

func (o *serveOptions) run(ctx context.Context, sys IO, profiles []string) error {
	oneProcessor(sys.Getenv)
	if o.allowRemote != (o.tlsCert != "" && o.tlsKey != "") {
		return usagef("--allow-remote needs both --tls-cert and --tls-key, and TLS is only for --allow-remote")
	}
	if o.tokenFile != "" && len(profiles) > 1 {
		return usagef("--token-file takes one profile; serve several profiles without it")
	}
	if len(profiles) == 0 {
		profiles = []string{""}
	}
	var routes []endpoint.Route
	var region string
	for _, name := range profiles {
		r, p, err := o.route(sys, name)
		if err != nil {
			return err
		}
		routes = append(routes, r)
		region = p.Region.Value
	}
	srv, err := endpoint.New(routes, endpoint.Options{Window: o.window, Log: sys.Err})
	if err != nil {
		return err
	}
	// The address first: a usage error costs no STS call (and caches
	// nothing).
	l, err := endpoint.Listener(o.addr, o.allowRemote)
	if err != nil {
		return usageError{err}
	}
	// The token file's directory too (fsutil's trust rule): someone else's
	// is refused before anything is fetched or written.
	var tokenDir *fsutil.Dir
	var tokenName string
	if o.tokenFile != "" {
		if tokenDir, tokenName, err = fsutil.OpenParent(o.tokenFile, fsutil.DirOptions{}); err != nil {
			l.Close()
			return fmt.Errorf("--token-file: %v", err)
		}
		defer tokenDir.Close()
	}
	if err := srv.Prime(ctx); err != nil {
		l.Close()
		return chain.Cause(err)
	}
	var tlsConfig *tls.Config
	scheme := "http"
	if o.allowRemote {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			l.Close()
			return fmt.Errorf("--tls-cert/--tls-key: %v", err)
		}
		tlsConfig, scheme = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, "https"
	}
	for _, r := range routes {
		url := scheme + "://" + l.Addr().String() + r.Path
		tokenFile := ""
		if o.tokenFile != "" {
			if err := tokenDir.WriteFile(tokenName, []byte(r.Token), 0o600); err != nil {
				l.Close()
				return fmt.Errorf("--token-file: %v", err)
			}
			tokenFile = o.tokenFile
		}
		if len(routes) > 1 {
			fmt.Fprintf(sys.Out, "%s profile %s\n", commentFor(o.format), r.Name)
		}
		if err := sink.WriteContainerExport(sys.Out, o.format, sink.ContainerVars(url, r.Token, tokenFile, region)); err != nil {
			l.Close()
			return usageError{err}
		}
		sys.UI.Noticef("serving %s at %s — Ctrl-C stops", r.Name, url)
	}
	if f, ok := sys.Out.(*os.File); ok {
		_ = f.Sync()
	}
	srv.Run(ctx)
	err = srv.Serve(ctx, l, tlsConfig)
	srv.Wait()
	return err
}

func commentFor(format string) string {
	if format == "cmd" {
		return "REM"
	}
	return "#"
}

// route resolves one profile ("" for flags/ambient) into an endpoint route
// with a fresh token.
func (o *chainOptions) route(sys IO, profile string) (endpoint.Route, *plan.Plan, error) {
	p, err := o.resolve(sys, profile)
	if err != nil {
		return endpoint.Route{}, nil, err
	}
	for _, w := range p.Warnings {
		sys.UI.Warnf("%s", w)
	}
	token, err := endpoint.NewToken()
	if err != nil {
		return endpoint.Route{}, nil, err
	}
	name := p.Profile.Value
	path := credentialsPath
	if name != "" {
		path += "/" + url.PathEscape(name)
	} else {
		name = "the ambient chain"
	}
	r := endpoint.Route{Name: name, Path: path, Token: token, Fetch: o.fetcher(sys, p)}
	if n := len(p.Hops); n > 0 {
		r.RoleARN = p.Hops[n-1].RoleARN.Value
	}
	return r, p, nil
}

// fetcher is the chain as an endpoint.Fetch: atLeast forces the last hop to
// be newer than credentials with only that much validity left.
func (o *chainOptions) fetcher(sys IO, p *plan.Plan) endpoint.Fetch {
	return func(ctx context.Context, atLeast time.Duration) (aws.Credentials, error) {
		prov, err := o.build(sys, p, atLeast)
		if err != nil {
			return aws.Credentials{}, err
		}
		creds, err := prov.Retrieve(ctx)
		return creds, chain.Cause(err)
	}
}

// serveForChild starts an in-process endpoint for exec --server on a random
// loopback port and returns the child's URL and token, and a stop function
// that shuts the endpoint down.
func (o *chainOptions) serveForChild(ctx context.Context, sys IO, profile string) (url, token string, p *plan.Plan, stop func(), err error) {
	oneProcessor(sys.Getenv)
	r, p, err := o.route(sys, profile)
	if err != nil {
		return "", "", nil, nil, err
	}
	srv, err := endpoint.New([]endpoint.Route{r}, endpoint.Options{Log: sys.Err})
	if err != nil {
		return "", "", nil, nil, err
	}
	if err := srv.Prime(ctx); err != nil {
		return "", "", nil, nil, chain.Cause(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", nil, nil, err
	}
	serveCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	srv.Run(serveCtx)
	done := make(chan struct{})
	go func() {
		_ = srv.Serve(serveCtx, l, nil)
		srv.Wait()
		close(done)
	}()
	stop = func() { cancel(); <-done }
	return endpoint.URL(l) + r.Path, r.Token, p, stop, nil
}
