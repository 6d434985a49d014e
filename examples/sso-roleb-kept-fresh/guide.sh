#!/usr/bin/env bash
# Guide: IAM Identity Center (SSO) RoleA → RoleB, kept fresh without a `watch` loop; many accounts.
# Seed: 002 (SSO の RoleA から RoleB へのロール連鎖、1 時間の上限、watch -n 3500 で default を更新).
#
# Needs: rolehop and the aws CLI on PATH; an IAM Identity Center user with a permission set
# (RoleA) in one account, and a role RoleB that RoleA may assume.
#
# Inputs (environment variables):
#   SSO_START_URL      your access portal (required), e.g. https://corp.awsapps.com/start
#   SSO_REGION         the Identity Center region (default: us-east-1)
#   SSO_SESSION        name of the [sso-session] written (default: corp)
#   ROLE_A_ACCOUNT_ID  account of the permission set (required), e.g. 111111111111
#   ROLE_A_NAME        the permission set, RoleA (required), e.g. Developer
#   ROLE_B_ARN         the role RoleA assumes, RoleB (required), e.g. arn:aws:iam::222222222222:role/RoleB
#   REGION             region of the profiles (default: SSO_REGION)
#   JOB_ROUNDS, JOB_INTERVAL  the "long job" of step 4: rounds of get-caller-identity and the
#                      seconds between them (default: 3 rounds, 10 s)
#   WATCH_SECONDS      how long step 5 lets `write --watch` run before stopping it (default: 0:
#                      stop after the first write)
#   MIN_TTL            rolehop --min-ttl for steps 4 and 5 (default: 5m)
#   PICK_FILTER        the filter the picker of step 7 starts with (default: ROLE_A_NAME)
#   WORK_DIR           where the guide writes its files (default: a new temporary directory)
#
# Your ~/.aws/config and ~/.aws/credentials are not changed: the guide's profiles go to
# $WORK_DIR/config and its credentials file is $WORK_DIR/credentials. The SSO token goes
# to ~/.aws/sso/cache, where the AWS CLI reads it too.
set -euo pipefail

# ---- helpers: say, show, run, need, need_tool, identity ----
# shellcheck source=../lib/helpers.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/helpers.sh"

# expiry prints the x_security_token_expires of [default] in the credentials file.
expiry() { awk '/^\[/ { s = ($0 == "[default]") } s && $1 == "x_security_token_expires" { print $3 }' "$AWS_SHARED_CREDENTIALS_FILE"; }

# ---- inputs ----
need_tool rolehop "go install github.com/rolehop/rolehop/cmd/rolehop@latest"
need_tool aws "install the AWS CLI"
need SSO_START_URL "your AWS access portal URL, e.g. https://corp.awsapps.com/start"
need ROLE_A_ACCOUNT_ID "the account of your permission set (RoleA), e.g. 111111111111"
need ROLE_A_NAME "your permission set (RoleA), e.g. Developer"
need ROLE_B_ARN "the role RoleA assumes (RoleB), e.g. arn:aws:iam::222222222222:role/RoleB"
SSO_REGION="${SSO_REGION:-us-east-1}"
SSO_SESSION="${SSO_SESSION:-corp}"
REGION="${REGION:-$SSO_REGION}"
JOB_ROUNDS="${JOB_ROUNDS:-3}"
JOB_INTERVAL="${JOB_INTERVAL:-10}"
WATCH_SECONDS="${WATCH_SECONDS:-0}"
MIN_TTL="${MIN_TTL:-5m}"
PICK_FILTER="${PICK_FILTER:-$ROLE_A_NAME}"
WORK_DIR="${WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/rolehop-guide.XXXXXX")}"
mkdir -p "$WORK_DIR"
umask 077
export AWS_CONFIG_FILE="$WORK_DIR/config" AWS_SHARED_CREDENTIALS_FILE="$WORK_DIR/credentials"
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

say "1. The chain as profiles: [sso-session $SSO_SESSION] → role-a (permission set $ROLE_A_NAME) → role-b"
cat >"$AWS_CONFIG_FILE" <<EOF
[sso-session $SSO_SESSION]
sso_start_url = $SSO_START_URL
sso_region = $SSO_REGION
sso_registration_scopes = sso:account:access

