#!/usr/bin/env bash
# Shell completion: every command, every option the binary knows (settings
# included), values for --format and drill scenarios, through bash's own
# completion machinery (bash-completion's _init_completion), as a user's
# Tab would.
. "$(dirname "$0")/lib.sh"
bc=/usr/share/bash-completion/bash_completion
[ -r "$bc" ] || {
	[ "${SECTOP_REQUIRE_SERVERS:-0}" = 1 ] && { echo "bash-completion is missing" >&2; exit 99; }
	echo "skip: bash-completion is not installed" >&2; exit 77; }

complete_line() { # WORDS...: what Tab offers after them (the last may be partial)
	bash -c '
		. "$1"; . "$2"; shift 2
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_sectop
		printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$bc" "$top_srcdir/completions/sectop.bash" "$SECTOP" "$@"
}

check "commands complete" [ "$(complete_line sna)" = snapshot ]
check "watch completes" [ "$(complete_line wat)" = watch ]
check "every command is offered" [ "$(complete_line '' | wc -l)" -ge 11 ]
check "a fixed option" [ "$(complete_line --print-i)" = --print-indexes ]
check "a setting as an option (--db-write)" grep -qx -- --db-write <(complete_line --db)
check "every setting: as many as --list-options" [ "$(complete_line -- --  | wc -l)" = "$("$SECTOP" --list-options | grep -c '^--')" ]
check "values of --format" [ "$(complete_line report --format j)" = json ]
check "drill scenarios" [ "$(complete_line drill cred)" = credential-stuffing ]
check "no second command after one" [ -z "$(complete_line snapshot re)" ]
check "--list-options lists each setting of sectop.conf(5)" \
	[ "$("$SECTOP" --list-options | grep -cx -- '--geoip-db\|--table\|--redis')" = 3 ]
finish
