# Shared by the command-line tests: the environment make check provides,
# and small assertions.  Sourced, not run.
set -u

: "${SECTOP:?SECTOP must name the built binary (make check sets it)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"

need_servers() {
	local v
	for v in "$@"; do
		if [ -z "${!v:-}" ]; then
			if [ "${SECTOP_REQUIRE_SERVERS:-0}" = 1 ]; then
				echo "$v is not set: the test servers are not running" >&2
				exit 99
			fi
			echo "skip: $v is not set (run scripts/test.sh to start the servers)" >&2
			exit 77
		fi
	done
}

failures=0
passes=0
ok() { passes=$((passes + 1)); echo "ok - $*"; }
not_ok() { failures=$((failures + 1)); echo "not ok - $*"; }
check() { # DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
finish() {
	echo "$passes passed, $failures failed"
	[ "$failures" -eq 0 ]
}

# psql as the test user, password from PGPASSFILE (never argv)
tsql() { psql "$SECTOP_TEST_DB" -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }
# a JSON query: jpath FILE PYTHON-EXPRESSION-ON-d
jpath() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
