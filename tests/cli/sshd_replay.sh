#!/usr/bin/env bash
# sshd_replay.sh: real attack traffic through sectop, checked against the raw log.
#
# Replays the "Failed password" lines of Loghub's OpenSSH_2k.log (a real
# server's sshd log: 520 failed passwords from 23 addresses, over about four
# hours) into a fresh table as failed_auth events (status 401, tenant
# 'labsz'), shifted so the last one happens now and the spacing is kept.
# Then `sectop snapshot --format json --table <that table>` must report:
#   - top_ips: each address with exactly the failures the raw log has, the
#     busiest first, none left out that has more than one listed;
#   - failures_per_minute: the last 60 minutes of the shifted log, bucket by
#     bucket (minute buckets aligned to the clock or to the moment of the
#     snapshot: both are accepted);
#   - tenants: 'labsz' with all 520 failures (the window is 24 h).
# "message repeated N times: [ Failed password ...]" lines count once, as
# in the data set's own figure of 520.
#
# Automake test: exit 77 (skip) when the servers are not set up, unless
# SECTOP_REQUIRE_SERVERS=1 (then 99); skip when the shared data is absent.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
set -eo pipefail
need_servers SECTOP_TEST_DB SECTOP_TEST_REDIS
log=$top_srcdir/../shared/data/loghub-openssh/OpenSSH_2k.log
if [[ ! -r $log ]]; then
	echo "skip: no $log: the shared Loghub data set is not here" >&2
	exit 77
fi
[[ -x $SECTOP ]] || { echo "no sectop binary at $SECTOP" >&2; exit 99; }
if [[ -x /usr/bin/python3 ]]; then PY=/usr/bin/python3; else PY=python3; fi

