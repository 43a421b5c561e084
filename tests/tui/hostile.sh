#!/usr/bin/env bash
# Escape sequences in user agents, paths, tenant ids, user ids, Redis key
# names, block reasons and health bodies stay inert on screen: shown as
# \x1b and <U+202E> notations, while the pane's title, window name, paste
# buffers and modes stay as they were and the screen is not cleared.  The
# tmux server is set up so that each of these attacks would be observable,
# and a control run shows that they are.
. "$(dirname "$0")/lib.sh"
tui_init hostile 11

attacker=203.0.113.66
calm=192.0.2.10

# Every terminal-side effect an escape sequence could have, made visible.
tmx set-option -g set-clipboard on          # OSC 52 sets a paste buffer
tmx set-option -gw allow-rename on          # ESC k ... ESC \ renames the window
tmx set-option -gw allow-passthrough on     # DCS tmux; ... reaches the terminal
tmx set-option -gw automatic-rename off

# title name buffers: what an attack would change
observed() { echo "$(pane '#{pane_title}')|$(pane '#{window_name}')|$(tmx list-buffers -F '#{buffer_name}' | tr '\n' ' ')"; }
# terminal modes an escape sequence could flip
pane_modes() {
	pane 'alt=#{alternate_on} cursor=#{cursor_flag} insert=#{insert_flag} keypad=#{keypad_flag} mouse=#{mouse_any_flag} origin=#{origin_flag} wrap=#{wrap_flag}'
}
title_is() { [ "$(pane '#{pane_title}')" = "$1" ]; }
buffer_is() { [ "$(tmx show-buffer 2>/dev/null)" = "$1" ]; }
reset_observed() {
	local b
	tui_shell "printf '\\033]2;sectop-test\\007\\033ksectop-test\\033\\\\'"
	wait_until 5 title_is sectop-test
	for b in $(tmx list-buffers -F '#{buffer_name}'); do tmx delete-buffer -b "$b"; done
}

# --- control: the same sequences, printed raw, do change these ---------------
tui_shell "printf '\\033]2;control-title\\007\\033]52;c;Y29udHJvbA==\\007\\033kcontrol-name\\033\\\\'"
check "control: a raw OSC 2 sets the pane title" wait_until 5 title_is control-title
check "control: a raw OSC 52 fills a paste buffer" wait_until 5 buffer_is control
check "control: a raw ESC k renames the window" [ "$(pane '#{window_name}')" = control-name ]
reset_observed
baseline=$(observed)
check "reset: title, name, no buffers ($baseline)" [ "$baseline" = "sectop-test|sectop-test|" ]

# --- hostile data ----------------------------------------------------------------
seed() {
	tsql <<SQL
INSERT INTO $table ("timestamp", tenant_id, user_id, action, ip_address, path, status_code, user_agent) VALUES
 (now() - interval '50 seconds', 'calm-tenant', 'calm-user', 'failed_auth', '$calm', '/v1/fine', 401, 'normal-agent/1.0'),
 (now() - interval '40 seconds', E'evil\\x1b[31mtenant', E'\\x1bk-renamed\\x1b\\\\', 'failed_auth', '$attacker', E'/login\\x1b[2J\\x1b[H', 401, E'\\x1b]0;pwned\\x07 Mozilla'),
 (now() - interval '30 seconds', E'evil\\x1b[31mtenant', 'u2', 'failed_auth', '$attacker', E'/a\\u202eb', 401, E'\\x1b]52;c;cHduZWQ=\\x07'),
 (now() - interval '20 seconds', E'\\x1b]2;tenant-title\\x07', 'u3', 'failed_auth', '$attacker', '/x', 401, E'\\x1bPtmux;\\x1b\\x1b]2;passthru\\x07\\x1b\\\\'),
 (now() - interval '10 seconds', 'calm-tenant', 'calm-user', 'failed_auth', '$attacker', '/v1/fine', 401, E'\\x1b[?1000h\\x1b[?25h\\x1b[?1049l\\x1b[4h');
SQL
	rcli SET "blocked:"$'\x1b]0;pwned\x07' 1 EX 900 >/dev/null
	rcli SET "blocked:"$'\x1b]52;c;cHduZWQ=\x07' 1 EX 900 >/dev/null
	rcli SET "blocked:$attacker" \
		'{"by":"\u001b]2;by-title\u0007","reason":"\u001b[2J wipe \u202e","at":1700000000}' EX 900 >/dev/null
}
seed || { echo 'seeding failed' >&2; exit 99; }

