#!/usr/bin/env bash
# `sectop snapshot` end to end against the real servers: figures equal an
# independent SQL count and Redis's own answer, hostile strings come out
# inert, exit statuses say what happened, bad configuration exits 2.
. "$(dirname "$0")/lib.sh"
need_servers SECTOP_TEST_DB SECTOP_TEST_REDIS SECTOP_TEST_HTTP

work=$(mktemp -d)
table="audit_log_cli_$$"
db=7
trap 'tsql -c "DROP TABLE IF EXISTS $table" >/dev/null 2>&1; redis-cli -u "$SECTOP_TEST_REDIS" -n $db FLUSHDB >/dev/null 2>&1; rm -rf "$work"' EXIT
redis_url="${SECTOP_TEST_REDIS%/*}/$db"

tsql -c "CREATE TABLE $table (LIKE audit_log INCLUDING ALL)"
tsql <<SQL
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code, user_agent)
SELECT now() - (g % 600) * interval '1 second', 'acme', 'u' || (g % 9), 'failed_auth',
       '198.51.100.23', E'/login\\u202e', 401, E'Mozilla \\x1b]0;owned\\x07 \\x1b[2J'
FROM generate_series(1, 40) g;
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code)
SELECT now() - (g % 600) * interval '1 second', E'evil\\x1b[31mtenant', 'u' || g, 'api_request',
       ('2001:db8::' || (g % 5 + 1))::inet, E'/a\\u202eb', 200
FROM generate_series(1, 30) g;
INSERT INTO $table ("timestamp", tenant_id, action, ip_address, status_code)
VALUES (now(), 'acme', 'unauthorized_access', '2001:db8::1', 403);
SQL
rc() { redis-cli -u "$redis_url" "$@" >/dev/null; }
rc SET "blocked:198.51.100.23" '{"by":"alice","reason":"brute \u001b[5mforce","at":1700000000}' EX 3600
rc SET "failed_auth:198.51.100.23" 37 EX 300
rc SET "blocked:"$'\x1b]0;pwned\x07' 1 EX 100

