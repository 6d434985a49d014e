#!/usr/bin/env bash
# What the trust rule (internal/fsutil/trust.go) costs on the warm path: the
# cache directory resolved component by component, opened by handle and
# checked, the entry checked before and on the open file, the config and
# credentials files checked on their open file.
#
# Builds rolehop at HEAD and at BASE (default c0cc824, the last commit
# before the rule), warms one cache for the 2-hop profile `prod` on a private
# moto_server, then prints for each binary:
#   - instructions of a warm `credential-process prod` (valgrind
#     --tool=callgrind, median of 5: about the same count on a loaded
#     machine);
#   - median / p90 wall time of N warm runs, the two binaries alternating.
# Not a test: it prints figures and ratios and exits 0 unless something
# could not run. Usage: bench/trust.sh [N] [BASE]   (N default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
base=${2:-c0cc824}
demo=$(mktemp -d)
moto_pid=""
cleanup() {
  [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null
  git worktree remove --force "$demo/base-src" 2>/dev/null || true
  rm -rf "$demo"
}
trap cleanup EXIT
command -v valgrind >/dev/null || { echo "bench/trust.sh: valgrind not found (apt-get install valgrind)" >&2; exit 1; }

go build -o "$demo/rolehop-head" ./cmd/rolehop
git worktree add -q --detach "$demo/base-src" "$base"
(cd "$demo/base-src" && go build -o "$demo/rolehop-base" ./cmd/rolehop)
# shellcheck source=scripts/lib/moto.sh
. scripts/lib/moto.sh
start_moto
seed_chain
"$demo/rolehop-head" credential-process prod >/dev/null # warm: both read the same entries

# Go's asynchronous preemption signals trip callgrind (an assertion in its
# signal handling); the count is the same without them.
# The Go runtime (GC, scheduling) moves the count by a percent or two from
# run to run: the median of 5 is printed.
instructions() {
  for _ in 1 2 3 4 5; do
    GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file="$demo/cg.out" "$@" >/dev/null 2>"$demo/cg.log"
    awk '/^summary:/ {print $2}' "$demo/cg.out"
  done | sort -n | sed -n 3p
}

cat >"$demo/alternate.py" <<'PY'
import subprocess, sys, time
n, a, b = int(sys.argv[1]), sys.argv[2], sys.argv[3]
run = lambda bin: subprocess.run([bin, "credential-process", "prod"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
ts = {a: [], b: []}
for bin in (a, b, a, b):
    run(bin)
for _ in range(n):
    for bin in (a, b):
        t0 = time.perf_counter_ns()
        run(bin)
        ts[bin].append(time.perf_counter_ns() - t0)
for bin in (a, b):
    s = sorted(ts[bin])
    print(f"{(s[(n - 1) // 2] + s[n // 2]) / 2e6:.2f} {s[min(n - 1, int(0.9 * n))] / 1e6:.2f}")
PY

ih=$(instructions "$demo/rolehop-head" credential-process prod)
ib=$(instructions "$demo/rolehop-base" credential-process prod)
read -r times_head times_base < <(python3 "$demo/alternate.py" "$n" "$demo/rolehop-head" "$demo/rolehop-base" | paste -sd' ' | awk '{print $1"/"$2, $3"/"$4}')
load=$(cut -d' ' -f1 /proc/loadavg)

echo "warm \`rolehop credential-process prod\` (2 hops from the cache), $n runs each, alternating; load $load"
printf '%-28s %16s %22s\n' "binary" "instructions" "median / p90 (ms)"
printf '%-28s %16s %22s\n' "HEAD (trust rule)" "$ih" "$times_head"
printf '%-28s %16s %22s\n' "$base (before)" "$ib" "$times_base"
awk -v h="$ih" -v b="$ib" 'BEGIN { printf "instructions: HEAD / before = %.3f (%+d)\n", h / b, h - b }'
