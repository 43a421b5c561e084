#!/usr/bin/env bash
# What a security review found, each closed at its mechanism: hostile key
# prefixes never reach the terminal raw nor become the confirmation text,
# the audit retry stays behind the read-only and dry-run gate and keeps each
# row's own operator and time, a plan applied only if the state it showed
# still holds, an action that finds nothing to do journalled and audited.
. "$(dirname "$0")/lib.sh"
need_servers SECTOP_TEST_DB SECTOP_TEST_REDIS

work=$(mktemp -d)
db=8
redis_url="${SECTOP_TEST_REDIS%/*}/$db"
tenant="hardening-$$"
export XDG_STATE_HOME=$work/state SECTOP_OPERATOR=hal
journal=$work/state/sectop/journal.jsonl
cleanup() {
	redis-cli -u "$redis_url" FLUSHDB >/dev/null 2>&1
	tsql -c "DELETE FROM audit_log WHERE user_id IN ('hal', 'bob'); DELETE FROM api_keys WHERE tenant_id = '$tenant'" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
redis-cli -u "$redis_url" FLUSHDB >/dev/null
: >"$work/empty.conf"
chmod 600 "$work/empty.conf"

act() { "$SECTOP" "$@" -c "$work/empty.conf" --db "$SECTOP_TEST_DB" --redis "$redis_url" </dev/null; }
rget() { redis-cli -u "$redis_url" "$@"; }
audits() { tsql -c "SELECT count(*) FROM audit_log WHERE user_id IN ('hal', 'bob') AND action = '$1' AND resource_id = '$2'"; }
has_esc() { grep -q $'\x1b' "$1"; }

# --- 1, 6: a key prefix from the table is untrusted -------------------------
hostile=$(tsql -c "INSERT INTO api_keys (tenant_id, name, key_prefix) VALUES ('$tenant', 'k1', E'\x1b[8mab') RETURNING id" | head -1)
act revoke "$hostile" --tenant "$tenant" --reason test --dry-run >"$work/out" 2>&1
check "revoke: a prefix holding ESC is not printed raw" eval '! has_esc "$work/out"'
check "... but made visible" grep -qF 'prefix \x1b[8mab' "$work/out"
check "... and the key's id is what must be typed" grep -q "type the key's id" "$work/out"

# --- 2: the audit retry is a write: behind the gate, with its own operator --
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SECTOP_OPERATOR=bob "$SECTOP" block 203.0.113.70 --reason "pg down" --yes -c "$work/empty.conf" \
	--db "host=127.0.0.1 port=$port dbname=x user=x" --redis "$redis_url" --server-timeout 1s </dev/null >"$work/out" 2>&1
check "an action while PostgreSQL is down leaves its audit row in the journal" grep -q "waits in the journal" "$work/out"
when=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("phase") == "result": print(r["time"])' "$journal" | tail -1)
sleep 1.1
act block 203.0.113.71 --reason x --yes --read-only >/dev/null 2>&1
check "a read-only command writes no pending audit row" [ "$(audits ip_blocked 203.0.113.70)" = 0 ]
act block 203.0.113.71 --reason x --dry-run >/dev/null 2>&1
check "a dry run writes no pending audit row" [ "$(audits ip_blocked 203.0.113.70)" = 0 ]
act unblock 203.0.113.72 --yes >/dev/null 2>&1
check "a live command writes it" [ "$(audits ip_blocked 203.0.113.70)" = 1 ]
row=$(tsql -c "SELECT user_id || '|' || to_char(\"timestamp\" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM audit_log WHERE action = 'ip_blocked' AND resource_id = '203.0.113.70'")
check "... as the operator who acted, at the time they did ($row)" [ "$row" = "bob|$when" ]

# --- 3: a key name is all its bytes, a NUL included -------------------------
# redis-cli cannot send a NUL in a key name: a few lines of RESP can
rset_raw() { # KEY-BYTES(printf format) VALUE
	python3 - "$1" "$2" "${redis_url##*:}" <<'PY'
import os, socket, sys
key = sys.argv[1].encode().decode("unicode_escape").encode("latin-1")
port, db = sys.argv[3].split("/")
s = socket.create_connection(("127.0.0.1", int(port)))
def cmd(*a):
    s.sendall(b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a))
    return s.recv(1000)
if os.environ.get("REDISCLI_AUTH"):
    cmd(b"AUTH", os.environ["REDISCLI_AUTH"].encode())
cmd(b"SELECT", db.encode())
assert cmd(b"SET", key, sys.argv[2].encode(), b"EX", b"3000").startswith(b"+OK")
PY
}
rset_raw 'blocked:203.0.113.45\x00x' '{"by":"mallory","reason":"spoof"}'
for mode in "" --all-blocks; do
	act snapshot $mode >"$work/snap" 2>&1
	check "snapshot $mode: a NUL in a block key is shown, not taken for the end" grep -qF '203.0.113.45\x00x' "$work/snap"
	check "... no block of 203.0.113.45 is shown" eval '! grep -qE "^ +203\.0\.113\.45 " "$work/snap"'
	act snapshot $mode --format json >"$work/snap.json" 2>"$work/err"
	check "... the JSON keeps every byte ($mode)" [ "$(jpath "$work/snap.json" '"203.0.113.45\x00x" in [b["ip"] for b in d["blocked"]] and "203.0.113.45" not in [b["ip"] for b in d["blocked"]]')" = True ]
