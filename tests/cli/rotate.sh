#!/usr/bin/env bash
# sectop rotate against a real webhook (tests/fixtures/webhookd.py), the
# journal and PostgreSQL: the request's body, bearer token and idempotency
# key; a 5xx or a timeout leaving the state unknown (exit 7) and the retry
# reusing the key; refusals that send nothing; the token kept out of the
# journal, the output and argv; the audit row, retried once PostgreSQL is
# back.  Then `rotate --status` over seeded secret_rotated rows, and revoke
# with the Redis and webhook back ends.
. "$(dirname "$0")/lib.sh"
need_servers SECTOP_TEST_DB SECTOP_TEST_REDIS

work=$(mktemp -d)
db=7
redis_url="${SECTOP_TEST_REDIS%/*}/$db"
tag=$$
op="rotator$tag"
tenant="rotate-test-$tag"
export XDG_STATE_HOME=$work/state SECTOP_OPERATOR=$op
journal=$work/state/sectop/journal.jsonl
hook_pid=""
cleanup() {
	[ -n "$hook_pid" ] && kill "$hook_pid" 2>/dev/null
	redis-cli -u "$redis_url" FLUSHDB >/dev/null 2>&1
	tsql -c "DELETE FROM audit_log WHERE user_id IN ('$op', 'rotation-bot-$tag'); DELETE FROM api_keys WHERE tenant_id = '$tenant'" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
redis-cli -u "$redis_url" FLUSHDB >/dev/null

# The webhook: a free port, every request logged with its headers and body.
hooklog=$work/hook.jsonl
python3 "$top_srcdir/tests/fixtures/webhookd.py" --port-file "$work/port" --log "$hooklog" --hang 6 \
	</dev/null >/dev/null 2>&1 &
hook_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
hook="http://127.0.0.1:$(cat "$work/port")"
: >"$hooklog"

# The token: in the environment only, never on a command line.
ROT_TOKEN="tok-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
export ROT_TOKEN

s_ok="stripe_api_key_$tag" s_fail="db_main_$tag" s_hang="tls_web_$tag" s_bare="ssh_deploy_$tag"
cat >"$work/sectop.conf" <<EOF
secret = $s_ok kind=api_key webhook=$hook/ok/stripe token_env=ROT_TOKEN
secret = $s_fail kind=db_password webhook=$hook/fail/db token_env=ROT_TOKEN
secret = $s_hang kind=tls_cert webhook=$hook/hang/tls token_env=ROT_TOKEN timeout=1s
secret = $s_bare kind=ssh_key
EOF

act() { "$SECTOP" -c "$work/sectop.conf" "$@" --db "$SECTOP_TEST_DB" --redis "$redis_url" </dev/null; }
requests() { if [ -s "$hooklog" ]; then wc -l <"$hooklog"; else echo 0; fi; }
# hookq PYTHON-EXPRESSION: on r, the last request logged (and all: every request)
hookq() { python3 -c 'import json,sys
all = [json.loads(l) for l in open(sys.argv[1])]
r = all[-1]
print(eval(sys.argv[2]))' "$hooklog" "$1"; }
audits() { tsql -c "SELECT count(*) FROM audit_log WHERE user_id = '$op' AND action = 'secret_rotation_requested' AND resource_type = 'secret' AND resource_id = '$1'"; }

# --- success ---------------------------------------------------------------
act rotate "$s_ok" --reason "leaked in a build log" --incident INC-42 --yes >"$work/out" 2>&1
check "rotate exits 0 on HTTP 200" [ $? -eq 0 ]
check "... says the HTTP result" grep -q "HTTP 200" "$work/out"
check "... one request was sent" [ "$(requests)" = 1 ]
check "... to the secret's webhook" [ "$(hookq 'r["path"]')" = /ok/stripe ]
check "... with the bearer token from \$ROT_TOKEN" [ "$(hookq 'r["headers"]["Authorization"]')" = "Bearer $ROT_TOKEN" ]
check "... a JSON body naming the secret, operator, reason and incident" [ "$(hookq '(lambda b: (b["secret"], b["kind"], b["operator"], b["reason"], b["incident"]))(json.loads(r["body"]))')" = "('$s_ok', 'api_key', '$op', 'leaked in a build log', 'INC-42')" ]
key1=$(hookq 'json.loads(r["body"])["idempotency_key"]')
check "... an idempotency key in the body and the Idempotency-Key header" [ "${#key1}" -ge 16 ] && [ "$(hookq 'r["headers"]["Idempotency-Key"]')" = "$key1" ]
check "... the key journalled with the intent" grep -q "\"idempotency_key\":\"$key1\"" "$journal"
check "... audited as secret_rotation_requested by the operator" [ "$(audits "$s_ok")" = 1 ]
check "... the audit row carries the key" [ "$(tsql -c "SELECT details->>'idempotency_key' FROM audit_log WHERE user_id = '$op' AND resource_id = '$s_ok'")" = "$key1" ]
act rotate "$s_ok" --reason "second rotation" --yes >/dev/null 2>&1
check "a second rotation after a success gets a new key" [ "$(hookq 'r["headers"]["Idempotency-Key"]')" != "$key1" ]

# --- 5xx: unknown, and the retry reuses the key -----------------------------
act rotate "$s_fail" --reason "suspected leak" --yes --format json >"$work/fail.json" 2>&1
check "HTTP 500: exit 7 (unknown)" [ $? -eq 7 ]
check "... JSON status unknown, http_status 500, exit_status 7" [ "$(jpath "$work/fail.json" '(d["status"], d["http_status"], d["exit_status"])')" = "('unknown', 500, 7)" ]
key2=$(jpath "$work/fail.json" 'd["idempotency_key"]')
check "... the key sent is the one reported" [ "$(hookq 'r["headers"]["Idempotency-Key"]')" = "$key2" ]
check "... still audited (it may have happened), outcome unknown" [ "$(tsql -c "SELECT details->>'outcome' FROM audit_log WHERE user_id = '$op' AND resource_id = '$s_fail'")" = unknown ]
# the receiver is fixed: the same secret now points at a webhook that answers
act rotate "$s_fail" --reason "suspected leak" --yes --secret "$s_fail kind=db_password webhook=$hook/ok/db token_env=ROT_TOKEN" >"$work/out" 2>&1
check "the retry succeeds (exit 0)" [ $? -eq 0 ]
check "... reusing the idempotency key" [ "$(hookq 'r["headers"]["Idempotency-Key"]')" = "$key2" ] && [ "$(hookq 'json.loads(r["body"])["idempotency_key"]')" = "$key2" ]
check "... and says so" grep -q "reusing its idempotency key $key2" "$work/out"
act rotate "$s_fail" --reason "next time" --yes --dry-run --format json --secret "$s_fail kind=db_password webhook=$hook/ok/db token_env=ROT_TOKEN" >"$work/dry.json" 2>&1
check "after that success the next request would use a new key" [ "$(jpath "$work/dry.json" '(d["idempotency_key"] != "'"$key2"'", d["idempotency_key_reused"])')" = "(True, False)" ]

# --- timeout: unknown --------------------------------------------------------
before=$(requests)
start=$SECONDS
act rotate "$s_hang" --reason "cert key exposed" --yes >"$work/out" 2>&1 &
rot_pid=$!
sleep 0.5
ps -eo args >"$work/ps"
wait "$rot_pid"
rc=$?
check "a hung webhook: exit 7 (unknown)" [ "$rc" -eq 7 ]
check "... within the timeout, not the hang" [ $((SECONDS - start)) -lt 5 ]
check "... the request was sent once" [ "$(requests)" = $((before + 1)) ]
check "... and the message says the state is unknown" grep -q "unknown state" "$work/out"
check "the token is not in any process's argv" bash -c '! grep -qF -- "$1" "$2"' _ "$ROT_TOKEN" "$work/ps"
check "... while sectop was running" grep -q "rotate $s_hang" "$work/ps"
key3=$(hookq 'r["headers"]["Idempotency-Key"]')
act rotate "$s_hang" --reason "cert key exposed" --yes >/dev/null 2>&1
check "the retry after a timeout reuses the key" [ "$(hookq 'r["headers"]["Idempotency-Key"]')" = "$key3" ]

# --- refusals send nothing ----------------------------------------------------
before=$(requests)
act rotate "nope_$tag" --reason x --yes >/dev/null 2>"$work/err"
check "an undeclared secret is refused (exit 5)" [ $? -eq 5 ] && grep -q "unknown secret" "$work/err"
act rotate "$s_bare" --reason x --yes >/dev/null 2>"$work/err"
check "a secret with no webhook is refused (exit 5)" [ $? -eq 5 ] && grep -q "no webhook" "$work/err"
act rotate "$s_ok" --yes >/dev/null 2>"$work/err"
check "a reason is required (exit 5)" [ $? -eq 5 ]
ROT_TOKEN="" act rotate "$s_ok" --reason x --yes >/dev/null 2>"$work/err"
check "an empty token variable is refused (exit 5)" [ $? -eq 5 ] && grep -q 'ROT_TOKEN' "$work/err"
act rotate "$s_ok" --reason x >/dev/null 2>&1
check "without a terminal and without --yes nothing is done (exit 5)" [ $? -eq 5 ]
lines=$(wc -l <"$journal")
act rotate "$s_ok" --reason x --yes --read-only >/dev/null 2>"$work/err"
check "read-only refuses (exit 5)" [ $? -eq 5 ]
check "... with no journal record" [ "$(wc -l <"$journal")" = "$lines" ]
XDG_STATE_HOME=/proc/nonexistent act rotate "$s_ok" --reason x --yes >/dev/null 2>"$work/err"
check "no journal: refused (exit 5), saying why" [ $? -eq 5 ] && grep -q journal "$work/err"
check "none of these sent a request" [ "$(requests)" = "$before" ]

act rotate "$s_ok" --reason rehearsal --dry-run >"$work/dry" 2>&1
check "dry run exits 0" [ $? -eq 0 ]
check "... sends nothing" [ "$(requests)" = "$before" ]
check "... shows the request with the token's origin" grep -qF 'Authorization: Bearer <from $ROT_TOKEN>' "$work/dry"
check "... and the body" grep -qF "\"secret\":\"$s_ok\"" "$work/dry"
check "... never the token" bash -c '! grep -qF -- "$1" "$2"' _ "$ROT_TOKEN" "$work/dry"
check "... journalled as a dry run" grep -q '"mode":"dry-run"' "$journal"
check "the token is nowhere in the journal" bash -c '! grep -qF -- "$1" "$2"' _ "$ROT_TOKEN" "$journal"

# --- the audit row waits for PostgreSQL, then is written once -----------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$SECTOP" -c "$work/sectop.conf" rotate "$s_ok" --reason "pg down" --yes --server-timeout 1s \
	--db "host=127.0.0.1 port=$port dbname=x user=x" </dev/null >"$work/out" 2>&1
check "PostgreSQL down: the rotation is still requested (exit 0)" [ $? -eq 0 ]
check "... and the audit row waits in the journal" grep -q "waits in the journal" "$work/out"
waiting() { tsql -c "SELECT count(*) FROM audit_log WHERE user_id = '$op' AND resource_id = '$s_ok' AND details->>'reason' = 'pg down'"; }
act rotate "$s_ok" --reason x --dry-run >/dev/null 2>&1
check "a rehearsal writes nothing, not even the waiting audit row" [ "$(waiting)" = 0 ]
act unblock 203.0.113.250 --yes >/dev/null 2>&1
check "the next live command writes it from the journal" [ "$(waiting)" = 1 ]
act unblock 203.0.113.251 --yes >/dev/null 2>&1
check "... exactly once" [ "$(tsql -c "SELECT count(*) FROM audit_log WHERE user_id = '$op' AND resource_id = '$s_ok' AND details->>'reason' = 'pg down'")" = 1 ]

# --- rotate --status -----------------------------------------------------------
bot="rotation-bot-$tag"
tsql -c "INSERT INTO audit_log (\"timestamp\", user_id, action, resource_type, resource_id, details) VALUES
	(now() - interval '10 days', '$bot', 'secret_rotated', 'secret', 'st_ok_$tag', NULL),
	(now() - interval '200 days', '$bot', 'secret_rotated', 'secret', 'st_ok_$tag', NULL),
	(now() - interval '170 days', '$bot', 'secret_rotated', 'secret', 'st_due_$tag', NULL),
	(now() - interval '400 days', '$bot', 'secret_rotated', NULL, NULL, '{\"secret\": \"st_over_$tag\"}'),
	(now() - interval '1 day', '$bot', 'secret_rotation_requested', 'secret', 'st_over_$tag', NULL),
	(now() - interval '20 days', '$bot', 'secret_rotated', 'secret', 'st_custom_$tag', NULL)"
cat >"$work/status.conf" <<EOF
secret = st_ok_$tag kind=api_key
secret = st_due_$tag kind=db_password
secret = st_over_$tag kind=tls_cert
secret = st_never_$tag kind=ssh_key
secret = st_custom_$tag kind=api_key max_age=30d
EOF
st() { "$SECTOP" -c "$work/status.conf" rotate --status --db "$SECTOP_TEST_DB" "$@" </dev/null; }
st --format json >"$work/st.json" 2>&1
check "rotate --status exits 0" [ $? -eq 0 ]
state() { jpath "$work/st.json" "[s for s in d['secrets'] if s['name'] == '$1'][0]$2"; }
check "api_key rotated 10 days ago (90-day policy): ok, the newest row counts" [ "$(state "st_ok_$tag" "['state']")" = ok ] && [ "$(state "st_ok_$tag" "['age_days']")" = 10 ]
check "db_password rotated 170 days ago (180-day policy): due" [ "$(state "st_due_$tag" "['state']")" = due ]
check "tls_cert named in details->>'secret', 400 days ago: overdue" [ "$(state "st_over_$tag" "['state']")" = overdue ]
check "ssh_key with no secret_rotated row: never" [ "$(state "st_never_$tag" "['state']")" = never ] && [ "$(state "st_never_$tag" "['last_rotated']")" = None ]
check "max_age=30d, 20 days ago: due (within rotation-warn-days 14 of its age)" [ "$(state "st_custom_$tag" "['state']")" = due ]
check "default policies: api_key 90, db_password 180, tls_cert 365, ssh_key 365 days" [ "$(jpath "$work/st.json" "[s['max_age_days'] for s in d['secrets']]")" = "[90, 180, 365, 365, 30]" ]
st --format json --rotation-warn-days 9 >"$work/st.json" 2>&1
check "rotation-warn-days 9 makes both of them ok" [ "$(state "st_custom_$tag" "['state']")" = ok ] && [ "$(state "st_due_$tag" "['state']")" = ok ]
st >"$work/st.txt" 2>&1
check "the text table lists every secret with its state" [ "$(grep -c "_$tag " "$work/st.txt")" = 5 ] && grep -q "st_over_$tag .*overdue" "$work/st.txt"
st --format json --table "no_such_table_$tag" >/dev/null 2>"$work/err"
check "a failing query: exit 6, saying why" [ $? -eq 6 ] && grep -q postgres "$work/err"
act rotate --status --format json >"$work/st2.json" 2>&1
check "--status shows the journal's last request of each secret" [ "$(jpath "$work/st2.json" "[s['last_request']['status'] for s in d['secrets'] if s['name'] == '$s_hang'][0]")" = unknown ]

# --- revoke with an extra back end ------------------------------------------
newkey() { tsql -c "INSERT INTO api_keys (tenant_id, name, key_prefix) VALUES ('$tenant', '$1', 'sk_$1') RETURNING id" | head -1; }
k1=$(newkey one)
act revoke "$k1" --tenant "$tenant" --reason "leaked" --yes --revoke-backend db+redis >"$work/out" 2>&1
check "revoke with db+redis exits 0" [ $? -eq 0 ]
check "... SET revoked_key:<id> in Redis" [ "$(redis-cli -u "$redis_url" EXISTS "revoked_key:$k1")" = 1 ]
check "... with no expiry" [ "$(redis-cli -u "$redis_url" TTL "revoked_key:$k1")" = -1 ]
check "... and revoked in the database" [ "$(tsql -c "SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = '$k1'")" = t ]
k2=$(newkey two)
act revoke "$k2" --tenant "$tenant" --reason "leaked" --yes --revoke-backend db+redis --prefix-revoked-key "rk:" >/dev/null 2>&1
check "the Redis prefix is configurable (prefix-revoked-key)" [ "$(redis-cli -u "$redis_url" EXISTS "rk:$k2")" = 1 ]
k3=$(newkey three)
"$SECTOP" revoke "$k3" --tenant "$tenant" --reason "leaked" --yes --revoke-backend db+redis --db "$SECTOP_TEST_DB" \
	--redis "redis://127.0.0.1:$port/0" --server-timeout 1s </dev/null >"$work/out" 2>"$work/err"
check "Redis down: exit 6 (failed)" [ $? -eq 6 ]
check "... the key is revoked in the database all the same" [ "$(tsql -c "SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = '$k3'")" = t ]
check "... and the message says it is not in Redis" grep -q "in the database, but NOT in Redis" "$work/err"
check "... journalled as failed, applied" grep "\"phase\":\"result\"" "$journal" | tail -1 | grep -q '"applied":true.*"backend_status":"failed".*"status":"failed"'
check "... and audited (the database changed)" [ "$(tsql -c "SELECT details->>'backend_status' FROM audit_log WHERE user_id = '$op' AND action = 'api_key_revoked' AND resource_id = '$k3'")" = failed ]
k4=$(newkey four)
act revoke "$k4" --tenant "$tenant" --reason "leaked" --yes --revoke-backend db+webhook --revoke-webhook "$hook/ok/revoke" \
	--revoke-token-env ROT_TOKEN >/dev/null 2>&1
check "revoke with db+webhook exits 0" [ $? -eq 0 ]
check "... the webhook got the key id, tenant and token" [ "$(hookq '(json.loads(r["body"])["key_id"], json.loads(r["body"])["tenant"], r["headers"]["Authorization"])')" = "('$k4', '$tenant', 'Bearer $ROT_TOKEN')" ]
k5=$(newkey five)
act revoke "$k5" --tenant "$tenant" --reason "leaked" --yes --revoke-backend db+webhook --revoke-webhook "$hook/fail/revoke" \
	--revoke-token-env ROT_TOKEN >/dev/null 2>"$work/err"
check "a failing revocation webhook: exit 6, revoked in the database, said so" [ $? -eq 6 ] && grep -q "in the database, but the revocation webhook" "$work/err" && [ "$(tsql -c "SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = '$k5'")" = t ]
k6=$(newkey six)
act revoke "$k6" --tenant "$tenant" --reason "leaked" --dry-run --revoke-backend db+redis >"$work/out" 2>&1
check "a dry run shows the SET and sets nothing" grep -q "then SET revoked_key:$k6" "$work/out" && [ "$(redis-cli -u "$redis_url" EXISTS "revoked_key:$k6")" = 0 ]
act revoke "$k6" --tenant "$tenant" --reason "x" --yes --revoke-backend db+kafka >/dev/null 2>"$work/err"
check "an unknown back end is refused at start-up" [ $? -eq 2 ] && grep -q "revoke-backend" "$work/err"
check "the token is nowhere in the journal at the end" bash -c '! grep -qF -- "$1" "$2"' _ "$ROT_TOKEN" "$journal"
finish
