#!/usr/bin/env bash
# The overview at 80x24 shows the figures an independent SQL count and
# Redis's own answers give: the top addresses' failures and requests in the
# window, their failed_auth counters and block TTLs, the tenants' requests,
# the number of blocked addresses, the health endpoints' states.
. "$(dirname "$0")/lib.sh"
tui_init overview 10

attacker=203.0.113.7
second=198.51.100.9

seed() {
	# All inside the current window (the last 5 minutes), plus older rows
	# for the attacker that must not be counted.
	tsql <<SQL
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code, user_agent)
SELECT now() - g * interval '5 seconds', 'acme', 'u' || (g % 5), 'failed_auth', '$attacker', '/login', 401, 'hydra'
FROM generate_series(1, 45) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code)
SELECT now() - g * interval '7 seconds', 'acme', 'u1', 'api_request', '$attacker', '/v1/items', 200
FROM generate_series(1, 5) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code)
SELECT now() - interval '2 hours' - g * interval '1 second', 'acme', 'u1', 'failed_auth', '$attacker', '/login', 401
FROM generate_series(1, 30) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code)
SELECT now() - g * interval '11 seconds', 'globex', 'g' || (g % 3), CASE WHEN g <= 8 THEN 'unauthorized_access' ELSE 'api_request' END,
       '$second', '/v1/admin', CASE WHEN g <= 8 THEN 403 ELSE 200 END
FROM generate_series(1, 20) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code)
SELECT now() - g * interval '3 seconds', 'initech', 'i1', 'api_request', ('192.0.2.' || (g % 4 + 1))::inet, '/v1/ok', 200
FROM generate_series(1, 12) g;
SQL
	rcli SET "failed_auth:$attacker" 42 EX 300 >/dev/null
	rcli SET "blocked:$attacker" 1 EX 3000 >/dev/null
	rcli SET "failed_auth:$second" 6 EX 300 >/dev/null
	rcli SET "blocked:192.0.2.200" '{"by":"alice","reason":"scanner","at":1700000000}' EX 600 >/dev/null
	rcli SET "session:abc" unrelated >/dev/null
}

sql() { tsql -c "$1"; }

# The Top addresses panel is the left 49 columns; its rows are
# " ADDRESS FAIL REQ CTR [BLOCKED]".
top_row() { screen | cut -c1-49 | awk -v ip="$1" '$1 == ip { print; exit }'; }
# The Tenants panel is right of column 50: " NAME REQ FAIL".
tenant_row() { screen | cut -c51- | awk -v t="$1" '$1 == t { print; exit }'; }

seed || { echo 'seeding failed' >&2; exit 99; }
tui_start \
	--health "web=$SECTOP_TEST_HTTP/health/healthy" \
	--health "api=$SECTOP_TEST_HTTP/health/degraded" \
	--health "auth=$SECTOP_TEST_HTTP/health/down"

check_shows "header: pg ok" "pg ok"
check_shows "header: redis ok" "redis ok"
check_shows "header: window 15m, all tenants" "win 15m  all tenants"
check_shows_re "header: one of three endpoints healthy" "health 1/3"
# Postgres and Redis answer separately: wait for both in the attacker's row.
attacker_complete() { [ -n "$(top_row "$attacker" | awk '$5 != ""')" ]; }
wait_until 8 attacker_complete

