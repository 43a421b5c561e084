#!/usr/bin/env bash
# `sectop report` end to end against the real servers: every figure of both
# periods equals an independent SQL count, without the rollup, with it (and
# after rows committed late), for one tenant; each format parses back;
# hostile strings come out inert in every format; --fail-on, --output,
# --section, exit statuses, stderr, the progress line on a terminal; and
# `sectop setup --rollup` / `--drop-rollup`.
. "$(dirname "$0")/lib.sh"
need_servers SECTOP_TEST_DB SECTOP_TEST_REDIS SECTOP_TEST_HTTP

work=$(mktemp -d)
table="audit_log_rpt_$$"
keys="api_keys_rpt_$$"
db=3
redis_url="${SECTOP_TEST_REDIS%/*}/$db"
cleanup() {
	"$SECTOP" setup --drop-rollup --db "$SECTOP_TEST_DB" --table "$table" >/dev/null 2>&1
	tsql -c "DROP TABLE IF EXISTS $table, $keys" >/dev/null 2>&1
	redis-cli -u "$redis_url" FLUSHDB >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
redis-cli -u "$redis_url" FLUSHDB >/dev/null

# --- the data ---------------------------------------------------------------
# Rows at fixed distances from now: both periods, their edges (the hour the
# current period starts in, the current hour), a busy hour, hostile strings.
tsql -c "CREATE TABLE $table (LIKE audit_log INCLUDING ALL)"
tsql -c "CREATE TABLE $keys (LIKE api_keys INCLUDING ALL)"
tsql <<SQL
-- ordinary traffic over two weeks (both periods), 30 addresses, 6 tenants
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, method, path, status_code, user_agent)
SELECT now() - g * interval '1201 seconds',
       (ARRAY['acme', 'globex', E'evil\\x1b[31mtenant\\x07', '<script>alert(1)</script>', 'a|b*c', NULL])[1 + g % 6],
       'user_' || (g % 7), 'api_request',
       ('203.0.113.' || (g % 30))::inet, 'GET', E'/api/\\u202eorders', 200, E'curl \\x1b]0;pwned\\x07'
FROM generate_series(1, 1000) g;
-- failures: an attacker in one hour three days ago, and an IPv6 one over two days
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, status_code, user_agent)
SELECT date_trunc('hour', now() - interval '3 days') + g * interval '50 seconds', 'acme', 'u' || (g % 9),
       'failed_auth', '198.51.100.23', 401, E'Mozilla \\x1b[2J'
FROM generate_series(1, 60) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, status_code)
SELECT now() - interval '2 days' + g * interval '97 minutes', (ARRAY['acme', 'globex'])[1 + g % 2],
       'root', 'auth_attempt', '2001:db8::bad', 401
FROM generate_series(1, 30) g;
-- failures under hostile tenants and users: they show in the top addresses and access
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, status_code)
SELECT now() - interval '1 day' - g * interval '7 minutes',
       (ARRAY[E'evil\\x1b[31mtenant\\x07', '<script>alert(1)</script>', 'a|b*c'])[1 + g % 3],
       E'bob\\u202egnp.exe', 'unauthorized_access', '203.0.113.7', 403
FROM generate_series(1, 12) g;
-- unauthorized and cross-tenant, some in the previous period
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, status_code)
SELECT now() - g * interval '9 hours', 'globex', 'mallory', 'unauthorized_access', '192.0.2.10', 403
FROM generate_series(1, 25) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, status_code)
SELECT now() - g * interval '13 hours', 'acme', E'eve\\x1b[7m', 'cross_tenant_access', '192.0.2.11', 200
FROM generate_series(1, 20) g;
-- a busy address: 1200 requests in one clock hour, two tenants
INSERT INTO $table ("timestamp", tenant_id, action, ip_address, status_code)
SELECT date_trunc('hour', now() - interval '2 days') + g * interval '2 seconds',
       (ARRAY['acme', 'globex'])[1 + g % 2], 'api_request', '192.0.2.77', 200
