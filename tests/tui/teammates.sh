#!/usr/bin/env bash
# Teammates, live: while carol's console runs, alice blocks an address from
# another sectop process on another machine (her own journal and operator
# name).  Carol's console says so on screen, lists alice's action in the
# actions view (8) marked remote, and the blocked view names alice as the
# one who blocked.  Carol's own action (from the command line, her journal)
# is listed once, local, and is news to no one.  T writes the incident's
# timeline with both operators' records.
. "$(dirname "$0")/lib.sh"
tui_init teammates 33

incident=MATES-$$            # 14 columns at most: the incident column's width
TUI_ENV=("XDG_STATE_HOME=$work/carol" "SECTOP_OPERATOR=carol" "SECTOP_RUNBOOK_DIR=$top_srcdir/runbooks")
# as OPERATOR (a machine of its own: its journal): sectop ARGS...
as() {
	local who=$1
	shift
	SECTOP_OPERATOR=$who XDG_STATE_HOME=$work/$who "$SECTOP" -c "$work/empty.conf" --db "$SECTOP_TEST_DB" \
		--redis "$redis_url" --table "$table" "$@" </dev/null
}
tsql -c "INSERT INTO $table (tenant_id, user_id, action, ip_address, path, status_code)
         SELECT 'acme', 'u' || g, 'failed_auth', '203.0.113.45', '/login', 401 FROM generate_series(1, 5) g" || exit 99

tmx resize-window -t tui -x 240 -y 30
tui_start --incident "$incident" --runbook brute-force
check_shows "the console runs" "203.0.113.45" 8

as alice block 203.0.113.45 --reason "credential stuffing" --ttl 10m --incident "$incident" --yes >/dev/null 2>&1
check "alice blocks from her own sectop" [ $? -eq 0 ]
check_shows_re "carol's console says so" "alice blocked 203\.0\.113\.45 [0-9]+ s ago" 8

keys Escape 8
check_shows "8: the actions view" "Actions (journal)" 3
check_shows_re "... lists alice's block, marked remote" \
	"ip_blocked +203\.0\.113\.45 +done +alice +credential stuffing .*$incident +remote" 5

as carol block 198.51.100.9 --reason "mine" --ttl 10m --incident "$incident" --yes >/dev/null 2>&1
check "carol blocks from the command line (her journal)" [ $? -eq 0 ]
check_shows_re "... listed, marked local" "ip_blocked +198\.51\.100\.9 +done +carol +mine .*$incident +local" 8
check "... once: the journal's record and its audit row are one" \
	[ "$(screen | grep -c '198\.51\.100\.9')" = 1 ]
check "... and her own action is no news" eval '! screen | grep -q "carol blocked"'

keys 5
check_shows_re "5: the blocked view names alice" "203\.0\.113\.45 +[0-9hms]+ +alice +credential stuffing" 8

keys Escape R T
check_shows "T writes the timeline with every operator's records" "with every operator's records" 8
md=$work/carol/sectop/timeline-$incident.md
check "... alice's block in it, remote" grep -q '| alice (remote) | ip\\_blocked | 203\.0\.113\.45 ' "$md"
check "... carol's, local" grep -q '| carol | ip\\_blocked | 198\.51\.100\.9 ' "$md"
tui_stop
finish
