"""strata generate: deterministic, production-shaped data, the same on SQLite and PostgreSQL.
Every property is measured by SQL on the generated database."""

import datetime
import decimal
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import time
import unittest

from strata_e2e import PG_URL, STRATA, TempDirTest, run

TABLES = ["admins", "members", "products", "orders", "order_items", "payments", "refunds"]
FOREIGN_KEYS = [("members", "admin_id", "admins"), ("products", "admin_id", "admins"),
                ("orders", "admin_id", "admins"), ("orders", "member_id", "members"),
                ("order_items", "order_id", "orders"), ("order_items", "product_id", "products"),
                ("payments", "order_id", "orders"), ("refunds", "payment_id", "payments")]


def generate(url, scale, seed=42, *extra):
    code, _, err = run("generate", "--database", url, "--scale", str(scale), "--seed", str(seed), *extra)
    if code != 0:
        raise AssertionError(f"strata generate failed ({code}): {err}")
    return err


MONEY = {"unit_price", "amount"}

# The admins unusual in their values, and for each the admins (admin_id) holding its values.
VALUE_KINDS = {
    "guest_orders": "select admin_id from orders where member_id is null",
    "rare_status": "select admin_id from orders where status = 'disputed'",
    "chargebacks": "select o.admin_id from payments p join orders o on o.id = p.order_id where p.amount < 0",
    "zeros": "select o.admin_id from order_items i join orders o on o.id = i.order_id where i.quantity = 0",
    "duplicate_refs": "select admin_id from orders group by admin_id, external_ref having count(*) > 1",
    "null_methods": "select o.admin_id from payments p join orders o on o.id = p.order_id where p.method is null",
    "over_refunds": """select o.admin_id from refunds r join payments p on p.id = r.payment_id
                       join orders o on o.id = p.order_id where r.amount > p.amount""",
}


def normalise(v, column=""):
    """One spelling for a value from either database: money in cents, instants in UTC. (SQLite
    stores 403.00 in a NUMERIC column as the integer 403.)"""
    if column in MONEY and v is not None:
        return round(float(v) * 100)
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (float, decimal.Decimal)):
        return round(float(v) * 100)
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return v.isoformat(sep=" ")
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, str) and len(v) >= 22 and v[19] in "+-" and v[4] == "-":  # SQLite timestamptz text
        return normalise(datetime.datetime.fromisoformat(v))
    if isinstance(v, str) and len(v) == 19 and v[4] == "-" and v[10] == " ":
        return datetime.datetime.fromisoformat(v).isoformat(sep=" ")
    return v


def sqlite_rows(db, table):
    con = sqlite3.connect(db)
    cur = con.execute(f"select * from {table} order by id")
    names = [d[0] for d in cur.description]
    rows = [tuple(normalise(v, c) for v, c in zip(r, names)) for r in cur]
    con.close()
    return rows


def checksum(db):
    h = hashlib.sha256()
    for t in TABLES:
        for r in sqlite_rows(db, t):
            h.update(repr(r).encode())
    return h.hexdigest()


