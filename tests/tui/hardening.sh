#!/usr/bin/env bash
# The console's side of what a security review found: an empty key prefix
# never confirms a revoke, a reload never resets what a running fetch owns,
# a block key holding a NUL is not an address, terminal sequences after an
# Esc are swallowed whole, accented letters are letters, the action dialog
# reads the address's own state, --read-only records nothing.
. "$(dirname "$0")/lib.sh"
tui_init hardening 9

keys_table="tui_hkeys_$$"
at_exit 'tsql -c "DROP TABLE IF EXISTS $keys_table"'
tsql -c "CREATE TABLE $keys_table (LIKE api_keys INCLUDING ALL)" || exit 99
tsql -c "INSERT INTO $keys_table (tenant_id, name, key_prefix) VALUES ('acme', 'no prefix', '')" || exit 99
tsql -c "INSERT INTO $table (tenant_id, user_id, action, ip_address, status_code)
	VALUES ('acme', 'u1', 'api_request', '198.51.100.7', 200)" || exit 99
TUI_ENV=("XDG_STATE_HOME=$work/state" "SECTOP_OPERATOR=hank")
journal=$work/state/sectop/journal.jsonl
revoked() { tsql -c "SELECT revoked_at IS NOT NULL FROM $keys_table WHERE name = '$1'"; }

# --- 7: r while the keys are being read ------------------------------------
tui_start --keys-table "$keys_table" --server-timeout 8s
check_shows "the console is up" "acme" 8
# a transaction holding the table keeps the read waiting
psql "$SECTOP_TEST_DB" -X -q -c "BEGIN; LOCK TABLE $keys_table IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT" \
	>/dev/null 2>&1 &
locker=$!
at_exit "kill $locker"
wait_until 3 value_is 1 tsql -c "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = '$keys_table' AND l.mode = 'AccessExclusiveLock' AND l.granted"
keys 7
check_shows "7 starts reading the keys" "reading the API keys" 3
keys r
check_shows "r while they are read waits for that read, touching nothing of it" "still reading the API keys" 3
wait "$locker"
check_shows "the keys arrive" "no prefix" 8

# --- 6: an empty prefix never confirms on an empty line ---------------------
keys K
check_shows "K opens the revoke dialog" "api_key_revoked" 3
type_text "test"
keys Enter
id=$(tsql -c "SELECT id FROM $keys_table WHERE name = 'no prefix'")
check_shows "with no prefix, the key's id is what must be typed" "To confirm, type: $id" 3
keys Enter
check_shows "an empty line does not confirm" "not confirmed" 3
check "... nothing revoked" [ "$(revoked 'no prefix')" = f ]
tui_stop

# --- --read-only: the runbook pane records nothing, exports nothing --------
tmx resize-window -t tui -x 120 -y 32

tui_start --read-only --runbook-dir "$(cd "$top_srcdir/runbooks" && pwd)" --runbook brute-force --incident INC-RO
check_shows "read-only with a runbook: up" "Runbook 0/8" 8
keys Enter
check_shows "Enter ticks the step on screen" "Runbook 1/8" 3
check_shows "... saying it is not recorded" "not recorded" 3
keys T
check_shows "T is refused" "read-only: the timeline is not written" 3
sleep 1
check "... no journal record" eval '! grep -q runbook_step_done "$journal" 2>/dev/null'
check "... no timeline file" eval '! ls "$work/state/sectop/"timeline-* >/dev/null 2>&1'
check "... no audit row" [ "$(tsql -c "SELECT count(*) FROM $table WHERE action = 'runbook_step_done'")" = 0 ]
tui_stop

# --- a timeline export is private and never follows a link ------------------
tui_start --runbook-dir "$(cd "$top_srcdir/runbooks" && pwd)" --runbook brute-force --incident INC-T
check_shows "a runbook: up" "Runbook 0/8" 8
mkdir -p "$work/state/sectop"
ln -s "$work/victim" "$work/state/sectop/timeline-INC-T.md"
keys T
check_shows "T refuses to write through a symbolic link" "timeline not written" 3
check "... the link's target is untouched" [ ! -e "$work/victim" ]
rm "$work/state/sectop/timeline-INC-T.md"
keys T
check_shows "T writes the timeline" "timeline written to" 3
check "... private, as the journal (0600)" [ "$(stat -c %a "$work/state/sectop/timeline-INC-T.md")" = 600 ]
tui_stop
tmx resize-window -t tui -x 80 -y 24

# --- an action in flight: SIGHUP lets it finish; kill -9 is reconciled ------
attacker=203.0.113.77
tsql -c "INSERT INTO $table (tenant_id, user_id, action, ip_address, status_code)
	SELECT 'acme', 'u', 'failed_auth', '$attacker', 401 FROM generate_series(1, 30)" || exit 99
