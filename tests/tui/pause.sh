#!/usr/bin/env bash
# Space pauses: the header says PAUSED and the figures freeze while new
# failures arrive; space again resumes and they catch up.
. "$(dirname "$0")/lib.sh"
tui_init pause 14

attacker=203.0.113.9
add_failures() { # N
	tsql -c "INSERT INTO $table (tenant_id, user_id, action, ip_address, path, status_code)
	         SELECT 'acme', 'u1', 'failed_auth', '$attacker', '/login', 401 FROM generate_series(1, $1)"
}
add_failures 12 || exit 99

tui_start
top_fail() { screen | awk -v ip="$attacker" '$1 == ip { print $2; exit }'; }
fail_is() { [ "$(top_fail)" = "$1" ]; }
tenant_req() { screen | cut -c51- | awk '$1 == "acme" { print $2; exit }'; }
check_until "the attacker's 12 failures" 8 fail_is 12
tail_lines() { screen | grep -cF " $attacker "; }

keys Space
check_shows "space: PAUSED in the header" "PAUSED" 3
check_shows "space: the footer says what pausing does" "paused: figures frozen" 3
frozen_fail=$(top_fail)
frozen_tail=$(screen | sed -n '/ Recent failures /,$p')
add_failures 9
# A negative condition needs time to be proved: six refresh periods.  What
# is checked is that nothing changes, not how fast anything happens.
changed=0
for _ in $(seq 30); do
	[ "$(top_fail)" = "$frozen_fail" ] || changed=1
	sleep 0.1
done
check "paused: the failures stay at $frozen_fail while 9 more arrive (shown $(top_fail))" [ "$changed" = 0 ]
check "paused: the tenant's requests stay at 12" [ "$(tenant_req)" = 12 ]
check "paused: the recent failures are as they were" [ "$(screen | sed -n '/ Recent failures /,$p' | sed '$d')" = "$(sed '$d' <<<"$frozen_tail")" ]
check "paused: still PAUSED" shows "PAUSED"
check "paused: the sources are not called stale for it" shows_re "pg ok +redis ok"
keys 2
check_shows "paused: keys still work (list 2)" " 2 Top addresses " 3
keys 1

keys Space
check_gone "space again: PAUSED goes" "PAUSED" 3
check_until "resumed: the failures catch up to 21" 8 fail_is 21
tenant_is() { [ "$(tenant_req)" = "$1" ]; }
check_until "resumed: the tenant's requests too" 5 tenant_is 21
add_failures 4
check_until "resumed: the figures follow again (25)" 8 fail_is 25
check "sectop is still running" alive
finish
