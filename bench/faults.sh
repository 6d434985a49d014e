#!/usr/bin/env bash
# Fault-injection figures for the reliability report: runs the end-to-end
# fault tests (test/e2e/faults_test.go: every STS and IAM Identity Center
# fault against credential-process, export, exec, serve and write --watch)
# and prints, per scenario, how many faults were injected, the outcome, the
# attempts seen at the proxy and the time to report. The times are one run
# on a shared machine and include the retryer's random backoff: read them as
# rough. Usage: bench/faults.sh [extra go test flags]
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
go test ./test/e2e -run '^TestFaults' -count=1 -v "$@" >"$log" 2>&1 || { cat "$log"; exit 1; }
# The table (markdown rows) and the serve / write --watch lines.
sed -n 's/^ *\(|.*|\)$/\1/p' "$log"
echo
grep -E 'faults_test.go:[0-9]+: (serve|write --watch), ' "$log" | sed 's/^ *faults_test.go:[0-9]*: //'
