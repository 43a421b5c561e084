#!/usr/bin/env bash
# The allow-list in the console: B on an allow-listed address says which
# entry holds it and opens no dialog; with --bypass-allow the dialog asks
# for "bypass ADDRESS" and the address alone does not confirm; the lists
# and the drill-down mark it, and a block the servers set on an allow-listed
# address raises an alert.
. "$(dirname "$0")/lib.sh"
tui_init allowlist 22

partner=198.51.100.23
tsql -c "INSERT INTO $table (tenant_id, user_id, action, ip_address, path, status_code)
         SELECT 'acme', 'u' || g, 'failed_auth', '$partner', '/login', 401 FROM generate_series(1, 30) g" || exit 99
TUI_ENV=("XDG_STATE_HOME=$work/state" "SECTOP_OPERATOR=frank")
allow=(--allow "198.51.100.0/24 note=partner API")

tui_start "${allow[@]}" --walk-interval 1s
check_shows "the overview marks it (at 80 columns, with a star)" "$partner *" 8
keys 2
check_shows "the top addresses mark it, at 80 columns too" "$partner ALLOW-LISTED" 5
keys g B
check_shows "B says which entry holds it" "$partner is allow-listed by 198.51.100.0/24 (allow setting 1" 3
check "... and opens no dialog" lacks "reason: "
check "... nothing was written" [ "$(rcli EXISTS "blocked:$partner")" = 0 ]
keys Enter
check_shows "the drill-down marks it" "ALLOW-LISTED by 198.51.100.0/24" 5
keys Escape

rcli SET "blocked:$partner" 1 EX 600 >/dev/null
check_shows_re "a block the servers set on it is an alert" "ALERTS [1-9]" 8
keys 5
check_shows_re "the blocked view marks it" "$partner ALLOW-LISTED +[0-9]+m[0-9]+s \\(server\\)" 5
rcli DEL "blocked:$partner" >/dev/null

tui_start "${allow[@]}" --bypass-allow
keys 2
wait_for "$partner" 8
keys g B
check_shows "with --bypass-allow the dialog opens" "reason: " 3
check "... warning of the bypass" shows "ALLOW-LISTED"
type_text "partner compromised"
keys Enter
check_shows "... and asks for 'bypass ADDRESS'" "To confirm, type: bypass $partner" 3
type_text "$partner"
keys Enter
check_shows "the address alone does not confirm" "not confirmed" 3
check "... nothing was written" [ "$(rcli EXISTS "blocked:$partner")" = 0 ]
keys B
type_text "partner compromised"
keys Enter
type_text "bypass $partner"
keys Enter
check_shows "'bypass ADDRESS' blocks it" "$partner blocked" 5
check "Redis holds the block" [ "$(rcli EXISTS "blocked:$partner")" = 1 ]
finish
