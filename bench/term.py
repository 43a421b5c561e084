#!/usr/bin/env python3
"""term.py: the console as an on-call engineer runs it, measured from outside.

    term.py [--cols 80] [--rows 24] [--marker-ip IP] [--idle-s 60]
            [--attack-s 60] [--attack-cmd CMD] [--settle-s 3] [--starts 5]
            -- SECTOP ARGS...

Runs sectop (the console) in a pseudo-terminal of its own (COLSxROWS,
TERM=xterm-256color) and reads everything it writes, as a terminal would.
Prints "key value" lines:

  first_output_ms    exec to the first byte on the terminal
  first_data_ms      exec to the first frame holding PostgreSQL's figures
                     (the marker address among the top addresses)
  first_complete_ms  exec to the first frame that also holds the exact Redis
                     state of the shown addresses (a block TTL drawn: "23h59m"):
                     the median of --starts starts (the last one goes on to the
                     spans below), since one start can meet a checkpoint
  first_complete_max_ms  the slowest of those starts
  idle_cpu_pct       CPU time (user + system) over the idle span, % of one core
  idle_bytes_per_min bytes written to the terminal per minute, idle
  attack_cpu_pct, attack_bytes_per_min   the same while CMD runs (live traffic)
  peak_rss_kb        VmHWM at the end: the most resident memory it ever had
  exit_status        after 'q'

--span-cmd CMD runs "CMD begin NAME" before and "CMD end NAME SECONDS" after
each measured span (NAME idle or attack), between two reads of the pty; its
output joins ours (bench/run.sh uses it for the database time of the span).

The figures come from /proc/PID (stat: utime+stime; status: VmHWM) and from
the bytes read on the pty master.
"""
import argparse
import statistics
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

TTL = re.compile(rb"\d+h\d\dm|\d+m\d\ds")


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3): utime is field 14, stime field 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vm_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


class Term:
    def __init__(self, argv, cols, rows):
        self.t0 = time.monotonic()
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["TERM"] = "xterm-256color"
            os.environ.setdefault("LANG", "C.UTF-8")
            for v in ("LC_ALL", "LC_CTYPE", "COLUMNS", "LINES", "NO_COLOR"):
                os.environ.pop(v, None)
            try:
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.buf = bytearray()
        self.nbytes = 0
        self.status = None

    def pump(self, seconds):
        """Read what sectop writes for `seconds`; False once it has exited."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return True
            r, _, _ = select.select([self.fd], [], [], min(left, 0.005))
            if not r:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                data = b""
            if not data:
                return False
            self.nbytes += len(data)
            if len(self.buf) < 1 << 22:
                self.buf += data

    def wait(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            p, st = os.waitpid(self.pid, os.WNOHANG)
            if p:
                self.status = os.waitstatus_to_exitcode(st)
                return self.status
            self.pump(0.05)
        return None


def first_frame(t, marker, timeout_s):
    """ms from exec to the first output, the first data, the first complete frame."""
    first_output = first_data = first_complete = None
    data_at = 0
    deadline = t.t0 + timeout_s
    while first_complete is None and time.monotonic() < deadline:
        before = len(t.buf)
        if not t.pump(0.002):
            break
        if len(t.buf) == before:
            continue
        now = (time.monotonic() - t.t0) * 1000
        if first_output is None:
            first_output = now
        if first_data is None:
            i = t.buf.find(marker)
            if i >= 0:
                first_data, data_at = now, i
        if first_data is not None and TTL.search(t.buf, data_at):
            first_complete = now
    return first_output, first_data, first_complete


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cols", type=int, default=80)
    ap.add_argument("--rows", type=int, default=24)
    ap.add_argument("--marker-ip", default="203.0.113.45")
    ap.add_argument("--idle-s", type=float, default=60)
    ap.add_argument("--attack-s", type=float, default=60)
    ap.add_argument("--attack-cmd", default="")
    ap.add_argument("--settle-s", type=float, default=3)
    ap.add_argument("--first-timeout-s", type=float, default=30)
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--span-cmd", default="")
    ap.add_argument("argv", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    argv = a.argv[1:] if a.argv[:1] == ["--"] else a.argv
    if not argv:
        ap.error("no sectop command given")

    marker = a.marker_ip.encode()
    samples = []
    for _ in range(max(a.starts, 1) - 1):
        t = Term(argv, a.cols, a.rows)
        samples.append(first_frame(t, marker, a.first_timeout_s)[2])
        os.write(t.fd, b"q")
        if t.wait(5) is None:
            os.kill(t.pid, signal.SIGTERM)
            t.wait(2)
    t = Term(argv, a.cols, a.rows)
    first_output, first_data, first_complete = first_frame(t, marker, a.first_timeout_s)
    samples.append(first_complete)
    if None in samples:
        first_complete = None
    else:
        first_complete = statistics.median(samples)

    def out(k, v):
        print("%s %s" % (k, "-1" if v is None else ("%.3f" % v if isinstance(v, float) else v)))
        sys.stdout.flush()

    out("first_output_ms", first_output)
    out("first_data_ms", first_data)
    out("first_complete_ms", first_complete)
    out("first_complete_max_ms", None if first_complete is None else max(samples))
    if first_complete is None:
        out("exit_status", t.wait(0.1))
        os.kill(t.pid, signal.SIGTERM)
        return 1

    def hook(*words):
        if a.span_cmd:
            sys.stdout.flush()
            subprocess.run("%s %s" % (a.span_cmd, " ".join(words)), shell=True,
                           stdin=subprocess.DEVNULL)
            sys.stdout.flush()

    def span(name, seconds):
        hook("begin", name)
        c0, b0, w0 = cpu_s(t.pid), t.nbytes, time.monotonic()
        alive = t.pump(seconds)
        c1, b1, w1 = cpu_s(t.pid), t.nbytes, time.monotonic()
        hook("end", name, "%.3f" % (w1 - w0))
        return alive, 100.0 * (c1 - c0) / (w1 - w0), (b1 - b0) * 60.0 / (w1 - w0)

    t.pump(a.settle_s)
    alive, cpu, rate = span("idle", a.idle_s)
    out("idle_cpu_pct", cpu)
    out("idle_bytes_per_min", rate)
    if alive and a.attack_s > 0 and a.attack_cmd:
        feeder = subprocess.Popen(a.attack_cmd, shell=True, start_new_session=True,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        t.pump(a.settle_s)
        alive, cpu, rate = span("attack", a.attack_s)
        os.killpg(feeder.pid, signal.SIGTERM)
        feeder.wait()
        out("attack_cpu_pct", cpu)
        out("attack_bytes_per_min", rate)
    out("peak_rss_kb", vm_kb(t.pid, "VmHWM"))
    os.write(t.fd, b"q")
    status = t.wait(5)
    if status is None:
        os.kill(t.pid, signal.SIGTERM)
        status = t.wait(2)
    out("exit_status", status)
    return 0 if status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
