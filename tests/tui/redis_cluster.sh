#!/usr/bin/env bash
# Redis Cluster, against three masters this test starts on loopback and
# joins with redis-cli --cluster create: a plain redis:// URL naming one
# node is seen as the cluster.  Keys on every shard are counted (against
# redis-cli's own SCAN of each master), the addresses on screen are read
# from their slots' masters (one of them in the middle of a slot migration:
# ASK), an action through a node that does not own the slot writes to the
# one that does, a range block sets (and its unblock removes) keys on every
# shard, the console counts every shard; then one master is
# stopped: only its part goes missing (the others' figures stay exact, its
# addresses become unknown, never "not blocked").  No KEYS on any node.
. "$(dirname "$0")/lib.sh"
command -v redis-server >/dev/null 2>&1 || { echo "skip: no redis-server" >&2; exit 77; }
tui_init cluster 13
export XDG_STATE_HOME=$work/state SECTOP_OPERATOR="cluster-test-$$"
at_exit 'tsql -c "DELETE FROM audit_log WHERE user_id = '"'"'$SECTOP_OPERATOR'"'"'"'

pw="cluster-pw-$$"
export REDISCLI_AUTH=$pw
TUI_ENV=("REDISCLI_AUTH=$pw")

# a port whose cluster bus port (+10000) is free too: at most 55535
cluster_port() {
	python3 - <<'PY'
import random, socket
for _ in range(200):
    p = random.randint(20000, 55535)
    ok = True
    for q in (p, p + 10000):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", q))
        except OSError:
            ok = False
        s.close()
    if ok:
        print(p)
        break
PY
}
ports=()
declare -A pid_of
for _ in 1 2 3; do
	p=$(cluster_port)
	mkdir -p "$work/n$p"
	redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "$work/n$p/nodes.conf" \
		--cluster-node-timeout 2000 --cluster-require-full-coverage no --requirepass "$pw" --masterauth "$pw" \
		--save '' --appendonly no --dir "$work/n$p" --logfile "$work/n$p/redis.log" --daemonize no &
	at_exit "kill $! && wait $!"
	pid_of[$p]=$!
	ports+=("$p")
done
p1=${ports[0]} p2=${ports[1]} p3=${ports[2]}
on() { redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }
up() { [ "$(on "$1" PING 2>/dev/null)" = PONG ]; }
for p in "${ports[@]}"; do wait_until 5 up "$p" || { echo "redis-server :$p did not start" >&2; exit 99; }; done
redis-cli --cluster create "127.0.0.1:$p1" "127.0.0.1:$p2" "127.0.0.1:$p3" --cluster-replicas 0 \
	--cluster-yes >"$work/create.log" 2>&1 || { cat "$work/create.log" >&2; exit 99; }
cluster_ok() { for p in "${ports[@]}"; do on "$p" CLUSTER INFO | grep -q '^cluster_state:ok' || return 1; done; }
wait_until 15 cluster_ok || { echo "the cluster did not form" >&2; exit 99; }

# --- keys on every shard, written with redis-cli -c ---------------------------
for i in $(seq 1 300); do
	printf 'SET blocked:10.1.%d.%d 1 EX 3600\n' $((i / 200)) $((i % 200))
done | on "$p1" -c >/dev/null
on "$p1" -c SET "blocked:10.1.0.1" '{"by":"alice","reason":"seed","at":1700000000}' EX 3600 >/dev/null
count_on() { on "$1" --scan --pattern 'blocked:*' | wc -l; }
count_live() { local p t=0; for p in "$@"; do t=$((t + $(count_on "$p"))); done; echo $t; }
for p in "${ports[@]}"; do
	check "master :$p holds some of the keys ($(count_on "$p"))" [ "$(count_on "$p")" -gt 0 ]
