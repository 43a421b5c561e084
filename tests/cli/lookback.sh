#!/usr/bin/env bash
# `sectop snapshot --at TIME`: the window ending then, every figure the
# audit log's over exactly that period (independent SQL), the period said
# in the JSON and the text, Redis and health as of now; bad times refused.
. "$(dirname "$0")/lib.sh"
need_servers SECTOP_TEST_DB SECTOP_TEST_REDIS
export TZ=UTC

work=$(mktemp -d)
table="audit_log_lookback_$$"
db=5
trap 'tsql -c "DROP TABLE IF EXISTS $table" >/dev/null 2>&1; rm -rf "$work"' EXIT
redis_url="${SECTOP_TEST_REDIS%/*}/$db"
failure_sql="(action IN ('failed_auth','unauthorized_access','authentication_failed') OR status_code IN (401,403))"

# The period: the quarter of an hour that ended on the minute, three hours ago.
end=$(( ($(date +%s) - 3 * 3600) / 60 * 60 ))
at=$(date -u -d "@$end" +%Y-%m-%dT%H:%M:%SZ)
tsql -c "CREATE TABLE $table (LIKE audit_log INCLUDING ALL)" || exit 99
# Rows on both edges of the period and a second past each, spread over the
# hour before it (the per-minute line) and after it (not in it).
tsql <<SQL || exit 99
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code, user_agent)
SELECT to_timestamp($end) - (g % 5400) * interval '1 second' + interval '1800 seconds',
       CASE WHEN g % 3 = 0 THEN 'acme' ELSE 'globex' END, 'u' || (g % 11),
       CASE WHEN g % 4 = 0 THEN 'api_request' ELSE 'failed_auth' END,
       ('203.0.113.' || (g % 7 + 1))::inet, '/login', CASE WHEN g % 4 = 0 THEN 200 ELSE 401 END, E'curl \\x1b[2J'
FROM generate_series(1, 5400) g;
INSERT INTO $table ("timestamp", tenant_id, action, ip_address, status_code) VALUES
  (to_timestamp($end), 'acme', 'failed_auth', '198.51.100.1', 401),
  (to_timestamp($end) + interval '1 second', 'acme', 'failed_auth', '198.51.100.2', 401),
  (to_timestamp($end - 900), 'acme', 'failed_auth', '198.51.100.3', 401),
  (to_timestamp($end - 901), 'acme', 'failed_auth', '198.51.100.4', 401),
  (now(), 'initech', 'failed_auth', '198.51.100.5', 401);
SQL

run() { "$SECTOP" --db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" "$@"; }
in_period="\"timestamp\" >= to_timestamp($((end - 900))) AND \"timestamp\" <= to_timestamp($end)"

run snapshot --at "$at" --format json --top 50 >"$work/s.json"
check "snapshot --at exits 0" [ $? -eq 0 ]
check "the period is in the JSON" [ "$(jpath "$work/s.json" '(d["period"]["from"], d["period"]["to"], d["period"]["redis_and_health"])')" = "('$(date -u -d "@$((end - 900))" +%Y-%m-%dT%H:%M:%SZ)', '$at', 'now')" ]
sql_top=$(tsql -c "SELECT string_agg(ip || ':' || f, ' ' ORDER BY ip) FROM (
  SELECT host(ip_address) ip, count(*) FILTER (WHERE $failure_sql) f FROM $table WHERE $in_period
  GROUP BY 1 HAVING count(*) FILTER (WHERE $failure_sql) > 0) s")
got_top=$(jpath "$work/s.json" '" ".join(sorted("%s:%d" % (t["ip"], t["failures"]) for t in d["top_ips"] if t["failures"]))')
check "every address's failures are the period's by SQL ($sql_top)" [ "$got_top" = "$sql_top" ]
check "both edges are in, a second past either is out" [ "$(jpath "$work/s.json" 'sorted(t["ip"] for t in d["top_ips"] if t["ip"].startswith("198.51.100."))')" = "['198.51.100.1', '198.51.100.3']" ]
sql_req=$(tsql -c "SELECT string_agg(t || ':' || n || ':' || f, ' ' ORDER BY t) FROM (
  SELECT tenant_id t, count(*) n, count(*) FILTER (WHERE $failure_sql) f FROM $table WHERE $in_period GROUP BY 1) s")
got_req=$(jpath "$work/s.json" '" ".join(sorted("%s:%d:%d" % (t["tenant_id"], t["requests"], t["failures"]) for t in d["tenants"]))')
check "each tenant's requests and failures are the period's ($sql_req)" [ "$got_req" = "$sql_req" ]
sql_fpm=$(tsql -c "SELECT count(*) FROM $table WHERE $failure_sql
  AND \"timestamp\" >= to_timestamp($end) - interval '59 minutes' AND \"timestamp\" <= to_timestamp($end)")
check "the per-minute line is the period's last hour ($sql_fpm)" [ "$(jpath "$work/s.json" 'sum(d["failures_per_minute"])')" = "$sql_fpm" ]
check "the line's minutes end at the period's" [ "$(jpath "$work/s.json" 'd["failures_per_minute_start"]')" = "$(date -u -d "@$((end - 59 * 60))" +%Y-%m-%dT%H:%M:%SZ)" ]
check "the recent failures are the period's newest" [ "$(jpath "$work/s.json" '(d["recent_failures"][0]["timestamp"][:19], all(e["timestamp"][:19] <= "'"${at%Z}"'" for e in d["recent_failures"]))')" = "('${at%Z}', True)" ]
check "now's failure is nowhere" [ "$(jpath "$work/s.json" '"198.51.100.5" in str(d)')" = False ]

run snapshot --at "$at" >"$work/s.txt"
check "the text says it is a look back, and Redis and health are now" grep -q "A look back: the audit log from .* to $at; Redis and health as they are now" "$work/s.txt"
check "the text holds no raw escape" [ "$(grep -c $'\x1b' "$work/s.txt")" = 0 ]

run snapshot --at "3h ago" --format json >"$work/r.json"
check "a relative time is read too (3h ago: the same period, or the minute after)" \
	[ "$(jpath "$work/r.json" '(int(d["period"]["to"][14:16]) - int("'"${at:14:2}"'")) % 60 in (0, 1)')" = True ]

run snapshot --at "soon" >"$work/e.txt" 2>&1
check "a time it cannot read: exit 2" [ $? -eq 2 ]
check "and it says which forms it takes" grep -q -- "--at: not a time: try 2h ago" "$work/e.txt"
run snapshot --at "2099-01-01T00:00Z" >"$work/e.txt" 2>&1
check "the future: exit 2, said" [ $? -eq 2 ] && grep -q "in the future" "$work/e.txt"
run snapshot --at $'03:10\x1b[2J' >"$work/e.txt" 2>&1
check "an escape sequence in --at is refused" [ $? -eq 2 ]
check "and not echoed raw" [ "$(grep -c $'\x1b' "$work/e.txt")" = 0 ]
finish
