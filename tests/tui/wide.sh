#!/usr/bin/env bash
# A wide terminal shows more, not wider.  At 80x24 the overview is as it
# was (no rate-limit panel, the four top-address columns); from 160
# columns the top addresses gain users, tenants, last seen, a sparkline of
# their failures, country and AS (MaxMind DB fixtures), each column as wide
# as its longest value; the tenants panel gains unauthorized, cross-tenant
# and distinct columns; a panel of the addresses nearest their rate limit
# appears; at 220 the room left goes to the last failure's path and user
# agent.  Figures equal independent SQL and redis-cli; the organisation
# name holding escape sequences reaches the terminal inert.
. "$(dirname "$0")/lib.sh"
tui_init wide 26
tui_geoip_fixture

tsql <<SQL || { echo 'seeding failed' >&2; exit 99; }
INSERT INTO $table ("timestamp", tenant_id, user_id, action, method, path, user_agent, ip_address, status_code)
SELECT now() - g * interval '1 second', CASE WHEN g % 2 = 0 THEN 'acme' ELSE 'globex' END, 'u' || (g % 4),
       'failed_auth', 'POST', '/api/v1/session', 'curl/8.5.0', '203.0.113.45', 401
FROM generate_series(1, 30) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, status_code)
SELECT now() - g * interval '1 second', 'acme', 'v', 'failed_auth', '2001:db8:bad::7', 401
FROM generate_series(1, 20) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, status_code)
SELECT now() - g * interval '1 second', 'acme', 'w', 'failed_auth', '192.0.2.7', 401
FROM generate_series(1, 10) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, status_code)
SELECT now() - g * interval '1 second', 'globex', 'x' || (g % 3), 'unauthorized_access', '198.51.100.9', 403
FROM generate_series(1, 6) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, status_code)
SELECT now() - g * interval '1 second', 'globex', 'x', 'cross_tenant_access', '198.51.100.9', 200
FROM generate_series(1, 4) g;
SQL
rcli SET ratelimit:198.51.100.61 130 EX 300 >/dev/null
rcli SET ratelimit:198.51.100.62 40 EX 300 >/dev/null

q() { tsql -At -c "$1"; }
w15=$(in_window)
users45=$(q "SELECT count(DISTINCT user_id) FROM $table WHERE ip_address = '203.0.113.45' AND $w15")
tenants45=$(q "SELECT count(DISTINCT tenant_id) FROM $table WHERE ip_address = '203.0.113.45' AND $w15")
fail45=$(q "SELECT count(*) FROM $table WHERE ip_address = '203.0.113.45' AND $failure_sql AND $w15")
g_req=$(q "SELECT count(*) FROM $table WHERE tenant_id = 'globex' AND $w15")
g_fail=$(q "SELECT count(*) FROM $table WHERE tenant_id = 'globex' AND $failure_sql AND $w15")
g_unauth=$(q "SELECT count(*) FILTER (WHERE action = 'unauthorized_access' OR status_code = 403) FROM $table WHERE tenant_id = 'globex' AND $w15")
g_cross=$(q "SELECT count(*) FILTER (WHERE action = 'cross_tenant_access') FROM $table WHERE tenant_id = 'globex' AND $w15")
g_ips=$(q "SELECT count(DISTINCT ip_address) FROM $table WHERE tenant_id = 'globex' AND $w15")
g_users=$(q "SELECT count(DISTINCT user_id) FROM $table WHERE tenant_id = 'globex' AND $w15")
rl61=$(rcli GET ratelimit:198.51.100.61)
rl62=$(rcli GET ratelimit:198.51.100.62)

TUI_RECORD=$work/tty.log
tui_start --geoip-db "$work/country.mmdb" --geoip-db "$work/asn.mmdb" --walk-interval 1s

# --- 80x24: as it was ------------------------------------------------------------
check_shows "80x24: the top addresses" "203.0.113.45" 10
check_shows_re "80x24: the four columns of old" "address +fail +req +ctr +blocked" 3
check "80x24: no rate-limit panel" lacks "Rate limits"
check "80x24: no users column" lacks "users"
check "80x24: no sparkline header" lacks "failures  "

# --- 160 columns -------------------------------------------------------------------
tmx resize-window -t tui -x 160 -y 40
check_shows "160: the rate-limit panel" " Rate limits (100 in 60s) " 5
check_shows_re "160: the fuller address first, its count as redis-cli says ($rl61)" \
	"198\.51\.100\.61 +$rl61 +$((rl61 * 100 / 100))%" 8
check_shows_re "160: the other at its share ($rl62)" "198\.51\.100\.62 +$rl62 +$rl62%" 5
check "160: the fuller first" [ "$(screen | grep -o '198\.51\.100\.6[12] ' | head -1)" = "198.51.100.61 " ]
check_shows_re "160: the top addresses gain users, tenants, seen, failures, cc, network" \
	"address +fail +req +ctr +blocked +users +tenants +seen +failures +cc +network" 5
check_shows_re "160: 203.0.113.45: failures, users ($users45), tenants ($tenants45) as SQL; the address column as wide as its longest value" \
	"203\.0\.113\.45 {1,8}$fail45 +$fail45 +$users45 +$tenants45 +[0-9]+s " 8
# the sparkline's newest slice may have begun since the rows came: its
# peak is somewhere in it, the lower bars after
check_shows_re "160: its sparkline, its country and AS" "203\.0\.113\.45 .*█[▁▂▃▄▅▆▇█]* +NL +AS64500 Example Hosting" 5
check_shows_re "160: an address in no network: ?" "192\.0\.2\.7 .* \? +\?" 5
check "160: the organisation's escape shown as text" shows 'Example Hosting \x1b[31mB.V'
check_shows_re "160: the tenants panel gains unauth, cross, ips, users" "tenant +req +fail +unauth +cross +ips +users" 5
check_shows_re "160: globex as SQL ($g_req $g_fail $g_unauth $g_cross $g_ips $g_users)" \
	"globex +$g_req +$g_fail +$g_unauth +$g_cross +$g_ips +$g_users" 5

# --- 220 columns -------------------------------------------------------------------
tmx resize-window -t tui -x 220 -y 40
check_shows_re "220: the room left goes to the last failure: its path and user agent" \
	"203\.0\.113\.45 .*AS64500 .*POST /api/v1/session  curl/8\.5\.0" 5
check_shows_re "220: the tail gains a header; the user agent takes the rest" "time +address +tenant +user +st +path +user agent" 5
check_shows "220: the rate-limit panel stays" " Rate limits (100 in 60s) " 3

# --- back to 80x24 -------------------------------------------------------------------
tmx resize-window -t tui -x 80 -y 24
check_gone "80x24 again: the rate-limit panel goes" "Rate limits" 5
tui_stop
check "no escape sequence of the organisation reached the terminal" \
	python3 -c 'import sys; t=open(sys.argv[1],"rb").read(); sys.exit(1 if b"\x1b]0;owned" in t or b"\x1b[31mB.V." in t else 0)' "$work/tty.log"
finish
