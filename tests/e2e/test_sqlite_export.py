"""strata export on a real SQLite file with hostile values, read back by openpyxl and Python's csv
module and compared cell by cell with what Python's sqlite3 returns for the same query."""

import csv
import io
import sqlite3
import unittest

from strata_e2e import TempDirTest, assert_sheet_matches, run, read_xlsx

SCHEMA = """
create table cells (id bigint primary key, label text, n bigint, x real, amount numeric(12,2), day date,
                    at timestamp, flag boolean, data blob);
"""

# (label, n, x, amount, day, at, flag, data): each row is one kind of trouble.
ROWS = [
    ("plain ascii", 1, 0.1, 12.5, "2024-02-29", "2024-02-29 10:11:12", 1, None),
    ("김민준 한국어 😀 café", -2**53, -0.0, 0, "1900-01-01", "1900-01-01 00:00:00", 0, b"\x00\xff"),
    ("line\r\nbreaks, \"quotes\" and, commas", 2**53 + 1, 1e300, -99.99, "1900-02-28", "1900-02-28 23:59:59", 1, b""),
    ("=HYPERLINK(\"http://x\")", 9223372036854775807, 1e-300, None, "1900-03-01", "1900-03-01 00:00:00.5", None, None),
    ("ctrl\x01\x0b\x1fchars\x7f", -9223372036854775808, 2.5, 1, "1899-12-31", "1899-12-31 12:00:00", 0, None),
    ("  padded  ", 0, None, None, "9999-12-31", "9999-12-31 23:59:59", 1, None),
    ("_x0041_ is not A", None, 3.0, 5, None, None, None, None),
    ("long " + "가" * 40000, 7, 4.0, 2, "2000-01-01", "2000-01-01 00:00:00.123", 1, None),
    ("", 8, 5.0, 3, "1970-01-01", "1970-01-01 00:00:00", 0, None),
    (None, None, None, None, None, None, None, None),
]


class SqliteExportTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.db = self.path("db.sqlite")
        con = sqlite3.connect(self.db)
        con.executescript(SCHEMA)
        con.executemany("insert into cells values (?,?,?,?,?,?,?,?,?)", [(i + 1, *r) for i, r in enumerate(ROWS)])
        # Invalid UTF-8 stored as TEXT, which Python cannot insert as str.
        con.execute("insert into cells (id, label) values (100, cast(x'41ff42e282' as text))")
        con.commit()
        con.close()
        with open(self.path("q.sql"), "w") as f:
            f.write("select * from cells where id >= :min_id order by id")

    def db_rows(self):
        con = sqlite3.connect(self.db)
        con.text_factory = lambda b: b.decode("utf-8", "replace")
        cur = con.execute("select * from cells where id >= 1 order by id")
        header = [d[0] for d in cur.description]
        rows = cur.fetchall()
        con.close()
        return header, [self.typed(r) for r in rows]

    @staticmethod
    def typed(row):
        """SQLite returns declared dates and booleans as text and integers: give them their types."""
        import datetime

        row = list(row)
        if row[5] is not None:
            row[5] = datetime.date.fromisoformat(row[5])
        if row[6] is not None:
            row[6] = datetime.datetime.fromisoformat(row[6])
        if row[7] is not None:
            row[7] = bool(row[7])
        return tuple(row)

    def test_xlsx_cell_by_cell(self):
        out = self.path("out.xlsx")
        code, _, err = run("export", "--database", "sqlite:" + self.db, "--sql", self.path("q.sql"),
                           "--param", "min_id=1", "-o", out)
        self.assertEqual(code, 0, err)
        self.assertIn("were cut to Excel's limit of 32,767 characters (first in row 8, column label)", err)
        self.assertIn("invalid UTF-8", err)
        self.assertIn("control character(s)", err)
        sheets = read_xlsx(out)
        self.assertEqual(len(sheets), 1)
        self.assertEqual(sheets[0][0], "q")
        header, rows = self.db_rows()
        assert_sheet_matches(self, sheets[0][1], header, rows)

    def test_csv_round_trips_through_a_csv_reader(self):
        out = self.path("out.csv")
        code, _, err = run("export", "--database", "sqlite:" + self.db, "--sql", self.path("q.sql"),
                           "--param", "min_id:int=1", "-o", out, "--bom")
        self.assertEqual(code, 0, err)
        with open(out, "rb") as f:
            raw = f.read()
        self.assertTrue(raw.startswith(b"\xef\xbb\xbf"))
        self.assertIn(b"\r\n", raw)
        rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))
        header, db = self.db_rows()
        self.assertEqual(rows[0], header)
        self.assertEqual(len(rows) - 1, len(db))
        by_label = {r[1]: r for r in rows[1:]}
        self.assertIn('line\r\nbreaks, "quotes" and, commas', by_label)           # quoted, intact
        self.assertIn("'=HYPERLINK(\"http://x\")", by_label)                      # guarded
        self.assertIn("A\ufffdB\ufffd", by_label)                                # repaired
        self.assertIn("long " + "가" * 40000, by_label)                          # csv has no cell limit
        row = by_label["plain ascii"]
        self.assertEqual(row[2:], ["1", "0.1", "12.5", "2024-02-29", "2024-02-29 10:11:12", "true", ""])
        self.assertEqual(by_label["김민준 한국어 😀 café"][8], "\\x00ff")
        self.assertEqual(rows[-1][1:], ["A\ufffdB\ufffd", "", "", "", "", "", "", ""])

    def test_formula_guard_can_be_turned_off(self):
        code, out, err = run("export", "--database", "sqlite:" + self.db, "--sql", self.path("q.sql"),
                             "--param", "min_id=4", "-o", "-", "--format", "csv", "--no-formula-guard", "--quiet")
        self.assertEqual(code, 0, err)
        self.assertNotIn("wrote", err)
        self.assertIn('"=HYPERLINK(""http://x"")"', out)


if __name__ == "__main__":
    unittest.main()
