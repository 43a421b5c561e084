# shellcheck shell=bash
# stack.sh: the real servers sectop's tests and demo run against, on loopback
# only: PostgreSQL, Redis and the health-endpoint fixture (HTTP + HTTPS).
# A library: source it, then
#
#   stack_start_all [DIR]   # DIR empty: a fresh mktemp dir, removed at stop
#   stack_trap              # stop everything on EXIT/INT/TERM, even on failure
#   stack_load_schema
#   ...                     # SECTOP_TEST_* and friends are exported
#
# Every piece of state lives in files under DIR, so another process can
# attach to a running stack and restart a server:
#
#   source "$SECTOP_TEST_STACK"; stack_init "$SECTOP_TEST_STACK_DIR"
#   stack_pg_stop; ...; stack_pg_start     # same data, same port
#
# Secrets never travel on a command line: the PostgreSQL password is in
# DIR/pgpass (PGPASSFILE), the Redis one in DIR/redis/redis.conf and
# REDISCLI_AUTH, the health keys in DIR/http/secrets and the environment.
# DIR/env (0600) holds every export, for `source DIR/env` in another shell.
#
# Set SECTOP_KEEP_STACK=1 to keep a mktemp DIR (and its logs) after stop.

STACK_LIB=$(readlink -f "${BASH_SOURCE[0]}")
STACK_ROOT=$(dirname "$(dirname "$STACK_LIB")")
STACK_DIR=${STACK_DIR:-}
STACK_OWNED=${STACK_OWNED:-}
STACK_EXIT_HOOKS=()

# The Debian python3, not whatever a version manager put first on PATH.
if [[ -x /usr/bin/python3 ]]; then STACK_PY=/usr/bin/python3; else STACK_PY=python3; fi

_stack_say() { printf 'stack: %s\n' "$*" >&2; }

# _stack_fail MSG [LOG...]: report a failed start with the end of its logs.
_stack_fail() {
	local msg=$1 f
	shift
	_stack_say "$msg"
	for f in "$@"; do
		[[ -r $f ]] || continue
		printf -- '---- last lines of %s ----\n' "$f" >&2
		tail -n 30 "$f" >&2
	done
	return 1
}

_stack_random() { "$STACK_PY" -c 'import secrets; print(secrets.token_hex(24))'; }

