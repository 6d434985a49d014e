#!/usr/bin/env bash
# rolehop demo: builds rolehop, starts a local moto_server (a real STS/IAM
# emulator), creates user ci-user in account 111111111111 and roles dev
# (111111111111) and prod (222222222222), then walks the 2-hop chain
# ci-user → dev → prod with rolehop and shows the identity at each step.
# Nothing touches your ~/.aws or real AWS: everything lives in a temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in go moto_server aws python3; do
  command -v "$tool" >/dev/null || { echo "demo: $tool is not on PATH (see README: Requirements)" >&2; exit 1; }
done

demo=$(mktemp -d)
moto_pid=""
cleanup() { [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null; rm -rf "$demo"; }
trap cleanup EXIT

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "building rolehop"
go build -o "$demo/bin/rolehop" ./cmd/rolehop
export PATH="$demo/bin:$PATH"

# shellcheck source=scripts/lib/moto.sh
. scripts/lib/moto.sh
step "starting a private moto_server"
start_moto
echo "moto_server on 127.0.0.1:$port (log: $demo/moto.log)"

step "seeding moto: user ci-user in 111111111111, role dev in 111111111111, role prod in 222222222222"
seed_chain
step "the AWS config used (~/.aws/config); [base] in ~/.aws/credentials holds ci-user's keys"
cat "$demo/config"

step "1. the source: ci-user's own keys"
show aws sts get-caller-identity --profile base --query Arn --output text

step "2. what rolehop will do, without calling AWS"
show rolehop explain prod

step "3. run a program as prod (two hops, two accounts)"
show rolehop exec prod -- aws sts get-caller-identity --query Arn --output text

step "4. the identity and expiry of the final credentials"
show rolehop whoami prod

step "5. the CI pitfall: access keys in env vars + AWS_PROFILE=prod"
export AWS_ACCESS_KEY_ID=$user_key AWS_SECRET_ACCESS_KEY=$user_secret AWS_PROFILE=prod
echo "# the AWS CLI silently uses the env keys and never assumes the role:"
show aws sts get-caller-identity --query Arn --output text
echo "# rolehop assumes the role the profile names:"
show rolehop exec -- aws sts get-caller-identity --query Arn --output text
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_PROFILE

step "6. export lines for a shell (secrets shortened here)"
rolehop export prod | sed -E "/SECRET|TOKEN/s/='(.{4}).*'$/='\1…'/"
eval "$(rolehop export prod)"
show aws sts get-caller-identity --query Arn --output text

step "7. the trust policy prod needs, and the permission policy of its caller (role dev)"
show rolehop policy prod --hop 2 --document trust
show rolehop policy prod --hop 2 --document permission

step "8. check every step of the chain against STS"
show rolehop doctor prod

printf '\ndemo done: ci-user → dev (111111111111) → prod (222222222222)\n'
