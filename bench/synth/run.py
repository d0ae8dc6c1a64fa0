#!/usr/bin/env python3
"""strata synth: speed and fidelity against a plain peer. Prints Markdown for bench/RESULTS.md.

    run.py --strata PATH [--pg URL] [--scale S] [--out DIR] [--sqlite-only]
           [--tenants N] [--tenant-column NAME] [--project DIR] [--seed N] [--keep]

Steps, each printed with the exact command line it runs (passwords in URLs shown as ***):

 1. `strata generate` the example at --scale into a SQLite file and, with --pg, into a PostgreSQL
    database (strata_bench_source): the baseline of the existing generator.
 2. `strata profile` each of them: seconds, the profile's size in bytes, peak RSS.
 3. `strata synth` each profile into a fresh target: PostgreSQL -> PostgreSQL (database
    strata_bench_synth), SQLite -> SQLite and PostgreSQL -> SQLite (files in --out), with
    --report: wall seconds end to end, rows, rows/s end to end, the loading rows/s that synth prints,
    peak RSS (`/usr/bin/time -v`), and the fidelity report.
 4. The peer, for each of those targets: the same tables and row counts (the profile's
    tables[].rows), each a plain table with the profile's column names and basic types
    (columns[].type mapped to bigint, numeric, text, date, ...), filled by one
    `INSERT INTO t SELECT <expressions of g> FROM generate_series(1, rows) g` (PostgreSQL, database
    strata_bench_peer) or the recursive-CTE equivalent (SQLite); then the same primary keys, unique
    keys, foreign keys and indexes (their columns read from the profiled database's catalog; values
    are made so that every key holds) and ANALYZE. Timed: loading, and end to end.
 5. Markdown tables (speed; fidelity: max per-table row error, q-error of the kept tenants' counts,
    max KS of the fan-outs, plan q-error when --project is given) and --out/results.json.

A failing step prints its stderr and the run goes on with the other targets; the exit status is 1
when any step failed. The PostgreSQL server at --pg must let the URL's user CREATE and DROP
databases; only databases named strata_bench_* are created or dropped. Runs sequentially: on a
small machine nothing else should run beside it."""

import argparse
import json
import math
import os
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

try:
    import sqlite3
except ImportError:  # pragma: no cover - Debian's python3 has it
    sqlite3 = None
try:
    import psycopg2
except ImportError:
    psycopg2 = None

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TIME = "/usr/bin/time"
DB_SOURCE, DB_SYNTH, DB_PEER = "strata_bench_source", "strata_bench_synth", "strata_bench_peer"
LABEL = {"sqlite": "SQLite", "pg": "PostgreSQL"}

FAILURES = []  # every failed step: {"step", "what", "error"}


# --- small helpers -------------------------------------------------------------------------------

def redact(text):
    """A URL's password as ***: the command lines are printed and saved."""
    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", re.sub(r"(password\s*=\s*)\S+", r"\1***", text))


def show(cmd):
    print("$ " + redact(shlex.join(cmd)), flush=True)


def fail(step, what, error):
    FAILURES.append({"step": step, "what": what, "error": redact(str(error))[-4000:]})
    print(f"FAILED: {step} ({what}):\n{redact(str(error)).rstrip()[-4000:]}", file=sys.stderr, flush=True)


def number(text):
    """'2,201,345' or '1234567.8' -> float."""
    return float(text.replace(",", ""))