run() { "$SECTOP" --db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" "$@"; }

# --- JSON ---------------------------------------------------------------
run snapshot --format json --health "ok=$SECTOP_TEST_HTTP/health/ok" >"$work/s.json"
check "snapshot exits 0 when every source answered" [ $? -eq 0 ]
check "the JSON parses" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/s.json"
check "no raw control byte in the JSON" python3 - "$work/s.json" <<'PY'
import sys
b = open(sys.argv[1], 'rb').read()
sys.exit(1 if any(c < 0x20 and c not in (0x0a,) or c == 0x7f or c >= 0x80 for c in b) else 0)
PY
check "sources are ok" [ "$(jpath "$work/s.json" 'd["sources"]["postgres"]["status"]+d["sources"]["redis"]["status"]')" = okok ]
top_ip=$(jpath "$work/s.json" 'd["top_ips"][0]["ip"]')
check "the attacker is the top address" [ "$top_ip" = 198.51.100.23 ]
sql_fail=$(tsql -c "SELECT count(*) FROM $table WHERE ip_address='198.51.100.23' AND \"timestamp\" >= date_trunc('minute', now()) - interval '15 minutes'")
check "its failures equal SQL's count ($sql_fail)" [ "$(jpath "$work/s.json" 'd["top_ips"][0]["failures"]')" = "$sql_fail" ]
check "its Redis state is exact" [ "$(jpath "$work/s.json" '(d["top_ips"][0]["blocked"], d["top_ips"][0]["failed_auth_counter"], 3590 < d["top_ips"][0]["block_ttl_s"] <= 3600)')" = "(True, 37, True)" ]
check "blocked list holds the hostile key, exact" [ "$(jpath "$work/s.json" 'sorted(b["ip"] for b in d["blocked"]) == sorted(["198.51.100.23", "\x1b]0;pwned\x07"])')" = True ]
check "the operator's reason comes back exact" [ "$(jpath "$work/s.json" '[b["reason"] for b in d["blocked"] if b["by"]=="alice"][0] == "brute \x1b[5mforce"')" = True ]
check "the hostile tenant id comes back exact" [ "$(jpath "$work/s.json" 'any(t["tenant_id"]=="evil\x1b[31mtenant" for t in d["tenants"])')" = True ]
check "health endpoint checked" [ "$(jpath "$work/s.json" 'd["health"][0]["status"], d["health"][0]["http_status"]')" = "('healthy', 200)" ]
check "CORS * is a finding" [ "$(jpath "$work/s.json" 'any("*" in f for f in d["health"][0]["findings"])')" = True ]
check "recent failures newest first" [ "$(jpath "$work/s.json" '[e["timestamp"] for e in d["recent_failures"]] == sorted([e["timestamp"] for e in d["recent_failures"]], reverse=True)')" = True ]
check "60 buckets per minute" [ "$(jpath "$work/s.json" 'len(d["failures_per_minute"])')" = 60 ]
total_sql=$(tsql -c "SELECT count(*) FROM $table WHERE \"timestamp\" >= date_trunc('minute', now()) - interval '59 minutes' AND (action IN ('failed_auth','unauthorized_access','authentication_failed') OR status_code IN (401,403))")
check "failures per minute add up to SQL's count ($total_sql)" [ "$(jpath "$work/s.json" 'sum(d["failures_per_minute"])')" = "$total_sql" ]

# --- text: inert -----------------------------------------------------------
run snapshot >"$work/s.txt"
check "text snapshot exits 0" [ $? -eq 0 ]
check "no ESC, BEL or bidi control in the text" python3 - "$work/s.txt" <<'PY'
import sys
t = open(sys.argv[1], 'rb').read()
bad = [b for b in (b'\x1b', b'\x07', b'\x9b', '\u202e'.encode()) if b in t]
sys.exit(1 if bad else 0)
PY
check "escapes are visible instead" grep -qF '\x1b]0;' "$work/s.txt"
check "bidi override shown as a notation" grep -qF '<U+202E>' "$work/s.txt"

# --- tenant scope and window ----------------------------------------------
run snapshot --format json --tenant acme --window 5m >"$work/t.json"
check "tenant scope: one tenant" [ "$(jpath "$work/t.json" '[t["tenant_id"] for t in d["tenants"]]')" = "['acme']" ]
check "window 5m is 300 s" [ "$(jpath "$work/t.json" 'd["window_s"]')" = 300 ]
sql5=$(tsql -c "SELECT count(*) FROM $table WHERE ip_address='198.51.100.23' AND \"timestamp\" >= date_trunc('minute', now()) - interval '5 minutes'")
check "5-minute figures equal SQL ($sql5)" [ "$(jpath "$work/t.json" 'd["top_ips"][0]["failures"]')" = "$sql5" ]
"$SECTOP" snapshot --db "$SECTOP_TEST_DB" --redis "$redis_url" --format json --table "$table" >/dev/null
check "global options after the command" [ $? -eq 0 ]

# --- sources down: exit 3, the rest still reported --------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run snapshot --format json --redis "redis://127.0.0.1:$port/0" --timeout 5s >"$work/d.json"
check "a source down gives exit 3" [ $? -eq 3 ]
check "redis down, postgres still ok" [ "$(jpath "$work/d.json" 'd["sources"]["redis"]["status"], d["sources"]["postgres"]["status"]')" = "('down', 'ok')" ]
check "the reason is given" [ "$(jpath "$work/d.json" '"refused" in d["sources"]["redis"]["error"].lower()')" = True ]
start=$(date +%s)
run snapshot --format json --health "slow=$SECTOP_TEST_HTTP/health/slow timeout=1s" --timeout 5s >"$work/h.json"
check "a hung endpoint gives exit 3" [ $? -eq 3 ]
check "... within its own timeout" [ $(( $(date +%s) - start )) -le 4 ]
check "... and is down with a reason" [ "$(jpath "$work/h.json" 'd["health"][0]["status"]')" = down ]

# --- configuration errors: exit 2, file:line, nothing on stdout --------------
printf 'window = 1h\nrefresh = soon\n' >"$work/bad.conf"
out=$("$SECTOP" --config "$work/bad.conf" snapshot 2>"$work/err")
check "a bad config line exits 2" [ $? -eq 2 ]
check "... naming file:line" grep -qF "$work/bad.conf:2: refresh: 'soon'" "$work/err"
check "... with nothing on stdout" [ -z "$out" ]
printf 'db = host=x password=hunter2\n' >"$work/secret.conf"
chmod 644 "$work/secret.conf"
"$SECTOP" --config "$work/secret.conf" snapshot >/dev/null 2>"$work/err"
check "a readable file with a password is refused" [ $? -eq 2 ]
check "... saying why" grep -q "holds a password but can be read by others" "$work/err"
"$SECTOP" --bogus snapshot >/dev/null 2>&1
check "an unknown option exits 2" [ $? -eq 2 ]
"$SECTOP" --window 3x snapshot >/dev/null 2>&1
check "a bad window exits 2" [ $? -eq 2 ]

# --- many blocks: a count, the most relevant, and the full list on request ---
redis-cli -u "$redis_url" DEBUG POPULATE 5000 blocked:203.0.113. 1 >/dev/null
run snapshot --format json --blocked-max 5 >"$work/few.json"
check "the count covers every block key (5,002)" [ "$(jpath "$work/few.json" 'd["blocked_count"]')" = 5002 ]
check "only blocked-max of them are listed" [ "$(jpath "$work/few.json" 'len(d["blocked"])')" = 5 ]
check "the walk says it is complete" [ "$(jpath "$work/few.json" '(d["redis_walk"]["complete"], d["redis_walk"]["fraction"], d["redis_walk_complete"])')" = "(True, 1.0, True)" ]
# The most relevant: an address on screen (a top address) first when the
# walk knew it as one, then no expiry, in key order.
check "no expiry first: the populated keys, in key order" python3 - "$work/few.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
tops = {i["ip"] for i in d["top_ips"]}
first = [b for b in d["blocked"] if b["ip"] in tops]
rest = [b for b in d["blocked"] if b["ip"] not in tops]
ok = (d["blocked"][:len(first)] == first and [b["ip"] for b in rest] == sorted(b["ip"] for b in rest)
      and all(b["ttl_s"] is None for b in rest) and len(rest) >= 4)
sys.exit(0 if ok else print([(b["ip"], b["ttl_s"]) for b in d["blocked"]], file=sys.stderr) or 1)
PY
run snapshot --format json --all-blocks --blocked-max 5 >"$work/all.json"
check "--all-blocks exits 0" [ $? -eq 0 ]
check "--all-blocks JSON parses" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/all.json"
check "--all-blocks lists every key once, exact" [ "$(jpath "$work/all.json" 'len(d["blocked"]) == len(set(b["ip"] for b in d["blocked"])) == d["blocked_count"] == 5002')" = True ]
redis-cli -u "$redis_url" --scan --pattern 'blocked:*' | sed 's/^blocked://' | sort >"$work/keys.redis"
jpath "$work/all.json" '"\n".join(b["ip"] for b in d["blocked"] if b["ip"].isprintable())' | sort >"$work/keys.listed"
check "--all-blocks holds what Redis holds" [ "$(grep -c . "$work/keys.listed")" = 5001 ] && diff <(grep -v $'\x1b' "$work/keys.redis") "$work/keys.listed" >/dev/null
check "--all-blocks: the hostile key is listed exact" [ "$(jpath "$work/all.json" '"\x1b]0;pwned\x07" in [b["ip"] for b in d["blocked"]]')" = True ]
check "--all-blocks: the rest of the snapshot is there" [ "$(jpath "$work/all.json" 'd["top_ips"][0]["ip"], d["sources"]["redis"]["status"]')" = "('198.51.100.23', 'ok')" ]
check "no raw control byte in the streamed JSON" python3 - "$work/all.json" <<'PY'
import sys
b = open(sys.argv[1], 'rb').read()
sys.exit(1 if any(c < 0x20 and c not in (0x0a,) or c == 0x7f or c >= 0x80 for c in b) else 0)
PY
run snapshot --all-blocks >"$work/all.txt"
check "--all-blocks text: one line per key and the count" [ "$(grep -c 's  by ' "$work/all.txt")" = 5002 ] && grep -qF '  5,002 block keys' "$work/all.txt"
check "--all-blocks text: nothing raw" [ "$(grep -c $'\x1b' "$work/all.txt")" = 0 ]
redis-cli -u "$redis_url" EVAL "for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end" 0 'blocked:203.0.113.*' >/dev/null

# --- the rest of the command line ------------------------------------------
check "--help" bash -c '"$SECTOP" --help | grep -q "usage: sectop"'
check "--help after a command" bash -c '"$SECTOP" snapshot --help | grep -q "usage: sectop"'
check "--version" bash -c '"$SECTOP" --version | grep -q "^sectop [0-9]"'
"$SECTOP" --print-indexes >"$work/idx.sql"
check "--print-indexes prints DDL" grep -q 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "audit_log_ts_id"' "$work/idx.sql"
indexes_apply() { sed "s/audit_log/$table/g; s/ CONCURRENTLY//" "$work/idx.sql" | tsql >/dev/null; }
check "the printed indexes are valid SQL" indexes_apply
check "the console refuses to run without a terminal" bash -c '! "$SECTOP" </dev/null >/dev/null 2>&1'
finish
