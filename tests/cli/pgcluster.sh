# A throwaway PostgreSQL cluster of a test's own, on loopback and a free
# port, for what the suite's shared server cannot be: a primary with a
# standby, a superuser's settings.  Trust authentication keeps these tests
# about routing and plans, not passwords.  Sourced after lib.sh, not run;
# needs SECTOP_TEST_PG_BIN, and `work` (a temporary directory) set.
pg_bin=$SECTOP_TEST_PG_BIN
chmod 0755 "$work"

as_pg() { if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else (cd / && "$@"); fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
psql_as() { PGOPTIONS="-c client_min_messages=warning" "$pg_bin/psql" -X -q -t -A -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U "$2" -d "$3" "${@:4}"; }
psql_at() { psql_as "$1" sectop sectop "${@:2}"; }   # PORT SQL-ARGS...: as sectop

cluster_dirs=()
# cluster_init DIR PORT [SETTING...]: initdb, settings, start; a role and
# database sectop, owner of the database.
cluster_init() {
	local dir=$1 port=$2 s
	mkdir -p "$dir.sock"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$dir.sock" "$(dirname "$dir")"
	as_pg "$pg_bin/initdb" -D "$dir" -U postgres -E UTF8 --locale=C.UTF-8 --auth=trust --no-sync \
		>"$dir.initdb.log" 2>&1 || { cat "$dir.initdb.log"; return 1; }
	{
		printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\n" "$port" "$dir.sock"
		printf "fsync = off\nlog_min_messages = warning\n"
		for s in "${@:3}"; do printf '%s\n' "$s"; done
	} | as_pg tee -a "$dir/postgresql.conf" >/dev/null
	cluster_start "$dir" || return 1
	psql_as "$port" postgres postgres -c "CREATE ROLE sectop LOGIN" -c "CREATE DATABASE sectop OWNER sectop"
}
cluster_start() { # DIR
	cluster_dirs+=("$1")
	as_pg "$pg_bin/pg_ctl" -D "$1" -l "$1.log" -w start >/dev/null || { tail -20 "$1.log"; return 1; }
}
cluster_stop_all() {
	local d
	for d in "${cluster_dirs[@]}"; do
		[ -f "$d/postmaster.pid" ] && as_pg "$pg_bin/pg_ctl" -D "$d" stop -m immediate >/dev/null 2>&1
	done
}
# the contract's schema (the shared tree is the source of truth)
contract_schema() {
	local f=$top_srcdir/../shared/contract/schema.sql
	[ -r "$f" ] || f=$top_srcdir/scripts/schema.sql
	echo "$f"
}
