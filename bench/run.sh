#!/usr/bin/env bash
# bench/run.sh: what a refresh costs at 1 and 10 million audit rows, against
# a naive baseline measured in the same run.  See BENCHMARKS.md.
#
#   bench/run.sh                 # the full run: 1M and 10M rows, ~16 minutes
#   bench/run.sh --smoke         # 20k and 50k rows, short spans, ~40 s: the same table
#   bench/run.sh --live-only     # only the live section (below), ~7 minutes
#   bench/run.sh --live-only --rates 1000   # the live section at these rates only
#   bench/run.sh --markdown FILE # also write the table (and the machine) as Markdown
#   bench/run.sh --keep          # keep the scratch directory (servers' logs, raw figures)
#
# It starts its own PostgreSQL and Redis on loopback (scripts/stack.sh) in a
# scratch directory, stops and removes them at the end, and never touches
# another server.  It needs what scripts/test.sh installs (scripts/deps.sh),
# plus python3 and tmux.  Everything runs under `nice -n 10`.  Not part of CI:
# tests/cli/bench_smoke.sh runs --smoke so that it cannot rot.
#
# Built binaries: SECTOP_BENCH_BUILD=DIR (a configured build directory, e.g.
# build/) or, under `make check`, top_builddir; otherwise the harness
# configures and builds its own copy in the scratch directory.
#
# Data: scripts/seed.sql, a week of the demo's traffic (skewed tenants, ~50k
# addresses, ~3% failures, the attack in its last hour), then the indexes
# `sectop --print-indexes` recommends and VACUUM ANALYZE (what autovacuum
# does).  Redis, once: the contract's keys for a few thousand addresses, the
# demo's keys, and a million unrelated keys (DEBUG POPULATE).
#
# For each size (SMALL, then LARGE), seconds apart on the same rows:
#   naive    bench_refresh --naive: plain full-window GROUP BYs every refresh,
#            in a transaction without the recommended indexes (rolled back)
#   control  (SMALL only) bench_refresh on a table of LARGE rows: SMALL's rows
#            plus older history at SMALL's rate, so SMALL's recent window
#   sectop   bench_refresh: libsectop.a, the console's own loop
# then the console in a pseudo-terminal (term.py: first frame, median of 5
# starts; 60 s idle and 60 s of live attack from scripts/feed.sh at
# --refresh 1s: CPU, RSS, bytes)
# and `sectop report --since 7d` (without and with its rollup) against the
# plain GROUP BYs of report_plain.sql.  table.py prints the table.
#
# Then the live section: for 50, 200 and 1000 events/s (--smoke: 20 for
# 5 s), the table holds the previous 61 minutes filled at that rate
# (bench/live_fill.sql, generate_series; the recommended indexes, VACUUM
# ANALYZE, then the minutes the indexing took are filled too); bench_feed
# inserts that rate as role bench_feeder (small transactions, some held
# open up to 2 s, marker rows) while one console (sectop --refresh 1s in a
# tmux pane, 80x24) reads for 60 s as role bench_sectop, then, on the same
# feed, the naive refresh (bench_refresh --naive-live: the same plain
# GROUP BYs as the naive baseline above, every 1 s, with the recommended
# indexes) for 30 s as role bench_naive: one after the other, so that on
# two cores neither slows the other's queries.  Database time and
# queries per second come from
# pg_stat_statements for each of those roles alone (execution + planning of
# top-level statements; the feeder's inserts and the harness's own
# statements are other roles').  Then five consoles at once (roles
# bench_sectop_1..5) at the last rate, fed on.  bench/live.py runs each
# span; commit-to-screen ages come from the marker rows (see bench_feed.c).
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
BENCH=$ROOT/bench
MODE=full MARKDOWN="" KEEP="" LIVE_ONLY=""

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while (($#)); do
	case $1 in
	--smoke) MODE=smoke ;;
	--live-only) LIVE_ONLY=1 ;;
	--rates) IFS=, read -r -a RATES_ASKED <<<"${2:?--rates needs a list, e.g. 200,1000}"; shift ;;
	--markdown) MARKDOWN=${2:?--markdown needs a file}; shift ;;
	--keep) KEEP=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
	shift
