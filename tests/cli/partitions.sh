#!/usr/bin/env bash
# A partitioned audit log, as pg_partman keeps one (daily partitions, some
# made ahead), in a cluster of the test's own with auto_explain logging
# every plan: --print-indexes gives DDL that applies and makes the parent's
# indexes valid (for pg_partman's table and for one partitioned by hand);
# the console, snapshot, report (with and without its rollup) and an action
# work, with figures equal to independent SQL; and the plan of every query
# sectop sends touches only the partitions of its time range.
. "$(dirname "$0")/lib.sh"
need_servers SECTOP_TEST_REDIS SECTOP_TEST_PG_BIN
command -v tmux >/dev/null || { echo "skip: no tmux" >&2; exit 77; }
if [ ! -f "$("$SECTOP_TEST_PG_BIN/pg_config" --sharedir 2>/dev/null)/extension/pg_partman.control" ]; then
	[ "${SECTOP_REQUIRE_SERVERS:-0}" = 1 ] && { echo "pg_partman is not installed" >&2; exit 99; }
	echo "skip: pg_partman is not installed (Debian: postgresql-15-partman)" >&2
	exit 77
fi

work=$(mktemp -d)
. "$(dirname "$0")/pgcluster.sh"
sock=tmux-part-$$
redis_url="${SECTOP_TEST_REDIS%/*}/21"
export XDG_STATE_HOME=$work/state SECTOP_OPERATOR=carol
trap 'tmux -L "$sock" kill-server 2>/dev/null; cluster_stop_all; redis-cli -u "$redis_url" FLUSHDB >/dev/null 2>&1; rm -rf "$work"' EXIT

port=$(free_port)
cluster_init "$work/pg" "$port" "session_preload_libraries = 'auto_explain'" \
	"auto_explain.log_min_duration = 0" "auto_explain.log_format = json" \
	"auto_explain.log_nested_statements = on" "log_line_prefix = '@@%a@@ '"
su() { psql_as "$port" postgres sectop "$@"; }
su -c "CREATE EXTENSION pgcrypto" -c "CREATE SCHEMA partman" -c "CREATE EXTENSION pg_partman SCHEMA partman"
psql_at "$port" -f "$(contract_schema)" >/dev/null
# The contract's columns, partitioned by day: the primary key must hold the
# partition key.
psql_at "$port" <<'SQL'
ALTER TABLE audit_log RENAME TO audit_log_contract;
CREATE TABLE audit_log (LIKE audit_log_contract INCLUDING DEFAULTS, PRIMARY KEY (id, "timestamp"))
  PARTITION BY RANGE ("timestamp");
CREATE TABLE audit_hand (LIKE audit_log_contract INCLUDING DEFAULTS, PRIMARY KEY (id, "timestamp"))
  PARTITION BY RANGE ("timestamp");
DROP TABLE audit_log_contract;
SELECT format('CREATE TABLE audit_hand_%s PARTITION OF audit_hand FOR VALUES FROM (%L) TO (%L)',
              to_char(d, 'YYYYMMDD'), d, d + interval '1 day')
  FROM generate_series(date_trunc('day', now() AT TIME ZONE 'UTC') - interval '3 days',
                       date_trunc('day', now() AT TIME ZONE 'UTC') + interval '2 days', interval '1 day') d \gexec
CREATE TABLE audit_hand_default PARTITION OF audit_hand DEFAULT;
SQL
su -c "SELECT partman.create_parent('public.audit_log', 'timestamp', 'native', 'daily',
         p_premake := 3, p_start_partition := (now() - interval '10 days')::text)" >/dev/null
parts=$(psql_at "$port" -c "SELECT count(*) FROM pg_partition_tree('audit_log') WHERE isleaf")
check "pg_partman made daily partitions, past and ahead ($parts)" [ "$parts" -ge 14 ]

# Ten days of traffic, and an attack in the last minutes.
psql_at "$port" <<'SQL'
INSERT INTO audit_log ("timestamp", tenant_id, user_id, action, ip_address, path, status_code)
SELECT now() - g * interval '7 minutes', 't' || (g % 5), 'u' || (g % 40),
       CASE WHEN g % 9 = 0 THEN 'failed_auth' ELSE 'api_request' END,
       ('198.51.100.' || (g % 50 + 1))::inet, '/v1/items', CASE WHEN g % 9 = 0 THEN 401 ELSE 200 END
