#!/usr/bin/env bash
# install.sh — first step of the rolehop GitHub Action (action.yml): put a
# released rolehop binary on the job's PATH.
#
# It downloads checksums.txt and the goreleaser archive for the runner's
# platform (rolehop_<version>_<os>_<arch>.tar.gz, .zip on Windows; see
# .goreleaser.yaml), verifies the archive's sha256 against checksums.txt
# before extracting anything, installs the binary under $RUNNER_TEMP and
# adds its directory to $GITHUB_PATH. Nothing is installed when a download
# or the checksum fails.
#
# Inputs, from the environment (the step's env: block):
#   INPUT_VERSION       "latest" (default) or a release: 1.2.3 or v1.2.3
#                       (1.2.3-rc.1 and +build too; see version_re)
#   INPUT_RELEASE_URL   base of the release downloads, https:// only (default
#                       https://github.com/rolehop/rolehop/releases/download):
#                       version X is read from <base>/vX/, "latest" from
#                       <base without /download>/latest/download/
#   INPUT_ROLEHOP_PATH  an existing rolehop binary: use it, download nothing
#   RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT (runner)
# Outputs (GITHUB_OUTPUT): path (the binary), version (when downloaded).
#
# Runs in bash on Linux, macOS and Git Bash on Windows; needs curl, tar or
# unzip (or PowerShell's Expand-Archive), and sha256sum or shasum. Every
# failure is one ::error:: line.
#
# Everything read from the network is untrusted until checked: the version
# a "latest" release names (in checksums.txt) must match the same pattern
# as the version input before it becomes part of a path or URL, and every
# download is HTTPS only, redirects included. There is no switch to allow
# plain http, for tests or otherwise: the tests serve their releases over
# TLS and point curl's own CURL_CA_BUNDLE variable at their test
# certificate — that chooses which certificates curl trusts (and only a
# job's own environment can set it), it cannot turn HTTPS off.
set -euo pipefail

default_release_url=https://github.com/rolehop/rolehop/releases/download
# checksums_name is goreleaser's checksum.name_template.
checksums_name=checksums.txt

# version_re is a release version as goreleaser puts it in archive names
# (the tag without its v): MAJOR.MINOR.PATCH, then optionally -PRERELEASE
# and +BUILD, each dot-separated identifiers of [0-9A-Za-z-] (semver 2.0's
# characters). The version becomes a directory under RUNNER_TEMP/rolehop
# and part of the download URLs, so it has no /, \, white space, control
# or shell characters, and no empty identifier (so no "." or ".." part).
version_re='^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'
# version_max is the longest version accepted (a path component's limit is
# 255 bytes; a real version is a few dozen).
version_max=128

# escape and fail: one ::error:: line, encoded as the runner decodes it.
FAIL_PREFIX="rolehop install: "
# shellcheck source=commands.sh
. "$(dirname "${BASH_SOURCE[0]}")/commands.sh"

# platform sets os, arch, ext and exe for the runner (RUNNER_OS, RUNNER_ARCH).
platform() {
	case ${RUNNER_OS:-} in
	Linux) os=linux ext=tar.gz exe= ;;
	macOS) os=darwin ext=tar.gz exe= ;;
	Windows) os=windows ext=zip exe=.exe ;;
	'') fail "RUNNER_OS is not set: run inside GitHub Actions or set RUNNER_OS (Linux, macOS or Windows)" ;;
	*) fail "unsupported RUNNER_OS \"$RUNNER_OS\": releases exist for Linux, macOS and Windows" ;;
	esac
	case ${RUNNER_ARCH:-} in
	X64) arch=amd64 ;;
	ARM64) arch=arm64 ;;
	'') fail "RUNNER_ARCH is not set: run inside GitHub Actions or set RUNNER_ARCH (X64 or ARM64)" ;;
	*) fail "unsupported RUNNER_ARCH \"$RUNNER_ARCH\": releases exist for X64 and ARM64" ;;
	esac
}

