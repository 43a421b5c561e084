#!/usr/bin/env bash
# The keys of ui/keys.c do what the help says: the help lists them, number
# keys and Tab/Shift-Tab reach every list, / filters (any case), s/S sort,
# Enter drills into an address, a tenant and a health endpoint, w cycles the
# window, t scopes to a tenant, q quits and gives the terminal back.
. "$(dirname "$0")/lib.sh"
tui_init keys 12

attacker=203.0.113.7
v6=2001:db8::beef

seed() {
	tsql <<SQL
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code, user_agent)
SELECT now() - g * interval '19 seconds', 'Acme-Prod', CASE WHEN g % 2 = 0 THEN 'alice' ELSE 'bob' END,
       'failed_auth', '$attacker', '/login', 401, 'hydra/9.1'
FROM generate_series(1, 20) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code, user_agent)
SELECT now() - g * interval '23 seconds', 'acme-dev', 'carol', 'failed_auth', '$attacker', '/login', 401, 'curl/8.1'
FROM generate_series(1, 5) g;
-- half an hour ago: in the 1h window, not in 15m
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code, user_agent)
SELECT now() - interval '30 minutes' - g * interval '1 second', 'Acme-Prod', 'alice', 'failed_auth', '$attacker', '/login', 401, 'hydra/9.1'
FROM generate_series(1, 10) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code)
SELECT now() - g * interval '13 seconds', 'Acme-Prod', 'svc', 'api_request', '192.0.2.5', '/v1/items', 200
FROM generate_series(1, 10) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code)
SELECT now() - g * interval '17 seconds', 'globex', 'gus', CASE WHEN g <= 6 THEN 'failed_auth' ELSE 'api_request' END,
       '$v6', '/v1/g', CASE WHEN g <= 6 THEN 401 ELSE 200 END
FROM generate_series(1, 12) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code)
SELECT now() - g * interval '11 seconds', 'initech', 'ivan', CASE WHEN g <= 3 THEN 'failed_auth' ELSE 'api_request' END,
       '198.51.100.20', '/v1/i', CASE WHEN g <= 3 THEN 401 ELSE 200 END
FROM generate_series(1, 20) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code)
SELECT now() - g * interval '7 seconds', 'umbrella', 'uma', 'api_request', '192.0.2.33', '/v1/u', 200
FROM generate_series(1, 8) g;
SQL
	rcli SET "failed_auth:$attacker" 17 EX 300 >/dev/null
	rcli SET "blocked:$attacker" '{"by":"alice","reason":"credential stuffing","at":1700000000}' EX 1800 >/dev/null
}
seed || { echo 'seeding failed' >&2; exit 99; }

tui_start --health "web=$SECTOP_TEST_HTTP/health/healthy" --health "api=$SECTOP_TEST_HTTP/health/degraded"
wait_for "redis ok" && wait_for "$attacker" && wait_for "umbrella" && wait_for "health 1/2"

# --- help: every key of the table, here ----------------------------------------
keys_src="$top_srcdir/ui/keys.c"
# "LABEL<TAB>WHERE<TAB>HELP" for each labelled binding of the key table
bindings() {
	sed -nE 's/^[[:space:]]*\{ *[^,]+, *"([^"]+)", *ACT_[A-Z_]+, *([A-Z_ |]+), *"([^"]+)" *\},?$/\1\t\2\t\3/p' "$keys_src"
}
help_screens() { # what the help shows, first page and last
	keys '?'
	wait_for "Keys here" || return 1
	screen
	keys G
	# the last page ends with the table's last overview key
	wait_for "$(bindings | awk -F'\t' '$2 ~ /IN_OVERVIEW|IN_ALL/ { h = $3 } END { print h }')" 3
	screen
}
# listed LABEL HELP: a help line "  LABEL   HELP"
listed() { awk -v l="$1" -v h="$2" '{ s = $0; sub(/^ +/, "", s) } index(s, l " ") == 1 && index(s, h) { f = 1 } END { exit !f }' "$work/help"; }

check "ui/keys.c has a key table" [ "$(bindings | wc -l)" -gt 20 ]
help_screens >"$work/help"
missing=
while IFS=$'\t' read -r label where help; do
	case $where in *IN_OVERVIEW*|*IN_ALL*) ;; *) continue ;; esac
	listed "$label" "$help" || missing="$missing [$label: $help]"
done < <(bindings)
check "overview help lists every overview key of ui/keys.c${missing:+ (missing:$missing)}" [ -z "$missing" ]
for l in Enter Tab Shift-Tab w t Space q; do
	check "overview help: $l" grep -qE "^ +$l " "$work/help"
done
check "overview help leaves out the list-only keys (/ s S)" \
	bash -c '! grep -qE "^ +(/|s|S) " "$1"' _ "$work/help"
