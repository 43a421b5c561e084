#!/usr/bin/env python3
"""table.py: the benchmark's figures as tables (bench/run.sh calls it).

    table.py DIR SMALL LARGE [--markdown] [--live RATES] [--no-main]

DIR holds "key value" files written by the measurements, one per kind and
size: sectop.S, naive.S (bench_refresh), console.S (term.py), report.S
(run.sh), and control.LARGE (bench_refresh on a table of LARGE rows whose
recent window has SMALL's rate).  SMALL and LARGE name the two sizes
("1M", "10M").  Every row is printed, with "n/a (why)" when a figure is
missing; never NaN.  Targets are judged at LARGE; "flat" at LARGE/SMALL.

--live R1,R2,...: also the live section's table, from live.R (bench/live.py:
one console and the naive refresh, side by side, while bench_feed feeds R
events/s) for each rate, and live5.RTOP (five consoles at the last rate);
its targets are judged at the last rate.  --no-main: that table only.
"""
import math
import os
import sys


def load(d, name):
    vals = {}
    try:
        with open(os.path.join(d, name)) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2:
                    try:
                        v = float(parts[1])
                    except ValueError:
                        continue
                    if math.isfinite(v):
                        vals[parts[0]] = v
    except OSError:
        pass
    return vals


def print_table(head, table, md):
    if md:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" for _ in head) + "|")
        for c in table:
            print("| " + " | ".join(c) + " |")
        return
    widths = [max(len(r[i]) for r in [head] + table) for i in range(len(head))]
    for r in [head] + table:
        print("  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i])
                        for i, c in enumerate(r)).rstrip())


