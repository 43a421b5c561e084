#!/usr/bin/env bash
# Country and AS from MaxMind DB fixtures the test builds
# (tests/fixtures/make_mmdb.pl, Debian's libmaxmind-db-writer-perl): the top
# addresses gain a country and a network column on a wide terminal, the
# drill-down says where an address sits, "not in the database" and "no
# database" are told apart, an organisation name holding escape sequences
# reaches the terminal inert, and the snapshot carries country, asn, as_org.
. "$(dirname "$0")/lib.sh"
tui_init geoip 23
tui_geoip_fixture

tsql <<SQL || { echo 'seeding failed' >&2; exit 99; }
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, status_code)
SELECT now() - g * interval '1 second', 'acme', 'u' || (g % 4), 'failed_auth', '203.0.113.45', 401
FROM generate_series(1, 30) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, status_code)
SELECT now() - g * interval '1 second', 'acme', 'v', 'failed_auth', '2001:db8:bad::7', 401
FROM generate_series(1, 20) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, status_code)
SELECT now() - g * interval '1 second', 'acme', 'w', 'failed_auth', '192.0.2.7', 401
FROM generate_series(1, 10) g;
SQL
geo=(--geoip-db "$work/country.mmdb" --geoip-db "$work/asn.mmdb")

# --- the snapshot ------------------------------------------------------------------
snap() { "$SECTOP" -c "$work/empty.conf" --db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" snapshot "$@"; }
snap "${geo[@]}" --format json >"$work/s.json"
by_ip() { jpath "$work/s.json" "[(i['geo'], i['country'], i['asn'], i['as_org']) for i in d['top_ips'] if i['ip'] == '$1'][0]"; }
check "JSON: IPv4 found, the organisation exact" [ "$(by_ip 203.0.113.45)" = "('found', 'NL', 64500, 'Example Hosting \x1b[31mB.V.\x1b]0;owned\x07')" ]
check "JSON: IPv6 found" [ "$(by_ip 2001:db8:bad::7)" = "('found', 'DE', 64502, 'Beispiel \u202eNetz GmbH')" ]
check "JSON: an address in no network" [ "$(by_ip 192.0.2.7)" = "('not_found', None, None, None)" ]
snap --format json >"$work/none.json"
check "JSON without a database says so" [ "$(jpath "$work/none.json" 'd["top_ips"][0]["geo"]')" = no_database ]
snap "${geo[@]}" >"$work/s.txt"
check "text: the network beside the address" grep -q "203.0.113.45 .* NL  AS64500 Example Hosting" "$work/s.txt"
check "text: the organisation's escapes inert" python3 -c 'import sys; t=open(sys.argv[1],"rb").read(); sys.exit(1 if b"\x1b" in t or b"\x07" in t or "\u202e".encode() in t else 0)' "$work/s.txt"
snap --geoip-db "$work/missing.mmdb" >"$work/bad.txt" 2>&1
check "a database that cannot be opened: exit 2, named" [ $? -eq 2 ] && grep -q "missing.mmdb" "$work/bad.txt"

"$SECTOP" -c "$work/empty.conf" --db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" report --since 1d \
	--format json "${geo[@]}" >"$work/r.json" 2>/dev/null
check "report: the failing addresses' countries, with the previous period" \
	[ "$(jpath "$work/r.json" '[(x["country"], x["failures"], x["addresses"], x["previous"]) for x in d["sections"]["top_countries"]["rows"]]')" = \
	  "[('NL', 30, 1, 0), ('DE', 20, 1, 0), ('unknown', 10, 1, 0)]" ]
check "report: their networks, the organisation exact in JSON" \
	[ "$(jpath "$work/r.json" 'd["sections"]["top_networks"]["rows"][0]["network"]')" = "$(printf 'AS64500 Example Hosting \033[31mB.V.\033]0;owned\a')" ]

# --- the console -----------------------------------------------------------------
TUI_RECORD=$work/tty.log
tui_start "${geo[@]}"
keys 2
check_shows "the top addresses" "203.0.113.45" 10
check "at 80 columns the network column is left out" lacks "network"
tmx resize-window -t tui -x 200 -y 30
check_shows "at 200 columns: the network column" "network (geoip-db)" 5
check_shows_re "203.0.113.45's country and AS" "203\.0\.113\.45 .* NL +AS64500 Example Hosting" 5
check_shows_re "2001:db8:bad::7's country and AS" "2001:db8:bad::7 .* DE +AS64502 Beispiel" 5
check_shows_re "192.0.2.7: not in the databases" "192\.0\.2\.7 .* \? +\?" 5
keys g Enter
check_shows "the drill-down says where it sits" "network: NL  AS64500 Example Hosting" 5
keys Escape / BSpace
type_text 192.0.2.7
keys Enter Enter
check_shows "an address in no network is said as such" "network: not in the GeoIP databases" 5
tui_stop
check "no escape sequence of the organisation reached the terminal" \
	python3 -c 'import sys; t=open(sys.argv[1],"rb").read(); sys.exit(1 if b"\x1b]0;owned" in t or b"\x1b[31mB.V." in t or "\u202e".encode() in t else 0)' "$work/tty.log"
TUI_RECORD=
tui_start
keys 2
wait_for "203.0.113.45" 10
keys g Enter
check_shows "without a database the drill-down says there is none" "network: no GeoIP database" 8
finish
