#!/usr/bin/env bash
# The rate limits view (0): the addresses nearest their limit, the share of
# the limit each has used, when it resets, marked past 80% and past 100%;
# its title counts the servers' rate-limited events in the window.
. "$(dirname "$0")/lib.sh"
tui_init ratelimits 25

rcli SET ratelimit:198.51.100.61 130 EX 45 >/dev/null
rcli SET ratelimit:198.51.100.62 40 EX 45 >/dev/null
tsql -c "INSERT INTO $table (tenant_id, action, ip_address, status_code)
         SELECT 'acme', 'rate_limit_exceeded', '198.51.100.61', 429 FROM generate_series(1, 14)" || exit 99
tui_start --walk-interval 1s
keys 0
check_shows "0 opens the rate limits view" "Rate limits" 5
check_shows "... counting the rate-limited events in the window" "14 rate-limited events in the window" 8
check_shows_re "an address past its limit: 130, 130% of it" "198\.51\.100\.61 +130 +130%" 8
check_shows_re "another at 40%" "198\.51\.100\.62 +40 +40%" 5
check "the fuller first" [ "$(screen | grep -n '198.51.100.6[12]' | head -1 | grep -c 61)" = 1 ]
finish
