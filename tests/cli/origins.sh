#!/usr/bin/env bash
# Where each block came from, against the real Redis: sectop's own blocks
# (an operator, named), a drill's, the servers' plain values, another tool's
# JSON (its "by"), and sectop's older values; the snapshot says origin for
# every block and for a blocked top address.
. "$(dirname "$0")/lib.sh"
need_servers SECTOP_TEST_DB SECTOP_TEST_REDIS

work=$(mktemp -d)
redis_url="${SECTOP_TEST_REDIS%/*}/18"
table="origins_audit_$$"
export XDG_STATE_HOME=$work/state SECTOP_OPERATOR=hana
trap 'redis-cli -u "$redis_url" FLUSHDB >/dev/null 2>&1; tsql -c "DROP TABLE IF EXISTS $table" >/dev/null 2>&1; rm -rf "$work"' EXIT
redis-cli -u "$redis_url" FLUSHDB >/dev/null
tsql -c "CREATE TABLE $table (LIKE audit_log INCLUDING ALL)"
tsql -c "INSERT INTO $table (tenant_id, action, ip_address, status_code) SELECT 'acme', 'failed_auth', '203.0.113.31', 401 FROM generate_series(1, 9)"
rset() { redis-cli -u "$redis_url" SET "blocked:$1" "$2" EX 900 >/dev/null; }
act() { "$SECTOP" --db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" "$@" </dev/null; }

act block 203.0.113.31 --reason "from sectop" --ttl 10m --yes >/dev/null 2>&1
check "sectop's block says it wrote it" python3 -c 'import json,sys; v=json.loads(sys.argv[1]); sys.exit(0 if v["via"] == "sectop" and v["by"] == "hana" and "drill" not in v else 1)' \
	"$(redis-cli -u "$redis_url" GET blocked:203.0.113.31)"
rset 203.0.113.32 1
rset 203.0.113.33 '{"by":"crowdsec","reason":"ssh-bf","duration":"4h"}'
rset 203.0.113.34 '{"by":"ivan","reason":"old","at":1700000000}'
rset 203.0.113.35 '{"by":"judy","reason":"exercise","at":1700000000,"via":"sectop","drill":true}'
rset 203.0.113.36 '{"via":"fail2ban","reason":"sshd"}'
act snapshot --format json --all-blocks >"$work/s.json" 2>/dev/null
origin() { jpath "$work/s.json" "[(b['origin'], b['by']) for b in d['blocked'] if b['ip'] == '$1'][0]"; }
check "an operator's block, by name" [ "$(origin 203.0.113.31)" = "('operator', 'hana')" ]
check "the servers' own (a plain value)" [ "$(origin 203.0.113.32)" = "('servers', None)" ]
check "another tool's JSON, by its by" [ "$(origin 203.0.113.33)" = "('tool', 'crowdsec')" ]
check "sectop's older values are an operator's" [ "$(origin 203.0.113.34)" = "('operator', 'ivan')" ]
check "a drill's" [ "$(origin 203.0.113.35)" = "('drill', 'judy')" ]
check "a tool named only by via" [ "$(origin 203.0.113.36)" = "('tool', 'fail2ban')" ]
check "a blocked top address says its block's origin" \
	[ "$(jpath "$work/s.json" '[i["block_origin"] for i in d["top_ips"] if i["ip"] == "203.0.113.31"][0]')" = operator ]
finish
