#!/usr/bin/env bash
# A runbook followed to the end: R picks it, the pane sits beside the data,
# Enter ticks steps (journalled and audited), a runs a step's block with the
# address typed, v shows a step's data, T exports the timeline, and
# `sectop timeline` prints the same story.  A broken runbook is listed with
# its error; the pane moves below the data on a narrow terminal.
. "$(dirname "$0")/lib.sh"
tui_init runbook 14

attacker=203.0.113.88
incident=INC-RB-1
tsql -c "INSERT INTO $table (tenant_id, user_id, action, ip_address, path, status_code)
         SELECT 'acme', 'u' || g, 'failed_auth', '$attacker', '/login', 401 FROM generate_series(1, 25) g" || exit 99
mkdir -p "$work/runbooks"
printf 'title: broken\nphase: triage\n' >"$work/runbooks/broken.runbook"
printf 'title: \033[31mred\033[0m \342\200\256evil\nphase: detection\nstep: \033]0;pwned\007look\n' \
	>"$work/runbooks/hostile.runbook"
TUI_ENV=("XDG_STATE_HOME=$work/state" "SECTOP_OPERATOR=dave" "SECTOP_RUNBOOK_DIR=$top_srcdir/runbooks")
journal=$work/state/sectop/journal.jsonl
steps_audited() { tsql -c "SELECT count(*) FROM $table WHERE action = 'runbook_step_done' AND user_id = 'dave'
                           AND resource_id = 'brute-force' AND details->>'incident' = '$incident'"; }

tmx resize-window -t tui -x 120 -y 32
tui_start --incident "$incident" --runbook-dir "$work/runbooks"
check_shows "the attacker is on screen" "$attacker" 8
keys R
check_shows "R opens the picker" "Follow a runbook" 3
check_shows "... listing the shipped runbooks" "brute-force" 3
check_shows "... and a broken one with its line" "broken.runbook:2: unknown phase 'triage'" 3
check_shows "... a hostile title shown inert" "hostile" 3
check "... its escape sequences not passed through" eval '! screen_e | grep -q "pwned"'
keys Enter                                      # brute-force: the first, by name
check_shows "Enter on a broken runbook says why instead of opening it" "unknown phase" 3
keys R
keys Down Down Up                               # broken, brute-force, ..., back
keys Escape
check_gone "Esc closes the picker" "Follow a runbook" 3
keys R
for _ in 1 2 3; do keys Up; done
keys Down                                       # broken is first, brute-force second
keys Enter
check_shows "the runbook opens in a pane beside the data" "Runbook 0/8: Brute force" 3
check_shows "... with its phases" "containment" 3
check_shows "... and the incident" "incident $incident" 3
check_shows_re "... beside the top addresses" "$attacker .*│" 3
keys Enter
check_shows "Enter ticks the first step" "Runbook 1/8" 5
check_until "... journalled" 5 grep -q '"action":"runbook_step_done"' "$journal"
check_until "... and audited with the incident" 5 value_is 1 steps_audited
check "... with what the data showed" eval "tsql -c \"SELECT details->>'note' FROM $table WHERE action = 'runbook_step_done'\" | grep -q 'seen: $attacker 25 failures'"
keys v
check_shows "v shows the step's data: the address's detail" "Address $attacker" 5
keys Enter
check_shows "step two ticked" "Runbook 2/8" 5
keys a
check_shows "a opens the block dialog of step three" "ip_blocked $attacker" 3
check_shows "... with the step's reason offered" "reason: brute force" 3
keys Enter
check_shows "... then asks for the address typed" "To confirm, type: $attacker" 3
keys y Enter
check_shows "a single key does not confirm a step's action either" "not confirmed" 3
check "... nothing blocked" [ "$(rcli EXISTS "blocked:$attacker")" = 0 ]
keys a Enter
type_text "$attacker"
keys Enter
check_shows "the typed address blocks it" "$attacker blocked" 5
check_shows "... and ticks the step" "Runbook 3/8" 5
check "Redis holds the block" [ "$(rcli EXISTS "blocked:$attacker")" = 1 ]
for n in 4 5 6 7 8; do
	keys Enter
	check_shows "step $n ticked" "Runbook $n/8" 5
done
keys Enter
check_shows "a ticked step is not ticked twice" "done already" 3
check_until "eight steps audited" 8 value_is 8 steps_audited
keys T
check_shows "T exports the timeline" "timeline written to" 3
md=$work/state/sectop/timeline-$incident.md
check "... a Markdown file beside the journal" test -s "$md"
check "... naming the incident" grep -q "^# Incident $incident" "$md"
check "... with the block and who did it" grep -qE '\| dave \| ip\\_blocked \| 203\.0\.113\.88 \| brute force \| done' "$md"
check "... with every step" test "$(grep -c 'runbook\\_step\\_done' "$md")" = 8
check "... and the summary" grep -q 'Actions: 1 done, 0 not done; runbook steps completed: 8' "$md"
"$SECTOP" -c "$work/empty.conf" --journal "$journal" timeline --incident "$incident" >"$work/cli.md"
check "sectop timeline prints the same table" diff <(grep '^|' "$md") <(grep '^|' "$work/cli.md")
"$SECTOP" -c "$work/empty.conf" --journal "$journal" timeline --incident NO-SUCH >"$work/none.md"
check "an unknown incident has an empty timeline" grep -q "Nothing recorded" "$work/none.md"
"$SECTOP" -c "$work/empty.conf" timeline >/dev/null 2>&1
check "timeline without an incident is a usage error" [ $? = 2 ]

keys Escape
check_shows "Esc hands the keys back to the data" "R: to the runbook" 3
tmx resize-window -t tui -x 80 -y 24
check_shows_re "on 80x24 the pane goes below the data" "^─ Runbook 8/8" 5
keys R C
check_gone "C closes the runbook" "Runbook 8/8" 3
tui_stop
finish
