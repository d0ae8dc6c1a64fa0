#!/usr/bin/env python3
"""The watch and the database's protection in strata serve, measured on the example (scale 1).
Prints Markdown for RESULTS.md.

  bench/watch_bench.py detect  --database URL [--rounds 3]
      baseline exports of a heavy and a typical admin, a restart with the subqueries rewrite (it
      crawls for the heavy admin only), then both admins export in turn until the watch falls back:
      how many of the heavy admin's exports and how many seconds that took
  bench/watch_bench.py noise   --database URL [--exports 300]
      a benign rewrite (member_activity_fast) deployed on a loaded machine (two busy processes),
      300 exports over five admins: fallbacks (must be 0), the spread of the timings, and what the
      watch cost per export (strata_watch_seconds_total against the exports' own time)
  bench/watch_bench.py protect --database URL
      fairness by database time: one worker; admin H queues heavy exports, admin S small ones; when
      S's are done, and each one's share of the database time. Then the adaptive limit: four
      workers on two cores, six admins flood heavy exports while a small admin asks for small ones
      one after another; with the adaptive limit and with --fixed-limit

URL: sqlite:PATH (a database made by `strata generate --scale 1`) or a PostgreSQL URL of one. The
job store is a SQLite file in a temporary folder for a SQLite database, the same PostgreSQL
database otherwise. Requires a build in build/ (scripts/build.sh)."""

import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STRATA = os.environ.get("STRATA_BIN", os.path.join(ROOT, "build", "src", "strata"))
EXAMPLE = os.path.join(ROOT, "examples", "admin-reports")
KEY = "bench_watch_service_key"
REPORT = "member_activity"


def tenants_by_orders(database):
    """Admins by their orders, most first."""
    sql = "SELECT admin_id, count(*) FROM orders GROUP BY admin_id ORDER BY 2 DESC, 1"
    if database.startswith("sqlite:"):
        con = sqlite3.connect(database[7:])
        rows = con.execute(sql).fetchall()
        con.close()
        return [r[0] for r in rows]
    out = subprocess.run(["psql", database, "-At", "-c", sql], capture_output=True, text=True, check=True).stdout
    return [int(line.split("|")[0]) for line in out.split()]


class Serve:
    def __init__(self, database, *flags, watch="fallback"):
        self.database = database
        self.dir = tempfile.mkdtemp(prefix="strata_watch_bench_")
        self.project = os.path.join(self.dir, "project")
        shutil.copytree(EXAMPLE, self.project, ignore=shutil.ignore_patterns("*.db", "*.db-*", "exports"))
        with open(os.path.join(self.project, "strata.toml"), "a") as f:
            f.write(f'\n[serve.watch]\nmode = "{watch}"\n[[serve.keys]]\nsha256 = '
                    f'"{hashlib.sha256(KEY.encode()).hexdigest()}"\nrole = "service"\n')
        self.jobs = database if not database.startswith("sqlite:") else "sqlite:" + os.path.join(self.dir, "jobs.db")
        if not database.startswith("sqlite:"):
            subprocess.run(["psql", database, "-qc", "DROP TABLE IF EXISTS strata_jobs, strata_job_tenants, "
                            "strata_runs, strata_watch, strata_report_versions CASCADE"], check=True,
                           capture_output=True)
        self.flags = flags
        self.proc = None

    def start(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.proc = subprocess.Popen([STRATA, "serve", "--project", self.project, "--listen", f"127.0.0.1:{self.port}",
                                      "--database", self.database, "--jobs", self.jobs, "--quiet", *self.flags])
        for _ in range(300):
            try:
                if self.call("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        sys.exit("strata serve did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(60)
            self.proc = None

    def deploy(self, sql_file):
        self.stop()
        shutil.copy(os.path.join(EXAMPLE, "reports", sql_file), os.path.join(self.project, "reports", REPORT + ".sql"))
        self.start()

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, True)

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=600) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def post(self, tenant, report=REPORT, day=0):
        """An export; a different `day` makes a different request (the same one while it is queued
        or running would be deduplicated)."""
        params = {"admin_id": tenant}
        if day:
            params["to"] = (datetime.date(2025, 1, 1) + datetime.timedelta(days=day)).isoformat()
        status, body = self.call("POST", "/api/v1/exports", {"report": report, "format": "csv", "params": params})
        assert status == 202, body
        return json.loads(body)["id"]

    def job(self, id):
        return json.loads(self.call("GET", "/api/v1/exports/" + id)[1])

    def wait(self, id, every=0.02):
        while True:
            j = self.job(id)
            if j["state"] in ("done", "failed", "cancelled"):
                return j
            time.sleep(every)

    def export(self, tenant, report=REPORT):
        return self.wait(self.post(tenant, report))

    def ledger(self):
        return json.loads(self.call("GET", "/api/v1/watch")[1])["entries"]

    def metric(self, name):
        text = self.call("GET", "/metrics")[1].decode()
        total = 0.0
        for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+-]+)$", text, re.M):
            total += float(m.group(1))
        return total


