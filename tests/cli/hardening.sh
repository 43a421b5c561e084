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

finish
