#!/usr/bin/env bash
# A look back in time: @ sets the window's end (2h ago), [ and ] move it by
# its own length, L and End return to live.  The header says the period,
# every figure is the audit log's over exactly that period (independent
# SQL), Redis and health are marked "now", and a past window is read once,
# not every refresh.
. "$(dirname "$0")/lib.sh"
tui_init lookback 31
export TZ=UTC

then_ip=203.0.113.45 now_ip=198.51.100.7
# An attack two hours ago (a quarter of an hour's worth, placed so that any
# look back "2h ago" started within the next minutes holds it all), and
# another one now.
tsql <<SQL || exit 99
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code)
SELECT date_trunc('minute', now()) - interval '2 hours' - interval '2 minutes' - (g % 600) * interval '1 second',
       'acme', 'u' || (g % 7), 'failed_auth', '$then_ip', '/login', 401 FROM generate_series(1, 240) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code)
SELECT date_trunc('minute', now()) - interval '2 hours' - interval '20 minutes' - (g % 300) * interval '1 second',
       'initech', 'v' || (g % 3), 'failed_auth', '$then_ip', '/login', 401 FROM generate_series(1, 50) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code)
SELECT now() - (g % 300) * interval '1 second', 'globex', 'w', 'failed_auth', '$now_ip', '/login', 401
FROM generate_series(1, 33) g;
SQL

tui_start
row_fail() { screen | awk -v ip="$1" '$1 == ip { print $2; exit }'; }
check_until "live: the attack under way shows (33)" 8 value_is 33 row_fail "$now_ip"
check "live: the old attack is out of the window" lacks "$then_ip"

# sql_fail FROM TO IP: the failures of IP in [FROM, TO] (unix s), by SQL
sql_fail() {
	tsql -c "SELECT count(*) FROM $table WHERE ip_address = '$3' AND $failure_sql
	         AND \"timestamp\" >= to_timestamp($1) AND \"timestamp\" <= to_timestamp($2)"
}
hhmm() { date -u -d "@$1" +%H:%M; }

keys @
check_shows "@ asks when" "look back to (2h ago" 3
type_text "2h ago"
before=$(date +%s)
keys Enter
after=$(date +%s)
# the end: two hours ago, on the minute (the minute may have turned meanwhile)
end_a=$(((before - 7200) / 60 * 60)) end_b=$(((after - 7200) / 60 * 60))
period_is() { shows "AT $(hhmm $(($1 - 900)))–$(hhmm "$1")"; }
ended_at() { period_is "$end_a" || period_is "$end_b"; }
check_until "the header says the period (AT $(hhmm $((end_a - 900)))–$(hhmm "$end_a"))" 5 ended_at
period_is "$end_b" && end=$end_b || end=$end_a
check "the footer says it is read once, and how to move" shows "read once"
expect=$(sql_fail $((end - 900)) "$end" "$then_ip")
check_until "the old attack's failures are the period's by SQL ($expect)" 8 value_is "$expect" row_fail "$then_ip"
check "the attack of now is not in the period" lacks "$now_ip"
check "Redis and health are marked now in the header" shows "redis now"
check_shows_re "and on their panels" "Health now .* Blocked \\(0\\) now" 5
# the tenants panel's failures of a tenant: the figure two after its name
tenant_fail() { screen | sed -n '/ Tenants /,/ Health /p' | awk -v t="$1" '{ for (i = 1; i < NF - 1; i++) if ($i == t) { print $(i + 2); exit } }'; }
check "the tenants panel: acme, the period's ($expect)" [ "$(tenant_fail acme)" = "$expect" ]
check "the tenants panel: no globex (it failed now, not then)" [ -z "$(tenant_fail globex)" ]

# read once: the console's own session sends nothing more once the period is read
query_start() {
	tsql -c "SELECT query_start FROM pg_stat_activity WHERE application_name = 'sectop'
	         AND datname = current_database() ORDER BY backend_start LIMIT 1"
}
first=$(query_start)
sleep 3    # six refresh periods: live, six refreshes would have queried
check "a past window is read once: no query in 3 s of 500 ms refreshes" [ "$(query_start)" = "$first" ]
keys r
check_until "r reads it again when asked" 5 eval '[ "$(query_start)" != "$first" ]'

keys 6
check_shows "the tail is the period's failures" "$then_ip" 5
check "the tail holds none of now's" lacks "$now_ip"
tail_newest() { screen | grep -m1 -F "$then_ip" | grep -oE '[0-9]{2}:[0-9]{2}:[0-9]{2}' | head -1; }
newest_sql=$(tsql -c "SELECT to_char(max(\"timestamp\") AT TIME ZONE 'UTC', 'HH24:MI:SS') FROM $table
                      WHERE ip_address = '$then_ip' AND \"timestamp\" <= to_timestamp($end)")
check "the tail's newest is the period's newest ($newest_sql)" [ "$(tail_newest)" = "$newest_sql" ]
keys 5
check_shows "the blocked list says it is as of now" "as of now (no history)" 3
keys P
check_shows_re "the ranges view, opened in the look back, is the period's ($expect)" "203\.0\.113\.0/24 +$expect " 5
check "... and holds none of now's" lacks "198.51.100.0/24"
keys 1

keys [
check_until "[: the window before (AT $(hhmm $((end - 1800)))–$(hhmm $((end - 900))))" 5 period_is $((end - 900))
expect=$(sql_fail $((end - 1800)) $((end - 900)) "$then_ip")
check_until "[: the figures are that period's by SQL ($expect)" 8 value_is "$expect" row_fail "$then_ip"
check "[: tenant initech is that period's" [ -n "$(tenant_fail initech)" ]
keys ]
check_until "]: the window after" 5 period_is "$end"
expect=$(sql_fail $((end - 900)) "$end" "$then_ip")
check_until "]: its figures again ($expect)" 8 value_is "$expect" row_fail "$then_ip"

keys L
check_gone "L: live again (the period goes)" "AT " 5
check_shows "L: the window is named again" "win 15m" 3
check_until "L: the attack of now is back (33)" 8 value_is 33 row_fail "$now_ip"

keys @
type_text "$(date -u -d "@$end" +%Y-%m-%dT%H:%MZ)"
keys Enter
check_until "@ an ISO 8601 time: that period" 5 period_is "$end"
keys End
check_gone "End in the overview: live again" "AT " 5

keys @
type_text "half past never"
keys Enter
check_shows "@ nonsense: said, with the forms it takes" "not a time: try 2h ago" 3
keys @
type_text "2099-01-01T00:00Z"
keys Enter
check_shows "@ the future: refused" "in the future" 3
check "after both, still live" shows "win 15m"
keys @
keys Escape
check_gone "Esc cancels the prompt" "look back to (" 3
check "sectop is still running" alive
finish
