#!/usr/bin/env bash
# Two operators on two machines (two journals, two SECTOP_OPERATORs) act on
# one incident: `sectop timeline --incident ID` merges every operator's
# records from the audit log with the local journal, each record once, the
# other's marked remote; with the audit log unreachable it prints the
# journal alone and says so.  The audit log's columns are renamed, as a
# deployment may: the configured names are used throughout.
. "$(dirname "$0")/lib.sh"
need_servers SECTOP_TEST_DB SECTOP_TEST_REDIS

work=$(mktemp -d)
db=32
redis_url="${SECTOP_TEST_REDIS%/*}/$db"
table=cli_team_$$
incident=INC-TEAM-$$
trap 'redis-cli -u "$redis_url" FLUSHDB >/dev/null 2>&1; tsql -c "DROP TABLE IF EXISTS $table" >/dev/null 2>&1; rm -rf "$work"' EXIT
redis-cli -u "$redis_url" FLUSHDB >/dev/null
tsql -c "CREATE TABLE $table (LIKE audit_log INCLUDING ALL)" -c "ALTER TABLE $table RENAME COLUMN user_id TO actor" \
	-c "ALTER TABLE $table RENAME COLUMN details TO extra" || exit 99
: >"$work/empty.conf"
chmod 600 "$work/empty.conf"

# as OPERATOR on a machine of its own (its journal): sectop ARGS...
as() {
	local who=$1
	shift
	mkdir -p "$work/$who"
	SECTOP_OPERATOR=$who XDG_STATE_HOME=$work/$who "$SECTOP" -c "$work/empty.conf" --db "$SECTOP_TEST_DB" \
		--redis "$redis_url" --table "$table" --column-user-id actor --column-details extra "$@" </dev/null
}

as alice block 203.0.113.71 --reason "first wave" --ttl 10m --incident "$incident" --yes >/dev/null 2>&1
check "alice blocks" [ $? -eq 0 ]
sleep 1.1
as bob block 203.0.113.72 --reason "second wave" --ttl 10m --incident "$incident" --yes >/dev/null 2>&1
check "bob blocks, from his own machine" [ $? -eq 0 ]
as bob block 203.0.113.71 --reason "me too" --ttl 10m --incident "$incident" --yes >/dev/null 2>&1
check "bob's block of alice's address finds nothing to do (exit 4)" [ $? -eq 4 ]
as bob block 203.0.113.73 --reason "another story" --ttl 10m --incident OTHER-$$ --yes >/dev/null 2>&1
check "... and acts on another incident" [ $? -eq 0 ]
check "the audit log holds both operators' rows" \
	[ "$(tsql -c "SELECT count(DISTINCT actor) FROM $table WHERE extra->>'incident' = '$incident'")" = 2 ]

as alice timeline --incident "$incident" >"$work/alice.md" 2>"$work/alice.err"
check "alice's timeline: exit 0" [ $? -eq 0 ]
check "... her block, once (the journal's record and its audit row are one)" \
	[ "$(grep -c '^| .* | alice | ip\\_blocked | 203\.0\.113\.71 ' "$work/alice.md")" = 1 ]
check "... bob's block, marked remote" grep -qE '^\| [0-9:]+ \| bob \(remote\) \| ip\\_blocked \| 203\.0\.113\.72 \| second wave \| done \|' "$work/alice.md"
check "... bob's attempt that found it done: already" grep -qE '^\| [0-9:]+ \| bob \(remote\) \| ip\\_blocked \| 203\.0\.113\.71 \| me too \| already' "$work/alice.md"
grep -q 203.0.113.73 "$work/alice.md"
check "... not the other incident's" [ $? -ne 0 ]
check "... in time order" python3 - "$work/alice.md" <<'PY'
import sys
rows = [l.split("|")[1].strip() for l in open(sys.argv[1]) if l.startswith("| ") and ":" in l.split("|")[1]]
assert len(rows) == 3 and rows == sorted(rows), rows
PY
check "... both operators in the summary" grep -q '^- Operators: alice, bob$' "$work/alice.md"
check "... and where it was read" grep -q 'the local journal and the audit log .*2 recorded elsewhere' "$work/alice.md"
check "... nothing on stderr" [ ! -s "$work/alice.err" ]

as bob timeline --incident "$incident" >"$work/bob.md" 2>/dev/null
check "bob's timeline has the same three actions" [ "$(grep -c '| ip\\_blocked |' "$work/bob.md")" = 3 ]
check "... alice's marked remote there" grep -q '| alice (remote) | ip\\_blocked | 203\.0\.113\.71 ' "$work/bob.md"

# Offline: nothing listens on the port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SECTOP_OPERATOR=alice XDG_STATE_HOME=$work/alice "$SECTOP" -c "$work/empty.conf" --db "host=127.0.0.1 port=$port" \
	timeline --incident "$incident" >"$work/off.md" 2>"$work/off.err"
check "offline: exit 0" [ $? -eq 0 ]
check "... the journal alone" [ "$(grep -c '| ip\\_blocked |' "$work/off.md")" = 1 ]
check "... said in the timeline" grep -q 'the local journal alone: the audit log did not answer' "$work/off.md"
check "... and on stderr" grep -q 'the audit log did not answer .*: the local journal alone' "$work/off.err"

# --since bounds the audit log's range: from after every row, none of bob's.
as alice timeline --incident "$incident" --since "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" >"$work/since.md" 2>/dev/null
check "--since after the rows: bob's are not read" [ "$(grep -c '(remote)' "$work/since.md")" = 0 ]
finish
