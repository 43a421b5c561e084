#!/usr/bin/env bash
# Blocking from the console: B on the selected address asks a reason, then
# the address typed in full; a wrong or partial answer does nothing, the
# right one blocks it (journal, Redis, audit), and --read-only refuses.
. "$(dirname "$0")/lib.sh"
tui_init action 13

attacker=203.0.113.77
tsql -c "INSERT INTO $table (tenant_id, user_id, action, ip_address, path, status_code)
         SELECT 'acme', 'u' || g, 'failed_auth', '$attacker', '/login', 401 FROM generate_series(1, 30) g" || exit 99
TUI_ENV=("XDG_STATE_HOME=$work/state" "SECTOP_OPERATOR=carol")
journal=$work/state/sectop/journal.jsonl
audits() { tsql -c "SELECT count(*) FROM $table WHERE user_id = 'carol' AND resource_id = '$attacker' AND action = '$1'"; }


tui_start
check_shows "the attacker is on screen" "$attacker" 8
keys B
check_shows "B opens the dialog for the selected address" "ip_blocked $attacker" 3
check_shows "... showing its figures" "in the window: 30 failures" 3
check_shows "... and asking a reason" "reason: " 3
type_text "password spraying"
keys Enter
check_shows "then it asks for the address typed" "To confirm, type: $attacker" 3
keys y Enter                                   # a single keystroke: never enough
check_shows "a single key does not confirm" "not confirmed: nothing done" 3
check "... and nothing was blocked" [ "$(rcli EXISTS "blocked:$attacker")" = 0 ]
keys B
type_text "password spraying"
keys Enter
type_text "203.0.113.7"                        # a prefix of the address
keys Enter
check_shows "a partial address does not confirm" "not confirmed" 3
check "... nothing blocked" [ "$(rcli EXISTS "blocked:$attacker")" = 0 ]
keys B
type_text "password spraying"
keys Enter
type_text "$attacker"
keys Enter
check_shows "the typed address confirms" "$attacker blocked" 5
check "Redis holds the block with the reason" python3 -c '
import json, sys
v = json.loads(sys.argv[1]); assert v["by"] == "carol" and v["reason"] == "password spraying"' "$(rcli GET "blocked:$attacker")"
check "the journal has it" grep -q '"action":"ip_blocked"' "$journal"
check_until "the audit row is written (to the configured table)" 5 value_is 1 audits ip_blocked
check_shows_re "the list shows its block" "$attacker +[0-9]+ +[0-9]+ +[0-9]* +(59m|1h00m)" 5
keys U
check_shows "U asks for the address too" "To confirm, type: $attacker" 3
type_text "$attacker"
keys Enter
check_shows "unblocked" "$attacker unblocked" 5
check "Redis no longer has it" [ "$(rcli EXISTS "blocked:$attacker")" = 0 ]
keys q
wait_until 5 test -s "$work/rc"

tui_start --read-only
check_shows "read-only: the badge" "READ-ONLY" 8
keys B
check_shows "read-only: B is refused at once" "read-only: no action is taken" 3
check "read-only: nothing blocked" [ "$(rcli EXISTS "blocked:$attacker")" = 0 ]
finish
