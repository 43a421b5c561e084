#!/usr/bin/env bash
# MEASURES, does not judge: the bytes sectop writes to an 80x24 terminal
# per minute, idle (no new rows) and under a live attack (a failure row
# every 200 ms), at the default refresh (2 s).  script(1) between tmux and
# sectop copies the output to a file; its growth over ~20 s is the figure.
# Passes when the measurement ran; the figures are for the README.
. "$(dirname "$0")/lib.sh"
command -v script >/dev/null 2>&1 || { echo "skip: no script(1)" >&2; exit 77; }
tui_init bytes 13

SPAN_S=${SECTOP_BYTES_SPAN:-20}
TUI_REFRESH=2s
TUI_RECORD="$work/typescript"

# An hour of history over 20 addresses and 5 tenants; blocks in Redis.
tsql <<SQL >/dev/null || exit 99
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code, user_agent)
SELECT now() - (g * 13 % 3600) * interval '1 second', 't' || (g % 5), 'u' || (g % 40),
       CASE WHEN g % 3 = 0 THEN 'api_request' ELSE 'failed_auth' END,
       ('198.51.100.' || (g % 20 + 1))::inet, '/login', CASE WHEN g % 3 = 0 THEN 200 ELSE 401 END, 'agent/' || (g % 7)
FROM generate_series(1, 600) g;
SQL
for i in 1 2 3; do rcli SET "blocked:198.51.100.$i" 1 EX 3600 >/dev/null; done

tui_start --health "web=$SECTOP_TEST_HTTP/health/healthy" --health "api=$SECTOP_TEST_HTTP/health/degraded" \
	--health "auth=$SECTOP_TEST_HTTP/health/down"
check_shows "drawn" "198.51.100." 10
wait_for "health 1/3" 10
sleep 2                        # past the first frames: measure the steady state

size() { stat -c %s "$TUI_RECORD"; }
# rate START_BYTES START_MS: bytes per minute since then
rate() { echo $((($(size) - $1) * 60000 / ($(now_ms) - $2))); }

b0=$(size) t0=$(now_ms)
sleep "$SPAN_S"
idle=$(rate "$b0" "$t0")

# one psql reading INSERTs as they come; ends when the stop file appears
attack() {
	local i
	for ((i = 0; i < SPAN_S * 5 + 50; i++)); do
		[ -e "$work/stop" ] && break
		echo "INSERT INTO $table (tenant_id, user_id, action, ip_address, path, status_code, user_agent)
		      VALUES ('t1', 'victim', 'failed_auth', '203.0.113.$((i % 3 + 1))', '/login', 401, 'hydra');"
		sleep 0.2
	done | tsql >/dev/null
}
attack &
attack_pid=$!
at_exit 'touch "$work/stop"; wait $attack_pid'
wait_for "203.0.113." 10
b1=$(size) t1=$(now_ms)
sleep "$SPAN_S"
busy=$(rate "$b1" "$t1")
touch "$work/stop"
wait "$attack_pid"

echo "# bytes written to the terminal per minute, 80x24, refresh 2 s:"
echo "#   idle:                     $idle bytes/min"
echo "#   attack (5 failures/s):    $busy bytes/min"
check "the idle measurement ran ($idle bytes/min)" [ "$idle" -gt 0 ]
check "the attack measurement ran ($busy bytes/min)" [ "$busy" -gt 0 ]
check "sectop is still running" alive
keys q
check_shows "quits" "[sectop exited 0]" 5
finish