done
[[ -z $MARKDOWN || $MARKDOWN == /* ]] || MARKDOWN=$PWD/$MARKDOWN

renice -n 10 $$ >/dev/null 2>&1 || true
export LANG=C.UTF-8
unset LC_ALL LC_CTYPE

if [[ $MODE == smoke ]]; then
	SMALL=20k SMALL_ROWS=20000 LARGE=50k LARGE_ROWS=50000
	UNRELATED=20000 ADDRESSES=300 SPAN_S=1 SETTLE_S=0.5
	DRIVER=(--firsts 1 --refreshes 3 --bursts 1 --interval-ms 200 --walk-max-s 5)
	LIVE_RATES=(20) LIVE_SPAN_S=5 LIVE_NAIVE_S=3 LIVE_SETTLE_S=1 LIVE_MARKER_MS=1200 LIVE_GRACE_S=3
else
	SMALL=1M SMALL_ROWS=1000000 LARGE=10M LARGE_ROWS=10000000
	UNRELATED=1000000 ADDRESSES=3000 SPAN_S=60 SETTLE_S=3
	DRIVER=(--firsts 5 --refreshes 20 --bursts 5 --interval-ms 250 --walk-max-s 60)
	LIVE_RATES=(50 200 1000) LIVE_SPAN_S=60 LIVE_NAIVE_S=30 LIVE_SETTLE_S=3 LIVE_MARKER_MS=7000
	LIVE_GRACE_S=6
fi
if [[ -n ${RATES_ASKED+x} ]]; then LIVE_RATES=("${RATES_ASKED[@]}"); fi
# The live section: the window filled (minutes: the per-minute line's hour
# and one), the attack's share of the rate, how long a console may take to
# show its first full refresh, how long markers are watched after the span,
# and how long after its commit a marker that is not on screen counts as
# missed (the target is 2 s).  Markers are stamped now() like the traffic;
# the feeder's holds (2 s at most) stay well under the console's tail overlap.
LIVE_FILL_MIN=61 LIVE_ATTACK=0.2 LIVE_READY_S=120 LIVE_BOUND_MS=3000
LIVE_FIVE=5

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
command -v python3 >/dev/null || die "python3 is needed"
command -v tmux >/dev/null || die "tmux is needed (scripts/deps.sh installs it)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sectop-bench.XXXXXX")
R=$WORK/results
mkdir -p "$R"
BENCH_T0=$SECONDS

# shellcheck source=scripts/stack.sh
source "$ROOT/scripts/stack.sh"
stack_trap
stack_on_exit 'bench_cleanup'
bench_cleanup() {
	if [[ -n $KEEP ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
if [[ -n $KEEP ]]; then export SECTOP_KEEP_STACK=1; fi

# ------------------------------------------------------------------ build

BUILD=${SECTOP_BENCH_BUILD:-${top_builddir:-}}
if [[ -z $BUILD ]]; then
	BUILD=$WORK/build
	mkdir -p "$BUILD"
	log "building sectop in $BUILD"
	if [[ ! -x $ROOT/configure ]]; then
		(cd "$ROOT" && autoreconf -fi) >"$WORK/autoreconf.log" 2>&1 ||
			{ tail -n 20 "$WORK/autoreconf.log" >&2; die "autoreconf failed"; }
	fi
	(cd "$BUILD" && "$ROOT/configure" && make -j"$(nproc)" sectop libsectop.a) >"$WORK/build.log" 2>&1 ||
		{ tail -n 30 "$WORK/build.log" >&2; die "the build failed"; }
fi
BUILD=$(cd "$BUILD" && pwd)
SECTOP=$BUILD/sectop
[[ -x $SECTOP && -f $BUILD/libsectop.a && -f $BUILD/Makefile ]] ||
	die "$BUILD holds no built sectop, libsectop.a and Makefile"

# The driver, with the flags of the build it links against (sanitizers too).
mkvar() { sed -n "s/^$1 = //p" "$BUILD/Makefile" | head -n 1; }
drv_cc=$(mkvar CC)
# shellcheck disable=SC2046,SC2086  # flag lists
${drv_cc:-cc} $(mkvar CFLAGS) $(mkvar WARN_CFLAGS) $(mkvar SAN_CFLAGS) \
	$(mkvar LIBPQ_CFLAGS) $(mkvar HIREDIS_CFLAGS) $(mkvar OPENSSL_CFLAGS) $(mkvar LIBCURL_CFLAGS) $(mkvar JANSSON_CFLAGS) \
	-I"$BUILD" -I"$ROOT/src" "$BENCH/bench_refresh.c" "$BUILD/libsectop.a" \
	$(mkvar LIBPQ_LIBS) $(mkvar HIREDIS_LIBS) $(mkvar OPENSSL_LIBS) $(mkvar LIBCURL_LIBS) $(mkvar JANSSON_LIBS) $(mkvar MAXMINDDB_LIBS) \
	$(mkvar LIBS) $(mkvar LDFLAGS) $(mkvar SAN_LDFLAGS) -o "$WORK/bench_refresh" 2>"$WORK/driver.log" ||
	{ cat "$WORK/driver.log" >&2; die "bench/bench_refresh.c does not build"; }
# The feeder: libpq only.
# shellcheck disable=SC2046,SC2086  # flag lists
${drv_cc:-cc} $(mkvar CFLAGS) $(mkvar WARN_CFLAGS) $(mkvar SAN_CFLAGS) $(mkvar LIBPQ_CFLAGS) \
	"$BENCH/bench_feed.c" $(mkvar LIBPQ_LIBS) -lm $(mkvar LDFLAGS) $(mkvar SAN_LDFLAGS) \
	-o "$WORK/bench_feed" 2>"$WORK/feed.log" ||
	{ cat "$WORK/feed.log" >&2; die "bench/bench_feed.c does not build"; }

# ---------------------------------------------------------------- servers

log "servers: PostgreSQL and Redis on loopback ($MODE run)"
stack_init ""
stack_pg_start >/dev/null
stack_redis_start >/dev/null
stack_load_schema
# Planning is database time too: count it (a superuser setting).
_stack_pg_paths
printf '%s\n' "ALTER SYSTEM SET pg_stat_statements.track_planning = on;" "SELECT pg_reload_conf();" |
	_stack_pg_su_sql "$SECTOP_TEST_PG_BIN" "$SECTOP_TEST_PG_PORT" sectop >/dev/null 2>&1 ||
	log "could not turn on pg_stat_statements.track_planning: database times are execution only"
rcli() { redis-cli -h 127.0.0.1 -p "$SECTOP_TEST_REDIS_PORT" "$@"; }
sql() { stack_psql -At "$@"; }
: >"$WORK/empty.conf"
chmod 600 "$WORK/empty.conf"
run_sectop() { "$SECTOP" -c "$WORK/empty.conf" --db "$SECTOP_TEST_DB" --redis "$SECTOP_TEST_REDIS" "$@"; }

# ------------------------------------------------------------------- data

now_s() { echo "${EPOCHREALTIME}"; }
elapsed() { python3 -c "import sys; print('%.3f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }

CTL=audit_log_ctl        # the control's table, while it exists
index_names() { run_sectop --table "$1" --print-indexes | sed -n 's/.*IF NOT EXISTS "\([^"]*\)".*/\1/p'; }
drop_indexes() {
	local i
	for i in $(index_names audit_log); do sql -c "DROP INDEX IF EXISTS \"$i\"" >/dev/null; done
}
# As printed, without CONCURRENTLY: nobody writes meanwhile.
create_indexes() { run_sectop --table "${1:-audit_log}" --print-indexes | sed 's/ CONCURRENTLY//' | stack_psql >/dev/null; }
vacuum() { sql -c "VACUUM (ANALYZE) ${1:-audit_log}" >/dev/null; }

seed() { # ROWS
	local t0
	t0=$(now_s)
	stack_psql -v rows="$1" -f "$ROOT/scripts/seed.sql" >/dev/null
	log "  seeded $1 rows in $(elapsed "$t0" "$(now_s)") s"
}

# N rows of the demo's traffic (diurnal) over DAYS days ending 7 days ago,
# into TABLE: history older than every window and the report's week.
history() { # TABLE N DAYS
	sql -c "SET max_parallel_workers_per_gather = 0" -c "SET work_mem = '256MB'" -c "
		INSERT INTO $1 (\"timestamp\", tenant_id, user_id, action, resource_type, resource_id,
		                ip_address, method, path, status_code, user_agent, details)
		SELECT * FROM sectop_demo_events($2, now() - interval '7 days', make_interval(days => $3), true)
		ORDER BY 1" >/dev/null
}

# The contract's keys for ADDRESSES client addresses (every one rate
# limited, a third with failure counters, a tenth blocked), the demo's keys,
# and UNRELATED keys nobody looks at; then the block the first frame shows.
seed_redis() {
	rcli FLUSHALL >/dev/null
	rcli DEBUG POPULATE "$UNRELATED" bench:unrelated 64 >/dev/null
	"$ROOT/scripts/seed_redis.sh"
	sql -c "SELECT host(ip) FROM sectop_demo_clients ORDER BY rank LIMIT $ADDRESSES" |
		python3 -c '
import json, sys
out = sys.stdout.buffer
def cmd(*a):
    a = [x.encode() for x in a]
    out.write(b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a))
for i, ip in enumerate(l.strip() for l in sys.stdin):
    cmd("SET", "ratelimit:" + ip, str(1 + i % 97), "EX", "86400")
    if i % 3 == 0:
        cmd("SET", "failed_auth:" + ip, str(1 + i % 13), "EX", "86400")
    if i % 10 == 0:
        cmd("SET", "blocked:" + ip, json.dumps({"by": "bench", "reason": "load", "at": 1700000000}),
            "EX", "86400")
' | rcli --pipe >/dev/null
	rcli SET blocked:203.0.113.45 1 EX 86400 >/dev/null
	log "  redis: $(rcli DBSIZE) keys ($UNRELATED unrelated)"
}

# ------------------------------------------------------------ measurements

driver() { # OUT ARGS...
	local out=$1
	shift
	"$WORK/bench_refresh" --db "$SECTOP_TEST_DB" --redis "$SECTOP_TEST_REDIS" \
		--redis-port "$SECTOP_TEST_REDIS_PORT" "${DRIVER[@]}" "$@" >"$out" 2>"$out.err" ||
		{ cat "$out.err" >&2; die "bench_refresh $* failed"; }
}
naive() { # OUT: the same table without the recommended indexes (rolled back)
	local args=() i
	for i in $(index_names audit_log); do args+=(--drop-index "$i"); done
	driver "$1" --naive "${args[@]}"
}

# span.sh begin|end NAME [SECONDS]: the database time of a console span.
cat >"$WORK/span.sh" <<'EOF'
#!/usr/bin/env bash
# pg_stat_statements around one span of term.py: sectop's statements only
# (top level; the feeder's calls of sectop_demo_* are left out).
q="SELECT coalesce(sum(total_exec_time + total_plan_time), 0), coalesce(sum(calls), 0)
     FROM pg_stat_statements
    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND toplevel AND query NOT ILIKE '%pg_stat_statements%' AND query NOT ILIKE '%sectop_demo%'"
p() { "$SECTOP_TEST_PG_BIN/psql" -X -q -At -F ' ' "$SECTOP_TEST_DB" -c "$1"; }
case $1 in
begin) p "SELECT pg_stat_statements_reset()" >/dev/null ;;
end) p "$q" | awk -v n="$2" -v s="$3" '{ printf "%s_db_ms_per_min %.3f\n%s_queries_per_min %.3f\n", n, $1 * 60 / s, n, $2 * 60 / s }' ;;
esac
EOF
chmod +x "$WORK/span.sh"

