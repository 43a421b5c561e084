#!/usr/bin/env bash
# The benchmark harness in its smoke mode (bench/run.sh --smoke: 20k and 50k
# rows, one-second spans, the live section at 20 events/s for 5 s, its own
# PostgreSQL and Redis), so that it cannot
# rot: it must run to the end and print every row of its table with a
# number, never NaN.  The figures themselves are not judged here: speed and
# memory are measured by the full run (BENCHMARKS.md), not by timed tests.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "skip: no python3" >&2; exit 77; }
command -v tmux >/dev/null 2>&1 || { echo "skip: no tmux (the live section's consoles run in it)" >&2; exit 77; }
if ! command -v redis-server >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	[ "${SECTOP_REQUIRE_SERVERS:-0}" = 1 ] && { echo "no PostgreSQL or Redis server binaries" >&2; exit 99; }
	echo "skip: no PostgreSQL or Redis server binaries (scripts/deps.sh installs them)" >&2
	exit 77
fi
: "${top_builddir:?top_builddir must name the build directory (make check sets it)}"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
SECTOP_BENCH_BUILD=$top_builddir "$top_srcdir/bench/run.sh" --smoke >"$out" 2>&1
rc=$?
check "bench/run.sh --smoke exits 0 (exit $rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || sed 's/^/# | /' "$out"

rows=(
	"db: first full refresh (fresh connection)"
	"db: steady refresh, nothing new"
	"db: refresh after a 500-row burst"
	"db: first refresh, 50k rows, 20k-rate window"
	"db: steady refresh, 50k rows, 20k-rate window"
	"db: burst refresh, 50k rows, 20k-rate window"
	"db: queries, first refresh"
	"db: queries, steady refresh"
	"db: queries, burst refresh"
	"db: time per minute, idle console (1 s refresh)"
	"db: time per minute, console under live attack"
	"client: first refresh, wall incl. connect"
	"client: steady refresh, wall"
	"client: burst refresh, wall"
	"redis: commands per refresh"
	"redis: round trips per refresh"
	"redis: SCAN steps per refresh"
	"redis: server time per refresh"
	"redis: server time per second, one console (refresh 2 s)"
	"redis: SCAN steps per second, one console"
	"redis: seconds per full pass of the paced walk"
	"redis: KEYS calls (INFO commandstats)"
	"console: CPU, idle, refresh 1 s"
	"console: CPU, live attack, refresh 1 s"
	"console: peak RSS"
	"console: start to first complete frame (median of 5)"
	"console: start to first complete frame, slowest of 5"
	"console: terminal output, idle"
	"console: terminal output, live attack"
	"report --since 7d, no rollup"
	"setup --rollup (once)"
	"report --since 7d, with rollup"
	"report --since 7d, with rollup, again"
	"report: database time, with rollup"
	"report: Redis SCAN calls"
	"report: Redis GETs (block keys looked up)"
	"report: Redis server time"
	"report --since 7d --all-blocks (keyspace walk)"
	"report --all-blocks: SCAN calls"
	"report --all-blocks: Redis server time of its SCANs"
	"rows in the 15-minute window, measured"
	"rows in the probe's range, steady"
)
# A row: its label, its unit, then the 20k and 50k figures, both numbers;
# "-" for 20k in the control rows.  The report's rows may say "n/a (...)":
# `sectop report` is not the harness, and may not be built yet.
row_ok() { # LABEL
	python3 - "$out" "$1" <<'PY'
import re, sys
text, label = open(sys.argv[1]).read().splitlines(), sys.argv[2]
num = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
for line in text:
    if line.startswith(label + "  "):
        f = re.split(r" {2,}", line.strip())
        small, large = f[2], f[3]
        if label.startswith(("report", "setup")) and small.startswith("n/a") and large.startswith("n/a"):
            sys.exit(0)
        if label.endswith("window"):
            sys.exit(0 if small == "-" and num.match(large) else 1)
        sys.exit(0 if num.match(small) and num.match(large) else 1)
sys.exit(1)
PY
}
for r in "${rows[@]}"; do
	check "row: $r" row_ok "$r"
done

# The live section's table: one column per rate (the smoke's one: 20/s),
# a number in it for every row.
live_rows=(
	"live: db time per second, console (1 s refresh)"
	"live: db time per second, naive refresh (1 s)"
	"live: queries per second, console"
	"live: queries per second, naive refresh"
	"live: naive refresh, wall (mean)"
	"live: naive refresh, wall (slowest)"
	"live: commit to screen, median"
	"live: commit to screen, slowest"
	"live: markers committed in the span"
	"live: markers never on screen"
	"live: console CPU"
	"live: console peak RSS"
	"live: console drew the figures (first refresh in time)"
	"live: feeder rate achieved"
	"live: feeder backlog, most"
	"live x5: db time per second per console (mean)"
	"live x5: db time per second per console (most)"
	"live x5: db time per second, five consoles"
	"live x5: queries per second per console (mean)"
	"live x5: CPU per console (mean)"
	"live x5: CPU per console (most)"
	"live x5: peak RSS (largest console)"
	"live x5: commit to screen, median"
	"live x5: commit to screen, slowest"
	"live x5: markers never on screen"
	"live x5: consoles that drew the figures"
)
live_ok() { # LABEL
	python3 - "$out" "$1" <<'PY'
import re, sys
text, label = open(sys.argv[1]).read().splitlines(), sys.argv[2]
# ">3000": the slowest age when a marker never reached the screen
num = re.compile(r"^>?-?[0-9]+(\.[0-9]+)?$")
for line in text:
    if line.startswith(label + "  "):
        f = re.split(r" {2,}", line.strip())
        sys.exit(0 if len(f) > 2 and num.match(f[2]) else 1)
sys.exit(1)
PY
}
check "the live table has a 20/s column" grep -qE "^figure +unit +20/s " "$out"
for r in "${live_rows[@]}"; do
	check "live row: $r" live_ok "$r"
done
check "the feeder kept its rate (20 events/s)" grep -qE "^live: feeder rate achieved +events/s +(19\.[5-9]|20\.0)" "$out"
# shellcheck disable=SC2016  # $1 is bash -c's
check "no NaN or inf anywhere" bash -c '! grep -qiE "\b(nan|inf)\b" "$1"' _ "$out"
check "KEYS never called" grep -q "^KEYS calls over the whole run (INFO commandstats): 0$" "$out"
check "the machine is described" grep -q "^postgresql: " "$out"
finish
