#!/usr/bin/env bash
# assume.sh — second step of the rolehop GitHub Action (action.yml): assume
# the role chain and export the credentials to the rest of the job.
#
# The source is GitHub's OIDC token (AssumeRoleWithWebIdentity on the first
# role) when the job may request one — ACTIONS_ID_TOKEN_REQUEST_URL and
# _TOKEN are set (`permissions: id-token: write`) and AWS_ACCESS_KEY_ID is
# not — or else the job's ambient credentials: access keys in the
# environment (usually from secrets), or a profile, container or instance
# role on a self-hosted runner. Every further role is one AssumeRole hop.
#
# `rolehop export --format github` prints ::add-mask:: lines for the key id,
# secret and token and appends the variables to $GITHUB_ENV as heredocs;
# `rolehop whoami` then gives the outputs. Both run with a private rolehop
# cache under RUNNER_TEMP, removed at the end, so the chain is assumed once
# and no credentials stay on a self-hosted runner. This script never prints
# a secret.
#
# Inputs, from the environment (the step's env: block):
#   INPUT_ROLE_ARN           one or more role ARNs, newline- or comma-separated,
#                            in hop order (required)
#   INPUT_ROLE_SESSION_NAME  session name (the last hop's; with OIDC also the
#                            web identity session's)
#   INPUT_USERNAME_SESSION   true: the session name is the IAM user's name (-u)
#   INPUT_DURATION           seconds, for the last hop
#   INPUT_REGION             AWS_REGION/AWS_DEFAULT_REGION to export
#   INPUT_EXTERNAL_ID        external id of the last hop
#   INPUT_WEB_IDENTITY       auto (default), github (always OIDC) or none
#   ROLEHOP                  the rolehop binary (default: rolehop on PATH)
# Outputs (GITHUB_OUTPUT): arn, aws-account-id.
set -euo pipefail

# escape and fail: one ::error:: line, encoded as the runner decodes it.
# shellcheck source=commands.sh
. "$(dirname "${BASH_SOURCE[0]}")/commands.sh"

# trim S prints S without leading and trailing white space.
trim() {
	local s=$1
	s=${s#"${s%%[![:space:]]*}"}
	s=${s%"${s##*[![:space:]]}"}
	printf '%s' "$s"
}

# relay FILE HOW turns rolehop's stderr into workflow commands: warnings
# become ::warning:: lines (none when HOW is "quiet"); with HOW "failed" the
# other lines become one ::error:: line and the script exits, else they are
# printed as they are.
relay() {
	local line rest=
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%$'\r'}
		[[ -n $line ]] || continue
		case $line in
		'rolehop: warning: '*)
			[[ $2 == quiet ]] || printf '::warning::%s\n' "$(escape "rolehop: ${line#rolehop: warning: }")"
			;;
		*) rest=${rest:+$rest; }$line ;;
		esac
	done <"$1"
	if [[ $2 == failed ]]; then
		fail "${rest:-rolehop failed without a message}"
	elif [[ -n $rest ]]; then
		printf '%s\n' "$rest" >&2
	fi
}

# json_field NAME prints the string field NAME of the JSON on stdin.
json_field() {
	tr -d '\r\n' | sed -n 's/.*"'"$1"'"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p'
}

