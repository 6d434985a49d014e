#!/usr/bin/env bash
# Guide: a Lambda bot in account A working in account B — and, through B, in A again.
# Seed: 003 (Lambda の bot が boto3 の assume_role で 2 アカウントの EC2/S3/SSM を操作、IAM は Terraform).
#
# Needs: rolehop, the aws CLI and Go on PATH; this repository (the guide builds
# examples/cross-account, the Go program doing the bot's job with rolehop's library); account
# A credentials (in Lambda: the execution role; here: whatever the AWS CLI would use).
#
# Inputs (environment variables):
#   ROLE_B_ARN   the role in account B (required), e.g. arn:aws:iam::222222222222:role/bot-in-b
#   BUCKET_B     a bucket of account B the bot writes to (required)
#   ROLE_A_ARN   a role in account A that role B may assume (optional, with BUCKET_A),
#                e.g. arn:aws:iam::111111111111:role/bot-back-in-a
#   BUCKET_A     a bucket of account A, written through B (optional, with ROLE_A_ARN)
#   CALLER_ARN   who assumes role B: the Lambda function's execution role, e.g.
#                arn:aws:iam::111111111111:role/bot-lambda (default: whoever runs this guide,
#                found with one sts:GetCallerIdentity)
#   REGION       (default: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1)
#   S3_PATH_STYLE  1 for S3 emulators such as moto or LocalStack (default: 0)
#   WORK_DIR     where the program and the Terraform file go (default: a new temporary directory)
set -euo pipefail

# ---- helpers: say, show, run, need, need_tool, identity ----
# shellcheck source=../lib/helpers.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/helpers.sh"

# ---- inputs ----
need_tool rolehop "go install github.com/rolehop/rolehop/cmd/rolehop@latest"
need_tool aws "install the AWS CLI"
need_tool go "install Go (https://go.dev/dl/) to build examples/cross-account"
need ROLE_B_ARN "the role in account B, e.g. arn:aws:iam::222222222222:role/bot-in-b"
need BUCKET_B "a bucket of account B the bot writes to"
ROLE_A_ARN="${ROLE_A_ARN:-}"
BUCKET_A="${BUCKET_A:-}"
if [ -n "$ROLE_A_ARN" ] && [ -z "$BUCKET_A" ]; then need BUCKET_A "a bucket of account A, written through role B (ROLE_A_ARN is set)"; fi
if [ -n "$BUCKET_A" ] && [ -z "$ROLE_A_ARN" ]; then need ROLE_A_ARN "the role in account A that role B assumes (BUCKET_A is set)"; fi
CALLER_ARN="${CALLER_ARN:-}"
REGION="${REGION:-${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}}"
WORK_DIR="${WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/rolehop-guide.XXXXXX")}"
mkdir -p "$WORK_DIR"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ -f "$repo/examples/cross-account/main.go" ] || { echo "guide.sh: $repo/examples/cross-account/main.go not found: run this guide from a checkout of rolehop" >&2; exit 2; }

args=(-role-b "$ROLE_B_ARN" -bucket-b "$BUCKET_B" -region "$REGION")
roles=(--role-arn "$ROLE_B_ARN")
if [ -n "$ROLE_A_ARN" ]; then
	args+=(-role-a "$ROLE_A_ARN" -bucket-a "$BUCKET_A")
	roles+=(--role-arn "$ROLE_A_ARN")
fi
if [ "${S3_PATH_STYLE:-0}" = 1 ]; then args+=(-path-style); fi
caller=()
if [ -n "$CALLER_ARN" ]; then caller=(--caller-arn "$CALLER_ARN"); fi

say "1. Account A's credentials (in Lambda: the execution role)"
identity

say "2. Build examples/cross-account (the bot: rolehop.AssumeRole for B, rolehop.Config for B → A)"
show go build -o "$WORK_DIR/cross-account" ./examples/cross-account
(cd "$repo" && go build -o "$WORK_DIR/cross-account" ./examples/cross-account)

say "3. Run it: it prints the identity it works as in each account"
run "$WORK_DIR/cross-account" "${args[@]}"

say "4. The IAM side of both directions as Terraform: who may assume what (saved to $WORK_DIR/cross-account-roles.tf)"
show rolehop policy "${roles[@]}" ${caller[@]+"${caller[@]}"} --format terraform
rolehop policy "${roles[@]}" ${caller[@]+"${caller[@]}"} --format terraform >"$WORK_DIR/cross-account-roles.tf"
cat "$WORK_DIR/cross-account-roles.tf"
echo "(the roles' own permissions — S3, EC2, SSM — are yours to add; see examples/cross-account/README.md)"

say "Done. Files: $WORK_DIR/cross-account (the program), $WORK_DIR/cross-account-roles.tf"
