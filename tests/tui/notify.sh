#!/usr/bin/env bash
# The console's alerts notify as `sectop watch`'s do: two addresses over
# the threshold are shown as alerts and POSTed once each to the notify
# target, with the token from the environment (never on screen); a receiver
# that hangs holds nothing up: keys answer while its request waits.  On
# quit, what a target's rate limit held back is sent, in one message, and
# the console ends within the grace of 2 s even with a receiver hanging.
. "$(dirname "$0")/lib.sh"
tui_init notify 14

hooklog=$work/hook.jsonl
python3 "$top_srcdir/tests/fixtures/webhookd.py" --port-file "$work/port" --log "$hooklog" --hang 8 \
	</dev/null >/dev/null 2>&1 &
hook_pid=$!
at_exit 'kill $hook_pid'
wait_until 5 test -s "$work/port" || exit 99
hook="http://127.0.0.1:$(cat "$work/port")"
: >"$hooklog"

attacker=203.0.113.46 second=203.0.113.47
tsql -c "INSERT INTO $table (\"timestamp\", tenant_id, user_id, action, ip_address, status_code)
         SELECT now() - g * interval '1 second', 'acme', 'u' || g, 'failed_auth', a, 401
         FROM generate_series(1, 25) g, unnest(ARRAY['$attacker', '$second']::inet[]) a" || exit 99

token="ctok-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
TUI_ENV=("CONSOLE_TOKEN=$token")
posts() { python3 - "$hooklog" "$1" <<'PY'
import json, sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["path"].startswith(sys.argv[2])))
PY
}
hookq() { python3 - "$hooklog" "$1" "$2" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["path"].startswith(sys.argv[2])]
print(eval(sys.argv[3]))
PY
}

tui_start --window 5m --alert-window 5m --notify "$hook/ok/console token_env=CONSOLE_TOKEN" \
	--notify "$hook/hang/console timeout=6s" --notify "$hook/ok/capped rate=1"
check_shows "the attackers are alerts on screen" "ALERTS 2" 10
check_until "... and are POSTed to the notify target" 10 value_is 2 posts /ok/console
check_until "... the hanging receiver has its request" 5 value_above 0 posts /hang/console
keys 2
check_shows "keys answer while that request hangs (list 2)" " 2 Top addresses " 2
keys 1
check "the POSTs name the attackers" \
	[ "$(hookq /ok/console 'sorted(json.loads(r["body"])["key"] for r in rs)')" = "['brute_force:$attacker', 'brute_force:$second']" ]
check "... with the token from the environment" [ "$(hookq /ok/console 'rs[0]["headers"]["Authorization"]')" = "Bearer $token" ]
sleep 3
check "refreshes later: still one POST each" [ "$(posts /ok/console)" = 2 ]
check "rate=1: one message in the minute" [ "$(posts /ok/capped)" = 1 ]
check "the token is never on screen" bash -c "! tmux -L '$tui_sock' capture-pane -p -t tui | grep -qF -- '$token'"
check "the console still runs" alive

start=$(date +%s%N)
keys q
check_shows "q quits" "[sectop exited 0]" 5
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "... within the grace of 2 s and a little ($ms ms)" [ "$ms" -lt 3500 ]
check "... after sending what the rate limit held back, in one message" \
	[ "$(hookq /ok/capped '[json.loads(r["body"])["event"] for r in rs]')" = "['alert', 'suppressed']" ]
check "... and saying what the hanging receiver never had" \
	bash -c "tmux -L '$tui_sock' capture-pane -p -t tui | grep -q 'sectop: [0-9]* notifications\? not delivered'"

finish
