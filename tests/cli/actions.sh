#!/usr/bin/env bash
# Block, unblock and extend through the one gate, against the real Redis and
# PostgreSQL: success, nothing to do, every malformed address refused,
# read-only and dry-run changing nothing, the journal before the action, the
# audit row after it, and the audit retried from the journal once
# PostgreSQL is back.
. "$(dirname "$0")/lib.sh"
need_servers SECTOP_TEST_DB SECTOP_TEST_REDIS

work=$(mktemp -d)
db=6
redis_url="${SECTOP_TEST_REDIS%/*}/$db"
export XDG_STATE_HOME=$work/state SECTOP_OPERATOR=alice
journal=$work/state/sectop/journal.jsonl
trap 'redis-cli -u "$redis_url" FLUSHDB >/dev/null 2>&1; tsql -c "DELETE FROM audit_log WHERE user_id = '"'"'alice'"'"'" >/dev/null 2>&1; rm -rf "$work"' EXIT
redis-cli -u "$redis_url" FLUSHDB >/dev/null

act() { "$SECTOP" "$@" --db "$SECTOP_TEST_DB" --redis "$redis_url" </dev/null; }
rget() { redis-cli -u "$redis_url" "$@"; }
audits() { tsql -c "SELECT count(*) FROM audit_log WHERE user_id = 'alice' AND action = '$1' AND resource_id = '$2'"; }

act block 203.0.113.50 --reason "brute force on /login" --ttl 10m --yes >"$work/out" 2>&1
check "block exits 0" [ $? -eq 0 ]
check "the key holds sectop's JSON" python3 -c '
import json, sys
v = json.loads(sys.argv[1])
assert v["by"] == "alice" and v["reason"] == "brute force on /login" and isinstance(v["at"], int)
' "$(rget GET blocked:203.0.113.50)"
ttl=$(rget TTL blocked:203.0.113.50)
check "with the TTL asked for ($ttl)" [ "$ttl" -gt 590 ] && [ "$ttl" -le 600 ]
check "an audit row was written" [ "$(audits ip_blocked 203.0.113.50)" = 1 ]
check "the journal has intent, result, audited" [ "$(grep -c 'ip_blocked\|"phase":"result"\|"phase":"audited"' "$journal")" -ge 3 ]
check "the journal is private" [ "$(stat -c %a "$journal")" = 600 ]

act block 203.0.113.50 --reason again --yes >/dev/null 2>&1
check "blocking a blocked address: exit 4, nothing changed" [ $? -eq 4 ]
check "... the reason is still the first" [ "$(rget GET blocked:203.0.113.50 | python3 -c 'import json,sys; print(json.load(sys.stdin)["reason"])')" = "brute force on /login" ]

act extend 203.0.113.50 --reason "still attacking" --ttl 2h --yes >/dev/null 2>&1
check "extend exits 0" [ $? -eq 0 ]
check "... and resets the TTL" [ "$(rget TTL blocked:203.0.113.50)" -gt 7000 ]

act block 2001:DB8:0:0::7 --reason v6 --yes >/dev/null 2>&1
check "an IPv6 address is stored in inet_ntop's form" [ "$(rget EXISTS blocked:2001:db8::7)" = 1 ]

for bad in 10.1 10.0.1 010.0.0.1 0x7f.0.0.1 256.1.1.1 10.0.0.0/8 2001:db8::/32 'fe80::1%eth0' 'a b' ''; do
	act block "$bad" --reason x --yes >/dev/null 2>"$work/err"
	check "refused: '$bad' (exit 5)" [ $? -eq 5 ]
done
check "no key was written for them" [ "$(rget --scan --pattern 'blocked:*' | wc -l)" = 2 ]
act block 203.0.113.51 --yes >/dev/null 2>"$work/err"
check "a reason is required" [ $? -eq 5 ] && grep -q "reason is required" "$work/err"

lines=$(wc -l <"$journal")
act block 203.0.113.52 --reason x --yes --read-only >/dev/null 2>&1
check "read-only refuses (exit 5)" [ $? -eq 5 ]
check "... leaving no key" [ "$(rget EXISTS blocked:203.0.113.52)" = 0 ]
check "... and no journal record" [ "$(wc -l <"$journal")" = "$lines" ]
act block 203.0.113.52 --reason rehearsal --dry-run --format json >"$work/dry.json" 2>&1
check "dry run exits 0" [ $? -eq 0 ]
check "... shows the exact command" [ "$(jpath "$work/dry.json" 'd["command"].startswith("SET blocked:203.0.113.52 ")')" = True ]
check "... leaving no key" [ "$(rget EXISTS blocked:203.0.113.52)" = 0 ]
check "... and no audit row" [ "$(audits ip_blocked 203.0.113.52)" = 0 ]
check "... but the rehearsal is journalled as such" grep -q '"mode":"dry-run"' "$journal"

act block 203.0.113.53 --reason x >/dev/null 2>"$work/err"
check "without a terminal and without --yes nothing is done" [ $? -eq 5 ] && [ "$(rget EXISTS blocked:203.0.113.53)" = 0 ]

XDG_STATE_HOME=/proc/nonexistent act block 203.0.113.54 --reason x --yes >/dev/null 2>"$work/err"
check "no journal, no action (exit 5)" [ $? -eq 5 ] && [ "$(rget EXISTS blocked:203.0.113.54)" = 0 ]
check "... saying why" grep -q "journal" "$work/err"

# PostgreSQL unreachable: the action happens, the audit row waits in the journal
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$SECTOP" unblock 203.0.113.50 --yes --db "host=127.0.0.1 port=$port dbname=x user=x" --redis "$redis_url" \
	--server-timeout 1s </dev/null >"$work/out" 2>&1
