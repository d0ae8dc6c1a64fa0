"""strata export on a real throwaway PostgreSQL (started by scripts/pg.sh; STRATA_TEST_PG names it):
typed values read back by openpyxl and compared cell by cell with what psycopg2 returns, both row
streaming modes, the statement timeout, Ctrl-C, and a database that goes away mid-export."""

import os
import signal
import subprocess
import time
import unittest

import psycopg2

from strata_e2e import PG_URL, STRATA, TempDirTest, assert_sheet_matches, read_xlsx, run

SETUP = r"""
drop table if exists pg_cells;
create table pg_cells (
  id int primary key, label text, n bigint, small smallint, x double precision, r real, amount numeric,
  day date, at timestamp, at_tz timestamptz, flag boolean, data bytea, doc jsonb, uid uuid, span interval,
  tags text[], code varchar(10), fixed char(4));
insert into pg_cells values
  (1, 'plain', 1, 1, 0.1, 0.5, 12.50, '2024-02-29', '2024-02-29 10:11:12.345678', '2024-02-29 10:11:12+09',
   true, '\x00ff', '{"a": [1, "김"]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 day 02:03:04', '{a,"b c"}', 'v', 'ab'),
  (2, '김민준 😀 café', 9007199254740993, -32768, 'NaN', 'Infinity', 12345678901234567890.123456789,
   '1900-01-01', '1900-02-28 23:59:59', '1900-03-01 00:00:00+00', false, '', 'null', null, '-1 mons', '{}', '', 'x'),
  (3, E'ctrl\x01\x0bchars\r\nand _x0041_', -9223372036854775808, 0, '-Infinity', -0, 'NaN',
   '1899-12-31', '0044-03-15 12:00:00 BC', '9999-12-31 23:59:59+00', null, null, null, null, null, null, null, null),
  (4, '=cmd|'' /C calc''!A0', 9223372036854775807, 32767, 1e300, 1e-30, -0.000000000000001,
   'infinity', '-infinity', 'infinity', true, '\xdeadbeef', '"x"', null, '00:00:00.5', '{NULL}', 'z', 'zz'),
  (5, repeat('가', 40000), 0, 0, 0, 0, 0, '2000-01-01', '2000-01-01', '2000-01-01 00:00:00-05', false, null, null,
   null, null, null, null, null),
  (6, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
"""


def _as_text_or(parse):
    """A psycopg2 caster: values Python cannot hold (BC, infinity) stay as PostgreSQL prints them."""
    def cast(value, cur):
        if value is None:
            return None
        if "BC" in value or "infinity" in value:
            return value
        return parse(value)
    return cast


def _register_casters():
    import datetime
    ext = psycopg2.extensions
    ext.register_type(ext.new_type((1082,), "STRATA_DATE", _as_text_or(datetime.date.fromisoformat)))
    ext.register_type(ext.new_type((1114,), "STRATA_TS", _as_text_or(datetime.datetime.fromisoformat)))
    ext.register_type(ext.new_type((1184,), "STRATA_TSTZ", _as_text_or(datetime.datetime.fromisoformat)))
    # interval, json, jsonb, text[], uuid: Strata exports their text form.
    ext.register_type(ext.new_type((1186, 114, 3802, 1009, 2950), "STRATA_TEXT", lambda v, c: v))