table=audit_log_sshd_$$
work=$(mktemp -d)
cleanup() {
	tsql -c "DROP TABLE IF EXISTS $table" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

# 1. The events, from the raw log: seconds before the last one, address,
#    user, invalid-user flag, source port.
"$PY" - "$log" >"$work/events.csv" <<'EOF'
import csv, re, sys
from datetime import datetime
pat = re.compile(r"Failed password for (invalid user )?(.*?) from (\S+) port (\d+)")
rows = []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = pat.search(line)
    if not m:
        continue
    # "Dec 10 06:55:48": no year in syslog; any fixed one keeps the spacing.
    t = datetime.strptime("2000 " + line[:15], "%Y %b %d %H:%M:%S")
    rows.append((t, m.group(3), m.group(2), m.group(1) is not None, int(m.group(4))))
last = max(r[0] for r in rows)
w = csv.writer(sys.stdout)
for t, ip, user, invalid, port in rows:
    w.writerow([int((last - t).total_seconds()), ip, user, "t" if invalid else "f", port])
EOF

# 2. A fresh table shaped like audit_log; the events shifted to end now().
#    now() is the transaction's start, so every event is at or before it;
#    it is printed as T0, the moment the offsets count back from.
t0=$(tsql <<SQL
BEGIN;
CREATE TABLE $table (LIKE audit_log INCLUDING ALL);
CREATE TEMP TABLE sshd_in (off_s int, ip inet, usr text, invalid boolean, port int) ON COMMIT DROP;
\copy sshd_in FROM '$work/events.csv' WITH (FORMAT csv)
INSERT INTO $table ("timestamp", tenant_id, user_id, action, resource_type, resource_id,
                    ip_address, status_code, details)
SELECT now() - make_interval(secs => off_s), 'labsz', usr, 'failed_auth', 'user', usr,
       ip, 401, jsonb_build_object('source', 'sshd', 'port', port, 'invalid_user', invalid)
  FROM sshd_in;
SELECT extract(epoch FROM now());
COMMIT;
SQL
)

# 3. The snapshot, bounded in time.
rc=0
timeout 60 "$SECTOP" snapshot --format json --db "$SECTOP_TEST_DB" --redis "$SECTOP_TEST_REDIS" \
	--window 24h --table "$table" >"$work/snapshot.json" 2>"$work/snapshot.err" || rc=$?
t1=$(date +%s.%N)
if ((rc != 0)); then
	echo "sectop snapshot exited with $rc; stderr:" >&2
	cat "$work/snapshot.err" >&2
	exit 1
fi

# 4. The figures, against the raw log.
"$PY" - "$log" "$work/snapshot.json" "$t0" "$t1" <<'EOF'
import json, math, re, sys
from collections import Counter
from datetime import datetime

logf, snapf, t0, t1 = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
errors = []

# Independently of the replay: count straight from the raw lines.
pat = re.compile(r"Failed password for .* from (\S+) port \d+")
per_ip, times = Counter(), []
for line in open(logf, encoding="utf-8", errors="replace"):
    m = pat.search(line)
    if m:
        per_ip[m.group(1)] += 1
        times.append(datetime.strptime("2000 " + line[:15], "%Y %b %d %H:%M:%S"))
total = sum(per_ip.values())
if (total, len(per_ip)) != (520, 23):
    errors.append("the raw log has %d failed passwords from %d addresses, not 520 from 23"
                  % (total, len(per_ip)))
last = max(times)
events = [t0 - (last - t).total_seconds() for t in times]   # absolute times, as inserted

try:
    snap = json.load(open(snapf))
except ValueError as e:
    sys.exit("snapshot is not JSON: %s" % e)

# top_ips
top = snap.get("top_ips")
if not isinstance(top, list) or not top:
    errors.append("top_ips missing or empty: %r" % (top,))
    top = []
listed = {}
for row in top:
    ip, fails = row.get("ip"), row.get("failures")
    listed[ip] = fails
    if ip not in per_ip:
        errors.append("top_ips has %r, which is not in the log" % (ip,))
        continue
    if fails != per_ip[ip]:
        errors.append("top_ips %s: failures %r, the log has %d" % (ip, fails, per_ip[ip]))
    if "requests" in row and row["requests"] != per_ip[ip]:
        errors.append("top_ips %s: requests %r, the log has %d" % (ip, row["requests"], per_ip[ip]))
fails_listed = [row.get("failures") for row in top]
if fails_listed != sorted(fails_listed, key=lambda x: -(x or 0)):
    errors.append("top_ips not in descending order of failures: %r" % fails_listed)
if top:
    floor_ = min(per_ip[ip] for ip in listed if ip in per_ip) if listed else 0
    left_out = [ip for ip in per_ip if ip not in listed and per_ip[ip] > floor_]
    if left_out:
        errors.append("top_ips leaves out busier addresses: %s"
                      % ", ".join("%s (%d)" % (ip, per_ip[ip]) for ip in left_out))

# failures_per_minute: 60 buckets, oldest first, ending at the snapshot's
# moment T somewhere in [t0, t1].  Two reasonable bucketings are accepted:
# aligned to clock minutes (the last bucket is the current minute) or
# relative to T (the last bucket is (T-60, T]).
def aligned(T):
    start = math.floor(T / 60) * 60 - 59 * 60
    b = [0] * 60
    for e in events:
        i = math.floor((e - start) / 60)
        if 0 <= i < 60:
            b[i] += 1
    return b

def relative(T):
    b = [0] * 60
    for e in events:
        age = T - e
        if 0 <= age < 3600:
            b[59 - min(59, math.floor(age / 60))] += 1
    return b

cands = {t0, t1}
for e in events:                       # where the relative window's edge crosses an event
    for T in (e + 3600 - 1e-6, e + 3600 + 1e-6):
        if t0 <= T <= t1:
            cands.add(T)
m = math.floor(t0 / 60) * 60
while m <= t1:                         # where clock minutes turn
    for T in (m - 1e-6, m + 1e-6):
        if t0 <= T <= t1:
            cands.add(T)
    m += 60
expected = {tuple(f(T)) for T in cands for f in (aligned, relative)}

fpm = snap.get("failures_per_minute")
if not (isinstance(fpm, list) and len(fpm) == 60 and all(isinstance(x, int) for x in fpm)):
    errors.append("failures_per_minute is not 60 integers: %r" % (fpm,))
else:
    totals = sorted({sum(b) for b in expected})
    if sum(fpm) not in totals:
        errors.append("failures_per_minute adds up to %d; the last hour of the log has %s"
                      % (sum(fpm), " or ".join(map(str, totals))))
    elif tuple(fpm) not in expected:
        best = min(expected, key=lambda b: sum(abs(x - y) for x, y in zip(b, fpm)))
        diff = [(i, fpm[i], best[i]) for i in range(60) if fpm[i] != best[i]]
        errors.append("failures_per_minute buckets differ (index, got, expected): %r" % diff[:10])

# tenants
ten = [t for t in snap.get("tenants") or [] if t.get("tenant_id") == "labsz"]
if len(ten) != 1:
    errors.append("tenants: expected one 'labsz' entry, got %r" % (snap.get("tenants"),))
else:
    if ten[0].get("failures") != total:
        errors.append("tenant labsz: failures %r, the log has %d" % (ten[0].get("failures"), total))
    if "requests" in ten[0] and ten[0]["requests"] != total:
        errors.append("tenant labsz: requests %r, the log has %d" % (ten[0]["requests"], total))

if errors:
    print("FAIL sshd replay:", file=sys.stderr)
    for e in errors:
        print("  " + e, file=sys.stderr)
    sys.exit(1)
print("sshd replay: %d failures from %d addresses; top %d addresses and %d failures in the last hour match"
      % (total, len(per_ip), len(top), sum(fpm)))
EOF