done
rget FLUSHDB >/dev/null

# --- 8: the plan is applied only if it still holds --------------------------
# on_prompt (lib.sh): sectop on a terminal of its own, the state changed while it asks
on_prompt "redis-cli -u '$redis_url' SET blocked:203.0.113.80 '{\"by\":\"carol\",\"reason\":\"hers\"}' EX 5000 >/dev/null" \
	203.0.113.80 "$SECTOP" block 203.0.113.80 --reason mine -c "$work/empty.conf" --db "$SECTOP_TEST_DB" \
	--redis "$redis_url" >"$work/out" 2>&1
check "a block created while the operator types: exit 4" [ $? -eq 4 ]
check "... saying the state changed" grep -q "changed while you confirmed" "$work/out"
check "... the other block is kept, not overwritten" [ "$(rget GET blocked:203.0.113.80 | python3 -c 'import json,sys; print(json.load(sys.stdin)["by"])')" = carol ]
check "... journalled as nothing done" grep -q '"status":"already"' "$journal"
check "... and audited as such" [ "$(audits ip_blocked_noop 203.0.113.80)" = 1 ]
rget SET blocked:203.0.113.81 x EX 7200 >/dev/null
act extend 203.0.113.81 --reason shorter --ttl 1m --yes >"$work/out" 2>&1
check "extend never shortens a longer block: exit 4" [ $? -eq 4 ]
check "... the TTL stays" [ "$(rget TTL blocked:203.0.113.81)" -gt 7000 ]
rget SET blocked:203.0.113.82 x >/dev/null
act extend 203.0.113.82 --reason ttl --ttl 1h --yes >/dev/null 2>&1
check "... nor gives an expiry to a block that had none" [ "$(rget TTL blocked:203.0.113.82)" = -1 ]
act extend 203.0.113.83 --reason none --yes >"$work/out" 2>&1
check "extending what is not blocked is refused (exit 5), not 'already'" [ $? -eq 5 ] && grep -q "nothing to extend" "$work/out"

# --- an action that finds nothing to do is journalled and audited -----------
act unblock 203.0.113.84 --yes >"$work/out" 2>&1
check "unblocking what is not blocked: exit 4" [ $? -eq 4 ]
check "... journalled" grep -q '203.0.113.84' "$journal"
check "... audited as a no-op" [ "$(audits ip_unblocked_noop 203.0.113.84)" = 1 ]
act block 203.0.113.81 --reason again --yes >/dev/null 2>&1
check "blocking a blocked address is audited as a no-op" [ "$(audits ip_blocked_noop 203.0.113.81)" = 1 ]
check "... and counted as no block" [ "$(audits ip_blocked 203.0.113.81)" = 0 ]

# --- a Redis that accepts and never answers: said as a timeout, journalled --
silent_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$silent_port" &
silent=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$silent_port") 2>/dev/null && break; sleep 0.1; done
lines=$(wc -l <"$journal")
"$SECTOP" block 203.0.113.62 --reason stall --yes -c "$work/empty.conf" --db "$SECTOP_TEST_DB" \
	--redis "redis://127.0.0.1:$silent_port/0" --server-timeout 1s </dev/null >"$work/out" 2>&1
check "an action while Redis stalls fails (exit 6)" [ $? -eq 6 ]
check "... saying it timed out" grep -q "timed out" "$work/out"
check "... not 'Resource temporarily unavailable'" eval '! grep -q "temporarily unavailable" "$work/out"'
check "... and the failed attempt is journalled" eval 'tail -n +$((lines + 1)) "$journal" | grep -q "\"status\":\"failed\""'
kill "$silent"