# The console in a pseudo-terminal; afterwards the feeder's rows go again.
console() { # LABEL ROWS
	local per_min=$(($2 / 10080)) since
	since=$(sql -c "SELECT now()")
	python3 "$BENCH/term.py" --idle-s "$SPAN_S" --attack-s "$SPAN_S" --settle-s "$SETTLE_S" \
		--span-cmd "$WORK/span.sh" \
		--attack-cmd "FEED_NORMAL=$per_min FEED_ATTACK=600 exec $ROOT/scripts/feed.sh" \
		-- "$SECTOP" -c "$WORK/empty.conf" --db "$SECTOP_TEST_DB" --redis "$SECTOP_TEST_REDIS" \
		--refresh 1s >"$R/console.$1" 2>"$R/console.$1.err" ||
		{ cat "$R/console.$1" "$R/console.$1.err" >&2; die "the console measurement failed"; }
	sql -c "DELETE FROM audit_log WHERE \"timestamp\" >= '$since'" >/dev/null
	vacuum
}

# sectop's database time since a pss_reset, in seconds (span.sh's query).
pss_reset() { sql -c "SELECT pg_stat_statements_reset()" >/dev/null; }
pss_seconds() {
	sql -c "SELECT round((coalesce(sum(total_exec_time + total_plan_time), 0) / 1000)::numeric, 3)
	          FROM pg_stat_statements
	         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
	           AND toplevel AND query NOT ILIKE '%pg_stat_statements%'"
}
# cmd_stat COMMAND calls|usec: from INFO commandstats, 0 if never called
# ("cmdstat_get:calls=12,usec=34,usec_per_call=2.83,rejected_calls=0,...")
cmd_stat() {
	rcli INFO commandstats | tr -d '\r' | awk -F '[:,=]' -v c="cmdstat_$1" -v f="$2" '
		$1 == c { for (i = 2; i < NF; i += 2) if ($i == f) v = $(i + 1) } END { print v + 0 }'
}
redis_usec() {
	rcli INFO commandstats | tr -d '\r' | awk -F '[:,=]' '
		/^cmdstat_/ { for (i = 2; i < NF; i += 2) if ($i == "usec") s += $(i + 1) } END { print s + 0 }'
}
scan_calls() { cmd_stat scan calls; }
scan_usec() { cmd_stat scan usec; }
seconds_since() { python3 -c "print('%.3f' % (($2 - ${1:-0}) / 1e6))"; } # USEC0 USEC1

