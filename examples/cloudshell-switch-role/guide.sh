#!/usr/bin/env bash
# Guide: switch role from AWS CloudShell (or any ECS task) into another account, with MFA.
# Seed: 000 (CloudShell からクロスアカウントのスイッチロール: credential_source = EcsContainer).
#
# Needs: rolehop and the aws CLI on PATH; the container credentials endpoint that CloudShell
# and ECS provide (AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]).
#
# Inputs (environment variables):
#   TARGET_ROLE_ARN  the role to switch to (required), e.g. arn:aws:iam::999999999999:role/admin
#   MFA_SERIAL       your MFA device (required), e.g. arn:aws:iam::555555555555:mfa/me
#   MFA_CODE         the current 6-digit code (default: rolehop asks on the terminal)
#   SESSION_NAME     the session name CloudTrail shows (default: rolehop-$USER)
#   PROFILE_NAME     name of the profile written in step 3 (default: prod)
#   WORK_DIR         where the guide writes its files (default: a new temporary directory)
#
# Nothing in ~/.aws is changed: the profile goes to $WORK_DIR/config.
set -euo pipefail

# ---- helpers: say, show, run, need, need_tool, identity ----
# shellcheck source=../lib/helpers.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/helpers.sh"

# ---- inputs ----
need_tool rolehop "go install github.com/rolehop/rolehop/cmd/rolehop@latest"
need_tool aws "install the AWS CLI"
need TARGET_ROLE_ARN "the role to switch to, e.g. arn:aws:iam::999999999999:role/admin"
need MFA_SERIAL "your MFA device ARN, e.g. arn:aws:iam::555555555555:mfa/me"
if [ -z "${AWS_CONTAINER_CREDENTIALS_FULL_URI:-}${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI:-}" ]; then
	echo "guide.sh: set AWS_CONTAINER_CREDENTIALS_FULL_URI: run this in AWS CloudShell or an ECS task (the container credentials endpoint)" >&2
	exit 2
fi
SESSION_NAME="${SESSION_NAME:-rolehop-${USER:-$(id -un)}}"
PROFILE_NAME="${PROFILE_NAME:-prod}"
WORK_DIR="${WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/rolehop-guide.XXXXXX")}"
mkdir -p "$WORK_DIR"
umask 077
mfa=()
if [ -n "${MFA_CODE:-}" ]; then mfa=(--token-code "$MFA_CODE"); fi

say "1. Who am I in CloudShell? The container endpoint's credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI)"
identity

say "2. Switch role ad hoc: rolehop exec --role-arn … --serial-number … (the container endpoint is the source)"
run rolehop exec --role-arn "$TARGET_ROLE_ARN" --serial-number "$MFA_SERIAL" ${mfa[@]+"${mfa[@]}"} \
	--role-session-name "$SESSION_NAME" -- aws sts get-caller-identity --query Arn --output text

say "3. The profile form of the seed (credential_source = EcsContainer), in $WORK_DIR/config"
cat >"$WORK_DIR/config" <<EOF
[profile $PROFILE_NAME]
role_arn = $TARGET_ROLE_ARN
credential_source = EcsContainer
mfa_serial = $MFA_SERIAL
role_session_name = $SESSION_NAME
EOF
cat "$WORK_DIR/config"
export AWS_CONFIG_FILE="$WORK_DIR/config"
echo "(same role, session name and source as step 2: rolehop serves it from its cache, no second MFA code)"
run rolehop exec "$PROFILE_NAME" ${mfa[@]+"${mfa[@]}"} -- aws sts get-caller-identity --query Arn --output text

say "4. What rolehop resolved, without calling AWS: source, hop, MFA path"
run rolehop explain "$PROFILE_NAME"

say "5. The trust policy $TARGET_ROLE_ARN needs (MFA required), saved to $WORK_DIR/trust-policy.json"
show rolehop policy "$PROFILE_NAME" --hop 1 --document trust
rolehop policy "$PROFILE_NAME" --hop 1 --document trust >"$WORK_DIR/trust-policy.json"
cat "$WORK_DIR/trust-policy.json"
echo "Apply it in the target account: aws iam update-assume-role-policy --role-name ${TARGET_ROLE_ARN##*/} --policy-document file://$WORK_DIR/trust-policy.json"

say "Done. Files: $WORK_DIR/config (the profile), $WORK_DIR/trust-policy.json"
