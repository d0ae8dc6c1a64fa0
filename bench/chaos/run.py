#!/usr/bin/env python3
"""strata serve under faults, on PostgreSQL. Prints Markdown for RESULTS.md.

  bench/chaos/run.py [--exports 200] [--processes 3] [--seed 1]

A throwaway PostgreSQL (scripts/pg.sh) holds both the reports' data and the job store. Three
`strata serve` processes share the store and one files folder; the exports (several tenants, each
with its own row count and a short pause in the query, so that kills land mid-export) are posted
through them. Meanwhile processes are killed with SIGKILL at random moments and restarted, and
PostgreSQL itself is restarted once. At the end:

- every export is done, and its file has exactly its rows (read back, row by row);
- each export was logged done exactly once across every process, and published once: the files
  folder holds one file per export and, after a restarted server's first sweep, nothing else;
- recovery: for each kill, how long until the exports it was running were started again elsewhere
  (lease expiry + claim), and for the PostgreSQL restart, how long until exports were finished again.

Exits non-zero when any check fails. Requires a build in build/ (scripts/build.sh) and psycopg2."""

import argparse
import csv
import glob
import hashlib
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import psycopg2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STRATA = os.environ.get("STRATA_BIN", os.path.join(ROOT, "build", "src", "strata"))
KEY = "bench_chaos_service_key"
LEASE_S = 3


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Postgres:
    def __init__(self, folder):
        self.dir = os.path.join(folder, "pg")
        out = subprocess.run([os.path.join(ROOT, "scripts", "pg.sh"), "start", self.dir], capture_output=True,
                             text=True, check=True).stdout
        env = dict(re.findall(r"export (\w+)='([^']*)'", out))
        self.url, self.bin = env["STRATA_TEST_PG"], env["STRATA_TEST_PG_BIN"]

    def restart(self):
        cmd = [os.path.join(self.bin, "pg_ctl"), "-D", os.path.join(self.dir, "data"), "-w", "-l",
               os.path.join(self.dir, "server.log"), "restart", "-m", "fast"]
        if os.getuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        subprocess.run([os.path.join(ROOT, "scripts", "pg.sh"), "stop", self.dir], capture_output=True)


def write_project(folder, url):
    with open(os.path.join(folder, "rows.sql"), "w") as f:
        f.write("SELECT g AS n, :tenant_id AS tenant, md5(g::text) AS h\n"
                "FROM pg_sleep(:pause) AS p, generate_series(1, :rows) AS g\nORDER BY g")
    with open(os.path.join(folder, "strata.toml"), "w") as f:
        f.write(f"""[database]
url = "{url}"
[tenant]
param = "tenant_id"
[reports.rows]
sql = "rows.sql"
[reports.rows.params]
tenant_id = {{ type = "bigint" }}
rows = {{ type = "bigint" }}
pause = {{ type = "numeric", default = "0.5" }}
[serve]
files = "files"
[[serve.keys]]
sha256 = "{hashlib.sha256(KEY.encode()).hexdigest()}"
role = "service"
""")