def live_table(d, rates, md):
    """The live section: one column per rate, the naive refresh beside."""
    top = rates[-1]
    L = {r: load(d, "live.%s" % r) for r in rates}
    five = load(d, "live5.%s" % top)

    def get(vals, key, scale):
        v = vals.get(key)
        return None if v is None or v < 0 else v * scale

    # (label, unit, source ("one" per rate, "five" at the top rate), key,
    #  scale, target (op, value) at the top rate or None, naive key or None
    #  (">= 50x" judged at the top rate when it is the database time), decimals)
    rows = [
        ("live: db time per second, console (1 s refresh)", "ms/s", "one",
         "sectop_db_ms_per_s", 1, ("<=", 10), "naive_db_ms_per_s", 2),
        ("live: db time per second, naive refresh (1 s)", "ms/s", "one",
         "naive_db_ms_per_s", 1, None, None, 1),
        ("live: queries per second, console", "queries/s", "one",
         "sectop_queries_per_s", 1, None, "naive_queries_per_s", 2),
        ("live: queries per second, naive refresh", "queries/s", "one",
         "naive_queries_per_s", 1, None, None, 2),
        ("live: naive refresh, wall (mean)", "ms", "one", "naive_wall_ms", 1, None, None, 1),
        ("live: naive refresh, wall (slowest)", "ms", "one", "naive_wall_max_ms", 1, None, None, 1),
        ("live: commit to screen, median", "ms", "one", "age_median_ms", 1, None, None, 0),
        ("live: commit to screen, slowest", "ms", "one", "age_max_ms", 1, ("<=", 2000), None, 0),
        ("live: markers committed in the span", "markers", "one", "markers", 1, None, None, 0),
        ("live: markers never on screen", "markers", "one", "markers_missed", 1, ("<=", 0), None, 0),
        ("live: console CPU", "% core", "one", "sectop_cpu_pct", 1, ("<=", 5), None, 2),
        ("live: console peak RSS", "MB", "one", "sectop_rss_kb", 1 / 1024, ("<=", 32), None, 1),
        ("live: console drew the figures (first refresh in time)", "consoles", "one",
         "consoles_ready", 1, (">=", 1), None, 0),
        ("live: feeder rate achieved", "events/s", "one", "feed_rate_achieved", 1, None, None, 1),
        ("live: feeder backlog, most", "events", "one", "feed_backlog_max", 1, None, None, 0),
        ("live x5: db time per second per console (mean)", "ms/s", "five",
         "sectop_db_ms_per_s", 1, ("<=", 10), None, 2),
        ("live x5: db time per second per console (most)", "ms/s", "five",
         "sectop_db_ms_per_s_max", 1, ("<=", 10), None, 2),
        ("live x5: db time per second, five consoles", "ms/s", "five",
         "sectop_db_ms_per_s_total", 1, None, None, 2),
        ("live x5: queries per second per console (mean)", "queries/s", "five",
         "sectop_queries_per_s", 1, None, None, 2),
        ("live x5: CPU per console (mean)", "% core", "five", "sectop_cpu_pct", 1, ("<=", 5), None, 2),
        ("live x5: CPU per console (most)", "% core", "five", "sectop_cpu_pct_max", 1, ("<=", 5), None, 2),
        ("live x5: peak RSS (largest console)", "MB", "five", "sectop_rss_kb", 1 / 1024, ("<=", 32), None, 1),
        ("live x5: commit to screen, median", "ms", "five", "age_median_ms", 1, None, None, 0),
        ("live x5: commit to screen, slowest", "ms", "five", "age_max_ms", 1, ("<=", 2000), None, 0),
        ("live x5: markers never on screen", "markers", "five", "markers_missed", 1, ("<=", 0), None, 0),
        ("live x5: consoles that drew the figures", "consoles", "five", "consoles_ready", 1,
         (">=", 5), None, 0),
    ]

    def fmt(v, dec):
        return None if v is None else "%.*f" % (dec, v)

    def cell(vals, key, scale, dec):
        """A figure; the slowest age of a span where markers were missed
        is only known to be above the bound: ">BOUND"."""
        missed = vals.get("markers_missed", 0)
        if vals.get("age_bound_ms", -1) > 0 and (
                key == "age_max_ms" and missed > 0 or
                key == "age_median_ms" and missed > 0 and missed >= vals.get("markers_seen", 0)):
            return ">%d" % vals["age_bound_ms"]
        return fmt(get(vals, key, scale), dec)

    head = ["figure", "unit"] + ["%s/s" % r for r in rates] + ["target at %s/s" % top] + \
        ["naive %s/s" % r for r in rates] + ["x below naive %s/s" % top, "verdict"]
    table = []
    for label, unit, src, key, scale, target, nkey, dec in rows:
        cells = [label, unit]
        for r in rates:
            if src == "five":
                cells.append((cell(five, key, scale, dec) or
                              ("n/a (not measured)" if not five else "n/a")) if r == top else "-")
            else:
                cells.append(cell(L[r], key, scale, dec) or
                             ("n/a (not measured)" if not L[r] else "n/a"))
        tparts = []
        if target:
            tparts.append("%s %g" % target)
        if nkey == "naive_db_ms_per_s":
            tparts.append(">=50x below naive")
        cells.append(", ".join(tparts) or "-")
        for r in rates:
            cells.append(fmt(get(L[r], nkey, scale), dec) or "n/a" if nkey else "-")
        vals = five if src == "five" else L[top]
        vt = get(vals, key, scale)
        nt = get(L[top], nkey, scale) if nkey else None
        ratio = nt / vt if nt is not None and vt else None
        cells.append("%.1f" % ratio if ratio is not None else "-")
        verdict = []
        if target:
            if key == "age_max_ms" and vals.get("markers_missed", 0) > 0:
                verdict.append("MISS")
            elif vt is None:
                verdict.append("n/a")
            else:
                ok = vt <= target[1] if target[0] == "<=" else vt >= target[1]
                verdict.append("ok" if ok else "MISS")
        if nkey == "naive_db_ms_per_s":
            verdict.append("n/a" if ratio is None else "50x ok" if ratio >= 50 else "<50x")
        cells.append(", ".join(verdict) or "-")
        table.append(cells)
    print_table(head, table, md)


