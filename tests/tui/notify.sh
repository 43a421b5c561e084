#!/usr/bin/env bash
# The console's alerts notify as `sectop watch`'s do: an address over the
# threshold is shown as an alert and POSTed once to the notify target, with
# the token from the environment (never on screen); a receiver that hangs
# holds nothing up: keys answer while its request waits.
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

attacker=203.0.113.46
tsql -c "INSERT INTO $table (\"timestamp\", tenant_id, user_id, action, ip_address, status_code)
         SELECT now() - g * interval '1 second', 'acme', 'u' || g, 'failed_auth', '$attacker', 401
         FROM generate_series(1, 25) g" || exit 99

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
	--notify "$hook/hang/console timeout=6s"
check_shows "the attacker is an alert on screen" "ALERTS 1" 10
check_until "... and is POSTed to the notify target" 10 value_is 1 posts /ok/console
check_until "... the hanging receiver has its request" 5 value_above 0 posts /hang/console
keys 2
check_shows "keys answer while that request hangs (list 2)" " 2 Top addresses " 2
keys 1
check "the POST names the attacker" [ "$(hookq /ok/console 'json.loads(rs[0]["body"])["key"]')" = "brute_force:$attacker" ]
check "... with the token from the environment" [ "$(hookq /ok/console 'rs[0]["headers"]["Authorization"]')" = "Bearer $token" ]
sleep 3
check "refreshes later: still one POST" [ "$(posts /ok/console)" = 1 ]
check "the token is never on screen" bash -c "! tmux -L '$tui_sock' capture-pane -p -t tui | grep -qF -- '$token'"
check "the console still runs" alive

finish