FROM generate_series(1, 1200) g;
-- the edges: just inside and just outside the period's start, this hour
INSERT INTO $table ("timestamp", tenant_id, action, ip_address, status_code)
SELECT now() - interval '7 days' + g * interval '1 minute', 'acme', 'failed_auth', '198.51.100.99', 401
FROM generate_series(1, 20) g;
INSERT INTO $table ("timestamp", tenant_id, action, ip_address, status_code)
SELECT now() - interval '7 days' - g * interval '1 minute', 'acme', 'failed_auth', '198.51.100.98', 401
FROM generate_series(1, 20) g;
INSERT INTO $table ("timestamp", tenant_id, action, ip_address, status_code)
SELECT now() - g * interval '1 second', 'globex', 'failed_auth', '198.51.100.97', 401
FROM generate_series(1, 15) g;
-- long ago: in neither period
INSERT INTO $table ("timestamp", tenant_id, action, ip_address, status_code)
SELECT now() - interval '30 days' - g * interval '1 hour', 'acme', 'failed_auth', '198.51.100.1', 401
FROM generate_series(1, 10) g;
-- sectop's own actions, with hostile reasons
INSERT INTO $table ("timestamp", tenant_id, user_id, action, resource_type, resource_id, ip_address, details)
VALUES
 (now() - interval '2 days 20 hours', NULL, 'alice', 'ip_blocked', 'ip', '198.51.100.23', '198.51.100.23',
  jsonb_build_object('reason', E'brute\\x1b[5m force <b>x</b> | *bold* =cmd()', 'source', 'sectop')),
 (now() - interval '2 days 19 hours', NULL, 'alice', 'ip_unblocked', 'ip', '198.51.100.23', '198.51.100.23',
  '{"reason":"quiet since"}'),
 (now() - interval '1 day', 'globex', 'bob', 'api_key_revoked', 'api_key', 'sk_live_9f3a', NULL,
  '{"reason":"=HYPERLINK(\\"http://evil\\")"}'),
 (now() - interval '10 days', NULL, 'carol', 'ip_blocked', 'ip', '203.0.113.5', '203.0.113.5', '{"reason":"old"}'),
 (now() - interval '100 days', NULL, 'vault', 'secret_rotated', 'secret', 'stripe_key', NULL, '{}'),
 (now() - interval '170 days', NULL, 'vault', 'secret_rotated', 'secret', NULL, NULL, '{"secret":"db_pass"}'),
 (now() - interval '400 days', NULL, 'vault', 'secret_rotated', 'secret', 'tls', NULL, '{}'),
 (now() - interval '10 days', NULL, 'vault', 'secret_rotated', 'secret', 'tls', NULL, '{}');
-- keys: expired, never used, unused for long, used lately, revoked
INSERT INTO $keys (tenant_id, name, key_prefix, created_at, last_used_at, expires_at, revoked_at)
VALUES ('acme', 'expired', 'sk_a', now() - interval '200 days', now() - interval '20 days', now() - interval '1 day', NULL),
       ('acme', E'never\\x1b]0;x\\x07', 'sk_b', now() - interval '50 days', NULL, NULL, NULL),
       ('globex', 'stale', 'sk_c', now() - interval '300 days', now() - interval '120 days', NULL, NULL),
       ('globex', 'busy', 'sk_d', now() - interval '300 days', now() - interval '1 day', NULL, NULL),
       ('acme', 'revoked', 'sk_e', now() - interval '300 days', NULL, NULL, now() - interval '5 days');