keys Escape
check_gone "Esc leaves the help" "Keys here"
check_shows "... back to the overview" " Top addresses "

keys 3 '?'
check_shows "help from a list" "Keys here"
keys G
for k in / s S n N; do
	check_shows "list help: $k" "$(bindings | awk -F'\t' -v k="$k" '$1 == k { print $3 }')" 3
done
keys Escape
check_shows "Esc from the help returns to the list" " 3 Tenants "

# --- views: number keys, Tab, Shift-Tab -------------------------------------------
titles=("2 Top addresses" "3 Tenants" "4 Health" "5 Blocked addresses" "6 Recent failures" "7 API keys"
        "8 Actions (journal)" "9 Secret rotations")
for i in 2 3 4 5 6 7 8 9; do
	keys "$i"
	check_shows "key $i: ${titles[i - 2]}" " ${titles[i - 2]} (" 3
done
keys 1
check_shows "key 1: the overview" " Top addresses " 3
for i in 0 1 2 3 4 5 6 7; do
	keys Tab
	check_shows "Tab: ${titles[i]}" " ${titles[i]} (" 3
done
keys Tab
check_shows "Tab: 0 Rate limits" " 0 Rate limits (" 3
keys Tab
check_shows "Tab: P Ranges, the last list" " P Ranges (" 3
keys Tab
check_gone "Tab after the last list leaves the lists" " P Ranges (" 3
check_shows "... for the overview" " Top addresses " 3
keys BTab
check_shows "Shift-Tab from the overview: the last list" " P Ranges (" 3
keys BTab
check_shows "... then the one before" " 0 Rate limits (" 3
for i in 7 6 5 4 3 2 1 0; do
	keys BTab
	check_shows "Shift-Tab: ${titles[i]}" " ${titles[i]} (" 3
done
keys BTab
check_shows "Shift-Tab from the first list: the overview" " Top addresses " 3

# --- filter -----------------------------------------------------------------------
# the first column of a list's rows (screen lines 4 on, up to a blank line)
list_keys() { screen | awk 'NR >= 4 && NF == 0 { exit } NR >= 4 { print $1 }'; }
keys 2
wait_for " 2 Top addresses (3) "
keys /
check_shows "/ opens the filter prompt" "filter: _" 3
type_text "DB8::BEEF"
keys Enter
check_shows "the filter is shown with its count" 'filter "DB8::BEEF": 1' 3
check "a filter in capitals finds the lower-case address, and only it" [ "$(list_keys)" = "$v6" ]
keys Enter
check_shows "Enter opens the filtered address" "Address $v6" 3
keys Escape
check_shows "Esc returns to the filtered list" 'filter "DB8::BEEF": 1' 3
keys / BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace Enter
check_gone "an empty filter clears it" 'filter "' 3
check "... all three addresses again" [ "$(list_keys | wc -l)" = 3 ]

keys 3 /
type_text acme
keys Enter
check_shows "tenants filtered by 'acme'" 'filter "acme": 2' 3
check "... Acme-Prod and acme-dev, whatever their case" [ "$(list_keys | sort | tr '\n' ' ')" = "Acme-Prod acme-dev " ]
keys / BSpace BSpace BSpace BSpace Enter
check_gone "tenant filter cleared" 'filter "' 3

# --- sort -------------------------------------------------------------------------
order_is() { [ "$(list_keys | tr '\n' ' ')" = "$1" ]; }
by_name="acme-dev Acme-Prod globex initech umbrella "
keys s
check_shows "s: sorted by tenant, ascending mark" "tenant▲" 3
check_until "... rows by name, any case" 3 order_is "$by_name"
keys S
check_shows "S: the mark turns" "tenant▼" 3
check_until "... rows reversed" 3 order_is "umbrella initech globex Acme-Prod acme-dev "
keys s
check_shows "s: next column, requests, biggest first" "req▼" 3
check "... the mark left the tenant column" lacks "tenant▲"
check_until "... rows by requests" 3 order_is "Acme-Prod initech globex umbrella acme-dev "
keys S
check_shows "S: requests ascending" "req▲" 3
check_until "... rows by requests, smallest first" 3 order_is "acme-dev umbrella globex initech Acme-Prod "

# --- drill-downs --------------------------------------------------------------------
sql() { tsql -c "$1"; }
keys 1 g Enter
check_shows "Enter on the overview's first address opens it" "Address $attacker" 3
fail=$(sql "SELECT count(*) FROM $table WHERE ip_address = '$attacker' AND $failure_sql AND $(in_window)")
check_shows "address: its failures and requests ($fail)" "$fail failures of $fail requests in the window" 3
check_shows "address: its Redis counter" "failed_auth counter 17" 3
check_shows "address: its block, by whom and why" "by alice: credential stuffing" 3
check_shows "address: the tenants it touched" "Tenants touched (2)" 5
group_line() { # NAME EVENTS FAILURES: a "name  N events  N failures" line
	shows_re "^ +$1 +$2 events +$3 failures"
}
for t in Acme-Prod acme-dev; do
	n=$(sql "SELECT count(*) FROM $table WHERE ip_address = '$attacker' AND tenant_id = '$t' AND $(in_window)")
	check_until "address: tenant $t, $n events" 3 group_line "$t" "$n" "$n"
