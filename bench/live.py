#!/usr/bin/env python3
"""live.py: one span of the live section of bench/run.sh.

    live.py --feed CMD --markers FILE --psql CMD --tmux SOCKET
            [--naive CMD --naive-role ROLE --naive-s 30] [--span-s 60]
            [--settle-s 3] [--ready-timeout-s 60] [--grace-s 6] [--poll-ms 50]
            [--ready-text TEXT] [--busy-text TEXT] [--view-key 2]
            [--bound-ms 3000] [--statements FILE]
            --console ROLE=CMD [--console ROLE=CMD ...]

In order:
  1. CMD of --feed starts (bench_feed: it feeds for longer than the span and
     is stopped, SIGTERM, at the end; its "key value" lines are passed on).
  2. Each console CMD runs in a tmux pane of its own, 80x24, no status line,
     TERM=tmux-256color, on a tmux server of our own (--tmux SOCKET).
  3. Settling: until every console shows --ready-text (the attacker's
     address) and no longer --busy-text (it has read the whole window: the
     panels fill in while it reads), then --settle-s more; then each
     console gets --view-key (the top addresses' list, where a marker's
     burst shows; empty: the overview).  A
     console that has not shown it after --ready-timeout-s is measured all
     the same (consoles_ready says how many had).
  4. The span, --span-s: pg_stat_statements is reset (--psql runs SQL as a
     role that is none of the measured ones), CPU of each console read from
     /proc/PID/stat; the screens are captured every --poll-ms; at the end
     CPU again, VmHWM, and pg_stat_statements per role: execution + planning
     time and calls of top-level statements whose userid is the console's
     role; nothing else counts.
  5. Markers: the feeder writes "K ADDRESS EPOCH_US" (commit time) for each
     marker row; a marker committed within the span counts; its age on a
     console is the first capture that shows its address minus its commit
     time.  Capture keeps going --grace-s after the span for markers not yet
     seen; a marker not on screen --bound-ms after its commit counts as
     missed.  --statements FILE gets each role's statements, costliest
     first, for a look at where the time went.
  6. The consoles quit; then, on the same feed, CMD of --naive runs alone
     for --naive-s (it stops by itself), between a reset and a read of
     pg_stat_statements for --naive-role.  Apart, so that on a small
     machine neither one's CPU slows the other's queries.

Prints "key value" lines: per console i (1-based) c<i>_db_ms_per_s,
c<i>_queries_per_s, c<i>_cpu_pct, c<i>_rss_kb; over the consoles
sectop_db_ms_per_s (mean), sectop_db_ms_per_s_max, sectop_db_ms_per_s_total,
sectop_queries_per_s (mean), sectop_cpu_pct (mean), sectop_cpu_pct_max,
sectop_rss_kb (max), consoles, consoles_ready; age_median_ms, age_max_ms
(of the markers seen), markers, markers_seen, markers_missed (over every
console and marker; the median counts a missed marker as the oldest),
age_bound_ms (--bound-ms); naive_db_ms_per_s,
naive_queries_per_s, naive_span_s and bench_refresh's naive_* lines;
span_s; the feeder's feed_* lines.  A figure that could not be had is -1.
"""
import argparse
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import time

MARK = re.compile(r"(?<![\d.])198\.18\.(\d{1,3})\.(\d{1,3})(?![\d.])")


