#!/usr/bin/env bash
# Guide: a GitHub Actions job without stored keys: OIDC token → role → a role in another account.
# Seed: 004, the better way (no AWS_ACCESS_KEY_ID secret to leak or rotate).
#
# Needs: rolehop and the aws CLI on PATH; a GitHub Actions job with `permissions: id-token: write`
# (the runner then sets ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN), and
# in AWS an OIDC provider for token.actions.githubusercontent.com that ROLE_ARN trusts.
#
# Inputs (environment variables):
#   ROLE_ARN         the role the job assumes with its OIDC token (required),
#                    e.g. arn:aws:iam::111111111111:role/gha-ci
#   SECOND_ROLE_ARN  a role in another account that ROLE_ARN may assume (optional),
#                    e.g. arn:aws:iam::222222222222:role/deploy
#   ACTIONS_ID_TOKEN_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_TOKEN  set by the runner (required)
#
# The "tool" is the aws CLI here; put terraform, cdk, … in its place.
set -euo pipefail

# ---- helpers: say, show, run, need, need_tool, identity ----
# shellcheck source=../lib/helpers.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/helpers.sh"

# ---- inputs ----
need_tool rolehop "go install github.com/rolehop/rolehop/cmd/rolehop@latest"
need_tool aws "install the AWS CLI"
need ROLE_ARN "the role the job assumes with its OIDC token, e.g. arn:aws:iam::111111111111:role/gha-ci"
need ACTIONS_ID_TOKEN_REQUEST_URL "run in GitHub Actions with 'permissions: id-token: write'"
need ACTIONS_ID_TOKEN_REQUEST_TOKEN "run in GitHub Actions with 'permissions: id-token: write'"
SECOND_ROLE_ARN="${SECOND_ROLE_ARN:-}"
# No stored keys: make sure none are picked up by mistake.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE

say "1. The plan, without calling AWS: GitHub's OIDC token → AssumeRoleWithWebIdentity $ROLE_ARN"
run rolehop explain --web-identity github --role-arn "$ROLE_ARN"

say "2. Run the tool as $ROLE_ARN (rolehop asks GitHub for the token itself)"
run rolehop exec --web-identity github --role-arn "$ROLE_ARN" -- aws sts get-caller-identity --query Arn --output text

if [ -n "$SECOND_ROLE_ARN" ]; then
	say "3. One more hop, into another account: $SECOND_ROLE_ARN (role chaining: at most 1 hour)"
	run rolehop exec --web-identity github --role-arn "$ROLE_ARN" --role-arn "$SECOND_ROLE_ARN" -- \
		aws sts get-caller-identity --query Arn --output text

	say "4. The trust and permission policies of both roles, for Terraform"
	run rolehop policy --web-identity github --role-arn "$ROLE_ARN" --role-arn "$SECOND_ROLE_ARN" --format terraform
else
	say "3. (skipped: set SECOND_ROLE_ARN to hop on into another account)"

	say "4. The trust policy of $ROLE_ARN (the OIDC provider as principal), for Terraform"
	run rolehop policy --web-identity github --role-arn "$ROLE_ARN" --format terraform
fi

say "Done."