ANALYZE $table;
SQL
rc() { redis-cli -u "$redis_url" "$@" >/dev/null; }
rc SET "blocked:198.51.100.23" '{"by":"alice","reason":"brute \u001b[5mforce","at":1700000000}' EX 3600
rc SET "blocked:"$'\x1b]0;pwned\x07' 1 EX 100
# failing in the last minutes (globex); blocked by hand, never failing
rc SET "blocked:198.51.100.97" 1 EX 3600
rc SET "blocked:192.0.2.250" 1 EX 3600
# blocked by carol 10 days ago (an audited action before both periods), no expiry
rc SET "blocked:203.0.113.5" '{"by":"carol","reason":"old","at":1700000000}'

run() {
	"$SECTOP" report --db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" --keys-table "$keys" \
		--health "ok=$SECTOP_TEST_HTTP/health/ok" \
		--secret 'stripe_key kind=api_key' --secret 'db_pass kind=db_password' \
		--secret 'tls kind=tls_cert' --secret 'ssh_deploy kind=ssh_key' "$@"
}

# --- the independent counts -----------------------------------------------------
cat >"$work/check.py" <<'PY'
# check.py REPORT.json TABLE KEYS [HOT]: every figure against SQL of its own
import json, os, subprocess, sys
d = json.load(open(sys.argv[1]))
table, keys = sys.argv[2], sys.argv[3]
hot = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
S = d["sections"]
tenant = d["tenant"]
bad = []

def q(sql, *args):
    r = subprocess.run(["psql", os.environ["SECTOP_TEST_DB"], "-XAtq", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                        "-c", sql], capture_output=True, text=True, env=dict(os.environ, PGTZ="UTC"))
    if r.returncode:
        sys.exit("psql: " + r.stderr)
    return [l.split("\t") for l in r.stdout.splitlines()]

def lit(s):
    return "'" + s.replace("'", "''") + "'"

scope = "TRUE" if tenant is None else "tenant_id = " + lit(tenant)
FAIL = "(action IN ('failed_auth','unauthorized_access','authentication_failed') OR status_code IN (401,403))"
UNAUTH = "(action = 'unauthorized_access' OR status_code = 403)"
OPS = "action IN ('ip_blocked','ip_unblocked','api_key_revoked','secret_rotation_requested'," \
      "'runbook_step_done','drill_started','drill_ended')"

def period(p):
    return f"\"timestamp\" >= {lit(p['since'])} AND \"timestamp\" < {lit(p['until'])} AND {scope}"

def same(what, got, want):
    if got != want:
        bad.append(f"{what}: report {got!r}, SQL {want!r}")

cur, prev = period(d["period"]), period(d["previous_period"])
summary = {r["metric"]: r for r in S["summary"]["rows"]}
for col, where in (("current", cur), ("previous", prev)):
    row = q(f"""SELECT count(*), count(*) FILTER (WHERE {FAIL}), count(*) FILTER (WHERE {UNAUTH}),
        count(*) FILTER (WHERE action = 'cross_tenant_access'), count(DISTINCT ip_address),
        count(*) FILTER (WHERE action = 'ip_blocked'), count(*) FILTER (WHERE {OPS})
        FROM {table} WHERE {where}""")[0]
    for m, v in zip(("events", "failures", "unauthorized", "cross_tenant", "distinct_ips", "blocks", "actions"), row):
        same(f"{m} ({col})", summary[m][col], int(v))

days = q(f"""SELECT to_char(date_trunc('day', "timestamp"), 'YYYY-MM-DD'), count(*), count(*) FILTER (WHERE {FAIL})
    FROM {table} WHERE {cur} GROUP BY 1 ORDER BY 1""")
same("failures per day", [(r["day"], r["events"], r["failures"]) for r in S["failures_per_day"]["rows"] if r["events"]],
     [(a, int(b), int(c)) for a, b, c in days])
how = {(int(a), int(b)): int(c) for a, b, c in q(f"""SELECT extract(isodow FROM "timestamp"), extract(hour FROM "timestamp"),
    count(*) FROM {table} WHERE {cur} AND {FAIL} GROUP BY 1, 2""")}
