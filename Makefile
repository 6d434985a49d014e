# rolehop — build, demo and test entry points. `make test` is what CI runs.
GO        ?= go
FUZZTIME  ?= 3s
BIN       ?= bin/rolehop

.PHONY: build test lint cross unit fuzz wine demo bench clean

build:
	$(GO) build -o $(BIN) ./cmd/rolehop

## test: everything CI checks — formatting, vet, cross builds for the 6 release platforms, unit + end-to-end tests, short fuzz runs, the Windows unit tests under Wine, and the release (workflow lint, snapshot, packages and image checked, the .deb installed and used).
test: lint cross unit fuzz wine release-check

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...

## cross: build rolehop for every released platform (no cgo), as the release does.
CROSS_TARGETS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
cross:
	@set -e; out=$$(mktemp -d); trap 'rm -rf "$$out"' EXIT; for t in $(CROSS_TARGETS); do \
	  echo "build $$t"; \
	  CGO_ENABLED=0 GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build -trimpath -o "$$out/rolehop-$${t%/*}-$${t#*/}" ./cmd/rolehop; \
	done

unit:
	$(GO) test -count=1 ./...

## fuzz: run every fuzz target for FUZZTIME each (make fuzz FUZZTIME=5m for a real session).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for t in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/^func //'); do \
	    echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
	    log=$$(mktemp); ok=; \
	    for attempt in 1 2; do \
	      if $(GO) test -run=NONE -fuzz="^$$t\$$" -fuzztime=$(FUZZTIME) $$pkg >"$$log" 2>&1; then ok=1; break; fi; \
	      grep -q 'context deadline exceeded' "$$log" && ! grep -q 'Failing input written to' "$$log" || break; \
	      echo "  a bare 'context deadline exceeded' and no failing input: Go's fuzz coordinator race (golang/go#75804, fixed in Go 1.27); running it again"; \
	    done; \
	    [ -n "$$ok" ] || { cat "$$log"; rm -f "$$log"; exit 1; }; \
	    rm -f "$$log"; \
	  done; \
	done

## wine: build the Windows test binaries of WINE_PKGS once and run them under
## Wine (scripts/wine.sh), then list the tests skipped there and why. Without
## Wine it skips, saying so; with CI=true a missing Wine is a failure.
## Every internal package passes there; these are the ones whose Windows
## paths matter most, chosen to keep this under 100 s (all of them: 130 s).
WINE_PKGS ?= ./internal/fsutil ./internal/awsconfig ./internal/sink ./internal/cache ./internal/endpoint \
	./internal/keychain ./internal/source ./internal/awserr ./internal/hop ./internal/login ./internal/sso \
	./internal/keys ./internal/chain ./internal/cli ./internal/upgrade ./internal/docgen ./internal/populate ./internal/plan
wine:
	./scripts/wine.sh test $(WINE_PKGS)

## docs: regenerate the command reference (docs/cli/*.md, docs/man/*.1) from the commands;
## a test fails when the checked-in copy is out of date.
.PHONY: docs
docs:
	$(GO) run ./internal/docgen/cmd -out docs

## demo: build rolehop, start a local moto_server, create a 2-account chain and run through it.
demo:
	./scripts/demo.sh

bench:
	./bench/run.sh

## Release tools, built from the Go module proxy into bin/tools (the first
## build of goreleaser takes ~5 minutes on 2 cores; later ones are cached).
TOOLS               ?= $(CURDIR)/bin/tools
GORELEASER_VERSION  ?= v2.15.1
ACTIONLINT_VERSION  ?= v1.7.12
.PHONY: tools
tools:
	GOBIN=$(TOOLS) $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)
	GOBIN=$(TOOLS) $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

## snapshot: the real release build (.goreleaser.yaml) into dist/, unpublished.
## No SBOMs: syft, which makes them, is installed only by the release workflow.
.PHONY: snapshot
snapshot: tools
	$(TOOLS)/goreleaser check
	$(TOOLS)/goreleaser release --snapshot --clean --skip=sbom

## release-check: lint the workflows (actionlint, with shellcheck on their
## run: scripts), build the snapshot and its container image, and check every
## archive, package, manifest and the image (test/release); installs the .deb
## when run as root.
.PHONY: release-check
release-check: snapshot
	$(TOOLS)/actionlint
	$(MAKE) --no-print-directory image
	ROLEHOP_DIST=$(CURDIR)/dist $(GO) test -count=1 -run '^TestDist' -v ./test/release

## image: the container image (internal/ociimage) of the release build in dist/ (make snapshot):
## an OCI layout in dist/image and an OCI archive dist/image.tar, dated from the commit.
.PHONY: image
image:
	SOURCE_DATE_EPOCH=$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct)} \
	  $(GO) run ./internal/ociimage/cmd -artifacts dist/artifacts.json -out dist/image -tar dist/image.tar

clean:
	rm -rf bin
