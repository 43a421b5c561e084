#!/usr/bin/env bash
# bench/report.sh: what `sectop report --since 7d` costs on a week of 10
# million audit rows, without and with the rollup, against the plain per-day
# GROUP BY over the same week, measured in the same run.
#
#   bench/report.sh                      # 10M rows in a scratch stack, removed at the end
#   bench/report.sh --dir /tmp/rpt      # keep the stack there; a second run reuses its rows
#   bench/report.sh --rows 1000000      # another size
#   bench/report.sh --runs 7            # timed runs of each command (median and worst)
#
# It starts its own PostgreSQL and Redis on loopback (scripts/stack.sh) and
# touches no other server.  Seeding 10M rows with scripts/seed.sql takes a
# few minutes and is done once per --dir; everything runs under nice.  The
# binary: SECTOP_BENCH_BUILD=DIR (a built tree), else build/ beside this
# script.  Times are wall-clock seconds, warm (each command runs once before
# it is timed).
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
ROWS=10000000 RUNS=5 DIR=""
while (($#)); do
	case $1 in
	--rows) ROWS=${2:?--rows needs a number}; shift ;;
	--runs) RUNS=${2:?--runs needs a number}; shift ;;
	--dir) DIR=${2:?--dir needs a directory}; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
	shift
done
BUILD=${SECTOP_BENCH_BUILD:-$ROOT/build}
SECTOP=$BUILD/sectop
[[ -x $SECTOP ]] || { echo "bench: no $SECTOP (build first, or set SECTOP_BENCH_BUILD)" >&2; exit 2; }

# shellcheck source=scripts/stack.sh
source "$ROOT/scripts/stack.sh"
stack_trap
stack_start_all "$DIR" >/dev/null
stack_load_schema
say() { printf 'bench: %s\n' "$*" >&2; }
pg() { nice -n 19 "$SECTOP_TEST_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$SECTOP_TEST_DB" "$@"; }
psql_q() { pg -At "$@"; }
run_sectop() { nice -n 10 "$SECTOP" --db "$SECTOP_TEST_DB" --redis "$SECTOP_TEST_REDIS" "$@"; }

# --- the rows: once per directory ------------------------------------------------
have=$(psql_q -c "SELECT count(*) FROM audit_log")
if ((have < ROWS)); then
	say "seeding $ROWS rows with scripts/seed.sql (a few minutes)"
	run_sectop setup --drop-rollup >/dev/null
	pg -v rows="$ROWS" -f "$ROOT/scripts/seed.sql" >/dev/null
	"$SECTOP" --print-indexes | sed 's/ CONCURRENTLY//' | pg >/dev/null
	pg -c "VACUUM ANALYZE audit_log" >/dev/null
	have=$(psql_q -c "SELECT count(*) FROM audit_log")
fi
say "audit_log: $have rows, $(psql_q -c "SELECT pg_size_pretty(pg_total_relation_size('audit_log'))")"

# --- timing -----------------------------------------------------------------------
# seconds CMD...: wall-clock seconds of one run
seconds() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'
}
# timed LABEL CMD...: one warm-up run, then RUNS timed; prints median and worst
declare -a TABLE=()
timed() {
	local label=$1 t all=()
	shift
	"$@" >/dev/null || true
	for ((i = 0; i < RUNS; i++)); do
		t=$(seconds "$@" || true)
		all+=("$t")
	done
	local sorted median worst
	sorted=$(printf '%s\n' "${all[@]}" | sort -n)
	median=$(sed -n "$(((RUNS + 1) / 2))p" <<<"$sorted")
	worst=$(tail -n 1 <<<"$sorted")
	TABLE+=("$(printf '%-58s %8s s %8s s' "$label" "$median" "$worst")")
	say "$label: median $median s, worst $worst s"
}
plain_per_day() {
	"$SECTOP_TEST_PG_BIN/psql" -X -q "$SECTOP_TEST_DB" -c "SELECT date_trunc('day', \"timestamp\"), count(*),
	  count(*) FILTER (WHERE action IN ('failed_auth', 'unauthorized_access', 'authentication_failed')
	                   OR status_code IN (401, 403))
	  FROM audit_log WHERE \"timestamp\" >= now() - interval '7 days' GROUP BY 1 ORDER BY 1"
}
report() { run_sectop report --since 7d --format json "$@"; }

timed "plain per-day GROUP BY over the week (psql)" plain_per_day

run_sectop setup --drop-rollup >/dev/null
timed "sectop report --since 7d, no rollup" report

t_setup=$(seconds run_sectop setup --rollup)
TABLE+=("$(printf '%-58s %8s s   (once)' "sectop setup --rollup: the whole table" "$t_setup")")
say "setup --rollup: $t_setup s"
timed "sectop report --since 7d, rollup" report
timed "sectop report --since 7d --tenant acme, rollup" report --tenant acme
timed "sectop report --since 7d --format html, rollup" report --format html
# the per-query figures of one more run, from the report's own log
log=$(mktemp)
report --log "$log" -v >/dev/null
printf '\n%-58s %10s %10s\n' "$have rows, 7 days, $(nproc) cores" "median" "worst"
printf '%s\n' "${TABLE[@]}"
printf '\none run, step by step (sectop report --since 7d --log FILE -v):\n'
sed -n 's/.*info report: /  /p' "$log"
rm -f "$log"
