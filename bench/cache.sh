#!/usr/bin/env bash
# Benchmarks rolehop's credential cache on a private moto_server, for the
# 2-hop cross-account profile `prod` (ci-user → dev → prod):
#   - warm-path wall time (median and p90 of N fork/exec/wait runs, timed by a
#     small Python harness) of rolehop next to a no-op Go binary, `true`,
#     botocore reading its own JSONFileCache and the AWS CLI;
#   - STS AssumeRole calls made by 50 concurrent cold processes: rolehop
#     (single-flight, 1 per hop expected) vs botocore sharing one
#     JSONFileCache directory (no locking: up to 2 per process).
# Not a test: it prints figures, ratios and the targets, and exits 0 unless
# something could not run. These machines are shared; read figures as rough.
# Usage: bench/cache.sh [N]   (N = runs of the fast commands, default 200;
# botocore and the AWS CLI get N/10, at least 10). CONC=50 sets the number of
# concurrent cold processes.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
slow_n=$(( n / 10 > 10 ? n / 10 : 10 ))
conc=${CONC:-50}
demo=$(mktemp -d)
moto_pid=""
trap '[ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null; rm -rf "$demo"' EXIT

go build -o "$demo/rolehop" ./cmd/rolehop
go build -o "$demo/noop" ./bench/noop
# shellcheck source=scripts/lib/moto.sh
. scripts/lib/moto.sh
start_moto
seed_chain
rolehop=$demo/rolehop

# timeit.py N CMD...: runs CMD N times (after 3 warm-up runs), each timed
# from fork to wait; prints "median_ms p90_ms". Fails if a run fails.
cat >"$demo/timeit.py" <<'PY'
import subprocess, sys, time
n, cmd = int(sys.argv[1]), sys.argv[2:]
run = lambda: subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
for _ in range(3):
    run()
ts = []
for _ in range(n):
    t0 = time.perf_counter_ns()
    run()
    ts.append(time.perf_counter_ns() - t0)
ts.sort()
median = (ts[(n - 1) // 2] + ts[n // 2]) / 2
p90 = ts[min(n - 1, int(0.9 * n))]
print(f"{median / 1e6:.2f} {p90 / 1e6:.2f}")
PY

# herd.py N CMD...: starts N copies of CMD held at a barrier (a FIFO they
# all open), releases them at once, waits; prints "failures distinct_outputs
# wall_ms".
cat >"$demo/herd.py" <<'PY'
import os, subprocess, sys, tempfile, time
n, cmd = int(sys.argv[1]), sys.argv[2:]
fifo = os.path.join(tempfile.mkdtemp(), "go")
os.mkfifo(fifo)
procs = [subprocess.Popen(["sh", "-c", ': < "$0"; exec "$@"', fifo, *cmd],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(n)]
time.sleep(1.0)  # let every child reach the barrier
fd = os.open(fifo, os.O_RDWR)  # a writer appears: every blocked open returns
t0 = time.perf_counter()
outs = [p.communicate() for p in procs]
wall = (time.perf_counter() - t0) * 1000
os.close(fd)
failures = sum(1 for p in procs if p.returncode != 0)
for p, (out, err) in zip(procs, outs):
    if p.returncode != 0:
        sys.stderr.write(err.decode(errors="replace")[:300] + "\n")
        break
print(failures, len({o for o, _ in outs}), f"{wall:.0f}")
PY

# botocore resolving prod the way the AWS CLI sets it up: the assume-role
# provider with a JSONFileCache (~/.aws/boto/cache here).
cat >"$demo/boto_creds.py" <<'PY'
import botocore.session, botocore.utils
s = botocore.session.Session(profile="prod")
s.get_component("credential_provider").get_provider("assume-role").cache = botocore.utils.JSONFileCache()
c = s.get_credentials().get_frozen_credentials()
print(c.access_key)
PY
boto_cache=$HOME/.aws/boto/cache

# assumed: moto's count of successful AssumeRole calls so far.
assumed() {
  curl -sf "http://127.0.0.1:$port/moto-api/data.json" |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)["sts"]["AssumedRole"]))'
}

# Warm every cache once.
"$rolehop" credential-process prod >/dev/null
python3 "$demo/boto_creds.py" >/dev/null
aws sts get-caller-identity --profile prod >/dev/null

echo "rolehop cache benchmark: 2-hop chain prod on moto_server ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
echo "warm path, wall time per run from fork to wait (Python timer), median / p90:"
before=$(assumed)
row() { # row LABEL RUNS CMD... → prints a row, sets $median
  local label=$1 runs=$2 out
  shift 2
  out=$(python3 "$demo/timeit.py" "$runs" "$@")
  median=${out% *}
  printf '  %-70s %8s ms %8s ms  (N=%d)\n' "$label" "$median" "${out#* }" "$runs"
}
row "no-op Go binary" "$n" "$demo/noop"; noop=$median
row "true" "$n" true
row "rolehop credential-process prod (warm)" "$n" "$rolehop" credential-process prod; rh=$median
row "rolehop exec prod -- true (warm)" "$n" "$rolehop" exec prod -- true; rx=$median
row "botocore get_frozen_credentials, JSONFileCache (warm)" "$slow_n" python3 "$demo/boto_creds.py"; bc=$median
row "aws sts get-caller-identity --profile prod (warm; +1 moto round trip)" "$slow_n" aws sts get-caller-identity --profile prod; cli=$median
after=$(assumed)
echo "  AssumeRole calls during the warm runs: $(( after - before )) (want 0)"

awk -v rh="$rh" -v rx="$rx" -v noop="$noop" -v bc="$bc" -v cli="$cli" 'BEGIN {
  printf "ratios: rolehop warm / no-op Go = %.2fx (exec: %.2fx); botocore / rolehop = %.0fx; aws CLI / rolehop = %.0fx\n", rh / noop, rx / noop, bc / rh, cli / rh
  printf "target: warm credential-process median < 5 ms: %s (%.2f ms)\n", (rh < 5 ? "MET" : "MISSED"), rh
  printf "target: warm credential-process <= 3x no-op Go: %s (%.2fx)\n", (rh <= 3 * noop ? "MET" : "MISSED"), rh / noop
}'

echo "$conc concurrent COLD processes, AssumeRole calls counted by moto (GET /moto-api/data.json):"
rm -rf "$ROLEHOP_CACHE_DIR"
before=$(assumed)
read -r fail distinct wall < <(python3 "$demo/herd.py" "$conc" "$rolehop" credential-process prod)
after=$(assumed)
rh_calls=$(( after - before ))
printf '  %-44s %4d AssumeRole calls (target 2 = 1 per hop: %s); %d failed, %d distinct outputs, %s ms\n' \
  "rolehop credential-process prod" "$rh_calls" "$([ "$rh_calls" -eq 2 ] && echo MET || echo MISSED)" "$fail" "$distinct" "$wall"
rm -rf "$boto_cache"
before=$(assumed)
read -r fail distinct wall < <(python3 "$demo/herd.py" "$conc" python3 "$demo/boto_creds.py")
after=$(assumed)
printf '  %-44s %4d AssumeRole calls (up to %d); %d failed, %d distinct access keys, %s ms\n' \
  "botocore, one shared JSONFileCache dir" "$(( after - before ))" "$(( 2 * conc ))" "$fail" "$distinct" "$wall"
