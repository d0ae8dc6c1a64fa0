"""A second real client: LibreOffice opens an export of the example project (headless, converting
it to CSV) and must show the same values Strata's own CSV export has."""

import csv
import os
import shutil
import sqlite3
import subprocess
import unittest

from strata_e2e import TempDirTest, run

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "admin-reports")


@unittest.skipUnless(shutil.which("soffice"), "LibreOffice is not installed (scripts/install-deps.sh installs it)")
class LibreOfficeTest(TempDirTest):
    def test_libreoffice_reads_what_strata_wrote(self):
        db = self.path("demo.db")
        self.assertEqual(run("generate", "--database", "sqlite:" + db, "--scale", "0.05", "-q")[0], 0)
        busiest = sqlite3.connect(db).execute(
            "select admin_id from members group by admin_id order by count(*) desc limit 1").fetchone()[0]
        common = ["export", "--project", EXAMPLE, "--database", "sqlite:" + db, "member_activity",
                  "-p", f"admin_id={busiest}", "-q"]
        self.assertEqual(run(*common, "-o", self.path("report.xlsx"))[0], 0)
        self.assertEqual(run(*common, "-o", self.path("strata.csv"))[0], 0)
        profile = "file://" + self.path("lo-profile")
        subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to",
                        "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", self.path("lo"),
                        self.path("report.xlsx")], check=True, capture_output=True, timeout=300)
        with open(self.path("lo/report.csv"), newline="", encoding="utf-8") as f:
            office = list(csv.reader(f))
        with open(self.path("strata.csv"), newline="", encoding="utf-8") as f:
            ours = list(csv.reader(f))
        self.assertGreater(len(ours), 10)
        self.assertEqual(len(office), len(ours))
        for r, (a, b) in enumerate(zip(office, ours), start=1):
            self.assertEqual(len(a), len(b), f"row {r}")
            for c, (x, y) in enumerate(zip(a, b)):
                if x != y:
                    # Numbers may print differently (LibreOffice rounds to what the cell shows).
                    self.assertAlmostEqual(float(x), float(y), places=6, msg=f"row {r} column {ours[0][c]}")


if __name__ == "__main__":
    unittest.main()
