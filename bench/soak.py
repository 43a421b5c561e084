#!/usr/bin/env python3
"""soak.py: the console for N minutes against real servers that fail.

    soak.py --sectop BIN --stack-dir DIR --root TREE --work DIR
            [--minutes 60] [--fault-every 30] [--down 10] [--smoke]

bench/soak.sh starts the servers (scripts/stack.sh) and runs this.  The
console runs in a tmux pane of its own (100x30).  Every --fault-every
seconds one fault, in turn:

  pg      PostgreSQL killed (SIGKILL, the postmaster and its backends),
          restarted --down seconds later
  redis   Redis frozen (SIGSTOP) for --down seconds, then SIGCONT
  health  the health endpoints hang (healthd.py SIGSTOPped) for --down s

Two seconds into each fault, one block (for --ttl, 5 minutes: the set of
blocks reaches a steady state, so that memory can) through the command line
(`sectop block`) and one through the console (B, a reason, the address
typed), each on an address of its own.  Throughout, a key every second
(2 and 3 in turn: top addresses, tenants), timed from the send to the
first capture of the pane that shows the other view: an upper bound of
the key's answer, polling included.

Each minute one row: the console's RSS and open fds, the slowest key of
the minute, and the actions lost so far.  An action is lost when it was
confirmed and is neither in the journal (intent and result) and in
audit_log, nor reported as failed (the command's exit status, the
result the console showed).  At the end, once every server is back, one
more command retries the audits that a fault held back, and the table is
printed again with the final count of lost actions per minute.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--sectop", required=True)
ap.add_argument("--stack-dir", required=True)
ap.add_argument("--root", required=True)
ap.add_argument("--work", required=True)
ap.add_argument("--minutes", type=float, default=60)
ap.add_argument("--fault-every", type=float, default=30)
ap.add_argument("--down", type=float, default=10)
ap.add_argument("--key-bound-ms", type=float, default=100)
ap.add_argument("--ttl", default="5m", help="of each block: short, so that the blocked set "
                "reaches a steady state within the run")
ap.add_argument("--key-every", type=float, default=1.0, help="seconds between two keys")
ap.add_argument("--faults", default="pg,redis,health", help="the faults, in turn")
args = ap.parse_args()

ENV = os.environ
T0 = time.monotonic()
SOCK = "sectop-soak-%d" % os.getpid()
STATE = os.path.join(args.work, "state")
JOURNAL = os.path.join(STATE, "sectop", "journal.jsonl")
OPERATOR = "soak"
PG_BIN = ENV["SECTOP_TEST_PG_BIN"]
PG_DATA = ENV["SECTOP_TEST_PGDATA"]
REDIS_PIDFILE = ENV["SECTOP_TEST_REDIS_PIDFILE"]
HEALTHD_PIDFILE = os.path.join(args.stack_dir, "http", "healthd.pid")
LOG = open(os.path.join(args.work, "soak.log"), "a", buffering=1)
KEYS_LOG = open(os.path.join(args.work, "keys.log"), "a", buffering=1)   # every key: time, key, ms


def now():
    return time.monotonic() - T0


def log(msg):
    LOG.write("%8.2f %s\n" % (now(), msg))


def say(msg):
    print(msg, flush=True)
    log(msg)


# ------------------------------------------------------------------ servers

def psql(sql, timeout=10):
    """Run SQL as sectop; the output, or None when the server did not answer."""
    try:
        p = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-q", "-At", "-v",
                            "ON_ERROR_STOP=1", ENV["SECTOP_TEST_DB"], "-c", sql],
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return p.stdout if p.returncode == 0 else None


def pidfile(path):
    try:
        with open(path) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None


def pg_kill():
    pm = pidfile(os.path.join(PG_DATA, "postmaster.pid"))
    if not pm:
        return
    kids = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pm)], capture_output=True,
                          text=True).stdout.split()
    for pid in [pm] + [int(k) for k in kids]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def pg_start():
    """stack_pg_start: the same cluster, port and data; waits until ready."""
    cmd = 'source "$1/scripts/stack.sh" && stack_init "$2" && stack_pg_start >/dev/null'
    r = subprocess.run(["bash", "-c", cmd, "_", args.root, args.stack_dir],
                       capture_output=True, text=True)
    if r.returncode != 0:
        say("soak: PostgreSQL did not come back: %s" % r.stderr.strip()[-300:])


def signal_pidfile(path, sig):
    pid = pidfile(path)
    if pid:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


FAULTS = args.faults.split(",")


def fault_begin(kind):
    if kind == "pg":
        pg_kill()
    elif kind == "redis":
        signal_pidfile(REDIS_PIDFILE, signal.SIGSTOP)
    else:
        signal_pidfile(HEALTHD_PIDFILE, signal.SIGSTOP)
    log("fault %s begins" % kind)


def fault_end(kind):
    if kind == "pg":
        pg_start()
    elif kind == "redis":
        signal_pidfile(REDIS_PIDFILE, signal.SIGCONT)
    else:
        signal_pidfile(HEALTHD_PIDFILE, signal.SIGCONT)
    log("fault %s ends" % kind)


# ------------------------------------------------------------------ console

def tmux(*a, check=True):
    return subprocess.run(["tmux", "-L", SOCK] + list(a), capture_output=True, text=True,
                          check=check).stdout


def screen():
    return tmux("capture-pane", "-p", "-t", "soak", check=False)


def keys(*k):
    tmux("send-keys", "-t", "soak", *k)


def type_text(s):
    tmux("send-keys", "-t", "soak", "-l", s)


def wait_screen(pattern, timeout):
    rx = re.compile(pattern)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = rx.search(screen())
        if m:
            return m
        time.sleep(0.05)
    return None


def console_start():
    http = ENV["SECTOP_TEST_HTTP"]
    cmd = ["exec", "env", "XDG_STATE_HOME=" + STATE, "SECTOP_OPERATOR=" + OPERATOR,
           "TERM=tmux-256color", "LANG=C.UTF-8", args.sectop,
           "--db", ENV["SECTOP_TEST_DB"], "--redis", ENV["SECTOP_TEST_REDIS"],
           "--health", "web=%s/health/healthy" % http,
           "--health", "api=%s/health/degraded" % http,
           "--refresh", "1s", "--ttl", args.ttl, "--log", os.path.join(args.work, "sectop.log")]
    line = " ".join("'%s'" % c.replace("'", "'\\''") if c != "exec" else c for c in cmd)
    tmux("new-session", "-d", "-s", "soak", "-x", "100", "-y", "30", line)
    pid = int(tmux("display-message", "-p", "-t", "soak", "#{pane_pid}").strip())
    return pid


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


VIEWS = {"2": re.compile(r"^\S 2 Top addresses \(", re.M), "3": re.compile(r"^\S 3 Tenants \(", re.M)}


def key_probe(key, timeout=5.0):
    """Send a view key; ms until a capture shows that view (None: never),
    and the last capture."""
    t = time.monotonic()
    keys(key)
    text = ""
    while time.monotonic() - t < timeout:
        started = time.monotonic()
        text = screen()
        if VIEWS[key].search(text):
            return (started - t) * 1000, text
        time.sleep(0.002)
    return None, text


# ------------------------------------------------------------------ actions

actions = []          # dicts: via, ip, minute, outcome ("done", "failed: ...", ...)
actions_lock = threading.Lock()


def cli_action(ip, minute):
    env = dict(ENV, XDG_STATE_HOME=STATE, SECTOP_OPERATOR=OPERATOR)
    a = {"via": "cli", "ip": ip, "minute": minute}
    try:
        p = subprocess.run([args.sectop, "block", ip, "--reason", "soak", "--ttl", args.ttl, "--yes",
                            "--db", ENV["SECTOP_TEST_DB"], "--redis", ENV["SECTOP_TEST_REDIS"]],
                           env=env, capture_output=True, text=True, timeout=120)
        a["rc"] = p.returncode
        a["said"] = (p.stdout + p.stderr).strip().splitlines()[-1:] or [""]
        a["reported_failed"] = p.returncode not in (0, 4)
    except subprocess.TimeoutExpired:
        a["rc"], a["said"], a["reported_failed"] = None, ["no answer in 120 s"], False
    log("cli block %s: exit %s: %s" % (ip, a["rc"], a["said"][0]))
    with actions_lock:
        actions.append(a)


def console_action(ip, minute):
    """Block ip from the console, selected as the top address, up to the
    confirmation.  Returns the action, whose result the key probes' captures
    watch for; None when the dialog was not reached (nothing confirmed)."""
    keys("2")
    keys("g")
    if not wait_screen(r"(?m)^\S 2 Top addresses \(", 2):
        log("console: no top addresses view")
        return None
    # the first row must be ours: the figures may be stale (PostgreSQL down)
    rows = [l for l in screen().splitlines() if re.search(r"\d+\.\d+\.\d+\.\d+", l)]
    if not rows or ip not in rows[0]:
        log("console: %s is not the first row, skipped" % ip)
        return None
    keys("B")
    if not wait_screen(r"reason: ", 3):
        log("console: no reason asked")
        keys("Escape")
        return None
    type_text("soak console")
    keys("Enter")
    if not wait_screen(re.escape("To confirm, type: " + ip), 3):
        log("console: no confirmation asked")
        keys("Escape")
        return None
    type_text(ip)
    keys("Enter")
    log("console block %s: confirmed" % ip)
    return {"via": "console", "ip": ip, "minute": minute, "reported_failed": False,
            "confirmed_at": time.monotonic(), "said": [""]}


RESULT_RX = r"%s blocked|not done: [^\n]*|another action is still running[^\n]*"


def console_result(a, text, final=False):
    """Look for a pending console action's result on a capture; True when
    it is settled (seen, or waited for long enough)."""
    m = re.search(RESULT_RX % re.escape(a["ip"]), text)
    if not m and not final and time.monotonic() - a["confirmed_at"] < 60:
        return False
    a["said"] = [m.group(0) if m else "(no result seen on screen)"]
    a["reported_failed"] = bool(m and not m.group(0).endswith(" blocked"))
    log("console block %s: %s" % (a["ip"], a["said"][0]))
    with actions_lock:
        actions.append(a)
    return True


def seed_target(ip, n):
    """Make ip the top address: more failures than any before it."""
    psql("INSERT INTO audit_log (tenant_id, user_id, action, ip_address, path, status_code) "
         "SELECT 'soak', 'u' || g, 'failed_auth', '%s', '/login', 401 "
         "FROM generate_series(1, %d) g" % (ip, n))


def journal_state():
    """target -> the statuses of its results (None for an intent without one)."""
    intents, results = {}, {}
    try:
        with open(JOURNAL) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if r.get("phase") == "intent" and r.get("action") == "ip_blocked":
                    intents[r["id"]] = r.get("target")
                elif r.get("phase") == "result":
                    results[r.get("id")] = r.get("status")
    except OSError:
        pass
    out = {}
    for i, target in intents.items():
        out.setdefault(target, []).append(results.get(i))
    return out


def audited():
    rows = psql("SELECT resource_id FROM audit_log WHERE action = 'ip_blocked' AND user_id = '%s'"
                % OPERATOR)
    return None if rows is None else set(rows.split())


def reckon(final):
    """(lost so far, actions) and each action's verdict.  Before the end an
    action whose audit row is missing is pending (the next action retries
    it), not lost; at the end it is lost."""
    j, aud = journal_state(), audited()
    lost = 0
    with actions_lock:
        acts = list(actions)
    for a in acts:
        if a["reported_failed"]:
            a["verdict"] = "reported failed"
            continue
        statuses = j.get(a["ip"], [])
        done = [s for s in statuses if s in ("done", "already")]
        failed = [s for s in statuses if s in ("failed", "refused", "unknown")]
        if failed and not done and a["via"] == "console":
            a["verdict"] = "reported failed"      # the console shows the job's result
        elif not done:
            a["verdict"] = "LOST: no result in the journal"
        elif aud is not None and a["ip"] in aud:
            a["verdict"] = "journalled and audited"
        elif final or aud is None:
            a["verdict"] = "LOST: not in audit_log" if final else "audit pending"
        else:
            a["verdict"] = "audit pending"
        if a["verdict"].startswith("LOST"):
            lost += 1
            log("%s: %s %s minute %d: %s (journal: %s; said: %s)" % (
                "lost" if final else "lost so far", a["via"], a["ip"], a["minute"], a["verdict"],
                statuses, a["said"][0][:80]))
    return lost, acts


# ------------------------------------------------------------------ feed

stop_feed = threading.Event()


def feed():
    """A little live traffic, so that every refresh has something new."""
    k = 0
    while not stop_feed.wait(5):
        k += 1
        psql("INSERT INTO audit_log (tenant_id, user_id, action, ip_address, path, status_code) "
             "SELECT 't' || (g %% 7), 'u' || g, CASE WHEN g %% 3 = 0 THEN 'failed_auth' "
             "ELSE 'api_request' END, '203.0.113.' || (g %% 50 + 1), '/v1', "
             "CASE WHEN g %% 3 = 0 THEN 401 ELSE 200 END FROM generate_series(%d, %d) g"
             % (k * 20, k * 20 + 19), timeout=5)


# ------------------------------------------------------------------ the run

def main():
    os.makedirs(STATE, exist_ok=True)
    pid = console_start()
    if not wait_screen(r"redis ok", 20):
        say("soak: the console did not come up:\n" + screen())
        return 1
    threading.Thread(target=feed, daemon=True).start()

    minutes = args.minutes
    end = minutes * 60
    rows = []
    minute_keys = []
    cycle = 0
    next_fault = args.fault_every
    next_minute = 60.0
    key = "2"
    faults_this_minute = []
    cli_threads = []
    seed_target("198.18.0.1", 200)
    say("minute   rss_kb  fds  longest_key_ms  median_key  keys  slow_keys  actions  lost  faults")

    pending = []             # console actions whose result is not seen yet
    timers = []

    def fault(kind):
        fault_begin(kind)
        t = threading.Timer(args.down, fault_end, args=(kind,))
        t.start()
        timers.append(t)

    def minute_row():
        nonlocal minute_keys, faults_this_minute, next_minute
        lost, acts = reckon(final=False)
        with actions_lock:
            n_act = len(actions) + len(pending)
        slow = sum(1 for k in minute_keys if k > args.key_bound_ms)
        row = {"minute": len(rows) + 1, "rss_kb": rss_kb(pid), "fds": fds(pid),
               "longest_ms": max(minute_keys) if minute_keys else 0.0,
               "median_ms": sorted(minute_keys)[len(minute_keys) // 2] if minute_keys else 0.0,
               "keys": len(minute_keys), "slow": slow, "actions": n_act, "lost": lost,
               "faults": ",".join(faults_this_minute) or "-"}
        rows.append(row)
        say("%6d %8d %4d %15.0f %10.0f %5d %10d %8d %5d  %s" % (
            row["minute"], row["rss_kb"], row["fds"], row["longest_ms"], row["median_ms"], row["keys"],
            row["slow"], row["actions"], row["lost"], row["faults"]))
        minute_keys, faults_this_minute = [], []
        next_minute += 60
        if rss_kb(pid) < 0:
            say("soak: the console is gone")
            return False
        return True

    while now() < end:
        t = now()
        if t >= next_fault:
            kind = FAULTS[cycle % len(FAULTS)]
            fault(kind)
            faults_this_minute.append(kind)
            minute = int(t // 60) + 1
            time.sleep(2)
            th = threading.Thread(target=cli_action,
                                  args=("198.19.%d.%d" % (cycle // 250, cycle % 250 + 1), minute))
            th.start()
            cli_threads.append(th)
            # one console action at a time: "not done: ..." does not name
            # its address, and the console runs one action at a time anyway
            if pending:
                log("console: the last action has shown no result yet, none this time")
            else:
                a = console_action("198.18.%d.%d" % (cycle // 250, cycle % 250 + 1), minute)
                if a:
                    pending.append(a)
            cycle += 1
            # the next console target, seeded once the fault is over
            nxt = "198.18.%d.%d" % (cycle // 250, cycle % 250 + 1)
            st = threading.Timer(args.down + 1, seed_target, args=(nxt, 200 + 10 * cycle))
            st.start()
            timers.append(st)
            next_fault += args.fault_every
            continue
        ms, text = key_probe(key)
        minute_keys.append(ms if ms is not None else 5000.0)
        KEYS_LOG.write("%.2f %s %.1f\n" % (t, key, minute_keys[-1]))
        if ms is None or ms > args.key_bound_ms:
            log("slow key %s: %s ms" % (key, "no answer in 5000" if ms is None else "%.0f" % ms))
        key = "3" if key == "2" else "2"
        pending = [a for a in pending if not console_result(a, text)]
        if now() >= next_minute:
            if not minute_row():
                break
        time.sleep(max(0.0, args.key_every - (now() - t)))

    if len(rows) < round(minutes):
        minute_row()
    for t in timers:         # every fault ends, every seed is written
        t.join()
    deadline = time.monotonic() + 30
    while pending and time.monotonic() < deadline:
        text = screen()
        pending = [a for a in pending if not console_result(a, text)]
        time.sleep(0.2)
    text = screen()
    for a in pending:
        console_result(a, text, final=True)
    stop_feed.set()
    for th in cli_threads:
        th.join()
    # Every server is back: one more command retries the audits a fault held back.
    time.sleep(3)
    cli_action("198.19.255.254", 0)
    time.sleep(2)
    lost, acts = reckon(final=True)
    alive = rss_kb(pid) > 0
    keys("q")
    quit_by = time.monotonic() + 15      # under ASan the leak check takes a while
    while rss_kb(pid) > 0 and time.monotonic() < quit_by:
        time.sleep(0.1)
    quit_ok = rss_kb(pid) < 0
    tmux("kill-server", check=False)

    by_minute = {}
    for a in acts:
        if a["minute"] and a["verdict"].startswith("LOST"):
            by_minute[a["minute"]] = by_minute.get(a["minute"], 0) + 1
    print()
    print("actions:")
    for a in acts:
        if a["minute"]:
            print("  minute %3d  %-7s %-15s %-24s %s" % (a["minute"], a["via"], a["ip"], a["verdict"],
                                                       a["said"][0][:60]))
    print()
    print("| minute | RSS (KiB) | open fds | longest key (ms) | keys over %d ms | lost actions | faults |"
          % args.key_bound_ms)
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %d | %d | %d | %.0f | %d of %d | %d | %s |" % (
            r["minute"], r["rss_kb"], r["fds"], r["longest_ms"], r["slow"], r["keys"],
            by_minute.get(r["minute"], 0), r["faults"]))
    rss = [r["rss_kb"] for r in rows if r["rss_kb"] > 0]
    fd = [r["fds"] for r in rows if r["fds"] > 0]
    longest = max((r["longest_ms"] for r in rows), default=0)
    print()
    print("summary: %d minutes, %d faults, %d actions (%d via the console), %d lost" % (
        len(rows), cycle, len([a for a in acts if a["minute"]]),
        len([a for a in acts if a["via"] == "console"]), lost))
    if rss:
        print("rss_kb: first %d, last %d, min %d, max %d" % (rss[0], rss[-1], min(rss), max(rss)))
    if fd:
        print("fds: first %d, last %d, min %d, max %d" % (fd[0], fd[-1], min(fd), max(fd)))
    print("longest key: %.0f ms (bound %d ms); console %s at the end, %s" % (
        longest, args.key_bound_ms, "alive" if alive else "GONE",
        "quit on q" if quit_ok else "did NOT quit on q in 15 s"))
    ok = alive and quit_ok and lost == 0 and len(rows) >= 1
    print("soak: %s" % ("ok" if ok else "FAILED"))
    return 0 if ok else 1


def on_signal(signum, frame):
    raise SystemExit(128 + signum)      # through the finally below


if __name__ == "__main__":
    # run in the background, SIGINT may come ignored: take both back
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        sys.exit(main())
    finally:
        stop_feed.set()
        for kind in ("redis", "health"):  # never leave a server stopped
            fault_end(kind)
        subprocess.run(["tmux", "-L", SOCK, "kill-server"], capture_output=True)