# run_timed KEY OUT ARGS...: `sectop ARGS`, its wall time as KEY in OUT.
# 1: `sectop report`/`setup` is not a command of this build; 2: it failed.
run_timed() {
	local key=$1 out=$2 t0 rc=0
	shift 2
	t0=$(now_s)
	run_sectop "$@" >"$WORK/cmd.out" 2>"$WORK/cmd.err" || rc=$?
	if ((rc == 2)) && grep -qi "unknown command" "$WORK/cmd.err"; then
		return 1
	fi
	if ((rc != 0 && rc != 3)); then     # 3: a source did not answer, still a report
		log "  sectop $* exited $rc: $(head -c 300 "$WORK/cmd.err")"
		return 2
	fi
	echo "$key $(elapsed "$t0" "$(now_s)")" >>"$out"
}

# The report: plain GROUP BYs (bench/report_plain.sql), then `sectop report
# --since 7d` without its rollup, `sectop setup --rollup` (once), and the
# report with the rollup, twice; its database time and Redis work; then
# without Redis, and with --all-blocks (a walk of the keyspace).
report() { # LABEL
	local out=$R/report.$1 t0 s0 u0
	t0=$(now_s)
	stack_psql -f "$BENCH/report_plain.sql" >/dev/null
	echo "plain_s $(elapsed "$t0" "$(now_s)")" >"$out"
	run_timed report_norollup_s "$out" report --since 7d || { touch "$R/report.missing"; return 0; }
	run_timed setup_s "$out" setup --rollup || return 0
	pss_reset
	s0=$(scan_calls)
	g0=$(cmd_stat get calls)
	u0=$(redis_usec)
	run_timed report_s "$out" report --since 7d || return 0
	echo "report_db_s $(pss_seconds)" >>"$out"
	echo "report_scans $(($(scan_calls) - s0))" >>"$out"
	echo "report_gets $(($(cmd_stat get calls) - g0))" >>"$out"
	echo "report_redis_server_s $(seconds_since "$u0" "$(redis_usec)")" >>"$out"
	run_timed report_again_s "$out" report --since 7d || true
	# the same without Redis (nobody listens on port 1): what Redis adds
	run_timed report_noredis_s "$out" report --since 7d --redis redis://127.0.0.1:1/0 || true
	# every block key, by a walk of the keyspace, as before look-ups
	s0=$(scan_calls)
	u0=$(scan_usec)
	run_timed report_walk_s "$out" report --since 7d --all-blocks || true
	echo "report_walk_scans $(($(scan_calls) - s0))" >>"$out"
	echo "report_walk_scan_server_s $(seconds_since "$u0" "$(scan_usec)")" >>"$out"
	run_sectop setup --drop-rollup >/dev/null 2>&1 || log "  could not drop the rollup"
}

