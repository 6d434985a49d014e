#!/usr/bin/env bash
# Guide: a CI job holding an IAM user's access keys in env vars must run a tool as a role.
# Seed: 004 (arar: AWS_ACCESS_KEY_ID + AWS_PROFILE=<role profile> silently runs as the user).
#
# Needs: rolehop and the aws CLI on PATH; AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of an IAM
# user (in GitHub Actions: from secrets) that may assume TARGET_ROLE_ARN.
#
# Inputs (environment variables):
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY  the user's keys (required)
#   TARGET_ROLE_ARN  the role the tool must run as (required),
#                    e.g. arn:aws:iam::222222222222:role/terraform
#   GITHUB_ENV       the file GitHub Actions reads variables from for later steps (default
#                    outside Actions: $WORK_DIR/github-env, a stand-in)
#   WORK_DIR         where the guide writes its files (default: a new temporary directory)
#
# The "tool" is the aws CLI here; put terraform, cdk, … in its place.
set -euo pipefail

# ---- helpers: say, show, run, need, need_tool, identity ----
# shellcheck source=../lib/helpers.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/helpers.sh"

# load_github_env exports the variables of $GITHUB_ENV the way the Actions runner reads the
# file (NAME=VALUE lines and NAME<<DELIMITER heredocs) and lists their names in loaded.
loaded=()
load_github_env() {
	local line name delim value
	while IFS= read -r line || [ -n "$line" ]; do
		if [[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)\<\<(.+)$ ]]; then
			name=${BASH_REMATCH[1]} delim=${BASH_REMATCH[2]} value=
			while IFS= read -r line && [ "$line" != "$delim" ]; do
				value+="${value:+$'\n'}$line"
			done
		elif [[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
			name=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
		else
			continue
		fi
		export "$name=$value"
		loaded+=("$name")
	done <"$GITHUB_ENV"
}

# ---- inputs ----
need_tool rolehop "go install github.com/rolehop/rolehop/cmd/rolehop@latest"
need_tool aws "install the AWS CLI"
need AWS_ACCESS_KEY_ID "the CI user's access key id (GitHub Actions: from secrets)"
need AWS_SECRET_ACCESS_KEY "the CI user's secret access key (GitHub Actions: from secrets)"
need TARGET_ROLE_ARN "the role the tool must run as, e.g. arn:aws:iam::222222222222:role/terraform"
WORK_DIR="${WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/rolehop-guide.XXXXXX")}"
mkdir -p "$WORK_DIR"
umask 077
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME

say "1. The keys in the environment: the CI user"
identity

say "2. The pitfall: a role profile named by AWS_PROFILE while the keys are in the environment"
cat >"$WORK_DIR/aws_config" <<EOF
[profile cicd]
role_arn = $TARGET_ROLE_ARN
credential_source = Environment
EOF
cat "$WORK_DIR/aws_config"
run env AWS_CONFIG_FILE="$WORK_DIR/aws_config" AWS_PROFILE=cicd aws sts get-caller-identity --query Arn --output text
echo "^ still the user: the AWS CLI and SDKs let AWS_ACCESS_KEY_ID win over AWS_PROFILE; the role was not assumed"
run env AWS_CONFIG_FILE="$WORK_DIR/aws_config" aws --profile cicd sts get-caller-identity --query Arn --output text
echo "^ only --profile makes the CLI assume it, and terraform and most tools have no such flag"

say "3. rolehop explain says so, without calling AWS"
run env AWS_CONFIG_FILE="$WORK_DIR/aws_config" AWS_PROFILE=cicd rolehop explain

say "4. The arar way: AWS_ROLE_ARN + rolehop exec -u (session name = the IAM user's name)"
run env AWS_ROLE_ARN="$TARGET_ROLE_ARN" rolehop exec -u -- aws sts get-caller-identity --query Arn --output text
echo "(trust policies can require it: \"StringEquals\": {\"sts:RoleSessionName\": \"\${aws:username}\"}; see: rolehop policy --role-arn $TARGET_ROLE_ARN -u)"

say "5. The same profile through rolehop: AWS_PROFILE=cicd now assumes the role (session name: rolehop-<local user>)"
run env AWS_CONFIG_FILE="$WORK_DIR/aws_config" AWS_PROFILE=cicd rolehop exec -- aws sts get-caller-identity --query Arn --output text

say "6. GitHub Actions: hand the role's credentials to the job's later steps through \$GITHUB_ENV"
if [ -z "${GITHUB_ENV:-}" ]; then
	GITHUB_ENV="$WORK_DIR/github-env"
	: >"$GITHUB_ENV"
	echo "(not in GitHub Actions: GITHUB_ENV is a stand-in, $GITHUB_ENV)"
fi
export GITHUB_ENV
if [ "${GITHUB_ACTIONS:-}" = true ]; then
	# The ::add-mask:: lines must reach the runner, which hides the values in the log.
	run env AWS_ROLE_ARN="$TARGET_ROLE_ARN" rolehop export -u --format github
else
	show env AWS_ROLE_ARN="$TARGET_ROLE_ARN" rolehop export -u --format github
	masks=$(env AWS_ROLE_ARN="$TARGET_ROLE_ARN" rolehop export -u --format github | grep -c '^::add-mask::')
	echo "($masks ::add-mask:: lines not shown: outside Actions nobody would hide the values)"
fi
echo "\$GITHUB_ENV now sets, for the later steps (values not shown):"
(load_github_env && for n in ${loaded[@]+"${loaded[@]}"}; do echo "  $n"; done)

say "7. A later step of the job (simulated here: \$GITHUB_ENV loaded as the runner does) runs as the role"
(
	load_github_env
	identity
)

say "Done. Files: $WORK_DIR/aws_config (the pitfall's profile), $GITHUB_ENV"
