// Command ociimage builds rolehop's container image (see package
// internal/ociimage) from goreleaser's dist/ and writes it as an OCI layout,
// optionally also as an OCI archive, and pushes it:
//
//	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) go run ./internal/ociimage/cmd \
//	  -artifacts dist/artifacts.json -out dist/image \
//	  [-tar dist/image.tar] [-push ghcr.io/rolehop/rolehop -tag 1.2.3 -tag latest]
//
// Instead of -artifacts, -binary linux/amd64=PATH -binary linux/arm64=PATH
// name the binaries (then -version is needed). With -push it prints
// REPOSITORY@sha256:… of the pushed index on stdout, and nothing else
// there; it authenticates as docker does (~/.docker/config.json, which
// docker/login-action writes).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/rolehop/rolehop/internal/ociimage"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// list is a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("ociimage", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var binaries, tags list
	artifacts := fl.String("artifacts", "", `goreleaser's artifacts.json (default dist/artifacts.json unless -binary is given)`)
	fl.Var(&binaries, "binary", "`os/arch=PATH` of a binary instead of -artifacts; give linux/amd64 and linux/arm64")
	version := fl.String("version", "", "release version (default: dist/metadata.json's)")
	revision := fl.String("revision", "", "commit the binaries were built from (default: dist/metadata.json's)")
	created := fl.String("created", getenv("SOURCE_DATE_EPOCH"), "image time in Unix seconds, the commit time (default $SOURCE_DATE_EPOCH)")
	out := fl.String("out", "", "write the OCI layout to this `directory` (a layout there is replaced)")
	tarFile := fl.String("tar", "", "also write the layout as an OCI archive `file` (needs -out)")
	push := fl.String("push", "", "push the index to this `repository` (ghcr.io/rolehop/rolehop) and print REPOSITORY@DIGEST")
	fl.Var(&tags, "tag", "tag the pushed index (repeatable; needs -push)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "ociimage: "+format+"\n", a...)
		return 2
	}
	switch {
	case fl.NArg() > 0:
		return usage("unexpected argument %q", fl.Arg(0))
	case *out == "" && *push == "":
		return usage("nothing to do: give -out DIR and/or -push REPOSITORY")
	case *tarFile != "" && *out == "":
		return usage("-tar needs -out")
	case len(tags) > 0 && *push == "":
		return usage("-tag needs -push")
	case *artifacts != "" && len(binaries) > 0:
		return usage("give -artifacts or -binary, not both")
	case *created == "":
		return usage("no image time: set SOURCE_DATE_EPOCH or -created to the commit time (git log -1 --format=%%ct)")
	}
	var target ociimage.Target
	if *push != "" {
		var err error
		if target, err = ociimage.NewTarget(*push, tags); err != nil {
			return usage("%v", err)
		}
	}
	secs, err := strconv.ParseInt(*created, 10, 64)
	if err != nil || secs < 0 {
		return usage("image time %q is not Unix seconds", *created)
	}
	spec := ociimage.Spec{Binaries: map[string]string{}, Version: *version, Revision: *revision, Created: time.Unix(secs, 0)}
	if len(binaries) > 0 {
		for _, b := range binaries {
			platform, path, ok := strings.Cut(b, "=")
			if !ok || path == "" {
				return usage("-binary %q is not os/arch=PATH", b)
			}
			if _, dup := spec.Binaries[platform]; dup {
				return usage("two -binary for %s", platform)
			}
			spec.Binaries[platform] = path
		}
		if spec.Version == "" {
			return usage("-binary needs -version")
		}
	} else {
		if *artifacts == "" {
			*artifacts = "dist/artifacts.json"
		}
		rel, err := ociimage.ReadDist(*artifacts)
		if err != nil {
			fmt.Fprintf(stderr, "ociimage: %v\n", err)
			return 1
		}
		spec.Binaries = rel.Binaries
		if spec.Version == "" {
			spec.Version = rel.Version
		}
		if spec.Revision == "" {
			spec.Revision = rel.Commit
		}
		if spec.Version == "" {
			return usage("%s has no metadata.json with the version beside it: give -version", *artifacts)
		}
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "ociimage: %v\n", err)
		return 1
	}
	idx, err := ociimage.Build(spec)
	if err != nil {
		return fail(err)
	}
	digest, err := idx.Digest()
	if err != nil {
		return fail(err)
	}
	if *out != "" {
		if err := ociimage.WriteLayout(*out, idx, spec.Version); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stderr, "ociimage: wrote %s (index %s)\n", *out, digest)
		if *tarFile != "" {
			if err := ociimage.WriteTar(*tarFile, *out, spec.Created); err != nil {
				return fail(err)
			}
			fmt.Fprintf(stderr, "ociimage: wrote %s\n", *tarFile)
		}
	}
	if *push != "" {
		ref, err := target.Push(ctx, idx, remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithUserAgent("rolehop-ociimage"))
		if err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, ref)
	}
	return 0
}