# SMALL, and the control: SMALL's rows plus older history at SMALL's rate
# up to LARGE rows, in a table of its own, measured seconds apart.
small_phase() {
	local extra=$((LARGE_ROWS - SMALL_ROWS)) days t0
	days=$((7 * extra / SMALL_ROWS))
	log "$SMALL rows, and the control: $LARGE rows with $SMALL's recent window"
	sql -c "DROP TABLE IF EXISTS $CTL" -c "CREATE TABLE $CTL (LIKE audit_log INCLUDING ALL)" >/dev/null
	t0=$(now_s)
	history "$CTL" "$extra" "$days"
	log "  control: $extra rows over the $days days before the week, in $(elapsed "$t0" "$(now_s)") s"
	seed "$SMALL_ROWS"
	sql -c "INSERT INTO $CTL SELECT * FROM audit_log" >/dev/null
	create_indexes
	create_indexes "$CTL"
	vacuum
	vacuum "$CTL"
	log "  naive baseline: plain GROUP BYs without the recommended indexes"
	naive "$R/naive.$SMALL"
	log "  control: sectop on $LARGE rows, $SMALL's window"
	driver "$R/control.$LARGE" --table "$CTL" --walk-max-s 0
	log "  sectop: refreshes through libsectop.a"
	driver "$R/sectop.$SMALL"
	sql -c "DROP TABLE $CTL" >/dev/null
	client_phase "$SMALL" "$SMALL_ROWS"
}

