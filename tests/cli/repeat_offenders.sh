#!/usr/bin/env bash
# Repeat offenders: without --ttl, a block lasts the step of block-ttl-steps
# (1h, 6h, 24h, 7d) that the address's earlier operator blocks in the audit
# log reach within block-memory (30 days; drills and older blocks left out);
# the preview, --dry-run's JSON and the result say which step and why;
# --ttl wins; PostgreSQL down gives the first step, said so.
. "$(dirname "$0")/lib.sh"
need_servers SECTOP_TEST_DB SECTOP_TEST_REDIS

work=$(mktemp -d)
redis_url="${SECTOP_TEST_REDIS%/*}/17"
table="repeat_audit_$$"
export XDG_STATE_HOME=$work/state SECTOP_OPERATOR=gina
trap 'redis-cli -u "$redis_url" FLUSHDB >/dev/null 2>&1; tsql -c "DROP TABLE IF EXISTS $table" >/dev/null 2>&1; rm -rf "$work"' EXIT
redis-cli -u "$redis_url" FLUSHDB >/dev/null
tsql -c "CREATE TABLE $table (LIKE audit_log INCLUDING ALL)"
tsql <<SQL
INSERT INTO $table ("timestamp", user_id, action, resource_type, resource_id, details) VALUES
  (now() - interval '2 days', 'alice', 'ip_blocked', 'ip', '203.0.113.20', '{"mode":"live"}'),
  (now() - interval '9 days', 'bob', 'ip_blocked', 'ip', '203.0.113.20', '{"mode":"live"}'),
  (now() - interval '40 days', 'bob', 'ip_blocked', 'ip', '203.0.113.20', '{"mode":"live"}'),
  (now() - interval '1 day', 'drill', 'ip_blocked', 'ip', '203.0.113.20', '{"mode":"drill"}'),
  (now() - interval '1 day', 'carl', 'ip_unblocked', 'ip', '203.0.113.20', NULL);
INSERT INTO $table ("timestamp", user_id, action, resource_type, resource_id)
SELECT now() - g * interval '1 day', 'alice', 'ip_blocked', 'ip', '203.0.113.21' FROM generate_series(1, 10) g;
SQL
act() { "$SECTOP" --db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" "$@" </dev/null; }
rttl() { redis-cli -u "$redis_url" TTL "blocked:$1"; }

act block 203.0.113.20 --reason again --dry-run --format json >"$work/dry.json" 2>&1
check "dry run: the 3rd block in 30 days is step 3" \
	[ "$(jpath "$work/dry.json" '(d["ttl_s"], d["ttl_step"]["step"], d["ttl_step"]["earlier_blocks"], d["ttl_step"]["why"])')" = \
	  "(86400, 3, 2, '3rd block in 30 days: step 3 of 4')" ]
act block 203.0.113.20 --reason again --yes >"$work/out" 2>&1
check "the block is done" [ $? -eq 0 ]
check "... the preview said the step" grep -q "time to live: 1d, the 3rd block in 30 days: step 3 of 4" "$work/out"
check "... the result too" grep -q "203.0.113.20 blocked for 1d (3rd block in 30 days: step 3 of 4)" "$work/out"
ttl=$(rttl 203.0.113.20)
check "... with that time to live ($ttl)" [ "$ttl" -gt 86300 ] && [ "$ttl" -le 86400 ]
act block 203.0.113.22 --reason first --yes >"$work/out" 2>&1
check "a first offence: step 1 (1h)" [ "$(rttl 203.0.113.22)" -gt 3500 ] && grep -q "1st block in 30 days: step 1 of 4" "$work/out"
act block 203.0.113.21 --reason many --yes >/dev/null 2>&1
check "ten earlier blocks: the last step (7d)" [ "$(rttl 203.0.113.21)" -gt 604000 ]
act block 203.0.113.23 --reason fixed --ttl 10m --yes --format json >"$work/fixed.json" 2>&1
check "--ttl wins, no step" [ "$(jpath "$work/fixed.json" '(d["ttl_s"], d["ttl_step"])')" = "(600, None)" ] &&
	[ "$(rttl 203.0.113.23)" -le 600 ]
act block 203.0.113.24 --reason custom --block-ttl-steps 5m,2h --block-memory 1d --dry-run --format json >"$work/c.json" 2>&1
check "steps and memory are settings" [ "$(jpath "$work/c.json" 'd["ttl_s"], d["ttl_step"]["why"]')" = "(300, '1st block in 1 day: step 1 of 2')" ]
act block 203.0.113.24 --reason x --block-ttl-steps 2h,5m --yes >"$work/bad" 2>&1
check "steps that shrink are refused (exit 2)" [ $? -eq 2 ]
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$SECTOP" block 203.0.113.25 --reason "pg down" --yes --db "host=127.0.0.1 port=$port dbname=x user=x" \
	--redis "$redis_url" --server-timeout 1s </dev/null >"$work/down" 2>&1
check "PostgreSQL down: blocked at step 1, saying why" [ "$(rttl 203.0.113.25)" -gt 3500 ] &&
	grep -q "step 1 of 4: its earlier blocks are unknown" "$work/down"
finish
