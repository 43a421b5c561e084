#!/usr/bin/env bash
# The ranges view (P) grouped by AS (A) with MaxMind DB fixtures
# (tests/fixtures/make_mmdb.pl): "AS64500 Example Hosting ..." with its
# failures, requests, addresses and tenants equal to independent SQL over
# the fixture's networks; the organisation's escape sequences shown inert;
# the addresses in no network a row of their own, "(not in the AS
# database)", told apart from "no database" (A then says there is none);
# Enter lists the AS's addresses; A again groups by /24 and /64.
. "$(dirname "$0")/lib.sh"
tui_init ranges_as 27
tui_geoip_fixture

# AS64500 is 203.0.113.0/24, AS64501 198.51.100.0/24, AS64502 2001:db8::/32;
# 192.0.2.0/24 is in no network (make_mmdb.pl)
tsql <<SQL || { echo 'seeding failed' >&2; exit 99; }
INSERT INTO $table (tenant_id, user_id, action, ip_address, status_code)
SELECT CASE WHEN g % 2 = 0 THEN 'acme' ELSE 'globex' END, 'u', 'failed_auth',
       ('203.0.113.' || (g % 30 + 1))::inet, 401 FROM generate_series(1, 60) g;
INSERT INTO $table (tenant_id, user_id, action, ip_address, status_code)
SELECT 'acme', 'u', 'login', ('203.0.113.' || (g % 5 + 1))::inet, 200 FROM generate_series(1, 7) g;
INSERT INTO $table (tenant_id, user_id, action, ip_address, status_code)
SELECT 'initech', 'u', 'failed_auth', ('198.51.100.' || (g % 4 + 1))::inet, 401 FROM generate_series(1, 25) g;
INSERT INTO $table (tenant_id, user_id, action, ip_address, status_code)
SELECT 'acme', 'u', 'failed_auth', ('2001:db8:1:' || g || '::9')::inet, 401 FROM generate_series(1, 3) g;
INSERT INTO $table (tenant_id, user_id, action, ip_address, status_code)
SELECT 'acme', 'u', 'failed_auth', ('192.0.2.' || (g % 2 + 1))::inet, 401 FROM generate_series(1, 4) g;
SQL

# independent figures, by network: failures, requests of the failing addresses, addresses, tenants
as_sql() {
	tsql -At -F ' ' -c "WITH f AS (SELECT ip_address FROM $table WHERE ip_address << '$1' AND $failure_sql AND $(in_window)
	                    GROUP BY ip_address)
	  SELECT count(*) FILTER (WHERE $failure_sql), count(*), count(DISTINCT t.ip_address),
	         count(DISTINCT tenant_id) FILTER (WHERE $failure_sql)
	  FROM $table t JOIN f USING (ip_address) WHERE $(in_window)"
}
read -r f500 r500 a500 t500 <<<"$(as_sql 203.0.113.0/24)"
read -r f501 r501 a501 t501 <<<"$(as_sql 198.51.100.0/24)"
read -r fnone rnone anone tnone <<<"$(as_sql 192.0.2.0/24)"

TUI_RECORD=$work/tty.log
tui_start --geoip-db "$work/country.mmdb" --geoip-db "$work/asn.mmdb" --top 100
tmx resize-window -t tui -x 160 -y 30
keys P
check_shows "P: by /24 and /64, A said in the title" " P Ranges (6) by /24 and /64; A by AS " 8
keys A
check_shows "A: by AS, said in the title" " P Ranges (4) by AS; A by /24 and /64 " 8
check_shows_re "AS64500 and its organisation: $f500 failures, $r500 requests, $a500 addresses, $t500 tenants (SQL)" \
	"AS64500 Example Hosting \\\\x1b\[31mB\.V\..* +$f500 +$r500 +$a500 +$t500( |$)" 5
check_shows_re "AS64501 as SQL" "AS64501 Example Transit Inc\. +$f501 +$r501 +$a501 +$t501( |$)" 5
check_shows_re "AS64502 (IPv6)" "AS64502 Beispiel <U\+202E>Netz GmbH +3 +3 +3 +1( |$)" 5
check_shows_re "the addresses in no network: a row of their own, as SQL" \
	"\(not in the AS database\) +$fnone +$rnone +$anone +$tnone( |$)" 5
check "the busiest AS first" [ "$(screen | grep -o 'AS6450[0-2]' | head -1)" = AS64500 ]
keys g Enter
check_shows "Enter lists the AS's addresses" "filter \"AS64500\": $a500" 5
check "... none of another AS" lacks "198.51.100."
keys P
wait_for " P Ranges (4) by AS" 5
keys B
check_shows "B on an AS: not a range, said" "an AS is not a range" 5
keys A
check_shows "A again: by /24 and /64" " P Ranges (6) by /24 and /64; A by AS " 8
check_shows_re "the /24 as before" "203\.0\.113\.0/24 +$f500 +$r500 +$a500 +$t500 " 5
tui_stop
check "no escape sequence of the organisation reached the terminal" \
	python3 -c 'import sys; t=open(sys.argv[1],"rb").read(); sys.exit(1 if b"\x1b]0;owned" in t or b"\x1b[31mB.V." in t or "\u202e".encode() in t else 0)' "$work/tty.log"

# without a database there is no AS to group by: said, and the view stays by network
TUI_RECORD=
tui_start --top 100
keys P
wait_for " P Ranges (6) by /24 and /64" 8
keys A
check_shows "no database: A says so" "no GeoIP database: grouping by AS needs --geoip-db" 5
check_shows "... and the ranges stay by network" " P Ranges (6) by /24 and /64; A by AS " 5
finish
