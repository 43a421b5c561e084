#!/usr/bin/env bash
# Without colour (NO_COLOR=1, --no-color) states stay distinct through
# attributes alone: reverse, bold, no colour SGR at all.  Common terminal
# types start and draw.  Without a UTF-8 locale (LANG=C) or with --ascii,
# nothing but ASCII reaches the screen: borders, sparkline and data.
. "$(dirname "$0")/lib.sh"
tui_init colour 15

# failures in each of the last minutes, so the sparkline has bars; a
# tenant with a non-ASCII name
tsql <<SQL >/dev/null || exit 99
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code)
SELECT date_trunc('minute', now()) - m * interval '1 minute' + interval '5 seconds', 'café', 'u1', 'failed_auth',
       '203.0.113.77', '/login', 401
FROM generate_series(0, 9) m, generate_series(1, 12) g WHERE g <= m + 3;
SQL
health=(--health "up1=$SECTOP_TEST_HTTP/health/healthy" --health "deg1=$SECTOP_TEST_HTTP/health/degraded"
        --health "dn1=$SECTOP_TEST_HTTP/health/down")

# sgr ACTION [ARGS]: read `capture-pane -e` on stdin and answer
#   colours            the colour SGRs used (30-37, 38;..., 40-47, 48;..., 90-107), one per line
#   attrs LINE WORD    the attributes (bold dim underline reverse) WORD is drawn
#                      with, on the first line holding LINE
cat >"$work/sgr.py" <<'PY'
import re, sys
text = sys.stdin.read().replace('\x0e', '').replace('\x0f', '')
text = re.sub(r'\x1b[()][0B]', '', text)
action = sys.argv[1]
if action == 'colours':
    found = set()
    for params in re.findall(r'\x1b\[([0-9;:]*)m', text):
        p = [int(x) if x else 0 for x in re.split('[;:]', params)]
        i = 0
        while i < len(p):
            v = p[i]
            if v in (38, 48, 58):
                found.add(';'.join(map(str, p[i:i + 3])))
                i += 3 if i + 1 < len(p) and p[i + 1] == 5 else 5
                continue
            if 30 <= v <= 37 or 40 <= v <= 47 or 90 <= v <= 97 or 100 <= v <= 107:
                found.add(str(v))
            i += 1
    print('\n'.join(sorted(found)))
    sys.exit(0)
line_key, word = sys.argv[2], sys.argv[3]
names = {1: 'bold', 2: 'dim', 4: 'underline', 7: 'reverse'}
offs = {22: ('bold', 'dim'), 24: ('underline',), 27: ('reverse',)}
for line in text.split('\n'):
    plain = re.sub(r'\x1b\[[0-9;:]*m', '', line)
    if line_key not in plain:
        continue
    state, col = set(), 0
    target = plain.index(word, plain.index(line_key)) if word in plain[plain.index(line_key):] else -1
    pos = 0
    while pos < len(line):
        m = re.match(r'\x1b\[([0-9;:]*)m', line[pos:])
        if m:
            for x in (m.group(1) or '0').split(';'):
                v = int(x) if x else 0
                if v == 0:
                    state.clear()
                elif v in names:
                    state.add(names[v])
                elif v in offs:
                    state.difference_update(offs[v])
            pos += m.end()
            continue
        if col == target:
            print(' '.join(sorted(state)) or 'plain')
            sys.exit(0)
        col += 1
        pos += 1
    break
print('not found')
PY
sgr() { python3 "$work/sgr.py" "$@"; }

has_attrs() { # LINE WORD ATTR...: WORD is drawn with each ATTR
	local got a
	got=$(screen_e | sgr attrs "$1" "$2")
	shift 2
	for a in "$@"; do case " $got " in *" $a "*) ;; *) echo "# drawn as: $got" >&2; return 1 ;; esac; done
}
lacks_attrs() { # LINE WORD ATTR...: WORD is drawn with none of them
	local got a
	got=$(screen_e | sgr attrs "$1" "$2")
	[ "$got" != "not found" ] || return 1
	shift 2
	for a in "$@"; do case " $got " in *" $a "*) echo "# drawn as: $got" >&2; return 1 ;; esac; done
}
no_colour() { [ -z "$(screen_e | sgr colours)" ]; }
some_colour() { [ -n "$(screen_e | sgr colours)" ]; }
only_ascii() { ! screen | LC_ALL=C grep -q '[^ -~]'; }
some_non_ascii() { screen | LC_ALL=C grep -q '[^ -~]'; }
no_charset_switch() { ! screen_e | grep -q $'\x0e\|\x1b(0'; }

# quit: end this run before the next one starts
quit() { keys q; wait_for "[sectop exited" 5; }
# drawn: the overview with its figures and the health states in
drawn() { wait_for "pg ok" && wait_for "203.0.113.77" && wait_for "degraded" && wait_for " dn1 "; }

# --- colour on: the positive control for the checks below ---------------------
tui_start "${health[@]}"
drawn
check "colour: the screen has colour SGRs (so the no-colour check can fail)" some_colour
check "UTF-8: the screen has non-ASCII (so the ASCII check can fail)" some_non_ascii
check "UTF-8: the tenant's é as it is" shows "café"
quit

# --- no colour: attributes only ----------------------------------------------------
no_colour_checks() { # HOW
	check "$1: drawn" drawn
	check "$1: no colour SGR" no_colour
	check "$1: the header in reverse" has_attrs " sectop " sectop reverse
	check "$1: a down endpoint in reverse bold (alert)" has_attrs " dn1 " down reverse bold
	check "$1: a degraded endpoint in bold (warning)" has_attrs " deg1 " degraded bold
	check "$1: ... not reverse (not an alert)" lacks_attrs " deg1 " degraded reverse
	check "$1: a healthy endpoint neither bold nor reverse" lacks_attrs " up1 " healthy bold reverse
	check "$1: the selected address in reverse" has_attrs "203.0.113.77" 203.0.113.77 reverse
}
TUI_ENV=(NO_COLOR=1)
tui_start "${health[@]}"
no_colour_checks NO_COLOR=1
quit
TUI_ENV=()
tui_start --no-color "${health[@]}"
no_colour_checks --no-color
quit

# --- terminal types ------------------------------------------------------------------
for term in vt100 linux screen tmux-256color xterm-256color; do
	if ! infocmp "$term" >/dev/null 2>&1; then
		echo "# no terminfo entry for $term: not tried"
		continue
	fi
	TUI_TERM=$term
	tui_start "${health[@]}"
	check "TERM=$term: the overview is drawn" drawn
	check "TERM=$term: ... with its panels" shows " Recent failures "
	quit
	check "TERM=$term: quits with status 0" [ "$(cat "$work/rc" 2>/dev/null)" = 0 ]
done
TUI_TERM=tmux-256color
infocmp "$TUI_TERM" >/dev/null 2>&1 || TUI_TERM=screen-256color

# --- ASCII only -----------------------------------------------------------------------
ascii_checks() { # HOW
	check "$1: drawn" drawn
	check "$1: nothing but ASCII on the screen" only_ascii
	check "$1: no line-drawing character set either" no_charset_switch
	check "$1: borders of '-'" shows_re '^-+ Top addresses -+'
	check "$1: the sparkline in ASCII" shows_re 'failures/min +[ _.=+*#@-]*[_.=+*#@-]'
	check "$1: the tenant's é as a notation" shows "caf<U+00E9>"
}
TUI_LANG=C
tui_start "${health[@]}"
ascii_checks LANG=C
quit
TUI_LANG=C.UTF-8
tui_start --ascii "${health[@]}"
ascii_checks --ascii
quit
finish
