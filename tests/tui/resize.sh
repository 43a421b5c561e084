#!/usr/bin/env bash
# Resizing the terminal while sectop runs: 80x24 -> 200x60 shows more rows,
# 40x12 says the terminal is too small, back to 80x24 draws the overview
# again; a burst of resizes, in the overview, a list and a drill-down, does
# not kill it.
. "$(dirname "$0")/lib.sh"
tui_init resize 14

# 30 addresses with distinct failure counts: more than 80x24 has room for.
tsql <<SQL || exit 99
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code)
SELECT now() - (g % 50) * interval '2 seconds', 't' || (a % 4), 'u' || g, 'failed_auth',
       ('10.9.0.' || a)::inet, '/login', 401
FROM generate_series(1, 30) a, generate_series(1, 40) g WHERE g <= a;
SQL

tui_start
check_shows "overview at 80x24" " Top addresses "
check_shows "the top address is the one with most failures" "10.9.0.30"

# addresses on screen: lines holding one of the seeded ones
addr_rows() { screen | grep -cE '(^| )10\.9\.0\.[0-9]+ '; }
size_is() { [ "$(pane '#{pane_width}x#{pane_height}')" = "$1" ]; }
resize() { tmx resize-window -t tui -x "${1%x*}" -y "${1#*x}" && wait_until 5 size_is "$1"; }

small=$(addr_rows)
check "80x24 shows some addresses ($small)" [ "$small" -gt 3 ]

resize 200x60
check_shows "200x60: the overview again" " Top addresses "
big_more() { [ "$(addr_rows)" -gt "$small" ]; }
check_until "200x60 shows more addresses than 80x24" 5 big_more
# The header ends with the clock, 9 columns from the right edge: where it
# is tells the frame was drawn for that width (a shrunk pane keeps the old
# frame's left part until the program redraws).
clock_for() { screen | head -1 | grep -qE "^.{$(($1 - 9))}[0-9]{2}:[0-9]{2}:[0-9]{2}$"; }
check_until "200x60: the clock moved to the right edge" 5 clock_for 200
check "alive at 200x60" alive

resize 80x24
check_until "80x24 again: redrawn for 80 columns" 5 clock_for 80
check_shows "80x24 again: the overview" " Top addresses "
check "80x24 again: no line wider than the terminal" [ "$(screen | wc -L)" -le 80 ]

resize 40x12
check_shows "40x12: terminal too small" "terminal too small"
check_shows "40x12: says the size it needs" "need 50x14"
check "alive at 40x12" alive

# keys still work while too small: switch to a list, and come back
keys 3
resize 80x24
check_shows "80x24 after a key pressed while too small: the tenants list" " 3 Tenants "
keys 1
check_shows "back on the overview" " Top addresses "

# a burst of sizes, in a list and in a drill-down
for s in 120x40 50x14 49x13 200x60 81x25 30x5 80x24; do tmx resize-window -t tui -x "${s%x*}" -y "${s#*x}"; done
keys 2
for s in 100x30 45x10 150x50 80x24; do tmx resize-window -t tui -x "${s%x*}" -y "${s#*x}"; done
keys Enter
for s in 60x20 20x4 210x61 80x24; do tmx resize-window -t tui -x "${s%x*}" -y "${s#*x}"; done
check "alive after a burst of resizes" alive
check_shows "the drill-down drawn at 80x24" "Address 10.9.0.30"
check "no line wider than the terminal" [ "$(screen | wc -L)" -le 80 ]
resize 40x12
check_shows "40x12 in a drill-down: too small" "terminal too small"
resize 50x14
check_shows "50x14 (the smallest allowed) draws the drill-down, not 'too small'" "Address 10.9.0.30"
check "... and not the message" lacks "terminal too small"
keys Escape 1
check_shows "50x14: the overview" " Top addresses "
check "50x14: no line wider than the terminal" [ "$(screen | wc -L)" -le 50 ]
# the smallest size the overview claims to be useful in shows the top address
# (lines 4-6: the Top addresses panel, above the Health one)
top_panel_has() { screen | sed -n 4,6p | grep -qF "$1"; }
check_until "50x14: the top address is shown" 3 top_panel_has 10.9.0.30
resize 80x24
check_shows "80x24: the overview again" " Recent failures "
check "sectop is still running" alive
finish
