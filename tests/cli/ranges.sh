#!/usr/bin/env bash
# Range block and unblock against the real Redis and PostgreSQL: the
# members are the range's addresses that failed in the window (not those
# outside it, out of the window, or that only succeeded); range-max caps
# them (refused, saying how many); ranges wider than /16 or /48 are
# refused, and a range where one address is meant; allow-listed, private
# and already-blocked members are skipped, saying why; one journal record,
# an audit row per address carrying the range; unblock removes only the
# keys the range block set; --dry-run and --read-only write nothing.
. "$(dirname "$0")/lib.sh"
need_servers SECTOP_TEST_DB SECTOP_TEST_REDIS

work=$(mktemp -d)
redis_url="${SECTOP_TEST_REDIS%/*}/29"
table="range_audit_$$"
export XDG_STATE_HOME=$work/state SECTOP_OPERATOR=rita
journal=$work/state/sectop/journal.jsonl
trap 'redis-cli -u "$redis_url" FLUSHDB >/dev/null 2>&1; tsql -c "DROP TABLE IF EXISTS $table" >/dev/null 2>&1; rm -rf "$work"' EXIT
redis-cli -u "$redis_url" FLUSHDB >/dev/null
rcli() { redis-cli -u "$redis_url" "$@"; }
tsql -c "CREATE TABLE $table (LIKE audit_log INCLUDING ALL)"
tsql <<SQL
INSERT INTO $table (tenant_id, action, ip_address, status_code)
SELECT 'acme', 'failed_auth', ('203.0.113.' || ip)::inet, 401
  FROM (VALUES (1), (2), (3), (4), (6), (9)) v(ip), generate_series(1, 3);
INSERT INTO $table (tenant_id, action, ip_address, status_code) VALUES
  ('acme', 'failed_auth', '203.0.113.1', 401),         -- 203.0.113.1 fails most
  ('acme', 'api_request', '203.0.113.77', 200),        -- in the range, never failed
  ('acme', 'failed_auth', '203.0.114.5', 401),         -- failed, outside the range
  ('acme', 'failed_auth', '2001:db8:bad::1', 401),
  ('acme', 'auth_attempt', '2001:db8:bad::2', 403),
  ('acme', 'failed_auth', '2001:db8:bad:1::1', 401),   -- outside the /64
  ('acme', 'failed_auth', '10.20.0.5', 401);
INSERT INTO $table ("timestamp", tenant_id, action, ip_address, status_code)
  VALUES (now() - interval '3 hours', 'acme', 'failed_auth', '203.0.113.40', 401);   -- out of the window
