"""The CLI's contract for people and scripts: listing reports, where the database comes from,
exit codes (0 done, 2 usage or config, 3 database, 130 interrupted) with one clear line each, and
no file left behind by a failure."""

import hashlib
import os
import pathlib
import re
import signal
import sqlite3
import subprocess
import time
import unittest

from strata_e2e import STRATA, TempDirTest, read_xlsx, run

TOML = """[database]
url = "sqlite:db.sqlite"
statement_timeout = "1min"

[tenant]
param = "admin_id"

[reports.orders]
title = "Orders"
sql = "reports/orders.sql"

[reports.orders.params]
admin_id = { type = "bigint" }
since = { type = "date", default = "2024-01-01" }
"""

ORDERS_SQL = """-- one admin's orders since a day
select id, admin_id, placed_on, total
from orders
where admin_id = :admin_id   -- the tenant
  and placed_on >= :since
order by id
"""

SLOW_SQL = ("with recursive n(i) as (select 1 union all select i + 1 from n where i < 500000000) "
            "select i from n where i % 100000000 = 0 and i > :x")


class CliTest(TempDirTest):
    def setUp(self):
        super().setUp()
        os.mkdir(self.path("reports"))
        self.write("strata.toml", TOML)
        self.write("reports/orders.sql", ORDERS_SQL)
        con = sqlite3.connect(self.path("db.sqlite"))
        con.executescript("""
            create table orders (id bigint, admin_id bigint, placed_on date, total numeric(10,2));
            insert into orders values (1, 42, '2023-12-31', 10.5), (2, 42, '2024-01-01', 20.25),
                                      (3, 42, '2024-06-01', 30), (4, 7, '2024-06-01', 99);
        """)
        con.close()

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)

    def export(self, *args, env=None):
        return run("export", "--project", self.tmp, *args, env=env)

    def expect_error(self, code, pattern, result, output=None):
        got_code, _, err = result
        self.assertEqual(got_code, code, err)
        lines = [l for l in err.splitlines() if l]
        self.assertEqual(len(lines), 1, f"one line expected, got: {err!r}")
        self.assertIn(pattern, lines[0])
        if output:
            self.assertNothingWritten(output)
        self.assertEqual([f for f in os.listdir(self.tmp) if f.startswith(".")], [])

    def test_reports_lists_parameters_and_types(self):
        code, out, err = run("reports", "--project", self.tmp)
        self.assertEqual(code, 0, err)
        self.assertIn("orders  — Orders", out)
        self.assertIn("--param admin_id  bigint       tenant, required", out)
        self.assertIn("--param since     date         default 2024-01-01", out)
        code, out, _ = run("reports", "--project", self.tmp, "--json")
        self.assertIn('"type": "bigint"', out)

    def test_export_with_defaults_and_given_values(self):
        out = self.path("o.xlsx")
        code, _, err = self.export("orders", "--param", "admin_id=42", "-o", out)
        self.assertEqual(code, 0, err)
        self.assertIn("wrote 2 rows", err)
        code, _, err = self.export("orders", "--param", "admin_id=7", "-o", self.path("one.xlsx"))
        self.assertIn("wrote 1 row to", err)
        rows = read_xlsx(out)[0][1]
        self.assertEqual([r[0] for r in rows[1:]], [2, 3])
        code, _, err = self.export("orders", "-p", "admin_id=42", "-p", "since=2023-01-01", "-o", out)
        self.assertEqual(len(read_xlsx(out)[0][1]), 4)

    def test_default_output_name_is_report_and_tenant(self):
        p = subprocess.run([STRATA, "export", "orders", "--param", "admin_id=42", "--format", "csv", "-q"],
                           cwd=self.tmp, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(self.path("orders_42.csv")) as f:
            self.assertEqual(f.read().splitlines()[0], "id,admin_id,placed_on,total")

    def test_database_precedence(self):
        other = self.path("other.sqlite")
        con = sqlite3.connect(other)
        con.executescript("create table orders (id bigint, admin_id bigint, placed_on date, total numeric);"
                          "insert into orders values (77, 42, '2024-02-02', 1);")
        con.close()
        env = {"STRATA_DATABASE_URL": "sqlite:" + other}
        code, out, err = self.export("orders", "--param", "admin_id=42", "-o", "-", "--format", "csv", env=env)
        self.assertEqual(code, 0, err)
        self.assertIn("77,42,2024-02-02", out)
        code, out, err = self.export("orders", "--param", "admin_id=42", "-o", "-", "--format", "csv",
                                     "--database", "sqlite:" + self.path("db.sqlite"), env=env)
        self.assertIn("3,42,2024-06-01,30", out)

    def test_csv_to_stdout_piped_to_head(self):
        p = subprocess.Popen([STRATA, "export", "--database", "sqlite:" + self.path("db.sqlite"), "--sql", "-",
                              "-o", "-", "--format", "csv", "-q"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        out, err = p.communicate(b"select * from orders order by id")
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(out.decode().splitlines()[1], "1,42,2023-12-31,10.5")

    def test_broken_toml(self):
        self.write("strata.toml", TOML.replace('title = "Orders"', 'title = "Orders'))
        self.expect_error(2, "strata.toml:9:", self.export("orders", "--param", "admin_id=1"))

    def test_unknown_key(self):
        self.write("strata.toml", TOML.replace("statement_timeout", "statment_timeout"))
        self.expect_error(2, "strata.toml:3:1: unknown key 'statment_timeout' in [database]",
                          self.export("orders", "--param", "admin_id=1"))

    def test_unknown_report_and_parameter(self):
        self.expect_error(2, "no report 'order'", self.export("order", "--param", "admin_id=1"))
        out = self.path("o.xlsx")
        self.expect_error(2, "unknown parameter 'admin' for report 'orders' (its parameters: admin_id, since)",
                          self.export("orders", "--param", "admin=1", "-o", out), out)

    def test_wrong_type(self):
        out = self.path("o.xlsx")
        self.expect_error(2, "parameter since (date): '24-01-01' is not valid: expected a date YYYY-MM-DD",
                          self.export("orders", "--param", "admin_id=1", "--param", "since=24-01-01", "-o", out), out)
        self.expect_error(2, "parameter since (date): '2024-02-30' is not valid: there is no such day",
                          self.export("orders", "--param", "admin_id=1", "--param", "since=2024-02-30", "-o", out), out)
        self.expect_error(2, "--param admin_id is given twice",
                          self.export("orders", "--param", "admin_id=1", "--param", "admin_id=2", "-o", out), out)
        self.expect_error(2, "report 'orders' needs --param admin_id=<bigint>", self.export("orders", "-o", out), out)

    def test_sql_error_names_the_place(self):
        self.write("reports/orders.sql", ORDERS_SQL.replace("total", "totl"))
        out = self.path("o.xlsx")
        self.expect_error(3, "reports/orders.sql:2:33: no such column: totl",
                          self.export("orders", "--param", "admin_id=1", "-o", out), out)

    def test_unreachable_databases(self):
        out = self.path("o.xlsx")
        self.expect_error(3, "database from --database: cannot open sqlite:",
                          self.export("orders", "--param", "admin_id=1", "-o", out,
                                      "--database", "sqlite:" + self.path("nope.db")), out)
        self.write("strata.toml", TOML.replace("db.sqlite", "db.sqlit"))
        self.expect_error(3, "strata.toml:2:7: cannot open sqlite:" + self.path("db.sqlit") + ": no such file",
                          self.export("orders", "--param", "admin_id=1", "-o", out), out)
        self.expect_error(3, "cannot connect to postgresql://nobody@127.0.0.1:1/db: connection to server at "
                             "\"127.0.0.1\", port 1 failed: Connection refused; Is the server running",
                          self.export("orders", "--param", "admin_id=1", "-o", out,
                                      "--database", "postgresql://nobody:secret@127.0.0.1:1/db"), out)
        self.expect_error(2, "unrecognised database URL 'mysql://x'",
                          self.export("orders", "--param", "admin_id=1", "-o", out, "--database", "mysql://x"), out)

    def test_bad_flags_are_usage_errors(self):
        self.expect_error(2, "strata: error: The following argument was not expected: --no-such-flag",
                          run("export", "--no-such-flag"))
        self.expect_error(2, "strata: error: unknown command 'frobnicate' (commands: reports, export, check, generate, profile, synth, serve, key, watch, demo",
                          run("frobnicate", "--project", "."))
        self.expect_error(2, "--format csv disagrees with the file name", self.export(
            "orders", "-p", "admin_id=1", "-o", self.path("o.xlsx"), "--format", "csv"))
        self.expect_error(2, "is a directory", self.export("orders", "-p", "admin_id=1", "-o", self.tmp))
        code, out, err = self.export("orders", "-p", "admin_id=42", "-o", "-", "--format", "CSV", "-q")
        self.assertEqual(code, 0, err)
        self.expect_error(2, "cannot tell the format", self.export("orders", "-p", "admin_id=1", "-o",
                                                                   self.path("o.txt")))
        self.expect_error(2, "--compression takes 0", self.export("orders", "-p", "admin_id=1", "-o",
                                                                  self.path("o.xlsx"), "--compression", "9"))

    def test_key_new_prints_a_key_and_its_hash(self):
        keys = set()
        for _ in range(2):
            code, out, err = run("key", "new", "--tenant", "0042", "--project", self.tmp)
            self.assertEqual(code, 0, err)
            key = re.search(r"^key: (strata_[A-Za-z0-9_-]{43})$", out, re.M).group(1)
            keys.add(key)
            self.assertIn(f'sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"\ntenant = 42\n', out)
            self.assertIn("strata.toml:", out)
        self.assertEqual(len(keys), 2, "the same key twice")
        code, out, err = run("key", "new", "--service")
        self.assertEqual(code, 0, err)
        self.assertIn('role = "service"', out)
        self.expect_error(2, "--tenant forty: admin_id is a bigint", run("key", "new", "--tenant", "forty",
                                                                         "--project", self.tmp))
        self.expect_error(2, "--tenant VALUE or --service", run("key", "new"))
        code, _, _ = run("key", "new", "--tenant", "1", "--service")
        self.assertEqual(code, 2)

    def test_key_new_appends_its_lines_to_strata_toml(self):
        config = os.path.join(self.tmp, "strata.toml")
        before = pathlib.Path(config).read_text()
        try:
            self.appends_and_keeps_a_broken_file(config, before)
        finally:
            with open(config, "w") as f:
                f.write(before)

    def appends_and_keeps_a_broken_file(self, config, before):
        """--append adds the lines; a project that does not load is left exactly as it was."""
        code, out, err = run("key", "new", "--tenant", "7", "--project", self.tmp, "--append")
        self.assertEqual(code, 0, err)
        key = re.search(r"^key: (strata_[A-Za-z0-9_-]{43})$", out, re.M).group(1)
        self.assertIn("# added to", out)
        after = pathlib.Path(config).read_text()
        self.assertTrue(after.startswith(before))
        self.assertIn(f'[[serve.keys]]\nsha256 = "{hashlib.sha256(key.encode()).hexdigest()}"\ntenant = 7\n', after)
        code, _, err = run("reports", "--project", self.tmp)
        self.assertEqual(code, 0, err)  # the project still loads, with the key in it
        # --append needs --project; a project that would no longer load is left as it was.
        code, _, _ = run("key", "new", "--tenant", "7", "--append")
        self.assertEqual(code, 2)
        with open(config, "w") as f:
            f.write(before + "\n[serve]\nkeys = []\n")  # keys must be [[serve.keys]] tables
        broken = pathlib.Path(config).read_text()
        code, _, err = run("key", "new", "--tenant", "7", "--project", self.tmp, "--append")
        self.assertEqual(code, 2)
        self.assertEqual(pathlib.Path(config).read_text(), broken)

    def test_statement_timeout(self):
        self.write("q.sql", SLOW_SQL)
        out = self.path("o.xlsx")
        self.expect_error(3, "canceled by the statement timeout of 200ms",
                          run("export", "--database", "sqlite:" + self.path("db.sqlite"), "--sql", self.path("q.sql"),
                              "-p", "x=0", "-o", out, "--timeout", "200ms"), out)

    def test_progress_line_on_a_terminal_only(self):
        import pty
        self.write("q.sql", "with recursive n(i) as (select 1 union all select i + 1 from n where i < 3000000) "
                            "select i, i * 2 from n where i > :x")
        args = [STRATA, "export", "--database", "sqlite:" + self.path("db.sqlite"), "--sql", self.path("q.sql"),
                "-p", "x=0", "-o", self.path("p.csv")]
        leader, follower = pty.openpty()
        p = subprocess.Popen(args, stderr=follower, stdout=subprocess.DEVNULL)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed when strata ended
                break
            if not chunk:
                break
            shown += chunk
        os.close(leader)
        self.assertEqual(p.wait(timeout=60), 0, shown)
        self.assertRegex(shown.decode(), r"\r\x1b\[K  [0-9,]+ rows  [0-9,]+ rows/s  [0-9.]+ [kMG]?B  0:0[0-9]")
        self.assertIn(b"wrote 3,000,000 rows", shown)
        # Not a terminal: no progress line, only the summary.
        code, _, err = run(*args[1:])
        self.assertEqual(code, 0, err)
        self.assertNotIn("rows/s", err)

    def test_interrupt_leaves_no_file(self):
        self.write("q.sql", SLOW_SQL)
        out = self.path("o.xlsx")
        p = subprocess.Popen([STRATA, "export", "--database", "sqlite:" + self.path("db.sqlite"), "--sql",
                              self.path("q.sql"), "-p", "x=0", "-o", out], stderr=subprocess.PIPE)
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 130, err)
        self.assertIn(b"interrupted; no file was written", err)
        self.assertNothingWritten(out)


if __name__ == "__main__":
    unittest.main()