# --- addresses: one normal form, only what a request can come from ---------
for bad in 0.0.0.0 :: 255.255.255.255 224.0.0.1 ff02::1; do
	act block "$bad" --reason x --yes >/dev/null 2>"$work/err"
	check "block $bad is refused (exit 5)" [ $? -eq 5 ] && grep -q "no request comes from it" "$work/err"
done
act block 0.0.0.0 --reason x --yes >/dev/null 2>"$work/err"
check "... in English ('an unspecified address')" grep -q "is an unspecified address" "$work/err"
act block ::ffff:203.0.113.61 --reason mapped --yes >/dev/null 2>&1
check "an IPv4-mapped address is blocked as the IPv4 address" [ "$(rget EXISTS blocked:203.0.113.61)" = 1 ] && [ "$(rget EXISTS blocked:::ffff:203.0.113.61)" = 0 ]
act block 10.9.8.7 --reason private --yes >"$work/out" 2>&1
check "--yes does not skip the extra confirmation of a private address (exit 5)" [ $? -eq 5 ] && [ "$(rget EXISTS blocked:10.9.8.7)" = 0 ]
check "... and says what to type" grep -q "needs 'yes ADDRESS' typed" "$work/out"
printf 'yes = true\n' >"$work/yes.conf"
chmod 600 "$work/yes.conf"
"$SECTOP" block 127.0.0.9 --reason own -c "$work/yes.conf" --db "$SECTOP_TEST_DB" --redis "$redis_url" </dev/null >/dev/null 2>&1
check "nor does yes = true in a file" [ $? -eq 5 ] && [ "$(rget EXISTS blocked:127.0.0.9)" = 0 ]
on_prompt true "yes 10.9.8.7" "$SECTOP" block 10.9.8.7 --reason private -c "$work/empty.conf" --db "$SECTOP_TEST_DB" \
	--redis "$redis_url" >"$work/out" 2>&1
check "'yes ADDRESS' typed once, as the README says, blocks it" [ $? -eq 0 ] && [ "$(rget EXISTS blocked:10.9.8.7)" = 1 ]
check "... asked in one line" grep -q "Type 'yes 10.9.8.7' to act on it anyway" "$work/out"

# --- report --read-only / --dry-run write no rollup; drill --dry-run refused --
rtable="hardening_audit_$$"
trap 'cleanup; tsql -c "DROP TABLE IF EXISTS $rtable CASCADE" >/dev/null 2>&1; "$SECTOP" setup --drop-rollup -c "$work/empty.conf" --db "$SECTOP_TEST_DB" --table "$rtable" >/dev/null 2>&1' EXIT
tsql -c "CREATE TABLE $rtable (LIKE audit_log INCLUDING ALL)"
tsql -c "INSERT INTO $rtable (\"timestamp\", tenant_id, action, ip_address, status_code)
	SELECT date_trunc('hour', now()) - interval '3 hours' + g * interval '1 minute', 'acme', 'failed_auth', '198.51.100.60', 401
	FROM generate_series(1, 100) g"
"$SECTOP" setup --rollup -c "$work/empty.conf" --db "$SECTOP_TEST_DB" --table "$rtable" >/dev/null 2>&1
fingerprint() { tsql -c "SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM ${rtable}_rollup_hour t"; }
tsql -c "INSERT INTO $rtable (\"timestamp\", tenant_id, action, ip_address, status_code)
	SELECT date_trunc('hour', now()) - interval '50 minutes', 'acme', 'failed_auth', '198.51.100.61', 401 FROM generate_series(1, 7)"
before=$(fingerprint)
for mode in --read-only --dry-run; do
	act report $mode --table "$rtable" --format json >"$work/rep.json" 2>"$work/err"
	check "report $mode: exit 0" [ $? -eq 0 ]
	check "... the rollup is not written" [ "$(fingerprint)" = "$before" ]
	check "... and the report says so" grep -q "the rollup is not brought up to date" "$work/rep.json"
done
act report --table "$rtable" --format json >/dev/null 2>&1
check "a report without them brings it up to date (the check above can fail)" [ "$(fingerprint)" != "$before" ]
"$SECTOP" drill brute-force --dry-run -c "$work/empty.conf" --db "$SECTOP_TEST_DB" --redis "$redis_url" </dev/null >/dev/null 2>"$work/err"
check "drill --dry-run is refused (exit 5): it would write events" [ $? -eq 5 ] && grep -q "dry-run" "$work/err"

finish