# _stack_wait SECONDS CMD...: retry CMD every 0.2 s until it succeeds.
_stack_wait() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# A zombie counts as gone: daemons are re-parented to PID 1, which may be
# slow to reap them, and kill -0 still succeeds on a zombie.
_stack_alive() {
	[[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null &&
		[[ $(ps -o stat= -p "$1" 2>/dev/null) != Z* ]]
}

# _stack_reap PID SECONDS: wait for PID to go, then SIGKILL it.
_stack_reap() {
	local pid=$1 n=$(($2 * 10))
	while ((n-- > 0)); do
		_stack_alive "$pid" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

_stack_write_secret() { # FILE: stdin -> FILE, readable by its owner only
	(umask 077 && cat >"$1") && chmod 0600 "$1"
}

# stack_free_port: a TCP port nobody listens on now (the kernel's choice).
stack_free_port() {
	"$STACK_PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# stack_init [DIR]: choose the state directory.  An existing DIR is attached
# to and never removed; no DIR makes a fresh one that stack_stop_all removes.
stack_init() {
	if [[ -z ${1:-} ]]; then
		STACK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sectop-stack.XXXXXX") || return 1
		STACK_OWNED=1
	else
		mkdir -p "$1" || return 1
		STACK_DIR=$(readlink -f "$1")
		STACK_OWNED=""
	fi
	# The postgres user must reach DIR/pg, so DIR is traversable (not
	# listable); the secrets inside are 0600 files.
	chmod 0711 "$STACK_DIR"
	export SECTOP_TEST_STACK_DIR=$STACK_DIR SECTOP_TEST_STACK=$STACK_LIB
}

_stack_need_dir() {
	[[ -n $STACK_DIR ]] || { _stack_say "call stack_init first"; return 1; }
}

# ---------------------------------------------------------------- PostgreSQL

# The server binaries: Debian keeps them out of PATH, and `pg_config --bindir`
# (from libpq-dev) says /usr/bin, where only the client wrappers live.
_stack_pg_bindir() {
	local d
	if [[ -n ${SECTOP_TEST_PG_BIN:-} && -x ${SECTOP_TEST_PG_BIN}/initdb ]]; then
		printf '%s\n' "$SECTOP_TEST_PG_BIN"
		return 0
	fi
	# Newest major version first; a glob would put 9 after 15.
	# shellcheck disable=SC2012
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV) \
		"$(pg_config --bindir 2>/dev/null)"; do
		[[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] && { printf '%s\n' "$d"; return 0; }
	done
	d=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")
	[[ -x $d/initdb ]] && { printf '%s\n' "$d"; return 0; }
	_stack_say "no PostgreSQL server binaries (initdb) found: run scripts/deps.sh"
	return 1
}

# As root the cluster belongs to the postgres user; otherwise to the caller.
_stack_pg_su() { if [[ $(id -u) -eq 0 ]]; then echo postgres; else id -un; fi; }

_stack_as_pg() { # CMD...: run as the cluster's owner, from a directory it can read
	if [[ $(id -u) -eq 0 ]]; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

_stack_pg_paths() {
	PG_D=$STACK_DIR/pg
	PG_DATA=$PG_D/data
	PG_SOCK=$PG_D/sock
	PG_LOG=$PG_D/postgres.log
}

_stack_pg_init() {
	local bin=$1 port su
	su=$(_stack_pg_su)
	mkdir -p "$PG_D" "$PG_SOCK"
	[[ $(id -u) -eq 0 ]] && chown postgres: "$PG_D" "$PG_SOCK"
	chmod 0700 "$PG_D" "$PG_SOCK"
	# Unix socket paths are limited to 107 bytes.
	if ((${#PG_SOCK} + 20 > 107)); then
		_stack_say "state directory path too long for a Unix socket: $PG_SOCK"
		return 1
	fi
	_stack_as_pg "$bin/initdb" -D "$PG_DATA" -U "$su" -E UTF8 --locale=C.UTF-8 \
		--auth-local=peer --auth-host=scram-sha-256 --no-sync \
		>"$PG_D/initdb.log" 2>&1 ||
		{ _stack_fail "initdb failed" "$PG_D/initdb.log"; return 1; }
	port=$(stack_free_port) || return 1
	# Loopback only; a throwaway cluster, so durability is traded for speed.
	_stack_as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null <<EOF

# ---- scripts/stack.sh: test cluster settings
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$PG_SOCK'
unix_socket_permissions = 0700
password_encryption = scram-sha-256
max_connections = 200
shared_buffers = 256MB
work_mem = 16MB
maintenance_work_mem = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
max_wal_size = 2GB
checkpoint_timeout = 30min
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
log_connections = off
EOF
	echo "$port" >"$PG_D/port"
}

_stack_pg_running() { _stack_as_pg "$1/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

_stack_pg_ready() {
	"$1/pg_isready" -q -h 127.0.0.1 -p "$2" -t 1
}

# Superuser SQL over the Unix socket (peer authentication), SQL on stdin.
_stack_pg_su_sql() { # BIN PORT DB
	_stack_as_pg "$1/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$2" \
		-U "$(_stack_pg_su)" -d "$3"
}

# Role sectop with a random password, its database, the extensions.
_stack_pg_provision() {
	local bin=$1 port=$2 pw
	pw=$(_stack_random) || return 1
	# Neither the server log nor pg_stat_statements may keep the statement
	# that carries the password.
	_stack_pg_su_sql "$bin" "$port" postgres <<EOF || return 1
SET log_min_error_statement = panic;
SET log_statement = 'none';
SET pg_stat_statements.track_utility = off;
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sectop') THEN
    CREATE ROLE sectop LOGIN;
  END IF;
END \$\$;
ALTER ROLE sectop PASSWORD '$pw';
EOF
	_stack_pg_su_sql "$bin" "$port" postgres <<'EOF' || return 1
SELECT 'CREATE DATABASE sectop OWNER sectop'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'sectop') \gexec
EOF
	# Extensions that need a superuser; the rest of the schema is loaded as
	# sectop.  pg_read_all_stats and the reset let benchmarks read plans.
	_stack_pg_su_sql "$bin" "$port" sectop <<'EOF' || return 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
GRANT pg_read_all_stats TO sectop;
GRANT EXECUTE ON FUNCTION pg_stat_statements_reset(oid, oid, bigint) TO sectop;
EOF
	printf '127.0.0.1:%s:*:sectop:%s\nlocalhost:%s:*:sectop:%s\n' \
		"$port" "$pw" "$port" "$pw" | _stack_write_secret "$STACK_DIR/pgpass"
	touch "$PG_D/provisioned"
}

# stack_pg_start: initdb on first use, then start (or find running) and
# export where it is.  Safe to call again after stack_pg_stop.
stack_pg_start() {
	_stack_need_dir || return 1
	local bin port
	_stack_pg_paths
	bin=$(_stack_pg_bindir) || return 1
	if [[ ! -s $PG_DATA/PG_VERSION ]]; then
		_stack_pg_init "$bin" || return 1
	fi
	port=$(<"$PG_D/port")
	if ! _stack_pg_running "$bin"; then
		_stack_as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 30 start \
			>>"$PG_D/pg_ctl.log" 2>&1 ||
			{ _stack_fail "PostgreSQL did not start" "$PG_D/pg_ctl.log" "$PG_LOG"; return 1; }
	fi
	_stack_wait 30 _stack_pg_ready "$bin" "$port" ||
		{ _stack_fail "PostgreSQL not ready on port $port after 30 s" "$PG_LOG"; return 1; }
	if [[ ! -e $PG_D/provisioned ]]; then
		_stack_pg_provision "$bin" "$port" ||
			{ _stack_fail "could not create role/database sectop" "$PG_LOG"; return 1; }
	fi
	export PGPASSFILE=$STACK_DIR/pgpass
	export SECTOP_TEST_DB="host=127.0.0.1 port=$port dbname=sectop user=sectop"
	export SECTOP_TEST_PG_PORT=$port SECTOP_TEST_PGDATA=$PG_DATA SECTOP_TEST_PG_BIN=$bin
	export SECTOP_TEST_PG_SOCKDIR=$PG_SOCK
}

# stack_pg_stop: fast shutdown, bounded; SIGKILL if it hangs.
stack_pg_stop() {
	_stack_need_dir || return 1
	local bin pm kids
	_stack_pg_paths
	[[ -s $PG_DATA/postmaster.pid ]] || return 0
	bin=$(_stack_pg_bindir) || return 1
	pm=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null)
	# A test may have SIGSTOPped the server to simulate a hang.
	kill -CONT "$pm" 2>/dev/null || true
	if _stack_as_pg "$bin/pg_ctl" -D "$PG_DATA" -m fast -w -t 15 stop >>"$PG_D/pg_ctl.log" 2>&1; then
		return 0
	fi
	_stack_say "PostgreSQL did not stop in 15 s: killing pid $pm"
	kids=$(ps -o pid= --ppid "$pm" 2>/dev/null || true)
	# shellcheck disable=SC2086  # kids is a list of pids
	kill -KILL "$pm" $kids 2>/dev/null || true
	_stack_reap "$pm" 5
}

# psql as sectop through PGPASSFILE.
stack_psql() {
	local bin
	bin=${SECTOP_TEST_PG_BIN:-$(_stack_pg_bindir)}
	PGOPTIONS="-c client_min_messages=warning ${PGOPTIONS:-}" \
		"$bin/psql" -X -q -v ON_ERROR_STOP=1 "$SECTOP_TEST_DB" "$@"
}

# stack_load_schema: the contract's schema when the shared tree is there
# (it is the source of truth), else the project's byte-identical copy.
stack_load_schema() {
	local f=$STACK_ROOT/../shared/contract/schema.sql
	[[ -r $f ]] || f=$STACK_ROOT/scripts/schema.sql
	stack_psql -f "$f" >/dev/null ||
		{ _stack_fail "loading $f failed" "$STACK_DIR/pg/postgres.log"; return 1; }
}

# stack_reset_data: empty the contract's tables and every Redis database, so
# a second test run starts where the first did.  Tables a test made and
# forgot stay; the contract's are recreated if a test dropped them.
stack_reset_data() {
	stack_load_schema || return 1
	stack_psql -c 'TRUNCATE audit_log, api_keys' >/dev/null || return 1
	redis-cli -h 127.0.0.1 -p "$SECTOP_TEST_REDIS_PORT" FLUSHALL >/dev/null || return 1
}

# --------------------------------------------------------------------- Redis

_stack_redis_paths() {
	RD_D=$STACK_DIR/redis
	RD_CONF=$RD_D/redis.conf
	RD_PID=$RD_D/redis.pid
	RD_LOG=$RD_D/redis.log
}

_stack_redis_conf() {
	local port pw
	port=$(stack_free_port) || return 1
	pw=$(_stack_random) || return 1
	mkdir -p "$RD_D"
	_stack_write_secret "$RD_CONF" <<EOF
# scripts/stack.sh: a throwaway Redis on loopback
bind 127.0.0.1
port $port
protected-mode yes
requirepass $pw
save ""
appendonly no
# a database of its own for each test that writes keys (tests/tui/lib.sh)
databases 48
enable-debug-command local
daemonize yes
pidfile $RD_PID
logfile $RD_LOG
dir $RD_D
loglevel notice
EOF
}

_stack_redis_conf_get() { awk -v k="$1" '$1 == k { print $2; exit }' "$RD_CONF"; }

_stack_redis_ping() {
	[[ $(redis-cli -h 127.0.0.1 -p "$1" PING 2>/dev/null) == PONG ]]
}

# stack_redis_start: start (or find running) and export where it is.
stack_redis_start() {
	_stack_need_dir || return 1
	local port pid
	_stack_redis_paths
	command -v redis-server >/dev/null || { _stack_say "redis-server missing: run scripts/deps.sh"; return 1; }
	[[ -s $RD_CONF ]] || _stack_redis_conf || return 1
	port=$(_stack_redis_conf_get port)
	REDISCLI_AUTH=$(_stack_redis_conf_get requirepass)
	export REDISCLI_AUTH
	pid=$(cat "$RD_PID" 2>/dev/null || true)
	if ! _stack_alive "$pid"; then
		redis-server "$RD_CONF" >>"$RD_LOG" 2>&1 ||
			{ _stack_fail "redis-server did not start" "$RD_LOG"; return 1; }
	else
		kill -CONT "$pid" 2>/dev/null || true
	fi
	_stack_wait 15 _stack_redis_ping "$port" ||
		{ _stack_fail "Redis not answering PING on port $port" "$RD_LOG"; return 1; }
	export SECTOP_TEST_REDIS="redis://127.0.0.1:$port/0"
	export SECTOP_TEST_REDIS_PORT=$port SECTOP_TEST_REDIS_PIDFILE=$RD_PID
}

stack_redis_stop() {
	_stack_need_dir || return 1
	local pid port
	_stack_redis_paths
	pid=$(cat "$RD_PID" 2>/dev/null || true)
	_stack_alive "$pid" || return 0
	port=$(_stack_redis_conf_get port)
	# A test may have SIGSTOPped it to simulate a hang.
	kill -CONT "$pid" 2>/dev/null || true
	REDISCLI_AUTH=$(_stack_redis_conf_get requirepass) \
		timeout 5 redis-cli -h 127.0.0.1 -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 ||
		kill -TERM "$pid" 2>/dev/null || true
	_stack_reap "$pid" 5
}

# ------------------------------------------------------------ health (HTTP)

_stack_http_paths() {
	HT_D=$STACK_DIR/http
	HT_PID=$HT_D/healthd.pid
	HT_PORTS=$HT_D/ports
	HT_LOG=$HT_D/healthd.log
}

# A self-signed certificate valid for 10 days: under sectop's 14-day expiry
# warning on purpose.  Also its own CA (SECTOP_TEST_CA).
_stack_http_cert() {
	[[ -s $STACK_DIR/cert.pem && -s $STACK_DIR/key.pem ]] && return 0
	(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 10 -subj /CN=localhost \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$STACK_DIR/key.pem" -out "$STACK_DIR/cert.pem") >>"$HT_LOG" 2>&1 ||
		{ _stack_fail "openssl could not make the test certificate" "$HT_LOG"; return 1; }
	chmod 0644 "$STACK_DIR/cert.pem"
}

_stack_http_probe() { # PORT PORT2: both listeners answer /health/healthy
	"$STACK_PY" - "$1" "$2" "$STACK_DIR/cert.pem" <<'EOF'
import ssl, sys, urllib.request
http, https, ca = sys.argv[1:4]
urllib.request.urlopen("http://127.0.0.1:%s/health/healthy" % http, timeout=2).read()
ctx = ssl.create_default_context(cafile=ca)
urllib.request.urlopen("https://127.0.0.1:%s/health/healthy" % https, timeout=2, context=ctx).read()
EOF
}

# stack_http_start: the fixture server on two ports, same ports on restart.
stack_http_start() {
	_stack_need_dir || return 1
	local pid http=0 https=0
	_stack_http_paths
	mkdir -p "$HT_D"
	_stack_http_cert || return 1
	if [[ ! -s $HT_D/secrets ]]; then
		printf 'HEALTHD_API_KEY=%s\nHEALTHD_TOKEN=%s\n' "$(_stack_random)" "$(_stack_random)" |
			_stack_write_secret "$HT_D/secrets"
	fi
	HEALTHD_API_KEY=$(sed -n 's/^HEALTHD_API_KEY=//p' "$HT_D/secrets")
	HEALTHD_TOKEN=$(sed -n 's/^HEALTHD_TOKEN=//p' "$HT_D/secrets")
	export HEALTHD_API_KEY HEALTHD_TOKEN
	[[ -s $HT_PORTS ]] && read -r http https <"$HT_PORTS"
	pid=$(cat "$HT_PID" 2>/dev/null || true)
	if ! _stack_alive "$pid"; then
		rm -f "$HT_PORTS.new" "$HT_PID"
		# setsid: a terminal's Ctrl-C goes to sectop, not to the fixture.
		# The server writes its own pid (setsid may fork) and, once both
		# ports listen, the port file.  Its log and its stderr share a file,
		# both appending.
		# shellcheck disable=SC2094
		setsid "$STACK_PY" "$STACK_ROOT/tests/fixtures/healthd.py" \
			--http-port "$http" --https-port "$https" \
			--cert "$STACK_DIR/cert.pem" --key "$STACK_DIR/key.pem" \
			--port-file "$HT_PORTS.new" --pid-file "$HT_PID" --log "$HT_LOG" \
			</dev/null >>"$HT_LOG" 2>&1 &
		_stack_wait 10 test -s "$HT_PORTS.new" ||
			{ _stack_fail "healthd.py did not start" "$HT_LOG"; return 1; }
		mv "$HT_PORTS.new" "$HT_PORTS"
		read -r http https <"$HT_PORTS"
	fi
	_stack_wait 10 _stack_http_probe "$http" "$https" ||
		{ _stack_fail "healthd.py not answering on $http/$https" "$HT_LOG"; return 1; }
	export SECTOP_TEST_HTTP="http://127.0.0.1:$http"
	export SECTOP_TEST_HTTPS="https://127.0.0.1:$https"
	export SECTOP_TEST_CA=$STACK_DIR/cert.pem
}

stack_http_stop() {
	_stack_need_dir || return 1
	local pid
	_stack_http_paths
	pid=$(cat "$HT_PID" 2>/dev/null || true)
	_stack_alive "$pid" || return 0
	kill -CONT "$pid" 2>/dev/null || true
	kill -TERM "$pid" 2>/dev/null || true
	_stack_reap "$pid" 5
	rm -f "$HT_PID"
}

# ---------------------------------------------------------------- together

# DIR/env: every export, so a second shell can `source DIR/env`.
_stack_write_env() {
	local v
	for v in SECTOP_TEST_STACK SECTOP_TEST_STACK_DIR PGPASSFILE SECTOP_TEST_DB \
		SECTOP_TEST_PG_PORT SECTOP_TEST_PGDATA SECTOP_TEST_PG_BIN SECTOP_TEST_PG_SOCKDIR \
		SECTOP_TEST_REDIS SECTOP_TEST_REDIS_PORT SECTOP_TEST_REDIS_PIDFILE REDISCLI_AUTH \
		SECTOP_TEST_HTTP SECTOP_TEST_HTTPS SECTOP_TEST_CA HEALTHD_API_KEY HEALTHD_TOKEN; do
		[[ -n ${!v:-} ]] && printf 'export %s=%q\n' "$v" "${!v}"
	done | _stack_write_secret "$STACK_DIR/env"
}

# stack_start_all [DIR]: all three servers; again later to revive any that a
# test stopped (each start is a no-op for a server that runs).
# shellcheck disable=SC2120  # DIR is optional
stack_start_all() {
	if [[ -z $STACK_DIR || -n ${1:-} ]]; then
		stack_init "${1:-}" || return 1
	fi
	stack_pg_start && stack_redis_start && stack_http_start || return 1
	_stack_write_env
}

# stack_stop_all: stop what runs, remove a DIR that stack_init made.
# Never fails: it runs from traps.
stack_stop_all() {
	[[ -n $STACK_DIR ]] || return 0
	stack_http_stop || true
	stack_redis_stop || true
	stack_pg_stop || true
	if [[ -n $STACK_OWNED && -z ${SECTOP_KEEP_STACK:-} ]]; then
		rm -rf "$STACK_DIR"
	elif [[ -n $STACK_OWNED ]]; then
		_stack_say "kept $STACK_DIR (SECTOP_KEEP_STACK)"
	fi
	STACK_DIR=""
	STACK_OWNED=""
}

# stack_on_exit CMD: run CMD (a string for eval) before the servers stop.
stack_on_exit() { STACK_EXIT_HOOKS+=("$1"); }

_stack_exit() {
	local rc=$? h
	trap - EXIT INT TERM
	for h in "${STACK_EXIT_HOOKS[@]}"; do
		eval "$h" || true
	done
	stack_stop_all
	exit "$rc"
}

# stack_trap: stop everything however the script ends.  INT/TERM exit with
# the usual status, which runs the EXIT trap once.
stack_trap() {
	trap _stack_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