mine = {(i + 1, h): r["h%02d" % h] for i, r in enumerate(S["failures_per_hour_of_week"]["rows"]) for h in range(24)}
same("failures per hour of the week", {k: v for k, v in mine.items() if v}, how)

top = q(f"""WITH f AS (SELECT ip_address AS ip, count(*) AS n FROM {table} WHERE {cur} AND {FAIL}
        AND ip_address IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20),
    p AS (SELECT DISTINCT ON (ip) ip, h, n FROM (SELECT ip_address AS ip, date_trunc('hour', "timestamp") AS h,
        count(*) AS n FROM {table} WHERE {cur} AND {FAIL} GROUP BY 1, 2) x ORDER BY ip, n DESC, h),
    t AS (SELECT ip_address AS ip, count(DISTINCT tenant_id) AS n FROM {table} WHERE {cur} GROUP BY 1)
    SELECT host(f.ip), f.n, to_char(p.h, 'YYYY-MM-DD"T"HH24:00:00"Z"'), p.n, t.n
    FROM f JOIN p USING (ip) JOIN t USING (ip) ORDER BY f.n DESC, f.ip""")
same("top addresses", [(r["ip"], r["failures"], r["peak_hour"], r["peak_hour_failures"], r["tenants"])
                       for r in S["top_ips"]["rows"]],
     [(a, int(b), c, int(e), int(f)) for a, b, c, e, f in top])

hotq = q(f"""SELECT host(ip), count(*), max(n), sum(n) FROM (SELECT ip_address AS ip,
    date_trunc('hour', "timestamp"), count(*) AS n FROM {table} WHERE {cur} AND ip_address IS NOT NULL
    GROUP BY 1, 2 HAVING count(*) > {hot}) x GROUP BY ip ORDER BY max(n) DESC, ip""")
same("busy addresses", [(r["ip"], r["hours"], r["peak_requests"], r["requests"]) for r in S["hot_ips"]["rows"]],
     [(a, int(b), int(c), int(e)) for a, b, c, e in hotq])

acc = q(f"""SELECT u, c FROM (SELECT tenant_id, user_id, count(*) FILTER (WHERE {UNAUTH}) AS u,
    count(*) FILTER (WHERE action = 'cross_tenant_access') AS c
    FROM {table} WHERE {cur} AND ({UNAUTH} OR action = 'cross_tenant_access') GROUP BY tenant_id, user_id) x
    ORDER BY u + c DESC, u DESC, tenant_id NULLS LAST, user_id NULLS LAST""")
same("access by tenant and user", [(r["unauthorized"], r["cross_tenant"]) for r in S["access"]["rows"]],
     [(int(a), int(b)) for a, b in acc[:20]])
same("access groups in all", S["access"]["total"], len(acc))

acts = q(f"""SELECT action, user_id FROM {table} WHERE {cur} AND {OPS} ORDER BY "timestamp" """)
same("operator actions", [(r["action"], r["who"]) for r in S["operator_actions"]["rows"]], [tuple(a) for a in acts])

ks = q(f"""SELECT name FROM {keys} WHERE revoked_at IS NULL AND (expires_at <= now() OR last_used_at IS NULL
    OR last_used_at < now() - interval '90 days') AND {scope} ORDER BY name""")
same("API keys", sorted(r["name"] for r in S["api_keys"]["rows"]), sorted(k[0] for k in ks))
print("\n".join(bad) if bad else "all figures equal SQL's")
sys.exit(1 if bad else 0)
PY
figures() { python3 "$work/check.py" "$1" "$table" "$keys" "${2:-1000}" >"$work/why" 2>&1 || { cat "$work/why"; return 1; }; }

