#!/usr/bin/env bash
# Runs rolehop's Windows builds under Wine, headless. The one place that
# knows how: `make wine` and the end-to-end test (test/e2e/wine_test.go)
# both go through it.
#
#   scripts/wine.sh prefix            prepare the Wine prefix, print its path
#   scripts/wine.sh run PROGRAM ARG…  run a Windows program in it
#   scripts/wine.sh test PKG…         build the packages' Windows test
#                                     binaries once, run each under Wine,
#                                     list the skipped tests and why
#
# The prefix (ROLEHOP_WINEPREFIX, default ~/.cache/rolehop/wine) is made
# once with `wineboot -i` and holds test/wine/bcryptprimitives.dll (see the
# comment there: without it no Go program starts under Wine 8.0). It is
# made again when the DLL's source or the Wine version changes.
#
# Exit status 125 means Wine or MinGW is missing (the message says which
# Debian packages to install); `test` then skips, or fails with CI=true.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${ROLEHOP_WINEPREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/rolehop/wine}
dll_src=$root/test/wine/bcryptprimitives.c

# Quiet, and nothing that needs a display or a download: no Mono, no Gecko,
# no desktop menu entries.
export WINEPREFIX=$prefix WINEARCH=win64
export WINEDEBUG=${WINEDEBUG:--all}
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=;winemenubuilder.exe=d}
unset DISPLAY WAYLAND_DISPLAY

die() { echo "wine.sh: $*" >&2; exit 1; }

# require: the tools, or exit 125 saying what to install.
require() {
  local missing=() tool
  for tool in wine wineboot wineserver x86_64-w64-mingw32-gcc; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  # Debian's /usr/bin/wine starts /usr/lib/wine/wine64 (package wine64)
  # when there is no 32-bit wine.
  if command -v wine >/dev/null && [ -d /usr/lib/wine ] && ! [ -x /usr/lib/wine/wine64 ] && ! [ -x /usr/lib/wine/wine ]; then
    missing+=(wine64)
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "wine.sh: ${missing[*]} not found: install the Debian packages wine, wine64 and gcc-mingw-w64-x86-64 (.ci/run does)" >&2
    exit 125
  fi
}

# prepare: make the prefix unless it is current. Under a lock, as `make
# wine` and the e2e test may run at the same time.
prepare() {
  require
  mkdir -p "$(dirname "$prefix")"
  exec 9>"$prefix.lock"
  flock 9
  local stamp
  stamp="$(wine --version) $(sha256sum <"$dll_src" | cut -d' ' -f1)"
  if [ -f "$prefix/system.reg" ] && [ "$(cat "$prefix/.rolehop-stamp" 2>/dev/null)" = "$stamp" ]; then
    exec 9>&-
    return
  fi
  echo "wine.sh: preparing the Wine prefix $prefix" >&2
  rm -rf "$prefix"
  # wineboot returns before the server has written the registry; waiting
  # for the server to exit makes sure it has.
  wineboot -i >/dev/null 2>&1 || die "wineboot -i failed in $prefix (run it with WINEDEBUG=err+all to see why)"
  wineserver -w
  [ -d "$prefix/drive_c/windows/system32" ] || die "wineboot made no drive_c/windows/system32 in $prefix"
  x86_64-w64-mingw32-gcc -shared -O2 -s -Wall -o "$prefix/drive_c/windows/system32/bcryptprimitives.dll" "$dll_src" -ladvapi32 ||
    die "cannot build bcryptprimitives.dll from $dll_src"
  echo "$stamp" >"$prefix/.rolehop-stamp"
  exec 9>&-
}

# runtests PKG…: `go test -c` for windows/amd64 into one directory, then
# each binary under Wine in its package's directory (as go test does).
runtests() {
  [ $# -gt 0 ] || die "test: name the packages, e.g. ./internal/fsutil"
  local status=0
  ( prepare ) || status=$?
  if [ "$status" -eq 125 ]; then
    [ "${CI:-}" = true ] && { echo "wine.sh: Wine is required when CI=true" >&2; exit 1; }
    echo "wine.sh: SKIP: the Windows tests were not run (set CI=true to make this a failure)" >&2
    exit 0
  fi
  [ "$status" -eq 0 ] || exit "$status"
  # What earlier runs' tests left in the prefix's temp dir (a crash, a
  # kill), but nothing a run going on now may be using.
  find "$prefix"/drive_c/users/*/Temp -mindepth 1 -maxdepth 1 -mmin +60 -exec rm -rf {} + 2>/dev/null || true

  out=$(mktemp -d) # global: the EXIT trap runs after this function
  trap 'rm -rf "$out"' EXIT
  echo "wine.sh: building the Windows test binaries of $*"
  (cd "$root" && GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -o "$out/" "$@")

  local failed=() pkg dir name start rc
  for pkg in "$@"; do
    dir=$(cd "$root" && go list -f '{{.Dir}}' "$pkg")
    name=$(basename "$dir")
    [ -f "$out/$name.test.exe" ] || { echo "ok   $pkg [no test files]"; continue; }
    start=$SECONDS rc=0
    (cd "$dir" && wine "$out/$name.test.exe" -test.v -test.timeout=5m) >"$out/$name.log" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
      echo "ok   $pkg under Wine ($((SECONDS - start))s)"
    else
      grep -vE '^(=== (RUN|PAUSE|CONT|NAME) | *--- PASS: )' "$out/$name.log"
      echo "FAIL $pkg under Wine (exit $rc, $((SECONDS - start))s)"
      failed+=("$pkg")
    fi
  done

  # The skipped tests and why: the last line a test logged before its
  # "--- SKIP" line is its t.Skip message.
  echo "wine.sh: tests skipped under Wine:"
  for pkg in "$@"; do
    name=$(basename "$pkg")
    [ -f "$out/$name.log" ] || continue
    awk -v pkg="$pkg" '
      /^=== (RUN|CONT|NAME) / { test = $3; next }
      /^ *--- SKIP: / { printf "  %s %s: %s\n", pkg, $3, last[$3]; next }
      /^ +[^ -][^ ]*\.go:[0-9]+: / { line = $0; sub(/^ +/, "", line); last[test] = line }
    ' "$out/$name.log"
  done
  if [ ${#failed[@]} -gt 0 ]; then
    echo "wine.sh: FAIL under Wine: ${failed[*]}" >&2
    exit 1
  fi
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  prefix) prepare; echo "$prefix" ;;
  run)
    [ $# -gt 0 ] || die "run: name the program"
    prepare
    exec wine "$@"
    ;;
  test) runtests "$@" ;;
  *) die "usage: scripts/wine.sh prefix | run PROGRAM [ARG…] | test PKG…" ;;
esac
