#!/usr/bin/env bash
# Redis over TLS, against a TLS-only redis-server this test starts on
# loopback (--port 0 --tls-port) with a certificate from a CA the test
# makes with openssl, asking for client certificates.  rediss:// with
# redis-ca-file and a client certificate works for a snapshot, a report,
# an action and the console (whose keyspace-event subscriber speaks TLS
# too), through a TLS-only sentinel (rediss-sentinel://) and on a cluster
# whose nodes speak TLS only; a CA that is not the server's, a name the certificate does not
# hold, and no client certificate are each refused, and said so.  Figures
# are checked against redis-cli --tls; no KEYS ever ran.
. "$(dirname "$0")/lib.sh"
command -v redis-server >/dev/null 2>&1 || { echo "skip: no redis-server" >&2; exit 77; }
command -v openssl >/dev/null 2>&1 || { echo "skip: no openssl" >&2; exit 77; }
tui_init tls 13
export XDG_STATE_HOME=$work/state SECTOP_OPERATOR="tls-test-$$"
at_exit 'tsql -c "DELETE FROM audit_log WHERE user_id = '"'"'$SECTOP_OPERATOR'"'"'"'

# --- a test CA, the server's certificate (for 127.0.0.1 only), a client's,
# and a second CA that signed nothing of this
pki=$work/pki
mkdir -p "$pki"
ssl() { openssl "$@" 2>>"$pki/openssl.log"; }
make_ca() { # NAME
	ssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=sectop test $1" \
		-keyout "$pki/$1.key" -out "$pki/$1.crt" || exit 99
}
make_ca ca
make_ca other-ca
ssl req -newkey rsa:2048 -nodes -subj "/CN=redis" -keyout "$pki/server.key" -out "$pki/server.csr" || exit 99
printf 'subjectAltName=IP:127.0.0.1\n' >"$pki/server.ext"
ssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
	-extfile "$pki/server.ext" -out "$pki/server.crt" || exit 99
ssl req -newkey rsa:2048 -nodes -subj "/CN=sectop" -keyout "$pki/client.key" -out "$pki/client.csr" || exit 99
ssl x509 -req -in "$pki/client.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
	-out "$pki/client.crt" || exit 99