check "unblock with PostgreSQL down still unblocks" [ $? -eq 0 ] && [ "$(rget EXISTS blocked:203.0.113.50)" = 0 ]
check "... and says the audit waits" grep -q "waits in the journal" "$work/out"
check "... no audit row yet" [ "$(audits ip_unblocked 203.0.113.50)" = 0 ]
act unblock 203.0.113.99 --yes >"$work/out" 2>&1
check "the next command writes it from the journal" [ "$(audits ip_unblocked 203.0.113.50)" = 1 ]
act unblock 203.0.113.98 --yes >/dev/null 2>&1
check "... exactly once" [ "$(audits ip_unblocked 203.0.113.50)" = 1 ]
act unblock 203.0.113.97 --yes >/dev/null 2>&1
check "unblocking what is not blocked: exit 4" [ $? -eq 4 ]

# Redis failing between the journal and the execution: a user that may read
# the address's keys but not write them (Redis 7 ACLs), so the state is read,
# the intent journalled, and the SET refused.
acl_user="sectop-ro-$$" acl_pw="ro-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
rget ACL SETUSER "$acl_user" on ">$acl_pw" '~*' '&*' +get +ttl +select +ping +auth >/dev/null
ro_url="redis://$acl_user:$acl_pw@${redis_url#redis://}"
"$SECTOP" block 203.0.113.60 --reason "write refused" --yes --db "$SECTOP_TEST_DB" --redis "$ro_url" \
	</dev/null >"$work/out" 2>&1
check "a server refusing the write: exit 6" [ $? -eq 6 ]
check "... nothing blocked" [ "$(rget EXISTS blocked:203.0.113.60)" = 0 ]
check "... the intent was journalled first" grep -q '"phase":"intent".*203.0.113.60\|203.0.113.60.*"phase":"intent"' "$journal"
check "... then the failure" grep -q '"phase":"result".*"status":"failed"' "$journal"
check "... and no audit row" [ "$(audits ip_blocked 203.0.113.60)" = 0 ]
act unblock 203.0.113.96 --yes >/dev/null 2>&1
check "... nor one later from the journal" [ "$(audits ip_blocked 203.0.113.60)" = 0 ]
rget ACL DELUSER "$acl_user" >/dev/null

# --- revoking an API key: one row, in a transaction -------------------------
tenant="revoke-test-$$"
dup="api_keys_dup_$$"
trap 'redis-cli -u "$redis_url" FLUSHDB >/dev/null 2>&1; tsql -c "DELETE FROM audit_log WHERE user_id = '"'"'alice'"'"'; DELETE FROM api_keys WHERE tenant_id = '"'"'$tenant'"'"'; DROP TABLE IF EXISTS $dup" >/dev/null 2>&1; rm -rf "$work"' EXIT
key=$(tsql -c "INSERT INTO api_keys (tenant_id, name, key_prefix, scopes) VALUES ('$tenant', 'ci deploy', 'sk_live_ab12', '{deploy}') RETURNING id" | head -1)
revoked() { tsql -c "SELECT revoked_at IS NOT NULL, coalesce(revoked_by, ''), coalesce(revoke_reason, '') FROM api_keys WHERE id = '$key'"; }
act revoke "$key" --tenant "$tenant" --reason "leaked in a log" --dry-run >"$work/out" 2>&1
check "revoke dry run exits 0" [ $? -eq 0 ]
check "... says the UPDATE would change 1 row" grep -q "would change 1 row (rolled back)" "$work/out"
check "... and changes nothing" [ "$(revoked)" = "f||" ]
act revoke "$key" --tenant other-tenant --reason x --yes >"$work/out" 2>&1
check "revoke with the wrong tenant is refused (exit 5)" [ $? -eq 5 ] && [ "$(revoked)" = "f||" ]
act revoke "$key" --tenant "$tenant" --yes >/dev/null 2>&1
check "revoke needs a reason" [ $? -eq 5 ]
act revoke "$key" --tenant "$tenant" --reason "leaked in a log" --yes >"$work/out" 2>&1
check "revoke exits 0" [ $? -eq 0 ]
check "... the key is revoked by the operator with the reason" [ "$(revoked)" = "t|alice|leaked in a log" ]
check "... shows the prefix, never the key" grep -q "prefix sk_live_ab12" "$work/out"
check "... audited as api_key_revoked with its tenant" [ "$(tsql -c "SELECT count(*) FROM audit_log WHERE user_id = 'alice' AND action = 'api_key_revoked' AND resource_id = '$key' AND tenant_id = '$tenant'")" = 1 ]
act revoke "$key" --tenant "$tenant" --reason again --yes >/dev/null 2>&1
check "revoking a revoked key: exit 4" [ $? -eq 4 ]
act revoke "'; DROP TABLE api_keys; --" --tenant "$tenant" --reason x --yes >/dev/null 2>&1
check "a key id that is not one is refused (exit 5)" [ $? -eq 5 ] && tsql -c "SELECT 1 FROM api_keys LIMIT 1" >/dev/null
# two rows matching (a keys table without a primary key): nothing is committed
tsql -c "CREATE TABLE $dup (LIKE api_keys INCLUDING DEFAULTS)"
tsql -c "INSERT INTO $dup (id, tenant_id, name, key_prefix) VALUES ('$key', '$tenant', 'a', 'p1'), ('$key', '$tenant', 'b', 'p1')"
act revoke "$key" --tenant "$tenant" --reason x --yes --keys-table "$dup" >"$work/out" 2>&1
check "two rows matched: refused or failed, not committed" [ $? -ne 0 ] && [ "$(tsql -c "SELECT count(*) FROM $dup WHERE revoked_at IS NOT NULL")" = 0 ]
finish
