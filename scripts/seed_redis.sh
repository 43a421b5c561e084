#!/usr/bin/env bash
# seed_redis.sh: the Redis side of the demo, as the API servers (and an
# earlier sectop session) would have left it while the attack in
# scripts/seed.sql goes on.  See contract/redis-keys.md.
#
#   SECTOP_TEST_REDIS_PORT=N REDISCLI_AUTH=... scripts/seed_redis.sh
#
# With SECTOP_TEST_DB set (and PGPASSFILE), the rate-limit counters go to
# the addresses that were busiest in the last hour of audit_log.
# Writes with one `redis-cli --pipe` (RESP built by python3, so key names
# may hold any byte); the password travels in REDISCLI_AUTH, never in argv.
set -euo pipefail

port=${SECTOP_TEST_REDIS_PORT:-}
if [[ -z $port && ${SECTOP_TEST_REDIS:-} =~ ^redis://[^/]*:([0-9]+) ]]; then
	port=${BASH_REMATCH[1]}
fi
[[ -n $port ]] || { echo "seed_redis: set SECTOP_TEST_REDIS_PORT" >&2; exit 2; }
if [[ -x /usr/bin/python3 ]]; then PY=/usr/bin/python3; else PY=python3; fi

busy=""
if [[ -n ${SECTOP_TEST_DB:-} ]]; then
	psql_bin=psql
	[[ -n ${SECTOP_TEST_PG_BIN:-} ]] && psql_bin=$SECTOP_TEST_PG_BIN/psql
	busy=$("$psql_bin" -X -At "$SECTOP_TEST_DB" -c "
		SELECT host(ip_address) FROM audit_log
		 WHERE \"timestamp\" > now() - interval '1 hour' AND ip_address IS NOT NULL
		 GROUP BY 1 ORDER BY count(*) DESC LIMIT 15" 2>/dev/null | tr '\n' ' ' || true)
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# redis-cli --pipe ends its report with "errors: N, replies: M".
if ! SEED_BUSY_IPS=$busy "$PY" - <<'EOF' | redis-cli -h 127.0.0.1 -p "$port" --pipe >"$log" 2>&1
import json, os, random, sys, time

rnd = random.Random(42)          # the same keys every run
out = sys.stdout.buffer
now = int(time.time())

def cmd(*args):
    parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    out.write(b"*%d\r\n" % len(parts))
    for p in parts:
        out.write(b"$%d\r\n%s\r\n" % (len(p), p))

# The attack (scripts/seed.sql): two addresses already blocked, one by the
# servers' automatic rule (value 1), one by alice through sectop (JSON); one
# just under the 10-failure threshold, so the live feeder tips it over; the
# low-and-slow one far under it.
for ip, n in (("203.0.113.45", 41), ("2001:db8:bad:1::17", 33),
              ("198.51.100.23", 9), ("192.0.2.77", 3)):
    cmd("SET", "failed_auth:" + ip, n, "EX", 300 - rnd.randint(0, 60))
cmd("SET", "blocked:203.0.113.45", "1", "EX", 3600 - 480)
cmd("SET", "blocked:2001:db8:bad:1::17",
    json.dumps({"by": "alice", "reason": "credential stuffing", "at": now - 300},
               separators=(",", ":")), "EX", 3600 - 300)
# An old permanent block without a TTL, and a few stray failures.
cmd("SET", "blocked:45.155.205.233",
    json.dumps({"by": "bob", "reason": "scanner, permanent", "at": now - 86400 * 9},
               separators=(",", ":")))
for ip in ("81.2.69.160", "2a02:c207:2043:1211::1", "93.184.216.34"):
    cmd("SET", "failed_auth:" + ip, rnd.randint(1, 3), "EX", rnd.randint(30, 300))

# Rate-limit windows (limit 100 per 60 s) of the busiest clients.
busy = os.environ.get("SEED_BUSY_IPS", "").split() or [
    "188.194.131.163", "93.53.117.145", "217.208.193.51", "151.244.168.228",
    "2800:3f0:cdbd:26ab:614e::8a31", "203.0.113.45", "198.51.100.23"]
for i, ip in enumerate(busy):
    cmd("SET", "ratelimit:" + ip, max(1, int(140 / (i + 1) ** 0.7) + rnd.randint(-5, 5)),
        "EX", rnd.randint(2, 60))

# Hostile and malformed keys: sectop must show them harmlessly, not choke.
cmd("SET", b"blocked:\x1b]0;pwned\x07", "1", "EX", 3600)
cmd("SET", "failed_auth:not-an-ip", 5, "EX", 300)
cmd("HSET", "failed_auth:203.0.113.9", "a", "b")                  # wrong type
cmd("SET", b"blocked:\xff\xfe\x00binary", "1", "EX", 3600)       # not UTF-8, a NUL
cmd("SET", "blocked:2001:DB8::1", "1", "EX", 3600)                # not canonical
cmd("SET", "ratelimit:999.1.2.3", 7, "EX", 60)
cmd("SET", "blocked:" + "9" * 300, "1", "EX", 3600)               # long name
cmd("SET", "blocked:198.51.100.7", "\u202e\x1b[31mred".encode() + b" value", "EX", 3600)

# The rest of the keyspace: sessions, caches, queues, near-miss names.
tenants = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka"]
for i in range(2000):
    sess = {"user": "user_%d" % rnd.randint(1001, 20900),
            "tenant": rnd.choice(tenants), "csrf": "%032x" % rnd.getrandbits(128)}
    cmd("SET", "session:%032x" % rnd.getrandbits(128), json.dumps(sess), "EX", rnd.randint(60, 1800))
for i in range(1500):
    cmd("SET", "cache:product:%d" % rnd.randint(1, 250000),
        json.dumps({"price": rnd.randint(100, 99999), "stock": rnd.randint(0, 500)}))
for t in tenants:
    cmd("HSET", "cache:tenant:%s:settings" % t, "plan", rnd.choice(["free", "pro", "enterprise"]),
        "mfa_required", rnd.choice(["0", "1"]), "ip_allowlist", "")
cmd("RPUSH", "queue:emails", *["job-%d" % i for i in range(50)])
cmd("SET", "failed_auth_total", 182734)          # matches failed_auth* but not failed_auth:*
cmd("SADD", "blocked_countries", "KP", "IR")
out.flush()
EOF
then
	tail -n 5 "$log" >&2
	exit 1
fi
grep -q "errors: 0," "$log" || { tail -n 5 "$log" >&2; exit 1; }