# --- without a rollup -------------------------------------------------------------
run --format json >"$work/raw.json" 2>"$work/err"
check "report exits 0 when every source answered" [ $? -eq 0 ]
check "nothing on stderr (not a terminal)" [ ! -s "$work/err" ]
check "every figure of both periods equals SQL's (no rollup)" figures "$work/raw.json"
check "it says the figures come from the table" [ "$(jpath "$work/raw.json" 'd["rollup"]["used"]')" = False ]
check "... and that a rollup would be faster" grep -q "sectop setup --rollup" "$work/raw.json"
check "the attacker is the top address" [ "$(jpath "$work/raw.json" 'd["sections"]["top_ips"]["rows"][0]["ip"]')" = 198.51.100.23 ]
check "... blocked now (Redis), blocked once in the period" [ "$(jpath "$work/raw.json" '[(r["blocked_now"], r["blocks_in_period"]) for r in d["sections"]["top_ips"]["rows"] if r["ip"] == "198.51.100.23"]')" = "[(True, 1)]" ]
check "the busy address, 1200 requests in one hour" [ "$(jpath "$work/raw.json" '[(r["ip"], r["peak_requests"]) for r in d["sections"]["hot_ips"]["rows"]]')" = "[('192.0.2.77', 1200)]" ]
blocks_of() { jpath "$1" 'sorted(r["ip"] for r in d["sections"]["current_blocks"]["rows"])'; }
check "current blocks: those of the addresses looked up (ever blocked, top, failing lately)" [ "$(blocks_of "$work/raw.json")" = "['198.51.100.23', '198.51.100.97', '203.0.113.5']" ]
check "... and the section says what was looked up" [ "$(jpath "$work/raw.json" '"addresses looked up" in d["sections"]["current_blocks"]["note"] and "last 1d" in d["sections"]["current_blocks"]["note"]')" = True ]
run --format json --all-blocks >"$work/all.json"
check "--all-blocks walks every block key, hostile key exact" [ "$(jpath "$work/all.json" 'sorted(r["ip"] for r in d["sections"]["current_blocks"]["rows"]) == sorted(["192.0.2.250", "198.51.100.23", "198.51.100.97", "203.0.113.5", "\x1b]0;pwned\x07"])')" = True ]
check "... with no note of look-ups" [ "$(jpath "$work/all.json" 'd["sections"]["current_blocks"]["note"]')" = None ]
run --format json --until 2d >"$work/older.json"
check "a period that ended 2 days ago: the lookback (from now) still finds the address failing now" [ "$(blocks_of "$work/older.json")" = "['198.51.100.23', '198.51.100.97', '203.0.113.5']" ]
run --format json --until 2d --blocks-lookback 0 >"$work/nolook.json"
check "... and without a lookback, only the addresses the audit log names" [ "$(blocks_of "$work/nolook.json")" = "['198.51.100.23', '203.0.113.5']" ]
run --format json --fail-on 'current-blocks>1' >/dev/null 2>"$work/err"
check "--fail-on current-blocks counts the blocks found (3 > 1: exit 4)" [ $? -eq 4 ]
check "secrets: overdue, due, never rotated (tls is fine)" [ "$(jpath "$work/raw.json" 'sorted((r["name"], r["state"]) for r in d["sections"]["secrets"]["rows"])')" = "[('db_pass', 'due'), ('ssh_deploy', 'never_rotated'), ('stripe_key', 'overdue')]" ]
check "health: CORS * is a finding" [ "$(jpath "$work/raw.json" 'any("*" in (r["finding"] or "") for r in d["sections"]["health"]["rows"])')" = True ]
check "the JSON carries hostile strings exact" [ "$(jpath "$work/raw.json" '[r["reason"] for r in d["sections"]["operator_actions"]["rows"] if r["action"] == "ip_blocked"][0].startswith("brute\x1b[5m")')" = True ]

# --- the rollup ------------------------------------------------------------------
"$SECTOP" setup --rollup --dry-run --table "$table" >"$work/ddl.sql"
check "setup --dry-run prints the DDL" grep -q "CREATE TABLE IF NOT EXISTS \"${table}_rollup_hour\"" "$work/ddl.sql"
check "... and creates nothing" [ -z "$(tsql -c "SELECT to_regclass('${table}_rollup_state')")" ]
"$SECTOP" setup --rollup --db "$SECTOP_TEST_DB" --table "$table" >"$work/setup.out" 2>"$work/err"
check "setup --rollup exits 0" [ $? -eq 0 ]
check "... says what it covers" grep -q "rollup of $table: .* complete hours" "$work/setup.out"
check "... with nothing on stderr" [ ! -s "$work/err" ]
"$SECTOP" setup --rollup --db "$SECTOP_TEST_DB" --table "$table" >/dev/null 2>&1
check "setup --rollup again is harmless" [ $? -eq 0 ]
run --format json >"$work/rolled.json"
check "report with the rollup exits 0" [ $? -eq 0 ]
check "it says the rollup was used" [ "$(jpath "$work/rolled.json" 'd["rollup"]["used"]')" = True ]
check "every figure of both periods equals SQL's (rollup)" figures "$work/rolled.json"

# rows committed late, into hours already rolled up: within rollup-recheck
# (2 h) they are picked up; further back, a larger --rollup-recheck does it
tsql -c "INSERT INTO $table (\"timestamp\", tenant_id, action, ip_address, status_code)
         SELECT date_trunc('hour', now()) - interval '50 minutes', 'acme', 'failed_auth', '198.51.100.66', 401
         FROM generate_series(1, 7)"
run --format json >"$work/late.json"
check "late rows in the last hours are counted" figures "$work/late.json"
tsql -c "INSERT INTO $table (\"timestamp\", tenant_id, action, ip_address, status_code)
         VALUES (date_trunc('hour', now()) - interval '5 hours 10 minutes', 'acme', 'failed_auth', '198.51.100.65', 401)"
run --format json --rollup-recheck 6h >"$work/late2.json"
check "a longer --rollup-recheck reaches further back" figures "$work/late2.json"

# a session that may not write (a hot standby, a read-only role): the
# rollup as it is, no temporary copy, the rest from the table
"$SECTOP" report --db "$SECTOP_TEST_DB options='-c default_transaction_read_only=on'" \
	--redis "$redis_url" --table "$table" --keys-table "$keys" --format json >"$work/ro.json" 2>"$work/err"
check "read-only session: exit 0, nothing on stderr" [ $? -eq 0 ] && [ ! -s "$work/err" ]
check "... the rollup still used" [ "$(jpath "$work/ro.json" 'd["rollup"]["used"]')" = True ]
check "... the figures still equal SQL's" figures "$work/ro.json"
# a rollup built for another failure definition is not used, and rebuilt
run --format json --failure-statuses 401 >"$work/other.json"
check "another failure definition: the rollup is not used" [ "$(jpath "$work/other.json" 'd["rollup"]["used"]')" = False ]
check "... and the note says why" grep -q "another failure definition" "$work/other.json"
"$SECTOP" setup --rollup --db "$SECTOP_TEST_DB" --table "$table" --failure-statuses 401 >/dev/null 2>&1
run --format json --failure-statuses 401 >"$work/other.json"
check "setup --rollup rebuilds it for the new definition" [ "$(jpath "$work/other.json" 'd["rollup"]["used"]')" = True ]
"$SECTOP" setup --rollup --db "$SECTOP_TEST_DB" --table "$table" >/dev/null 2>&1
run --format json >"$work/back.json"
check "... and back: the figures equal SQL's again" figures "$work/back.json"
run --format json --report-sessions 1 >"$work/one.json"
check "one session (no second connection): the same figures" figures "$work/one.json"
run --format json --tenant acme >"$work/acme.json"
check "tenant scope: every figure equals SQL's for that tenant" figures "$work/acme.json"
check "... the scope is said" [ "$(jpath "$work/acme.json" 'd["tenant"]')" = acme ]
run --format json --tenant globex --hot-threshold 50 >"$work/globex.json"
check "one tenant, a threshold under the rollup's floor (read live)" figures "$work/globex.json" 50
check "... with a note saying so" grep -q "read from the table" "$work/globex.json"
run --format json --since 36h --until 2h >"$work/short.json"
check "--since 36h --until 2h: the figures of that span" figures "$work/short.json"
check "... 34 hours long" [ "$(jpath "$work/short.json" 'd["period"]["since"] < d["period"]["until"]')" = True ]
since_iso=$(date -u -d '-5 days' +%Y-%m-%dT%H:%M:%SZ)
run --format json --since "$since_iso" >"$work/iso.json"
check "an ISO 8601 --since is exact" [ "$(jpath "$work/iso.json" 'd["period"]["since"]')" = "$since_iso" ]
check "... and its figures equal SQL's" figures "$work/iso.json"

# --- every format parses back, hostile strings inert ---------------------------
for f in text markdown csv html; do
	run --format "$f" >"$work/r.$f"
	check "--format $f exits 0" [ $? -eq 0 ]
done
inert() { # FILE: no ESC, BEL, C1, bidi override or raw control byte but \n
	python3 - "$1" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
t = b.decode("utf-8")
bad = [c for c in t if (ord(c) < 0x20 and c not in "\n") or 0x7f <= ord(c) < 0xa0 or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u2028\u2029"]
sys.exit(1 if bad else 0)
PY
}
for f in text markdown csv html; do
	check "$f: no control, escape or bidi character" inert "$work/r.$f"
done
check "json: no raw control byte or non-ASCII" python3 -c '
import sys
b = open(sys.argv[1], "rb").read()
sys.exit(1 if any(c < 0x20 and c != 0x0a or c >= 0x7f for c in b) else 0)' "$work/rolled.json"
check "text: escapes shown as notations" grep -qF '\x1b[31m' "$work/r.text"
check "text: the bidi override as <U+202E>" grep -qF '<U+202E>' "$work/r.text"
check "csv: every table's rows have its header's column count" python3 - "$work/r.csv" <<'PY'
import csv, io, sys
blocks = open(sys.argv[1], newline="").read().split("\n\n")
names = []
for b in blocks:
    lines = b.strip("\n").split("\n")
    names.append(lines[0])
    rows = list(csv.reader(io.StringIO("\n".join(lines[1:]))))
    if len({len(r) for r in rows}) != 1:
        sys.exit(f"{lines[0]}: rows of {sorted({len(r) for r in rows})} columns")
assert names[:3] == ["summary", "failures_per_day", "failures_per_hour_of_week"], names
assert len(names) == 13, names
PY
check "csv: a formula from outside is defused" grep -qF "\"'=HYPERLINK(\"\"http://evil\"\")\"" "$work/r.csv"
run --format csv --section top_ips >"$work/top.csv"
check "csv --section: one table with its header" python3 - "$work/top.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0][:2] == ["ip", "failures"], rows[0]
assert rows[1][0] == "198.51.100.23", rows[1]
assert len({len(r) for r in rows}) == 1
PY
check "html: well-formed (XML), no script, no remote resource" python3 - "$work/r.html" <<'PY'
import re, sys, xml.etree.ElementTree as ET
t = open(sys.argv[1], encoding="utf-8").read()
ET.fromstring(t[t.index("<html"):])            # balanced, escaped: XML parses it
low = t.lower()
assert "<script" not in low, "a script element"
assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', low), "a remote resource"
assert "&lt;script&gt;alert(1)&lt;/script&gt;" in t, "the hostile tenant, escaped"
assert "<svg" in t and "<style>" in t
PY
check "markdown: every table row has its header's cells" python3 - "$work/r.markdown" <<'PY'
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
n = None
for l in lines:
    if not l.startswith("|"):
        n = None
        continue
    cells = len(re.findall(r"(?<!\\)\|", l)) - 1
    if n is None:
        n = cells
    elif cells != n:
        sys.exit("row of %d cells under a header of %d: %s" % (cells, n, l))
assert "a\\|b\\*c" in open(sys.argv[1], encoding="utf-8").read()
PY

# --- exit statuses, --fail-on, --output ---------------------------------------
run --format json --fail-on 'failures>1,overdue-rotations>0' >"$work/f.json" 2>"$work/err"
check "--fail-on crossed: exit 4" [ $? -eq 4 ]
check "... said on stderr" grep -q "overdue-rotations is 2 (fail-on overdue-rotations>0)" "$work/err"
check "... and in the report" grep -q "fail-on failures>1" "$work/f.json"
run --format json --fail-on 'failures>100000,hot-ips>5' >/dev/null 2>"$work/err"
check "--fail-on not crossed: exit 0, stderr empty" [ $? -eq 0 ] && [ ! -s "$work/err" ]
run --fail-on 'failures>>1' >/dev/null 2>"$work/err"
check "a bad --fail-on exits 2" [ $? -eq 2 ]
check "... naming it" grep -q "fail-on" "$work/err"
run --since yesterday >/dev/null 2>&1
check "a bad --since exits 2" [ $? -eq 2 ]
run --since 1d --until 2d >/dev/null 2>&1
check "--since after --until exits 2" [ $? -eq 2 ]
run --format pdf >/dev/null 2>&1
check "an unknown format exits 2" [ $? -eq 2 ]
run --format json --section top_ips >/dev/null 2>&1
check "--section without csv exits 2" [ $? -eq 2 ]
out=$(run --format html --output "$work/out.html")
check "--output writes the file, nothing on stdout" [ $? -eq 0 ] && [ -z "$out" ] && grep -q "</html>" "$work/out.html"
check "... readable by its owner only" [ "$(stat -c %a "$work/out.html")" = 600 ]
run --output "$work/nodir/x.txt" >/dev/null 2>&1
check "an --output that cannot be written exits 1" [ $? -eq 1 ]
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run --format json --redis "redis://127.0.0.1:$port/0" --timeout 3s >"$work/down.json" 2>"$work/err"
check "Redis down: exit 3, the report still written" [ $? -eq 3 ] && [ "$(jpath "$work/down.json" 'd["sources"]["redis"]["ok"]')" = False ]
check "... its figures still equal SQL's" figures "$work/down.json"

# --- a progress line on a terminal, and only there ----------------------------
# An address that accepts and never answers holds the report for its timeout.
check "a progress line on a terminal when it takes more than a second" python3 - "$SECTOP" "$SECTOP_TEST_DB" "$table" <<'PY'
import os, pty, socket, subprocess, sys, time
sectop, db, table = sys.argv[1:4]
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
port = srv.getsockname()[1]
master, slave = pty.openpty()
p = subprocess.Popen([sectop, "report", "--db", db, "--table", table, "--redis", f"redis://127.0.0.1:{port}/0",
                      "--server-timeout", "2s", "--timeout", "3s", "--format", "json"],
                     stdout=subprocess.DEVNULL, stderr=slave, stdin=subprocess.DEVNULL)
os.close(slave)
out = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
p.wait()
assert b"sectop report:" in out, out
assert out.rstrip(b"\r\n").endswith(b"\x1b[2K"), "the line is cleared at the end"
PY

# --- the rollup goes away cleanly ------------------------------------------------
"$SECTOP" setup --drop-rollup --db "$SECTOP_TEST_DB" --table "$table" >/dev/null 2>&1
check "setup --drop-rollup exits 0" [ $? -eq 0 ]
check "... and leaves no rollup table" [ "$(tsql -c "SELECT count(*) FROM pg_class WHERE relname LIKE '${table}_rollup%'")" = 0 ]
"$SECTOP" setup --db "$SECTOP_TEST_DB" >/dev/null 2>&1
check "setup without --rollup or --drop-rollup exits 2" [ $? -eq 2 ]
finish
