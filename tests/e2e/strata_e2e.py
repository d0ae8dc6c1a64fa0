"""Helpers shared by the end-to-end tests: run the real strata binary, read its files back with
independent readers (openpyxl, Python's csv), and state what a database value must become in a
spreadsheet cell. The rules here restate sink/xlsx_writer.h from the user's side."""

import datetime
import decimal
import math
import os
import re
import socket
import subprocess
import tempfile
import time
import unittest

import openpyxl

STRATA = os.environ.get("STRATA_BIN", "strata")
PG_URL = os.environ.get("STRATA_TEST_PG", "")
if not PG_URL and os.environ.get("STRATA_REQUIRE_PG"):
    raise SystemExit("STRATA_REQUIRE_PG is set but STRATA_TEST_PG is not: the PostgreSQL tests would be skipped")
EXCEL_EPOCH = datetime.datetime(1899, 12, 30)
MAX_CELL = 32767
FORBIDDEN = {c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)} | {0xFFFE, 0xFFFF}


def fresh_database(name):
    """A new, empty database on the test PostgreSQL server (dropped first if it exists); its URL."""
    import psycopg2

    con = psycopg2.connect(PG_URL)
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        cur.execute(f"CREATE DATABASE {name}")
    con.close()
    return re.sub(r"/[^/?]+(\?|$)", f"/{name}\\1", PG_URL, count=1) if "://" in PG_URL else PG_URL + f" dbname={name}"


def run(*args, env=None, input=None, timeout=600):
    """Runs strata; returns (exit code, stdout, stderr) with text decoded leniently."""
    full_env = dict(os.environ)
    full_env.pop("STRATA_DATABASE_URL", None)
    if env:
        full_env.update(env)
    p = subprocess.run([STRATA, *args], capture_output=True, env=full_env, input=input, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")


def shown_text(v):
    """Excel and LibreOffice decode _xHHHH_ in every string (ECMA-376 Part 1, 22.9.2.19); openpyxl 3.0
    does so for shared strings only, not for inline ones: decode here as Excel would."""
    if isinstance(v, str):
        return ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), v)
    return v


def read_xlsx(path):
    """Every sheet as (name, list of row tuples), through openpyxl's read-only reader."""
    wb = openpyxl.load_workbook(path, read_only=True)
    sheets = [(ws.title, [tuple(shown_text(v) for v in r) for r in ws.iter_rows(values_only=True)])
              for ws in wb.worksheets]
    wb.close()
    return sheets


def excel_text(s):
    """What a text value becomes in a cell: forbidden characters dropped, cut at 32,767 UTF-16 units."""
    out, units = [], 0
    for ch in s:
        if ord(ch) in FORBIDDEN:
            continue
        u = 2 if ord(ch) > 0xFFFF else 1
        if units + u > MAX_CELL:
            break
        out.append(ch)
        units += u
    return "".join(out)


def excel_value(v):
    """The value openpyxl must read back for a database value v (as the Python driver returns it)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v if abs(v) < 10**15 else str(v)  # Excel keeps 15 digits of a number
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, decimal.Decimal):
        if not v.is_finite():
            return "NaN"
        digits = v.as_tuple().digits
        significant = len(str(int("".join(map(str, digits)) or "0")).rstrip("0") or "0")
        return float(v) if significant <= 15 else str(v)
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        if v < datetime.datetime(1900, 1, 1):
            return v.strftime("%Y-%m-%d %H:%M:%S") + (f".{v.microsecond:06d}".rstrip("0") if v.microsecond else "")
        return v
    if isinstance(v, datetime.date):
        if v < datetime.date(1900, 1, 1):
            return v.isoformat()
        return datetime.datetime(v.year, v.month, v.day)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(v).hex()
    if isinstance(v, str):
        return excel_text(v)
    return excel_text(str(v))


def assert_cells_equal(test, got, want, where):
    """One cell: datetimes within a millisecond (a serial is a double), floats to 15 digits."""
    if isinstance(want, datetime.datetime) and isinstance(got, datetime.datetime):
        test.assertLessEqual(abs((got - want).total_seconds()), 0.001, where)
    elif isinstance(want, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        test.assertTrue(math.isclose(got, want, rel_tol=1e-15, abs_tol=0.0), f"{where}: {got!r} != {want!r}")
    else:
        test.assertEqual(got, want, where)


def assert_sheet_matches(test, sheet_rows, header, db_rows):
    test.assertEqual(tuple(sheet_rows[0]), tuple(header))
    test.assertEqual(len(sheet_rows) - 1, len(db_rows))
    for r, (got_row, db_row) in enumerate(zip(sheet_rows[1:], db_rows), start=2):
        got_row = tuple(got_row) + (None,) * (len(header) - len(got_row))
        for c, (got, v) in enumerate(zip(got_row, db_row)):
            assert_cells_equal(test, got, excel_value(v), f"row {r}, column {header[c]}: db value {v!r}")


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="strata_e2e_")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp, name)

    def adhoc_sqlite(self, sql):
        """An empty SQLite file and a query file holding sql: the arguments for an ad hoc export."""
        import sqlite3
        db, q = self.path("db.sqlite"), self.path("q.sql")
        sqlite3.connect(db).close()
        with open(q, "w") as f:
            f.write(sql)
        return ["--database", "sqlite:" + db, "--sql", q]

    def assertNothingWritten(self, output):
        """A failed or cancelled export left neither its file nor a hidden temporary one."""
        self.assertFalse(os.path.exists(output), "a failed export left its file")
        self.assertEqual([f for f in os.listdir(os.path.dirname(output)) if f.endswith(".partial")], [])


def free_port():
    """A TCP port on the loopback that nothing listens on now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(what, predicate, timeout=60, every=0.05):
    """predicate()'s first true value, asked every `every` seconds; AssertionError after `timeout`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting for " + what)
