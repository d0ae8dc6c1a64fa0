#!/usr/bin/env python3
"""The round trip of strata profile and strata synth, measured by the detection suite: does
`strata check` give the same verdicts, naming the same tenants, on a synthetic database built from a
profile of the example as on the example itself?

    roundtrip.py --strata PATH --database URL --synth-database URL --out DIR
                 [--modes none] [--cases a,b] [--score-by truth|kind] [--seed N]

Steps, each printed with the command it runs (a URL's password shown as ***):

 1. `strata profile --database ORIGINAL --tenant-column admin_id -o DIR/profile.json`;
 2. `strata synth --profile DIR/profile.json --database SYNTH --replace --report DIR/fidelity.json`
    (SYNTH is replaced: a SQLite file, or the profile's tables in a PostgreSQL database);
 3. bench/detection/run.py on ORIGINAL and on SYNTH, each with its own truth (truth.py runs every
    case for every tenant of that database), `--json DIR/detection-{original,synthetic}.json` and
    `--keep DIR/verdicts-{original,synthetic}` (each check's verdict JSON);
 4. per case and mode: the verdict (pass, fail, or the exit code of an error) on each database, the
    tenants `strata check` named (verdict not pass), whether the verdicts are the same and how the
    named tenants overlap (tenant ids: the profile's kept tenants keep their ids in the synthetic
    database, the others are new tenants that happen to reuse ids). A Markdown table and totals on
    stdout, everything in DIR/roundtrip.json, and for every named tenant its `why`, its verdict and
    whether the profile kept it.

The suite's own scoring (right or WRONG against each database's truth) is kept in the JSON and
shown in the table's last column; `--score-by truth` (the default here) scores each case by what its
truth is on that database, as a synthetic database need not hold every unusual tenant. Exit 0 when
every verdict on the synthetic database is the verdict on the original, 1 when one differs, 2 when a
step failed."""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DETECTION = os.path.join(ROOT, "bench", "detection", "run.py")


def redact(text):
    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)


def run(cmd, what, log):
    """Runs cmd, printing it and its stderr's last lines; returns (exit code, seconds)."""
    print("$ " + redact(shlex.join(cmd)), flush=True)
    start = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - start
    out = p.stdout.decode("utf-8", "replace")
    with open(log, "w", encoding="utf-8") as f:
        f.write(out)
    tail = out.rstrip().splitlines()[-40:] if what.startswith("detection") else out.rstrip().splitlines()[-3:]
    for line in tail:
        print("  " + redact(line), flush=True)
    print(f"  ({what}: exit {p.returncode}, {seconds:.1f} s; full output in {log})\n", flush=True)
    return p.returncode, seconds


def verdict_of(r):
    if r is None:
        return "missing"
    return {0: "pass", 1: "fail"}.get(r["exit"], f"error (exit {r['exit']})")


def named_tenants(doc):
    """(sorted tenants with a verdict other than pass, {tenant: {verdict, why}}) from a verdict JSON."""
    if not doc or not doc.get("reports"):
        return [], {}
    detail = {}
    for x in doc["reports"][0].get("tenants", []):
        if x["verdict"] != "pass":
            d = detail.setdefault(str(x["tenant"]), {"verdicts": [], "why": x.get("why", []),
                                                     "found_by_sweep": x.get("found_by_sweep", False)})
            d["verdicts"].append(x["verdict"])
            if x.get("ratio") is not None:
                d.setdefault("ratio", x["ratio"])
    return sorted(detail, key=lambda t: (len(t), t)), detail


