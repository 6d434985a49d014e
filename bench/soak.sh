#!/usr/bin/env bash
# Runs rolehop's reliability soaks (test/soak) at the report size and prints
# their figures as Markdown tables (for docs/RELIABILITY.md):
#   - crash soak: rolehop SIGKILLed at random moments, SOAK_CRASH_ITERATIONS
#     times, on a cold and a forced-refresh cache, with and without the
#     credentials-file write; every file checked after every kill;
#   - concurrency soak: SOAK_PROCS rolehop processes at once for
#     SOAK_DURATION (credential-process, exec, write --to, cache clear on
#     three chains sharing their first hop); AssumeRole calls against the
#     single-flight bound.
# Both run against the real binary, a private moto_server and a recording
# proxy (the tests start them). CI runs the same tests at a smaller size
# (go test ./..., about 20 s each). Exits non-zero when a soak fails.
# Usage: bench/soak.sh   (report size: SOAK_CRASH_ITERATIONS=1000
#        SOAK_PROCS=150 SOAK_DURATION=120s; override any of them)
set -euo pipefail
cd "$(dirname "$0")/.."
export SOAK_CRASH_ITERATIONS=${SOAK_CRASH_ITERATIONS:-1000}
export SOAK_CRASH_BUDGET=${SOAK_CRASH_BUDGET:-0}
export SOAK_PROCS=${SOAK_PROCS:-150}
export SOAK_DURATION=${SOAK_DURATION:-120s}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOAK_REPORT=$work/report.md

echo "# rolehop soaks — $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(go env GOVERSION), $(nproc) cores"
echo "SOAK_CRASH_ITERATIONS=$SOAK_CRASH_ITERATIONS SOAK_CRASH_BUDGET=$SOAK_CRASH_BUDGET SOAK_PROCS=$SOAK_PROCS SOAK_DURATION=$SOAK_DURATION"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
status=0
go test ./test/soak -run '^(TestCrashSoak|TestConcurrencySoak)$' -count=1 -timeout 60m -v >"$work/log" 2>&1 || status=$?
[ -f "$SOAK_REPORT" ] && cat "$SOAK_REPORT"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -E '^(--- (PASS|FAIL|SKIP)|FAIL|ok )' "$work/log" || true
if [ "$status" -ne 0 ]; then
  echo
  echo "soak failed (exit $status); test output:"
  grep -vE '^=== (RUN|PAUSE|CONT)' "$work/log" | head -200
fi
exit "$status"
