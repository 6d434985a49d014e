#!/usr/bin/env bash
# Load-benchmarks `rolehop serve` (the container-credentials endpoint) with
# wrk, on loopback, after priming it from a private moto_server with the
# 2-hop cross-account profile `prod` (ci-user → dev → prod):
#   - the default server (one Go processor) at -t1 -c1, -t1 -c50, -t2 -c50;
#   - the same server started with GOMAXPROCS=2, at -t1 -c50 and -t2 -c50,
#     to show the effect of the single-processor default;
# each run prints req/s, latency p50/p90/p99/max, non-2xx answers and socket
# errors (both must be 0), then the servers' RSS after the runs and the
# targets. Not a test: it exits 0 unless something could not run or a
# request failed. These machines are shared; read the figures as rough.
# Usage: bench/endpoint.sh   (DURATION=5s per run; WRK=path to wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-5s}
wrk=${WRK:-wrk}

if ! command -v "$wrk" >/dev/null 2>&1; then
  cat >&2 <<'EOF'
bench/endpoint.sh: wrk (HTTP load generator) not found on PATH. Install it:
  Debian/Ubuntu: sudo apt-get install -y wrk
  Fedora:        sudo dnf install -y wrk
  macOS:         brew install wrk
  from source:   git clone https://github.com/wg/wrk && make -C wrk && cp wrk/wrk ~/bin/
or point WRK=/path/to/wrk at one.
EOF
  exit 1
fi
for tool in moto_server aws curl python3 ps; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench/endpoint.sh: $tool not found on PATH" >&2; exit 1; }
done

demo=$(mktemp -d)
moto_pid=""
serve_pids=()
cleanup() {
  local pid
  for pid in "${serve_pids[@]}"; do
    kill -INT "$pid" 2>/dev/null || true
  done
  for pid in "${serve_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$moto_pid" ]; then
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
  fi
  rm -rf "$demo"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

go build -o "$demo/rolehop" ./cmd/rolehop
# shellcheck source=scripts/lib/moto.sh
. scripts/lib/moto.sh
start_moto
seed_chain
rolehop=$demo/rolehop

# start_serve NAME [VAR=VALUE...]: starts `rolehop serve prod` on a free
# loopback port with the given environment (GOMAXPROCS removed unless given),
# waits until it serves, and sets serve_pid, url and token.
start_serve() {
  local name=$1 out err
  shift
  out=$demo/$name.out err=$demo/$name.err
  env -u GOMAXPROCS "$@" "$rolehop" serve prod --addr 127.0.0.1:0 >"$out" 2>"$err" &
  serve_pid=$!
  serve_pids+=("$serve_pid")
  for _ in $(seq 200); do
    grep -q '^rolehop: serving ' "$err" 2>/dev/null && grep -q "^export AWS_CONTAINER_AUTHORIZATION_TOKEN=" "$out" && break
    kill -0 "$serve_pid" 2>/dev/null || { echo "rolehop serve ($name) exited:" >&2; cat "$err" >&2; exit 1; }
    sleep 0.1
  done
  url=$(sed -n "s/^export AWS_CONTAINER_CREDENTIALS_FULL_URI='\(.*\)'\$/\1/p" "$out")
  token=$(sed -n "s/^export AWS_CONTAINER_AUTHORIZATION_TOKEN='\(.*\)'\$/\1/p" "$out")
  case $url in
    http://127.0.0.1:*/v1/credentials/prod) ;;
    *) echo "rolehop serve ($name) did not print a loopback URL:" >&2; cat "$out" "$err" >&2; exit 1 ;;
  esac
  [ -n "$token" ] || { echo "rolehop serve ($name) printed no token" >&2; exit 1; }
  # One real request first: the answer must be credentials.
  curl -sf -H "Authorization: $token" "$url" | grep -q '"AccessKeyId":"' ||
    { echo "rolehop serve ($name): GET $url did not answer credentials" >&2; exit 1; }
}

# wrk prints one machine-readable line at the end (latencies in µs).
cat >"$demo/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d %.0f %.0f %.0f %.0f\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
LUA

