#!/usr/bin/env bash
# Alerts that reach people: `sectop watch` headless against the real
# servers and a notification receiver on loopback (webhookd.py).  An attack
# seeded in PostgreSQL crosses the threshold and a health endpoint is dead:
# each alert is POSTed exactly once however many refreshes pass, the one
# answered 500 retried and delivered with the same Idempotency-Key, the
# token in the Authorization header and nowhere else (argv, stderr, the
# journal); Slack's shape; the rate limit holding back and summing up;
# one journal line per alert with its priority; SIGTERM stopping cleanly;
# plain http to a host other than loopback refused (exit 2).  The servers'
# block on an allow-listed address is an alert too, and so are a
# certificate about to expire and a Redis stale for long (a private one,
# stopped), resolved when it is back.
. "$(dirname "$0")/lib.sh"
need_servers SECTOP_TEST_DB SECTOP_TEST_REDIS SECTOP_TEST_HTTP SECTOP_TEST_HTTPS SECTOP_TEST_CA

work=$(mktemp -d)
table="audit_log_notify_$$"
redis_url="${SECTOP_TEST_REDIS%/*}/28"    # a db of its own (tests/tui/lib.sh lists who has which)
hook_pid="" watch_pid=""
cleanup() {
	[ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
	[ -n "$hook_pid" ] && kill "$hook_pid" 2>/dev/null
	tsql -c "DROP TABLE IF EXISTS $table" >/dev/null 2>&1
	redis-cli -u "$redis_url" FLUSHDB >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
redis-cli -u "$redis_url" FLUSHDB >/dev/null

# The receiver: a free port, every POST logged with its headers, body and
# the status it was answered with.
hooklog=$work/hook.jsonl
python3 "$top_srcdir/tests/fixtures/webhookd.py" --port-file "$work/port" --log "$hooklog" \
	</dev/null >/dev/null 2>&1 &
hook_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
hook="http://127.0.0.1:$(cat "$work/port")"
: >"$hooklog"
# A port where nothing listens: the dead endpoint.
dead_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The attack: 30 failures from one address in the last two minutes; another
# address stays under the threshold.
tsql -c "CREATE TABLE $table (LIKE audit_log INCLUDING ALL)"
tsql <<SQL
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, status_code)
SELECT now() - (g % 120) * interval '1 second', 'acme', 'u' || g, 'failed_auth', '203.0.113.45', 401
FROM generate_series(1, 30) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, status_code)
SELECT now() - g * interval '1 second', 'acme', 'v', 'failed_auth', '198.51.100.9', 401
FROM generate_series(1, 5) g;
SQL
# The servers' own block (a plain value) on an allow-listed address.
redis-cli -u "$redis_url" SET blocked:192.0.2.7 1 EX 3600 >/dev/null

