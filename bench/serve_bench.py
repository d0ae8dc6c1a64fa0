#!/usr/bin/env python3
"""strata serve, measured on the example at scale 1 (examples/admin-reports/demo.db; `strata demo`
or `strata generate --project examples/admin-reports` makes it). Prints Markdown for RESULTS.md.

  bench/serve_bench.py overhead   one export through the server (POST until done, and with the
                                  download) against `strata export` of the same report, alternated
  bench/serve_bench.py fairness   a tenant floods the queue with heavy exports while another asks
                                  for small ones, one after the other: the small ones' waits (p50,
                                  p95, max; created to started) against the heavy job's duration,
                                  with 1 and 2 workers

Requires a build in build/ (scripts/build.sh)."""

import datetime
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STRATA = os.environ.get("STRATA_BIN", os.path.join(ROOT, "build", "src", "strata"))
EXAMPLE = os.path.join(ROOT, "examples", "admin-reports")
HEAVY, SMALL = 172, 209  # the admins with the most and the fewest orders at scale 1 (seed 42)
KEYS = {HEAVY: "bench_key_heavy", SMALL: "bench_key_small"}


def project():
    if not os.path.exists(os.path.join(EXAMPLE, "demo.db")):
        sys.exit("no examples/admin-reports/demo.db: run `strata demo` (or strata generate) first")
    d = tempfile.mkdtemp(prefix="strata_serve_bench_")
    for name in ("strata.toml", "tenants.sql"):
        shutil.copy(os.path.join(EXAMPLE, name), d)
    shutil.copytree(os.path.join(EXAMPLE, "reports"), os.path.join(d, "reports"))
    os.symlink(os.path.join(EXAMPLE, "demo.db"), os.path.join(d, "demo.db"))
    with open(os.path.join(d, "strata.toml"), "a") as f:
        for tenant, key in KEYS.items():
            f.write(f'\n[[serve.keys]]\nsha256 = "{hashlib.sha256(key.encode()).hexdigest()}"\ntenant = {tenant}\n')
    return d


class Server:
    def __init__(self, folder, *flags):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.proc = subprocess.Popen([STRATA, "serve", "--project", folder, "--listen", f"127.0.0.1:{self.port}",
                                      "--quiet", *flags])
        for _ in range(300):
            try:
                if self.call("GET", "/healthz", None)[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("strata serve did not start")

    def call(self, method, path, key, body=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {key}"} if key else {})
        with urllib.request.urlopen(req) as r:
            return r.status, r.read()

    def post(self, tenant, report, **params):
        return json.loads(self.call("POST", "/api/v1/exports", KEYS[tenant],
                                    {"report": report, "params": params, "format": "xlsx"})[1])["id"]

    def job(self, tenant, id):
        return json.loads(self.call("GET", f"/api/v1/exports/{id}", KEYS[tenant])[1])

    def wait(self, tenant, id, every=0.01):
        while True:
            j = self.job(tenant, id)
            if j["state"] in ("done", "failed", "cancelled"):
                assert j["state"] == "done", j
                return j
            time.sleep(every)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def ts(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def overhead(runs=7):
    d = project()
    server = Server(d, "--workers", "1")
    cli, queued, downloaded = [], [], []
    try:
        server.wait(HEAVY, server.post(HEAVY, "payments_ledger", admin_id=HEAVY))  # warm the page cache
        for k in range(runs):
            start = time.monotonic()
            subprocess.run([STRATA, "export", "--project", d, "payments_ledger", "--param", f"admin_id={HEAVY}",
                            "-o", os.path.join(d, "cli.xlsx"), "--quiet"], check=True)
            cli.append(time.monotonic() - start)
            start = time.monotonic()
            id = server.post(HEAVY, "payments_ledger", admin_id=HEAVY)
            server.wait(HEAVY, id)
            queued.append(time.monotonic() - start)
            server.call("GET", f"/api/v1/exports/{id}/file", KEYS[HEAVY])
            downloaded.append(time.monotonic() - start)
    finally:
        server.stop()
        shutil.rmtree(d)
    c, q, w = statistics.median(cli), statistics.median(queued), statistics.median(downloaded)
    print(f"### Export through the server vs `strata export` (payments_ledger, admin {HEAVY}, "
          f"68,093 rows, .xlsx; median of {runs}, alternated)\n")
    print("| path | median s | best s | ratio to `strata export` |\n|---|---:|---:|---:|")
    print(f"| `strata export` (process start to file) | {c:.3f} | {min(cli):.3f} | 1.00 |")
    print(f"| server: POST until `done` (polled every 10 ms) | {q:.3f} | {min(queued):.3f} | {q / c:.2f} |")
    print(f"| server: POST until the file is downloaded | {w:.3f} | {min(downloaded):.3f} | {w / c:.2f} |")
    print()


def fairness(workers, heavy_jobs=60, small_jobs=20):
    d = project()
    server = Server(d, "--workers", str(workers))
    try:
        # Distinct date ranges: no two heavy exports are the same request (no dedupe).
        day = datetime.date(2025, 1, 1)
        heavy = [server.post(HEAVY, "payments_ledger", admin_id=HEAVY, to=str(day + datetime.timedelta(days=k)))
                 for k in range(heavy_jobs)]
        waits = []
        for k in range(small_jobs):
            time.sleep(0.1)
            j = server.wait(SMALL, server.post(SMALL, "payments_ledger", admin_id=SMALL,
                                               to=str(day + datetime.timedelta(days=k))))
            waits.append(ts(j["started_at"]) - ts(j["created_at"]))
        # The flood must last longer than the small exports: check, then cancel what is left.
        states = [server.job(HEAVY, id) for id in heavy]
        assert any(j["state"] == "queued" for j in states), "the flood ended before the small exports did"
        for j in states:
            if j["state"] in ("queued", "running"):
                server.call("DELETE", f"/api/v1/exports/{j['id']}", KEYS[HEAVY])
        done = [j for j in (server.job(HEAVY, id) for id in heavy) if j["state"] == "done"]
    finally:
        server.stop()
        shutil.rmtree(d)
    durations = [ts(j["finished_at"]) - ts(j["started_at"]) for j in done]
    waits.sort()
    p95 = waits[min(len(waits) - 1, int(round(0.95 * (len(waits) - 1))))]
    heavy_median = statistics.median(durations)
    return workers, statistics.median(waits), p95, max(waits), heavy_median


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "overhead"
    if what == "overhead":
        overhead()
    elif what == "fairness":
        print(f"### Fairness: admin {HEAVY} queues 60 heavy exports; admin {SMALL} then asks for 20 small ones, "
              "one after the other, while the flood lasts\n")
        print("| workers | small export's wait p50 s | p95 s | max s | heavy export's duration (median) s | "
              "p95 / heavy |\n|---:|---:|---:|---:|---:|---:|")
        for workers in (1, 2):
            w, p50, p95, mx, heavy = fairness(workers)
            print(f"| {w} | {p50:.3f} | {p95:.3f} | {mx:.3f} | {heavy:.3f} | {p95 / heavy:.2f} |")
        print()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