stopped() { [[ $(ps -o stat= -p "$sectop_pid" 2>/dev/null) == T* ]]; }
outcome_of() {
	python3 - "$journal" "$1" <<'PY'
import json, sys
ids = set(); out = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("phase") == "intent" and r.get("target") == sys.argv[2]: ids.add(r["id"])
    elif r.get("phase") == "result" and r["id"] in ids: out.append(r.get("outcome") or r.get("status"))
print(",".join(out))
PY
}
block_it() {
	check_shows "$1: the attacker is listed" "$attacker" 8
	keys B
	type_text "in flight"
	keys Enter
	type_text "$attacker"
	keys Enter
}
saved_env=("${TUI_ENV[@]}")
TUI_ENV+=("SECTOP_STOP_AT=executed")
tui_start
block_it "SIGHUP"
check_until "the block stops after it was executed" 8 stopped
kill -HUP "$sectop_pid"
kill -CONT "$sectop_pid"
check_until "SIGHUP: the console ends" 8 eval '! alive'
check "... after the action finished: the block is in Redis" [ "$(rcli EXISTS "blocked:$attacker")" = 1 ]
check "... its result journalled" [ "$(outcome_of "$attacker")" = done ]
check "... and audited" [ "$(tsql -c "SELECT count(*) FROM $table WHERE action = 'ip_blocked' AND resource_id = '$attacker'")" = 1 ]
rcli DEL "blocked:$attacker" >/dev/null
TUI_ENV=("${saved_env[@]}" "SECTOP_STOP_AT=intent")
tui_start
block_it "kill -9"
check_until "a block stops after its intent" 8 stopped
kill -KILL "$sectop_pid"
TUI_ENV=("${saved_env[@]}")
rcli SET blocked:198.51.100.99 '{"by":"ops","reason":"old"}' EX 5000 >/dev/null   # for U, below
tui_start
check_shows "the next start reconciles it, and says so" "1 interrupted action reconciled" 8
check "... journalled as not applied" [ "$(outcome_of "$attacker")" = "done,interrupted: not applied" ]
check_until "... and audited as such" 5 value_is 1 tsql -c "SELECT count(*) FROM $table WHERE action = 'ip_blocked_noop' AND resource_id = '$attacker' AND details->>'outcome' = 'interrupted: not applied'"

# --- a terminal's replies are never keys; accented letters are letters ------
check_shows "the attacker is listed" "$attacker" 5
keys B
check_shows "B opens the dialog" "Why? Type a reason" 3
tmx send-keys -t tui -l $'\e[?1;2c'
sleep 0.5
check_shows "a Device Attributes reply does not cancel the dialog" "Why? Type a reason" 2
check "... nor types into it" eval '! screen | grep -q "reason: .*1;2c"'
keys Escape
check_gone "Esc cancels it" "Why? Type a reason" 3
tmx send-keys -t tui -l $'\e[?1;2c'
tmx send-keys -t tui -l $'\e]11;rgb:0000/0000/0000\a'
tmx send-keys -t tui -l $'\e]52;c;Mg==\e\\'
sleep 0.7
check "... then replies (DA, OSC 11, OSC 52) run no hotkey: still the overview" eval '! screen | grep -q " 2 Top addresses"'
check "... and nothing else opened" eval '! screen | grep -q "Address $attacker"'
type_text "ŗ"
sleep 0.7
check "an accented letter (U+0157, KEY_ENTER's number) does not drill down" eval '! screen | grep -q "Address $attacker"'
keys 2
check_shows "the top addresses" " 2 Top addresses" 3
keys /
type_text "ŗ"
check_shows "... and it is typed in a prompt" "filter: ŗ_" 3
keys Escape

# --- U on a block off the top list: the dialog reads the address's own keys -
keys 5
check_shows "the blocked list shows a block off the top list" "198.51.100.99" 8
check_shows "... as the only block" "(1 listed" 3
keys U
check_shows "U opens the unblock dialog" "ip_unblocked 198.51.100.99" 3
check_shows_re "... showing its own state: blocked, with its TTL" "now: blocked, 1h2[0-9]m" 5
check "... never 'not blocked'" eval '! screen | grep -q "now: not blocked"'
keys Escape
tui_stop

# --- an unusable journal refuses before anything is typed -------------------
TUI_ENV=("${saved_env[@]/XDG_STATE_HOME=*/XDG_STATE_HOME=/proc/nonexistent}")
tui_start
check_shows "the console is up" "$attacker" 8
keys B
check_shows "B with an unusable journal is refused at once" "the journal cannot be written" 3
check "... without asking for a reason" eval '! screen | grep -q "Why? Type a reason"'
tui_stop
TUI_ENV=("${saved_env[@]}")

finish
