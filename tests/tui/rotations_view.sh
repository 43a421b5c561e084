#!/usr/bin/env bash
# The rotations view: 9 lists the declared secrets with their policy, the
# last secret_rotated row and the state (ok, due, overdue, never); O asks
# the selected secret's webhook for a rotation once its name is typed, and
# the view shows the request; a 5xx leaves it unknown.
. "$(dirname "$0")/lib.sh"
tui_init rotview 14

hooklog=$work/hook.jsonl
python3 "$top_srcdir/tests/fixtures/webhookd.py" --port-file "$work/port" --log "$hooklog" \
	</dev/null >/dev/null 2>&1 &
hook_pid=$!
at_exit 'kill $hook_pid'
wait_until 5 test -s "$work/port" || exit 99
hook="http://127.0.0.1:$(cat "$work/port")"
: >"$hooklog"
tag=$$
cat >"$work/sectop.conf" <<EOF
secret = stripe_$tag kind=api_key webhook=$hook/ok/stripe token_env=ROT_TOKEN
secret = db_$tag kind=db_password webhook=$hook/fail/db token_env=ROT_TOKEN
secret = tls_$tag kind=tls_cert
secret = ssh_$tag kind=ssh_key max_age=30d
EOF
chmod 600 "$work/sectop.conf"
tsql -c "INSERT INTO $table (\"timestamp\", action, resource_type, resource_id) VALUES
	(now() - interval '10 days', 'secret_rotated', 'secret', 'stripe_$tag'),
	(now() - interval '170 days', 'secret_rotated', 'secret', 'db_$tag'),
	(now() - interval '400 days', 'secret_rotated', 'secret', 'tls_$tag')" || exit 99
TUI_ENV=("XDG_STATE_HOME=$work/state" "SECTOP_OPERATOR=hana" "ROT_TOKEN=tok-$tag")
requests() { if [ -s "$hooklog" ]; then wc -l <"$hooklog"; else echo 0; fi; }

tui_start -c "$work/sectop.conf"
check_shows "the console is up" "sectop" 8
keys 9
check_shows "9 lists the secrets" "Secret rotations (4)" 5
check_shows_re "... one rotated 10 days ago is ok" "stripe_$tag +ok +10d +90d" 5
check_shows_re "... a database password at 170 of 180 days is due" "db_$tag +due +170d +180d" 3
check_shows_re "... a certificate past 365 days is overdue" "tls_$tag +overdue +400d +365d" 3
check_shows_re "... a key never rotated says so, with its own max age" "ssh_$tag +never +never +30d" 3
keys O
check_shows "O opens the rotation dialog" "secret_rotation_requested stripe_$tag" 3
type_text "quarterly"
keys Enter
check_shows "... then asks for the name" "To confirm, type: stripe_$tag" 3
keys y Enter
check_shows "a single key does not confirm" "not confirmed" 3
check "... nothing sent" [ "$(requests)" = 0 ]
keys O
type_text "quarterly"
keys Enter
type_text "stripe_$tag"
keys Enter
check_shows "the typed name sends it" "rotation of stripe_$tag requested: HTTP 200" 5
check "... one request to the webhook" [ "$(requests)" = 1 ]
check "... with the bearer token from the environment" grep -q "Bearer tok-$tag" "$hooklog"
check_shows_re "the view shows the request" "stripe_$tag .*done .* by hana" 5
keys j O
type_text "leaked"
keys Enter
type_text "db_$tag"
keys Enter
check_shows "a 5xx leaves it unknown" "unknown state" 5
check_shows_re "... and the view says so" "db_$tag .*unknown [0-9][0-9]-[0-9][0-9] " 5
tui_stop
finish
