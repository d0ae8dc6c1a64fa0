#!/usr/bin/env python3
"""Strata's benchmarks, peers in the same run. Prints Markdown for bench/RESULTS.md.

  bench/run.py writer [N]     the .xlsx writer alone (rows generated in-process) vs the four peers
  bench/run.py postgres [N]   strata export from a throwaway PostgreSQL vs psql \\copy, and peak RSS
                              for N and 10 x N rows; BEFORE_BIN=path adds an earlier build's rows
  bench/run.py generate [S]   strata generate at scale S into SQLite and a throwaway PostgreSQL

Requires a build in build/ (scripts/build.sh) and scripts/install-deps.sh's packages."""

import json
import re
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STRATA = os.path.join(ROOT, "build", "src", "strata")
WRITER_BENCH = os.path.join(ROOT, "build", "bench", "xlsx_writer_bench")
ROUNDS = int(os.environ.get("ROUNDS", "5"))


def timed(cmd, repeat=3, stdout=subprocess.DEVNULL, env=None):
    """Best wall time of `repeat` runs and the largest peak RSS (KiB), via /usr/bin/time."""
    best, rss = None, 0
    for _ in range(repeat):
        with tempfile.NamedTemporaryFile() as t:
            start = time.monotonic()
            subprocess.run(["/usr/bin/time", "-f", "%M", "-o", t.name, *cmd], check=True, stdout=stdout, env=env)
            wall = time.monotonic() - start
            rss = max(rss, int(open(t.name).read().split()[-1]))
        best = wall if best is None else min(best, wall)
    return best, rss


def writer(n):
    out = tempfile.mkdtemp(prefix="strata_bench_")
    results = []
    for level in (1, 3):
        line = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", os.path.join(out, "rss"), WRITER_BENCH,
                               os.path.join(out, f"strata{level}.xlsx"), str(n), str(level)],
                              check=True, capture_output=True, text=True).stdout
        r = json.loads(line)
        r["peer"] = f"strata (level {level})"
        r["peak_rss_kib"] = int(open(os.path.join(out, "rss")).read().split()[-1])
        results.append(r)
    peers = subprocess.run(["bash", os.path.join(ROOT, "bench", "peers", "run_peers.sh"), out, str(n)],
                           check=True, capture_output=True, text=True).stdout
    results += [json.loads(l) for l in peers.splitlines() if l.startswith("{")]
    base = next(r for r in results if r["peer"] == "libxlsxwriter")
    print("| writer | rows/s | seconds | × libxlsxwriter speed | peak RSS | file size | × libxlsxwriter size |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['peer']} | {r['rows_per_s']:,.0f} | {r['seconds']:.2f} | "
              f"{r['rows_per_s'] / base['rows_per_s']:.1f}× | {r['peak_rss_kib'] / 1024:.1f} MiB | "
              f"{r['bytes'] / 1e6:.1f} MB | {r['bytes'] / base['bytes']:.2f} |")
    shutil.rmtree(out)