failed_requests=0
# run LABEL THREADS CONNS: one wrk run against $url with $token; prints a
# row and sets rps, p50, p99 (µs).
run() {
  local label=$1 threads=$2 conns=$3 line
  local requests dur_us e_conn e_read e_write e_status e_timeout p90 max socket
  line=$("$wrk" -t"$threads" -c"$conns" -d"$duration" --timeout 2s --latency \
    -H "Authorization: $token" -s "$demo/report.lua" "$url" | tee -a "$demo/wrk.log" | grep '^RESULT ') ||
    { echo "wrk failed:" >&2; cat "$demo/wrk.log" >&2; exit 1; }
  read -r _ requests dur_us e_conn e_read e_write e_status e_timeout p50 p90 p99 max <<<"$line"
  socket=$(( e_conn + e_read + e_write + e_timeout ))
  failed_requests=$(( failed_requests + e_status + socket ))
  rps=$(( requests * 1000000 / dur_us ))
  printf '  %-16s %-8s %9d %8s %8s %8s %8s %8d %8d%s\n' "$label" "-t$threads -c$conns" "$rps" \
    "$(us "$p50")" "$(us "$p90")" "$(us "$p99")" "$(us "$max")" "$e_status" "$socket" \
    "$([ $(( e_status + socket )) -eq 0 ] || echo '  <- must be 0')"
}

# us MICROSECONDS: "85us" below 1 ms, else "1.62ms".
us() {
  if [ "$1" -lt 1000 ]; then echo "${1}us"; else awk -v u="$1" 'BEGIN { printf "%.2fms", u / 1000 }'; fi
}

rss_mib() { awk -v k="$(ps -o rss= -p "$1")" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

start_serve default
default_pid=$serve_pid default_url=$url default_token=$token
start_serve gomaxprocs2 GOMAXPROCS=2
max2_pid=$serve_pid max2_url=$url max2_token=$token

echo "rolehop serve under wrk: GET /v1/credentials/prod with the token, keep-alive, $duration per run"
echo "($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $("$wrk" -v 2>&1 | head -1 | cut -d' ' -f1-2); wrk shares the cores with the server)"
printf '  %-16s %-8s %9s %8s %8s %8s %8s %8s %8s\n' server wrk 'req/s' p50 p90 p99 max non-2xx 'sock err'
url=$default_url token=$default_token
run "default (1 P)" 1 1;  c1_p50=$p50
run "default (1 P)" 1 50; c50_rps=$rps c50_p99=$p99
run "default (1 P)" 2 50; c50t2_rps=$rps c50t2_p99=$p99
url=$max2_url token=$max2_token
run "GOMAXPROCS=2" 1 50;  m2_rps=$rps m2_p99=$p99
run "GOMAXPROCS=2" 2 50;  m2t2_rps=$rps m2t2_p99=$p99
echo "  RSS after the runs: default $(rss_mib "$default_pid"), GOMAXPROCS=2 $(rss_mib "$max2_pid")"

verdict() { if [ "$1" -eq 1 ]; then echo MET; else echo MISSED; fi; }
echo "targets (default server):"
printf '  >= 50,000 req/s at 50 connections:  %-6s (-t1 -c50: %d, -t2 -c50: %d req/s)\n' \
  "$(verdict $(( c50_rps >= 50000 && c50t2_rps >= 50000 )))" "$c50_rps" "$c50t2_rps"
printf '  p99 < 2 ms at 50 connections:       %-6s (-t1 -c50: %s, -t2 -c50: %s)\n' \
  "$(verdict $(( c50_p99 < 2000 && c50t2_p99 < 2000 )))" "$(us "$c50_p99")" "$(us "$c50t2_p99")"
printf '  p50 < 80 µs on one connection:      %-6s (%s)\n' "$(verdict $(( c1_p50 < 80 )))" "$(us "$c1_p50")"
printf '  for comparison, GOMAXPROCS=2 at 50 connections: %d / %d req/s, p99 %s / %s (-t1 / -t2)\n' \
  "$m2_rps" "$m2t2_rps" "$(us "$m2_p99")" "$(us "$m2t2_p99")"
printf '  non-2xx answers + socket errors over all runs: %d (must be 0)\n' "$failed_requests"
[ "$failed_requests" -eq 0 ]