large_phase() {
	log "$LARGE rows"
	drop_indexes
	seed "$LARGE_ROWS"
	create_indexes
	vacuum
	log "  naive baseline: plain GROUP BYs without the recommended indexes"
	naive "$R/naive.$LARGE"
	log "  sectop: refreshes through libsectop.a"
	driver "$R/sectop.$LARGE"
	client_phase "$LARGE" "$LARGE_ROWS"
}

client_phase() { # LABEL ROWS
	log "  the console: ${SPAN_S} s idle, ${SPAN_S} s under a live attack"
	console "$1" "$2"
	log "  sectop report --since 7d"
	report "$1"
}

# ------------------------------------------------------------------- live

# Roles of their own, so that pg_stat_statements (keyed by userid) tells
# each one's statements apart: random passwords, in PGPASSFILE only.
LIVE_ROLES=(bench_feeder bench_naive bench_sectop)
for ((i = 1; i <= LIVE_FIVE; i++)); do LIVE_ROLES+=("bench_sectop_$i"); done
live_conninfo() { echo "host=127.0.0.1 port=$SECTOP_TEST_PG_PORT dbname=sectop user=$1"; }
live_roles() {
	local r pw
	for r in "${LIVE_ROLES[@]}"; do
		pw=$(_stack_random)
		_stack_pg_su_sql "$SECTOP_TEST_PG_BIN" "$SECTOP_TEST_PG_PORT" sectop >/dev/null <<EOF
SET log_min_error_statement = panic;
SET log_statement = 'none';
SET pg_stat_statements.track_utility = off;
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$r') THEN CREATE ROLE $r LOGIN; END IF;
END \$\$;
ALTER ROLE $r PASSWORD '$pw';
EOF
		printf '127.0.0.1:%s:*:%s:%s\n' "$SECTOP_TEST_PG_PORT" "$r" "$pw" >>"$PGPASSFILE"
		# (not the views of pg_stat_statements: the superuser owns them)
		sql -c "SET client_min_messages = error" -c "GRANT SELECT ON ALL TABLES IN SCHEMA public TO $r" >/dev/null
	done
	sql -c "GRANT INSERT ON audit_log TO bench_feeder" >/dev/null
}

