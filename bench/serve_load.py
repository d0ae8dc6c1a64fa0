#!/usr/bin/env python3
"""strata serve under many clients, and under slow ones. Prints Markdown for RESULTS.md.

  bench/serve_load.py load [--before BIN]   64 clients asking GET /api/v1/reports as fast as they
                                            can for a while, on a fresh connection per request and
                                            on one kept-alive connection per client: requests/s,
                                            p50, p99 and max
  bench/serve_load.py slow [--before BIN]   96 clients hold connections (80 send a header line every
                                            second, 16 only connect) while /healthz is asked every
                                            0.5 s: its p50, max and how many answered within 30 s

--before BIN runs the same on another build of strata (an earlier commit) in the same run. The
clients are Python threads on the same 2 cores as the server: the figures are the pair's, and the
ratios between builds are what to read. Requires a build in build/ (scripts/build.sh)."""

import argparse
import hashlib
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STRATA = os.environ.get("STRATA_BIN", os.path.join(ROOT, "build", "src", "strata"))
KEY = "bench_load_key"


def project():
    d = tempfile.mkdtemp(prefix="strata_load_")
    with open(os.path.join(d, "r.sql"), "w") as f:
        f.write("SELECT :tenant_id AS tenant")
    with open(os.path.join(d, "strata.toml"), "w") as f:
        f.write(f"""[database]
url = "sqlite:data.db"
[tenant]
param = "tenant_id"
[reports.r]
sql = "r.sql"
[reports.r.params]
tenant_id = {{ type = "bigint" }}
[[serve.keys]]
sha256 = "{hashlib.sha256(KEY.encode()).hexdigest()}"
role = "service"
""")
    import sqlite3
    sqlite3.connect(os.path.join(d, "data.db")).close()
    return d


class Server:
    def __init__(self, binary, folder):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.proc = subprocess.Popen([binary, "serve", "--project", folder, "--listen", f"127.0.0.1:{self.port}",
                                     "--quiet", "--jobs", "sqlite:" + os.path.join(folder, "jobs.db"),
                                     "--files", os.path.join(folder, "files")])
        for _ in range(300):
            try:
                if self.get("/healthz", fresh=True)[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("strata serve did not start")

    def get(self, path, fresh=True, conn=None, timeout=60):
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        c.request("GET", path, headers={"Authorization": "Bearer " + KEY})
        r = c.getresponse()
        r.read()
        if fresh:
            c.close()
        return r.status, c

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def load(server, clients, seconds, keep_alive):
    latencies, errors = [], [0]
    lock = threading.Lock()
    until = time.monotonic() + seconds

    def client():
        mine, conn = [], None
        while time.monotonic() < until:
            started = time.monotonic()
            try:
                status, conn = server.get("/api/v1/reports", fresh=not keep_alive, conn=conn if keep_alive else None)
                ok = status == 200
            except (OSError, http.client.HTTPException):
                ok, conn = False, None
            if ok:
                mine.append(time.monotonic() - started)
            else:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)
    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {"rps": len(latencies) / elapsed, "p50": percentile(latencies, 50) * 1000,
            "p99": percentile(latencies, 99) * 1000, "max": max(latencies) * 1000, "errors": errors[0]}


def slow(server, seconds):
    held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(96)]
    drippers = held[:80]
    for c in drippers:
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    stop = threading.Event()

    def drip():
        while not stop.wait(1.0):
            for c in drippers:
                try:
                    c.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    pass
    t = threading.Thread(target=drip, daemon=True)
    t.start()
    waits, answered = [], 0
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            if server.get("/healthz", timeout=30)[0] == 200:
                answered += 1
        except (OSError, http.client.HTTPException):
            pass
        waits.append(time.monotonic() - started)
        time.sleep(0.5)
    stop.set()
    t.join()
    for c in held:
        c.close()
    return {"asked": len(waits), "answered": answered, "p50": percentile(waits, 50) * 1000,
            "max": max(waits) * 1000}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["load", "slow"])
    ap.add_argument("--before", help="another strata binary to measure in the same run")
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    builds = [("this build", STRATA)] + ([("before", args.before)] if args.before else [])
    print(f"`bench/serve_load.py {args.mode}{' --before BIN' if args.before else ''}` "
          f"({os.cpu_count()} cores, {time.strftime('%Y-%m-%d')})\n")
    if args.mode == "load":
        print("| build | connections | requests/s | p50 ms | p99 ms | max ms | errors |")
        print("|---|---|---:|---:|---:|---:|---:|")
    else:
        print("| build | /healthz asked | answered | p50 ms | max ms |")
        print("|---|---:|---:|---:|---:|")
    for name, binary in builds:
        folder = project()
        server = Server(binary, folder)
        try:
            if args.mode == "load":
                for keep_alive in (False, True):
                    r = load(server, 64, args.seconds, keep_alive)
                    print(f"| {name} | {'kept alive' if keep_alive else 'fresh'} | {r['rps']:.0f} | {r['p50']:.1f} "
                          f"| {r['p99']:.1f} | {r['max']:.0f} | {r['errors']} |", flush=True)
            else:
                r = slow(server, max(args.seconds, 20))
                print(f"| {name} | {r['asked']} | {r['answered']} | {r['p50']:.1f} | {r['max']:.0f} |", flush=True)
        finally:
            server.stop()
            shutil.rmtree(folder, True)


if __name__ == "__main__":
    sys.exit(main())
