#!/usr/bin/env bash
# A drill from start to scorecard: `sectop drill brute-force` injects
# events marked as drill events, the header says DRILL, the block goes to
# drill:blocked: (never blocked:), the attacker's events stop once blocked,
# and on quitting the scorecard gives the time to detect (first look at an
# attacker), to contain (the block) and the runbook steps done.
. "$(dirname "$0")/lib.sh"
tui_init drill 15

TUI_ENV=("XDG_STATE_HOME=$work/state" "SECTOP_OPERATOR=frank" "SECTOP_RUNBOOK_DIR=$top_srcdir/runbooks")
attacker=203.0.113.66
incident=DRILL-TEST-1
drill_rows() { tsql -c "SELECT count(*) FROM $table WHERE (details->>'drill')::boolean AND ip_address = '$1'"; }

rc=0
"$SECTOP" -c "$work/empty.conf" --db "$SECTOP_TEST_DB" --table "$table" drill no-such </dev/null >/dev/null 2>"$work/err" || rc=$?
check "an unknown scenario is a usage error listing the scenarios" \
	eval '[ $rc = 2 ] && grep -q credential-stuffing "$work/err"'
rc=0
"$SECTOP" -c "$work/empty.conf" --read-only drill brute-force </dev/null >/dev/null 2>&1 || rc=$?
check "--read-only refuses a drill" [ $rc = 5 ]

tmx resize-window -t tui -x 120 -y 32
tui_start --incident "$incident" --drill-duration 120 drill brute-force
check_shows "the header says DRILL" "DRILL" 8
check_shows "the scenario's runbook opens beside the data" "Runbook 0/8: Brute force" 5
check_shows "the attacker's failures arrive" "$attacker" 10
check_until "... written to the audit log as drill events" 5 value_above 0 drill_rows "$attacker"
check_until "... with the drill's failure counter" 5 value_above 0 rcli GET "drill:failed_auth:$attacker"
check "... and not the real one" [ "$(rcli EXISTS "failed_auth:$attacker")" = 0 ]
keys Enter                                     # step 1 ticked in the pane
check_shows "a step ticked" "Runbook 1/8" 5
keys R                                         # to the data
check_shows "R hands the keys to the data" "R: to the runbook" 5
# a look is a selection that lands on the address: the top addresses must
# hold it first (the tail may show it a refresh earlier)
check_shows_re "the attacker is among the top addresses" "^ ${attacker//./\\.} +[0-9]+ +[0-9]+" 10
keys j k
check_until "the first look at the attacker is journalled" 8 \
	grep -q "\"phase\":\"viewed\".*\"target\":\"$attacker\"" "$work/state/sectop/journal.jsonl"
keys Enter
check_shows "its detail opens" "Address $attacker" 5
keys B
check_shows "the block dialog names the drill key" "drill:blocked:$attacker" 3
type_text "drill"
keys Enter
type_text "$attacker"
keys Enter
check_shows "the block is done" "$attacker blocked" 5
check "the block went to drill:blocked:" [ "$(rcli EXISTS "drill:blocked:$attacker")" = 1 ]
check "... never to blocked:" [ "$(rcli EXISTS "blocked:$attacker")" = 0 ]
before=$(drill_rows "$attacker")
sleep 3
check "the contained attacker's events stop" [ "$(drill_rows "$attacker")" -le $((before + 4)) ]
block_audits() { tsql -c "SELECT count(*) FROM $table WHERE action = 'ip_blocked' AND resource_id = '$attacker'
	AND (details->>'drill')::boolean AND details->>'incident' = '$incident'"; }
check_until "the audit row of the block says drill" 5 value_is 1 block_audits
keys q
check_shows "the scorecard is printed" "Drill scorecard: brute-force" 8
check_shows_re "... with the time to detect" "Time to detect \(first look at an attacker's row\): [0-9]+s" 3
check_shows_re "... and to contain" "Time to contain \(the first block of an attacker\): [0-9]+s" 3
check_shows "... and the runbook steps" "Runbook steps completed: 1 of 8" 3
check "the drill's start and end are audited" test "$(tsql -c "SELECT count(*) FROM $table
	WHERE action IN ('drill_started', 'drill_ended') AND details->>'incident' = '$incident'")" = 2
md=$work/state/sectop/timeline-$incident.md
check "the scorecard and timeline are kept in a file" grep -q "Attackers contained: 1 of 2" "$md"
check "... the timeline shows the look, the block and the step" eval \
	"grep -q 'looked at' '$md' && grep -q 'ip\\\\_blocked' '$md' && grep -q 'runbook\\\\_step\\\\_done' '$md'"
n=$(drill_rows 203.0.113.67)
sleep 2
check "the injector stopped with the console" [ "$(drill_rows 203.0.113.67)" = "$n" ]
rcli DEL "drill:blocked:$attacker" >/dev/null
finish
