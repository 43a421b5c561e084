#!/usr/bin/env bash
# A Redis that stops answering (SIGSTOP: connections accepted, nothing
# replied) makes its header entry stale with an age, while PostgreSQL stays
# ok, keys stay responsive and the other panels keep updating; after
# SIGCONT it is ok again.  The Redis stopped is a private one this test
# starts, never the shared one.
. "$(dirname "$0")/lib.sh"
command -v redis-server >/dev/null 2>&1 || { echo "skip: no redis-server" >&2; exit 77; }
tui_init stale 15

# --- a private Redis, no password, no persistence ----------------------------
port=$(free_port)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$work" --logfile "$work/redis.log" --daemonize no &
redis_pid=$!
# SIGCONT first: a stopped process does not act on SIGTERM
at_exit 'kill -CONT $redis_pid; kill $redis_pid; wait $redis_pid'
private() { env -u REDISCLI_AUTH redis-cli -h 127.0.0.1 -p "$port" "$@"; }
private_up() { [ "$(private PING 2>/dev/null)" = PONG ]; }
wait_until 5 private_up || { echo "the private redis-server did not start" >&2; exit 99; }
redis_url="redis://127.0.0.1:$port/0"
TUI_UNSET=(REDISCLI_AUTH)      # the private server has no password
TUI_ENV=("XDG_STATE_HOME=$work/state")   # X opens a dialog: the journal is checked there

attacker=203.0.113.44
add_failures() { # N
	tsql -c "INSERT INTO $table (tenant_id, user_id, action, ip_address, path, status_code)
	         SELECT 'acme', 'u1', 'failed_auth', '$attacker', '/login', 401 FROM generate_series(1, $1)"
}
add_failures 5 || exit 99
private SET "blocked:$attacker" 1 EX 3600 >/dev/null
private SET "failed_auth:$attacker" 5 EX 300 >/dev/null

tui_start
check_shows "pg ok" "pg ok"
check_shows "redis ok (the private one)" "redis ok"
top_fail() { screen | awk -v ip="$attacker" '$1 == ip { print $2; exit }'; }
fail_is() { [ "$(top_fail)" = "$1" ]; }
check_until "the attacker's 5 failures" 8 fail_is 5

kill -STOP "$redis_pid"
check_shows_re "SIGSTOP: the header shows redis stale with an age" "redis stale [0-9]+s" 15
check "... while pg stays ok" shows "pg ok"
age() { screen | head -1 | grep -oE 'redis stale [0-9]+s' | grep -oE '[0-9]+'; }
first_age=$(age)
older() { [ "$(age)" -gt "${first_age:-0}" ]; }
check_until "the age grows" 5 older

# keys: each view follows within two seconds
keys 2
check_shows "key 2 while redis hangs: the address list" " 2 Top addresses " 2
keys 3
check_shows "key 3 while redis hangs: the tenants" " 3 Tenants " 2
keys 1
check_shows "key 1 while redis hangs: the overview" " Top addresses " 2
keys Enter
check_shows "Enter while redis hangs: the drill-down" "Address $attacker" 2
keys Escape
check_shows "Esc while redis hangs: the overview" " Top addresses " 2

keys X
check_shows "X while redis hangs: the extend dialog" "ip_block_extended $attacker" 3
check_shows "... saying its reading of the block is stale" "STALE: Redis last answered" 3
keys Escape

add_failures 3
check_until "postgres keeps the panels up to date (8 failures)" 8 fail_is 8
check "redis is still stale (or down), not ok" shows_re "redis (stale|down)"
check "sectop is still running" alive

kill -CONT "$redis_pid"
check_shows "SIGCONT: redis ok again" "redis ok" 15
check_gone "... no longer stale" "redis stale" 3
finish