tui_start --health "calm=$SECTOP_TEST_HTTP/health/healthy" --health "evil=$SECTOP_TEST_HTTP/health/hostile"
wait_for "redis ok" && wait_for "$attacker" && wait_for "calm-tenant"
modes=$(pane_modes)

# after_view WHAT: nothing outside the pane changed, the screen is whole
after_view() {
	check "$1: title, window name and buffers unchanged" [ "$(observed)" = "$baseline" ]
	check "$1: terminal modes unchanged" [ "$(pane_modes)" = "$modes" ]
	check "$1: the header is on the first line" [ "$(screen | head -1 | cut -c1-7)" = " sectop" ]
	check "$1: the screen was not cleared (header figures there)" shows "pg ok"
}

check_shows "overview: a hostile tenant id shows as a notation" 'evil\x1b[31m'
check_shows "overview: a hostile blocked key shows as a notation" '\x1b]0;pwned\x07'
check_shows "overview: the hostile path in recent failures" '/login\x1b'
check_shows "overview: the bidi override as <U+202E>" '/a<U+202E>b'
check_shows "overview: the calm rows are still there" "$calm"
after_view overview

keys 3
check_shows "tenants: the hostile tenant id, whole" 'evil\x1b[31mtenant'
check_shows "tenants: the OSC title tenant, inert" '\x1b]2;tenant-title\x07'
check_shows "tenants: the calm tenant is still there" "calm-tenant"
after_view tenants

keys 5
# At 80 columns the key column is cut (see the overview for the whole key).
check_shows "blocked: the OSC 0 key, inert" '\x1b]0;pwned'
check_shows "blocked: the OSC 52 key, inert" '\x1b]52;c;cHdu'
check_shows "blocked: the reason's clear screen and bidi, inert" '\x1b[2J wipe <U+202E>'
after_view blocked

keys 6
check_shows "recent failures: the clear-screen path, inert" '/login\x1b[2J\x1b[H'
check_shows "recent failures: the bidi path, inert" '/a<U+202E>b'
after_view "recent failures"

keys 2
wait_for " 2 Top addresses"
keys g
check_shows "the attacker heads the top addresses" "$attacker"
keys Enter
check_shows "drill-down opens" "Address $attacker"
check_shows "drill-down: the OSC 0 user agent, inert" '\x1b]0;pwned\x07 Mozilla'
check_shows "drill-down: the OSC 52 user agent, inert" '\x1b]52;c;cHduZWQ=\x07'
check_shows "drill-down: the passthrough user agent, inert" '\x1bPtmux;\x1b\x1b]2;passthru'
check_shows "drill-down: the mode-switching user agent, inert" '\x1b[?1000h\x1b[?25h'
check_shows "drill-down: the window-renaming user id, inert" "\\x1bk-renamed\\x1b\\"
check_shows "drill-down: the operator block's 'by', inert" '\x1b]2;by-title\x07'
after_view "address drill-down"

keys Escape 4
check_shows "health: the hostile endpoint is listed" "evil"
# the list is in configuration order: calm, then evil
keys g j Enter
check_shows "health drill-down opens" "Endpoint evil"
check_shows "health drill-down: the component name, inert" '\x1b]0;pwned\x07db'
check_shows "health drill-down: the component error, inert" '\x1b[31mred<U+202E>'
check_shows "health drill-down: the header value, inert" '\x1b[2Jdeny'
after_view "health drill-down"

keys Escape 1
check_shows "back on the overview" " Top addresses "
after_view "overview again"
check "sectop is still running" alive
finish