[profile role-a]
sso_session = $SSO_SESSION
sso_account_id = $ROLE_A_ACCOUNT_ID
sso_role_name = $ROLE_A_NAME
region = $REGION

[profile role-b]
role_arn = $ROLE_B_ARN
source_profile = role-a
region = $REGION
EOF
cat "$AWS_CONFIG_FILE"
run rolehop explain role-b

say "2. Sign in once (device code: open the URL shown, check the code, approve)"
run rolehop login role-b --use-device-code
run rolehop exec role-a -- aws sts get-caller-identity --query Arn --output text

say "3. RoleB through RoleA: one command, no copy-paste of credentials"
run rolehop exec role-b -- aws sts get-caller-identity --query Arn --output text

say "4. A long job that outlives RoleB's credentials (chained: 1 hour at most): exec --server"
cat >"$WORK_DIR/long-job.sh" <<'EOF'
# The job gets no keys, only a local credentials endpoint that rolehop keeps fresh;
# the AWS CLI and SDKs fetch from it again whenever their credentials near expiry.
for i in $(seq 1 "$JOB_ROUNDS"); do
	if [ "$i" -gt 1 ]; then sleep "$JOB_INTERVAL"; fi
	printf 'round %s: ' "$i"
	aws sts get-caller-identity --query Arn --output text
done
EOF
export JOB_ROUNDS JOB_INTERVAL
run rolehop exec --server role-b --min-ttl "$MIN_TTL" -- bash "$WORK_DIR/long-job.sh"

say "5. For tools that only read ~/.aws/credentials: write --watch keeps [default] fresh"
printf '%s &\n' "$(show rolehop write role-b --to default --watch --min-ttl "$MIN_TTL")"
rolehop write role-b --to default --watch --min-ttl "$MIN_TTL" &
watch_pid=$!
trap 'kill "$watch_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
	[ -n "$(expiry 2>/dev/null)" ] && break
	kill -0 "$watch_pid" 2>/dev/null || { echo "guide.sh: rolehop write --watch exited" >&2; exit 1; }
	sleep 0.2
done
[ -n "$(expiry 2>/dev/null)" ] || { echo "guide.sh: [default] was not written within 20 s" >&2; exit 1; }
last=$(expiry)
echo "[default] in $AWS_SHARED_CREDENTIALS_FILE expires at $last"
run aws --profile default sts get-caller-identity --query Arn --output text
end=$((SECONDS + WATCH_SECONDS))
while [ "$SECONDS" -lt "$end" ]; do
	sleep 0.5
	now=$(expiry)
	if [ -n "$now" ] && [ "$now" != "$last" ]; then
		echo "[default] rewritten: expires at $now"
		last=$now
	fi
done
if [ "$WATCH_SECONDS" -gt 0 ]; then run aws --profile default sts get-caller-identity --query Arn --output text; fi
echo "(leave it running all day instead; here it stops now)"
show kill "$watch_pid"
kill "$watch_pid"
wait "$watch_pid"
trap - EXIT

say "6. Many accounts: write a profile for every account and role you can reach"
run rolehop sso populate --sso-session "$SSO_SESSION"
grep '^\[profile ' "$AWS_CONFIG_FILE" | sed 's/^/  /'

say "7. Find one by typing: rolehop pick --filter \"$PICK_FILTER\""
if { : </dev/tty; } 2>/dev/null; then
	echo "(on the terminal: refine the filter, Up/Down, Enter to choose)"
else
	echo "(no terminal: the filter must match exactly one profile, and that one is chosen)"
fi
show rolehop pick --filter "$PICK_FILTER"
picked=$(rolehop pick --filter "$PICK_FILTER")
echo "picked: $picked"
run rolehop exec "$picked" -- aws sts get-caller-identity --query Arn --output text

say "Done. Files: $AWS_CONFIG_FILE, $AWS_SHARED_CREDENTIALS_FILE"
