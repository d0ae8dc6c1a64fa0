#!/usr/bin/env python3
"""The detection suite's runner: does `strata check` find what each rewrite truly does, whatever way
the project declares its tenants?

    run.py --database URL [--modes ids,none,sizes] [--strata PATH] [--cases a,b]
           [--truth truth.json] [--json out.json] [--keep DIR]

It computes the truth (truth.py; or loads it with --truth), then for each case and each way of
declaring tenants runs `strata check CANDIDATE --base-report BASE` on a copy of project/ whose
[tenant] section says:

    ids    list = "SELECT id FROM admins ORDER BY id"   (ids only, no sizes)
    none   no list: Strata finds the tenants itself
    sizes  list = "tenants.sql" (examples/admin-reports/tenants.sql: a row per admin with its sizes)

A case is right when the verdict is: for a correct rewrite, pass; for a wrong one, fail with a
tenant that the truth says gets different rows among those with different_results or error; for a
slower one, fail with a tenant that the truth says is slower among those with slower or timeout. A
fail on a correct rewrite is a false alarm. Exit 0 only when every case is right in every mode. With
--keep DIR, each check's verdict JSON is kept as DIR/MODE/CASE.json (by default none is kept)."""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import truth as truth_module  # noqa: E402

SIZES_SQL = os.path.join(HERE, "..", "..", "examples", "admin-reports", "tenants.sql")
TENANT_SECTIONS = {
    "ids": '[tenant]\nparam = "admin_id"\nlist = "SELECT id FROM admins ORDER BY id"\n',
    "none": '[tenant]\nparam = "admin_id"\n',
    "sizes": '[tenant]\nparam = "admin_id"\nlist = "tenants.sql"\n',
}
FOUND = {"wrong": ("different_results", "error"), "slower": ("slower", "timeout")}


def project_copy(root, mode):
    """project/ with the mode's [tenant] section, in root/mode."""
    folder = os.path.join(root, mode)
    shutil.copytree(truth_module.PROJECT, folder, ignore=shutil.ignore_patterns("*.db", "*.db-*"))
    path = os.path.join(folder, "strata.toml")
    with open(path, encoding="utf-8") as f:
        toml = f.read()
    toml, n = re.subn(r"^\[tenant\]\n(?:[^\[\n][^\n]*\n)*", TENANT_SECTIONS[mode], toml, count=1, flags=re.M)
    if n != 1:
        raise SystemExit("project/strata.toml has no [tenant] section")
    with open(path, "w", encoding="utf-8") as f:
        f.write(toml)
    if mode == "sizes":
        shutil.copy(SIZES_SQL, os.path.join(folder, "tenants.sql"))
    return folder


def slower_tenants(t):
    return {s["tenant"] for s in t["slower"]}


def truth_kind(t):
    """What the truth says a case is on this database: wrong where any tenant's rows differ, else slower
    where any tenant is slower, else correct."""
    return "wrong" if t["different"] else "slower" if t["slower"] else "correct"


def score(kind, code, doc, t):
    """(right, flagged tenants, note) for one run of strata check."""
    tenants = doc["reports"][0]["tenants"] if doc and doc.get("reports") else []
    flagged = sorted({x["tenant"] for x in tenants if x["verdict"] != "pass"}, key=str)
    if code not in (0, 1):
        return False, flagged, f"exit {code}"
    if kind == "correct":
        return code == 0, flagged, "" if code == 0 else "false alarm"
    truth_set = set(t["different"]) if kind == "wrong" else slower_tenants(t)
    found = {x["tenant"] for x in tenants if x["verdict"] in FOUND[kind]} & truth_set
    if code == 0:
        return False, flagged, "missed: pass"
    if not found:
        return False, flagged, "failed, but on no tenant the truth names"
    return True, flagged, ""


def run_check(strata, project, case, url, out_dir, timeout_s):
    verdict = os.path.join(out_dir, "verdict.json")
    if os.path.exists(verdict):
        os.remove(verdict)
    cmd = [strata, "check", "--project", project, case["candidate"], "--base-report", case["base"],
           "--database", url, "--json", verdict, "-q"]
    env = dict(os.environ)
    env.pop("STRATA_DATABASE_URL", None)
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, env=env, timeout=timeout_s)
        code, err = p.returncode, p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        code, err = -1, f"strata check did not finish within {timeout_s:.0f} s"
    seconds = time.monotonic() - start
    doc = None
    if os.path.exists(verdict):
        with open(verdict, encoding="utf-8") as f:
            doc = json.load(f)
    return code, doc, seconds, err.strip()


