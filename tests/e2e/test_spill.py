"""More rows than one Excel sheet holds: the export continues on a second sheet, with the header
repeated, and not a row is lost or duplicated at the seam. Read back by openpyxl."""

import resource
import unittest

import openpyxl

from strata_e2e import TempDirTest, run

EXTRA = 5
ROWS = 1048575 + EXTRA


class SpillTest(TempDirTest):
    def test_rows_past_excels_limit_continue_on_a_new_sheet(self):
        source = self.adhoc_sqlite("with recursive n(i) as (select 1 union all select i + 1 from n where i < :rows) "
                                   "select i, 'row ' || i as label from n")
        out = self.path("big.xlsx")
        code, _, err = run("export", *source, "-p", f"rows={ROWS}", "-o", out)
        self.assertEqual(code, 0, err)
        self.assertIn("continue on 2 sheets", err)
        wb = openpyxl.load_workbook(out, read_only=True)
        self.assertEqual(wb.sheetnames, ["q", "q (2)"])
        expected = 1
        for ws, data_rows in zip(wb.worksheets, (1048575, EXTRA)):
            self.assertEqual(ws.calculate_dimension(), f"A1:B{data_rows + 1}")  # each sheet's <dimension>
            rows = ws.iter_rows(values_only=True)
            self.assertEqual(next(rows), ("i", "label"))
            count = 0
            for i, label in rows:
                if i != expected or label != f"row {expected}":
                    self.fail(f"sheet {ws.title}: row holds {i!r}, {label!r}; expected {expected}")
                expected += 1
                count += 1
            self.assertEqual(count, data_rows, ws.title)
        wb.close()
        self.assertEqual(expected, ROWS + 1)
        # Memory does not grow with rows: the largest child this test waited for was strata.
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        self.assertLess(peak_mib, 64, "strata's peak memory for a million rows")


if __name__ == "__main__":
    unittest.main()