done
check "300 block keys in all" [ "$(count_live "${ports[@]}")" = 300 ]
owner_of() { # KEY: the master that holds it
	local p
	for p in "${ports[@]}"; do [ "$(on "$p" EXISTS "$1" 2>/dev/null)" = 1 ] && { echo "$p"; return; }; done
}
# one address on each shard, each with its failures and its counter
declare -A ip_of
for i in $(seq 1 199); do
	ip=10.1.0.$i
	o=$(owner_of "blocked:$ip")
	[ -z "${ip_of[$o]:-}" ] && ip_of[$o]=$ip
	[ ${#ip_of[@]} = 3 ] && break
done
n=0
for p in "${ports[@]}"; do
	n=$((n + 1))
	ip=${ip_of[$p]}
	on "$p1" -c SET "failed_auth:$ip" $((10 * n)) EX 600 >/dev/null
	tsql -c "INSERT INTO $table (tenant_id, user_id, action, ip_address, path, status_code)
	         SELECT 'acme', 'u1', 'failed_auth', '$ip', '/login', 401 FROM generate_series(1, $((20 + n)))" || exit 99
done
run() { "$SECTOP" -c "$work/empty.conf" --db "$SECTOP_TEST_DB" --table "$table" "$@" </dev/null; }

# --- a snapshot through one node ------------------------------------------------
run snapshot --format json --redis "redis://127.0.0.1:$p2/0" >"$work/s.json" 2>"$work/s.err"
check "snapshot through one node exits 0" [ $? -eq 0 ]
check "its redis source is ok" [ "$(jpath "$work/s.json" 'd["sources"]["redis"]["status"]')" = ok ]
want=$(count_live "${ports[@]}")
check "its block count is every shard's: redis-cli counts $want" [ "$(jpath "$work/s.json" 'd["blocked_count"]')" = "$want" ]
n=0
for p in "${ports[@]}"; do
	n=$((n + 1))
	ip=${ip_of[$p]}
	check "$ip (on :$p) is blocked, its counter $((10 * n)), read from its master" \
		[ "$(jpath "$work/s.json" "[(t['blocked'], t['failed_auth_counter']) for t in d['top_ips'] if t['ip'] == '$ip']")" = "[(True, $((10 * n)))]" ]
done

# --- ASK: the slot of one address halfway through a migration --------------------
ip=${ip_of[$p1]}
slot=$(on "$p1" CLUSTER KEYSLOT "blocked:$ip")
id1=$(on "$p1" CLUSTER MYID)
id2=$(on "$p2" CLUSTER MYID)
on "$p2" CLUSTER SETSLOT "$slot" IMPORTING "$id1" >/dev/null
on "$p1" CLUSTER SETSLOT "$slot" MIGRATING "$id2" >/dev/null
check "the block key moves (MIGRATE)" [ "$(on "$p1" MIGRATE 127.0.0.1 "$p2" "blocked:$ip" 0 5000 AUTH "$pw")" = OK ]
check "the old master answers ASK" eval 'on "$p1" GET "blocked:$ip" 2>&1 | grep -q "ASK"'
run snapshot --format json --redis "redis://127.0.0.1:$p3/0" >"$work/ask.json" 2>/dev/null
check "during the migration, $ip is still read exactly (ASK followed)" \
	[ "$(jpath "$work/ask.json" "[(t['blocked'], t['failed_auth_counter']) for t in d['top_ips'] if t['ip'] == '$ip']")" = "[(True, 10)]" ]
check "... and the count is still every key ($want)" [ "$(jpath "$work/ask.json" 'd["blocked_count"]')" = "$want" ]
for p in "${ports[@]}"; do on "$p" CLUSTER SETSLOT "$slot" NODE "$id2" >/dev/null; done
moved() { on "$p1" GET "blocked:$ip" 2>&1 | grep -q "MOVED"; }
check_until "the migration is over: the old master answers MOVED" 5 moved

# --- an action through a node that does not own the slot ------------------------
target=
for i in $(seq 1 199); do
	[ "$(owner_of "blocked:192.0.2.$i")" != "$p1" ] && [ "$(on "$p1" CLUSTER KEYSLOT "blocked:192.0.2.$i")" != "$slot" ] &&
		{ target=192.0.2.$i; break; }
done
run block "$target" --reason "cluster test" --yes --redis "redis://127.0.0.1:$p1/0" >"$work/b.out" 2>&1
check "block through a node that does not own the slot exits 0" [ $? -eq 0 ]
owner=$(owner_of "blocked:$target")
check "the block landed on its slot's master (:$owner, not :$p1)" [ -n "$owner" ] && [ "$owner" != "$p1" ]
check "... and is where redis-cli -c finds it" [ "$(on "$p1" -c EXISTS "blocked:$target")" = 1 ]

# --- a range block: its keys lie on every shard, one transaction each --------------
tsql -c "INSERT INTO $table (tenant_id, user_id, action, ip_address, status_code)
         SELECT 'acme', 'u1', 'failed_auth', ('198.51.100.' || g)::inet, 401 FROM generate_series(1, 12) g" || exit 99
range_keys=()
for i in $(seq 1 12); do range_keys+=("blocked:198.51.100.$i"); done
range_set() { local k n=0; for k in "${range_keys[@]}"; do n=$((n + $(on "$p1" -c EXISTS "$k"))); done; echo $n; }
run block 198.51.100.0/24 --reason "cluster range" --yes --format json --redis "redis://127.0.0.1:$p2/0" >"$work/rb.json" 2>&1
check "a range block through the cluster exits 0" [ $? -eq 0 ]
check "... its twelve keys are set" [ "$(range_set)" = 12 ]
range_owners=$(for k in "${range_keys[@]}"; do owner_of "$k"; done | sort -u | wc -l)
check "... on more than one master ($range_owners)" [ "$range_owners" -gt 1 ]
run unblock 198.51.100.0/24 --yes --redis "redis://127.0.0.1:$p3/0" >"$work/ru.out" 2>&1
check "unblocking the range through another node removes them all" [ $? -eq 0 ] &&
	[ "$(range_set)" = 0 ]
for p in "${ports[@]}"; do
	check "no KEYS ever ran on :$p" eval '! on "$p" INFO commandstats | grep -q "^cmdstat_keys:"'
done

# --- a report through another node ---------------------------------------------------
run report --format json --since 1h --redis "redis://127.0.0.1:$p3/0" >"$work/r.json" 2>/dev/null
check "report through the cluster exits 0" [ $? -eq 0 ]
check "... with redis ok" [ "$(jpath "$work/r.json" 'd["sources"]["redis"]["ok"]')" = True ]

# --- a master that stops answering (SIGSTOP: connections accepted, no reply) ----------
silent=$p3
others_total=$(count_live "$p1" "$p2")
silent_pid=${pid_of[$silent]}
kill -STOP "$silent_pid"
at_exit "kill -CONT $silent_pid"
t0=$(now_ms)
run snapshot --format json --redis "redis://127.0.0.1:$p1/0" >"$work/stop.json" 2>/dev/null
rc=$?
took=$(($(now_ms) - t0))
kill -CONT "$silent_pid"
jpath "$work/stop.json" 'd["sources"]["redis"]["error"]' | sed 's/^/# silent: /'
check "a silent master: the snapshot ends (exit 3) in $took ms, not held by it" [ $rc -eq 3 ] && [ "$took" -lt 9000 ]
check "... its error says which master did not answer" \
	grep -q "127.0.0.1:$silent: no reply within" <<<"$(jpath "$work/stop.json" 'd["sources"]["redis"]["error"]')"
check "... the count is the other masters' ($others_total)" [ "$(jpath "$work/stop.json" 'd["blocked_count"]')" = "$others_total" ]
check_until "the cluster is whole again" 20 cluster_ok

# --- the console, then one master stopped -----------------------------------------
redis_url="redis://127.0.0.1:$p1/0"
rcli() { on "$p1" -c "$@"; }
tui_start --walk-interval 1
check_shows "the console: redis ok" "redis ok"
total=$(count_live "${ports[@]}")
check_shows "the console counts every shard ($total)" " Blocked ($total) " 10

dead=$p3
live=("$p1" "$p2")
live_total=$(count_live "${live[@]}")
declare -A block_on          # each address on screen: where its block key is now
for p in "${ports[@]}"; do block_on[${ip_of[$p]}]=$(owner_of "blocked:${ip_of[$p]}"); done
kill "${pid_of[$dead]}"
gone() { ! up "$dead"; }
check_until "master :$dead is stopped" 10 gone
check_shows "the console: only the stopped shard's part is missing ($live_total counted)" " Blocked ($live_total) " 20
check_shows "... and redis says it is stale" "redis stale" 10
for ip in "${!block_on[@]}"; do
	if [ "${block_on[$ip]}" = "$dead" ]; then
		unknown_row() { screen | grep -E "^ *$ip .* \?( |$)" >/dev/null; }
		check_until "the console shows $ip (on the stopped master) as unknown: ?" 10 unknown_row
	else
		blocked_row() { screen | grep -E "^ *$1 .*[0-9]+m[0-9]+s" >/dev/null; }
		check_until "... and $ip (live :${block_on[$ip]}) with its block's time left" 10 blocked_row "$ip"
	fi
done
check "sectop is still running" alive

run snapshot --format json --redis "redis://127.0.0.1:$p2/0" >"$work/down.json" 2>/dev/null
check "snapshot with a master down exits 3" [ $? -eq 3 ]
jpath "$work/down.json" 'd["sources"]["redis"]["error"]' | sed 's/^/# /'
check "... its error names the cluster's missing part" \
	grep -q "cluster: part missing" <<<"$(jpath "$work/down.json" 'd["sources"]["redis"]["error"]')"
check "... the count is the live shards' ($live_total)" [ "$(jpath "$work/down.json" 'd["blocked_count"]')" = "$live_total" ]
for ip in "${!block_on[@]}"; do
	if [ "${block_on[$ip]}" = "$dead" ]; then
		check "... $ip (on the stopped master) is unknown, not \"not blocked\"" \
			[ "$(jpath "$work/down.json" "[t['blocked'] for t in d['top_ips'] if t['ip'] == '$ip']")" = "[None]" ]
	else
		check "... $ip (live :${block_on[$ip]}) still read exactly: blocked" \
			[ "$(jpath "$work/down.json" "[t['blocked'] for t in d['top_ips'] if t['ip'] == '$ip']")" = "[True]" ]
	fi
done
for p in "${live[@]}"; do
	check "no KEYS on :$p" eval '! on "$p" INFO commandstats | grep -q "^cmdstat_keys:"'
done
finish