NOTIFY_TOKEN="ntok-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
export NOTIFY_TOKEN
cat >"$work/sectop.conf" <<EOF
notify = $hook/fail-first/1/json token_env=NOTIFY_TOKEN
notify = $hook/ok/slack format=slack
notify = $hook/ok/capped rate=1
notify = $hook/deny/x
health = ok=$SECTOP_TEST_HTTP/health/ok
health = dead=http://127.0.0.1:$dead_port/health timeout=1s
allow = 192.0.2.0/24 note=partner
EOF
chmod 600 "$work/sectop.conf"
run() { "$SECTOP" -c "$work/sectop.conf" --db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" \
	--window 5m --alert-window 5m --refresh 500ms "$@"; }
# posts PATH-PREFIX [STATUS]: the POSTs a target received (answered STATUS)
posts() { python3 - "$hooklog" "$@" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
rs = [r for r in rs if r["path"].startswith(sys.argv[2]) and (len(sys.argv) < 4 or str(r["status"]) == sys.argv[3])]
print(len(rs))
PY
}
# until_posts PREFIX N SECONDS [STATUS]: wait until PREFIX got N POSTs (answered STATUS)
until_posts() {
	local end=$((SECONDS + $3))
	while [ "$(posts "$1" ${4:+"$4"})" -lt "$2" ]; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}
# hookq PREFIX EXPR: EXPR over rs, the POSTs to PREFIX (bodies parsed as b)
hookq() { python3 - "$hooklog" "$@" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
rs = [dict(r, b=json.loads(r["body"])) for r in rs if r["path"].startswith(sys.argv[2])]
print(eval(sys.argv[3]))
PY
}

# --- watch, headless, its stderr the "journal" -------------------------------
# systemd names its stream in $JOURNAL_STREAM ("device:inode"): a file stands in.
: >"$work/journal"
JOURNAL_STREAM=$(stat -c '%d:%i' "$work/journal") setsid "$SECTOP" -c "$work/sectop.conf" \
	--db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" --window 5m --alert-window 5m \
	--refresh 500ms watch </dev/null >"$work/stdout" 2>>"$work/journal" &
watch_pid=$!
until_posts /fail-first/1/json 3 20 200
check "the brute force, the dead endpoint and the blocked partner reach the receiver" [ "$(posts /fail-first/1/json 200)" = 3 ]
sleep 4                                   # eight more refreshes: nothing new to tell
check "watch runs without a terminal" kill -0 "$watch_pid"
check "exactly one delivered POST per alert over many refreshes" \
	[ "$(hookq /fail-first/1/json 'sorted(r["b"]["key"] for r in rs if r["status"] == 200)')" = "['allowlisted_blocked:192.0.2.7', 'brute_force:203.0.113.45', 'endpoint_down:dead']" ]
check "the first POST was answered 500 and retried once, with the same Idempotency-Key" \
	[ "$(hookq /fail-first/1/json '(len(rs), rs[0]["status"], rs[0]["headers"]["Idempotency-Key"] == rs[1]["headers"]["Idempotency-Key"], rs[0]["body"] == rs[1]["body"])')" = "(4, 500, True, True)" ]
check "the token is sent as Authorization: Bearer" \
	[ "$(hookq /fail-first/1/json 'set(r["headers"].get("Authorization") for r in rs)')" = "{'Bearer $NOTIFY_TOKEN'}" ]
check "... and only to the target that names it" [ "$(hookq /ok/slack 'set(r["headers"].get("Authorization") for r in rs)')" = "{None}" ]
sql_fail=$(tsql -c "SELECT count(*) FROM $table WHERE ip_address = '203.0.113.45'")
check "the JSON document: kind, key, subject, figures, host, time" \
	[ "$(hookq /fail-first/1/json '[(b["event"], b["kind"], b["subject"], b["figures"]["failures"], b["figures"]["threshold"], b["host"], b["time"][-1], b["incident"]) for b in [r["b"] for r in rs] if b["kind"] == "brute_force"][0]')" = "('alert', 'brute_force', '203.0.113.45', $sql_fail, 10, '$(hostname)', 'Z', None)" ]
check "the dead endpoint's document says why" \
	[ "$(hookq /fail-first/1/json '[b["subject"] for b in [r["b"] for r in rs] if b["kind"] == "endpoint_down"][0]')" = dead ]
check "nothing for the healthy endpoint or the address under the threshold" \
	[ "$(hookq /fail-first/1/json 'any(r["b"]["subject"] in ("ok", "198.51.100.9") for r in rs)')" = False ]
check "format=slack: one key, text, per alert" \
	[ "$(hookq /ok/slack 'sorted((list(r["b"]), r["b"]["text"].split(":")[0]) for r in rs)')" = "[(['text'], '[sectop@$(hostname)] ALERT allowlisted_blocked'), (['text'], '[sectop@$(hostname)] ALERT brute_force'), (['text'], '[sectop@$(hostname)] ALERT endpoint_down')]" ]
check "rate=1: one message in the minute" [ "$(posts /ok/capped)" = 1 ]
check "a 403: each message sent once, not retried" [ "$(posts /deny/x)" = 3 ]
check "... and said dropped on the journal" [ "$(grep -c '^<3>notify 4 (127.0.0.1): HTTP 403: dropped after 1 attempt$' "$work/journal")" = 3 ]
check "... the hold-back said on the journal" grep -q '^<4>notify 3 (127.0.0.1): rate limit reached (1 a minute)' "$work/journal"
check "the token is not on watch's command line" bash -c "! tr '\0' ' ' </proc/$watch_pid/cmdline | grep -qF -- '$NOTIFY_TOKEN'"

start=$(date +%s%N)
kill -TERM "$watch_pid"
for _ in $(seq 40); do kill -0 "$watch_pid" 2>/dev/null || break; sleep 0.1; done
wait "$watch_pid"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
watch_pid=""
check "SIGTERM: watch exits 0 ($rc)" [ "$rc" = 0 ]
check "... within 2.5 s ($ms ms)" [ "$ms" -lt 2500 ]
check "... after telling what the rate limit held back, in one message" \
	[ "$(hookq /ok/capped '[(r["b"]["event"], r["b"].get("count")) for r in rs]')" = "[('alert', None), ('suppressed', 2)]" ]
check "one journal line per alert, priority 4" [ "$(grep -c '^<4>ALERT ' "$work/journal")" = 3 ]
check "... the brute force's" grep -q '^<4>ALERT brute_force: 203.0.113.45: 30 failures of 30 requests in 5m' "$work/journal"
check "... the dead endpoint's" grep -q '^<4>ALERT endpoint_down: dead: down' "$work/journal"
check "... the blocked partner's" grep -q '^<4>ALERT allowlisted_blocked: 192.0.2.7: allow-listed (partner) but blocked by the servers' "$work/journal"
check "the retry on the journal" grep -q '^<4>notify 1 (127.0.0.1): HTTP 500: retrying in' "$work/journal"
check "the stop on the journal" grep -q '^<6>stopped (SIGTERM)' "$work/journal"
check "every journal line has a priority" bash -c "! grep -v '^<[0-7]>' '$work/journal'"
check "nothing on stdout" [ ! -s "$work/stdout" ]
check "the token is not on the journal" bash -c "! grep -qF -- '$NOTIFY_TOKEN' '$work/journal'"
check "the URL's path is not on the journal (a Slack URL is a secret)" bash -c "! grep -q 'ok/slack' '$work/journal'"

# --- plain stderr: a time on each line, no priority ---------------------------
"$SECTOP" --db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" --window 5m --alert-window 5m \
	--refresh 500ms --notify "$hook/ok/argv-secret format=slack" \
	--health "tls=$SECTOP_TEST_HTTPS/health/ok ca_file=$SECTOP_TEST_CA" watch </dev/null >/dev/null 2>"$work/plain" &
plain_pid=$!
sleep 1
check "a Slack URL given on the command line is overwritten in argv" \
	bash -c "tr '\0' ' ' </proc/$plain_pid/cmdline | grep -q -- '--notify xxxx' && ! tr '\0' ' ' </proc/$plain_pid/cmdline | grep -q argv-secret"
sleep 2
kill -INT "$plain_pid"
wait "$plain_pid"
check "SIGINT stops it too, exit 0" [ $? -eq 0 ]
check "... saying so" grep -q "sectop: stopped (SIGINT)" "$work/plain"
check "without the journal: a time, then the line" \
	grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z sectop: ALERT brute_force: 203\.0\.113\.45' "$work/plain"
check "... and no priority prefix" bash -c "! grep -q '<4>' '$work/plain'"
check "a certificate within cert-warn-days (the suite's lasts 10 days) is an alert" \
	grep -qE "sectop: ALERT cert_expiring: tls: certificate expires in [0-9]+ days? \([0-9-]{10}\)" "$work/plain"

# --- a source stale for long: an alert, resolved when it is back ---------------
if command -v redis-server >/dev/null 2>&1; then
	rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
		--logfile "$work/redis.log" --daemonize no </dev/null >/dev/null 2>&1 &
	redis_pid=$!
	trap 'kill -CONT $redis_pid; kill $redis_pid; cleanup' EXIT
	for _ in $(seq 50); do [ "$(env -u REDISCLI_AUTH redis-cli -p "$rport" PING 2>/dev/null)" = PONG ] && break; sleep 0.1; done
	: >"$work/journal2"
	: >"$work/empty.conf"
	chmod 600 "$work/empty.conf"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$work/journal2") env -u REDISCLI_AUTH setsid "$SECTOP" -c "$work/empty.conf" \
		--db "$SECTOP_TEST_DB" --redis "redis://127.0.0.1:$rport/0" --table "$table" --refresh 500ms \
		--server-timeout 1s --stale-alert 2s --notify "$hook/ok/stale" watch </dev/null >/dev/null 2>>"$work/journal2" &
	watch_pid=$!
	sleep 2
	kill -STOP "$redis_pid"
	until_posts /ok/stale 1 15
	check "a Redis that stops answering: stale on the journal" grep -q '^<4>redis stale' "$work/journal2"
	check "... then, past stale-alert, an alert" grep -q '^<4>ALERT source_stale: redis: stale for [0-9]*s (more than 2s)' "$work/journal2"
	check "... POSTed once" [ "$(hookq /ok/stale '[(r["b"]["event"], r["b"]["key"]) for r in rs]')" = "[('alert', 'source_stale:redis')]" ]
	kill -CONT "$redis_pid"
	until_posts /ok/stale 2 30
	check "back: on the journal" grep -q '^<5>redis back' "$work/journal2"
	check "... the alert resolved on the journal" grep -q '^<5>resolved source_stale: redis' "$work/journal2"
	check "... and POSTed as resolved, since the same start" \
		[ "$(hookq /ok/stale '[(r["b"]["event"], r["b"]["key"]) for r in rs][1:] + [rs[0]["b"]["since"] == rs[1]["b"]["since"]]')" = "[('resolved', 'source_stale:redis'), True]" ]
	kill -TERM "$watch_pid"
	wait "$watch_pid"
	check "... and watch stops with 0" [ $? -eq 0 ]
	watch_pid=""
fi

# --- refused -------------------------------------------------------------------
run watch --notify "http://192.0.2.10/hook" </dev/null >/dev/null 2>"$work/err"
check "plain http to a host other than loopback: exit 2" [ $? -eq 2 ]
check "... saying why" grep -q "loopback" "$work/err"
printf 'notify = http://hooks.example.com/x token_env=NOTIFY_TOKEN\n' >"$work/bad.conf"
"$SECTOP" -c "$work/bad.conf" watch </dev/null >/dev/null 2>"$work/err"
check "... in the file too: exit 2" [ $? -eq 2 ]
env -u NOTIFY_TOKEN "$SECTOP" -c "$work/sectop.conf" --db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" \
	watch </dev/null >/dev/null 2>"$work/err"
check "the token's variable unset: exit 2" [ $? -eq 2 ]
check "... naming the variable" grep -q "NOTIFY_TOKEN" "$work/err"
run watch extra </dev/null >/dev/null 2>&1
check "watch takes no arguments: exit 2" [ $? -eq 2 ]

finish