done
check_shows "address: its users" "Users (3)" 3
for u in alice bob carol; do check_shows "address: user $u" "   $u " 3; done
check_shows "address: its user agents" "User agents (2)" 3
check_until "address: hydra/9.1, 20 events" 3 group_line hydra/9.1 20 20
check_until "address: curl/8.1, 5 events" 3 group_line curl/8.1 5 5
keys Escape
check_shows "Esc: back to the overview" " Top addresses " 3

keys 3 /
type_text initech
keys Enter Enter
check_shows "Enter on a tenant opens it" "Tenant initech" 3
check_shows "tenant: its figures" "20 requests, 3 failures" 3
check_shows "tenant: its addresses" "198.51.100.20" 3
keys Escape
check_shows "Esc: back to the tenants" " 3 Tenants " 3
keys / BSpace BSpace BSpace BSpace BSpace BSpace BSpace Enter

keys 4 g j Enter
check_shows "Enter on a health endpoint opens it" "Endpoint api" 3
check_shows "endpoint: components" "Components (3)" 3
for c in database redis qdrant; do check_shows "endpoint: component $c" "   $c " 3; done
check_shows "endpoint: the down component's error" "connection refused" 3
check_shows "endpoint: security headers" "Security headers" 3
check_shows "endpoint: a missing header" "(absent)" 3
keys G
check_shows "endpoint: findings (after scrolling)" "Findings (" 3
keys Escape k Enter
check_shows "endpoint web: its HSTS header" "max-age=31536000" 3

newest=$(sql "SELECT host(ip_address) FROM $table WHERE $failure_sql ORDER BY \"timestamp\" DESC LIMIT 1")
keys 6 g Enter
check_shows "Enter on the newest failure opens its address ($newest)" "Address $newest" 3
keys Escape 5 g Enter
check_shows "Enter on a blocked address opens it" "Address $attacker" 3
keys Escape 1

# --- window -----------------------------------------------------------------------------
# top_fail: the attacker's failures in the overview
top_fail() { screen | awk -v ip="$attacker" '$1 == ip { print $2; exit }'; }
fails_match_sql() { # INTERVAL: the screen equals SQL's count for that window now
	[ "$(top_fail)" = "$(sql "SELECT count(*) FROM $table WHERE ip_address = '$attacker' AND $failure_sql AND $(in_window "$1")")" ]
}
check_shows "the header says the window" "win 15m" 3
keys w
check_shows "w: 1h" "win 1h" 3
check_until "1h: the attacker's failures include the older ones" 5 fails_match_sql '1 hour'
keys w
check_shows "w: 24h" "win 24h" 3
keys w
check_shows "w: 5m" "win 5m" 3
check_until "5m: the attacker's failures in 5 minutes" 5 fails_match_sql '5 minutes'
keys w
check_shows "w: back to 15m" "win 15m" 3
check_until "15m: the figures of 15 minutes" 5 fails_match_sql '15 minutes'

# --- tenant scope -------------------------------------------------------------------------
keys t
check_shows "t opens the tenant prompt" "tenant (empty: all): _" 3
type_text globex
keys Enter
check_shows_re "the header shows the tenant" "win 15m +globex " 3
check_gone "... and no longer all tenants" "all tenants" 3
check_shows "the top addresses are globex's" "$v6" 3
top_panel() { screen | sed -n 5,11p | cut -c1-49; }
top_panel_lacks() { ! top_panel | grep -qF "$1"; }
check_until "... and only those" 3 top_panel_lacks "$attacker"
keys 3
check_shows "the tenant list holds only the tenant" " 3 Tenants (1) " 3
check "... globex" [ "$(list_keys)" = globex ]
keys t BSpace BSpace BSpace BSpace BSpace BSpace Enter
check_shows "t and an empty name: all tenants again" "all tenants" 3
check_shows "... five tenants" " 3 Tenants (5) " 3

# --- quit -----------------------------------------------------------------------------------
keys 1 q
check_shows "q quits: the wrapper's exit marker" "[sectop exited 0]" 5
check "the alternate screen is left" [ "$(pane '#{alternate_on}')" = 0 ]
check "the cursor is visible again" [ "$(pane '#{cursor_flag}')" = 1 ]
check "nothing of the console is left on the screen" lacks "Top addresses"
check "terminal modes as before" diff <(sed 1d "$work/stty.before") <(sed 1d "$work/stty.after")
finish