@unittest.skipUnless(PG_URL, "STRATA_TEST_PG is not set (scripts/test.sh starts a throwaway PostgreSQL)")
class PostgresExportTest(TempDirTest):
    @classmethod
    def setUpClass(cls):
        _register_casters()
        with psycopg2.connect(PG_URL) as con, con.cursor() as cur:
            cur.execute(SETUP)

    def query_file(self, sql):
        path = self.path("q.sql")
        with open(path, "w") as f:
            f.write(sql)
        return path

    def db_rows(self, sql, params):
        with psycopg2.connect(PG_URL) as con, con.cursor() as cur:
            cur.execute("set timezone = 'UTC'")
            cur.execute(sql, params)
            return [d[0] for d in cur.description], cur.fetchall()

    def test_xlsx_cell_by_cell_in_both_fetch_modes(self):
        sql = "select * from pg_cells where id >= %s order by id"
        header, rows = self.db_rows(sql, (1,))
        q = self.query_file("select * from pg_cells where id >= :min_id order by id")
        for mode in ("cursor", "single-row"):
            out = self.path(f"{mode}.xlsx")
            code, _, err = run("export", "--database", PG_URL, "--sql", q, "-p", "min_id=1", "-o", out,
                               "--pg-fetch", mode)
            self.assertEqual(code, 0, err)
            self.assertIn("cut to Excel's limit", err)
            sheet = read_xlsx(out)[0][1]
            assert_sheet_matches(self, sheet, header, rows)

    def test_csv_is_exact(self):
        q = self.query_file("select id, amount, at_tz, x, data from pg_cells where id between :a and :b order by id")
        code, out, err = run("export", "--database", PG_URL, "--sql", q, "-p", "a=1", "-p", "b=4", "-o", "-",
                             "--format", "csv", "-q")
        self.assertEqual(code, 0, err)
        self.assertEqual(out.split("\r\n"), [
            "id,amount,at_tz,x,data",
            "1,12.50,2024-02-29 01:11:12+00,0.1,\\x00ff",
            "2,12345678901234567890.123456789,1900-03-01 00:00:00+00,NaN,\\x",
            "3,NaN,9999-12-31 23:59:59+00,-Infinity,",
            "4,-0.000000000000001,infinity,1e+300,\\xdeadbeef",
            ""])

    def test_typed_parameters_are_bound_not_spliced(self):
        q = self.query_file("select count(*) as n from pg_cells where label = :label or day = :day or at_tz <= :t")
        code, out, err = run("export", "--database", PG_URL, "--sql", q, "-p", "label:text=x' or '1'='1",
                             "-p", "day=2024-02-29", "-p", "t:timestamptz=2000-01-01 06:00:00+01", "-o", "-",
                             "--format", "csv", "-q")
        self.assertEqual(code, 0, err)
        # rows 1 (the day), 2 (1900) and 5 (2000-01-01 00:00-05 is exactly 06:00+01)
        self.assertEqual(out.split("\r\n")[1], "3")

    def test_error_position_and_one_line(self):
        q = self.query_file("select id,\n       :x + nope\nfrom pg_cells")
        code, _, err = run("export", "--database", PG_URL, "--sql", q, "-p", "x=1", "-o", self.path("o.csv"))
        self.assertEqual(code, 3)
        self.assertIn("q.sql:2:13: column \"nope\" does not exist", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertFalse(os.path.exists(self.path("o.csv")))

    def test_read_only(self):
        q = self.query_file("delete from pg_cells where id = :id returning id")
        code, _, err = run("export", "--database", PG_URL, "--sql", q, "-p", "id=1", "-o", self.path("o.csv"))
        self.assertEqual(code, 3)
        self.assertIn("a report must be one query", err)

    def test_statement_timeout(self):
        q = self.query_file("select pg_sleep(:s)")
        code, _, err = run("export", "--database", PG_URL, "--sql", q, "-p", "s=10", "-o", self.path("o.csv"),
                           "--timeout", "200ms")
        self.assertEqual(code, 3, err)
        self.assertIn("canceling statement due to statement timeout", err)

    def test_interrupt_cancels_the_query(self):
        q = self.query_file("select pg_sleep(:s)")
        out = self.path("o.xlsx")
        start = time.monotonic()
        p = subprocess.Popen([STRATA, "export", "--database", PG_URL, "--sql", q, "-p", "s=60", "-o", out],
                             stderr=subprocess.PIPE)
        time.sleep(1)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 130, err)
        self.assertLess(time.monotonic() - start, 20)
        self.assertFalse(os.path.exists(out))
        with psycopg2.connect(PG_URL) as con, con.cursor() as cur:
            cur.execute("select count(*) from pg_stat_activity where query like '%pg_sleep(%' and pid <> pg_backend_pid()")
            self.assertEqual(cur.fetchone()[0], 0, "the query still runs on the server")

    def test_database_going_away_mid_export(self):
        q = self.query_file("select i, pg_sleep(0.0005) from generate_series(1, :n) i")
        for mode in ("cursor", "single-row"):
            out = self.path(f"{mode}.xlsx")
            p = subprocess.Popen([STRATA, "export", "--database", PG_URL + "?application_name=strata_victim",
                                  "--sql", q, "-p", "n=200000", "-o", out, "--pg-fetch", mode], stderr=subprocess.PIPE)
            time.sleep(1.5)
            with psycopg2.connect(PG_URL) as con, con.cursor() as cur:
                cur.execute("select pg_terminate_backend(pid) from pg_stat_activity "
                            "where application_name = 'strata_victim'")
                self.assertEqual(cur.rowcount, 1)
            _, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 3, err)
            self.assertIn(b"terminating connection due to administrator command", err)
            self.assertNothingWritten(out)


if __name__ == "__main__":
    unittest.main()
