#!/usr/bin/env bash
# Reads from a standby, writes to the primary, and a failover, against a real
# pair this test starts: a primary and a hot standby made by pg_basebackup -R,
# read through a multi-host conninfo that prefers the standby.  The figures
# equal independent SQL, every write lands on the primary, a standby where a
# primary is needed is said as such, and after the standby is promoted (the
# old primary stopped) the running console follows and a pending audit row
# lands on the new primary.
. "$(dirname "$0")/lib.sh"
need_servers SECTOP_TEST_REDIS SECTOP_TEST_PG_BIN
for tool in tmux; do command -v $tool >/dev/null || { echo "skip: no $tool" >&2; exit 77; }; done

work=$(mktemp -d)
. "$(dirname "$0")/pgcluster.sh"
sock=tmux-repl-$$
db=20
redis_url="${SECTOP_TEST_REDIS%/*}/$db"
export XDG_STATE_HOME=$work/state SECTOP_OPERATOR=bob
trap 'tmux -L "$sock" kill-server 2>/dev/null; cluster_stop_all; redis-cli -u "$redis_url" FLUSHDB >/dev/null 2>&1; rm -rf "$work"' EXIT

p1=$(free_port)
p2=$(free_port)
cluster_init "$work/p" "$p1" "wal_level = replica" "max_wal_senders = 4" "hot_standby = on"
psql_at "$p1" -f "$(contract_schema)" >/dev/null
as_pg "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$p1" -U postgres -D "$work/s" -R -c fast -X stream >/dev/null 2>&1
check "pg_basebackup -R made a standby" [ -f "$work/s/standby.signal" ]
echo "port = $p2" | as_pg tee -a "$work/s/postgresql.conf" >/dev/null
cluster_start "$work/s"
check "the standby is in recovery" [ "$(psql_at "$p2" -c 'SELECT pg_is_in_recovery()')" = t ]