def sanitize(x):
    """JSON without Infinity/NaN."""
    if isinstance(x, float) and not math.isfinite(x):
        return "inf" if x > 0 else None
    if isinstance(x, dict):
        return {k: sanitize(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [sanitize(v) for v in x]
    return x


def q(name):
    return '"' + str(name).replace('"', '""') + '"'


def pg_url(base, dbname):
    """The server URL (or libpq conninfo) --pg with its database replaced."""
    if "://" in base:
        p = urllib.parse.urlsplit(base)
        return urllib.parse.urlunsplit((p.scheme, p.netloc, "/" + dbname, p.query, p.fragment))
    pattern = r"\bdbname\s*=\s*('(?:[^'\\]|\\.)*'|\S+)"
    if re.search(pattern, base):
        return re.sub(pattern, "dbname=" + dbname, base)
    return base + " dbname=" + dbname


def run_strata(cmd, timeout, step, what):
    """Runs one command; returns {"ok", "seconds", "stderr", "stdout", "peak_rss_kib", "exit"}."""
    show(cmd)
    env = dict(os.environ)
    env.pop("STRATA_DATABASE_URL", None)  # never a database named by the environment
    use_time = os.access(TIME, os.X_OK)
    rss_file = None
    full = cmd
    if use_time:
        fd, rss_file = tempfile.mkstemp(prefix="strata_bench_time_")
        os.close(fd)
        full = [TIME, "-v", "-o", rss_file, *cmd]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    try:
        p = subprocess.run(full, capture_output=True, text=True, errors="replace", env=env, timeout=timeout)
        code, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        code, out = -1, ""
        err = (e.stderr.decode("utf-8", "replace") if isinstance(e.stderr, bytes) else (e.stderr or "")) + \
            f"\n(did not finish within {timeout:.0f} s)"
    except OSError as e:
        code, out, err = -1, "", str(e)
    seconds = time.monotonic() - start
    rss = None
    if rss_file:
        try:
            with open(rss_file, encoding="utf-8", errors="replace") as f:
                m = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", f.read())
            rss = int(m.group(1)) if m else None
        finally:
            os.remove(rss_file)
    else:
        # The largest child so far: a figure for this command only when it grew.
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        rss = after if after > before else None
    r = {"command": redact(shlex.join(cmd)), "ok": code == 0, "exit": code, "seconds": seconds,
         "stderr": err, "stdout": out, "peak_rss_kib": rss}
    if code != 0:
        fail(step, what, f"exit {code}: {' '.join(redact(shlex.join(cmd)).split())}\n{err}")
    elif err.strip():
        print("  " + "\n  ".join(err.rstrip().splitlines()[:12]), flush=True)
    return r


# --- databases -----------------------------------------------------------------------------------

class Target:
    """A database: kind "sqlite" (a file) or "pg" (a database on --pg)."""

    def __init__(self, kind, where):
        self.kind, self.where = kind, where  # a path, or a URL / conninfo

    @property
    def url(self):
        return "sqlite:" + self.where if self.kind == "sqlite" else self.where

    def connect(self, readonly=False):
        if self.kind == "sqlite":
            if readonly:
                return sqlite3.connect("file:" + urllib.parse.quote(self.where) + "?mode=ro", uri=True)
            return sqlite3.connect(self.where, isolation_level=None)
        return psycopg2.connect(self.where)


class Server:
    """--pg: creates and drops strata_bench_* databases."""

    def __init__(self, url):
        self.url = url
        self.version = None

    def admin(self):
        conn = psycopg2.connect(self.url)
        conn.autocommit = True
        self.version = conn.server_version
        return conn

    def drop(self, name):
        assert name.startswith("strata_bench_")
        conn = self.admin()
        try:
            force = " WITH (FORCE)" if conn.server_version >= 130000 else ""
            conn.cursor().execute(f"DROP DATABASE IF EXISTS {q(name)}{force}")
        finally:
            conn.close()

    def fresh(self, name):
        self.drop(name)
        conn = self.admin()
        try:
            conn.cursor().execute(f"CREATE DATABASE {q(name)}")
        finally:
            conn.close()
        return Target("pg", pg_url(self.url, name))


def remove_sqlite(path):
    for suffix in ("", "-journal", "-wal", "-shm"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass


def read_schema(target, tables):
    """The catalog of `tables` in target: {table: {"columns": [(name, type)], "pk": [cols],
    "unique": [[cols]], "fks": [([cols], parent, [parent cols])], "indexes": [[cols]],
    "skipped": [why]}}. Unique indexes count as unique keys; expression and partial indexes are
    listed in "skipped"."""
    spec = {}
    conn = target.connect(readonly=True)
    try:
        if target.kind == "sqlite":
            for t in tables:
                cols = conn.execute(f"PRAGMA table_info({q(t)})").fetchall()
                if not cols:
                    continue
                s = spec[t] = {"columns": [(c[1], c[2] or "") for c in cols],
                               "pk": [c[1] for c in sorted((c for c in cols if c[5]), key=lambda c: c[5])],
                               "unique": [], "fks": [], "indexes": [], "skipped": []}
                fks = {}
                for row in conn.execute(f"PRAGMA foreign_key_list({q(t)})").fetchall():
                    fks.setdefault(row[0], []).append(row)
                for rows in fks.values():
                    rows.sort(key=lambda r: r[1])
                    parent = rows[0][2]
                    to = [r[4] for r in rows]
                    if any(x is None for x in to):  # references the parent's primary key
                        pcols = conn.execute(f"PRAGMA table_info({q(parent)})").fetchall()
                        to = [c[1] for c in sorted((c for c in pcols if c[5]), key=lambda c: c[5])]
                    s["fks"].append(([r[3] for r in rows], parent, to))
                for idx in conn.execute(f"PRAGMA index_list({q(t)})").fetchall():
                    name, unique, origin = idx[1], idx[2], idx[3]
                    partial = idx[4] if len(idx) > 4 else 0
                    if origin == "pk":
                        continue
                    info = conn.execute(f"PRAGMA index_info({q(name)})").fetchall()
                    cols_ = [r[2] for r in sorted(info, key=lambda r: r[0])]
                    if partial or any(c is None for c in cols_):
                        s["skipped"].append(f"{t}.{name}: expression or partial index")
                    elif unique:
                        s["unique"].append(cols_)
                    else:
                        s["indexes"].append(cols_)
        else:
            cur = conn.cursor()
            tl = list(tables)
            cur.execute("""SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod)
                           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                           WHERE c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid) AND a.attnum > 0
                             AND NOT a.attisdropped AND c.relname = ANY(%s)
                           ORDER BY c.relname, a.attnum""", (tl,))
            for t, col, typ in cur.fetchall():
                spec.setdefault(t, {"columns": [], "pk": [], "unique": [], "fks": [], "indexes": [],
                                    "skipped": []})["columns"].append((col, typ))
            cur.execute("""SELECT c.relname::text, con.contype::text,
                             ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
                                   JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o),
                             pc.relname::text,
                             ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
                                   JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o)
                           FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
                           LEFT JOIN pg_class pc ON pc.oid = con.confrelid
                           WHERE con.contype IN ('p', 'u', 'f') AND pg_table_is_visible(c.oid)
                             AND c.relname = ANY(%s)
                           ORDER BY c.relname, con.conname""", (tl,))
            for t, kind, cols, parent, pcols in cur.fetchall():
                if t not in spec:
                    continue
                if kind == "p":
                    spec[t]["pk"] = list(cols)
                elif kind == "u":
                    spec[t]["unique"].append(list(cols))
                else:
                    spec[t]["fks"].append((list(cols), parent, list(pcols)))
            cur.execute("""SELECT c.relname::text, ic.relname::text, i.indisunique,
                                  i.indexprs IS NOT NULL OR i.indpred IS NOT NULL,
                                  ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o)
                                        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n
                                        WHERE k.o <= i.indnkeyatts ORDER BY k.o)
                           FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
                           JOIN pg_class ic ON ic.oid = i.indexrelid
                           WHERE pg_table_is_visible(c.oid) AND c.relname = ANY(%s)
                             AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid
                                             AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x'))
                           ORDER BY c.relname, ic.relname""", (tl,))
            for t, name, unique, odd, cols in cur.fetchall():
                if t not in spec:
                    continue
                if odd:
                    spec[t]["skipped"].append(f"{t}.{name}: expression or partial index")
                elif unique:
                    spec[t]["unique"].append(list(cols))
                else:
                    spec[t]["indexes"].append(list(cols))
    finally:
        conn.close()
    return spec


def schema_counts(spec):
    """Primary keys, unique keys, foreign keys and other indexes in a read_schema() result."""
    return {"tables": len(spec),
            "primary_keys": sum(1 for s in spec.values() if s["pk"]),
            "unique_keys": sum(len(s["unique"]) for s in spec.values()),
            "foreign_keys": sum(len(s["fks"]) for s in spec.values()),
            "indexes": sum(len(s["indexes"]) for s in spec.values())}


def count_rows(target, tables):
    conn = target.connect(readonly=True)
    try:
        total = 0
        for t in tables:
            cur = conn.cursor()
            cur.execute(f"SELECT count(*) FROM {q(t)}")
            total += cur.fetchone()[0]
        return total
    finally:
        conn.close()


# --- the profile ---------------------------------------------------------------------------------

def first(d, *keys):
    for k in keys:
        if isinstance(d, dict) and d.get(k) is not None:
            return d[k]
    return None


def profile_tables(profile):
    """[{"name", "rows", "columns": [(name, type or None)]}] from a strata-profile/1 document, read
    loosely (tables as a list or a map; columns as a list of objects or names, or a map)."""
    tables = profile.get("tables") or []
    if isinstance(tables, dict):
        tables = [dict(v, table=k) if isinstance(v, dict) else {"table": k} for k, v in tables.items()]
    out = []
    for t in tables:
        name = first(t, "table", "name")
        if name is None:
            continue
        rows = first(t, "rows", "row_count", "profiled_rows")
        cols = t.get("columns") or []
        if isinstance(cols, dict):
            cols = [dict(v, name=k) if isinstance(v, dict) else {"name": k, "type": v} for k, v in cols.items()]
        columns = []
        for c in cols:
            if isinstance(c, str):
                columns.append((c, None))
            elif isinstance(c, dict) and first(c, "name", "column") is not None:
                typ = first(c, "type", "declared_type", "data_type")
                columns.append((first(c, "name", "column"), kind_of(typ, c.get("kind")) if typ or c.get("kind") else None))
        out.append({"name": str(name), "rows": int(rows) if isinstance(rows, (int, float)) else None,
                    "columns": columns, "keys": profile_keys(t)})
    return out


def profile_keys(t):
    """A table's keys and indexes as the profile states them, in read_schema()'s shape (without
    "columns"); None when the profile does not say (then the catalog is read)."""
    if not any(k in t for k in ("primary_key", "constraints", "indexes", "foreign_keys")):
        return None
    spec = {"pk": list(t.get("primary_key") or []), "unique": [], "fks": [], "indexes": [], "skipped": []}
    for c in t.get("constraints") or []:
        if c.get("type") == "p" and not spec["pk"]:
            spec["pk"] = list(c.get("columns") or [])
        elif c.get("type") == "u" and c.get("columns"):
            spec["unique"].append(list(c["columns"]))
    for k in t.get("foreign_keys") or []:
        if k.get("declared", True) and k.get("columns") and k.get("parent"):
            spec["fks"].append((list(k["columns"]), k["parent"], list(k.get("parent_columns") or [])))
    for i in t.get("indexes") or []:
        cols = list(i.get("columns") or [])
        if i.get("expression") or i.get("partial") or not cols or not all(cols):
            spec["skipped"].append(f"{t.get('name')}.{i.get('name')}: expression or partial index")
        elif i.get("unique"):
            spec["unique"].append(cols)
        else:
            spec["indexes"].append(cols)
    return spec


# --- the peer ------------------------------------------------------------------------------------

PROFILE_KIND = {"decimal": "numeric", "float": "double", "text": "text", "bool": "bool", "date": "date",
                "timestamp": "timestamp", "timestamptz": "timestamptz", "uuid": "uuid"}  # else text; integer: by type


def kind_of(typ, kind=None):
    """A column's type as the catalog spells it (and the profile's "kind", when given) -> a basic kind:
    smallint, integer, bigint, numeric, double, bool, date, timestamp, timestamptz, uuid or text."""
    if kind in PROFILE_KIND:
        return PROFILE_KIND[kind]
    if kind == "integer":
        k = kind_of(typ)
        return k if k in ("smallint", "integer", "bigint") else "bigint"
    if kind:  # json, array, enum, bytes, other: text
        return "text"
    t = (typ or "").lower().strip()
    if t.endswith("]"):  # an array
        return "text"
    if "timestamptz" in t or "with time zone" in t:
        return "timestamptz"
    if t.startswith("timestamp") or t.startswith("datetime"):
        return "timestamp"
    if t.startswith("date"):
        return "date"
    if t.startswith("bool"):
        return "bool"
    if t in ("smallint", "int2", "int16", "smallserial"):
        return "smallint"
    if t in ("integer", "int", "int4", "int32", "serial", "mediumint"):
        return "integer"
    if "int" in t or "serial" in t:
        return "bigint"
    if t.startswith(("numeric", "decimal", "money", "number")):
        return "numeric"
    if t.startswith(("real", "double", "float")):
        return "double"
    if t == "uuid":
        return "uuid"
    return "text"


PG_TYPE = {"smallint": "smallint", "integer": "integer", "bigint": "bigint", "numeric": "numeric(12,2)",
           "double": "double precision", "bool": "boolean", "date": "date", "timestamp": "timestamp",
           "timestamptz": "timestamptz", "uuid": "uuid", "text": "text"}
SQLITE_TYPE = {"smallint": "integer", "integer": "integer", "bigint": "bigint", "numeric": "numeric(12,2)",
               "double": "real", "bool": "boolean", "date": "date", "timestamp": "timestamp",
               "timestamptz": "timestamptz", "uuid": "text", "text": "text"}
INJECTIVE = {"smallint", "integer", "bigint", "numeric", "double", "date", "timestamp", "timestamptz", "uuid", "text"}


def family(kind):
    return "int" if kind in ("smallint", "integer", "bigint") else kind


def key_expr(kind, k, dialect):
    """A value of `kind` that differs for every distinct integer k (primary, unique and referenced
    columns: k = g; a foreign key: the parent's k)."""
    if dialect == "pg":
        return {"smallint": k, "integer": k, "bigint": k, "numeric": f"({k})::numeric(12,2)",
                "double": f"({k})::float8", "bool": f"({k}) % 2 = 0", "date": f"date '2000-01-01' + ({k})::int",
                "timestamp": f"timestamp '2000-01-01' + ({k}) * interval '1 second'",
                "timestamptz": f"timestamptz '2000-01-01 00:00:00+00' + ({k}) * interval '1 second'",
                "uuid": f"md5(({k})::text)::uuid", "text": f"'k' || ({k})"}[kind]
    return {"smallint": k, "integer": k, "bigint": k, "numeric": k, "double": f"({k}) * 1.0",
            "bool": f"({k}) % 2 = 0", "date": f"date(2451545 + ({k}))",
            "timestamp": f"datetime(946684800 + ({k}), 'unixepoch')",
            "timestamptz": f"datetime(946684800 + ({k}), 'unixepoch') || '+00:00'",
            "uuid": f"'k' || ({k})", "text": f"'k' || ({k})"}[kind]


def value_expr(kind, dialect):
    """A plain column's value: a simple expression of g."""
    if dialect == "pg":
        return {"smallint": "g % 1000", "integer": "(g * 7919) % 1000", "bigint": "(g * 7919) % 1000000",
                "numeric": "((g * 104729) % 1000000 / 100.0)::numeric(12,2)", "double": "(g % 1000) / 7.0",
                "bool": "g % 3 = 0", "date": "date '2020-01-01' + (g % 2000)::int",
                "timestamp": "timestamp '2020-01-01' + ((g * 37) % 157680000) * interval '1 second'",
                "timestamptz": "timestamptz '2020-01-01 00:00:00+00' + ((g * 37) % 157680000) * interval '1 second'",
                "uuid": "md5(g::text)::uuid", "text": "'v-' || g"}[kind]
    return {"smallint": "g % 1000", "integer": "(g * 7919) % 1000", "bigint": "(g * 7919) % 1000000",
            "numeric": "((g * 104729) % 1000000) / 100.0", "double": "(g % 1000) / 7.0", "bool": "g % 3 = 0",
            "date": "date(2458850 + g % 2000)",
            "timestamp": "datetime(1577836800 + (g * 37) % 157680000, 'unixepoch')",
            "timestamptz": "datetime(1577836800 + (g * 37) % 157680000, 'unixepoch') || '+00:00'",
            "uuid": "'v-' || g", "text": "'v-' || g"}[kind]


def peer_plan(ptables, source_spec, dialect):
    """The peer's tables: [{"name", "rows", "columns": [(name, sql type, expr)], "pk", "rowid",
    "unique", "fks", "indexes"}] and notes on what it could not keep.

    Values are made so that every key holds: a column of a primary or unique key gets a value unique
    to its row number g; a foreign key column gets the referenced parent's value of a row number in
    1..parent rows (1 + g * 7919 % parent rows), unless it must be unique itself (a key made only of
    foreign key columns, in a table no larger than the parent: then the parent's row g)."""
    notes = []
    tables, by_name = [], {}
    for t in ptables:
        name = t["name"]
        src = source_spec.get(name)
        if src is None and "." in name:
            name = name.rsplit(".", 1)[1]
            src = source_spec.get(name)
        src = src or {"columns": [], "pk": [], "unique": [], "fks": [], "indexes": [], "skipped": []}
        src_types = dict(src["columns"])
        cols = t["columns"] or [(c, None) for c, _ in src["columns"]]
        if not cols:
            notes.append(f"{name}: no columns in the profile or the catalog; left out")
            continue
        kinds = {c: kind if kind in PG_TYPE else kind_of(kind or src_types.get(c)) for c, kind in cols}

        def known(cs, kinds=kinds):
            return bool(cs) and all(c in kinds for c in cs)

        keys = ([list(src["pk"])] if known(src["pk"]) else []) + [list(u) for u in src["unique"] if known(u)]
        plan = {"name": name, "rows": t["rows"] or 0, "order": [c for c, _ in cols], "kinds": kinds,
                "pk": list(src["pk"]) if known(src["pk"]) else [], "keys": keys,
                "fks": [(list(c), p, list(pc)) for c, p, pc in src["fks"] if known(c)],
                "indexes": [list(i) for i in src["indexes"] if known(i)]}
        notes += [f"not in the peer: {s}" for s in src["skipped"]]
        tables.append(plan)
        by_name[name] = plan

    # 1. Foreign keys that can hold at all.
    for p in tables:
        kept, used = [], set()
        for cols, parent, pcols in p["fks"]:
            par = by_name.get(parent)
            why = None
            if par is None:
                why = "its parent is not profiled"
            elif not par["rows"]:
                why = "its parent has no rows"
            elif len(cols) != len(pcols) or set(pcols) not in [set(k) for k in par["keys"]]:
                why = "it does not reference a key of the parent"
            elif any(family(p["kinds"][c]) != family(par["kinds"].get(pc, "?")) for c, pc in zip(cols, pcols)):
                why = "its column types differ from the parent's"
            elif used & set(cols):
                why = "it shares a column with another foreign key"
            if why:
                notes.append(f"{p['name']} ({', '.join(cols)}) -> {parent}: foreign key left out: {why}")
            else:
                kept.append((cols, parent, pcols))
                used |= set(cols)
        p["fks"] = kept
    # 2. Which columns take a value unique to g ("g-valued"), which the parent's row ("fk-valued").
    for p in tables:
        fk_of = {c: fk for fk in p["fks"] for c in fk[0]}
        promoted = set()  # foreign keys whose columns take the parent's row g
        good_keys = []
        for key in p["keys"]:
            if any(c not in fk_of and p["kinds"][c] in INJECTIVE for c in key):
                good_keys.append(key)
                continue
            fk = next((fk_of[c] for c in key if c in fk_of and p["rows"] <= by_name[fk_of[c][1]]["rows"]), None)
            if fk is not None and all(p["kinds"][c] in INJECTIVE for c in fk[0]):
                promoted.add(tuple(fk[0]))
                good_keys.append(key)
            else:
                notes.append(f"{p['name']} ({', '.join(key)}): key left out: its values cannot be unique here")
        p["keys"] = good_keys
        p["pk"] = p["pk"] if p["pk"] in good_keys else []
        key_cols = {c for k in good_keys for c in k}
        p["g_valued"] = {c for c in key_cols if c not in fk_of} | {c for fk in promoted for c in fk}
        p["fk_valued"] = {c: fk for c, fk in fk_of.items() if tuple(fk[0]) not in promoted}
    # 3. A foreign key holds only when the parent's referenced columns are g-valued there.
    for p in tables:
        kept = []
        for cols, parent, pcols in p["fks"]:
            if all(pc in by_name[parent]["g_valued"] for pc in pcols):
                kept.append((cols, parent, pcols))
                continue
            notes.append(f"{p['name']} ({', '.join(cols)}) -> {parent}: foreign key left out: the parent's "
                         "referenced columns are themselves foreign keys")
            for c in cols:
                p["fk_valued"].pop(c, None)
                if any(c in k for k in p["keys"]):
                    p["g_valued"].add(c)
        p["fks"] = kept
    # 4. The columns' types and values.
    for p in tables:
        p["unique"] = [k for k in p["keys"] if k != p["pk"]]
        p["rowid"] = dialect == "sqlite" and len(p["pk"]) == 1 and family(p["kinds"][p["pk"][0]]) == "int"
        columns = []
        for c in p["order"]:
            kind = p["kinds"][c]
            if c in p["g_valued"]:
                expr = key_expr(kind, "g", dialect)
            elif c in p["fk_valued"]:
                expr = key_expr(kind, f"1 + (g * 7919) % {by_name[p['fk_valued'][c][1]]['rows']}", dialect)
            else:
                expr = value_expr(kind, dialect)
            typ = (PG_TYPE if dialect == "pg" else SQLITE_TYPE)[kind]
            if p["rowid"] and c == p["pk"][0]:
                typ = "integer PRIMARY KEY"
            columns.append((c, typ, expr))
        p["columns"] = columns
    return tables, notes


def peer_statements(tables, dialect):
    """(create, load, keys, indexes) lists of (table, rows, sql)."""
    create, load, keys, fks, indexes = [], [], [], [], []
    n = 0
    for p in tables:
        defs = [f"{q(c)} {typ}" for c, typ, _ in p["columns"]]
        if dialect == "sqlite":
            if p["pk"] and not p["rowid"]:
                defs.append(f"PRIMARY KEY ({', '.join(map(q, p['pk']))})")
            for cols, parent, pcols in p["fks"]:  # SQLite declares them (and does not enforce them by default)
                defs.append(f"FOREIGN KEY ({', '.join(map(q, cols))}) REFERENCES {q(parent)} "
                            f"({', '.join(map(q, pcols))})")
        create.append((p["name"], None, f"CREATE TABLE {q(p['name'])} ({', '.join(defs)})"))
        rows = p["rows"] or 0
        if rows > 0:
            names = ", ".join(q(c) for c, _, _ in p["columns"])
            exprs = ", ".join(e for _, _, e in p["columns"])
            if dialect == "pg":
                sql = f"INSERT INTO {q(p['name'])} ({names}) SELECT {exprs} FROM generate_series(1::bigint, {rows}) g"
            else:
                sql = (f"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {rows}) "
                       f"INSERT INTO {q(p['name'])} ({names}) SELECT {exprs} FROM s")
            load.append((p["name"], rows, sql))
        if dialect == "pg":
            parts = ([f"ADD PRIMARY KEY ({', '.join(map(q, p['pk']))})"] if p["pk"] else []) + \
                    [f"ADD UNIQUE ({', '.join(map(q, u))})" for u in p["unique"]]
            if parts:
                keys.append((p["name"], None, f"ALTER TABLE {q(p['name'])} " + ", ".join(parts)))
            if p["fks"]:
                fks.append((p["name"], None, f"ALTER TABLE {q(p['name'])} " + ", ".join(
                    f"ADD FOREIGN KEY ({', '.join(map(q, cols))}) REFERENCES {q(parent)} ({', '.join(map(q, pcols))})"
                    for cols, parent, pcols in p["fks"])))
        else:
            for u in p["unique"]:
                n += 1
                keys.append((p["name"], None, f"CREATE UNIQUE INDEX peer_unique_{n} ON {q(p['name'])} "
                                              f"({', '.join(map(q, u))})"))
        for cols in p["indexes"]:
            n += 1
            indexes.append((p["name"], None, f"CREATE INDEX peer_index_{n} ON {q(p['name'])} ({', '.join(map(q, cols))})"))
    return create, load, keys + fks, indexes


def run_peer(target, tables, dialect):
    """Builds and fills the peer; returns the phases' seconds."""
    create, load, keys, indexes = peer_statements(tables, dialect)
    phases = {}
    start = time.monotonic()
    if dialect == "sqlite":
        remove_sqlite(target.where)
        conn = target.connect()
        pragmas = ["PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF", "PRAGMA locking_mode = EXCLUSIVE",
                   "PRAGMA cache_size = -262144", "BEGIN"]  # as strata's own SQLite loading
        execute = conn.execute
    else:
        conn = target.connect()
        cur = conn.cursor()
        pragmas = ["SET client_min_messages = warning"]  # psycopg2 opens the transaction itself
        execute = cur.execute
    try:
        def phase(name, statements):
            t0 = time.monotonic()
            for _, _, sql in statements:
                print("sql> " + sql, flush=True)
                execute(sql)
            phases[name] = time.monotonic() - t0

        phase("setup", [(None, None, s) for s in pragmas])
        phase("create", create)
        phase("loading", load)
        phase("keys", keys)
        phase("indexes", indexes)
        if dialect == "sqlite":
            phase("analyze", [(None, None, "ANALYZE"), (None, None, "COMMIT")])
        else:
            t0 = time.monotonic()
            print("sql> COMMIT", flush=True)
            conn.commit()
            conn.autocommit = True
            phases["commit"] = time.monotonic() - t0
            phase("analyze", [(None, None, "ANALYZE")])
    finally:
        conn.close()
    phases["total"] = time.monotonic() - start
    return phases


# --- fidelity ------------------------------------------------------------------------------------

def q_error(a, b):
    a, b = max(float(a or 0), 1.0), max(float(b or 0), 1.0)
    return max(a / b, b / a)


def fidelity_summary(doc):
    out = {"format": doc.get("format")}
    errs = []
    for t in doc.get("tables") or []:
        p, s = t.get("profiled_rows"), t.get("synthetic_rows")
        if p is None or s is None:
            continue
        errs.append(abs(s - p) / p * 100 if p else (0.0 if s == 0 else math.inf))
    out["tables"] = len(errs)
    out["max_table_row_error_pct"] = max(errs) if errs else None
    qs = []
    for t in doc.get("tenants") or []:
        v = t.get("q_error")
        if v is None and t.get("profiled_rows") is not None and t.get("synthetic_rows") is not None:
            v = q_error(t["profiled_rows"], t["synthetic_rows"])
        if v is not None:
            qs.append(float(v))
    out["tenant_counts"] = len(qs)
    out["tenants"] = len({t.get("tenant") for t in doc.get("tenants") or []})
    out["median_tenant_q_error"] = statistics.median(qs) if qs else None
    out["max_tenant_q_error"] = max(qs) if qs else None
    ks = [float(f["ks"]) for f in doc.get("foreign_keys") or [] if f.get("ks") is not None]
    out["foreign_keys"] = len(ks)
    out["max_fanout_ks"] = max(ks) if ks else None
    plans = [float(p["median_q_error"]) for p in doc.get("plans") or [] if p.get("median_q_error") is not None]
    out["plans"] = len(plans)
    out["plan_median_q_error"] = statistics.median(plans) if plans else None
    out["plan_max_median_q_error"] = max(plans) if plans else None
    return out


# --- the run -------------------------------------------------------------------------------------

def parse_generate(err):
    m = re.search(r"generated ([\d,]+) rows?", err)
    r = re.search(r"([\d,]+(?:\.\d+)?)\s*rows/s", err)
    return (int(number(m.group(1))) if m else None), (number(r.group(1)) if r else None)


def parse_synth(err):
    m = re.search(r"synthesi[sz]ed ([\d,]+) rows?", err)
    r = re.search(r"([\d,]+(?:\.\d+)?)\s*rows/s", err)
    s = re.search(r" in ([\d.]+) ?s\b", err)
    return ((int(number(m.group(1))) if m else None), (number(r.group(1)) if r else None),
            (float(s.group(1)) if s else None))


def fmt(x, spec=",.0f", none="—"):
    if x is None:
        return none
    if isinstance(x, float) and math.isinf(x):
        return "∞"
    return format(x, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--strata", default=os.path.join(ROOT, "build", "src", "strata"), help="the strata binary")
    ap.add_argument("--pg", default="", help="a PostgreSQL server URL where strata_bench_* databases may be "
                                             "created and dropped")
    ap.add_argument("--scale", type=float, default=1.0, help="strata generate --scale for the example (default 1)")
    ap.add_argument("--tenants", type=int, default=None, help="strata generate --tenants N (default: its own)")
    ap.add_argument("--tenant-column", default="admin_id",
                    help="strata profile --tenant-column (default admin_id, the example's; '' to leave it out)")
    ap.add_argument("--project", default="", help="passed to strata synth --project for the plans' q-error "
                                                  "(its seconds then include that comparison)")
    ap.add_argument("--seed", type=int, default=None, help="strata synth --seed N (default: its own)")
    ap.add_argument("--out", default="", help="folder for the files (default: a new temporary folder)")
    ap.add_argument("--sqlite-only", action="store_true", help="only SQLite, even with --pg")
    ap.add_argument("--keep", action="store_true", help="keep the databases made (default: drop them at the end)")
    ap.add_argument("--timeout", type=float, default=7200, help="seconds for one strata command (default 7200)")
    args = ap.parse_args()

    strata = os.path.abspath(args.strata) if os.sep in args.strata else (shutil.which(args.strata) or args.strata)
    if not os.access(strata, os.X_OK):
        raise SystemExit(f"no strata binary at {strata} (build it, or say --strata PATH)")
    if sqlite3 is None:
        raise SystemExit("this python3 has no sqlite3 module")
    use_pg = bool(args.pg) and not args.sqlite_only
    if use_pg and psycopg2 is None:
        raise SystemExit("--pg needs psycopg2 (Debian's /usr/bin/python3 has it: python3-psycopg2)")
    out = os.path.abspath(args.out) if args.out else tempfile.mkdtemp(prefix="strata_bench_synth_")
    os.makedirs(out, exist_ok=True)
    scale = format(args.scale, "g")
    project = os.path.abspath(args.project) if args.project else ""
    print(f"files in {out}", flush=True)

    server = Server(args.pg) if use_pg else None
    results = {"format": "strata-bench-synth/1", "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
               "strata": strata, "scale": args.scale, "tenants": args.tenants, "project": project or None,
               "sqlite_version_of_peer": sqlite3.sqlite_version, "generate": [], "profile": [], "runs": []}
    if server:
        try:
            server.admin().close()
            results["postgresql_server_version"] = server.version
        except Exception as e:  # noqa: BLE001
            fail("connect", redact(args.pg), e)
            server = None

    # 1. generate: the sources, and the existing generator's baseline.
    sources = {"sqlite": Target("sqlite", os.path.join(out, "source.db"))}
    if server:
        sources["pg"] = None
    for kind in list(sources):
        print(f"\n## generate into {LABEL[kind]}", flush=True)
        try:
            if kind == "pg":
                sources["pg"] = server.fresh(DB_SOURCE)
            else:
                remove_sqlite(sources[kind].where)
        except Exception as e:  # noqa: BLE001
            fail("generate", LABEL[kind], e)
            sources[kind] = None
            continue
        cmd = [strata, "generate", "--database", sources[kind].url, "--scale", scale, "--replace"]
        if args.tenants is not None:
            cmd += ["--tenants", str(args.tenants)]
        r = run_strata(cmd, args.timeout, "generate", LABEL[kind])
        rows, rate = parse_generate(r["stderr"])
        results["generate"].append({"target": LABEL[kind], "ok": r["ok"], "command": r["command"], "rows": rows,
                                    "loading_rows_per_s": rate, "seconds": r["seconds"],
                                    "peak_rss_kib": r["peak_rss_kib"]})
        if not r["ok"]:
            sources[kind] = None

    # 2. profile each source.
    profiles = {}
    for kind, src in sources.items():
        if src is None:
            continue
        print(f"\n## profile {LABEL[kind]}", flush=True)
        path = os.path.join(out, f"profile-{kind}.json")
        if os.path.exists(path):
            os.remove(path)
        cmd = [strata, "profile", "--database", src.url, "-o", path]
        if args.project:
            cmd += ["--project", args.project]
        if args.tenant_column:
            cmd += ["--tenant-column", args.tenant_column]
        r = run_strata(cmd, args.timeout, "profile", LABEL[kind])
        entry = {"source": LABEL[kind], "ok": r["ok"], "command": r["command"], "seconds": r["seconds"],
                 "peak_rss_kib": r["peak_rss_kib"], "bytes": None}
        results["profile"].append(entry)
        if not r["ok"]:
            continue
        try:
            entry["bytes"] = os.path.getsize(path)
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            ptables = profile_tables(doc)
            if not ptables:
                raise ValueError(f"{path} lists no tables")
            catalog = read_schema(src, [t["name"].rsplit(".", 1)[-1] for t in ptables])
            # The peer's keys and indexes: as the profile states them (what synth builds from), else
            # as the profiled database's catalog has them.
            spec, keys_from = dict(catalog), {}
            for t in ptables:
                bare = t["name"].rsplit(".", 1)[-1]
                if t["rows"] is None:  # a table without a row count: the source's own count
                    t["rows"] = count_rows(src, [bare])
                if t["keys"] is not None:
                    spec[bare] = dict(catalog.get(bare, {"columns": []}), **t["keys"])
                keys_from[bare] = "profile" if t["keys"] is not None else "catalog"
            entry.update(format=doc.get("format"), tables=len(ptables), rows=sum(t["rows"] for t in ptables),
                         source_schema=schema_counts(catalog), profile_schema=schema_counts(spec),
                         peer_keys_from=keys_from)
            profiles[kind] = (path, ptables, spec)
        except Exception as e:  # noqa: BLE001
            entry["ok"] = False
            fail("profile", LABEL[kind], f"reading {path}: {e!r}")

    # 3 and 4. synth each profile into a fresh target, then the peer on the same target kind.
    pairs = [(s, t) for s, t in (("pg", "pg"), ("sqlite", "sqlite"), ("pg", "sqlite")) if s in sources]
    for src_kind, dst_kind in pairs:
        label = f"{LABEL[src_kind]} → {LABEL[dst_kind]}"
        run = {"target": label, "source": LABEL[src_kind], "dialect": LABEL[dst_kind]}
        results["runs"].append(run)
        if src_kind not in profiles:
            run["skipped"] = f"no profile of {LABEL[src_kind]}"
            continue
        path, ptables, spec = profiles[src_kind]
        names = [t["name"].rsplit(".", 1)[-1] for t in ptables]

        print(f"\n## synth {label}", flush=True)
        synth = run["synth"] = {"ok": False}
        report = os.path.join(out, f"fidelity-{src_kind}-to-{dst_kind}.json")
        try:
            if os.path.exists(report):
                os.remove(report)
            if dst_kind == "pg":
                target = server.fresh(DB_SYNTH)
            else:
                target = Target("sqlite", os.path.join(out, f"synth-{src_kind}-to-{dst_kind}.db"))
                remove_sqlite(target.where)
        except Exception as e:  # noqa: BLE001
            fail("synth", label, e)
            target = None
        if target is not None:
            cmd = [strata, "synth", "--profile", path, "--database", target.url, "--replace", "--report", report]
            if args.seed is not None:
                cmd += ["--seed", str(args.seed)]
            if project:
                cmd += ["--project", project]
            r = run_strata(cmd, args.timeout, "synth", label)
            rows, rate, own_s = parse_synth(r["stderr"])
            synth.update(ok=r["ok"], command=r["command"], seconds=r["seconds"], peak_rss_kib=r["peak_rss_kib"],
                         loading_rows_per_s=rate, seconds_printed=own_s, rows=rows, rows_from="stderr")
            if r["ok"]:
                try:
                    if os.path.exists(report):
                        with open(report, encoding="utf-8") as f:
                            doc = json.load(f)
                        run["fidelity"] = fidelity_summary(doc)
                        run["fidelity_report"] = report
                        if rows is None and doc.get("tables"):
                            synth["rows"] = sum(int(t.get("synthetic_rows") or 0) for t in doc["tables"])
                            synth["rows_from"] = "report"
                    else:
                        fail("synth", label, f"no fidelity report at {report}")
                    if synth["rows"] is None:
                        synth["rows"], synth["rows_from"] = count_rows(target, names), "count(*)"
                    synth["schema"] = schema_counts(read_schema(target, names))
                except Exception as e:  # noqa: BLE001
                    fail("synth", label, f"reading the result: {e!r}")
                if synth["rows"]:
                    # The build's own seconds, as synth prints them (schema, rows, keys, indexes, ANALYZE);
                    # the fidelity report it then measures (a profile of the result) is not the build.
                    synth["rows_per_s"] = synth["rows"] / (own_s or r["seconds"])
            if not args.keep:
                drop(server, target)

        print(f"\n## peer {label}", flush=True)
        peer = run["peer"] = {"ok": False}
        try:
            tables, notes = peer_plan(ptables, spec, dst_kind)
            peer["notes"] = notes
            for n in notes:
                print("note: " + n, flush=True)
            if dst_kind == "pg":
                ptarget = server.fresh(DB_PEER)
            else:
                ptarget = Target("sqlite", os.path.join(out, f"peer-{src_kind}-to-{dst_kind}.db"))
            try:
                phases = run_peer(ptarget, tables, dst_kind)
                rows = sum(t["rows"] or 0 for t in tables)
                peer.update(ok=True, rows=rows, seconds=phases["total"], loading_seconds=phases["loading"],
                            phases=phases, rows_per_s=rows / phases["total"],
                            loading_rows_per_s=rows / phases["loading"] if phases["loading"] else None,
                            schema=schema_counts(read_schema(ptarget, [t["name"] for t in tables])))
            finally:
                if not args.keep:
                    drop(server, ptarget)
        except Exception as e:  # noqa: BLE001
            fail("peer", label, repr(e))
        if synth.get("ok") and peer.get("ok") and synth.get("rows_per_s"):
            run["synth_over_peer_rows_per_s"] = synth["rows_per_s"] / peer["rows_per_s"]
            run["synth_over_peer_seconds"] = synth["seconds"] / peer["seconds"]
            if synth.get("loading_rows_per_s") and peer.get("loading_rows_per_s"):
                run["synth_over_peer_loading_rows_per_s"] = synth["loading_rows_per_s"] / peer["loading_rows_per_s"]

    if not args.keep:
        for kind, src in sources.items():
            drop(server, src)

    # 5. Markdown and JSON.
    print("\n" + markdown(results, args), flush=True)
    results["failures"] = FAILURES
    with open(os.path.join(out, "results.json"), "w", encoding="utf-8") as f:
        json.dump(sanitize(results), f, indent=1, ensure_ascii=False)
    print(f"\nresults: {os.path.join(out, 'results.json')}", flush=True)
    if FAILURES:
        print(f"{len(FAILURES)} step(s) failed: " + "; ".join(f"{x['step']} ({x['what']})" for x in FAILURES),
              file=sys.stderr)
        return 1
    return 0


def drop(server, target):
    """Drops a database this run made (PostgreSQL strata_bench_*; a SQLite file in --out)."""
    if target is None:
        return
    try:
        if target.kind == "pg":
            server.drop(urllib.parse.urlsplit(target.where).path.lstrip("/") if "://" in target.where
                        else re.search(r"dbname=(\S+)", target.where).group(1))
        else:
            remove_sqlite(target.where)
    except Exception as e:  # noqa: BLE001
        print(f"note: could not drop {redact(target.url)}: {e}", file=sys.stderr)


def markdown(results, args):
    lines = []
    mib = lambda kib: None if kib is None else kib / 1024  # noqa: E731
    lines.append(f"strata generate --scale {format(args.scale, 'g')}"
                 + (f" --tenants {args.tenants}" if args.tenants is not None else "")
                 + ", the existing generator (baseline), then `strata profile` of each:\n")
    lines.append("| target | rows | loading rows/s | seconds | peak RSS |")
    lines.append("|---|---:|---:|---:|---:|")
    for g in results["generate"]:
        lines.append(f"| {g['target']}{'' if g['ok'] else ' (failed)'} | {fmt(g['rows'])} | "
                     f"{fmt(g['loading_rows_per_s'])} | {fmt(g['seconds'], '.1f')} | "
                     f"{fmt(mib(g['peak_rss_kib']), '.0f')} MiB |")
    lines.append("")
    lines.append("| profile of | tables | rows profiled | seconds | profile size | peak RSS |")
    lines.append("|---|---:|---:|---:|---:|---:|")
    for p in results["profile"]:
        lines.append(f"| {p['source']}{'' if p['ok'] else ' (failed)'} | {fmt(p.get('tables'))} | "
                     f"{fmt(p.get('rows'))} | {fmt(p['seconds'], '.1f')} | "
                     f"{fmt(None if p['bytes'] is None else p['bytes'] / 1024, ',.1f')} KiB | "
                     f"{fmt(mib(p['peak_rss_kib']), '.0f')} MiB |")
    lines.append("")
    lines.append("strata synth (end to end: the whole command; loading: as synth prints it) against the peer "
                 "(plain tables, one INSERT ... SELECT from generate_series / a recursive CTE per table, then the "
                 "same keys, indexes and ANALYZE)"
                 + "; synth's seconds are the build's own, as it prints them (the fidelity report it measures after is not counted)"
                 + ":\n")
    lines.append("| target | rows | synth s | synth rows/s end to end | synth loading rows/s | peer s | "
                 "peer rows/s | peer loading rows/s | synth ÷ peer, rows/s | peak RSS MiB |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results["runs"]:
        s, p = r.get("synth") or {}, r.get("peer") or {}
        tag = " (skipped)" if r.get("skipped") else (" (synth failed)" if s and not s.get("ok") else "")
        tag += " (peer failed)" if p and not p.get("ok") else ""
        lines.append(f"| {r['target']}{tag} | {fmt(s.get('rows') if s.get('ok') else p.get('rows'))} | "
                     f"{fmt((s.get('seconds_printed') or s.get('seconds')) if s.get('ok') else None, '.1f')} | "
                     f"{fmt(s.get('rows_per_s'))} | "
                     f"{fmt(s.get('loading_rows_per_s'))} | {fmt(p.get('seconds'), '.1f')} | "
                     f"{fmt(p.get('rows_per_s'))} | {fmt(p.get('loading_rows_per_s'))} | "
                     f"{fmt(r.get('synth_over_peer_rows_per_s'), '.2f')} | "
                     f"{fmt(mib(s.get('peak_rss_kib')) if s.get('ok') else None, '.0f')} |")
    lines.append("")
    lines.append("Keys and indexes (primary / unique / foreign / other indexes) in the synth target and the peer:\n")
    lines.append("| target | synth | peer |")
    lines.append("|---|---|---|")
    for r in results["runs"]:
        def keys(x):
            c = (x or {}).get("schema")
            return "—" if not c else f"{c['primary_keys']} / {c['unique_keys']} / {c['foreign_keys']} / {c['indexes']}"
        lines.append(f"| {r['target']} | {keys(r.get('synth'))} | {keys(r.get('peer'))} |")
    lines.append("")
    lines.append("Fidelity (synth's --report):\n")
    lines.append("| target | max table row error | kept tenants' counts | q-error median | q-error max | "
                 "max KS of fan-outs | plans | plan median q-error (median / max over reports) |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results["runs"]:
        f = r.get("fidelity")
        if not f:
            lines.append(f"| {r['target']} | — | — | — | — | — | — | — |")
            continue
        plan = "—" if not f["plans"] else \
            f"{fmt(f['plan_median_q_error'], '.2f')} / {fmt(f['plan_max_median_q_error'], '.2f')}"
        lines.append(f"| {r['target']} | {fmt(f['max_table_row_error_pct'], '.2f')}% | "
                     f"{f['tenant_counts']} ({f['tenants']} tenants) | {fmt(f['median_tenant_q_error'], '.2f')} | "
                     f"{fmt(f['max_tenant_q_error'], '.2f')} | {fmt(f['max_fanout_ks'], '.3f')} | {f['plans']} | "
                     f"{plan} |")
    notes = sorted({n for r in results["runs"] for n in (r.get("peer") or {}).get("notes", [])})
    if notes:
        lines.append("\nPeer notes: " + "; ".join(notes))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
