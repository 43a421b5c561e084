# Shared by the terminal tests: the real binary in a tmux pane of its own,
# against the real test servers, asserting on what the pane shows.  Sourced,
# not run; builds on tests/cli/lib.sh (need_servers, check, ok/not_ok,
# finish, tsql).
#
# A test calls tui_init NAME REDIS_DB first.  Redis dbs 10-15 are the
# terminal tests' (the others use 5-9): a test that writes keys has a db
# of its own (overview 10, hostile 11, keys 12, bytes 13; hardening 9 and
# resolver 4, below the command-line tests' 5-8); the others
# share 14 and 15, which they only flush.  The test servers have 48 dbs:
# 16 and up are one test's each (command line: allowlist 16, repeat
# offenders 17, origins 18, rate limits 19, replication 20, partitions 21,
# ranges 29, teammates 32; terminal: allowlist 22, geoip 23, ranges 24, rate
# limits 25, wide 26, ranges by AS 27, notify 28 (with its command-line
# test), range block 30, look back 31, teammates 33).  That gives it:
#   $table      its own copy of audit_log (dropped on exit)
#   $redis_url  the shared Redis with its own db number (flushed on exit)
#   $work       a scratch directory (removed on exit)
#   a tmux server of its own, sectop-$$-NAME, killed on exit
# then tui_start [sectop options] runs sectop in the pane, and screen /
# wait_for / keys read and drive it.
# shellcheck shell=bash
# shellcheck source=../cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

# How the pane's terminal is described to sectop; a test may change these
# before tui_start.  tmux-256color is what tmux really is; screen-256color
# where that terminfo entry is missing.
TUI_TERM=tmux-256color
infocmp "$TUI_TERM" >/dev/null 2>&1 || TUI_TERM=screen-256color
TUI_LANG=C.UTF-8
TUI_ENV=()          # extra VAR=VALUE for sectop's environment
TUI_UNSET=()        # variables removed from sectop's environment
TUI_REFRESH=500ms   # quick refreshes keep the tests short

tui_cleanups=()
# at_exit COMMAND: run COMMAND (a string for eval) when the test ends,
# the last registered first.
at_exit() { tui_cleanups=("$1" "${tui_cleanups[@]}"); }

tui_cleanup() {
	local c
	for c in "${tui_cleanups[@]}"; do
		eval "$c" >/dev/null 2>&1
	done
}

# tui_init NAME REDIS_DB: skip without tmux or the servers, then make the
# test's own table, Redis db, scratch directory and tmux server.
tui_init() {
	tui_name=$1
	redis_db=$2
	command -v tmux >/dev/null 2>&1 || { echo "skip: tmux is not installed" >&2; exit 77; }
	need_servers SECTOP_TEST_DB SECTOP_TEST_REDIS SECTOP_TEST_HTTP
	export LANG=C.UTF-8
	unset LC_ALL LC_CTYPE

	tui_sock="sectop-$$-$tui_name"
	table="tui_${tui_name}_$$"
	redis_url="${SECTOP_TEST_REDIS%/*}/$redis_db"
	work=$(mktemp -d "${TMPDIR:-/tmp}/sectop-tui-$tui_name.XXXXXX")
	trap tui_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	at_exit 'rm -rf "$work"'
	at_exit 'tsql -c "DROP TABLE IF EXISTS $table"'
	at_exit 'rcli FLUSHDB'
	# kill-server leaves its socket behind
	at_exit 'rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$tui_sock"'
	at_exit 'tmux -L "$tui_sock" kill-server'
	# first of all: under script(1) sectop would outlive the tmux server
	at_exit 'tui_stop'

	# An empty configuration file: the user's and the system's stay out.
	: >"$work/empty.conf"
	chmod 600 "$work/empty.conf"
	tsql -c "CREATE TABLE $table (LIKE audit_log INCLUDING ALL)" || exit 99
	rcli FLUSHDB >/dev/null || exit 99
	tui_server
}

