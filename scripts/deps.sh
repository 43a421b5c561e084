#!/usr/bin/env bash
# deps.sh: make sure the Debian packages sectop needs to build, test and demo
# are installed.  Run it or source it; it only calls apt-get when something is
# missing, so a second run costs one dpkg-query.
#
#   scripts/deps.sh            install what is missing (as root)
#   SECTOP_DEPS_DRY=1 deps.sh  only report what is missing

# When sourced, keep the caller's shell options; when run, be strict.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	set -euo pipefail
fi

SECTOP_DEPS=(
	# build
	build-essential autoconf automake libtool pkg-config autoconf-archive
	libncurses-dev libpq-dev libhiredis-dev libssl-dev libcurl4-openssl-dev
	libjansson-dev libcmocka-dev libmaxminddb-dev
	# the servers the tests and the demo run
	postgresql postgresql-contrib postgresql-15-partman redis-server redis-tools
	# test tooling: terminal tests, fixture server, certificates, probes
	tmux python3 openssl ca-certificates curl procps iproute2 locales
	libmaxmind-db-writer-perl bash-completion
	bsdutils util-linux
	# scripts/fuzz.sh: clang's libFuzzer (its runtime is a separate package)
	clang libclang-rt-14-dev
)

# deps_missing: print the packages that are not installed, one per line.
deps_missing() {
	local p status
	for p in "${SECTOP_DEPS[@]}"; do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
		# "ii " is installed; anything else (absent, half-installed, rc) is not.
		[[ "$status" == ii* ]] || printf '%s\n' "$p"
	done
}

# deps_locale: sectop measures widths with wcwidth(), which needs a UTF-8
# locale.  Debian's libc has C.UTF-8 built in; generate it only if it is gone.
deps_locale() {
	if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
		return 0
	fi
	if [[ $(id -u) -ne 0 ]]; then
		echo "deps: no C.UTF-8 locale; as root run: localedef -i C -f UTF-8 C.UTF-8" >&2
		return 1
	fi
	localedef -i C -f UTF-8 C.UTF-8 2>/dev/null ||
		localedef -i en_US -f UTF-8 C.UTF-8
}

deps_install() {
	local missing
	mapfile -t missing < <(deps_missing)
	if ((${#missing[@]} == 0)); then
		deps_locale
		return 0
	fi
	local line="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
	if [[ -n "${SECTOP_DEPS_DRY:-}" ]]; then
		echo "deps: missing: ${missing[*]}" >&2
		return 1
	fi
	if [[ $(id -u) -ne 0 ]]; then
		echo "deps: these packages are missing; as root run:" >&2
		echo "  $line" >&2
		return 1
	fi
	echo "deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	# The package installs must not start system-wide PostgreSQL/Redis
	# services: the tests run their own on free ports.  policy-rc.d 101 is
	# Debian's documented way to say "do not start daemons now".
	local policy=/usr/sbin/policy-rc.d added_policy=""
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 0755 "$policy"
		added_policy=1
	fi
	local rc=0
	{ apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } >&2 || rc=$?
	[[ -n $added_policy ]] && rm -f "$policy"
	((rc == 0)) || return "$rc"
	deps_locale
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	deps_install
else
	deps_install || return 1
fi
