#!/usr/bin/env bash
# Estimates are shown as such: a tenant with 600 distinct users in one minute
# (past the exact sets' 128) shows "~N" within 2% of SQL's count, while a
# small tenant's figures are exact and unmarked; a new row still shows up
# on the next refresh, the window read once.
. "$(dirname "$0")/lib.sh"
tui_init estimates 12

tsql <<SQL || { echo 'seeding failed' >&2; exit 99; }
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, status_code)
SELECT date_trunc('minute', now()) + (g % 50) * interval '10 milliseconds', 'bigcorp', 'user_' || g, 'api_request',
       ('10.9.' || (g % 200) || '.' || (g % 7))::inet, 200
FROM generate_series(1, 600) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, status_code)
SELECT now() - g * interval '2 seconds', 'smallcorp', 's' || (g % 5), 'failed_auth', '192.0.2.77', 401
FROM generate_series(1, 20) g;
SQL

tui_start --window 15m
keys 3
# The tenants view: " TENANT REQ FAIL UNAUTH CROSS IPS USERS".
tenant_field() { screen | awk -v t="$1" -v f="$2" '$1 == t { print $f; exit }'; }
check_until "the tenants view lists bigcorp" 10 shows bigcorp

users_sql=$(tsql -c "SELECT count(DISTINCT user_id) FROM $table WHERE tenant_id = 'bigcorp'")
shown=$(tenant_field bigcorp 7)
check "bigcorp's users are marked as an estimate (shown ${shown:-none})" matches "${shown:-}" '^~[0-9]+$'
n=${shown#\~}
check "the estimate ($n) is within 2% of SQL's $users_sql" \
	[ "${n:-0}" -ge $((users_sql * 98 / 100)) ] && [ "${n:-0}" -le $((users_sql * 102 / 100)) ]
check "bigcorp's requests are exact (600)" [ "$(tenant_field bigcorp 2)" = 600 ]
check "smallcorp: 20 requests, 20 failures, 5 users, none marked" \
	[ "$(tenant_field smallcorp 2)/$(tenant_field smallcorp 3)/$(tenant_field smallcorp 7)" = "20/20/5" ]

tsql -c "INSERT INTO $table (tenant_id, user_id, action, ip_address, status_code) VALUES ('smallcorp', 'newcomer', 'failed_auth', '192.0.2.77', 401)"
smallcorp_users_are() { [ "$(tenant_field smallcorp 7)" = "$1" ]; }
check_until "a new user shows up on the next refreshes" 8 smallcorp_users_are 6
check "sectop is still running" alive
finish