def main():
    argv = sys.argv[1:]
    live = None
    if "--live" in argv:
        i = argv.index("--live")
        live = [r for r in argv[i + 1].split(",") if r]
        del argv[i:i + 2]
    args = [a for a in argv if not a.startswith("--")]
    md = "--markdown" in argv
    d, small, large = args
    if "--no-main" in argv:
        if live:
            live_table(d, live, md)
        return 0
    R = {}
    for kind in ("sectop", "naive", "console", "report"):
        for size in (small, large):
            R[kind, size] = load(d, "%s.%s" % (kind, size))
    R["control", large] = load(d, "control.%s" % large)
    report_missing = os.path.exists(os.path.join(d, "report.missing"))

    def get(kind, size, key, scale=1.0):
        v = R.get((kind, size), {}).get(key)
        if v is None or v < 0:
            return None
        return v * scale

    # (label, unit, kind, key, scale, target (op, value) at LARGE or None,
    #  flat (max LARGE/SMALL) or None, baseline (kind, key[, factor]) or None,
    #  decimals).  A control row's LARGE/SMALL compares it with SMALL's
    #  sectop figure; a baseline factor of 60 makes a per-refresh figure one
    #  of a minute at 1 s refreshes.
    rows = [
        ("db: first full refresh (fresh connection)", "ms", "sectop", "first_db_ms", 1,
         ("<=", 30), 1.2, ("naive", "first_db_ms"), 2),
        ("db: steady refresh, nothing new", "ms", "sectop", "steady_db_ms", 1,
         ("<=", 5), 1.2, ("naive", "steady_db_ms"), 3),
        ("db: refresh after a 500-row burst", "ms", "sectop", "burst_db_ms", 1,
         None, None, ("naive", "burst_db_ms"), 2),
        ("db: first refresh, LARGE rows, SMALL-rate window", "ms", "control", "first_db_ms", 1,
         ("<=", 30), 1.2, None, 2),
        ("db: steady refresh, LARGE rows, SMALL-rate window", "ms", "control", "steady_db_ms", 1,
         ("<=", 5), 1.2, None, 3),
        ("db: burst refresh, LARGE rows, SMALL-rate window", "ms", "control", "burst_db_ms", 1,
         None, None, None, 2),
        ("db: queries, first refresh", "queries", "sectop", "first_queries", 1,
         None, None, ("naive", "first_queries"), 0),
        ("db: queries, steady refresh", "queries", "sectop", "steady_queries", 1,
         None, None, ("naive", "steady_queries"), 2),
        ("db: queries, burst refresh", "queries", "sectop", "burst_queries", 1,
         None, None, ("naive", "burst_queries"), 0),
        ("db: time per minute, idle console (1 s refresh)", "ms/min", "console",
         "idle_db_ms_per_min", 1, None, None, ("naive", "steady_db_ms", 60), 1),
        ("db: time per minute, console under live attack", "ms/min", "console",
         "attack_db_ms_per_min", 1, None, None, ("naive", "burst_db_ms", 60), 1),
        ("client: first refresh, wall incl. connect", "ms", "sectop", "first_wall_ms", 1,
         None, None, ("naive", "first_wall_ms"), 1),
        ("client: steady refresh, wall", "ms", "sectop", "steady_wall_ms", 1,
         None, None, ("naive", "steady_wall_ms"), 2),
        ("client: burst refresh, wall", "ms", "sectop", "burst_wall_ms", 1,
         None, None, ("naive", "burst_wall_ms"), 1),
        ("redis: commands per refresh", "commands", "sectop", "redis_commands", 1,
         None, None, None, 1),
        ("redis: round trips per refresh", "round trips", "sectop", "redis_round_trips", 1,
         None, None, None, 1),
        ("redis: SCAN steps per refresh", "SCANs", "sectop", "redis_scan_steps", 1,
         None, None, None, 1),
        ("redis: server time per refresh", "ms", "sectop", "redis_server_ms", 1,
         None, None, None, 2),
        ("redis: server time per second, one console (refresh 2 s)", "ms/s", "sectop", "redis_ms_per_s", 1,
         ("<=", 2), None, None, 2),
        ("redis: SCAN steps per second, one console", "SCANs/s", "sectop", "redis_scans_per_s", 1,
         None, None, None, 2),
        ("redis: seconds per full pass of the paced walk", "s", "sectop", "walk_pass_s", 1,
         None, None, None, 0),
        ("redis: KEYS calls (INFO commandstats)", "calls", "sectop", "redis_keys_calls", 1,
         ("<=", 0), None, None, 0),
        ("console: CPU, idle, refresh 1 s", "% core", "console", "idle_cpu_pct", 1,
         ("<=", 0.5), None, None, 2),
        ("console: CPU, live attack, refresh 1 s", "% core", "console", "attack_cpu_pct", 1,
         None, None, None, 2),
        ("console: peak RSS", "MB", "console", "peak_rss_kb", 1 / 1024,
         ("<=", 16), None, None, 1),
        ("console: start to first complete frame (median of 5)", "ms", "console", "first_complete_ms", 1,
         ("<=", 150), None, None, 1),
        ("console: start to first complete frame, slowest of 5", "ms", "console",
         "first_complete_max_ms", 1, None, None, None, 1),
        ("console: terminal output, idle", "B/s", "console", "idle_bytes_per_min", 1 / 60,
         ("<=", 1024), None, None, 0),
        ("console: terminal output, live attack", "B/s", "console", "attack_bytes_per_min", 1 / 60,
         None, None, None, 0),
        ("report --since 7d, no rollup", "s", "report", "report_norollup_s", 1,
         None, None, ("report", "plain_s"), 2),
        ("setup --rollup (once)", "s", "report", "setup_s", 1,
         None, None, None, 1),
        ("report --since 7d, with rollup", "s", "report", "report_s", 1,
         ("<=", 0.5), None, ("report", "plain_s"), 2),
        ("report --since 7d, with rollup, again", "s", "report", "report_again_s", 1,
         ("<=", 0.5), None, ("report", "plain_s"), 2),
        ("report: database time, with rollup", "s", "report", "report_db_s", 1,
         None, None, ("report", "plain_s"), 2),
        ("report: Redis SCAN calls", "SCANs", "report", "report_scans", 1,
         None, None, None, 0),
        ("report: Redis GETs (block keys looked up)", "GETs", "report", "report_gets", 1,
         None, None, None, 0),
        ("report: Redis server time", "s", "report", "report_redis_server_s", 1,
         None, None, None, 3),
        ("report --since 7d, with rollup, Redis down", "s", "report", "report_noredis_s", 1,
         None, None, ("report", "plain_s"), 2),
        ("report --since 7d --all-blocks (keyspace walk)", "s", "report", "report_walk_s", 1,
         None, None, ("report", "plain_s"), 2),
        ("report --all-blocks: SCAN calls", "SCANs", "report", "report_walk_scans", 1,
         None, None, None, 0),
        ("report --all-blocks: Redis server time of its SCANs", "s", "report",
         "report_walk_scan_server_s", 1, None, None, None, 2),
        ("rows in the 15-minute window, measured", "rows", "sectop", "first_window_rows", 1,
         None, None, ("naive", "first_window_rows"), 0),
        ("rows in the probe's range, steady", "rows", "sectop", "steady_probe_rows", 1,
         None, None, None, 0),
    ]

    def fmt(v, dec):
        if v is None:
            return None
        return "%.*f" % (dec, v)

    head = ["figure", "unit", small, large, "%s/%s" % (large, small), "target",
            "baseline " + small, "baseline " + large, "x faster " + small,
            "x faster " + large, "verdict"]
    table = []
    for label, unit, kind, key, scale, target, flat, base, dec in rows:
        label = label.replace("LARGE", large).replace("SMALL", small)
        # a control row compares with SMALL's own figure: same window, more rows
        vs = get("sectop" if kind == "control" else kind, small, key, scale)
        vl = get(kind, large, key, scale)
        why = None
        if kind == "report" and report_missing:
            why = "n/a (report not built)"
        elif kind == "report":
            why = "n/a (failed: see the log)"
        elif kind == "control" and not R["control", large]:
            why = "n/a (not measured)"
        cells = [label, unit]
        cells.append("-" if kind == "control" else (fmt(vs, dec) or why or "n/a"))
        cells.append(fmt(vl, dec) or why or "n/a")
        if vs is not None and vl is not None and vs > 0:
            cells.append("%.2f" % (vl / vs))
        else:
            cells.append("-")
        tparts = []
        if target:
            tparts.append("%s %g" % (target[0], target[1]))
        if flat:
            tparts.append("flat <=%gx" % flat)
        if kind == "report" and target:
            tparts.append(">=6x")
        cells.append(", ".join(tparts) or "-")
        bs = bl = None
        if base:
            f = base[2] if len(base) > 2 else 1
            bs = get(base[0], small, base[1], f)
            bl = get(base[0], large, base[1], f)
            cells += [fmt(bs, dec) or why or "n/a", fmt(bl, dec) or why or "n/a"]
            for b, v in ((bs, vs), (bl, vl)):
                cells.append("%.1f" % (b / v) if b is not None and v and kind != "control"
                             and unit not in ("queries", "rows") else "-")
        else:
            cells += ["-", "-", "-", "-"]
        verdict = []
        if target and vl is not None:
            ok = vl <= target[1] if target[0] == "<=" else vl >= target[1]
            verdict.append("ok" if ok else "MISS")
        if flat and vs is not None and vl is not None and vs > 0:
            verdict.append("flat ok" if vl / vs <= flat else "NOT FLAT")
        if kind == "report" and target and bl is not None and vl:
            verdict.append("6x ok" if bl / vl >= 6 else "<6x")
        if (target or flat) and not verdict:
            verdict.append("n/a")
        cells.append(", ".join(verdict) or "-")
        table.append(cells)

    print_table(head, table, md)
    if live:
        print()
        live_table(d, live, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