class GenerateTest(TempDirTest):
    def test_same_seed_same_database(self):
        a, b, c = self.path("a.db"), self.path("b.db"), self.path("c.db")
        generate("sqlite:" + a, 0.02)
        generate("sqlite:" + b, 0.02)
        generate("sqlite:" + c, 0.02, 7)
        self.assertEqual(checksum(a), checksum(b))
        self.assertNotEqual(checksum(a), checksum(c))
        self.assertEqual([f for f in os.listdir(self.tmp) if "generating" in f], [])

    def test_shape_of_production_at_scale_1(self):
        db = self.path("demo.db")
        err = generate("sqlite:" + db, 1)
        self.assertIn("generated", err)
        con = sqlite3.connect(db)
        q = lambda sql, *a: con.execute(sql, a).fetchall()
        one = lambda sql, *a: con.execute(sql, a).fetchone()[0]

        # A heavy tail: the largest admin has at least 1000x the median admin's orders.
        per_admin = sorted(n for (n,) in q("select (select count(*) from orders o where o.admin_id = a.id) from admins a"))
        median = per_admin[len(per_admin) // 2]
        self.assertGreaterEqual(per_admin[-1], 1000 * median, f"largest {per_admin[-1]}, median {median}")

        # Large admins have more members and more orders per member.
        typical = q("""select count(distinct m.id), count(o.id) * 1.0 / count(distinct m.id)
                       from admins a join members m on m.admin_id = a.id left join orders o on o.member_id = m.id
                       where a.profile = 'typical' group by a.id order by 1""")
        small, large = typical[: len(typical) // 2], typical[-10:]
        self.assertGreater(min(r[1] for r in large), 2 * max(r[1] for r in small[:10]))

        kind = lambda name: one("select id from admins where profile = ?", name)
        self.assertEqual(one("select count(*) from members where admin_id = ?", kind("empty")), 0)
        self.assertGreater(one("select count(*) from members where admin_id = ?", kind("no_orders")), 0)
        self.assertEqual(one("select count(*) from orders where admin_id = ?", kind("no_orders")), 0)
        self.assertGreaterEqual(one("""select count(p.id) * 1.0 / count(distinct o.id) from orders o
                                       join payments p on p.order_id = o.id where o.admin_id = ?""",
                                    kind("installments")), 10)
        self.assertGreaterEqual(one("""select count(distinct r.payment_id) * 1.0 / count(distinct p.id)
                                       from orders o join payments p on p.order_id = o.id
                                       left join refunds r on r.payment_id = p.id where o.admin_id = ?""",
                                    kind("refunds")), 0.6)
        self.assertGreaterEqual(one("""select max(n) from (select count(*) n from refunds r join payments p
                                       on p.id = r.payment_id join orders o on o.id = p.order_id
                                       where o.admin_id = ? group by r.payment_id)""", kind("refunds")), 2)
        self.assertGreaterEqual(one("""select count(oi.id) * 1.0 / count(distinct o.id) from orders o
                                       join order_items oi on oi.order_id = o.id where o.admin_id = ?""",
                                    kind("bulk_items")), 30)
        self.assertGreaterEqual(one("select count(*) * 1.0 / count(distinct member_id) from orders where admin_id = ?",
                                    kind("few_members_many_orders")), 1000)
        self.assertGreaterEqual(one("select avg(country is null) from members where admin_id = ?", kind("nulls")), 0.8)
        self.assertGreaterEqual(one("select max(length(display_name)) from members where admin_id = ?",
                                    kind("long_text")), 1000)
        self.assertEqual(one("select min(ordered_at) < '1951' and max(ordered_at) >= '2090' from orders "
                             "where admin_id = ?", kind("far_dates")), 1)
        self.assertGreaterEqual(one("select count(distinct substr(placed_at, 20)) from orders where admin_id = ?",
                                    kind("time_zones")), 8)
        # Typical data looks typical: dates in 2023-2025, one payment per paid order.
        self.assertEqual(one("select count(*) from orders o join admins a on a.id = o.admin_id "
                             "where a.profile = 'typical' and (ordered_at < '2023' or ordered_at >= '2025-07')"), 0)

        # Referential integrity: every foreign key resolves (a guest order has no member to resolve).
        for child, column, parent in FOREIGN_KEYS:
            self.assertEqual(one(f"select count(*) from {child} c left join {parent} p on p.id = c.{column} "
                                 f"where c.{column} is not null and p.id is null"), 0, f"{child}.{column}")
        # Money adds up: a paid order's payments sum to its items' total (negated if charged back).
        self.assertEqual(one("""select count(*) from (
                                  select o.id, a.profile, (select sum(quantity * unit_price) from order_items where order_id = o.id) t,
                                         (select sum(amount) from payments where order_id = o.id) p
                                  from orders o join admins a on a.id = o.admin_id
                                  where o.status not in ('pending', 'cancelled'))
                                where abs(t - p) > 0.005 and not (profile = 'chargebacks' and abs(t + p) < 0.005)"""), 0)

        # The admins unusual in their values are typical in size: admins of the typical kind are
        # both larger and smaller in members and in orders.
        sizes = q("""select a.profile, (select count(*) from members m where m.admin_id = a.id),
                            (select count(*) from orders o where o.admin_id = a.id) from admins a""")
        typical_sizes = [(m, o) for p, m, o in sizes if p == "typical"]
        for profile, members, orders in sizes:
            if profile not in VALUE_KINDS:
                continue
            for k, n in ((0, members), (1, orders)):
                larger = sum(1 for s in typical_sizes if s[k] > n)
                smaller = sum(1 for s in typical_sizes if s[k] < n)
                self.assertGreaterEqual(min(larger, smaller), len(typical_sizes) // 20, f"{profile}: {n}")
        # Each holds its values, and no other admin does.
        for profile, sql in VALUE_KINDS.items():
            holders = {p for (p,) in q(f"select distinct a.profile from ({sql}) x join admins a on a.id = x.admin_id")}
            self.assertEqual(holders, {profile}, sql)
        con.close()

    def test_the_rewrite_is_wrong_only_for_unusual_admins(self):
        db = self.path("demo.db")
        generate("sqlite:" + db, 0.05)
        con = sqlite3.connect(db)
        kinds = dict(con.execute("select profile, min(id) from admins group by profile"))
        con.close()
        project = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "admin-reports")

        def export(report, admin):
            code, out, err = run("export", "--project", project, "--database", "sqlite:" + db, report,
                                 "-p", f"admin_id={admin}", "-p", "from=1900-01-01", "-p", "to=2100-01-01",
                                 "-o", "-", "--format", "csv", "-q")
            self.assertEqual(code, 0, err)
            return out

        con = sqlite3.connect(db)
        profiles = dict(con.execute("select id, profile from admins"))
        con.close()
        for admin, profile in profiles.items():  # every admin, not a sample
            original = export("member_activity", admin)
            self.assertEqual(export("member_activity_fast", admin), original, f"admin {admin} ({profile})")
            if profile in ("installments", "refunds"):
                self.assertNotEqual(export("member_activity_rewrite", admin), original, f"admin {admin} ({profile})")
            else:
                self.assertEqual(export("member_activity_rewrite", admin), original, f"admin {admin} ({profile})")
        # The long_text admin has a name longer than an Excel cell: the export says it cut it.
        code, _, err = run("export", "--project", project, "--database", "sqlite:" + db, "member_activity",
                           "-p", f"admin_id={kinds['long_text']}", "-o", self.path("long.xlsx"))
        self.assertEqual(code, 0, err)
        self.assertIn("cut to Excel's limit of 32,767 characters", err)

    @unittest.skipUnless(PG_URL, "STRATA_TEST_PG is not set")
    def test_sqlite_and_postgres_hold_the_same_rows(self):
        import psycopg2
        con = psycopg2.connect(PG_URL)
        con.autocommit = True  # CREATE DATABASE cannot run in a transaction
        with con.cursor() as cur:
            cur.execute("drop database if exists strata_generate_test")
            cur.execute("create database strata_generate_test")
        con.close()
        pg = PG_URL.rsplit("/", 1)[0] + "/strata_generate_test"
        db = self.path("same.db")
        generate("sqlite:" + db, 0.02)
        generate(pg, 0.02)
        with psycopg2.connect(pg) as con, con.cursor() as cur:
            for t in TABLES:
                cur.execute(f"select * from {t} order by id")
                names = [d[0] for d in cur.description]
                pg_rows = [tuple(normalise(v, c) for v, c in zip(r, names)) for r in cur.fetchall()]
                self.assertEqual(pg_rows, sqlite_rows(db, t), t)
            cur.execute("select count(*) from pg_constraint where contype = 'f' and connamespace = 'public'::regnamespace")
            self.assertEqual(cur.fetchone()[0], len(FOREIGN_KEYS))
            cur.execute("select count(*) from pg_stats where tablename = 'orders'")
            self.assertGreater(cur.fetchone()[0], 0, "ANALYZE ran")
            cur.execute("select id, profile from admins")
            profiles = dict(cur.fetchall())
        con.close()
        project = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "admin-reports")
        for admin, profile in profiles.items():
            outputs = []
            for report in ("member_activity", "member_activity_fast", "member_activity_rewrite"):
                code, out, err = run("export", "--project", project, "--database", pg, report, "-p", f"admin_id={admin}",
                                     "-p", "from=1900-01-01", "-p", "to=2100-01-01", "-o", "-", "--format", "csv", "-q")
                self.assertEqual(code, 0, err)
                outputs.append(out)
            self.assertEqual(outputs[1], outputs[0], f"fast, admin {admin} ({profile})")
            self.assertEqual(outputs[2] == outputs[0], profile not in ("installments", "refunds"), f"admin {admin}")

    def test_tenants_apart_from_the_scale(self):
        db = self.path("t.db")
        generate("sqlite:" + db, 0.01, 42, "--tenants", "40")
        con = sqlite3.connect(db)
        kinds = dict(con.execute("select profile, count(*) from admins group by profile"))
        largest = con.execute("select max(n) from (select count(*) n from members group by admin_id)").fetchone()[0]
        con.close()
        self.assertEqual(kinds.pop("typical"), 40)
        self.assertEqual(set(kinds.values()), {1})  # one of each unusual kind
        self.assertIn("guest_orders", kinds)
        self.assertEqual(largest, 200)  # sizes still come from the scale: 20,000 x 0.01 members at most
        code, _, err = run("generate", "--database", "sqlite:" + self.path("u.db"), "--tenants", "-3")
        self.assertEqual(code, 2, err)
        self.assertIn("--tenants", err)

    def test_never_replaces_what_it_did_not_make(self):
        precious = self.path("precious.db")
        con = sqlite3.connect(precious)
        con.execute("create table orders (id int)")
        con.execute("insert into orders values (1)")
        con.commit()
        con.close()
        code, _, err = run("generate", "--database", "sqlite:" + precious, "--scale", "0.01")
        self.assertEqual(code, 2, err)
        self.assertIn("--replace", err)
        self.assertEqual(sqlite3.connect(precious).execute("select count(*) from orders").fetchone()[0], 1)
        generate("sqlite:" + precious, 0.01, 42, "--replace")
        generate("sqlite:" + precious, 0.01)  # its own database: replaced without asking

    def test_the_environment_database_is_not_a_target(self):
        project = self.path("proj")
        os.mkdir(project)
        with open(os.path.join(project, "strata.toml"), "w") as f:
            f.write('[database]\nurl = "sqlite:gen.db"\n[tenant]\nparam = "admin_id"\n')
        other = self.path("other.db")
        code, _, err = run("generate", "--project", project, "--scale", "0.01",
                           env={"STRATA_DATABASE_URL": "sqlite:" + other})
        self.assertEqual(code, 0, err)
        self.assertTrue(os.path.exists(os.path.join(project, "gen.db")))
        self.assertFalse(os.path.exists(other))

    def test_a_stale_write_ahead_log_cannot_hide_the_new_file(self):
        target = self.path("w.db")
        generate("sqlite:" + target, 0.01)
        # Leave a -wal from another database beside the target, as a crashed writer would.
        other = self.path("other.db")
        con = sqlite3.connect(other)
        con.execute("pragma journal_mode = wal")
        con.execute("pragma wal_autocheckpoint = 0")
        con.execute("create table junk (x)")
        con.commit()
        shutil.copy(other + "-wal", target + "-wal")
        con.close()
        # With a foreign log the target no longer reads as a generated database: replacing it takes
        # --replace, and afterwards the log must not shadow the new file.
        generate("sqlite:" + target, 0.01, 7, "--replace")
        self.assertFalse(os.path.exists(target + "-wal"))
        self.assertGreater(sqlite3.connect(target).execute("select count(*) from members").fetchone()[0], 0)

    def test_interrupt_publishes_nothing(self):
        target = self.path("big.db")
        p = subprocess.Popen([STRATA, "generate", "--database", "sqlite:" + target, "--scale", "3"],
                             stderr=subprocess.PIPE)
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 130, err)
        self.assertIn(b"the database was not changed", err)
        self.assertEqual(os.listdir(self.tmp), [])

    @unittest.skipUnless(PG_URL, "STRATA_TEST_PG is not set")
    def test_postgres_user_tables_are_not_dropped(self):
        import psycopg2
        con = psycopg2.connect(PG_URL)
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute("drop database if exists strata_user_db")
            cur.execute("create database strata_user_db")
        con.close()
        url = PG_URL.rsplit("/", 1)[0] + "/strata_user_db"
        with psycopg2.connect(url) as con, con.cursor() as cur:
            cur.execute("create table orders (id int); create view big_orders as select * from orders")
        con.close()
        code, _, err = run("generate", "--database", url, "--scale", "0.01")
        self.assertEqual(code, 2, err)
        self.assertIn("--replace", err)
        code, _, err = run("generate", "--database", url, "--scale", "0.01", "--replace")
        self.assertEqual(code, 3, err)  # the user's view depends on orders: no CASCADE, so it stays
        self.assertIn("big_orders", err)
        with psycopg2.connect(url) as con, con.cursor() as cur:
            cur.execute("select count(*) from big_orders")
        con.close()

    def test_bad_arguments_and_unreachable_database(self):
        code, _, err = run("generate", "--database", "sqlite:" + self.path("x.db"), "--scale", "0")
        self.assertEqual(code, 2, err)
        self.assertIn("--scale must be above 0", err)
        self.assertFalse(os.path.exists(self.path("x.db")))
        code, _, err = run("generate", "--database", "postgresql://nobody@127.0.0.1:1/db", "--scale", "0.01")
        self.assertEqual(code, 3, err)
        code, _, err = run("generate", "--scale", "1")
        self.assertEqual(code, 2, err)


if __name__ == "__main__":
    unittest.main()
