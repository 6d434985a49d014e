# Workflow commands shared by action/install.sh and action/assume.sh
# (sourced). FAIL_PREFIX, if set, starts every ::error:: message.

# escape encodes workflow-command data as the runner decodes it.
escape() {
	local s=$1
	s=${s//'%'/%25}
	s=${s//$'\r'/%0D}
	s=${s//$'\n'/%0A}
	printf '%s' "$s"
}

# fail prints one ::error:: line and exits 1.
fail() {
	printf '::error::%s\n' "$(escape "${FAIL_PREFIX:-}$*")"
	exit 1
}