main() {
	local rolehop=${ROLEHOP:-rolehop}
	if [[ $rolehop == */* || $rolehop == *\\* ]]; then
		[[ -x $rolehop ]] || fail "rolehop binary \"$rolehop\" is not there: did the install step fail?"
	else
		command -v "$rolehop" >/dev/null 2>&1 || fail "rolehop is not on PATH: install it first (the action's install step, or go install github.com/rolehop/rolehop/cmd/rolehop@latest)"
	fi

	local roles=() r
	while IFS= read -r r || [[ -n $r ]]; do
		r=$(trim "$r")
		[[ -z $r ]] || roles+=("$r")
	done < <(printf '%s\n' "${INPUT_ROLE_ARN:-}" | tr ',' '\n')
	((${#roles[@]} > 0)) || fail "role-arn is required: give the ARN of the role to assume (several, newline- or comma-separated, for a chain)"

	local username
	case $(printf '%s' "${INPUT_USERNAME_SESSION:-false}" | tr '[:upper:]' '[:lower:]') in
	true) username=true ;;
	false | '') username=false ;;
	*) fail "username-session must be true or false, not \"$INPUT_USERNAME_SESSION\"" ;;
	esac
	local session=${INPUT_ROLE_SESSION_NAME:-} duration=${INPUT_DURATION:-} external=${INPUT_EXTERNAL_ID:-} region=${INPUT_REGION:-}
	[[ -z $duration || $duration =~ ^[0-9]+$ ]] || fail "duration must be a number of seconds (900-43200), not \"$duration\""
	if [[ -n $session && $username == true ]]; then
		fail "role-session-name and username-session both name the session: set one of them"
	fi

	local mode=${INPUT_WEB_IDENTITY:-auto}
	case $mode in
	auto)
		if [[ -n ${ACTIONS_ID_TOKEN_REQUEST_URL:-} && -n ${ACTIONS_ID_TOKEN_REQUEST_TOKEN:-} && -z ${AWS_ACCESS_KEY_ID:-} ]]; then
			mode=github
		else
			mode=none
		fi
		;;
	github | none) ;;
	*) fail "web-identity must be auto, github or none, not \"$mode\"" ;;
	esac

	local args=() unset=()
	if [[ $mode == github ]]; then
		# The OIDC token is the source, whatever profile the job names.
		args+=(--web-identity github)
		unset+=(AWS_PROFILE AWS_DEFAULT_PROFILE)
		if ((${#roles[@]} == 1)); then
			# The only role is assumed with AssumeRoleWithWebIdentity, which
			# has no external id and no IAM user.
			[[ -z $external ]] || fail "external-id applies to an AssumeRole hop, and with OIDC the only role is assumed with the web identity token: remove external-id or add the role that needs it as a second role-arn"
			[[ $username == false ]] || fail "username-session needs an IAM user's access keys; with OIDC there is none: use role-session-name"
			if [[ -n $duration ]]; then
				printf '::warning::%s\n' "duration is not applied to the role assumed with the OIDC token (rolehop sends no DurationSeconds to AssumeRoleWithWebIdentity): STS gives it its default of 1 hour"
				duration=
			fi
		fi
		# AWS_ROLE_SESSION_NAME names the web identity session and the last hop.
		[[ -z $session ]] || export AWS_ROLE_SESSION_NAME=$session
	else
		# Access keys in the environment are the source; a job-wide
		# AWS_PROFILE must not redirect them.
		[[ -z ${AWS_ACCESS_KEY_ID:-} ]] || unset+=(AWS_PROFILE AWS_DEFAULT_PROFILE)
		[[ -z $session ]] || args+=(--role-session-name "$session")
	fi
	for r in "${roles[@]}"; do
		args+=(--role-arn "$r")
	done
	[[ $username == false ]] || args+=(-u)
	[[ -z $duration ]] || args+=(--duration-seconds "$duration")
	[[ -z $external ]] || args+=(--external-id "$external")
	[[ -z $region ]] || args+=(--region "$region")
	for r in ${unset[@]+"${unset[@]}"}; do
		unset "$r"
	done

	local tmp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
	work=$(mktemp -d "$tmp/rolehop-assume.XXXXXX") || fail "cannot create a directory in $tmp"
	trap 'rm -rf "$work"' EXIT
	export ROLEHOP_CACHE_DIR=$work/cache

	# Masks on stdout (the runner reads them), variables into GITHUB_ENV.
	if "$rolehop" export --format github "${args[@]}" 2>"$work/stderr"; then
		relay "$work/stderr" ok
	else
		relay "$work/stderr" failed
	fi

	# whoami: --output json, or --json in releases without --output. The
	# chain comes from the cache just filled, so no second AssumeRole, and
	# its warnings were already shown.
	local json_flag=(--json) help
	help=$("$rolehop" whoami --help 2>/dev/null || true)
	if [[ $help == *--output* ]]; then
		json_flag=(--output json)
	fi
	local id
	if id=$("$rolehop" whoami "${args[@]}" "${json_flag[@]}" 2>"$work/stderr"); then
		relay "$work/stderr" quiet
	else
		relay "$work/stderr" failed
	fi
	local arn account
	arn=$(printf '%s' "$id" | json_field Arn)
	account=$(printf '%s' "$id" | json_field Account)
	[[ -n $arn && -n $account ]] || fail "rolehop whoami printed no Arn and Account: $(printf '%s' "$id" | tr -d '\r\n' | cut -c1-200)"
	if [[ -n ${GITHUB_OUTPUT:-} ]]; then
		printf 'arn=%s\naws-account-id=%s\n' "$arn" "$account" >>"$GITHUB_OUTPUT"
	fi
	echo "Assumed $arn; AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN are set for the next steps"
}

main "$@"
