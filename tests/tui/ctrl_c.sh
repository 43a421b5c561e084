#!/usr/bin/env bash
# Ctrl-C ends the console and gives the terminal back as it was: canonical
# mode and echo on (the wrapper records `stty -a` before and after), the
# alternate screen left, the cursor visible.  The same from a prompt, and
# on SIGTERM and SIGHUP sent to the process.
. "$(dirname "$0")/lib.sh"
tui_init ctrl_c 15

tsql -c "INSERT INTO $table (tenant_id, action, ip_address, status_code)
         SELECT 'acme', 'failed_auth', '203.0.113.5', 401 FROM generate_series(1, 3)" >/dev/null || exit 99

# stty_flag FILE FLAG: FLAG is on (listed without a leading '-')
stty_flag() { tr -s ' ;' '\n' <"$1" | grep -qxF -- "$2"; }

# pane_stty_on FLAG...: the wrapper's `stty -a` on screen lists each FLAG on
pane_stty_on() {
	local f
	for f in "$@"; do screen | tr -s ' ;' '\n' | grep -qxF -- "$f" || return 1; done
}
# terminal_restored HOW: the checks after sectop has gone
terminal_restored() {
	check_shows "$1: sectop exits (the wrapper's marker)" "[sectop exited" 5
	check "$1: exit status 0" [ "$(cat "$work/rc" 2>/dev/null)" = 0 ]
	check "$1: icanon on afterwards" stty_flag "$work/stty.after" icanon
	check "$1: echo on afterwards" stty_flag "$work/stty.after" echo
	check "$1: the pane shows stty's icanon and echo" pane_stty_on icanon echo
	check "$1: every mode as before" diff <(sed 1d "$work/stty.before") <(sed 1d "$work/stty.after")
	check "$1: the alternate screen is left" [ "$(pane '#{alternate_on}')" = 0 ]
	check "$1: the cursor is visible" [ "$(pane '#{cursor_flag}')" = 1 ]
	check "$1: the console is gone from the screen" lacks "Top addresses"
	check "$1: the process is gone" bash -c '! kill -0 "$1" 2>/dev/null' _ "$sectop_pid"
}

tui_start
check_shows "running" " Top addresses "
check "the console has the alternate screen" [ "$(pane '#{alternate_on}')" = 1 ]
# seen from outside, on the pane's tty: so the checks after are not vacuous
stty -a -F "$(pane '#{pane_tty}')" >"$work/stty.running" 2>&1
check "while running: icanon off" stty_flag "$work/stty.running" -icanon
check "while running: echo off" stty_flag "$work/stty.running" -echo
keys C-c
terminal_restored "Ctrl-C"

tui_start
check_shows "running again" " Top addresses "
keys 2 /
check_shows "a filter prompt is open" "filter: _" 3
type_text 203
keys C-c
terminal_restored "Ctrl-C in a prompt"

tui_start
check_shows "running again" " Top addresses "
kill -TERM "$sectop_pid"
terminal_restored "SIGTERM"

tui_start
check_shows "running again" " Top addresses "
kill -HUP "$sectop_pid"
terminal_restored "SIGHUP"
finish
