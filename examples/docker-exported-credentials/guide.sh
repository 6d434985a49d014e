#!/usr/bin/env bash
# Guide: hand scoped-down temporary credentials to a program in `docker run`.
# Seed: 001 (CloudShell の資格情報を curl + jq で export 行にして docker run -e に渡す).
#
# Needs: rolehop, the aws CLI and docker on PATH; credentials rolehop can find (in CloudShell
# the container endpoint; elsewhere env keys, the default profile, an instance role).
#
# Inputs (environment variables):
#   TARGET_ROLE_ARN  the role to assume for the container (required),
#                    e.g. arn:aws:iam::111111111111:role/dev
#   POLICY_ARNS      managed policies that scope the session down, comma-separated
#                    (default: arn:aws:iam::aws:policy/ReadOnlyAccess)
#   REGION           region handed to the container (default: AWS_REGION, else
#                    AWS_DEFAULT_REGION, else us-east-1)
#   IMAGE            image whose entrypoint is the aws CLI (default: amazon/aws-cli)
#   WORK_DIR         where the env file is written (default: a new temporary directory)
#   KEEP_ENV_FILE    1 keeps $WORK_DIR/aws.env at the end (default: it is deleted: it holds secrets)
#
# AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_STS, when set (LocalStack, moto), are passed into the
# container too.
set -euo pipefail

# ---- helpers: say, show, run, need, need_tool, identity ----
# shellcheck source=../lib/helpers.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/helpers.sh"

# ---- inputs ----
need_tool rolehop "go install github.com/rolehop/rolehop/cmd/rolehop@latest"
need_tool aws "install the AWS CLI"
need_tool docker "install Docker (CloudShell has it)"
need TARGET_ROLE_ARN "the role to assume for the container, e.g. arn:aws:iam::111111111111:role/dev"
POLICY_ARNS="${POLICY_ARNS:-arn:aws:iam::aws:policy/ReadOnlyAccess}"
REGION="${REGION:-${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}}"
IMAGE="${IMAGE:-amazon/aws-cli}"
WORK_DIR="${WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/rolehop-guide.XXXXXX")}"
mkdir -p "$WORK_DIR"
umask 077
ENV_FILE="$WORK_DIR/aws.env"
if [ "${KEEP_ENV_FILE:-0}" != 1 ]; then trap 'rm -f "$ENV_FILE"' EXIT; fi

# A custom endpoint (LocalStack, moto) must reach the container as well.
endpoint=()
for v in AWS_ENDPOINT_URL AWS_ENDPOINT_URL_STS; do
	if [ -n "${!v:-}" ]; then endpoint+=(-e "$v"); fi
done

say "1. The credentials you hold now (rolehop finds them the way the AWS CLI does)"
identity

say "2. Export a scoped-down session of $TARGET_ROLE_ARN, region included, as an env file"
show rolehop export --role-arn "$TARGET_ROLE_ARN" --policy-arns "$POLICY_ARNS" --region "$REGION" --format dotenv
rolehop export --role-arn "$TARGET_ROLE_ARN" --policy-arns "$POLICY_ARNS" --region "$REGION" --format dotenv >"$ENV_FILE"
echo "$ENV_FILE holds (values not shown):"
sed 's/=.*//; s/^/  /' "$ENV_FILE"
echo "region in it: $(sed -n 's/^AWS_REGION=//p' "$ENV_FILE")"

say "3. docker run --env-file: the container runs as the scoped-down role"
run docker run --rm --env-file "$ENV_FILE" ${endpoint[@]+"${endpoint[@]}"} "$IMAGE" sts get-caller-identity --query Arn --output text

say "4. Or without a file: rolehop exec -- docker run -e AWS_ACCESS_KEY_ID … (docker copies the values from rolehop's child environment)"
echo "(pass AWS_DEFAULT_REGION as well as AWS_REGION: AWS CLI v1 and boto3 read only AWS_DEFAULT_REGION)"
run rolehop exec --role-arn "$TARGET_ROLE_ARN" --policy-arns "$POLICY_ARNS" --region "$REGION" -- \
	docker run --rm -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN -e AWS_REGION -e AWS_DEFAULT_REGION \
	${endpoint[@]+"${endpoint[@]}"} "$IMAGE" sts get-caller-identity --query Arn --output text

if [ "${KEEP_ENV_FILE:-0}" = 1 ]; then
	say "Done. $ENV_FILE is kept (KEEP_ENV_FILE=1): it holds secrets, delete it when done"
else
	say "Done. $ENV_FILE is deleted (set KEEP_ENV_FILE=1 to keep it)"
fi
