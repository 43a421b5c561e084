#!/usr/bin/env bash
# feed.sh: live traffic for the demo, until killed.
#
# Every second it inserts a tick of traffic with sectop_demo_tick() (from
# scripts/seed.sql: ordinary events plus the brute force going on), then
# mirrors what those requests would have done to Redis, as the API servers
# do (contract/redis-keys.md):
#   every request      INCR ratelimit:<ip>, EXPIRE 60 NX (a fixed window)
#   failed auth        INCR failed_auth:<ip>, EXPIRE 300 NX (a fixed window)
#   more than 10 fails SET blocked:<ip> 1 EX 3600 NX
# NX on the windows: the TTL is set by the first hit, so a window ends 300
# (or 60) seconds after it began, however busy; a slow attacker's counter
# starts again.  NX on the block: an operator's block (sectop's JSON value)
# is neither overwritten nor extended.  Unblock an address while its failure
# counter is still above 10 and the servers block it again, as real ones would.
#
# Environment: SECTOP_TEST_DB + PGPASSFILE, SECTOP_TEST_REDIS_PORT (or
# SECTOP_TEST_REDIS) + REDISCLI_AUTH; FEED_NORMAL and FEED_ATTACK, ordinary
# and brute-force events per minute (defaults 60 and 60; a one-second tick
# gets the fraction now and then).
set -euo pipefail

: "${SECTOP_TEST_DB:?set SECTOP_TEST_DB (scripts/stack.sh does)}"
port=${SECTOP_TEST_REDIS_PORT:-}
if [[ -z $port && ${SECTOP_TEST_REDIS:-} =~ ^redis://[^/]*:([0-9]+) ]]; then
	port=${BASH_REMATCH[1]}
fi
[[ -n $port ]] || { echo "feed: set SECTOP_TEST_REDIS_PORT" >&2; exit 2; }
normal=${FEED_NORMAL:-60}
attack=${FEED_ATTACK:-60}
[[ $normal =~ ^[0-9]+$ && $attack =~ ^[0-9]+$ ]] || { echo "feed: FEED_NORMAL/FEED_ATTACK must be integers" >&2; exit 2; }
psql_bin=psql
[[ -n ${SECTOP_TEST_PG_BIN:-} ]] && psql_bin=$SECTOP_TEST_PG_BIN/psql

# One round trip per failing address: count, refresh the window, block.
# shellcheck disable=SC2016  # Lua, not shell
lua='local n = redis.call("INCRBY", KEYS[1], ARGV[1]) redis.call("EXPIRE", KEYS[1], 300, "NX") if n > 10 then redis.call("SET", KEYS[2], "1", "EX", 3600, "NX") end return n'

trap 'exit 0' TERM INT HUP

# per_tick RATE: events for one tick of a per-minute rate:
# the whole part, plus one with the probability of the rest.
per_tick() { echo $(($1 / 60 + (RANDOM % 60 < $1 % 60 ? 1 : 0))); }

# tick: one tick of traffic; prints "ip requests failures" lines.
tick() {
	"$psql_bin" -X -q -A -t -F ' ' "$SECTOP_TEST_DB" \
		-c "SELECT ip, requests, failures FROM sectop_demo_tick($(per_tick "$normal"), $(per_tick "$attack"))"
}

# mirror: Redis commands for the tick's lines, for redis-cli's stdin.
mirror() {
	local ip req fail
	while read -r ip req fail; do
		[[ -n $ip ]] || continue
		printf 'INCRBY "ratelimit:%s" %d\nEXPIRE "ratelimit:%s" 60 NX\n' "$ip" "$req" "$ip"
		if ((fail > 0)); then
			printf "EVAL '%s' 2 \"failed_auth:%s\" \"blocked:%s\" %d\n" "$lua" "$ip" "$ip" "$fail"
		fi
	done
}

parent=$PPID
while :; do
	# Whoever started us is gone (killed without cleaning up): stop too.
	kill -0 "$parent" 2>/dev/null || exit 0
	# A server that is down (a fault drill, a restart) only skips ticks.
	if out=$(tick 2>/dev/null); then
		mirror <<<"$out" | redis-cli -h 127.0.0.1 -p "$port" >/dev/null 2>&1 || true
	fi
	sleep 1
done
