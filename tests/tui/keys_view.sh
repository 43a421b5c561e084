#!/usr/bin/env bash
# The API keys view and the actions view: 7 lists the keys (prefix, state,
# never the key), K revokes the selected one only when its prefix is typed,
# the list reads the table again with r, a tenant's drill-down leads to its
# keys, --read-only refuses, and 8 shows the journal with the revoke.
. "$(dirname "$0")/lib.sh"
tui_init keysview 14

keys_table="tui_keys_$$"
at_exit 'tsql -c "DROP TABLE IF EXISTS $keys_table"'
tsql -c "CREATE TABLE $keys_table (LIKE api_keys INCLUDING ALL)" || exit 99
tsql -c "INSERT INTO $keys_table (tenant_id, name, key_prefix, scopes, last_used_at) VALUES
	('acme', 'ci deploy', 'sk_live_ab12', '{read,write}', now() - interval '2 hours'),
	('acme', E'old \x1b[31mexport', 'sk_live_cd34', '{read}', NULL),
	('globex', 'billing', 'sk_live_ef56', '{billing}', now())" || exit 99
tsql -c "INSERT INTO $table (tenant_id, user_id, action, ip_address, status_code)
	VALUES ('acme', 'u1', 'api_request', '198.51.100.7', 200)" || exit 99
TUI_ENV=("XDG_STATE_HOME=$work/state" "SECTOP_OPERATOR=gina")
revoked() { tsql -c "SELECT revoked_at IS NOT NULL FROM $keys_table WHERE key_prefix = '$1'"; }

tui_start --keys-table "$keys_table"
check_shows "the console is up" "acme" 8
keys 7
check_shows "7 lists the API keys" "API keys (3)" 5
check_shows_re "... with prefix, state and last use" "acme +sk_live_ab12 +active +ci deploy +2h" 3
check_shows_re "... a key never used is flagged" "sk_live_cd34 +unused" 3
check_shows "... a hostile name shown inert (the escape made visible)" 'old \x1b[31mexport' 3
keys j K
check_shows "K opens the revoke dialog" "api_key_revoked" 3
check_shows "... naming the tenant" "of tenant acme" 3
check_shows "... and what it will run" "will run: UPDATE $keys_table SET revoked_at" 3
type_text "unused for months"
keys Enter
check_shows "then it asks for the prefix" "To confirm, type: sk_live_cd34" 3
keys y Enter
check_shows "a single key does not confirm" "not confirmed" 3
check "... nothing revoked" [ "$(revoked sk_live_cd34)" = f ]
keys K
type_text "unused for months"
keys Enter
type_text "sk_live_cd34"
keys Enter
check_shows "the typed prefix revokes it" "revoked" 5
revoked_by() { tsql -c "SELECT revoked_by || '/' || revoke_reason FROM $keys_table WHERE key_prefix = '$1'"; }
check_until "... in the table, by the operator" 5 value_is "gina/unused for months" revoked_by sk_live_cd34
check "... only that key" [ "$(revoked sk_live_ab12)" = f ]
keys r
check_shows_re "r reads the keys again: the key shows revoked" "sk_live_cd34 +revoked" 5
keys K
check_shows "a revoked key is not revoked twice" "revoked already" 3
keys 8
check_shows "8 shows the journal" "Actions (journal)" 3
check_shows_re "... with the revoke, its result and reason" "api_key_revoked .* done +unused for months" 3
tmx resize-window -t tui -x 120 -y 24
check_shows_re "... and who, given the room" "api_key_revoked .* done +gina +unused for months" 3
tmx resize-window -t tui -x 80 -y 24
keys 3
check_shows "the tenants list" "Tenants" 3
keys Enter
check_shows "a tenant's drill-down" "Tenant acme" 5
keys K
check_shows "K there lists the tenant's keys" "filter \"acme\": 2" 5
tui_stop

tui_start --keys-table "$keys_table" --read-only
check_shows "read-only: up" "READ-ONLY" 8
keys 7
check_shows "the keys are listed" "sk_live_ab12" 5
keys K
check_shows "K is refused" "read-only: no action is taken" 3
check "... nothing revoked" [ "$(revoked sk_live_ab12)" = f ]
tui_stop
finish