SQL
printf 'allow = 203.0.113.8/29 note=partner API\n' >"$work/sectop.conf"
chmod 600 "$work/sectop.conf"
act() { "$SECTOP" -c "$work/sectop.conf" --db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" "$@" </dev/null; }
audits() { tsql -c "SELECT count(*) FROM $table WHERE user_id = 'rita' AND action = '$1' AND details->>'range' = '$2'"; }
rcli SET blocked:203.0.113.2 1 EX 600 >/dev/null     # the servers' own block

# --- refusals: nothing written ---------------------------------------------
for wide in 203.0.0.0/15 10.0.0.0/8 0.0.0.0/0 2001:db8::/47 2001:db8::/32; do
	act block "$wide" --reason x --yes >"$work/out" 2>&1
	check "refused: $wide (exit 5)" [ $? -eq 5 ] && grep -q "wider than a /" "$work/out"
done
act block 203.0.113.7/24 --reason x --yes >"$work/out" 2>&1
check "host bits set: refused, naming the network meant" [ $? -eq 5 ] && grep -q "the network is 203.0.113.0/24" "$work/out"
act extend 203.0.113.0/24 --reason x --yes >"$work/out" 2>&1
check "a range where an address is meant (extend): refused, saying so" [ $? -eq 5 ] &&
	grep -q "is a range (CIDR): one address is meant here" "$work/out"
act block 203.0.113.0/24 --yes >"$work/out" 2>&1
check "a reason is required" [ $? -eq 5 ] && grep -q "reason is required" "$work/out"
act block 203.0.113.0/24 --reason x --range-max 2 --yes >"$work/out" 2>&1
check "more members than range-max: refused (exit 5)" [ $? -eq 5 ]
check "... saying how many" grep -q "4 addresses of 203.0.113.0/24 would be blocked (of 6 that failed in the window), more than range-max (2)" "$work/out"
act block 203.0.113.0/24 --reason x --yes --read-only >"$work/out" 2>&1
check "read-only refuses (exit 5)" [ $? -eq 5 ]
check "no key, no journal yet" [ "$(rcli DBSIZE)" = 1 ] && [ ! -s "$journal" ]

# --- dry run: the plan, nothing sent -----------------------------------------
act block 203.0.113.0/24 --reason botnet --dry-run --format json >"$work/dry.json" 2>&1
check "dry run exits 0" [ $? -eq 0 ]
check "the members: failed in the window, in the range, not allow-listed, not blocked" \
	[ "$(jpath "$work/dry.json" 'sorted(d["planned"])')" = "['203.0.113.1', '203.0.113.3', '203.0.113.4', '203.0.113.6']" ]
check "... of the 6 that failed there" [ "$(jpath "$work/dry.json" 'd["failing"]')" = 6 ]
check "the allow-listed member skipped, naming the entry" \
	[ "$(jpath "$work/dry.json" '[s["reason"] for s in d["skipped"] if s["ip"] == "203.0.113.9"][0]')" = \
	  "allow-listed by 203.0.113.8/29 (allow setting 1, note: partner API)" ]
check "the member the servers blocked skipped, saying so" \
	[ "$(jpath "$work/dry.json" '[s["reason"] for s in d["skipped"] if s["ip"] == "203.0.113.2"][0]')" = "already blocked by the servers" ]
check "the TTL step" [ "$(jpath "$work/dry.json" '(d["ttl_s"], d["ttl_step"]["why"])')" = \
	"(3600, '1st block of this range in 30 days: step 1 of 4')" ]
check "dry run: no key written" [ "$(rcli DBSIZE)" = 1 ]
check "... no audit row" [ "$(tsql -c "SELECT count(*) FROM $table WHERE user_id = 'rita'")" = 0 ]
act block 203.0.113.0/24 --reason botnet --dry-run >"$work/dry.txt" 2>&1
check "the text preview lists the addresses" grep -q "to block: 4" "$work/dry.txt" &&
	grep -q "^    203.0.113.1 .* 4 failures" "$work/dry.txt" && grep -q "skipped: 2" "$work/dry.txt"

# --- confirmed by typing the range ---------------------------------------------
on_prompt true "203.0.113.0/25" "$SECTOP" -c "$work/sectop.conf" block 203.0.113.0/24 --reason botnet \
	--db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" >"$work/out" 2>&1
check "another range typed: not confirmed (exit 5), nothing set" [ $? -eq 5 ] && [ "$(rcli DBSIZE)" = 1 ]
on_prompt true "203.0.113.0/24" "$SECTOP" -c "$work/sectop.conf" block 203.0.113.0/24 --reason botnet \
	--db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" --format json >"$work/out" 2>&1
check "the range typed: blocked (exit 0)" [ $? -eq 0 ]
sed -n '/^{/,$p' "$work/out" >"$work/block.json"
check "the JSON names the range and the members blocked" \
	[ "$(jpath "$work/block.json" '(d["range"], sorted(d["blocked"]))')" = \
	  "('203.0.113.0/24', ['203.0.113.1', '203.0.113.3', '203.0.113.4', '203.0.113.6'])" ]
check "one key each, carrying the range" python3 -c '
import json, subprocess, sys
for ip in ("203.0.113.1", "203.0.113.3", "203.0.113.4", "203.0.113.6"):
    v = json.loads(subprocess.check_output(["redis-cli", "-u", sys.argv[1], "GET", "blocked:" + ip]))
    assert v["range"] == "203.0.113.0/24" and v["by"] == "rita" and v["reason"] == "botnet", v
' "$redis_url"
ttl=$(rcli TTL blocked:203.0.113.3)
check "with the step's TTL ($ttl)" [ "$ttl" -gt 3500 ] && [ "$ttl" -le 3600 ]
check "nothing else: not out of the window, outside the range, allow-listed, never failed" \
	[ "$(rcli EXISTS blocked:203.0.113.40 blocked:203.0.114.5 blocked:203.0.113.9 blocked:203.0.113.77)" = 0 ]
check "the servers' block is untouched" [ "$(rcli GET blocked:203.0.113.2)" = 1 ]
check "an audit row per address, each carrying the range" [ "$(audits ip_blocked 203.0.113.0/24)" = 4 ]
check "... each its own address" [ "$(tsql -c "SELECT string_agg(resource_id, ',' ORDER BY resource_id) FROM $table
	WHERE action = 'ip_blocked' AND details->>'range' = '203.0.113.0/24'")" = "203.0.113.1,203.0.113.3,203.0.113.4,203.0.113.6" ]
id=$(jpath "$work/block.json" 'd["journal_id"]')
check "one journal record for the range: intent, result, audited" \
	[ "$(grep -c "\"id\":\"$id\"" "$journal")" = 3 ] && [ "$(grep "\"id\":\"$id\"" "$journal" | grep -c '"phase":"intent"')" = 1 ]
check "... the intent lists the members" grep "\"id\":\"$id\"" "$journal" | grep '"phase":"intent"' |
	grep -q '"members":\["203.0.113.1","203.0.113.3","203.0.113.4","203.0.113.6"\]'
act block 203.0.113.0/24 --reason again --yes >"$work/out" 2>&1
check "blocking it again: nothing to do (exit 4)" [ $? -eq 4 ] && grep -q "nothing to block" "$work/out"

# --- IPv6, and private members ---------------------------------------------------
act block 2001:db8:bad::/64 --reason v6 --yes --format json >"$work/v6.json" 2>&1
check "an IPv6 /64: its two failing addresses" [ $? -eq 0 ] &&
	[ "$(jpath "$work/v6.json" 'sorted(d["blocked"])')" = "['2001:db8:bad::1', '2001:db8:bad::2']" ]
check "... not the one outside it" [ "$(rcli EXISTS blocked:2001:db8:bad:1::1)" = 0 ]
act block 10.20.0.0/16 --reason x --yes --format json >"$work/priv.json" 2>&1
check "a private member is skipped, not blocked (exit 4)" [ $? -eq 4 ] && [ "$(rcli EXISTS blocked:10.20.0.5)" = 0 ]
check "... saying why" [ "$(jpath "$work/priv.json" 'd["skipped"][0]["reason"].startswith("a private address")')" = True ]

# --- a hostile value in a member's key reaches the screen sanitised --------------
tsql -c "INSERT INTO $table (tenant_id, action, ip_address, status_code) VALUES ('acme', 'failed_auth', '192.0.2.66', 401)"
rcli SET blocked:192.0.2.66 '{"by":"mallory\u001b]0;pwned\u0007\u001b[2J","reason":"x","at":1,"via":"sectop"}' EX 600 >/dev/null
act block 192.0.2.0/24 --reason x --dry-run >"$work/hostile.txt" 2>&1
check "a member blocked by a hostile 'by': shown, its escapes made visible" grep -q "192.0.2.66 .*already blocked by mallory" "$work/hostile.txt" &&
	! grep -q "$(printf '\033')" "$work/hostile.txt"

# --- unblock: only what the range block set -------------------------------------
rcli SET blocked:203.0.113.6 '{"by":"bob","reason":"single","at":1,"via":"sectop"}' EX 600 >/dev/null  # replaced by bob
lines=$(wc -l <"$journal")
act unblock 203.0.113.0/24 --yes --dry-run --format json >"$work/udry.json" 2>&1
check "unblock dry run: the three keys it would remove" \
	[ "$(jpath "$work/udry.json" 'sorted(d["planned"])')" = "['203.0.113.1', '203.0.113.3', '203.0.113.4']" ] &&
	[ "$(rcli EXISTS blocked:203.0.113.1 blocked:203.0.113.3 blocked:203.0.113.4)" = 3 ]
act unblock 203.0.113.0/24 --yes --read-only >/dev/null 2>&1
check "unblock read-only: refused, nothing removed or journalled" [ $? -eq 5 ] &&
	[ "$(rcli EXISTS blocked:203.0.113.1)" = 1 ] && [ "$(wc -l <"$journal")" = $((lines + 2)) ]
act unblock 203.0.113.0/24 --yes --format json >"$work/unblock.json" 2>&1
check "unblock exits 0" [ $? -eq 0 ]
check "the range block's keys are gone" [ "$(rcli EXISTS blocked:203.0.113.1 blocked:203.0.113.3 blocked:203.0.113.4)" = 0 ]
check "the servers' and bob's are left" [ "$(rcli GET blocked:203.0.113.2)" = 1 ] && [ "$(rcli EXISTS blocked:203.0.113.6)" = 1 ]
check "... and the result says how many it left and why" \
	[ "$(jpath "$work/unblock.json" 'sorted((l["ip"], l["reason"]) for l in d["left"])')" = \
	  "[('203.0.113.2', 'blocked by the servers, not by a block of this range: left alone'), ('203.0.113.6', 'blocked by bob (a single block), not by a block of this range: left alone')]" ] &&
	grep -q "2 blocks in the range left alone" "$work/unblock.json"
check "an unblock audit row per address, carrying the range" [ "$(audits ip_unblocked 203.0.113.0/24)" = 3 ]
check "the IPv6 range's keys are still there" [ "$(rcli EXISTS blocked:2001:db8:bad::1 blocked:2001:db8:bad::2)" = 2 ]
act unblock 2001:db8:bad::/64 --yes >/dev/null 2>&1
check "... until it is unblocked" [ $? -eq 0 ] && [ "$(rcli EXISTS blocked:2001:db8:bad::1 blocked:2001:db8:bad::2)" = 0 ]
# --- killed after the keys were set, before the result: reconciled -------------
SECTOP_STOP_AT=executed "$SECTOP" -c "$work/sectop.conf" --db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" \
	block 203.0.113.0/24 --reason killed --yes </dev/null >/dev/null 2>&1 &
victim=$!
for _ in $(seq 100); do [[ $(ps -o stat= -p "$victim" 2>/dev/null) == T* ]] && break; sleep 0.1; done
kill -KILL "$victim"; wait "$victim" 2>/dev/null
check "killed after executing: the keys are set" [ "$(rcli EXISTS blocked:203.0.113.1 blocked:203.0.113.3 blocked:203.0.113.4)" = 3 ]
act unblock 198.51.100.1 --yes >/dev/null 2>&1
check "the next command journals it 'interrupted: applied', with the addresses" python3 - "$journal" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ids = {r["id"] for r in recs if r.get("phase") == "intent" and r.get("reason") == "killed"}
res = [r for r in recs if r.get("phase") == "result" and r["id"] in ids]
assert len(ids) == 1 and len(res) == 1, (ids, res)
assert res[0]["outcome"] == "interrupted: applied" and sorted(res[0]["done"]) == ["203.0.113.1", "203.0.113.3", "203.0.113.4"], res
assert any(r.get("phase") == "audited" and r["id"] in ids for r in recs)
PY
check "... and audits each address with the range" [ "$(tsql -c "SELECT count(*) FROM $table WHERE user_id = 'rita'
	AND action = 'ip_blocked' AND details->>'reason' = 'killed' AND details->>'range' = '203.0.113.0/24'")" = 3 ]
finish
