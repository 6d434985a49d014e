#!/usr/bin/env bash
# The credentials endpoint under abuse, in bigger rounds than the tests run
# in CI: prints the figures of
#   1. test/e2e TestServeAbuse — the real `rolehop serve prod` (primed from
#      moto through the 2-hop chain) started with an open-file limit of
#      NOFILE (default 256, so the idle connections outnumber the process's
#      descriptors), then again with the default limit (NOFILE=0) and
#      IDLE_DEFAULT idle connections a round: every kind of abuse at once
#      while a good client polls (a fresh and a keep-alive connection in
#      turn, and aws-sdk-go-v2's container provider signing a
#      GetCallerIdentity every 25th request); per round the good client's
#      requests, failures and latency, the requests per kind of abuse, the
#      server's RSS before / during / after (VmRSS from /proc) and its open
#      files;
#   2. internal/endpoint TestAbuse — the same in-process with shortened
#      timeouts, the heap (runtime HeapInuse) instead of RSS.
# The tests assert only outcomes (no failed good request, every abuser
# refused or closed, RSS or heap < 100 MiB and not growing); the timings
# here are printed, not asserted: these machines are shared, read them with
# the load printed next to them.
# Usage: bench/endpoint-abuse.sh   (ROUNDS=6 ROUND_MS=5000 IDLE=1000
#        NOFILE=256 IDLE_DEFAULT=2000 UNIT_ROUNDS=5)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-6}
round_ms=${ROUND_MS:-5000}
idle=${IDLE:-1000}
nofile=${NOFILE:-256}
idle_default=${IDLE_DEFAULT:-2000}
unit_rounds=${UNIT_ROUNDS:-5}
for tool in go moto_server aws; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench/endpoint-abuse.sh: $tool not found on PATH" >&2; exit 1; }
done

# figures NAME CMD...: runs a go test command, prints its ABUSE lines (and
# the failures, if any) and its result.
status=0
figures() {
  local name=$1 out
  shift
  echo "== $name (load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
  echo "   \$ $*"
  out=$("$@" 2>&1) || status=1
  grep -E 'ABUSE|--- FAIL|^(ok|FAIL)\b|_test.go:[0-9]+: (round|good|serve)' <<<"$out" | grep -v '^=== ' |
    sed -E 's/^ *[a-z_]+_test\.go:[0-9]+: /   /' || true
  echo
}

figures "rolehop serve, open-file limit $nofile" \
  env CI=true E2E_ABUSE_ROUNDS="$rounds" E2E_ABUSE_ROUND_MS="$round_ms" E2E_ABUSE_IDLE="$idle" E2E_ABUSE_NOFILE="$nofile" \
  go test -count=1 -timeout 10m -run '^TestServeAbuse$' -v ./test/e2e
figures "rolehop serve, the default open-file limit ($(ulimit -n))" \
  env CI=true E2E_ABUSE_ROUNDS="$rounds" E2E_ABUSE_ROUND_MS="$round_ms" E2E_ABUSE_IDLE="$idle_default" E2E_ABUSE_NOFILE=0 \
  go test -count=1 -timeout 10m -run '^TestServeAbuse$' -v ./test/e2e
figures "in-process endpoint (shortened timeouts, heap)" \
  env ABUSE_ROUNDS="$unit_rounds" ABUSE_ROUND_MS="$round_ms" ABUSE_IDLE="$idle" \
  go test -count=1 -timeout 10m -run '^TestAbuse$' -v ./internal/endpoint
exit $status