def short(tenants, limit=6):
    s = ",".join(str(t) for t in tenants[:limit])
    return s + (f",+{len(tenants) - limit}" if len(tenants) > limit else "") if tenants else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database", required=True, help="sqlite:path.db or postgresql://...")
    ap.add_argument("--modes", default="ids,none,sizes", help="ways of declaring tenants (default ids,none,sizes)")
    ap.add_argument("--strata", default=os.environ.get("STRATA_BIN", "strata"), help="the strata binary")
    ap.add_argument("--cases", default="", help="only these cases: a,b")
    ap.add_argument("--truth", default="", help="the truth from truth.py --json, instead of computing it")
    ap.add_argument("--json", default="", help="write every result here")
    ap.add_argument("--keep", default="", help="keep each check's verdict JSON as DIR/MODE/CASE.json")
    ap.add_argument("--score-by", choices=("kind", "truth"), default="kind",
                    help="score each case by its declared kind (default; a truth that contradicts it is an error) "
                         "or by what the truth says it is on this database (a rewrite declared correct that is "
                         "slower for some tenants of a large database is then a slower case)")
    ap.add_argument("--check-timeout", type=float, default=1800, help="seconds for one strata check (default 1800)")
    args = ap.parse_args()

    modes = [m for m in args.modes.split(",") if m]
    for m in modes:
        if m not in TENANT_SECTIONS:
            raise SystemExit(f"unknown mode {m}: ids, none or sizes")
    names = [n for n in args.cases.split(",") if n]
    cases = truth_module.load_cases(names)
    if args.truth:
        with open(args.truth, encoding="utf-8") as f:
            truth = json.load(f)
        missing = [c["name"] for c in cases if c["name"] not in truth["cases"]]
        if missing:
            raise SystemExit(f"{args.truth} has no truth for {', '.join(missing)}")
    else:
        print("truth: every case for every tenant ...", flush=True)
        truth = truth_module.compute(args.database, names, progress=truth_module.print_case)
        print(f"truth: {truth['seconds']:.1f} s on {truth['tenants']} tenants\n", flush=True)
    problems = [(c["name"], truth["cases"][c["name"]]["problem"]) for c in cases
                if truth["cases"][c["name"]]["problem"]]
    for name, problem in problems:
        print(f"truth contradicts case {name}: {problem}", file=sys.stderr)

    results = []
    print(f"{'case':32} {'kind':7} {'mode':5} {'result':6} {'seconds':>7}  {'tenants':>7} {'compared':>8}  "
          f"flagged (truth)", flush=True)
    with tempfile.TemporaryDirectory(prefix="strata-detection-") as root:
        projects = {m: project_copy(root, m) for m in modes}
        for case in cases:
            t = truth["cases"][case["name"]]
            if args.score_by == "truth":
                case = dict(case, kind=truth_kind(t), declared=case["kind"])
            truth_set = t["different"] if case["kind"] == "wrong" else sorted(slower_tenants(t), key=str)
            for mode in modes:
                code, doc, seconds, err = run_check(args.strata, projects[mode], case, args.database, root,
                                                    args.check_timeout)
                right, flagged, note = score(case["kind"], code, doc, t)
                if args.keep and doc is not None:
                    os.makedirs(os.path.join(args.keep, mode), exist_ok=True)
                    with open(os.path.join(args.keep, mode, case["name"] + ".json"), "w", encoding="utf-8") as f:
                        json.dump(doc, f, indent=1)
                report = doc["reports"][0] if doc and doc.get("reports") else {}
                r = {"case": case["name"], "kind": case["kind"], "declared": case.get("declared", case["kind"]),
                     "mode": mode, "right": right, "exit": code,
                     "seconds": round(seconds, 1), "flagged": flagged, "note": note,
                     "tenants_total": report.get("tenants_total"), "results_compared": report.get("results_compared"),
                     "truth": truth_set}
                if code not in (0, 1):
                    r["stderr"] = err[-2000:]
                results.append(r)
                total = "-" if r["tenants_total"] is None else r["tenants_total"]
                compared = "-" if r["results_compared"] is None else r["results_compared"]
                print(f"{case['name']:32} {case['kind']:7} {mode:5} {'right' if right else 'WRONG':6} {seconds:7.1f}  "
                      f"{total:>7} {compared:>8}  {short(flagged)} ({short(truth_set)}){'  ' + note if note else ''}"
                      + (f"\n{'':40}{err.splitlines()[-1] if err else ''}" if code not in (0, 1) else ""),
                      flush=True)

    print()
    summary = {}
    for mode in modes:
        rs = [r for r in results if r["mode"] == mode]
        right = sum(r["right"] for r in rs)
        alarms = sum(1 for r in rs if r["kind"] == "correct" and r["exit"] == 1)
        secs = [r["seconds"] for r in rs]
        summary[mode] = {"right": right, "cases": len(rs), "false_alarms": alarms,
                         "median_seconds": round(statistics.median(secs), 1), "max_seconds": round(max(secs), 1)}
        print(f"{mode:5}: cases right {right}/{len(rs)}, false alarms {alarms}, seconds per case "
              f"(median {statistics.median(secs):.1f}, max {max(secs):.1f})")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"database": truth["database"], "summary": summary, "results": results, "truth": truth}, f,
                      indent=1)
    every = all(r["right"] for r in results)
    return 0 if every and (not problems or args.score_by == "truth") else 1


if __name__ == "__main__":
    sys.exit(main())
