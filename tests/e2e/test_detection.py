"""The detection suite (bench/detection) end to end: on a generated database, strata check must get
every case right — the correct rewrites pass, the wrong ones fail on a tenant they are wrong for,
the slower ones fail on a tenant they are slower for — whichever way the project declares its
tenants (ids only, no list, a list with sizes). The truth is computed by brute force over every
tenant, and the runner refuses a case whose truth contradicts its kind."""

import json
import os
import subprocess
import sys
import unittest

from strata_e2e import PG_URL, STRATA, TempDirTest, fresh_database, run

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.join(HERE, "..", "..", "bench", "detection")
# Small enough for the whole suite to run in a few minutes, large enough that the slow rewrites are
# slower by tens of milliseconds for the tenants they hurt.
SCALE, TENANTS = "0.05", "60"
# On PostgreSQL, one case of each kind unless STRATA_DETECTION_ALL is set.
PG_CASES = "inactive_members_left_join,inactive_members_not_in,member_order_status_buckets,order_ledger_self_join"


class DetectionTest(TempDirTest):
    def generate(self, url):
        code, _, err = run("generate", "--database", url, "--scale", SCALE, "--tenants", TENANTS, "-q")
        self.assertEqual(code, 0, err)

    def run_suite(self, url, *extra):
        out = self.path("results.json")
        p = subprocess.run([sys.executable, os.path.join(SUITE, "run.py"), "--database", url, "--strata", STRATA,
                            "--json", out, *extra], capture_output=True, text=True, timeout=1800)
        self.assertTrue(os.path.exists(out), p.stdout + p.stderr)
        with open(out, encoding="utf-8") as f:
            doc = json.load(f)
        where = "\n" + p.stdout + p.stderr
        for name, t in doc["truth"]["cases"].items():
            self.assertIsNone(t["problem"], f"the truth contradicts case {name}{where}")
        for r in doc["results"]:
            with self.subTest(case=r["case"], mode=r["mode"]):
                self.assertTrue(r["right"], f"{r['case']} ({r['kind']}, {r['mode']}): {r['note']}, "
                                            f"flagged {r['flagged']}, truth {r['truth']}{where}")
        for mode, s in doc["summary"].items():
            self.assertEqual(s["false_alarms"], 0, f"{mode}{where}")
        self.assertEqual(p.returncode, 0, where)
        return doc

    def test_sqlite_every_case_in_every_mode(self):
        db = self.path("detection.db")
        self.generate("sqlite:" + db)
        doc = self.run_suite("sqlite:" + db)
        kinds = {r["kind"] for r in doc["results"]}
        self.assertEqual(kinds, {"correct", "wrong", "slower"})
        self.assertEqual({r["mode"] for r in doc["results"]}, {"ids", "none", "sizes"})

    @unittest.skipUnless(PG_URL, "STRATA_TEST_PG is not set")
    def test_postgres(self):
        url = fresh_database("strata_detection_test")
        self.generate(url)
        cases = [] if os.environ.get("STRATA_DETECTION_ALL") else ["--cases", PG_CASES]
        self.run_suite(url, *cases)


if __name__ == "__main__":
    unittest.main()