FROM generate_series(1, 2000) g;
INSERT INTO audit_log ("timestamp", tenant_id, user_id, action, ip_address, path, status_code)
SELECT now() - (g % 500) * interval '1 second', 'acme', 'admin' || (g % 3), 'failed_auth',
       '203.0.113.66', '/login', 401 FROM generate_series(1, 333) g;
SQL

# --- --print-indexes ------------------------------------------------------------
for t in audit_log audit_hand; do
	"$SECTOP" --db "host=127.0.0.1 port=$port dbname=sectop user=sectop" --table "$t" --print-indexes >"$work/$t.sql" 2>"$work/$t.err"
	check "--print-indexes on $t: partition by partition" grep -q "ON ONLY" "$work/$t.sql"
	su -f "$work/$t.sql" >"$work/$t.apply" 2>&1
	check "... the DDL applies" [ $? -eq 0 ]
	check "... and the parent's three indexes are valid" \
		[ "$(su -c "SELECT count(*) FILTER (WHERE indisvalid) FROM pg_index WHERE indrelid = '$t'::regclass
		             AND indexrelid::regclass::text IN ('${t}_ts_id', '${t}_failures_ts_ip', '${t}_ip_ts')")" = 3 ]
	"$SECTOP" --db "host=127.0.0.1 port=$port dbname=sectop user=sectop" --table "$t" --print-indexes >"$work/$t.again"
	check "... and printed again, no partition is left to do" [ "$(grep -c 'CONCURRENTLY IF NOT EXISTS' "$work/$t.again")" = 0 ]
done
su -c "ANALYZE audit_log" -c "ANALYZE audit_hand"

# --- every query, logged with its plan -------------------------------------------
log=$work/pg.log
offset=$(stat -c %s "$log")
db="host=127.0.0.1 port=$port dbname=sectop user=sectop"
run() { "$SECTOP" --db "$db" --redis "$redis_url" "$@" </dev/null; }
in_window="\"timestamp\" >= date_trunc('minute', now()) - interval '15 minutes'"
run snapshot --format json >"$work/s.json"
check "snapshot exits 0" [ $? -eq 0 ]
want=$(psql_at "$port" -c "SELECT count(*) FROM audit_log WHERE ip_address = '203.0.113.66' AND $in_window")
check "the attacker's failures equal SQL's ($want)" [ "$(jpath "$work/s.json" 'd["top_ips"][0]["ip"], d["top_ips"][0]["failures"]')" = "('203.0.113.66', $want)" ]
want=$(psql_at "$port" -c "SELECT count(*) FROM audit_log WHERE $in_window")
check "the tenants' requests add up to SQL's ($want)" [ "$(jpath "$work/s.json" 'sum(t["requests"] for t in d["tenants"])')" = "$want" ]

tmux -L "$sock" new-session -d -x 120 -y 40 \
	"env TERM=xterm-256color XDG_STATE_HOME=$work/state '$SECTOP' --db '$db' --redis '$redis_url' --refresh 500ms"
screen_shows() { # PATTERN: within 15 s
	local i
	for i in $(seq 60); do
		tmux -L "$sock" capture-pane -p | grep -q -- "$1" && return 0
		sleep 0.25
	done
	return 1
}
check "the console reads the partitioned table" screen_shows "203.0.113.66"
tmux -L "$sock" send-keys 1 g Enter
check "... an address's drill-down" screen_shows "Address 203.0.113.66"
check "... with its users" screen_shows "Users (3)"
tmux -L "$sock" send-keys Escape 3 g Enter
check "... a tenant's drill-down" screen_shows "Tenant "
sleep 2
tmux -L "$sock" send-keys q

run block 203.0.113.66 --reason "partitioned" --yes >"$work/block" 2>&1
check "a block's audit row lands in today's partition" \
	[ "$(psql_at "$port" -c "SELECT tableoid::regclass FROM audit_log WHERE action = 'ip_blocked' AND resource_id = '203.0.113.66'")" = \
	  "$(psql_at "$port" -c "SELECT 'audit_log_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM_DD')")" ]

