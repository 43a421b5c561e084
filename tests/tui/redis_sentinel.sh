#!/usr/bin/env bash
# Redis Sentinel, against real servers this test starts on loopback: a
# master, its replica and a sentinel (with its own password), named by a
# redis-sentinel:// URL whose first sentinel is down.  A snapshot and an
# action find the master through the sentinels; a console keeps running
# through a SENTINEL FAILOVER and follows the new master (a key set there
# is counted); an action after the failover writes to the new master.
# Figures are checked against redis-cli on the master itself, and no server
# ever ran KEYS.
. "$(dirname "$0")/lib.sh"
command -v redis-server >/dev/null 2>&1 || { echo "skip: no redis-server" >&2; exit 77; }
tui_init sentinel 13

export XDG_STATE_HOME=$work/state SECTOP_OPERATOR="sentinel-test-$$"
at_exit 'tsql -c "DELETE FROM audit_log WHERE user_id = '"'"'$SECTOP_OPERATOR'"'"'"'
mpw="master-pw-$$"
spw="sentinel-pw-$$"
p1=$(free_port)
p2=$(free_port)
ps=$(free_port)
dead=$(free_port)                     # nothing listens there
mkdir -p "$work/r1" "$work/r2" "$work/s"

start_redis() { # DIR PORT [ARGS...]
	local dir=$1 port=$2
	shift 2
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
		--logfile "$dir/redis.log" --requirepass "$mpw" --masterauth "$mpw" --daemonize no "$@" &
	at_exit "kill $! && wait $!"
}
on() { REDISCLI_AUTH=$mpw redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }
sentinel() { REDISCLI_AUTH=$spw redis-cli -h 127.0.0.1 -p "$ps" "$@"; }
up() { [ "$(on "$1" PING 2>/dev/null)" = PONG ]; }

start_redis "$work/r1" "$p1"
start_redis "$work/r2" "$p2" --replicaof 127.0.0.1 "$p1"
if ! wait_until 5 up "$p1" || ! wait_until 5 up "$p2"; then
	echo "redis-server did not start" >&2
	exit 99
fi
synced() { on "$p2" INFO replication | grep -q '^master_link_status:up'; }
wait_until 10 synced || { echo "the replica did not sync" >&2; exit 99; }

cat >"$work/s/sentinel.conf" <<EOF
port $ps
bind 127.0.0.1
dir $work/s
logfile $work/s/sentinel.log
requirepass $spw
sentinel monitor mymaster 127.0.0.1 $p1 1
sentinel auth-pass mymaster $mpw
sentinel down-after-milliseconds mymaster 2000
sentinel failover-timeout mymaster 10000
EOF
redis-server "$work/s/sentinel.conf" --sentinel &
at_exit "kill $! && wait $!"
knows() { sentinel SENTINEL get-master-addr-by-name mymaster 2>/dev/null | grep -qx "$1"; }
wait_until 10 knows "$p1" || { echo "the sentinel did not start" >&2; exit 99; }
replica_known() { sentinel SENTINEL replicas mymaster 2>/dev/null | grep -qx "$p2"; }
wait_until 15 replica_known || { echo "the sentinel did not find the replica" >&2; exit 99; }

# the master's password from REDISCLI_AUTH, the sentinels' from
# REDIS_SENTINEL_PASSWORD: neither on a command line
redis_url="redis-sentinel://127.0.0.1:$dead,127.0.0.1:$ps/mymaster/0"
rcli() { on "$p1" "$@"; }
export REDISCLI_AUTH=$mpw REDIS_SENTINEL_PASSWORD=$spw
TUI_ENV=("REDISCLI_AUTH=$mpw" "REDIS_SENTINEL_PASSWORD=$spw")

for i in $(seq 1 30); do
	on "$p1" SET "blocked:198.51.100.$i" '{"by":"alice","reason":"seed","at":1700000000}' EX 3600 >/dev/null
done
on "$p1" SET "failed_auth:198.51.100.1" 12 EX 300 >/dev/null
count_blocked() { # PORT: an independent count, with SCAN as sectop does
	on "$1" --scan --pattern 'blocked:*' | wc -l
}
wait_until 5 eval '[ "$(count_blocked "$p2")" = 30 ]'

# --- snapshot and an action through the sentinels --------------------------
run() { "$SECTOP" -c "$work/empty.conf" --db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" "$@" </dev/null; }
run snapshot --format json >"$work/s.json" 2>"$work/s.err"
check "snapshot through the sentinels exits 0 (the dead sentinel skipped)" [ $? -eq 0 ]
check "its redis source is ok" [ "$(jpath "$work/s.json" 'd["sources"]["redis"]["status"]')" = ok ]
want=$(count_blocked "$p1")
check "its block count equals redis-cli's on the master ($want)" \
	[ "$(jpath "$work/s.json" 'd["blocked_count"]')" = "$want" ]

run report --format json --since 1h >"$work/r.json" 2>/dev/null
check "report through the sentinels exits 0" [ $? -eq 0 ]
check "... with redis ok" [ "$(jpath "$work/r.json" 'd["sources"]["redis"]["ok"]')" = True ]

run block 203.0.113.7 --reason "sentinel test" --yes >"$work/b1.out" 2>&1
check "block through the sentinels exits 0" [ $? -eq 0 ]
check "the block landed on the master" [ "$(on "$p1" EXISTS blocked:203.0.113.7)" = 1 ]
check "no KEYS ran on the master" eval '! on "$p1" INFO commandstats | grep -q "^cmdstat_keys:"'


# a wrong sentinel password: refused, and said so
REDIS_SENTINEL_PASSWORD=wrong run snapshot --format json --timeout 3s >"$work/wrong.json" 2>/dev/null
check "a wrong sentinel password exits non-zero" [ $? -ne 0 ]
jpath "$work/wrong.json" 'd["sources"]["redis"]["error"]' >"$work/wrong.err"
sed 's/^/# /' "$work/wrong.err"
check "... and says the sentinel refused its AUTH" grep -q "sentinel 127.0.0.1:$ps: AUTH" "$work/wrong.err"
check "... without the password" eval '! grep -q "wrong\|$spw" "$work/wrong.err"'

# --- a console through a failover -------------------------------------------
tui_start --walk-interval 1
check_shows "the console: redis ok" "redis ok"
check_shows "the console counts the 31 blocks" " Blocked (31) " 10
sentinel SENTINEL FAILOVER mymaster >/dev/null
check_until "the sentinel names the replica the master" 30 knows "$p2"
role_of() { on "$1" ROLE | head -1; }
check_until "the old replica is a master" 15 value_is master role_of "$p2"
# the old master goes: only the new one can answer now
on "$p1" SHUTDOWN NOSAVE >/dev/null 2>&1
on "$p2" SET "blocked:192.0.2.77" 1 EX 3600 >/dev/null
check_shows "the console follows the new master: the key set there is counted" " Blocked (32) " 30
check_shows "... and redis is ok" "redis ok" 10
check "sectop is still running" alive

run block 203.0.113.8 --reason "after the failover" --yes >"$work/b2.out" 2>&1
check "block after the failover exits 0" [ $? -eq 0 ]
check "the block landed on the new master" [ "$(on "$p2" EXISTS blocked:203.0.113.8)" = 1 ]
check "the console counts it" wait_until 20 shows " Blocked (33) "
check "the figures equal redis-cli's count on the new master" [ "$(count_blocked "$p2")" = 33 ]

check "no KEYS ever ran on the new master" eval '! on "$p2" INFO commandstats | grep -q "^cmdstat_keys:"'

finish
