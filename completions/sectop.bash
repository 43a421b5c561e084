# bash completion for sectop(1).  The options come from the binary itself
# (`sectop --list-options`, one a line), so every setting of sectop.conf(5)
# completes as --KEY without this file knowing them.
_sectop()
{
	local cur prev words cword
	_init_completion || return

	local commands="snapshot report block unblock extend revoke rotate setup timeline drill console watch"
	case $prev in
	--format)
		COMPREPLY=($(compgen -W "text json markdown csv html" -- "$cur")); return ;;
	--window|--ttl)
		COMPREPLY=($(compgen -W "5m 15m 1h 6h 24h 7d" -- "$cur")); return ;;
	--since|--until)
		COMPREPLY=($(compgen -W "24h 7d 30d yesterday" -- "$cur")); return ;;
	-c|--config|--output|--journal|--log|--log-file|--geoip-db|--allow-file|--*-file|--*-dir)
		_filedir; return ;;
	--theme)
		local d dirs=("${SECTOP_THEME_DIR:-}" "${XDG_CONFIG_HOME:-$HOME/.config}/sectop/themes"
		              /usr/local/share/sectop/themes /usr/share/sectop/themes)
		local names=()
		for d in "${dirs[@]}"; do
			[[ -n $d && -d $d ]] && names+=("$d"/*.theme)
		done
		names=("${names[@]##*/}")
		COMPREPLY=($(compgen -W "${names[*]%.theme} default dark light high-contrast monochrome" -- "$cur"))
		return ;;
	drill)
		COMPREPLY=($(compgen -W "brute-force credential-stuffing new-country-key health-outage --list" -- "$cur"))
		return ;;
	setup)
		COMPREPLY=($(compgen -W "--rollup --drop-rollup --dry-run" -- "$cur")); return ;;
	rotate)
		COMPREPLY=($(compgen -W "--status" -- "$cur")); return ;;
	esac
	if [[ $cur == -* ]]; then
		local opts
		opts=$("${words[0]}" --list-options 2>/dev/null) || return
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	local i
	for ((i = 1; i < cword; i++)); do
		[[ " $commands " == *" ${words[i]} "* ]] && return   # a command is there already
	done
	COMPREPLY=($(compgen -W "$commands" -- "$cur"))
}
complete -F _sectop sectop