# redis-cli on the test's db; the password comes from REDISCLI_AUTH.
rcli() { redis-cli -u "$redis_url" "$@"; }

tmx() { tmux -L "$tui_sock" "$@"; }

# The test's tmux server: one window of 80x24 holding an idle shell until
# tui_start puts sectop in it.  No status line, so the pane is the window.
tui_server() {
	tmx -f /dev/null new-session -d -s tui -x 80 -y 24 "exec sleep 100000" || exit 99
	tmx set-option -g status off
	tmx set-option -g remain-on-exit on
	tmx set-option -g history-limit 0
}

# tui_start [OPTION...]: (re)start sectop in the pane, through a wrapper
# that records the terminal modes before and after, prints an exit marker
# and stays, so the screen after the exit can be read.  Returns once the
# process runs ($sectop_pid).  With TUI_RECORD=FILE, sectop runs under
# script(1), which copies everything it writes to the terminal into FILE.
TUI_RECORD=
# tui_geoip_fixture: the test MaxMind DB files in $work (make_mmdb.pl
# test), or a skip when the writer module or sectop's libmaxminddb is
# missing (a failure under SECTOP_REQUIRE_SERVERS=1 for the module).
tui_geoip_fixture() {
	perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null || {
		[ "${SECTOP_REQUIRE_SERVERS:-0}" = 1 ] && { echo "libmaxmind-db-writer-perl is missing" >&2; exit 99; }
		echo "skip: no MaxMind::DB::Writer (Debian: libmaxmind-db-writer-perl)" >&2; exit 77; }
	"$SECTOP" --version | grep -q "geoip" || { echo "skip: built without libmaxminddb" >&2; exit 77; }
	perl "$top_srcdir/tests/fixtures/make_mmdb.pl" test "$work" || exit 99
}

tui_start() {
	local v args=()
	args=(-c "$work/empty.conf" --db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table"
	      --refresh "$TUI_REFRESH" "$@")
	rm -f "$work/pid" "$work/stty.before" "$work/stty.after" "$work/rc"
	{
		echo '#!/bin/sh'
		# exec: the pid recorded is sectop's own
		echo 'echo $$ >pid.tmp && mv pid.tmp pid'
		printf 'exec %q' "$SECTOP"
		printf ' %q' "${args[@]}"
		echo
	} >"$work/sectop.sh"
	{
		echo '#!/usr/bin/env bash'
		printf 'export TERM=%q LANG=%q\n' "$TUI_TERM" "$TUI_LANG"
		echo 'unset LC_ALL LC_CTYPE NO_COLOR COLUMNS LINES'
		for v in "${TUI_UNSET[@]}"; do printf 'unset %q\n' "$v"; done
		for v in "${TUI_ENV[@]}"; do printf 'export %q\n' "$v"; done
		printf 'cd %q || exit 1\n' "$work"
		echo "printf '\\033[H\\033[2J'"
		echo 'stty -a >stty.before'
		if [ -n "$TUI_RECORD" ]; then
			printf 'script -q -f -e -c ./sectop.sh %q\n' "$TUI_RECORD"
		else
			echo './sectop.sh'
		fi
		echo 'rc=$?; echo $rc >rc'
		echo 'stty -a >stty.after'
		echo 'printf "\n[sectop exited %d]\n" "$rc"; cat stty.after; printf "$ "'
		echo 'exec sleep 100000'
	} >"$work/run.sh"
	chmod +x "$work/run.sh" "$work/sectop.sh"
	tmx clear-history -t tui
	tmx respawn-pane -k -t tui "$work/run.sh" || return 1
	wait_until 5 test -s "$work/pid" || { not_ok "sectop started"; return 1; }
	sectop_pid=$(cat "$work/pid")
}

# tui_stop: end the running sectop, if any: SIGTERM, then SIGKILL if it
# is still there after two seconds.
tui_stop() {
	alive || return 0
	kill "$sectop_pid"
	wait_until 2 eval '! alive' || kill -KILL "$sectop_pid"
}

