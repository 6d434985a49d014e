#!/usr/bin/env bash
# Files the release ships beside the binary, made before goreleaser packs
# them (.goreleaser.yaml runs this as a before hook):
#
#   build/completions/rolehop.bash, _rolehop (zsh), rolehop.fish, rolehop.ps1
#   build/man/*.1.gz   the pages of docs/man, compressed as Debian policy and
#                      rpm expect (gzip -n: no name or time, so reproducible)
#
# The completions come from the commands themselves (rolehop completion
# SHELL), so they always match the binary they ship with.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build
rm -rf "$out/completions" "$out/man"
mkdir -p "$out/completions" "$out/man"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/rolehop" ./cmd/rolehop
"$bin/rolehop" completion bash >"$out/completions/rolehop.bash"
"$bin/rolehop" completion zsh >"$out/completions/_rolehop"
"$bin/rolehop" completion fish >"$out/completions/rolehop.fish"
"$bin/rolehop" completion powershell >"$out/completions/rolehop.ps1"
for page in docs/man/*.1; do
	gzip -n -9 -c "$page" >"$out/man/$(basename "$page").gz"
done
