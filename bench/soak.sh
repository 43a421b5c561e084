#!/usr/bin/env bash
# soak.sh: the console for an hour against real servers that fail every 30 s
# (PostgreSQL killed and restarted, Redis frozen, the health endpoints hung),
# with actions through the command line and the console during each fault.
# Prints one row a minute (RSS, open fds, the slowest key, actions lost), then
# the table BENCHMARKS.md keeps.  bench/soak.py says how each is measured.
#
#   bench/soak.sh                 60 minutes
#   bench/soak.sh --minutes 10    10 minutes
#   bench/soak.sh --smoke         1 minute, a fault every 15 s (each kind once):
#                                 what scripts/test.sh runs
#   bench/soak.sh --keep          keep the scratch directory (logs, journal,
#                                 keys.log: every key's time)
#   bench/soak.sh -- --faults pg --key-every 0.2   options of bench/soak.py
#
# The goal: flat RSS and fds, every key answered within 100 ms, nothing lost.
# Exits non-zero when an action was lost or the console died; slow keys and
# growth are for a person to judge from the figures.  Starts its own servers
# (scripts/stack.sh) in a scratch directory and removes them at the end.
# Builds its own sectop unless SECTOP_SOAK_BUILD=DIR names a built tree.
# Runs under nice -n 10.  Needs python3 and tmux (scripts/deps.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
MINUTES=60 EVERY=30 DOWN=10 KEEP="" EXTRA=()
while (($#)); do
	case $1 in
	--) shift; EXTRA=("$@"); break ;;
	--minutes) MINUTES=$2; shift 2 ;;
	--smoke) MINUTES=1 EVERY=15 DOWN=6; shift ;;
	--keep) KEEP=1; shift ;;
	*) echo "usage: soak.sh [--minutes N] [--smoke] [--keep]" >&2; exit 2 ;;
	esac
done

renice -n 10 $$ >/dev/null 2>&1 || true
log() { printf 'soak: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
command -v python3 >/dev/null || die "python3 is needed"
command -v tmux >/dev/null || die "tmux is needed (scripts/deps.sh installs it)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sectop-soak.XXXXXX")
chmod 0711 "$WORK"     # the postgres user reaches the cluster inside
# shellcheck source=scripts/stack.sh
source "$ROOT/scripts/stack.sh"
stack_trap
# The servers live inside WORK: stop them before it goes (their pid files
# are how they are found).
soak_cleanup() {
	stack_stop_all
	if [[ -n $KEEP ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
stack_on_exit 'soak_cleanup'
[[ -z $KEEP ]] || export SECTOP_KEEP_STACK=1

BUILD=${SECTOP_SOAK_BUILD:-${top_builddir:-}}
if [[ -z $BUILD ]]; then
	BUILD=$WORK/build
	mkdir -p "$BUILD"
	log "building sectop in $BUILD"
	[[ -x $ROOT/configure ]] || (cd "$ROOT" && autoreconf -fi) >"$WORK/autoreconf.log" 2>&1 ||
		{ tail -n 20 "$WORK/autoreconf.log" >&2; die "autoreconf failed"; }
	(cd "$BUILD" && "$ROOT/configure" && make -j"$(nproc)" sectop) >"$WORK/build.log" 2>&1 ||
		{ tail -n 30 "$WORK/build.log" >&2; die "the build failed"; }
fi
SECTOP=$(cd "$BUILD" && pwd)/sectop
[[ -x $SECTOP ]] || die "$BUILD holds no built sectop"

stack_init "$WORK/stack"
stack_start_all >/dev/null
stack_load_schema
# The index sectop's refresh relies on, as an operator would create it.
"$SECTOP" --print-indexes | sed 's/ CONCURRENTLY//' | stack_psql >/dev/null

echo "date:       $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine:    $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "sectop:     $("$SECTOP" --version 2>/dev/null | head -n 1), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "command:    bench/soak.sh --minutes $MINUTES (a fault every $EVERY s, $DOWN s long)"
python3 "$ROOT/bench/soak.py" --sectop "$SECTOP" --stack-dir "$STACK_DIR" --root "$ROOT" \
	--work "$WORK" --minutes "$MINUTES" --fault-every "$EVERY" --down "$DOWN" "${EXTRA[@]}"
