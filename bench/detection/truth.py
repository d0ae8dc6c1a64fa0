#!/usr/bin/env python3
"""The truth of the detection suite, by brute force: runs the base and the candidate of every case
for every tenant (SELECT id FROM admins), compares their rows as multisets and times both, and says
for each case which tenants get different rows and which a far slower candidate. It exits non-zero
when a case's truth contradicts its declared kind, naming the case.

    truth.py --database sqlite:path.db|postgresql://... [--cases a,b] [--json truth.json]

Rows are compared as multisets: numbers by value (integers, decimals and floats alike, to 12
significant digits), everything else exactly; an error of the candidate where the base runs is a
difference. Timing: one run of each per tenant, and the best of three wherever one run does not
settle it (the candidate between twice and ten times the base, or more than 25 ms and less than
200 ms slower). Tenants where both take under 5 ms are not timed. A candidate is slower for
a tenant when it takes at least 3 times the base and at least 50 ms more, or does not finish within
the per-query timeout (30 s)."""

import argparse
import collections
import datetime
import decimal
import json
import os
import re
import sqlite3
import sys
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.join(HERE, "project")
CASES = os.path.join(HERE, "cases.toml")
KINDS = ("correct", "wrong", "slower")

UNTIMED_MS = 5.0       # both under this: not timed
SLOWER_RATIO = 3.0     # the candidate is slower at this ratio ...
SLOWER_MS = 50.0       # ... and this much more
# One run settles it when the candidate is this many times slower and at least CLEARLY_MS, or
# less than NOT_SLOWER times the base or less than NOT_SLOWER_MS more; otherwise the best of three.
CLEARLY_SLOWER, CLEARLY_MS = 10.0, 200.0
NOT_SLOWER, NOT_SLOWER_MS = 2.0, 25.0


class Timeout(Exception):
    pass


def load_cases(names=None):
    with open(CASES, "rb") as f:
        cases = tomllib.load(f)["case"]
    for c in cases:
        if c["kind"] not in KINDS:
            raise SystemExit(f"cases.toml: case {c['name']}: kind must be one of {', '.join(KINDS)}")
    if names:
        known = {c["name"] for c in cases}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise SystemExit(f"no such case: {', '.join(unknown)}")
        cases = [c for c in cases if c["name"] in names]
    return cases


def load_reports():
    """Each report's SQL and its parameters' defaults and types, from the project."""
    with open(os.path.join(PROJECT, "strata.toml"), "rb") as f:
        toml = tomllib.load(f)
    reports = {}
    for name, r in toml["reports"].items():
        with open(os.path.join(PROJECT, r["sql"]), encoding="utf-8") as f:
            reports[name] = {"sql": f.read(), "params": r.get("params", {})}
    return toml["tenant"]["param"], reports