chmod 600 "$pki"/*.key

# --- a TLS-only Redis that wants client certificates, publishing keyspace events
port=$(free_port)
redis-server --port 0 --tls-port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
	--logfile "$work/redis.log" --tls-cert-file "$pki/server.crt" --tls-key-file "$pki/server.key" \
	--tls-ca-cert-file "$pki/ca.crt" --tls-auth-clients yes --notify-keyspace-events KA --daemonize no &
at_exit "kill $! && wait $!"
tcli() { redis-cli -h 127.0.0.1 -p "$port" --tls --cacert "$pki/ca.crt" --cert "$pki/client.crt" \
	--key "$pki/client.key" "$@"; }
up() { [ "$(tcli PING 2>/dev/null)" = PONG ]; }
wait_until 5 up || { echo "the TLS redis-server did not start" >&2; exit 99; }
rcli() { tcli "$@"; }
TUI_UNSET=(REDISCLI_AUTH)
unset REDISCLI_AUTH

for i in $(seq 1 25); do
	tcli SET "blocked:198.51.100.$i" '{"by":"alice","reason":"seed","at":1700000000}' EX 3600 >/dev/null
done
tcli SET "failed_auth:198.51.100.3" 7 EX 300 >/dev/null
count_blocked() { tcli --scan --pattern 'blocked:*' | wc -l; }

redis_url="rediss://127.0.0.1:$port/0"
tls_opts=(--redis-ca-file "$pki/ca.crt" --redis-cert-file "$pki/client.crt" --redis-key-file "$pki/client.key")
run() { "$SECTOP" -c "$work/empty.conf" --db "$SECTOP_TEST_DB" --redis "$redis_url" --table "$table" "$@" </dev/null; }

# --- what works -------------------------------------------------------------
run snapshot --format json "${tls_opts[@]}" >"$work/s.json" 2>"$work/s.err"
check "snapshot over TLS exits 0" [ $? -eq 0 ]
check "its redis source is ok" [ "$(jpath "$work/s.json" 'd["sources"]["redis"]["status"]')" = ok ]
want=$(count_blocked)
check "its block count equals redis-cli --tls's ($want)" [ "$(jpath "$work/s.json" 'd["blocked_count"]')" = "$want" ]

run report --format json --since 1h "${tls_opts[@]}" >"$work/r.json" 2>"$work/r.err"
check "report over TLS exits 0" [ $? -eq 0 ]
check "... with redis ok" [ "$(jpath "$work/r.json" 'd["sources"]["redis"]["ok"]')" = True ]

run block 203.0.113.9 --reason "tls test" --yes "${tls_opts[@]}" >"$work/b.out" 2>&1
check "block over TLS exits 0" [ $? -eq 0 ]
check "the block is in Redis" [ "$(tcli EXISTS blocked:203.0.113.9)" = 1 ]

refused() { # NAME URL OPTIONS...: the snapshot fails, its error says why
	local name=$1 url=$2
	shift 2
	"$SECTOP" -c "$work/empty.conf" --db "$SECTOP_TEST_DB" --redis "$url" --table "$table" \
		snapshot --format json --timeout 3s "$@" </dev/null >"$work/$name.json" 2>/dev/null
	local rc=$?
	jpath "$work/$name.json" 'd["sources"]["redis"]["error"]' >"$work/$name.err" 2>/dev/null
	sed "s/^/# $name: /" "$work/$name.err"
	[ $rc -ne 0 ] && [ "$(jpath "$work/$name.json" 'd["sources"]["redis"]["status"]')" != ok ]
}

# --- through a sentinel that speaks TLS only: rediss-sentinel:// ------------------
sport=$(free_port)
mkdir -p "$work/sentinel"
cat >"$work/sentinel/sentinel.conf" <<EOF
port 0
tls-port $sport
bind 127.0.0.1
dir $work/sentinel
logfile $work/sentinel/sentinel.log
tls-cert-file $pki/server.crt
tls-key-file $pki/server.key
tls-ca-cert-file $pki/ca.crt
tls-auth-clients yes
tls-replication yes
sentinel monitor tlsmaster 127.0.0.1 $port 1
EOF
redis-server "$work/sentinel/sentinel.conf" --sentinel &
at_exit "kill $! && wait $!"
scli() { redis-cli -h 127.0.0.1 -p "$sport" --tls --cacert "$pki/ca.crt" --cert "$pki/client.crt" \
	--key "$pki/client.key" "$@"; }
knows() { scli SENTINEL get-master-addr-by-name tlsmaster 2>/dev/null | grep -qx "$port"; }
wait_until 10 knows || { echo "the TLS sentinel did not start" >&2; exit 99; }
run snapshot --format json "${tls_opts[@]}" --redis "rediss-sentinel://127.0.0.1:$sport/tlsmaster/0" \
	>"$work/st.json" 2>/dev/null
check "snapshot through a TLS sentinel exits 0" [ $? -eq 0 ]
want=$(count_blocked)
check "... its block count equals redis-cli --tls's ($want)" [ "$(jpath "$work/st.json" 'd["blocked_count"]')" = "$want" ]
check "plain redis-sentinel:// to the TLS sentinel: refused" \
	refused plainsentinel "redis-sentinel://127.0.0.1:$sport/tlsmaster/0" "${tls_opts[@]}"

# --- a cluster whose nodes speak TLS only -------------------------------------------
cluster_port() { # a port whose cluster bus port (+10000) is free too: at most 55535
	python3 -c '
import random, socket
for _ in range(200):
    p = random.randint(20000, 55535)
    try:
        for q in (p, p + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
    except OSError:
        continue
    print(p); break'
}
cports=()
for _ in 1 2 3; do
	cp=$(cluster_port)
	mkdir -p "$work/c$cp"
	redis-server --port 0 --tls-port "$cp" --tls-cluster yes --tls-replication yes --bind 127.0.0.1 \
		--cluster-enabled yes --cluster-config-file "$work/c$cp/nodes.conf" --cluster-node-timeout 2000 \
		--tls-cert-file "$pki/server.crt" --tls-key-file "$pki/server.key" --tls-ca-cert-file "$pki/ca.crt" \
		--save '' --appendonly no --dir "$work/c$cp" --logfile "$work/c$cp/redis.log" --daemonize no &
	at_exit "kill $! && wait $!"
	cports+=("$cp")
done
ccli() { redis-cli -h 127.0.0.1 -p "$1" --tls --cacert "$pki/ca.crt" --cert "$pki/client.crt" \
	--key "$pki/client.key" "${@:2}"; }
for cp in "${cports[@]}"; do wait_until 5 eval '[ "$(ccli "$cp" PING 2>/dev/null)" = PONG ]'; done
redis-cli --tls --cacert "$pki/ca.crt" --cert "$pki/client.crt" --key "$pki/client.key" --cluster create \
	"127.0.0.1:${cports[0]}" "127.0.0.1:${cports[1]}" "127.0.0.1:${cports[2]}" --cluster-replicas 0 \
	--cluster-yes >"$work/cluster-create.log" 2>&1 || { cat "$work/cluster-create.log" >&2; exit 99; }
ccluster_ok() { local cp; for cp in "${cports[@]}"; do ccli "$cp" CLUSTER INFO | grep -q '^cluster_state:ok' || return 1; done; }
wait_until 15 ccluster_ok || { echo "the TLS cluster did not form" >&2; exit 99; }
for i in $(seq 1 60); do printf 'SET blocked:10.9.0.%d 1 EX 3600\n' "$i"; done | ccli "${cports[0]}" -c >/dev/null
ctotal=0
for cp in "${cports[@]}"; do ctotal=$((ctotal + $(ccli "$cp" --scan --pattern 'blocked:*' | wc -l))); done
run snapshot --format json "${tls_opts[@]}" --redis "rediss://127.0.0.1:${cports[1]}/0" >"$work/ct.json" 2>/dev/null
check "snapshot of a TLS cluster through one node exits 0" [ $? -eq 0 ]
check "... its block count is every shard's ($ctotal)" [ "$(jpath "$work/ct.json" 'd["blocked_count"]')" = "$ctotal" ]
run block 203.0.113.10 --reason "tls cluster" --yes "${tls_opts[@]}" --redis "rediss://127.0.0.1:${cports[0]}/0" \
	>"$work/cb.out" 2>&1
check "block on the TLS cluster exits 0" [ $? -eq 0 ]
check "... and redis-cli -c finds it" [ "$(ccli "${cports[2]}" -c EXISTS blocked:203.0.113.10)" = 1 ]

# --- what is refused --------------------------------------------------------
check "a CA that did not sign the server's certificate: refused" \
	refused other "$redis_url" --redis-ca-file "$pki/other-ca.crt" --redis-cert-file "$pki/client.crt" \
	--redis-key-file "$pki/client.key"
check "... the error says the certificate is not trusted" grep -q "certificate not trusted" "$work/other.err"
check "the system's CAs (no redis-ca-file) do not trust the test CA" \
	refused system "$redis_url" --redis-cert-file "$pki/client.crt" --redis-key-file "$pki/client.key"
check "... not trusted" grep -q "certificate not trusted" "$work/system.err"
check "a name the certificate does not hold (localhost): refused" \
	refused name "rediss://localhost:$port/0" "${tls_opts[@]}"
check "... a mismatch" grep -qi "mismatch" "$work/name.err"
check "no client certificate when the server wants one: refused" \
	refused nocert "$redis_url" --redis-ca-file "$pki/ca.crt"
check "plain redis:// to the TLS port: refused" refused plain "redis://127.0.0.1:$port/0"
"$SECTOP" -c "$work/empty.conf" --redis "$redis_url" --redis-ca-file "$pki/client.crt" \
	--redis-cert-file "$pki/client.crt" snapshot </dev/null >/dev/null 2>"$work/half.err"
check "a certificate without its key is a configuration error (exit 2)" [ $? -eq 2 ]
sed 's/^/# /' "$work/half.err"

# --- the console --------------------------------------------------------------
tui_start "${tls_opts[@]}"
check_shows "the console over TLS: redis ok" "redis ok"
check_shows "it counts the 26 blocks" " Blocked (26) " 10
tcli SET "blocked:192.0.2.99" 1 EX 3600 >/dev/null
check_shows "a block set now is counted at once (keyspace events over TLS)" " Blocked (27) " 5
check "sectop is still running" alive
check "no KEYS ever ran" eval '! tcli INFO commandstats | grep -q "^cmdstat_keys:"'
finish