# --- top addresses ----------------------------------------------------------
fail=$(sql "SELECT count(*) FROM $table WHERE ip_address = '$attacker' AND $failure_sql AND $(in_window)")
req=$(sql "SELECT count(*) FROM $table WHERE ip_address = '$attacker' AND $(in_window)")
row=$(top_row "$attacker")
read -r _ s_fail s_req s_ctr s_ttl <<<"$row"
check "the attacker is the first address" [ "$(screen | cut -c1-49 | sed -n 5p | awk '{print $1}')" = "$attacker" ]
check "its failures equal SQL's count ($fail, shown ${s_fail:-none})" [ "${s_fail:-}" = "$fail" ]
check "its requests equal SQL's count ($req, shown ${s_req:-none})" [ "${s_req:-}" = "$req" ]
check "its failed_auth counter is Redis's (shown ${s_ctr:-none})" [ "${s_ctr:-}" = "$(rcli GET "failed_auth:$attacker")" ]
redis_ttl=$(rcli TTL "blocked:$attacker")
shown_ttl=$(ttl_seconds "${s_ttl:-}")
check "its block TTL (${s_ttl:-none}) is Redis's ($redis_ttl s) within 5 s" \
	[ "$shown_ttl" -gt 0 ] && [ $((shown_ttl - redis_ttl)) -le 5 ] && [ $((redis_ttl - shown_ttl)) -le 5 ]
check "the TTL reads as minutes and seconds left (${s_ttl:-none})" matches "${s_ttl:-}" '^(50m00s|49m[0-5][0-9]s)$'

fail2=$(sql "SELECT count(*) FROM $table WHERE ip_address = '$second' AND $failure_sql AND $(in_window)")
req2=$(sql "SELECT count(*) FROM $table WHERE ip_address = '$second' AND $(in_window)")
read -r _ s_fail s_req s_ctr s_ttl <<<"$(top_row "$second")"
check "second address: failures $fail2, requests $req2, counter 6, not blocked" \
	[ "${s_fail:-}/${s_req:-}/${s_ctr:-}/${s_ttl:-}" = "$fail2/$req2/6/" ]
check "addresses without failures are not top addresses" [ -z "$(top_row 192.0.2.1)" ]

# --- tenants ------------------------------------------------------------------
for t in acme globex initech; do
	treq=$(sql "SELECT count(*) FROM $table WHERE tenant_id = '$t' AND $(in_window)")
	tfail=$(sql "SELECT count(*) FROM $table WHERE tenant_id = '$t' AND $failure_sql AND $(in_window)")
	read -r _ s_req s_fail <<<"$(tenant_row "$t")"
	check "tenant $t: $treq requests, $tfail failures (shown ${s_req:-none}, ${s_fail:-none})" \
		[ "${s_req:-}/${s_fail:-}" = "$treq/$tfail" ]
done

# --- blocked, health, recent failures --------------------------------------------
nblocked=$(rcli --scan --pattern 'blocked:*' | wc -l)
check_shows "blocked panel counts Redis's $nblocked blocked keys" " Blocked ($nblocked) "
blocked_lists() { screen | cut -c51- | grep -qF " $1 "; }
check "blocked panel lists the operator's block" blocked_lists 192.0.2.200
health_state() { screen | awk -v n="$1" '$1 == n { print $2; exit }'; }
check "health: web healthy" [ "$(health_state web)" = healthy ]
check "health: api degraded" [ "$(health_state api)" = degraded ]
check "health: auth down" [ "$(health_state auth)" = down ]
check "health: the down endpoint says why" shows "HTTP 503"
newest=$(sql "SELECT to_char(max(\"timestamp\"), 'HH24:MI:SS') FROM $table WHERE $failure_sql")
check "recent failures: the newest ($newest) is the first line" \
	[ "$(screen | grep -A1 -F ' Recent failures ' | tail -1 | awk '{print $1}')" = "$newest" ]
check "the footer shows the key hints" shows "q quit  ? help"

# --- the figures follow the table -------------------------------------------------
tsql -c "INSERT INTO $table (tenant_id, action, ip_address, status_code) SELECT 'acme', 'failed_auth', '$attacker', 401 FROM generate_series(1, 7)"
attacker_failures_are() { [ "$(top_row "$attacker" | awk '{print $2}')" = "$1" ]; }
check_until "seven new failures show up on the next refreshes" 8 attacker_failures_are $((fail + 7))
check "sectop is still running" alive
finish