PARAM = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|::|:([A-Za-z_][A-Za-z0-9_]*)|%)""", re.S)


def to_driver_sql(sql, postgres):
    """Named parameters (:name) in the driver's style: SQLite takes them as they are; psycopg2 wants
    %(name)s and a literal % doubled. Strings, quoted names, comments and :: casts are left alone."""
    if not postgres:
        return sql

    def repl(m):
        if m.group(2):
            return f"%({m.group(2)})s"
        return "%%" if m.group(0) == "%" else m.group(0)

    return PARAM.sub(repl, sql).rstrip().rstrip(";")


class Database:
    """One connection, with a per-query timeout."""

    def __init__(self, url, timeout_s):
        self.timeout_s = timeout_s
        self.postgres = not url.startswith("sqlite:")
        if self.postgres:
            import psycopg2
            import psycopg2.errors
            self.canceled = psycopg2.errors.QueryCanceled
            self.con = psycopg2.connect(url)
            self.con.autocommit = True
            with self.con.cursor() as cur:
                cur.execute("SET statement_timeout = %s", (f"{int(timeout_s * 1000)}ms",))
        else:
            path = url[len("sqlite:"):]
            if not os.path.exists(path):
                raise SystemExit(f"no such SQLite file: {path}")
            self.con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            self.deadline = None
            self.con.set_progress_handler(lambda: 1 if self.deadline and time.monotonic() > self.deadline else 0, 10000)

    def tenants(self):
        return [r[0] for r in self.query("SELECT id FROM admins ORDER BY id", {})[0]]

    def query(self, sql, params):
        """(rows, milliseconds); raises Timeout past the timeout, Exception for any other error."""
        start = time.monotonic()
        if self.postgres:
            cur = self.con.cursor()
            try:
                cur.execute(sql, params)
                rows = cur.fetchall()
            except self.canceled:
                raise Timeout()
            finally:
                cur.close()
        else:
            self.deadline = start + self.timeout_s
            try:
                rows = self.con.execute(sql, params).fetchall()
            except sqlite3.OperationalError as e:
                if "interrupted" in str(e):
                    raise Timeout()
                raise
            finally:
                self.deadline = None
        return rows, (time.monotonic() - start) * 1000


def bind(report, tenant_param, tenant, postgres):
    params = {}
    for name, spec in report["params"].items():
        if name == tenant_param:
            params[name] = tenant
            continue
        value = spec.get("default")
        if spec.get("type") == "date" and postgres and value is not None:
            value = datetime.date.fromisoformat(value)
        params[name] = value
    return params


def normal(v):
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float, decimal.Decimal)):
        return ("number", "%.12g" % float(v) if not isinstance(v, int) or abs(v) >= 10**12 else str(v))
    return v


def multiset(rows):
    return collections.Counter(tuple(normal(v) for v in r) for r in rows)


def is_slower(base_ms, candidate_ms):
    return candidate_ms >= SLOWER_RATIO * base_ms and candidate_ms - base_ms >= SLOWER_MS


def run_one(db, sql, params):
    try:
        rows, ms = db.query(sql, params)
        return rows, ms, None
    except Timeout:
        return None, db.timeout_s * 1000, "timeout"
    except Exception as e:  # the database refused or failed: a result of its own
        if db.postgres:
            db.con.rollback()
        return None, 0.0, f"error: {str(e).strip().splitlines()[0]}"


def truth_of_case(db, case, tenant_param, reports, tenants, progress=None):
    base_r, cand_r = reports[case["base"]], reports[case["candidate"]]
    base_sql, cand_sql = to_driver_sql(base_r["sql"], db.postgres), to_driver_sql(cand_r["sql"], db.postgres)
    out = {"kind": case["kind"], "base": case["base"], "candidate": case["candidate"], "different": [],
           "slower": [], "errors": {}, "tenants": len(tenants), "timed": 0}
    start = time.monotonic()
    for tenant in tenants:
        bp, cp = bind(base_r, tenant_param, tenant, db.postgres), bind(cand_r, tenant_param, tenant, db.postgres)
        b_rows, b_ms, b_err = run_one(db, base_sql, bp)
        c_rows, c_ms, c_err = run_one(db, cand_sql, cp)
        if b_err:
            out["errors"][str(tenant)] = "base: " + b_err
            continue
        if c_err == "timeout":
            out["slower"].append({"tenant": tenant, "base_ms": round(b_ms, 1), "candidate_ms": None})
            continue
        if c_err:
            out["errors"][str(tenant)] = "candidate: " + c_err
            out["different"].append(tenant)
            continue
        if multiset(b_rows) != multiset(c_rows):
            out["different"].append(tenant)
        if max(b_ms, c_ms) < UNTIMED_MS:
            continue
        out["timed"] += 1
        settled = (c_ms >= CLEARLY_SLOWER * b_ms and c_ms >= CLEARLY_MS) or \
            c_ms < NOT_SLOWER * b_ms or c_ms - b_ms < NOT_SLOWER_MS
        if not settled:
            for _ in range(2):  # the best of three
                b_ms = min(b_ms, run_one(db, base_sql, bp)[1])
                _, ms, err = run_one(db, cand_sql, cp)
                c_ms = db.timeout_s * 1000 if err == "timeout" else min(c_ms, ms)
        if is_slower(b_ms, c_ms):
            timed_out = c_ms >= db.timeout_s * 1000
            out["slower"].append({"tenant": tenant, "base_ms": round(b_ms, 1),
                                  "candidate_ms": None if timed_out else round(c_ms, 1)})
    out["seconds"] = round(time.monotonic() - start, 1)
    out["problem"] = contradiction(out, len(tenants))
    if progress:
        progress(case["name"], out)
    return out


def contradiction(t, n_tenants):
    """Why the truth contradicts the declared kind, or None."""
    different, slower = len(t["different"]), len(t["slower"])
    base_errors = [k for k, v in t["errors"].items() if v.startswith("base:")]
    if base_errors:
        return f"the base fails for tenants {', '.join(base_errors[:5])}: {t['errors'][base_errors[0]]}"
    if t["kind"] == "correct":
        if different:
            return f"declared correct, but {different} tenant(s) get different rows: {t['different'][:10]}"
        if slower:
            return f"declared correct, but the candidate is slower for {[s['tenant'] for s in t['slower']][:10]}"
    elif t["kind"] == "wrong":
        if not different:
            return "declared wrong, but every tenant gets the same rows"
        if different == n_tenants:
            return "declared wrong for some tenants, but it is wrong for every tenant"
    elif t["kind"] == "slower":
        if different:
            return f"declared slower, but {different} tenant(s) get different rows: {t['different'][:10]}"
        if not slower:
            return "declared slower, but no tenant is slower"
    return None


def redact(url):
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:…@", url)


def compute(url, case_names=None, timeout_s=30.0, progress=None):
    """The truth document for the cases (all when case_names is empty) on the database at url."""
    db = Database(url, timeout_s)
    tenant_param, reports = load_reports()
    cases = load_cases(case_names)
    tenants = db.tenants()
    start = time.monotonic()
    doc = {"database": redact(url), "tenants": len(tenants), "timeout_s": timeout_s,
           "rules": {"untimed_ms": UNTIMED_MS, "slower_ratio": SLOWER_RATIO, "slower_ms": SLOWER_MS},
           "cases": {}}
    for case in cases:
        doc["cases"][case["name"]] = truth_of_case(db, case, tenant_param, reports, tenants, progress)
    doc["seconds"] = round(time.monotonic() - start, 1)
    return doc


def describe_slower(s):
    candidate = "timeout" if s["candidate_ms"] is None else f"{s['candidate_ms']:.0f} ms"
    return f"{s['tenant']} ({candidate} vs {s['base_ms']:.0f} ms)"


def print_case(name, t):
    print(f"{name:32} {t['kind']:8} different {len(t['different']):4}  slower {len(t['slower']):4}  "
          f"{t['seconds']:6.1f} s  {'OK' if not t['problem'] else 'CONTRADICTS: ' + t['problem']}", flush=True)
    if t["different"]:
        print(f"{'':41}different: {t['different'][:12]}")
    if t["slower"]:
        print(f"{'':41}slower: {', '.join(describe_slower(s) for s in t['slower'][:6])}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database", required=True, help="sqlite:path.db or postgresql://...")
    ap.add_argument("--cases", default="", help="only these cases: a,b")
    ap.add_argument("--json", default="", help="write the truth here")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per query (default 30)")
    args = ap.parse_args()
    names = [n for n in args.cases.split(",") if n]
    doc = compute(args.database, names, args.timeout, progress=print_case)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
    problems = [(n, t["problem"]) for n, t in doc["cases"].items() if t["problem"]]
    print(f"{len(doc['cases'])} cases on {doc['tenants']} tenants in {doc['seconds']:.1f} s; "
          f"{len(problems)} contradict their kind")
    for name, problem in problems:
        print(f"  {name}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
