"""Every sheet says which cells it uses (<dimension>), and readers that trust it read every row:
openpyxl in read-only mode (what pandas and most scripts use for big files) and SheetJS, on a file
written to disk and on one streamed to standard output. LibreOffice reads the same files in
test_libreoffice.py."""

import json
import os
import shutil
import subprocess
import unittest

import openpyxl

from strata_e2e import STRATA, TempDirTest

HERE = os.path.dirname(os.path.abspath(__file__))
READERS = os.path.join(HERE, "..", "readers")
SHEETJS = os.path.join(READERS, "node_modules", "xlsx")

ROWS = 2500
QUERY = ("with recursive n(i) as (select 1 union all select i + 1 from n where i < :rows) "
         "select i as id, 'label ' || i as label, case when i % 7 = 0 then null else i * 0.5 end as amount, "
         "date('2024-01-01', '+' || (i % 365) || ' days') as day, 'é' as accent from n where i <= :rows")


class XlsxReadersTest(TempDirTest):
    def export(self, rows, to_stdout):
        """Exports `rows` rows to a file, or through standard output into one; returns its path."""
        db, q = self.path("db.sqlite"), self.path("q.sql")
        open(db, "w").close()
        with open(q, "w") as f:
            f.write(QUERY)
        out = self.path(f"out-{rows}-{'stdout' if to_stdout else 'file'}.xlsx")
        args = [STRATA, "export", "--database", "sqlite:" + db, "--sql", q, "-p", f"rows={rows}", "-q",
                "--format", "xlsx", "-o", "-" if to_stdout else out]
        if to_stdout:
            with open(out, "wb") as f:
                p = subprocess.run(args, stdout=f, stderr=subprocess.PIPE, timeout=300)
        else:
            p = subprocess.run(args, capture_output=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr.decode("utf-8", "replace"))
        return out

    def check_openpyxl(self, path, rows):
        wb = openpyxl.load_workbook(path, read_only=True)
        ws = wb.worksheets[0]
        self.assertEqual(ws.calculate_dimension(), f"A1:E{rows + 1}")
        self.assertEqual((ws.max_row, ws.max_column), (rows + 1, 5))
        read = list(ws.iter_rows(values_only=True))
        wb.close()
        self.assertEqual(read[0], ("id", "label", "amount", "day", "accent"))
        self.assertEqual([r[0] for r in read[1:]], list(range(1, rows + 1)))

    def check_sheetjs(self, path, rows):
        p = subprocess.run(["node", os.path.join(READERS, "read_xlsx.mjs"), path], capture_output=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr.decode("utf-8", "replace"))
        sheet = json.loads(p.stdout)["sheets"][0]
        # SheetJS takes the range from <dimension> and reads no cell outside it.
        self.assertEqual(sheet["ref"], f"A1:E{rows + 1}")
        self.assertEqual(len(sheet["rows"]), rows + 1)
        self.assertEqual(sheet["rows"][0], ["id", "label", "amount", "day", "accent"])
        if rows:
            self.assertEqual(sheet["rows"][-1][:2], [str(rows), f"label {rows}"])
            self.assertEqual(sheet["rows"][-1][4], "é")

    def test_openpyxl_read_only_sees_every_row_of_a_file_and_of_a_stream(self):
        for to_stdout in (False, True):
            for rows in (ROWS, 0):
                with self.subTest(stdout=to_stdout, rows=rows):
                    self.check_openpyxl(self.export(rows, to_stdout), rows)

    @unittest.skipUnless(shutil.which("node") and os.path.isdir(SHEETJS),
                         "SheetJS is not installed (scripts/install-deps.sh installs it)")
    def test_sheetjs_reads_the_range_the_dimension_gives(self):
        for to_stdout in (False, True):
            for rows in (ROWS, 0):
                with self.subTest(stdout=to_stdout, rows=rows):
                    self.check_sheetjs(self.export(rows, to_stdout), rows)


if __name__ == "__main__":
    unittest.main()