class Process:
    """One `strata serve`; its log goes to a file of its own per incarnation."""
    count = 0

    def __init__(self, folder, url, port):
        Process.count += 1
        self.log = os.path.join(folder, f"serve-{Process.count}.log")
        self.port = port
        self.proc = subprocess.Popen(
            [STRATA, "serve", "--project", folder, "--listen", f"127.0.0.1:{port}", "--jobs", url,
             "--workers", "2", "--max-queries", "6", "--tenant-limit", "2", "--lease", f"{LEASE_S}s",
             "--retry-backoff", "300ms", "--attempts", "20", "--keep", "1h"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if call(port, "GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit(f"strata serve did not start: see {self.log}")

    @property
    def pid(self):
        return self.proc.pid


def call(port, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def store_rows(url):
    con = psycopg2.connect(url)
    try:
        with con.cursor() as cur:
            cur.execute("SELECT id, state, attempt, lease_owner, started_at, finished_at, file "
                        "FROM strata_jobs")
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, row)) for row in cur.fetchall()]
    finally:
        con.close()


def post_all(processes, exports, rng):
    """Posts the exports through whichever process answers; returns {job id: (rows, tenant)}."""
    wanted = {}
    for k in range(exports):
        rows = 2000 + rng.randrange(60000)
        body = {"report": "rows", "params": {"tenant_id": 1 + k % 8, "rows": rows}, "format": "csv"}
        for _ in range(100):
            p = rng.choice(processes)
            try:
                status, job = call(p.port, "POST", "/api/v1/exports", body)
                if status == 202:
                    wanted[job["id"]] = (rows, body["params"]["tenant_id"])
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("could not post an export through any process")
    return wanted


def check_file(path, rows, tenant):
    with open(path, newline="") as f:
        got = list(csv.reader(f))
    if got[0] != ["n", "tenant", "h"] or len(got) != rows + 1:
        return f"{path}: {len(got) - 1} rows, expected {rows}"
    for k, row in enumerate(got[1:], start=1):
        if row != [str(k), str(tenant), hashlib.md5(str(k).encode()).hexdigest()]:
            return f"{path}: row {k} is {row}"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exports", type=int, default=200)
    ap.add_argument("--processes", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    folder = tempfile.mkdtemp(prefix="strata_chaos_")
    os.chmod(folder, 0o755)  # the database server runs as 'postgres' when we are root
    pg = Postgres(folder)
    failures = []
    processes = []
    try:
        write_project(folder, pg.url)
        ports = [free_port() for _ in range(args.processes)]
        processes = [Process(folder, pg.url, port) for port in ports]
        started = time.monotonic()
        wanted = post_all(processes, args.exports, rng)
        kills, pg_restart = [], None

        def ended():
            try:
                rows = store_rows(pg.url)
            except psycopg2.Error:
                return None
            return sum(1 for r in rows if r["state"] in ("done", "failed", "cancelled"))

        while (ended() or 0) < len(wanted):
            if time.monotonic() - started > 900:
                failures.append("the exports did not all end within 15 minutes")
                break
            time.sleep(rng.uniform(2, 5))
            # PostgreSQL restarts once, when about a third of the exports have ended.
            if pg_restart is None and (ended() or 0) >= len(wanted) // 3:
                t0 = time.time()
                pg.restart()
                pg_restart = (t0, time.time())
                continue
            k = rng.randrange(len(processes))
            victim = processes[k]
            try:
                running = [r["id"] for r in store_rows(pg.url)
                           if r["state"] == "running" and (r["lease_owner"] or "").split("/")[0].endswith(
                               f":{victim.pid}")]
            except psycopg2.Error:
                running = []
            victim.proc.kill()
            victim.proc.wait()
            kills.append((time.time(), victim.pid, running))
            time.sleep(rng.uniform(0.2, 2))
            processes[k] = Process(folder, pg.url, victim.port)
        elapsed = time.monotonic() - started

        # After the run: a fresh process sweeps at its start (leftovers of killed attempts go).
        for p in processes:
            p.proc.terminate()
            p.proc.wait(30)
        sweeper = Process(folder, pg.url, free_port())
        time.sleep(2)
        sweeper.proc.terminate()
        sweeper.proc.wait(30)

        jobs = {r["id"]: r for r in store_rows(pg.url)}
        files = sorted(os.listdir(os.path.join(folder, "files")))
        logs = "".join(open(p).read() for p in sorted(glob.glob(os.path.join(folder, "serve-*.log"))))
        for id, (rows, tenant) in wanted.items():
            job = jobs.get(id)
            if job is None or job["state"] != "done":
                failures.append(f"export {id} ended {job and job['state']}")
                continue
            done_lines = len(re.findall(rf"job {id} .* done: ", logs))
            if done_lines != 1:
                failures.append(f"export {id} was logged done {done_lines} times")
            mine = [f for f in files if f.startswith(id) or f.startswith("." + id)]
            if mine != [job["file"]]:
                failures.append(f"export {id}: files {mine}, the job names {job['file']}")
                continue
            bad = check_file(os.path.join(folder, "files", job["file"]), rows, tenant)
            if bad:
                failures.append(bad)
        strays = [f for f in files if not any(f.startswith(id) for id in wanted)]
        if strays:
            failures.append(f"files no export names: {strays}")

        takeovers = []
        for at, pid, running in kills:
            for id in running:
                if id in jobs and jobs[id]["started_at"]:
                    takeovers.append(jobs[id]["started_at"] / 1000 - at)
        finished = sorted(r["finished_at"] / 1000 for r in jobs.values() if r["finished_at"])
        resumed = None
        if pg_restart:
            after = [t for t in finished if t > pg_restart[1]]
            resumed = (after[0] - pg_restart[0]) if after else None
        attempts = [r["attempt"] for r in jobs.values()]
        print(f"`bench/chaos/run.py --exports {args.exports} --processes {args.processes} --seed {args.seed}` "
              f"({os.cpu_count()} cores, {time.strftime('%Y-%m-%d')})\n")
        print("| measure | value |\n|---|---:|")
        print(f"| exports | {len(wanted)} |")
        print(f"| wall time | {elapsed:.0f} s |")
        print(f"| processes killed with SIGKILL (and restarted) | {len(kills)} |")
        print(f"| exports running in a killed process | {sum(len(r) for _, _, r in kills)} |")
        print(f"| PostgreSQL restarts | {1 if pg_restart else 0} ({pg_restart[1] - pg_restart[0]:.1f} s down)"
              if pg_restart else "| PostgreSQL restarts | 0 |", "|" if pg_restart else "")
        print(f"| attempts per export: mean, max | {statistics.mean(attempts):.2f}, {max(attempts)} |")
        print(f"| attempts retried after a database error (the restart) | {len(re.findall(r' will be retried: ', logs))} |")
        if takeovers:
            print(f"| a killed export started again elsewhere after: p50, max | "
                  f"{statistics.median(takeovers):.1f} s, {max(takeovers):.1f} s (lease {LEASE_S} s) |")
        if resumed is not None:
            print(f"| from the PostgreSQL restart to the next finished export | {resumed:.1f} s |")
        print(f"| exports done exactly once, files complete, nothing left behind | "
              f"{'yes' if not failures else 'NO'} |")
        for f in failures[:20]:
            print(f"\n- {f}")
        return 1 if failures else 0
    finally:
        for p in processes:
            if p.proc.poll() is None:
                p.proc.kill()
        pg.stop()
        if not failures:
            shutil.rmtree(folder, True)
        else:
            print(f"\n(kept {folder} for a look)")


if __name__ == "__main__":
    sys.exit(main())
