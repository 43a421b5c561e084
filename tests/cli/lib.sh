# Shared by the command-line tests: the environment make check provides,
# and small assertions.  Sourced, not run.
set -u

: "${SECTOP:?SECTOP must name the built binary (make check sets it)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"

need_servers() {
	local v
	for v in "$@"; do
		if [ -z "${!v:-}" ]; then
			if [ "${SECTOP_REQUIRE_SERVERS:-0}" = 1 ]; then
				echo "$v is not set: the test servers are not running" >&2
				exit 99
			fi
			echo "skip: $v is not set (run scripts/test.sh to start the servers)" >&2
			exit 77
		fi
	done
}

failures=0
passes=0
ok() { passes=$((passes + 1)); echo "ok - $*"; }
not_ok() { failures=$((failures + 1)); echo "not ok - $*"; }
check() { # DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
finish() {
	echo "$passes passed, $failures failed"
	[ "$failures" -eq 0 ]
}

# psql as the test user, password from PGPASSFILE (never argv)
tsql() { psql "$SECTOP_TEST_DB" -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }
# a JSON query: jpath FILE PYTHON-EXPRESSION-ON-d
jpath() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# on_prompt: run sectop on a terminal of its own; when it asks, run a shell
# command (the state changing while the operator reads), then type the answer
on_prompt() { # SHELL-COMMAND ANSWER SECTOP-ARGS...
	python3 - "$@" <<'PY'
import os, pty, subprocess, sys, time
change, answer, args = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(args[0], args)
out, t0 = b"", time.time()
while not (b"Type " in out and out.rstrip().endswith(b":")) and time.time() - t0 < 10:
    try:
        out += os.read(fd, 4096)
    except OSError:
        break
subprocess.run(change, shell=True, check=True)
os.write(fd, answer.encode() + b"\r")
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
PY
}

# hanging_resolver DIR: a DNS server that reads queries and never answers,
# and DIR/hanging CMD...: CMD in a mount namespace whose /etc/resolv.conf
# names only it.  Its pid in dns_pid (the caller stops it); skips (77)
# where port 53 cannot be bound or no namespace made (not root).
hanging_resolver() {
	local dir=$1 ns
	ns=127.53.$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
	printf 'nameserver %s\noptions timeout:30 attempts:3\n' "$ns" >"$dir/resolv.conf"
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.bind((sys.argv[1], 53))
except OSError as e:
    print("bind:", e, flush=True); sys.exit(1)
print("ready", flush=True)
while True:
    s.recvfrom(4096)
' "$ns" >"$dir/dns.out" 2>&1 &
	dns_pid=$!
	for _ in $(seq 200); do grep -q . "$dir/dns.out" && break; sleep 0.1; done
	cat >"$dir/hanging" <<SH
#!/bin/sh
mount --bind "$dir/resolv.conf" /etc/resolv.conf && exec "\$@"
SH
	chmod +x "$dir/hanging"
	if ! grep -q ready "$dir/dns.out" || ! unshare -m "$dir/hanging" true 2>/dev/null; then
		echo "skip: cannot bind port 53 or make a mount namespace (needs root): $(cat "$dir/dns.out")" >&2
		exit 77
	fi
}