# is_version S succeeds if S is a release version (version_re, at most
# version_max bytes). The one check for the version input and for the
# version a "latest" release names.
is_version() {
	local LC_ALL=C
	((${#1} <= version_max)) && [[ $1 =~ $version_re ]]
}

# shown S prints S for an error message: at most 80 bytes, anything but
# printable ASCII as "?".
shown() {
	local LC_ALL=C s=${1:0:80}
	s=${s//[^[:print:]]/?}
	((${#1} <= 80)) || s+=...
	printf '%s' "$s"
}

# asset_name VERSION prints the archive name goreleaser gives VERSION on
# this platform (call platform first).
asset_name() {
	printf 'rolehop_%s_%s_%s.%s\n' "$1" "$os" "$arch" "$ext"
}

# sha256_of FILE prints FILE's sha256 in lower-case hex.
sha256_of() {
	local out
	if command -v sha256sum >/dev/null 2>&1; then
		out=$(sha256sum "$1")
	elif command -v shasum >/dev/null 2>&1; then
		out=$(shasum -a 256 "$1")
	else
		fail "neither sha256sum nor shasum is installed: cannot verify the download"
	fi
	lower "${out%% *}"
}

# lower S prints S in lower case (bash 3.2, macOS's /bin/bash, has no ${s,,}).
lower() {
	printf '%s\n' "$1" | tr '[:upper:]' '[:lower:]'
}

# download URL FILE fetches URL into FILE, failing on any HTTP error. Only
# over HTTPS (TLS 1.2 or later), and a redirect to anything else is refused
# (GitHub redirects release downloads to another https host). curl only:
# wget has no way to refuse a redirect to http, so it is not a fallback.
download() {
	local msg
	command -v curl >/dev/null 2>&1 || fail "curl is not installed: cannot download rolehop (install curl, or give rolehop-path)"
	if ! msg=$(curl --proto '=https' --proto-redir '=https' --tlsv1.2 --globoff -fsSL --retry 3 --retry-delay 2 -o "$2" "$1" 2>&1); then
		fail "download of $1 failed (${msg//$'\n'/ }): check version and release-url"
	fi
}

# native PATH prints PATH in the operating system's form (D:\a\_temp\… on
# Windows under Git Bash), for GITHUB_PATH and PowerShell.
native() {
	if [[ $os == windows ]] && command -v cygpath >/dev/null 2>&1; then
		cygpath -w "$1"
	else
		printf '%s\n' "$1"
	fi
}

# mixed PATH prints PATH for the outputs: on Windows with forward slashes
# (D:/a/_temp/…), which bash, PowerShell and Windows programs all accept.
mixed() {
	if [[ $os == windows ]] && command -v cygpath >/dev/null 2>&1; then
		cygpath -m "$1"
	else
		printf '%s\n' "$1"
	fi
}

# output NAME VALUE sets a step output (or prints it outside GitHub).
output() {
	if [[ -n ${GITHUB_OUTPUT:-} ]]; then
		printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
	else
		printf '%s=%s\n' "$1" "$2"
	fi
}

# add_path DIR puts DIR on PATH for the later steps of the job.
add_path() {
	if [[ -n ${GITHUB_PATH:-} ]]; then
		native "$1" >>"$GITHUB_PATH"
	fi
}

# use_existing PATH uses an already installed rolehop.
use_existing() {
	local bin=$1
	if [[ ! -f $bin && -f $bin$exe ]]; then
		bin=$bin$exe
	fi
	[[ -f $bin ]] || fail "rolehop-path \"$1\" does not exist: give the path of a rolehop binary, or leave rolehop-path empty to download a release"
	[[ -x $bin ]] || fail "rolehop-path \"$1\" is not executable"
	add_path "$(dirname "$bin")"
	output path "$(mixed "$bin")"
	echo "Using rolehop at $bin (no download)"
}

main() {
	platform
	if [[ -n ${INPUT_ROLEHOP_PATH:-} ]]; then
		use_existing "$INPUT_ROLEHOP_PATH"
		return
	fi
	[[ -n ${RUNNER_TEMP:-} ]] || fail "RUNNER_TEMP is not set: run inside GitHub Actions or set RUNNER_TEMP to a scratch directory"

	local base=${INPUT_RELEASE_URL:-$default_release_url} version=${INPUT_VERSION:-latest} want_name=
	base=${base%/}
	[[ $(lower "${base%%:*}") == https && $base == *://?* ]] ||
		fail "release-url \"$(shown "$base")\" is not an https:// URL: rolehop is downloaded over HTTPS only; give an https mirror"
	if [[ $version == latest ]]; then
		[[ $base == */download ]] || fail "release-url \"$base\" does not end in /download, so the latest release cannot be found: set version"
		base=${base%/download}/latest/download
	else
		version=${version#v}
		is_version "$version" ||
			fail "version \"$(shown "$INPUT_VERSION")\" is not a release version: use latest, 1.2.3, v1.2.3 or 1.2.3-rc.1"
		base=$base/v$version
		want_name=$(asset_name "$version")
	fi

	work=$(mktemp -d "$RUNNER_TEMP/rolehop-download.XXXXXX") || fail "cannot create a directory in RUNNER_TEMP ($RUNNER_TEMP)"
	trap 'rm -rf "$work"' EXIT

	download "$base/$checksums_name" "$work/$checksums_name"

	# Find the archive's line: by exact name for a version, by platform for
	# latest (the version is part of the name). The version a latest
	# release names comes from the network: it must be a release version
	# like a pinned one before it is used in a URL or path, and the archive
	# name is then rebuilt from it.
	local sum file name= want= matches=0
	while read -r sum file || [[ -n $sum ]]; do
		sum=${sum%$'\r'} file=${file%$'\r'}
		file=${file#\*}
		if [[ -n $want_name ]]; then
			[[ $file == "$want_name" ]] || continue
		else
			[[ $file == rolehop_*_"${os}_${arch}.${ext}" ]] || continue
			local v=${file#rolehop_}
			v=${v%_"${os}_${arch}.${ext}"}
			is_version "$v" ||
				fail "the latest release ($base/$checksums_name) names version \"$(shown "$v")\" for $os/$arch, which is not a release version like 1.2.3 or 1.2.3-rc.1: refusing it; set version to the release you want, or check release-url"
			version=$v
			file=$(asset_name "$v")
		fi
		name=$file want=$sum matches=$((matches + 1))
	done <"$work/$checksums_name"
	if ((matches == 0)); then
		fail "$base/$checksums_name lists no archive for $os/$arch${want_name:+ ($want_name)}: is this a rolehop release for this platform?"
	elif ((matches > 1)); then
		fail "$base/$checksums_name lists $matches archives for $os/$arch: cannot tell which to install; set version"
	fi
	[[ $want =~ ^[0-9a-fA-F]{64}$ ]] || fail "$base/$checksums_name has no valid sha256 for $name"
	want=$(lower "$want")

	download "$base/$name" "$work/$name"
	local got
	got=$(sha256_of "$work/$name")
	if [[ $got != "$want" ]]; then
		fail "checksum mismatch for $name: $checksums_name says $want, the download has $got; nothing was installed"
	fi

	mkdir "$work/x"
	case $ext in
	tar.gz) tar -xzf "$work/$name" -C "$work/x" || fail "cannot extract $name" ;;
	zip)
		if command -v unzip >/dev/null 2>&1; then
			unzip -q "$work/$name" -d "$work/x" || fail "cannot extract $name"
		else
			# The paths reach PowerShell in the environment, never in the
			# command text: RUNNER_TEMP may hold ' or ; (C:\Users\O'Brien\…).
			# shellcheck disable=SC2016 # $env:… is PowerShell's, not bash's
			ROLEHOP_ARCHIVE=$(native "$work/$name") ROLEHOP_DEST=$(native "$work/x") \
				powershell -NoProfile -NonInteractive -Command 'Expand-Archive -LiteralPath $env:ROLEHOP_ARCHIVE -DestinationPath $env:ROLEHOP_DEST -ErrorAction Stop' >/dev/null ||
				fail "cannot extract $name (no unzip, and PowerShell's Expand-Archive failed)"
		fi
		;;
	esac
	[[ -f $work/x/rolehop$exe ]] || fail "$name holds no rolehop$exe"

	local dir=$RUNNER_TEMP/rolehop/$version
	rm -rf "$dir"
	mkdir -p "$dir"
	mv "$work/x/rolehop$exe" "$dir/rolehop$exe"
	chmod 755 "$dir/rolehop$exe"
	add_path "$dir"
	output path "$(mixed "$dir/rolehop$exe")"
	output version "$version"
	echo "Installed rolehop $version ($name, sha256 $got verified) into $(native "$dir")"
}

# Run unless sourced (the tests source it to call asset_name).
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	main "$@"
fi