# live_fill RATE: the table as the window filled at RATE up to now.
live_fill() {
	local t0 n to half p1 p2
	t0=$(now_s)
	drop_indexes
	sql -c "TRUNCATE audit_log" >/dev/null
	# two sessions, two cores: the older half and the newer
	to=$(sql -c "SELECT now()")
	half=$((LIVE_FILL_MIN / 2))
	sql -c "SET work_mem = '256MB'" -c "SELECT sectop_bench_fill($1,
		'$to'::timestamptz - interval '$LIVE_FILL_MIN minutes', '$to'::timestamptz - interval '$half minutes',
		$LIVE_ATTACK)" >"$WORK/fill.1" &
	p1=$!
	sql -c "SET work_mem = '256MB'" -c "SELECT sectop_bench_fill($1,
		'$to'::timestamptz - interval '$half minutes', '$to'::timestamptz, $LIVE_ATTACK)" >"$WORK/fill.2" &
	p2=$!
	wait "$p1" || die "filling the window failed"
	wait "$p2" || die "filling the window failed"
	n=$(($(<"$WORK/fill.1") + $(<"$WORK/fill.2")))
	create_indexes
	vacuum
	# the minutes the indexes and the vacuum took, at the same rate
	n=$((n + $(sql -c "SELECT sectop_bench_fill($1, (SELECT max(\"timestamp\") FROM audit_log), now(), $LIVE_ATTACK)")))
	log "  filled $LIVE_FILL_MIN minutes at $1 events/s: $n rows in $(elapsed "$t0" "$(now_s)") s"
}

live_console() { # ROLE: the console's command line, for a tmux pane
	printf '%q ' "$SECTOP" -c "$WORK/empty.conf" --db "$(live_conninfo "$1")" \
		--redis "$SECTOP_TEST_REDIS" --refresh 1s
}

# live_span OUT RATE CONSOLES [naive]: one span of bench/live.py.  Each
# span's markers have numbers (addresses) of their own: older ones are still
# in the window.
LIVE_SPAN_NO=0
live_span() {
	local out=$1 rate=$2 n=$3 naive=${4:-} args=() i role feed_s
	feed_s=$((LIVE_READY_S + LIVE_SPAN_S + LIVE_GRACE_S + LIVE_NAIVE_S + 60))
	LIVE_SPAN_NO=$((LIVE_SPAN_NO + 1))
	# an earlier span's markers would outrank this one's among the top addresses
	sql -c "DELETE FROM audit_log WHERE ip_address <<= '198.18.0.0/15'" >/dev/null
	if ((n == 1)); then
		args+=(--console "bench_sectop=$(live_console bench_sectop)")
	else
		for ((i = 1; i <= n; i++)); do
			role=bench_sectop_$i
			args+=(--console "$role=$(live_console "$role")")
		done
	fi
	if [[ -n $naive ]]; then
		args+=(--naive-role bench_naive --naive-s "$LIVE_NAIVE_S" --naive "$(printf '%q ' \
			"$WORK/bench_refresh" --db "$(live_conninfo bench_naive)" --naive-live "$LIVE_NAIVE_S" \
			--interval-ms 1000)")
	fi
	python3 "$BENCH/live.py" --span-s "$LIVE_SPAN_S" --settle-s "$LIVE_SETTLE_S" \
		--ready-timeout-s "$LIVE_READY_S" --grace-s "$LIVE_GRACE_S" --poll-ms $((n == 1 ? 50 : 100)) \
		--bound-ms "$LIVE_BOUND_MS" --statements "$WORK/statements" \
		--tmux "$WORK/tmux.sock" --markers "$WORK/markers" \
		--psql "$(printf '%q ' "$SECTOP_TEST_PG_BIN/psql" -X -q "$SECTOP_TEST_DB")" \
		--feed "$(printf '%q ' "$WORK/bench_feed" --db "$(live_conninfo bench_feeder)" \
			--rate "$rate" --seconds "$feed_s" --attack-share "$LIVE_ATTACK" \
			--marker-every-ms "$LIVE_MARKER_MS" \
			--markers "$WORK/markers" --marker-base $((LIVE_SPAN_NO * 1000)))" \
		"${args[@]}" >"$out" 2>"$out.err" ||
		{ cat "$out" "$out.err" >&2; die "the live measurement at $rate events/s failed"; }
}

