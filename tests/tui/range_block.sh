#!/usr/bin/env bash
# A range block from the ranges view (P): B on a range asks why, then
# shows the preview the gate read (how many addresses and which, the
# allow-listed one skipped naming its entry), and blocks only once the
# range is typed: one key per address, carrying the range.  U on the
# range removes those keys and leaves the servers' own block.
. "$(dirname "$0")/lib.sh"
tui_init range_block 30

tsql <<SQL || exit 99
INSERT INTO $table (tenant_id, user_id, action, ip_address, status_code)
SELECT 'acme', 'u', 'failed_auth', ('203.0.113.' || ip)::inet, 401
  FROM (VALUES (11), (12), (13), (14)) v(ip), generate_series(1, 5);
INSERT INTO $table (tenant_id, user_id, action, ip_address, status_code)
SELECT 'acme', 'u', 'failed_auth', '198.51.100.7', 401 FROM generate_series(1, 3);
SQL
printf 'allow = 203.0.113.14/32 note=monitor\n' >"$work/allow.conf"
chmod 600 "$work/allow.conf"
rcli SET blocked:203.0.113.13 1 EX 600 >/dev/null       # the servers' own
TUI_ENV=("XDG_STATE_HOME=$work/state" "SECTOP_OPERATOR=tara")
tui_start -c "$work/allow.conf" --top 100
keys P
check_shows_re "the ranges view lists the /24" "203\.0\.113\.0/24 +20 " 8
keys g B
check_shows "B on a range asks why" "Why? Type a reason" 5
type_text "botnet sweep"
keys Enter
check_shows "the preview: how many failed, how many to block" "failed in the window: 4; to block: 2; skipped: 2" 10
check_shows_re "... which addresses" "203\.0\.113\.11 +5 failures" 3
check_shows_re "... the allow-listed one skipped, naming its entry" "203\.0\.113\.14 +skipped: allow-listed by 203\.0\.113\.14/32" 3
check_shows_re "... the one the servers blocked skipped" "203\.0\.113\.13 +skipped: already blocked by the servers" 3
check_shows "... and the range to type" "To confirm, type the range: 203.0.113.0/24" 3
check "nothing is set before it is typed" [ "$(rcli EXISTS blocked:203.0.113.11 blocked:203.0.113.12)" = 0 ]
type_text "203.0.113.0/24"
keys Enter
check_until "typed: the two keys are in Redis" 10 value_is 2 rcli EXISTS blocked:203.0.113.11 blocked:203.0.113.12
check "... carrying the range" python3 -c '
import json, sys; v = json.loads(sys.argv[1]); assert v["range"] == "203.0.113.0/24" and v["by"] == "tara", v
' "$(rcli GET blocked:203.0.113.12)"
check "... and not the skipped ones" [ "$(rcli EXISTS blocked:203.0.113.14)" = 0 ] && [ "$(rcli GET blocked:203.0.113.13)" = 1 ]
check_shows "the result is said" "203.0.113.0/24: 2 addresses blocked" 5
check "an audit row per address with the range" [ "$(tsql -c "SELECT count(*) FROM $table WHERE action = 'ip_blocked'
	AND details->>'range' = '203.0.113.0/24' AND user_id = 'tara'")" = 2 ]

keys U
check_shows "U on the range: the preview of what it removes" "to unblock: 2" 10
check_shows_re "... and the block it leaves" "203\.0\.113\.13 +left: blocked by the servers" 3
type_text "203.0.113.0/25"
keys Enter
check_shows "another range typed: not confirmed" "not confirmed: nothing done (type the range exactly)" 5
check "... the keys are still there" [ "$(rcli EXISTS blocked:203.0.113.11 blocked:203.0.113.12)" = 2 ]
keys U
check_shows "U again" "To confirm, type the range: 203.0.113.0/24" 10
type_text "203.0.113.0/24"
keys Enter
check_until "typed: the range block's keys are gone" 10 value_is 0 rcli EXISTS blocked:203.0.113.11 blocked:203.0.113.12
check "... the servers' block is left" [ "$(rcli GET blocked:203.0.113.13)" = 1 ]
check_shows "the unblock's result is said" "203.0.113.0/24: 2 addresses unblocked" 5
keys B
check_shows "B again asks why" "Why? Type a reason" 5
type_text "left at the preview"
keys Enter
check_shows "a preview left with Esc" "To confirm, type the range: 203.0.113.0/24" 10
keys Escape
check_gone "... closes, nothing done" "To confirm, type the range" 5
check "... no key set" [ "$(rcli EXISTS blocked:203.0.113.11 blocked:203.0.113.12)" = 0 ]
keys @
type_text "1h ago"
keys Enter
wait_for "AT " 5
keys P
keys B
check_shows "looking back, B on a range is refused: its members are the live window's" "L (live) first" 5
check "... nothing asked" lacks "Why? Type a reason"
keys q
check_shows "q quits cleanly (under the sanitizers: nothing leaked)" "[sectop exited 0]" 10
finish
