# Shared by scripts/demo.sh and bench/*.sh: start a private moto_server and
# seed a 2-account chain in it. Source this file after `set -euo pipefail`
# with $demo set to a temp dir; the caller kills $moto_pid on exit.
# Sets: moto_pid, port, user_key, user_secret.

# start_moto: starts moto_server on a free loopback port and points this
# shell's AWS environment at it, with a private HOME and config files.
start_moto() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  env -u MOTO_ACCOUNT_ID moto_server -H 127.0.0.1 -p "$port" >"$demo/moto.log" 2>&1 &
  moto_pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/moto-api/data.json" >/dev/null 2>&1 && break
    sleep 0.1
  done
  export HOME="$demo" AWS_CONFIG_FILE="$demo/config" AWS_SHARED_CREDENTIALS_FILE="$demo/credentials"
  export ROLEHOP_CACHE_DIR="$demo/cache"
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ENDPOINT_URL_STS="http://127.0.0.1:$port"
  export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
  unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ROLE_ARN
}

# seed_chain: user ci-user (with an access key) and role dev in 111111111111,
# role prod in 222222222222; writes [base] with ci-user's keys and the
# profiles dev (base → dev) and prod (dev → prod).
seed_chain() {
  local trust keys
  trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}'
  as_account 111111111111 aws iam create-user --user-name ci-user >/dev/null
  keys=$(as_account 111111111111 aws iam create-access-key --user-name ci-user \
    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
  read -r user_key user_secret <<<"$keys"
  as_account 111111111111 aws iam create-role --role-name dev --assume-role-policy-document "$trust" >/dev/null
  as_account 222222222222 aws iam create-role --role-name prod --assume-role-policy-document "$trust" >/dev/null
  printf '[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$user_key" "$user_secret" >"$AWS_SHARED_CREDENTIALS_FILE"
  cat >"$AWS_CONFIG_FILE" <<'CONFIG'
[profile dev]
role_arn = arn:aws:iam::111111111111:role/dev
source_profile = base

[profile prod]
role_arn = arn:aws:iam::222222222222:role/prod
source_profile = dev
role_session_name = demo
CONFIG
}

# as_account ACCOUNT CMD...: runs CMD with credentials of ACCOUNT. moto runs a
# call in the account its credentials belong to, so this assumes a bootstrap
# role there first (moto accepts any role ARN).
as_account() {
  local creds id secret token
  creds=$(AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=seed \
    aws sts assume-role --role-arn "arn:aws:iam::$1:role/bootstrap" --role-session-name seed \
    --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
  shift
  read -r id secret token <<<"$creds"
  AWS_ACCESS_KEY_ID=$id AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$token "$@"
}
