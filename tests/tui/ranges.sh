#!/usr/bin/env bash
# The ranges view (P): the failing addresses grouped by IPv4 /24 and IPv6
# /64, with failures, requests, addresses and tenants, a botnet's /24 above
# one busy address; Enter lists the range's addresses (the top addresses,
# filtered by the network); the snapshot has the same figures as SQL.
. "$(dirname "$0")/lib.sh"
tui_init ranges 24

tsql <<SQL || exit 99
INSERT INTO $table (tenant_id, user_id, action, ip_address, status_code)
SELECT CASE WHEN g % 2 = 0 THEN 'acme' ELSE 'globex' END, 'u', 'failed_auth',
       ('203.0.113.' || (g % 30 + 1))::inet, 401 FROM generate_series(1, 60) g;
INSERT INTO $table (tenant_id, user_id, action, ip_address, status_code)
SELECT 'acme', 'u', 'failed_auth', '198.51.100.7', 401 FROM generate_series(1, 25) g;
INSERT INTO $table (tenant_id, user_id, action, ip_address, status_code)
SELECT 'acme', 'u', 'failed_auth', ('2001:db8:1:2::' || g)::inet, 401 FROM generate_series(1, 3) g;
SQL
TUI_ENV=("XDG_STATE_HOME=$work/state")
tui_start --top 100
keys P
check_shows "P opens the ranges view" " P Ranges (3) " 8
check_shows_re "the /24 first: 60 failures, 60 requests, 30 addresses, 2 tenants" "203\.0\.113\.0/24 +60 +60 +30 +2" 8
check_shows_re "one busy address's /24 after it" "198\.51\.100\.0/24 +25 +25 +1 +1" 3
check_shows_re "an IPv6 /64" "2001:db8:1:2::/64 +3 +3 +3 +1" 3
keys g Enter
check_shows "Enter lists its addresses" 'filter "203.0.113.0/24": 30' 5
check "... none outside it" lacks "198.51.100.7"

"$SECTOP" -c "$work/empty.conf" --db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" snapshot --format json >"$work/s.json"
want=$(tsql -c "SELECT count(*) FROM $table WHERE ip_address << '203.0.113.0/24'")
check "snapshot: the /24's failures equal SQL's ($want)" \
	[ "$(jpath "$work/s.json" '[r["failures"] for r in d["ranges"] if r["network"] == "203.0.113.0/24"][0]')" = "$want" ]
finish
