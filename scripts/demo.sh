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

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
step "starting moto_server on 127.0.0.1:$port"
env -u MOTO_ACCOUNT_ID moto_server -H 127.0.0.1 -p "$port" >"$demo/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/moto-api/data.json" >/dev/null 2>&1 && break
  sleep 0.1
done

# Everything below talks to moto only, with a private HOME and AWS config.
export HOME="$demo" AWS_CONFIG_FILE="$demo/config" AWS_SHARED_CREDENTIALS_FILE="$demo/credentials"
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ENDPOINT_URL_STS="http://127.0.0.1:$port"
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ROLE_ARN

step "seeding moto: user ci-user in 111111111111, role dev in 111111111111, role prod in 222222222222"
# moto runs a call in the account its credentials belong to, so the seed
# assumes a bootstrap role in each account and creates resources with it.
as_account() { # ACCOUNT CMD...: run an aws command inside ACCOUNT
  local creds; creds=$(AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=seed \
    aws sts assume-role --role-arn "arn:aws:iam::$1:role/bootstrap" --role-session-name seed \
    --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
  shift
  read -r id secret token <<<"$creds"
  AWS_ACCESS_KEY_ID=$id AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$token "$@"
}
trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}'
as_account 111111111111 aws iam create-user --user-name ci-user >/dev/null
keys=$(as_account 111111111111 aws iam create-access-key --user-name ci-user \
  --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
read -r user_key user_secret <<<"$keys"
as_account 111111111111 aws iam create-role --role-name dev --assume-role-policy-document "$trust" >/dev/null
as_account 222222222222 aws iam create-role --role-name prod --assume-role-policy-document "$trust" >/dev/null

cat >"$demo/credentials" <<EOF
[base]
aws_access_key_id = $user_key
aws_secret_access_key = $user_secret
EOF
cat >"$demo/config" <<'EOF'
[profile dev]
role_arn = arn:aws:iam::111111111111:role/dev
source_profile = base

[profile prod]
role_arn = arn:aws:iam::222222222222:role/prod
source_profile = dev
role_session_name = demo
EOF
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

printf '\ndemo done: ci-user → dev (111111111111) → prod (222222222222)\n'
