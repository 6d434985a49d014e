#!/usr/bin/env bash
# Benchmarks rolehop against the shell glue it replaces, on a private
# moto_server: the time to obtain credentials for a 2-hop cross-account chain
# (ci-user → dev → prod), cold: rolehop runs with --no-cache, so every run
# makes both AssumeRole calls. Prints mean wall time per run and ratios; these
# machines are shared, so read the figures as rough. Usage: bench/run.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
demo=$(mktemp -d)
moto_pid=""
trap '[ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null; rm -rf "$demo"' EXIT

go build -o "$demo/rolehop" ./cmd/rolehop
# shellcheck source=scripts/lib/moto.sh
. scripts/lib/moto.sh
start_moto
seed_chain

# mean_ms N CMD...: mean wall time of N runs of CMD, in milliseconds.
mean_ms() {
  local runs=$1; shift
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$@" >/dev/null; done
  end=$(date +%s%N)
  echo $(( (end - start) / runs / 1000000 ))
}

# The glue from the seeds: two `aws sts assume-role` calls, parsing each
# answer into the next call's environment.
glue() {
  local c1 c2 id secret token
  c1=$(AWS_PROFILE=base aws sts assume-role --role-arn arn:aws:iam::111111111111:role/dev --role-session-name demo \
    --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
  read -r id secret token <<<"$c1"
  c2=$(AWS_ACCESS_KEY_ID=$id AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$token aws sts assume-role \
    --role-arn arn:aws:iam::222222222222:role/prod --role-session-name demo --output json)
  echo "$c2"
}

# The AWS CLI's own chain, with its ~/.aws/cli/cache emptied each time.
cli_chain() { rm -rf "$HOME/.aws/cli/cache"; aws sts get-caller-identity --profile prod; }

glue_n=$(( n / 4 > 2 ? n / 4 : 2 ))
echo "2-hop chain on moto_server, mean of N runs (machine: $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
rh=$(mean_ms "$n" "$demo/rolehop" credential-process prod --no-cache)
rx=$(mean_ms "$n" "$demo/rolehop" exec prod --no-cache -- true)
gl=$(mean_ms "$glue_n" glue)
cc=$(mean_ms "$glue_n" cli_chain)
printf '%-58s %6s ms  (N=%d)\n' "rolehop credential-process prod --no-cache" "$rh" "$n"
printf '%-58s %6s ms  (N=%d)\n' "rolehop exec prod --no-cache -- true" "$rx" "$n"
printf '%-58s %6s ms  (N=%d)\n' "shell glue: 2x aws sts assume-role" "$gl" "$glue_n"
printf '%-58s %6s ms  (N=%d)\n' "aws sts get-caller-identity --profile prod (no CLI cache)" "$cc" "$glue_n"
awk -v a="$gl" -v b="$rh" -v c="$cc" 'BEGIN { if (b > 0) printf "ratio: glue / rolehop = %.1fx, aws CLI chain / rolehop = %.1fx\n", a / b, c / b }'
