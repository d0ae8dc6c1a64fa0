"""A sheet whose XML passes 4 GiB: the archive must carry ZIP64 records that a standard reader
(Python's zipfile) follows, and the data must inflate with the right CRC-32 and every row present."""

import unittest
import zipfile

from strata_e2e import TempDirTest, run

ROWS = 1_000_000
WIDTH = 4400  # characters per cell: about 4.4 GB of sheet XML in all


class Zip64Test(TempDirTest):
    def test_entry_past_four_gib(self):
        source = self.adhoc_sqlite("with recursive n(i) as (select 1 union all select i + 1 from n where i < :rows) "
                                   "select i, printf('%.*c', :width, 'x') as wide from n")
        out = self.path("wide.xlsx")
        code, _, err = run("export", *source, "-p", f"rows={ROWS}", "-p", f"width={WIDTH}", "-o", out, "-q")
        self.assertEqual(code, 0, err)
        with zipfile.ZipFile(out) as z:
            info = z.getinfo("xl/worksheets/sheet1.xml")
            self.assertGreater(info.file_size, 2**32)
            rows, tail = 0, b""
            with z.open(info) as sheet:  # zipfile checks the CRC-32 when the entry ends
                while chunk := sheet.read(1 << 24):
                    data = tail + chunk
                    rows += data.count(b"</row>")
                    tail = data[-5:]  # a "</row>" cut by the chunk boundary is counted next time
            self.assertEqual(rows, ROWS + 1)  # and the header
            self.assertIn("xl/workbook.xml", z.namelist())


if __name__ == "__main__":
    unittest.main()