def cpu_s(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


def vm_kb(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def out(k, v):
    if v is None:
        v = -1
    print("%s %s" % (k, ("%.3f" % v) if isinstance(v, float) else v))
    sys.stdout.flush()


class Tmux:
    def __init__(self, sock):
        self.sock = sock
        self.base = ["tmux", "-S", sock, "-f", "/dev/null"]

    def run(self, *args, check=True):
        return subprocess.run(self.base + list(args), check=check, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=10)

    def start(self):
        self.run("new-session", "-d", "-s", "holder", "-x", "80", "-y", "24", "exec sleep 100000")
        self.run("set-option", "-g", "status", "off")
        self.run("set-option", "-g", "history-limit", "0")
        self.run("set-option", "-g", "remain-on-exit", "off")

    def console(self, name, cmd):
        env = "export TERM=tmux-256color LANG=C.UTF-8; unset LC_ALL LC_CTYPE NO_COLOR COLUMNS LINES; "
        self.run("new-session", "-d", "-s", name, "-x", "80", "-y", "24", env + "exec " + cmd)
        pid = int(self.run("display-message", "-p", "-t", name, "#{pane_pid}").stdout.strip())
        return pid

    def screens(self, names):
        """Every pane's screen in one tmux client call: {name: text}."""
        args = []
        for n in names:
            args += ["capture-pane", "-p", "-t", n, ";", "display-message", "-p", "@@end@@ " + n, ";"]
        r = self.run(*args[:-1], check=False)
        res, cur = {}, []
        for line in r.stdout.splitlines():
            if line.startswith("@@end@@ "):
                res[line[8:]] = "\n".join(cur)
                cur = []
            else:
                cur.append(line)
        return res

    def keys(self, name, *keys):
        self.run("send-keys", "-t", name, *keys, check=False)

    def kill(self):
        self.run("kill-server", check=False)


def psql(cmd, sql):
    r = subprocess.run(shlex.split(cmd) + ["-At", "-F", "\t", "-c", sql], check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, timeout=60)
    return [line.split("\t") for line in r.stdout.splitlines() if line]


# Where each console's time went: statement by statement (--statements FILE).
PSS_BY_STATEMENT = """SELECT r.rolname, round((s.total_exec_time + s.total_plan_time)::numeric, 1),
       s.calls, s.rows, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 100)
  FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND s.toplevel
 ORDER BY 1, 2 DESC"""

PSS = """SELECT r.rolname, coalesce(sum(s.total_exec_time + s.total_plan_time), 0),
       coalesce(sum(s.calls), 0)
  FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND s.toplevel
 GROUP BY 1"""


def read_markers(path):
    marks = {}
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) == 3 and line.endswith("\n"):
                    marks[int(p[0])] = int(p[2]) / 1e6
    except OSError:
        pass
    return marks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--feed", required=True)
    ap.add_argument("--markers", required=True)
    ap.add_argument("--psql", required=True)
    ap.add_argument("--tmux", required=True)
    ap.add_argument("--naive", default="")
    ap.add_argument("--naive-role", default="")
    ap.add_argument("--naive-s", type=float, default=30)
    ap.add_argument("--bound-ms", type=float, default=3000)
    ap.add_argument("--span-s", type=float, default=60)
    ap.add_argument("--statements", default="")
    ap.add_argument("--settle-s", type=float, default=3)
    ap.add_argument("--ready-timeout-s", type=float, default=60)
    ap.add_argument("--grace-s", type=float, default=6)
    ap.add_argument("--poll-ms", type=float, default=50)
    ap.add_argument("--ready-text", default="203.0.113.45")
    ap.add_argument("--busy-text", default="reading the window")
    ap.add_argument("--view-key", default="2")
    ap.add_argument("--console", action="append", default=[])
    a = ap.parse_args()
    if not a.console:
        ap.error("no --console ROLE=CMD")
    consoles = []
    for c in a.console:
        role, _, cmd = c.partition("=")
        consoles.append((role, cmd))
    names = ["c%d" % (i + 1) for i in range(len(consoles))]

    open(a.markers, "w").close()
    feed_out = a.markers + ".feed"
    tmux = Tmux(a.tmux)
    feeder = naive = None
    rc = 0
    try:
        with open(feed_out, "w") as fo:
            feeder = subprocess.Popen("exec " + a.feed, shell=True, stdin=subprocess.DEVNULL, stdout=fo,
                                      start_new_session=True)
        tmux.start()
        pids = [tmux.console(n, cmd) for n, (_, cmd) in zip(names, consoles)]

        # settle: every console has drawn the attack, then a little more
        deadline = time.monotonic() + a.ready_timeout_s
        ready = set()
        while len(ready) < len(names) and time.monotonic() < deadline:
            for n, text in tmux.screens(names).items():
                if a.ready_text in text and not (a.busy_text and a.busy_text in text):
                    ready.add(n)
            if feeder.poll() is not None:
                break
            time.sleep(0.1)
        if feeder.poll() is not None:
            sys.stderr.write("live: the feeder stopped (exit %d)\n" % feeder.returncode)
            return 1
        if len(ready) < len(names):
            sys.stderr.write("live: consoles %s did not show %s in %g s; measured all the same;"
                             " their screens:\n" % (sorted(set(names) - ready), a.ready_text,
                                                   a.ready_timeout_s))
            for n, text in tmux.screens(names).items():
                if n not in ready:
                    sys.stderr.write("---- %s\n%s\n" % (n, text))
        if a.view_key:
            for n in names:
                tmux.keys(n, a.view_key)
        time.sleep(a.settle_s)

        # the span
        psql(a.psql, "SELECT pg_stat_statements_reset()")
        w0 = time.monotonic()
        t0_real = time.time()
        c0 = [cpu_s(p) for p in pids]
        seen = [dict() for _ in names]            # marker -> first seen (epoch s)
        end = w0 + a.span_s
        c1 = w1 = None
        grace_end = end + a.grace_s
        while True:
            now = time.monotonic()
            if c1 is None and now >= end:
                c1 = [cpu_s(p) for p in pids]
                w1 = now
                t1_real = time.time()
            if now >= grace_end:
                break
            at = time.time()
            screens = tmux.screens(names)
            marks = read_markers(a.markers)
            for i, n in enumerate(names):
                for m in MARK.finditer(screens.get(n, "")):
                    k = int(m.group(1)) * 250 + int(m.group(2)) - 1
                    # a marker counts once its commit is known (an older
                    # run's marker may be in the window still)
                    if k in marks and at >= marks[k] - 0.05:
                        seen[i].setdefault(k, at)
            if c1 is not None:
                # after the span: only while a marker of the span is unseen
                pending = [k for k, t in marks.items() if t0_real <= t < t1_real
                           and any(k not in s for s in seen)]
                if not pending:
                    break
            time.sleep(a.poll_ms / 1000.0)
        rss = [vm_kb(p, "VmHWM") for p in pids]
        stats = {row[0]: (float(row[1]), float(row[2])) for row in psql(a.psql, PSS)}
        pss_s = time.monotonic() - w0       # reset to read
        if a.statements:
            with open(a.statements, "a") as f:
                f.write("# span of %.1f s: role, ms, calls, rows, statement\n" % pss_s)
                for row in psql(a.psql, PSS_BY_STATEMENT):
                    f.write("\t".join(row) + "\n")
        for n in names:
            tmux.keys(n, "q")

        out("span_s", w1 - w0)
        dbs, qs, cpus = [], [], []
        for i, (role, _) in enumerate(consoles):
            ms, calls = stats.get(role, (0.0, 0.0))
            db = ms / pss_s
            q = calls / pss_s
            cpu = None
            if c0[i] is not None and c1[i] is not None:
                cpu = 100.0 * (c1[i] - c0[i]) / (w1 - w0)
            out("c%d_db_ms_per_s" % (i + 1), db)
            out("c%d_queries_per_s" % (i + 1), q)
            out("c%d_cpu_pct" % (i + 1), cpu)
            out("c%d_rss_kb" % (i + 1), rss[i])
            dbs.append(db)
            qs.append(q)
            if cpu is not None:
                cpus.append(cpu)
        out("sectop_db_ms_per_s", statistics.mean(dbs))
        out("sectop_db_ms_per_s_max", max(dbs))
        out("sectop_db_ms_per_s_total", sum(dbs))
        out("sectop_queries_per_s", statistics.mean(qs))
        out("sectop_cpu_pct", statistics.mean(cpus) if cpus else None)
        out("sectop_cpu_pct_max", max(cpus) if cpus else None)
        out("sectop_rss_kb", max(rss) if rss and min(rss) > 0 else None)
        out("consoles", len(names))
        out("consoles_ready", len(ready))

        marks = {k: t for k, t in read_markers(a.markers).items() if t0_real <= t < t1_real}
        ages, missed = [], 0
        for s in seen:
            for k, t in marks.items():
                if k in s:
                    ages.append(max(0.0, s[k] - t) * 1000)
                else:
                    missed += 1
        out("markers", len(marks))
        out("markers_seen", len(ages))
        out("markers_missed", missed)
        # a missed marker is older than any seen: the median counts it so
        med = statistics.median(ages + [float("inf")] * missed) if ages else None
        out("age_median_ms", med if med is not None and med != float("inf") else None)
        out("age_max_ms", max(ages) if ages else None)
        out("age_bound_ms", a.bound_ms)

        if a.naive:
            time.sleep(1)                          # the consoles' last queries
            psql(a.psql, "SELECT pg_stat_statements_reset()")
            n0 = time.monotonic()
            naive = subprocess.Popen("exec " + a.naive, shell=True, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, text=True, start_new_session=True)
            try:
                so, _ = naive.communicate(timeout=a.naive_s + 120)
            except subprocess.TimeoutExpired:
                os.killpg(naive.pid, signal.SIGKILL)
                so, _ = naive.communicate()
                rc = 1
            if naive.returncode != 0:
                sys.stderr.write("live: the naive baseline exited %d\n" % naive.returncode)
                rc = 1
            stats = {row[0]: (float(row[1]), float(row[2])) for row in psql(a.psql, PSS)}
            n_s = time.monotonic() - n0
            ms, calls = stats.get(a.naive_role, (0.0, 0.0))
            out("naive_span_s", n_s)
            out("naive_db_ms_per_s", ms / n_s)
            out("naive_queries_per_s", calls / n_s)
            sys.stdout.write(so)
    finally:
        if naive and naive.poll() is None:
            os.killpg(naive.pid, signal.SIGKILL)
            naive.wait()
        if feeder:
            if feeder.poll() is None:
                os.killpg(feeder.pid, signal.SIGTERM)
            try:
                feeder.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(feeder.pid, signal.SIGKILL)
                feeder.wait()
            if feeder.returncode != 0:
                sys.stderr.write("live: the feeder exited %d\n" % feeder.returncode)
                rc = 1
        time.sleep(0.3)
        tmux.kill()
    try:
        with open(feed_out) as f:
            sys.stdout.write(f.read())
    except OSError:
        pass
    return rc


if __name__ == "__main__":
    sys.exit(main())