def truth_sets(t):
    """A case's truth on one database: the tenants whose rows differ and those truly slower."""
    return {"different": t["different"], "slower": sorted({x["tenant"] for x in t["slower"]}, key=str)}


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def fmt_tenants(ts, limit=8):
    if not ts:
        return "—"
    s = ", ".join(ts[:limit])
    return s + (f", +{len(ts) - limit}" if len(ts) > limit else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--strata", required=True, help="the strata binary")
    ap.add_argument("--database", required=True,
                    help="a `strata generate` database: sqlite:path.db or postgresql://...")
    ap.add_argument("--synth-database", required=True,
                    help="where to build the synthetic database (replaced: a SQLite file, or the profile's tables)")
    ap.add_argument("--modes", default="none", help="the detection suite's ways of declaring tenants (default none)")
    ap.add_argument("--out", required=True, help="folder for the profile, fidelity report, logs and JSON")
    ap.add_argument("--cases", default="", help="only these cases of the suite: a,b")
    ap.add_argument("--score-by", choices=("truth", "kind"), default="truth",
                    help="passed to run.py (default truth: each database's truth says what each case is there)")
    ap.add_argument("--seed", type=int, default=None, help="strata synth --seed N (default: its own)")
    ap.add_argument("--tenant-column", default="admin_id", help="strata profile --tenant-column (default admin_id)")
    args = ap.parse_args()

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    strata = os.path.abspath(args.strata)
    profile = os.path.join(out, "profile.json")
    fidelity = os.path.join(out, "fidelity.json")
    steps = {}
    wall = time.monotonic()

    code, steps["profile"] = run([strata, "profile", "--database", args.database, "--tenant-column",
                                  args.tenant_column, "-o", profile], "profile", os.path.join(out, "profile.log"))
    if code != 0:
        return 2
    cmd = [strata, "synth", "--profile", profile, "--database", args.synth_database, "--replace", "--report", fidelity]
    if args.seed is not None:
        cmd += ["--seed", str(args.seed)]
    code, steps["synth"] = run(cmd, "synth", os.path.join(out, "synth.log"))
    if code != 0:
        return 2

    detection = {}
    for side, url in (("original", args.database), ("synthetic", args.synth_database)):
        js = os.path.join(out, f"detection-{side}.json")
        keep = os.path.join(out, f"verdicts-{side}")
        if os.path.exists(js):
            os.remove(js)
        shutil.rmtree(keep, ignore_errors=True)  # no verdict of an earlier run read as this one's
        cmd = [sys.executable, DETECTION, "--database", url, "--strata", strata, "--modes", args.modes,
               "--score-by", args.score_by, "--json", js, "--keep", keep]
        if args.cases:
            cmd += ["--cases", args.cases]
        code, steps[f"detection_{side}"] = run(cmd, f"detection on the {side} database",
                                               os.path.join(out, f"detection-{side}.log"))
        doc = load(js)
        if doc is None:
            print(f"run.py wrote no {js} (exit {code})", file=sys.stderr)
            return 2
        detection[side] = (doc, keep)

    kept = {}
    for t in (load(profile) or {}).get("tenants", []):
        kept[str(t["tenant"])] = t.get("why", [])

    rows = []
    orig_doc, orig_keep = detection["original"]
    syn_doc, syn_keep = detection["synthetic"]
    syn_results = {(r["case"], r["mode"]): r for r in syn_doc["results"]}
    for r in orig_doc["results"]:
        s = syn_results.get((r["case"], r["mode"]))
        vo, vs = verdict_of(r), verdict_of(s)
        to, do = named_tenants(load(os.path.join(orig_keep, r["mode"], r["case"] + ".json")))
        ts, ds = named_tenants(load(os.path.join(syn_keep, r["mode"], r["case"] + ".json")))
        both = sorted(set(to) & set(ts), key=lambda t: (len(t), t))
        union = set(to) | set(ts)
        ot = orig_doc["truth"]["cases"][r["case"]]
        st = syn_doc["truth"]["cases"][r["case"]]
        rows.append({
            "case": r["case"], "kind": r["declared"], "mode": r["mode"],
            "verdict_original": vo, "verdict_synthetic": vs, "same_verdict": vo == vs,
            "named_original": to, "named_synthetic": ts, "named_both": both,
            "same_tenants": set(to) == set(ts),
            "overlap": f"{len(both)}/{len(union)}" if union else "—",
            "seconds_original": r["seconds"], "seconds_synthetic": s and s["seconds"],
            "right_original": r["right"], "right_synthetic": s and s["right"],
            "truth_kind_original": r["kind"], "truth_kind_synthetic": s and s["kind"],
            "truth_original": truth_sets(ot),
            "truth_synthetic": truth_sets(st),
            "named_detail_original": {t: dict(d, kept_by_profile=t in kept) for t, d in do.items()},
            "named_detail_synthetic": {t: dict(d, kept_by_profile=t in kept) for t, d in ds.items()},
        })

    modes = list(dict.fromkeys(x["mode"] for x in rows))
    print(f"## Round trip: {redact(args.database)} -> profile -> synth -> {redact(args.synth_database)}\n")
    for mode in modes:
        rs = [x for x in rows if x["mode"] == mode]
        print(f"### mode `{mode}`\n")
        print("| case | kind | verdict original | verdict synthetic | tenants named original | "
              "tenants named synthetic | same verdict | same tenants (overlap) | truth original → synthetic | "
              "suite right (orig / synth) |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for x in rs:
            def truth_text(t, kind):
                ts = t["different"] if kind == "wrong" else t["slower"] if kind == "slower" else []
                return f"{kind} {fmt_tenants([str(v) for v in ts], 4)}" if ts else kind
            print(f"| {x['case']} | {x['kind']} | {x['verdict_original']} | {x['verdict_synthetic']} | "
                  f"{fmt_tenants(x['named_original'])} | {fmt_tenants(x['named_synthetic'])} | "
                  f"{'yes' if x['same_verdict'] else '**no**'} | "
                  f"{'yes' if x['same_tenants'] else 'no'} ({x['overlap']}) | "
                  f"{truth_text(x['truth_original'], x['truth_kind_original'])} → "
                  f"{truth_text(x['truth_synthetic'], x['truth_kind_synthetic'])} | "
                  f"{'right' if x['right_original'] else 'WRONG'} / {'right' if x['right_synthetic'] else 'WRONG'} |")
        same_v = sum(x["same_verdict"] for x in rs)
        same_t = sum(x["same_tenants"] for x in rs)
        print(f"\n**Totals ({mode})**: same verdict {same_v}/{len(rs)}; same tenants named {same_t}/{len(rs)}; "
              f"suite right on the original {sum(bool(x['right_original']) for x in rs)}/{len(rs)}, "
              f"on the synthetic {sum(bool(x['right_synthetic']) for x in rs)}/{len(rs)}\n")
    differ = [x for x in rows if not x["same_verdict"]]
    for x in differ:
        print(f"- {x['case']} ({x['mode']}): original {x['verdict_original']}, synthetic {x['verdict_synthetic']}")
        for side in ("original", "synthetic"):
            for t, d in x[f"named_detail_{side}"].items():
                print(f"  - {side} named tenant {t} ({'/'.join(d['verdicts'])}; "
                      f"{'kept' if d['kept_by_profile'] else 'not kept'} by the profile): why {d['why']}")
    steps["total"] = time.monotonic() - wall
    print("\nseconds: " + ", ".join(f"{k} {v:.1f}" for k, v in steps.items()))
    summary = {m: {"cases": len([x for x in rows if x["mode"] == m]),
                   "same_verdict": sum(x["same_verdict"] for x in rows if x["mode"] == m),
                   "same_tenants": sum(x["same_tenants"] for x in rows if x["mode"] == m)} for m in modes}
    with open(os.path.join(out, "roundtrip.json"), "w", encoding="utf-8") as f:
        json.dump({"original": redact(args.database), "synthetic": redact(args.synth_database),
                   "modes": modes, "seconds": {k: round(v, 1) for k, v in steps.items()},
                   "summary": summary, "profile_kept_tenants": kept, "rows": rows}, f, indent=1)
    print(f"wrote {os.path.join(out, 'roundtrip.json')}")
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