def postgres(n):
    pgdir = tempfile.mkdtemp(prefix="strata_bench_pg_")
    env_lines = subprocess.run([os.path.join(ROOT, "scripts", "pg.sh"), "start", pgdir], check=True,
                               capture_output=True, text=True).stdout
    url = env_lines.split("'")[1]
    try:
        columns = ("i as id, 'member-' || i || ' 김민준 café' as name, (i * 7919) % 1000 as qty, "
                   "((i * 104729) % 1000000 / 100.0)::numeric(12,2) as price, (i % 1000) / 7.0::float8 as ratio, "
                   "date '2020-01-01' + (i % 2000)::int as created, "
                   "timestamp '2020-01-01' + ((i * 37) % 157680000) * interval '1 second' as updated, "
                   "i % 3 = 0 as active, i * 1000003 as big, 'order #' || i || ' <ok> & done' as note")
        subprocess.run(["psql", "-q", url, "-c", f"create table bench_rows as select {columns} "
                        f"from generate_series(0::bigint, {n - 1}) i; analyze bench_rows"], check=True)
        work = tempfile.mkdtemp(prefix="strata_bench_q_")
        q = os.path.join(work, "q.sql")
        with open(q, "w") as f:
            f.write("select * from bench_rows")
        copy = ["psql", "-q", url, "-c", "\\copy (select * from bench_rows) to '/dev/null' csv"]
        commands = [("psql \\copy (query) to /dev/null csv", copy)]
        for label, fmt, extra in (
                ("csv, single-row, binary (default)", "csv", ["--pg-fetch", "single-row"]),
                ("csv, single-row, text format", "csv", ["--pg-fetch", "single-row", "--pg-format", "text"]),
                ("csv, cursor", "csv", ["--pg-fetch", "cursor"]),
                ("xlsx, single-row, binary (default)", "xlsx", ["--pg-fetch", "single-row"]),
                ("xlsx, single-row, text format", "xlsx", ["--pg-fetch", "single-row", "--pg-format", "text"]),
                ("xlsx, cursor", "xlsx", ["--pg-fetch", "cursor"])):
            commands.append(("strata export " + label,
                             [STRATA, "export", "--database", url, "--sql", q, "-o", "-", "--format", fmt, "-q",
                              *extra]))
        # BEFORE_BIN: an earlier build of strata, measured in the same run (the "before" of a change).
        before = os.environ.get("BEFORE_BIN")
        if before:
            for fmt in ("csv", "xlsx"):
                commands.append((f"strata export {fmt}, single-row, the earlier build",
                                 [before, "export", "--database", url, "--sql", q, "-o", "-", "--format", fmt, "-q"]))
        # Rounds in turn, so that a slow moment of the machine falls on every command alike.
        best = {label: (None, 0) for label, _ in commands}
        for _ in range(ROUNDS):
            for label, cmd in commands:
                with open(os.devnull, "w") as devnull:
                    wall, rss = timed(cmd, repeat=1, stdout=devnull)
                old_wall, old_rss = best[label]
                best[label] = (wall if old_wall is None else min(old_wall, wall), max(old_rss, rss))
        base, _ = best[commands[0][0]]
        print(f"{n:,} rows × 10 columns from PostgreSQL 15 on loopback; best of {ROUNDS} rounds, the commands "
              "in turn; output to /dev/null.\n")
        print("| command | seconds | × psql \\copy | peak RSS |")
        print("|---|---:|---:|---:|")
        for label, _ in commands:
            wall, rss = best[label]
            print(f"| {label} | {wall:.2f} | {wall / base:.2f} | {rss / 1024:.1f} MiB |")
        # Memory must not grow with rows: 10 x N rows generated by the server on the fly.
        big = os.path.join(work, "big.sql")
        with open(big, "w") as f:
            f.write(f"select {columns} from generate_series(0::bigint, :n - 1) i")
        print("\n| rows (xlsx, to a file) | seconds | peak RSS | file size |")
        print("|---:|---:|---:|---:|")
        for rows_n in (n, 10 * n):
            out = os.path.join(work, "big.xlsx")
            wall, rss = timed([STRATA, "export", "--database", url, "--sql", big, "-p", f"n={rows_n}", "-o", out, "-q"],
                              repeat=1)
            print(f"| {rows_n:,} | {wall:.1f} | {rss / 1024:.1f} MiB | {os.path.getsize(out) / 1e6:.0f} MB |")
        shutil.rmtree(work)
    finally:
        subprocess.run([os.path.join(ROOT, "scripts", "pg.sh"), "stop", pgdir], check=False)


def generate(scale):
    pgdir = tempfile.mkdtemp(prefix="strata_bench_pg_")
    env_lines = subprocess.run([os.path.join(ROOT, "scripts", "pg.sh"), "start", pgdir], check=True,
                               capture_output=True, text=True).stdout
    url = env_lines.split("'")[1]
    work = tempfile.mkdtemp(prefix="strata_bench_gen_")
    try:
        print(f"strata generate --scale {scale}; loading rows/s counts generating and loading the rows; the "
              "end-to-end rate and the total add keys, indexes and ANALYZE (and the process's start).\n")
        print("| target | rows | loading rows/s | end-to-end rows/s | total seconds | peak RSS |")
        print("|---|---:|---:|---:|---:|---:|")
        for label, target in (("SQLite file", "sqlite:" + os.path.join(work, "g.db")), ("PostgreSQL 15", url)):
            with tempfile.NamedTemporaryFile() as t:
                start = time.monotonic()
                err = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", t.name, STRATA, "generate", "--database",
                                      target, "--scale", str(scale)], check=True, capture_output=True, text=True).stderr
                wall = time.monotonic() - start
                rss = int(open(t.name).read().split()[-1])
            first = err.splitlines()[0]
            rows = first.split("generated ")[1].split(" rows")[0]
            rate = float(re.search(r"end to end, ([\d,]+) rows/s loading", first).group(1).replace(",", ""))
            end_to_end = int(rows.replace(",", "")) / wall
            print(f"| {label} | {rows} | {rate:,.0f} | {end_to_end:,.0f} | {wall:.1f} | {rss / 1024:.0f} MiB |")
    finally:
        shutil.rmtree(work)
        subprocess.run([os.path.join(ROOT, "scripts", "pg.sh"), "stop", pgdir], check=False)


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "writer"
    if what == "generate":
        generate(float(sys.argv[2]) if len(sys.argv) > 2 else 1)
    else:
        n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
        {"writer": writer, "postgres": postgres}[what](n)