# tui_shell COMMAND: run a shell command in the pane instead of sectop
# (for control experiments), leaving the pane open after it.
tui_shell() {
	tmx respawn-pane -k -t tui "$1; exec sleep 100000"
}

# ---------------------------------------------------------------- reading

# matches STRING REGEX: for check, which takes a command, not [[ ]]
matches() { [[ $1 =~ $2 ]]; }

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# wait_until SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds
# or SECONDS pass.  Screen conditions, never fixed sleeps.
wait_until() {
	local limit=$1 deadline
	shift
	deadline=$(($(now_ms) + limit * 1000))
	while :; do
		"$@" && return 0
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

screen() { tmx capture-pane -p -t tui; }
# with attributes and colours as SGR sequences
screen_e() { tmx capture-pane -p -e -t tui; }
pane() { tmx display-message -p -t tui "$1"; }

shows() { screen | grep -qF -- "$1"; }
shows_re() { screen | grep -qE -- "$1"; }
lacks() { ! shows "$1"; }

# wait_for TEXT [SECONDS]: until the screen shows TEXT (a fixed string)
wait_for() { wait_until "${2:-8}" shows "$1"; }
wait_gone() { wait_until "${2:-8}" lacks "$1"; }

# value_is EXPECTED COMMAND...: does COMMAND print EXPECTED?  For check_until,
# which must run the command anew each time (a "$(...)" in its arguments is
# expanded once, before the waiting starts).  value_above N COMMAND...: > N.
value_is() { [ "$("${@:2}")" = "$1" ]; }
value_above() { local v; v=$("${@:2}"); [ -n "$v" ] && [ "$v" -gt "$1" ]; }

# check_until DESCRIPTION SECONDS COMMAND...: wait_until as a check; on
# failure the screen goes to the log, which is what one needs to see.
check_until() {
	local what=$1 limit=$2
	shift 2
	if wait_until "$limit" "$@"; then ok "$what"; else not_ok "$what"; dump_screen; fi
}
# check_shows DESCRIPTION TEXT [SECONDS]
check_shows() { check_until "$1" "${3:-8}" shows "$2"; }
check_shows_re() { check_until "$1" "${3:-8}" shows_re "$2"; }
check_gone() { check_until "$1" "${3:-8}" lacks "$2"; }
dump_screen() { screen | sed 's/^/# | /'; }

# keys KEY...: as tmux names them (Enter, Escape, Tab, BTab, C-c, ...)
keys() { tmx send-keys -t tui "$@"; }
# type TEXT: literal characters
type_text() { tmx send-keys -t tui -l -- "$1"; }

alive() { [ -n "${sectop_pid:-}" ] && kill -0 "$sectop_pid" 2>/dev/null; }

# The window the console counts in, as the SQL of the console's contract
# (aligned to the minute).
in_window() { echo "\"timestamp\" >= date_trunc('minute', now()) - interval '${1:-15 minutes}'"; }
# shellcheck disable=SC2034 # used by the tests
failure_sql="(action IN ('failed_auth','unauthorized_access','authentication_failed') OR status_code IN (401,403))"

# A TTL as the console writes it ("59m57s", "1h00m", "42s") in seconds.
ttl_seconds() {
	local t=$1 s=0
	[[ $t =~ ^([0-9]+)h([0-9]+)m$ ]] && s=$((BASH_REMATCH[1] * 3600 + 10#${BASH_REMATCH[2]} * 60))
	[[ $t =~ ^([0-9]+)m([0-9]+)s$ ]] && s=$((BASH_REMATCH[1] * 60 + 10#${BASH_REMATCH[2]}))
	[[ $t =~ ^([0-9]+)s$ ]] && s=${BASH_REMATCH[1]}
	echo "$s"
}

# A free TCP port on the loopback interface.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
