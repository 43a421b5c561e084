#!/usr/bin/env bash
# An action killed at each point of its way (after its intent is journalled,
# after the servers changed, after its result is journalled) is not lost:
# the next command reconciles it against the servers and journals and
# audits it as "interrupted: applied" or "interrupted: not applied"; a
# SIGTERM or a SIGHUP meanwhile lets it finish and record itself first.
# The action stops itself at the point (SECTOP_STOP_AT) and is killed there.
. "$(dirname "$0")/lib.sh"
need_servers SECTOP_TEST_DB SECTOP_TEST_REDIS

work=$(mktemp -d)
db=5
redis_url="${SECTOP_TEST_REDIS%/*}/$db"
tenant="interrupted-$$"
export XDG_STATE_HOME=$work/state SECTOP_OPERATOR=ivan
journal=$work/state/sectop/journal.jsonl
trap 'redis-cli -u "$redis_url" FLUSHDB >/dev/null 2>&1; tsql -c "DELETE FROM audit_log WHERE user_id = '"'"'ivan'"'"'; DELETE FROM api_keys WHERE tenant_id = '"'"'$tenant'"'"'" >/dev/null 2>&1; rm -rf "$work"' EXIT
redis-cli -u "$redis_url" FLUSHDB >/dev/null
: >"$work/empty.conf"
chmod 600 "$work/empty.conf"

act() { "$SECTOP" "$@" -c "$work/empty.conf" --db "$SECTOP_TEST_DB" --redis "$redis_url" </dev/null; }
rget() { redis-cli -u "$redis_url" "$@"; }
audit_of() { # ACTION RESOURCE: the outcome of its audit rows, one a line
	tsql -c "SELECT coalesce(details->>'outcome', 'done') FROM audit_log WHERE user_id = 'ivan' AND action = '$1' AND resource_id = '$2'"
}
outcome_of() { # TARGET: the result records' outcome/status of its intents
	python3 - "$journal" "$1" <<'PY'
import json, sys
ids = set(); out = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("phase") == "intent" and r.get("target") == sys.argv[2]: ids.add(r["id"])
    elif r.get("phase") == "result" and r["id"] in ids: out.append(r.get("outcome") or r.get("status"))
print(",".join(out))
PY
}
# stopped_at POINT ARGS...: start the action; return once it has stopped itself there
stopped_at() {
	local point=$1 state
	shift
	SECTOP_STOP_AT=$point "$SECTOP" "$@" -c "$work/empty.conf" --db "$SECTOP_TEST_DB" --redis "$redis_url" \
		</dev/null >"$work/stopped.out" 2>&1 &
	victim=$!
	for _ in $(seq 100); do
		state=$(ps -o stat= -p "$victim" 2>/dev/null)
		[[ $state == T* ]] && return 0
		sleep 0.1
	done
	return 1
}
killed() { kill -KILL "$victim"; wait "$victim" 2>/dev/null; }

# --- kill -9 after the intent, before anything was sent ----------------------
check "a block stops after its intent" stopped_at intent block 203.0.113.90 --reason "killed early" --yes
killed
check "... killed there: nothing blocked" [ "$(rget EXISTS blocked:203.0.113.90)" = 0 ]
check "... and no result yet" [ -z "$(outcome_of 203.0.113.90)" ]
act unblock 203.0.113.200 --yes >"$work/out" 2>&1
check "the next command reconciles it: journalled 'interrupted: not applied'" [ "$(outcome_of 203.0.113.90)" = "interrupted: not applied" ]
check "... audited as such" [ "$(audit_of ip_blocked_noop 203.0.113.90)" = "interrupted: not applied" ]
check "... and says so" grep -q "1 interrupted action reconciled" "$work/out"
act unblock 203.0.113.201 --yes >/dev/null 2>&1
check "... once" [ "$(outcome_of 203.0.113.90)" = "interrupted: not applied" ] && [ "$(audit_of ip_blocked_noop 203.0.113.90 | wc -l)" = 1 ]

# --- kill -9 after Redis changed, before the result was journalled -----------
check "a block stops after it was executed" stopped_at executed block 203.0.113.91 --reason "killed late" --yes
killed
check "... killed there: the block is in Redis" [ "$(rget EXISTS blocked:203.0.113.91)" = 1 ]
act unblock 203.0.113.202 --yes >/dev/null 2>&1
check "the next command journals it 'interrupted: applied'" [ "$(outcome_of 203.0.113.91)" = "interrupted: applied" ]
check "... and audits it as a block, interrupted: applied" [ "$(audit_of ip_blocked 203.0.113.91)" = "interrupted: applied" ]

# an unblock and an extend, killed after executing
rget SET blocked:203.0.113.92 x EX 600 >/dev/null
check "an unblock stops after it was executed" stopped_at executed unblock 203.0.113.92 --yes
killed
rget SET blocked:203.0.113.93 x EX 60 >/dev/null
check "an extend stops after it was executed" stopped_at executed extend 203.0.113.93 --reason longer --ttl 2h --yes
killed
rget SET blocked:203.0.113.94 x EX 60 >/dev/null
check "another extend stops before it was executed" stopped_at intent extend 203.0.113.94 --reason longer --ttl 2h --yes
killed
act unblock 203.0.113.203 --yes >/dev/null 2>&1
check "the unblock: interrupted: applied" [ "$(outcome_of 203.0.113.92)" = "interrupted: applied" ]
check "the extend that ran: interrupted: applied" [ "$(outcome_of 203.0.113.93)" = "interrupted: applied" ]
check "the extend that did not: interrupted: not applied" [ "$(outcome_of 203.0.113.94)" = "interrupted: not applied" ]

# --- kill -9 after the result, before the audit row -------------------------
check "a block stops after its result" stopped_at result block 203.0.113.95 --reason "killed at the end" --yes
killed
check "... its result is journalled" [ "$(outcome_of 203.0.113.95)" = done ]
act unblock 203.0.113.204 --yes >/dev/null 2>&1
check "the next command writes its audit row" [ "$(audit_of ip_blocked 203.0.113.95)" = done ]

# --- a revoke killed after its UPDATE committed -----------------------------
key=$(tsql -c "INSERT INTO api_keys (tenant_id, name, key_prefix) VALUES ('$tenant', 'k', 'sk_int_1') RETURNING id" | head -1)
check "a revoke stops after it was executed" stopped_at executed revoke "$key" --tenant "$tenant" --reason leaked --yes
killed
act unblock 203.0.113.205 --yes >/dev/null 2>&1
check "... reconciled from the table: interrupted: applied" [ "$(outcome_of "$key")" = "interrupted: applied" ]
check "... audited" [ "$(audit_of api_key_revoked "$key")" = "interrupted: applied" ]

# --- SIGTERM and SIGHUP: the action finishes and records itself -------------
for sig in TERM HUP; do
	ip=203.0.113.$((96 + ${#sig}))
	check "SIG$sig: a block stopped after it was executed" stopped_at executed block "$ip" --reason "sig$sig" --yes
	kill -"$sig" "$victim"
	kill -CONT "$victim"
	wait "$victim"
	rc=$?
	check "... ends by the signal ($rc), after the action finished" [ "$rc" -gt 128 ] && [ "$(rget EXISTS "blocked:$ip")" = 1 ]
	check "... its result journalled" [ "$(outcome_of "$ip")" = done ]
	check "... and audited, with no command after it" [ "$(audit_of ip_blocked "$ip")" = done ]
done
finish