since=$(date -u -d '-2 days' +%Y-%m-%dT%H:00:00Z)
fsql="\"timestamp\" >= '$since' AND (action IN ('failed_auth','unauthorized_access','authentication_failed') OR status_code IN (401,403))"
want=$(psql_at "$port" -c "SELECT count(*) FROM audit_log WHERE $fsql")
report_failures() { jpath "$1" '[m["current"] for m in d["sections"]["summary"]["rows"] if m["metric"] == "failures"][0]'; }
sleep 1    # a report's period ends at a whole second: the block's row inside it
run report --since "$since" --format json >"$work/r1.json" 2>/dev/null
check "report without a rollup: failures equal SQL's ($want)" [ "$(report_failures "$work/r1.json")" = "$want" ]
run setup --rollup >"$work/setup" 2>&1
check "setup --rollup on the partitioned table exits 0" [ $? -eq 0 ]
run report --since "$since" --format json >"$work/r2.json" 2>/dev/null
check "report with the rollup uses it" [ "$(jpath "$work/r2.json" 'd["rollup"]["used"]')" = True ]
check "... and its failures equal SQL's ($want)" [ "$(report_failures "$work/r2.json")" = "$want" ]
check "... and every section as without it" python3 - "$work/r1.json" "$work/r2.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["sections"] for p in sys.argv[1:])
bad = [k for k in a if k not in ("current_blocks", "health") and a[k] != b[k]]
for k in bad:
    print(k, a[k], b[k], sep="\n", file=sys.stderr)
sys.exit(1 if bad else 0)
PY

# --- the plans: only the partitions of each query's range --------------------------
tail -c +"$((offset + 1))" "$log" >"$work/plans.log"
psql_at "$port" -c "SELECT c.relname, extract(epoch FROM lo)::bigint, extract(epoch FROM hi)::bigint
  FROM pg_partition_tree('audit_log') t JOIN pg_class c ON c.oid = t.relid,
  LATERAL (SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']*)''\) TO \(''([^'']*)''\)'))) m(b),
  LATERAL (SELECT b[1]::timestamptz, b[2]::timestamptz) r(lo, hi)
  WHERE t.isleaf AND b IS NOT NULL" >"$work/bounds"
check "every plan touches only the partitions of its range" python3 - "$work/plans.log" "$work/bounds" "$since" <<'PY'
import datetime, json, re, sys, time
log, bounds, since = sys.argv[1:]
now = time.time()
since = datetime.datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
parts = {}
for line in open(bounds):
    name, lo, hi = line.strip().split("|")
    parts[name] = (int(lo), int(hi))
# What each kind of session may read: the console and snapshot the last
# hour (the per-minute line) up to now; the report its period and the one
# before it (compared), whole hours.
ranges = {"sectop": (now - 3720, now + 5),
          "sectop-report": (since - (now - since) - 3600, now + 5)}
def relations(node, out):
    if isinstance(node, dict):
        if "Relation Name" in node:
            out.add(node["Relation Name"])
        for v in node.values():
            relations(v, out)
    elif isinstance(node, list):
        for v in node:
            relations(v, out)
    return out
entries = re.split(r"^@@", open(log).read(), flags=re.M)
seen, bad = {}, []
for e in entries:
    m = re.match(r"([^@]*)@@ .*?plan:\s*(\{.*\})\s*$", e, re.S)
    if not m or m.group(1) not in ranges:
        continue
    plan = json.loads(m.group(2))
    query = plan.get("Query Text", "")
    # All of history by design: a block may have no expiry, a rotation be
    # years old (with a rollup, its copy of sectop's own rows serves them).
    if "= 'ip_blocked'" in query or "= 'secret_rotated'" in query:
        continue
    seen[m.group(1)] = seen.get(m.group(1), 0) + 1
    lo, hi = ranges[m.group(1)]
    for rel in relations(plan["Plan"], set()):
        if rel == "audit_log_default" or (rel in parts and (parts[rel][1] <= lo or parts[rel][0] >= hi)):
            bad.append((m.group(1), rel, query[:160]))
for b in bad[:10]:
    print("outside its range:", b, file=sys.stderr)
print("plans checked:", seen, file=sys.stderr)
sys.exit(1 if bad or seen.get("sectop", 0) < 5 or seen.get("sectop-report", 0) < 5 else 0)
PY

finish