def detect(args):
    order = tenants_by_orders(args.database)
    heavy, typical = order[len(order) // 20], order[len(order) // 2]  # the 95th percentile, the median
    rows = []
    for round_ in range(args.rounds):
        s = Serve(args.database)
        try:
            s.start()
            for _ in range(6):
                s.export(heavy)
                s.export(typical)
            s.deploy("member_activity_subqueries.sql")
            t0 = time.time()
            n = 0
            while not s.ledger() and n < 30:
                n += 1
                j = s.export(heavy)
                s.export(typical)
            took = time.time() - t0
            entry = s.ledger()[0] if s.ledger() else None
            fb = s.export(heavy)
            rows.append((round_ + 1, n, took, entry, fb, j))
        finally:
            s.close()
    print(f"### Detection: the subqueries rewrite deployed; admin {heavy} (heavy) and {typical} (typical) export "
          f"in turn\n")
    print("| round | heavy exports until fallback | seconds | ratio | reason | next heavy export |")
    print("|---:|---:|---:|---:|---|---|")
    for r, n, took, entry, fb, last in rows:
        ratio = "fails" if entry and entry["ratio"] is None else (f"{entry['ratio']:.1f}x" if entry else "-")
        reason = entry["reason"][:90] + "…" if entry else "not caught"
        print(f"| {r} | {n} | {took:.1f} | {ratio} | {reason} | fallback={fb['fallback']}, "
              f"{fb['elapsed_seconds']:.2f} s (last crawl: {last['elapsed_seconds']:.2f} s) |")
    print()


BURSTS = """
import random, time
while True:
    end = time.time() + random.uniform(0.01, 0.3)
    while time.time() < end:
        pass
    time.sleep(random.uniform(0.01, 0.3))
"""


def busy(n):
    """Processes that load the cores in bursts of 10 to 300 ms, so that timings vary, not only slow down."""
    return [subprocess.Popen([sys.executable, "-c", BURSTS]) for _ in range(n)]


def noise(args):
    order = tenants_by_orders(args.database)
    picks = [order[len(order) * q // 100] for q in (2, 10, 30, 50, 80)]
    s = Serve(args.database)
    hogs = []
    try:
        s.start()
        for _ in range(8):
            for t in picks:
                s.export(t)
        s.deploy("member_activity_fast.sql")
        hogs = busy(3)
        durations = {t: [] for t in picks}
        t0 = time.time()
        for k in range(args.exports):
            t = picks[k % len(picks)]
            j = s.export(t)
            durations[t].append(j["elapsed_seconds"])
        wall = time.time() - t0
        watch_s = s.metric("strata_watch_seconds_total")
        export_s = s.metric("strata_export_duration_seconds_sum")
        exports = s.metric("strata_export_duration_seconds_count")
        entries = s.ledger()
    finally:
        for h in hogs:
            h.kill()
        s.close()
    print(f"### No false alarms: a benign rewrite (member_activity_fast), {args.exports} exports over admins "
          f"{', '.join(map(str, picks))}, three processes loading the two cores in random bursts\n")
    print("| admin | exports | median s | spread (max/min) | coefficient of variation |")
    print("|---:|---:|---:|---:|---:|")
    for t in picks:
        d = durations[t]
        cv = statistics.pstdev(d) / statistics.mean(d)
        print(f"| {t} | {len(d)} | {statistics.median(d):.3f} | {max(d) / max(min(d), 1e-6):.1f}x | {cv:.0%} |")
    print(f"\nFallbacks and alerts: **{len(entries)}** ({json.dumps(entries)[:200]}). {args.exports} exports in "
          f"{wall:.0f} s.\n")
    print(f"The watch's own cost: {watch_s * 1000:.1f} ms over {exports:.0f} exports, "
          f"**{watch_s / exports * 1000:.2f} ms per export**, **{watch_s / export_s:.2%}** of the exports' time.\n")


def protect(args):
    order = tenants_by_orders(args.database)
    heavy, small = order[0], order[len(order) // 2]
    # Fairness by time: one worker; H queues 8 heavy exports, then S queues 40 small ones.
    s = Serve(args.database, "--workers", "1", "--max-queries", "1")
    try:
        s.start()
        for _ in range(3):  # warm both
            s.export(heavy)
            s.export(small)
        t0 = time.time()
        h_ids = [s.post(heavy, day=k + 1) for k in range(8)]
        s_ids = [s.post(small, day=k + 1) for k in range(40)]
        s_done = max(s.wait(i)["finished_at"] for i in s_ids)
        h_jobs = [s.wait(i) for i in h_ids]
        s_jobs = [s.job(i) for i in s_ids]
        h_done = max(j["finished_at"] for j in h_jobs)
        small_s = statistics.median(j["elapsed_seconds"] for j in s_jobs)
        heavy_s = statistics.median(j["elapsed_seconds"] for j in h_jobs)
        h_before = sum(1 for j in h_jobs if j["finished_at"] <= s_done)
    finally:
        s.close()
    print(f"### Fairness by database time: one worker; admin {heavy} queues 8 heavy exports "
          f"({heavy_s:.2f} s each), then admin {small} queues 40 small ones ({small_s:.3f} s each)\n")
    print(f"The small admin's 40 exports were all done after **{h_before}** of the heavy admin's 8 "
          f"(by count, turn by turn, it would have waited for 8 heavy ones: all of them, "
          f"{8 * heavy_s:.1f} s). Finished: small at {s_done[11:23]}, heavy at {h_done[11:23]} (UTC).\n")

    # The adaptive limit: 4 workers on 2 cores, a flood of heavy exports from six admins.
    floods = order[:6]
    print(f"### The adaptive limit: four workers, admins {', '.join(map(str, floods))} queue 8 heavy exports "
          f"each while admin {small} asks for 30 small ones, one after another\n")
    print("| limit | small export p50 s | p95 s | heavy export median s | limit min / mean | flood done in s |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, flags in (("adaptive (default)", ()), ("--fixed-limit", ("--fixed-limit",))):
        s = Serve(args.database, "--workers", "4", "--max-queries", "4", *flags)
        try:
            s.start()
            for t in floods + [small]:
                for _ in range(9):
                    s.export(t)  # the baseline the adaptive limit compares with
            t0 = time.time()
            ids = [s.post(t, day=k + 1) for k in range(8) for t in floods]
            limits = []
            waits = []
            for k in range(30):
                t = time.time()
                s.wait(s.post(small, day=k + 1))
                waits.append(time.time() - t)
                limits.append(s.metric("strata_export_limit"))
            heavy_jobs = [s.wait(i) for i in ids]
            took = time.time() - t0
        finally:
            s.close()
        waits.sort()
        print(f"| {label} | {statistics.median(waits):.3f} | {waits[int(0.95 * (len(waits) - 1))]:.3f} | "
              f"{statistics.median(j['elapsed_seconds'] for j in heavy_jobs):.2f} | {min(limits):.0f} / "
              f"{statistics.mean(limits):.1f} | {took:.1f} |")
    print()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["detect", "noise", "protect"])
    p.add_argument("--database", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--exports", type=int, default=300)
    args = p.parse_args()
    {"detect": detect, "noise": noise, "protect": protect}[args.what](args)


if __name__ == "__main__":
    main()