reads="host=127.0.0.1,127.0.0.1 port=$p1,$p2 dbname=sectop user=sectop target_session_attrs=prefer-standby"
run() { "$SECTOP" --db "$1" --redis "$redis_url" "${@:2}" </dev/null; }
audits_at() { psql_at "$1" -c "SELECT count(*) FROM audit_log WHERE user_id LIKE 'bob%' AND action = 'ip_blocked' AND resource_id = '$2'"; }
lacks() { ! grep -q "$@"; }   # PATTERN FILE: not there
replayed() { # PORT: wait until the standby has replayed all the primary wrote
	local lsn i
	lsn=$(psql_at "$p1" -c 'SELECT pg_current_wal_lsn()')
	for i in $(seq 100); do
		[ "$(psql_at "$1" -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && return 0
		sleep 0.1
	done
	return 1
}

psql_at "$p1" <<'SQL'
INSERT INTO audit_log ("timestamp", tenant_id, user_id, action, ip_address, status_code)
SELECT now() - (g % 300) * interval '1 second', 't' || (g % 3), 'u' || (g % 7), 'failed_auth',
       '203.0.113.9', 401 FROM generate_series(1, 57) g;
INSERT INTO audit_log ("timestamp", tenant_id, user_id, action, ip_address, status_code)
SELECT now() - (g % 300) * interval '1 second', 'acme', 'u' || g, 'api_request',
       ('198.51.100.' || (g % 20 + 1))::inet, 200 FROM generate_series(1, 200) g;
SQL
check "the standby replayed the seed" replayed "$p2"

# --- reads from the standby ---------------------------------------------------
run "$reads" snapshot --format json >"$work/s.json"
check "snapshot through the multi-host conninfo exits 0" [ $? -eq 0 ]
check "sources.postgres says standby, with its replay lag" \
	[ "$(jpath "$work/s.json" '(d["sources"]["postgres"]["role"], isinstance(d["sources"]["postgres"]["replay_lag_s"], (int, float)) and d["sources"]["postgres"]["replay_lag_s"] >= 0)')" = "('standby', True)" ]
sql=$(psql_at "$p1" -c "SELECT count(*) FROM audit_log WHERE ip_address = '203.0.113.9' AND \"timestamp\" >= date_trunc('minute', now()) - interval '15 minutes'")
check "the top address's failures equal the primary's SQL ($sql)" \
	[ "$(jpath "$work/s.json" '[i["failures"] for i in d["top_ips"] if i["ip"] == "203.0.113.9"][0]')" = "$sql" ]
run "$reads" snapshot >"$work/s.txt"
check "the text snapshot says it reads a standby" grep -q "postgres .*standby, replay lag" "$work/s.txt"
run "host=127.0.0.1 port=$p1 dbname=sectop user=sectop" snapshot --format json >"$work/p.json"
check "a primary says primary, and no lag" [ "$(jpath "$work/p.json" '(d["sources"]["postgres"]["role"], "replay_lag_s" in d["sources"]["postgres"])')" = "('primary', False)" ]

# --- writes go to the primary ----------------------------------------------------
run "$reads" block 203.0.113.9 --reason "brute force" --yes >"$work/b1" 2>&1
check "block through the standby-first conninfo exits 0" [ $? -eq 0 ]
check "... its audit row is on the primary" [ "$(audits_at "$p1" 203.0.113.9)" = 1 ]
check "... and nothing waits in the journal" lacks "waits in the journal" "$work/b1"
check "... nor was the standby written (it replays the row)" replayed "$p2"
check "... which it does" [ "$(audits_at "$p2" 203.0.113.9)" = 1 ]

standby_only="host=127.0.0.1 port=$p2 dbname=sectop user=sectop"
run "$standby_only" block 203.0.113.10 --reason "standby only" --yes >"$work/b2" 2>&1
check "with only a standby named, the block is done (exit 0)" [ $? -eq 0 ]
check "... and the audit row waits, for want of a primary" grep -q "waits in the journal (PostgreSQL: no primary among the hosts of --db" "$work/b2"
check "... never called an outage" lacks "unavailable" "$work/b2"
run "$standby_only" --db-write "host=127.0.0.1 port=$p1 dbname=sectop user=sectop" \
	unblock 203.0.113.10 --reason "cleanup" --yes >"$work/b3" 2>&1
check "--db-write names the primary: the next action exits 0" [ $? -eq 0 ]
check "... and the pending audit row landed on it" [ "$(audits_at "$p1" 203.0.113.10)" = 1 ]

# --- the report's rollup: made on the primary, read from the standby -----------------
late_rows() { # N: failures of 203.0.113.77 in the last complete hour
	psql_at "$p1" -c "INSERT INTO audit_log (\"timestamp\", tenant_id, user_id, action, ip_address, status_code)
		SELECT date_trunc('hour', now()) - interval '1 hour' + g * interval '1 second', 'acme', 'u1',
		       'failed_auth', '203.0.113.77', 401 FROM generate_series(1, $1) g"
}
late_rows 30
run "$reads" setup --rollup >"$work/setup" 2>&1
check "setup --rollup through the standby-first conninfo exits 0" [ $? -eq 0 ]
check "... the rollup is on the primary" [ "$(psql_at "$p1" -c "SELECT to_regclass('audit_log_rollup_state') IS NOT NULL")" = t ]
late_rows 12    # committed late, into an hour already rolled up
since=$(date -u -d '-1 day' +%Y-%m-%dT%H:00:00Z)
run "$reads" report --since "$since" --format json >"$work/r.json" 2>"$work/r.err"
check "a report reading the standby exits 0" [ $? -eq 0 ]
check "... brought the rollup up to date on the primary and used it" \
	[ "$(jpath "$work/r.json" '(d["rollup"]["used"], any("not brought up to date" in n for n in d["notes"]))')" = "(True, False)" ]
want=$(psql_at "$p1" -c "SELECT count(*) FROM audit_log WHERE \"timestamp\" >= '$since' AND (action IN ('failed_auth','unauthorized_access','authentication_failed') OR status_code IN (401,403))")
check "... its failures equal the primary's SQL ($want), late rows included" \
	[ "$(jpath "$work/r.json" '[m["current"] for m in d["sections"]["summary"]["rows"] if m["metric"] == "failures"][0]')" = "$want" ]

# --- a failover while a console runs -----------------------------------------------
tmux -L "$sock" new-session -d -x 120 -y 30 \
	"env TERM=xterm-256color XDG_STATE_HOME=$work/state '$SECTOP' --db '$reads' --redis '$redis_url' --refresh 500ms --timeout 2s"
wait_screen() { # shows|lacks PATTERN: up to 20 s for the screen to show it, or not
	local i
	for i in $(seq 80); do
		tmux -L "$sock" capture-pane -p >"$work/screen" 2>/dev/null
		if grep -q -- "$2" "$work/screen"; then [ "$1" = shows ] && return 0; else [ "$1" = lacks ] && return 0; fi
		sleep 0.25
	done
	return 1
}
check "the console's header shows a standby" wait_screen shows "standby lag"
as_pg "$pg_bin/pg_ctl" -D "$work/p" -m fast -w stop >/dev/null
run "$reads" block 203.0.113.11 --reason "during the failover" --yes >"$work/b4" 2>&1
check "a block while no primary is up is done" [ $? -eq 0 ]
check "... its audit row waits in the journal" grep -q "waits in the journal" "$work/b4"
as_pg "$pg_bin/pg_ctl" -D "$work/s" -w promote >/dev/null
check "the standby is promoted" [ "$(psql_at "$p2" -c 'SELECT pg_is_in_recovery()')" = f ]
check "the running console follows: the standby mark goes" wait_screen lacks "standby"
check "... and its source is ok" wait_screen shows "pg ok"
sleep 2
tmux -L "$sock" capture-pane -p >"$work/screen"
check "... and does not come back" lacks "standby" "$work/screen"
run "$reads" unblock 203.0.113.11 --reason "after the failover" --yes >"$work/b5" 2>&1
check "the next action after the failover exits 0" [ $? -eq 0 ]
check "... and the pending audit row landed on the new primary" [ "$(audits_at "$p2" 203.0.113.11)" = 1 ]
run "$reads" snapshot --format json >"$work/f.json"
check "the snapshot now says primary" [ "$(jpath "$work/f.json" 'd["sources"]["postgres"]["role"]')" = primary ]

finish
