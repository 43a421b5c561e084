#!/usr/bin/env bash
# The allow-list against the real Redis and PostgreSQL: a block or extend
# of an allow-listed address is refused (exit 5) naming the entry, with
# --bypass-allow only when "bypass ADDRESS" is typed (never by --yes); the
# allow-file is read again when it changes; an expired entry no longer
# holds; the snapshot marks allow-listed addresses, and a block the servers
# set on one is an alert.
. "$(dirname "$0")/lib.sh"
need_servers SECTOP_TEST_DB SECTOP_TEST_REDIS

work=$(mktemp -d)
db=16
redis_url="${SECTOP_TEST_REDIS%/*}/$db"
export XDG_STATE_HOME=$work/state SECTOP_OPERATOR=dana
table="allow_audit_$$"
trap 'redis-cli -u "$redis_url" FLUSHDB >/dev/null 2>&1; tsql -c "DROP TABLE IF EXISTS $table" >/dev/null 2>&1; tsql -c "DELETE FROM audit_log WHERE user_id = '"'"'dana'"'"'" >/dev/null 2>&1; rm -rf "$work"' EXIT
redis-cli -u "$redis_url" FLUSHDB >/dev/null
rget() { redis-cli -u "$redis_url" "$@"; }
cat >"$work/allow" <<'TXT'
# offices
198.51.100.0/24 note=HQ office
2001:db8:bad::/48   # the monitor
TXT
printf 'allow = 203.0.113.0/28 note=partner API\nallow = 192.0.2.0/24 until=2020-01-01\nallow-file = %s\n' "$work/allow" >"$work/sectop.conf"
chmod 600 "$work/sectop.conf"
act() { "$SECTOP" -c "$work/sectop.conf" --db "$SECTOP_TEST_DB" --redis "$redis_url" "$@"; }

act block 203.0.113.5 --reason x --yes </dev/null >"$work/out" 2>&1
check "an allow-listed address: refused (exit 5)" [ $? -eq 5 ] && [ "$(rget EXISTS blocked:203.0.113.5)" = 0 ]
check "... naming the entry and its note" grep -q "allow-listed by 203.0.113.0/28 (allow setting 1, note: partner API)" "$work/out"
act block 198.51.100.77 --reason x --yes </dev/null >"$work/out" 2>&1
check "one of the allow-file: refused, naming its line" [ $? -eq 5 ] && grep -q "allow:2, note: HQ office" "$work/out"
act block 2001:db8:bad:1::9 --reason x --yes </dev/null >"$work/out" 2>&1
check "an IPv6 network of the file" [ $? -eq 5 ]
act block 192.0.2.9 --reason "expired entry" --yes </dev/null >/dev/null 2>&1
check "an entry past its until= no longer holds" [ $? -eq 0 ] && [ "$(rget EXISTS blocked:192.0.2.9)" = 1 ]
rget SET blocked:203.0.113.6 '{"by":"erin","reason":"r","at":1}' EX 600 >/dev/null
act extend 203.0.113.6 --reason x --yes </dev/null >/dev/null 2>&1
check "extend of an allow-listed address: refused too" [ $? -eq 5 ] && [ "$(rget TTL blocked:203.0.113.6)" -le 600 ]
act unblock 203.0.113.6 --reason x --yes </dev/null >/dev/null 2>&1
check "unblock is never refused" [ $? -eq 0 ]

act block 203.0.113.5 --reason x --yes --bypass-allow </dev/null >"$work/out" 2>&1
check "--bypass-allow with --yes and no terminal: still refused" [ $? -eq 5 ] && [ "$(rget EXISTS blocked:203.0.113.5)" = 0 ]
check "... saying what must be typed" grep -q "needs 'bypass ADDRESS' typed" "$work/out"
on_prompt true "yes 203.0.113.5" "$SECTOP" -c "$work/sectop.conf" block 203.0.113.5 --reason x --bypass-allow \
	--db "$SECTOP_TEST_DB" --redis "$redis_url" >"$work/out" 2>&1
check "'yes ADDRESS' is not the bypass" [ $? -eq 5 ] && [ "$(rget EXISTS blocked:203.0.113.5)" = 0 ]
on_prompt true "bypass 203.0.113.5" "$SECTOP" -c "$work/sectop.conf" block 203.0.113.5 --reason "partner compromised" \
	--bypass-allow --db "$SECTOP_TEST_DB" --redis "$redis_url" >"$work/out" 2>&1
check "'bypass ADDRESS' typed: blocked" [ $? -eq 0 ] && [ "$(rget EXISTS blocked:203.0.113.5)" = 1 ]
check "... the plan warned, naming the entry" grep -q "WARNING: ALLOW-LISTED by 203.0.113.0/28" "$work/out"

# the file is read again when it changes
printf '10.0.0.0/8\n' >"$work/allow.new" && mv "$work/allow.new" "$work/allow"
act block 198.51.100.77 --reason "HQ left the list" --yes </dev/null >/dev/null 2>&1
check "an entry gone from the file no longer holds" [ $? -eq 0 ]
printf '198.51.100.0/24\nnot-a-network\n' >"$work/allow"
act block 198.51.100.78 --reason x --yes </dev/null >"$work/out" 2>&1
check "a broken allow-file at start: exit 2, naming the line" [ $? -eq 2 ] && grep -q "allow:2" "$work/out"
printf '198.51.100.0/24\n' >"$work/allow"

# --- the snapshot marks them; a server's block of one is an alert -------------
tsql -c "CREATE TABLE $table (LIKE audit_log INCLUDING ALL)"
tsql -c "INSERT INTO $table (tenant_id, action, ip_address, status_code)
	SELECT 'acme', 'failed_auth', '198.51.100.40', 401 FROM generate_series(1, 5)"
rget SET blocked:198.51.100.41 1 EX 600 >/dev/null
act --table "$table" snapshot --format json >"$work/s.json" 2>/dev/null
check "top address: allow_listed names the entry" \
	[ "$(jpath "$work/s.json" '[i["allow_listed"] for i in d["top_ips"] if i["ip"] == "198.51.100.40"][0]')" = "198.51.100.0/24 ($work/allow:1)" ]
check "a server's block of an allow-listed address is an alert" \
	[ "$(jpath "$work/s.json" '[(b["allow_listed"] is not None, b["alert"]) for b in d["blocked"] if b["ip"] == "198.51.100.41"][0]')" = "(True, True)" ]
check "an operator's block of one outside the list is not" \
	[ "$(jpath "$work/s.json" '[(b["allow_listed"], b["alert"]) for b in d["blocked"] if b["ip"] == "192.0.2.9"][0]')" = "(None, False)" ]
finish
