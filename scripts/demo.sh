#!/usr/bin/env bash
# demo.sh: sectop against live servers on this machine, from nothing.
#
#   scripts/demo.sh                        the console
#   scripts/demo.sh snapshot --format json any sectop arguments pass through
#
# Installs missing packages (scripts/deps.sh), builds sectop if a source is
# newer than the binary, starts PostgreSQL, Redis and the health fixture on
# loopback in a temporary directory, seeds a week of traffic with a brute
# force in progress (DEMO_ROWS events, default 200000), starts the live
# feeder, then runs sectop in the foreground.  When sectop exits, everything
# stops and the directory goes (SECTOP_KEEP_STACK=1 keeps it).
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$ROOT"
rows=${DEMO_ROWS:-200000}
[[ $rows =~ ^[0-9]+$ ]] || { echo "demo: DEMO_ROWS must be a number" >&2; exit 2; }

say() { printf 'demo: %s\n' "$*" >&2; }

# sectop_build: print the path of an up-to-date sectop, building it if needed.
# A tree configured in place (./config.status) is used as it is; otherwise
# the build goes to build-demo/, because an in-place configure would stop
# scripts/test.sh's out-of-tree builds ("source directory already configured").
sectop_build() {
	local dir=build-demo log
	[[ -f config.status ]] && dir=.
	if [[ -x $dir/sectop && -z $(find src ui themes configure.ac Makefile.am \
		-newer "$dir/sectop" -print -quit 2>/dev/null) ]]; then
		say "sectop is up to date ($dir/sectop)"
		printf '%s\n' "$dir/sectop"
		return 0
	fi
	mkdir -p "$dir"
	log=$ROOT/$dir/demo-build.log
	say "building sectop (log: $dir/demo-build.log)"
	: >"$log"
	if ! {
		if [[ ! -x configure || configure.ac -nt configure ]]; then autoreconf -fi; fi &&
			(cd "$dir" && { [[ -f Makefile ]] || "$ROOT/configure"; } && make -j2)
	} >>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		say "build failed; full log in $dir/demo-build.log"
		return 1
	fi
	printf '%s\n' "$dir/sectop"
}

say "checking packages"
"$ROOT/scripts/deps.sh"
sectop=$ROOT/$(sectop_build)

# shellcheck source=scripts/stack.sh
source "$ROOT/scripts/stack.sh"
say "starting PostgreSQL, Redis and the health endpoints on 127.0.0.1"
stack_trap
stack_start_all
stack_load_schema

say "seeding $rows events (a week, with a brute force in progress)"
t0=$SECONDS
stack_psql -v rows="$rows" -v days=7 -f "$ROOT/scripts/seed.sql" >/dev/null
"$ROOT/scripts/seed_redis.sh"
say "seeded in $((SECONDS - t0)) s"

# Live ordinary traffic near the seeded rate (rows over a week, a little
# above the average, as for daytime); the attack at its own pace.
say "starting the live feeder"
export FEED_NORMAL=${FEED_NORMAL:-$((rows / 7750 > 6 ? rows / 7750 : 6))}
"$ROOT/scripts/feed.sh" </dev/null >>"$SECTOP_TEST_STACK_DIR/feed.log" 2>&1 &
feeder=$!
stack_on_exit "kill $feeder 2>/dev/null; wait $feeder 2>/dev/null"

# Without a terminal there is no console to show: print a snapshot instead.
if (($# == 0)) && ! [[ -t 0 && -t 1 ]]; then
	say "no terminal: running 'sectop snapshot' instead of the console"
	set -- snapshot
fi

# A small GeoIP database of the demo's own documentation networks, labelled
# as demo data, so that the country and network columns show.
geoip=()
if "$sectop" --version | grep -q "^geoip-db: yes" &&
	perl "$ROOT/tests/fixtures/make_mmdb.pl" demo "$SECTOP_TEST_STACK_DIR" 2>>"$SECTOP_TEST_STACK_DIR/geoip.log"; then
	geoip=(--geoip-db "$SECTOP_TEST_STACK_DIR/country.mmdb" --geoip-db "$SECTOP_TEST_STACK_DIR/asn.mmdb")
fi

say "running sectop (q quits; state in $SECTOP_TEST_STACK_DIR)"
rc=0
# the themes and runbooks of this tree, before `make install`
export SECTOP_THEME_DIR=${SECTOP_THEME_DIR:-$ROOT/themes}
export SECTOP_RUNBOOK_DIR=${SECTOP_RUNBOOK_DIR:-$ROOT/runbooks}
# the demo's journal and timelines are thrown away with its servers
export XDG_STATE_HOME=$SECTOP_TEST_STACK_DIR/state
"$sectop" "$@" \
	--db "$SECTOP_TEST_DB" \
	--redis "$SECTOP_TEST_REDIS" \
	"${geoip[@]}" \
	--health "api=$SECTOP_TEST_HTTP/health/healthy" \
	--health "auth=$SECTOP_TEST_HTTP/health/flap" \
	--health "billing=$SECTOP_TEST_HTTPS/health/ok ca_file=$SECTOP_TEST_CA" \
	--health "search=$SECTOP_TEST_HTTP/health/degraded" \
	--health "admin=$SECTOP_TEST_HTTPS/health/auth ca_file=$SECTOP_TEST_CA api_key_env=HEALTHD_API_KEY" \
	--health "legacy=$SECTOP_TEST_HTTP/health/down" ||
	rc=$?
exit "$rc"
