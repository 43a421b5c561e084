#!/usr/bin/env bash
# The console while a health endpoint's name never resolves (a DNS server
# that reads queries and never answers, in a mount namespace of sectop's
# own): keys answer at once, the endpoint shows the lookup timed out, and q
# quits at once, not when getaddrinfo gives up minutes later.
. "$(dirname "$0")/lib.sh"
tui_init resolver 4

hanging_resolver "$work"
at_exit "kill $dns_pid"
real=$SECTOP
SECTOP=$work/sectop-hanging
printf '#!/bin/sh\nexec unshare -m %q %q "$@"\n' "$work/hanging" "$real" >"$SECTOP"
chmod +x "$SECTOP"

tui_start --health "dead=http://never.example:8080/health" --health "up=$SECTOP_TEST_HTTP/health" \
	--server-timeout 2s
check_shows "the console is up" "health" 8
check_shows_re "the endpoint whose name never resolves is down" "dead +down +timed out" 10
keys 4
check_shows "keys answer meanwhile: the health list" "Health" 2
check_shows "... saying the lookup timed out (a lookup is bounded by the connect time)" "timed out after 2000 ms (lo" 2
keys q
t0=$(now_ms)
check_until "q quits at once" 3 eval '! alive'
echo "# quit took $(($(now_ms) - t0)) ms"
finish
