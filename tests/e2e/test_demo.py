"""strata demo, as the README runs it: generates the example when it is missing, shows the tenant
sizes and the unusual tenants, and exports the heaviest tenant's report; a second run reuses the
database."""

import os
import re
import shutil
import subprocess
import unittest

from strata_e2e import STRATA, TempDirTest, read_xlsx

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "admin-reports")


class DemoTest(TempDirTest):
    def test_demo_from_nothing_then_again(self):
        project = self.path("admin-reports")
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("demo.db", "*.partial"))
        demo = [STRATA, "demo", "--project", project, "--scale", "0.05"]
        first = subprocess.run(demo, cwd=self.tmp, capture_output=True, text=True, timeout=300)
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertIn("No example database yet: generating", first.stdout)
        self.assertTrue(os.path.exists(os.path.join(project, "demo.db")))
        heaviest = re.search(r"The heaviest, admin (\d+), has ([\d,]+) orders: (\d+)x the median", first.stdout)
        self.assertIsNotNone(heaviest, first.stdout)
        for kind in ("no members and no orders", "installments", "time zones", "1901-1950"):
            self.assertIn(kind, first.stdout)
        out = os.path.join(self.tmp, "exports", f"member_activity_{heaviest.group(1)}.xlsx")
        rows = read_xlsx(out)[0][1]
        self.assertEqual(rows[0][0], "member_id")
        self.assertGreater(len(rows), 1)
        # The gate: the slow rewrite and the wrong rewrite fail with their tenants named, the benign passes.
        gates = first.stdout.split("== strata check ")[1:]
        self.assertEqual(len(gates), 3, first.stdout)
        self.assertTrue(gates[0].startswith("member_activity_subqueries"))
        self.assertRegex(gates[0], r"(SLOWER|TIMEOUT), tenant \d+")
        self.assertIn("fails, as it should", gates[0])
        self.assertRegex(gates[1], r"DIFFERENT RESULTS, tenant \d+")
        self.assertIn("fails, as it should", gates[1])
        self.assertIn("passes, as it should", gates[2])

        again = subprocess.run(demo, cwd=self.tmp, capture_output=True, text=True, timeout=300)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertNotIn("generating", again.stdout)
        self.assertIn(f"admin {heaviest.group(1)}", again.stdout)


if __name__ == "__main__":
    unittest.main()
