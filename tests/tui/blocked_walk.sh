#!/usr/bin/env bash
# A botnet the servers blocked: with 20,000 block keys the blocked panel
# shows the count as the paced walk finds it, and how far the walk has got,
# then the whole count once the pass is complete; the list view says how
# many of them it lists (the most relevant, blocked-max) out of how many.
. "$(dirname "$0")/lib.sh"
tui_init blockwalk 12

rcli DEBUG POPULATE 20000 blocked:203.0.113. 1 >/dev/null || { echo 'seeding failed' >&2; exit 99; }
rcli SET "blocked:192.0.2.200" '{"by":"alice","reason":"scanner","at":1700000000}' >/dev/null
# 20,000 keys at 8,000 keys a second: a pass of about two and a half seconds
tui_start --scan-rate 8000 --blocked-max 500

check_shows_re "while walking, the count so far and the walk's progress" \
	' Blocked \([1-9][0-9,]*\+ [0-9]{1,2}%\) ' 8
check_shows "once the pass is complete, the whole count" " Blocked (20,001) " 15
check "the permanent operator block is listed first (no expiry, then key order)" \
	[ "$(screen | grep -A1 -F ' Blocked (20,001) ' | tail -1 | cut -c51- | awk '{print $1}')" = 192.0.2.200 ]
keys 5
check_shows "the list view: 500 listed of 20,001" "Blocked addresses (500 listed of 20,001)"
check "sectop is still running" alive
finish