live_phase() {
	local rate last=${LIVE_RATES[-1]}
	log "live: ${LIVE_RATES[*]} events/s: a console ${LIVE_SPAN_S} s, then the naive refresh ${LIVE_NAIVE_S} s"
	stack_psql -f "$BENCH/live_fill.sql" >/dev/null
	live_roles
	for rate in "${LIVE_RATES[@]}"; do
		live_fill "$rate"
		log "  $rate events/s: the console, then the naive refresh"
		live_span "$R/live.$rate" "$rate" 1 naive
	done
	log "  $last events/s: $LIVE_FIVE consoles at once, ${LIVE_SPAN_S} s"
	live_span "$R/live5.$last" "$last" "$LIVE_FIVE"
}

log "the demo's generator and Redis"
seed 0
seed_redis
if [[ -z $LIVE_ONLY ]]; then
	small_phase
	large_phase
fi
live_phase
keys_total=$(rcli INFO commandstats | sed -n 's/^cmdstat_keys:calls=\([0-9]*\).*/\1/p')
LIVE_CSV=$(IFS=,; echo "${LIVE_RATES[*]}")
TABLE_ARGS=(--live "$LIVE_CSV")
[[ -z $LIVE_ONLY ]] || TABLE_ARGS+=(--no-main)

# ------------------------------------------------------------------ output

machine() {
	local cpu
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	echo "date:       $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine:    $(nproc) cores ($cpu), $(free -h | awk '/^Mem:/ { print $2 }') RAM, $(uname -sr)"
	echo "postgresql: $(sql -c 'SHOW server_version') (shared_buffers $(sql -c 'SHOW shared_buffers'), work_mem $(sql -c 'SHOW work_mem'))"
	echo "redis:      $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), $(rcli DBSIZE) keys at the end"
	echo "sectop:     $("$SECTOP" --version), $(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo "no git")"
	echo "command:    bench/run.sh$([[ $MODE == smoke ]] && echo " --smoke")$([[ -n $LIVE_ONLY ]] && echo " --live-only") ($((SECONDS - BENCH_T0)) s, under nice -n 10)"
	echo "planning:   $(sql -c 'SHOW pg_stat_statements.track_planning' | sed -n 's/^on$/database time = execution + planning (pg_stat_statements)/p')"
}
{
	echo
	machine
	echo
	python3 "$BENCH/table.py" "$R" "$SMALL" "$LARGE" "${TABLE_ARGS[@]}"
	echo
	echo "KEYS calls over the whole run (INFO commandstats): ${keys_total:-0}"
	[[ ! -e $R/report.missing ]] || echo "report: n/a: \`sectop report\` is not a known command of this build"
}
if [[ -n $MARKDOWN ]]; then
	{
		echo '```'
		machine
		echo '```'
		echo
		python3 "$BENCH/table.py" "$R" "$SMALL" "$LARGE" --markdown "${TABLE_ARGS[@]}"
	} >"$MARKDOWN"
	log "wrote $MARKDOWN"
fi
