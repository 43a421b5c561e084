#!/usr/bin/env bash
# A DNS server that never answers: a health endpoint's name lookup is
# bounded (the connect time), so `snapshot --timeout 3s` ends in about 3 s
# and says why, and the other endpoints are checked meanwhile.  The
# resolver is made to hang for real: sectop runs in a mount namespace whose
# /etc/resolv.conf names a UDP socket that reads queries and never answers.
. "$(dirname "$0")/lib.sh"
need_servers SECTOP_TEST_DB SECTOP_TEST_REDIS SECTOP_TEST_HTTP

work=$(mktemp -d)
trap 'kill $dns_pid 2>/dev/null; rm -rf "$work"' EXIT
: >"$work/empty.conf"
chmod 600 "$work/empty.conf"
hanging_resolver "$work"
hanging() { unshare -m "$work/hanging" "$@"; }
t0=$(date +%s%N)
timeout 120 unshare -m "$work/hanging" "$SECTOP" snapshot -c "$work/empty.conf" --db "$SECTOP_TEST_DB" \
	--redis "$SECTOP_TEST_REDIS" --health "dead=http://never.example:8080/health" \
	--health "up=$SECTOP_TEST_HTTP/health" --timeout 3s >"$work/out" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "snapshot --timeout 3s with a name that never resolves ends in time (${ms} ms, exit $rc)" [ "$ms" -lt 5000 ]
check "... saying the lookup timed out" grep -q "dead .*looking up the host name" "$work/out"
check "... and the other endpoint was checked" grep -qE "^ +up +healthy" "$work/out"

# A notify target whose name never resolves: watch tells the alert on
# stderr at once, the lookup is abandoned at its deadline and retried later,
# and SIGTERM still stops it at once.
unshare -m "$work/hanging" "$SECTOP" watch -c "$work/empty.conf" --db "$SECTOP_TEST_DB" \
	--redis "$SECTOP_TEST_REDIS" --health "dead=http://127.0.0.1:1/health" \
	--notify "https://never.example/hook" --refresh 500ms </dev/null >/dev/null 2>"$work/watch" &
watch_pid=$!
t0=$SECONDS
until grep -q "never.example): no answer from the name lookup in time: retrying" "$work/watch" || [ $((SECONDS - t0)) -ge 10 ]; do
	sleep 0.2
done
check "watch: the alert told while the notify target's name hangs" grep -q "ALERT endpoint_down: dead" "$work/watch"
check "... the lookup given up at its deadline, to be retried" \
	grep -q "notify 1 (never.example): no answer from the name lookup in time: retrying in" "$work/watch"
t0=$(date +%s%N)
kill -TERM "$watch_pid"
wait "$watch_pid"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "... SIGTERM stops it with 0 ($rc)" [ "$rc" = 0 ]
check "... within the grace of the notification on its way (${ms} ms)" [ "$ms" -lt 3000 ]
finish
