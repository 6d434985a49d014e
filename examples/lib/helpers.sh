# Shared by every examples/*/guide.sh (sourced): echo each step, mask MFA codes in
# the echo, check inputs before anything runs, print the identity.
say() { printf '\n==> %s\n' "$*"; }
# show prints a command the way it is run, with the MFA code masked.
show() {
	local a line='+' mask=0
	for a in "$@"; do
		if [ "$mask" = 1 ]; then line+=' ******'; mask=0; continue; fi
		[ "$a" = --token-code ] && mask=1
		line+=" $(printf '%q' "$a")"
	done
	printf '%s\n' "$line"
}
run() { show "$@"; "$@"; }
need() { if [ -z "${!1:-}" ]; then printf 'guide.sh: set %s: %s\n' "$1" "$2" >&2; exit 2; fi; }
need_tool() { command -v "$1" >/dev/null 2>&1 || { printf 'guide.sh: %s not found on PATH: %s\n' "$1" "$2" >&2; exit 2; }; }
identity() { run aws sts get-caller-identity --query Arn --output text; }
