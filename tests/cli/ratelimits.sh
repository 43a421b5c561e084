#!/usr/bin/env bash
# Rate-limit pressure against the real Redis and PostgreSQL: the ratelimit:
# counters nearest their limit (100 per 60 s by default, a setting), with
# their TTL, exact for an address on screen, and the servers'
# rate_limit_exceeded events per minute equal to SQL's count.
. "$(dirname "$0")/lib.sh"
need_servers SECTOP_TEST_DB SECTOP_TEST_REDIS

work=$(mktemp -d)
redis_url="${SECTOP_TEST_REDIS%/*}/19"
table="rl_audit_$$"
trap 'redis-cli -u "$redis_url" FLUSHDB >/dev/null 2>&1; tsql -c "DROP TABLE IF EXISTS $table" >/dev/null 2>&1; rm -rf "$work"' EXIT
redis-cli -u "$redis_url" FLUSHDB >/dev/null
rc() { redis-cli -u "$redis_url" "$@" >/dev/null; }
rc SET ratelimit:198.51.100.1 120 EX 40
rc SET ratelimit:198.51.100.2 85 EX 50
rc SET ratelimit:198.51.100.3 5 EX 55
rc SET ratelimit:2001:db8::9 99 EX 30
tsql -c "CREATE TABLE $table (LIKE audit_log INCLUDING ALL)"
tsql <<SQL
INSERT INTO $table ("timestamp", tenant_id, action, ip_address, status_code)
SELECT now() - (g % 300) * interval '1 second', 'acme', 'rate_limit_exceeded', '198.51.100.1', 429
FROM generate_series(1, 37) g;
INSERT INTO $table ("timestamp", tenant_id, action, ip_address, status_code)
SELECT now() - (g % 300) * interval '1 second', 'acme', 'failed_auth', '198.51.100.3', 401
FROM generate_series(1, 12) g;
SQL
run() { "$SECTOP" --db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" "$@" </dev/null; }
run snapshot --format json >"$work/s.json" 2>/dev/null
check "the counters nearest their limit first, with the limit" \
	[ "$(jpath "$work/s.json" '[(r["ip"], r["count"], r["limit"]) for r in d["rate_limited"]]')" = \
	  "[('198.51.100.1', 120, 100), ('2001:db8::9', 99, 100), ('198.51.100.2', 85, 100), ('198.51.100.3', 5, 100)]" ]
check "... with their TTL" [ "$(jpath "$work/s.json" '0 < [r["ttl_s"] for r in d["rate_limited"] if r["ip"] == "198.51.100.2"][0] <= 50')" = True ]
check "an address on screen is read exactly" [ "$(jpath "$work/s.json" '[r["exact"] for r in d["rate_limited"] if r["ip"] == "198.51.100.3"][0]')" = True ]
sql=$(tsql -c "SELECT count(*) FROM $table WHERE action = 'rate_limit_exceeded' AND \"timestamp\" >= date_trunc('minute', now()) - interval '15 minutes'")
check "rate-limited events per minute add up to SQL's ($sql)" [ "$(jpath "$work/s.json" 'sum(x or 0 for x in d["rate_limited_per_minute"])')" = "$sql" ]
check "minutes before the window are unknown, not 0" [ "$(jpath "$work/s.json" 'd["rate_limited_per_minute"][0]')" = None ]
run snapshot --format json --ratelimit-limit 150 >"$work/l.json" 2>/dev/null
check "the limit is a setting" [ "$(jpath "$work/l.json" 'd["rate_limited"][0]["limit"]')" = 150 ]
finish
