"""strata profile and strata synth: a profile of a database holds its shape and none of its private
text, and a synthetic database made from it has the same schema, every foreign key holding, and
the unusual tenants the profile kept, each with its rows. Three ways: PostgreSQL to PostgreSQL (a
hard schema: enum, domain, uuid, jsonb, char(3), text[], composite keys, a self-reference, CHECKs,
an expression and a partial index, a partitioned table; tests/e2e/data/hard_schema.sql), PostgreSQL
to SQLite, SQLite to SQLite (with --seed and --scale); and the errors for bad input. Every property
is measured by SQL on the databases, never taken from strata's own output alone."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

from strata_e2e import PG_URL, STRATA as STRATA_BIN, TempDirTest, fresh_database, run

HERE = os.path.dirname(os.path.abspath(__file__))
HARD_SCHEMA = os.path.join(HERE, "data", "hard_schema.sql")

# The fixtures' tables (every table but the tenant table has admin_id) and their unusual admins.
TABLES = ["admins", "members", "products", "orders", "order_items", "events"]
PARTITIONS = {"events_2023", "events_2024", "events_2025"}
STATUSES = ["pending", "paid", "shipped", "refunded", "disputed"]
PG_HEAVY, PG_NULL_MEMBER, PG_RARE_STATUS = "7", "13", "21"  # as hard_schema.sql makes them
SQLITE_TABLES = ["admins", "members", "orders", "order_items"]
SQLITE_HEAVY, SQLITE_RARE_STATUS, SQLITE_NULL_MEMBER = "3", "5", "8"
FIRST = ["alice", "bruno", "chiara", "dmitri", "elena", "farid", "greta", "hiro", "ines", "jonas"]
LAST = ["smith", "okafor", "rossi", "novak", "tanaka", "garcia", "muller", "dubois", "kowalski", "silva"]


def bare(name):
    """A table's name without its schema: "public.orders" and "orders" are the same table here."""
    return name.split(".")[-1]


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def within(test, got, want, what, tolerance=0.10):
    """got is within tolerance of want (and at least one row of slack, for the smallest counts)."""
    test.assertLessEqual(abs(got - want), max(1.0, tolerance * want), f"{what}: {got} rows, want {want} +-10%")


def key(tenant):
    """A tenant value as the drivers should bind it: the profile holds tenants as text."""
    return int(tenant) if re.fullmatch(r"-?[0-9]+", tenant) else tenant


def profile_tables(profile):
    return {bare(t["name"]): t for t in profile["tables"]}


def profile_foreign_keys(profile, tables):
    """(table, columns, parent, parent columns) of every foreign key the profile holds for tables."""
    return {(bare(t["name"]), tuple(fk["columns"]), bare(fk["parent"]), tuple(fk["parent_columns"]))
            for t in profile["tables"] if bare(t["name"]) in tables for fk in t["foreign_keys"]}


def assert_kept_tenants(test, profile, count, skip=()):
    """Each tenant the profile kept has, in the synthetic database, its row in the tenant table and
    its profiled rows in every table within 10%. count(table, tenant) counts a tenant's rows."""
    test.assertTrue(profile["tenants"], "the profile kept no tenant")
    tenant_table = bare(profile["tenant"]["table"])
    for t in profile["tenants"]:
        test.assertEqual(count(tenant_table, t["tenant"]), 1, f"tenant {t['tenant']} lost its value")
        for table, rows in t["rows"].items():
            if bare(table) in skip:
                continue
            within(test, count(bare(table), t["tenant"]), rows, f"tenant {t['tenant']}, {table}")


def tenant_counter(query, tenant_table, tenant_key, placeholder):
    """count(table, tenant) over query(sql, params) -> first value."""
    def count(table, tenant):
        column = tenant_key if table == tenant_table else "admin_id"
        return query(f"SELECT count(*) FROM {table} WHERE {column} = {placeholder}", (key(tenant),))
    return count


# --- PostgreSQL -----------------------------------------------------------------------------------

def pg_execute(url, sql):
    import psycopg2
    con = psycopg2.connect(url)
    with con.cursor() as cur:
        cur.execute(sql)
    con.commit()
    con.close()


def pg_rows(url, sql, params=None):
    import psycopg2
    con = psycopg2.connect(url)
    with con.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    con.close()
    return rows


def pg_value(url, sql, params=None):
    return pg_rows(url, sql, params)[0][0]


def drop_database(name):
    import psycopg2
    con = psycopg2.connect(PG_URL)
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    con.close()


def pg_schema(url):
    """What a database's public schema declares, in forms that do not depend on object names or
    creation order: each a set, compared source against synthetic."""
    public = "n.nspname = 'public'"
    index_name = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?")
    return {
        "tables": set(pg_rows(url, f"""SELECT c.relname, c.relkind FROM pg_class c
                                       JOIN pg_namespace n ON n.oid = c.relnamespace
                                       WHERE {public} AND c.relkind IN ('r', 'p')""")),
        "partition bounds": set(pg_rows(url, f"""SELECT p.relname, c.relname, pg_get_expr(c.relpartbound, c.oid)
                                                 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                                                 JOIN pg_class p ON p.oid = i.inhparent
                                                 JOIN pg_namespace n ON n.oid = c.relnamespace
                                                 WHERE {public} AND c.relispartition""")),
        "identity columns": set(pg_rows(url, f"""SELECT c.relname, a.attname, a.attidentity::text FROM pg_attribute a
                                                 JOIN pg_class c ON c.oid = a.attrelid
                                                 JOIN pg_namespace n ON n.oid = c.relnamespace
                                                 WHERE {public} AND a.attidentity <> ''""")),
        "partition keys": set(pg_rows(url, f"""SELECT c.relname, pg_get_partkeydef(c.oid) FROM pg_class c
                                               JOIN pg_namespace n ON n.oid = c.relnamespace
                                               WHERE {public} AND c.relkind = 'p'""")),
        "enums": set(pg_rows(url, f"""SELECT t.typname, array_to_string(array_agg(e.enumlabel ORDER BY e.enumsortorder), ',')
                                      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
                                      JOIN pg_namespace n ON n.oid = t.typnamespace
                                      WHERE {public} GROUP BY t.typname""")),
        "domains": set(pg_rows(url, f"""SELECT t.typname, format_type(t.typbasetype, t.typtypmod),
                                               pg_get_constraintdef(k.oid)
                                        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                                        LEFT JOIN pg_constraint k ON k.contypid = t.oid
                                        WHERE {public} AND t.typtype = 'd'""")),
        "columns": set(pg_rows(url, f"""SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
                                        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                                        JOIN pg_namespace n ON n.oid = c.relnamespace
                                        WHERE {public} AND c.relkind IN ('r', 'p') AND a.attnum > 0
                                          AND NOT a.attisdropped""")),
        "constraints": set(pg_rows(url, f"""SELECT c.relname, k.contype, pg_get_constraintdef(k.oid)
                                            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
                                            JOIN pg_namespace n ON n.oid = c.relnamespace
                                            WHERE {public} AND k.contype IN ('p', 'u', 'f', 'c')""")),
        "indexes": {index_name.sub(r"CREATE \1INDEX ON ", d)
                    for (d,) in pg_rows(url, "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'")},
    }


def pg_foreign_keys(url):
    """(table, columns, parent, parent columns) of the declared foreign keys, not the copies
    PostgreSQL makes on each partition."""
    return {(t, tuple(c), p, tuple(pc)) for t, c, p, pc in pg_rows(url, """
        SELECT c.relname, array(SELECT attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                                JOIN pg_attribute ON attrelid = k.conrelid AND attnum = u.n ORDER BY u.i),
               p.relname, array(SELECT attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                                JOIN pg_attribute ON attrelid = k.confrelid AND attnum = u.n ORDER BY u.i)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
        WHERE k.contype = 'f' AND k.conparentid = 0 AND k.connamespace = 'public'::regnamespace""")}


@unittest.skipUnless(PG_URL, "STRATA_TEST_PG is not set (scripts/test.sh starts a throwaway PostgreSQL)")
class SynthPostgresTest(TempDirTest):
    """One source database, filled by hard_schema.sql and profiled once; each test synthesises
    from that profile. The databases are dropped at the end."""
    SOURCE, TARGET = "strata_synth_source", "strata_synth_target"

    @classmethod
    def setUpClass(cls):
        cls._class_tmp = tempfile.TemporaryDirectory(prefix="strata_e2e_synth_")
        cls.source = fresh_database(cls.SOURCE)
        with open(HARD_SCHEMA, encoding="utf-8") as f:
            pg_execute(cls.source, f.read())
        cls.profile_path = os.path.join(cls._class_tmp.name, "p.json")
        cls.profiled = run("profile", "--database", cls.source, "--tenant-column", "admin_id",
                           "-o", cls.profile_path)

    @classmethod
    def tearDownClass(cls):
        drop_database(cls.TARGET)
        drop_database(cls.SOURCE)
        cls._class_tmp.cleanup()

    def profile(self):
        code, out, err = self.profiled
        self.assertEqual(code, 0, out + err)
        return load(self.profile_path)

    def source_count(self, table, tenant):
        column = "id" if table == "admins" else "admin_id"
        return pg_value(self.source, f"SELECT count(*) FROM {table} WHERE {column} = %s", (key(tenant),))

    def test_profile_holds_the_shape_and_no_private_text(self):
        profile = self.profile()
        self.assertEqual(profile["format"], "strata-profile/1")
        self.assertEqual(profile["source"]["dialect"], "postgres")
        tenant = profile["tenant"]
        self.assertEqual(tenant["column"], "admin_id")
        self.assertEqual((bare(tenant["table"]), tenant["key"], tenant["count"]), ("admins", "id", 40))

        tables = profile_tables(profile)
        self.assertLessEqual(set(TABLES), set(tables))
        for name in TABLES:
            within(self, tables[name]["rows"], pg_value(self.source, f"SELECT count(*) FROM {name}"), f"rows of {name}")
            self.assertEqual(tables[name]["schema"], "public")
        self.assertEqual(tables["order_items"]["primary_key"], ["order_id", "line_no"])
        self.assertEqual(tables["products"]["primary_key"], ["admin_id", "product_no"])
        self.assertEqual(profile_foreign_keys(profile, TABLES), pg_foreign_keys(self.source))

        # Privacy: not one e-mail address, person's name, admin's or product's name, in any case.
        text = read_text(self.profile_path)
        lowered = text.lower()
        private = [v for (v,) in pg_rows(self.source, """SELECT email FROM members UNION SELECT full_name FROM members
                                                         UNION SELECT name FROM admins UNION SELECT name FROM products""")]
        self.assertGreater(len(private), 5000)
        leaked = [v for v in private if v.lower() in lowered]
        self.assertEqual(leaked[:10], [], f"{len(leaked)} private values are in the profile")
        self.assertNotIn("@example.org", lowered)
        # The statuses are few and each repeated: kept, with their counts, the rare one included.
        status = {c["name"]: c for c in tables["orders"]["columns"]}["status"]
        kept = {v["value"]: v["rows"] for v in status["values"]}
        self.assertEqual(set(kept), set(STATUSES))
        for label, rows in pg_rows(self.source, "SELECT status::text, count(*) FROM orders GROUP BY 1"):
            within(self, kept[label], rows, f"orders with status {label}")
        for label in STATUSES:
            self.assertIn(f'"{label}"', text)

        # The heaviest admin, the only one with guest orders and the only one with the rare status
        # are kept, each with a reason and its rows as they are.
        kept_tenants = {t["tenant"]: t for t in profile["tenants"]}
        print("kept tenants:", {t: "; ".join(k["why"]) for t, k in kept_tenants.items()})
        print("unsupported:", profile["unsupported"])
        for admin in (PG_HEAVY, PG_NULL_MEMBER, PG_RARE_STATUS):
            self.assertIn(admin, kept_tenants)
            self.assertTrue(kept_tenants[admin]["why"], f"admin {admin} kept without a reason")
            for table, rows in kept_tenants[admin]["rows"].items():
                within(self, rows, self.source_count(bare(table), admin), f"profiled rows of admin {admin} in {table}")
        self.assertIsInstance(profile["unsupported"], list)

    def test_synth_into_postgres(self):
        profile = self.profile()
        target = fresh_database(self.TARGET)
        code, out, err = run("synth", "--profile", self.profile_path, "--database", target)
        self.assertEqual(code, 0, out + err)
        print("unsupported:", profile["unsupported"])

        # The schema: tables and partitions, the enum and the domain, column types, keys, CHECKs,
        # indexes (the expression and the partial one by name of what they index).
        source, synthetic = pg_schema(self.source), pg_schema(target)
        for what in source:
            self.assertEqual(sorted(source[what] - synthetic[what]), [], f"{what} missing from the synthetic database")
        self.assertIn(("events", "p"), synthetic["tables"])
        self.assertEqual({c for p, c, _ in synthetic["partition bounds"] if p == "events"}, PARTITIONS)
        indexes = [d for (d,) in pg_rows(target, "SELECT indexdef FROM pg_indexes WHERE tablename = 'members'")]
        self.assertTrue(any("(lower(email))" in d for d in indexes), indexes)
        indexes = [d for (d,) in pg_rows(target, "SELECT indexdef FROM pg_indexes WHERE tablename = 'orders'")]
        self.assertTrue(any("WHERE (status = 'pending'::order_status)" in d for d in indexes), indexes)
        self.assertLessEqual(pg_foreign_keys(self.source), pg_foreign_keys(target))
        self.assertEqual(pg_rows(target, """SELECT conrelid::regclass::text, conname FROM pg_constraint
                                            WHERE contype = 'f' AND NOT convalidated"""), [])

        # The data: the kept tenants as profiled, the heaviest still the heaviest.
        count = tenant_counter(lambda q, p: pg_value(target, q, p), "admins", "id", "%s")
        assert_kept_tenants(self, profile, count)
        heaviest = pg_value(target, "SELECT admin_id FROM orders GROUP BY admin_id ORDER BY count(*) DESC LIMIT 1")
        self.assertEqual(str(heaviest), PG_HEAVY)
        for table in TABLES:
            self.assertGreater(pg_value(target, f"SELECT count(*) FROM {table}"), 0, table)
        # Guest orders (member_id NULL) belong to their admin; the others have (almost) none.
        nulls, orders = pg_rows(target, "SELECT count(*) FILTER (WHERE member_id IS NULL), count(*) FROM orders "
                                        "WHERE admin_id = %s", (key(PG_NULL_MEMBER),))[0]
        other_nulls, other_orders = pg_rows(target, "SELECT count(*) FILTER (WHERE member_id IS NULL), count(*) "
                                                    "FROM orders WHERE admin_id <> %s", (key(PG_NULL_MEMBER),))[0]
        print(f"guest orders: admin {PG_NULL_MEMBER} {nulls} of {orders}, the others {other_nulls} of {other_orders}")
        self.assertGreater(nulls, 0, f"admin {PG_NULL_MEMBER} has no guest orders")
        self.assertLessEqual(other_nulls, 0.01 * other_orders, "guest orders spread over the other admins")
        self.assertGreater(nulls / orders, other_nulls / other_orders)
        self.assertGreater(pg_value(target, "SELECT count(*) FROM orders WHERE admin_id = %s AND status = 'disputed'",
                                    (key(PG_RARE_STATUS),)), 0, f"admin {PG_RARE_STATUS} has no disputed order")
        # The self-reference is used, and resolves (the constraint says so too; this says it was
        # filled at all). PostgreSQL itself held the domain's and the CHECKs' rules on insert.
        self.assertGreater(pg_value(target, "SELECT count(*) FROM members WHERE referred_by IS NOT NULL"), 0,
                           "no member refers another")
        self.assertEqual(pg_value(target, "SELECT count(*) FROM members m LEFT JOIN members r ON r.id = m.referred_by "
                                          "WHERE m.referred_by IS NOT NULL AND r.id IS NULL"), 0)

        # Again, without --replace: refused, nothing changed; with it: replaced, and the report.
        before = pg_value(target, "SELECT count(*) FROM orders")
        code, out, err = run("synth", "--profile", self.profile_path, "--database", target)
        self.assertEqual(code, 2, out + err)
        self.assertIn("--replace", err)
        self.assertEqual(pg_value(target, "SELECT count(*) FROM orders"), before)
        report = self.path("fidelity.json")
        code, out, err = run("synth", "--profile", self.profile_path, "--database", target, "--replace",
                             "--report", report)
        self.assertEqual(code, 0, out + err)
        self.assert_fidelity(load(report), profile, lambda t: pg_value(target, f"SELECT count(*) FROM {t}"))
        assert_kept_tenants(self, profile, count)

    def assert_fidelity(self, report, profile, count):
        self.assertEqual(report["format"], "strata-fidelity/1")
        tables = {bare(t["table"]): t for t in report["tables"]}
        self.assertLessEqual(set(TABLES), set(tables))
        profiled = profile_tables(profile)
        for name, t in tables.items():
            within(self, t["synthetic_rows"], t["profiled_rows"], f"fidelity report, {name}")
            if name in profiled:
                self.assertEqual(t["profiled_rows"], profiled[name]["rows"], name)
            if name in TABLES:
                self.assertEqual(t["synthetic_rows"], count(name), f"the report's count of {name}")
        self.assertTrue(report["tenants"])
        for t in report["tenants"]:
            self.assertIsInstance(t["q_error"], (int, float))
            self.assertGreaterEqual(t["q_error"], 1.0)
        self.assertTrue(report["foreign_keys"])
        for fk in report["foreign_keys"]:
            self.assertTrue(0.0 <= fk["ks"] <= 1.0, fk)
        self.assertIsInstance(report["nulls"], list)

    def test_synth_into_sqlite(self):
        profile = self.profile()
        db = self.path("s.db")
        code, out, err = run("synth", "--profile", self.profile_path, "--database", "sqlite:" + db)
        self.assertEqual(code, 0, out + err)
        con = sqlite3.connect(db)
        names = {n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        self.assertLessEqual(set(TABLES), names)
        self.assertEqual(con.execute("PRAGMA foreign_key_check").fetchall(), [])
        self.assertEqual(con.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
        for table in TABLES:
            declared = {row[0] for row in con.execute(f"PRAGMA foreign_key_list({table})")}
            self.assertEqual(len(declared), len([fk for fk in pg_foreign_keys(self.source) if fk[0] == table]), table)
            self.assertGreater(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0], 0, table)
        count = tenant_counter(lambda q, p: con.execute(q, p).fetchone()[0], "admins", "id", "?")
        assert_kept_tenants(self, profile, count, skip=PARTITIONS - names)
        self.assertGreater(con.execute("SELECT count(*) FROM orders WHERE admin_id = ? AND status = 'disputed'",
                                       (key(PG_RARE_STATUS),)).fetchone()[0], 0, f"admin {PG_RARE_STATUS}: no disputed order")
        self.assertGreater(con.execute("SELECT count(*) FROM orders WHERE admin_id = ? AND member_id IS NULL",
                                       (key(PG_NULL_MEMBER),)).fetchone()[0], 0, f"admin {PG_NULL_MEMBER}: no guest order")
        con.close()
        # An existing file is not replaced without --replace.
        code, out, err = run("synth", "--profile", self.profile_path, "--database", "sqlite:" + db)
        self.assertEqual(code, 2, out + err)
        self.assertIn("--replace", err)


# --- SQLite ---------------------------------------------------------------------------------------

SQLITE_SCHEMA = """
CREATE TABLE admins (id INTEGER PRIMARY KEY, name TEXT NOT NULL, plan TEXT NOT NULL);
CREATE TABLE members (
  id INTEGER PRIMARY KEY,
  admin_id INTEGER NOT NULL REFERENCES admins (id),
  email TEXT NOT NULL,
  full_name TEXT NOT NULL,
  referred_by INTEGER REFERENCES members (id),
  joined_on TEXT NOT NULL);
CREATE INDEX members_email ON members (lower(email));
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  admin_id INTEGER NOT NULL REFERENCES admins (id),
  member_id INTEGER REFERENCES members (id),
  status TEXT NOT NULL,
  amount NUMERIC NOT NULL,
  placed_on TEXT NOT NULL);
CREATE INDEX orders_admin ON orders (admin_id, placed_on);
CREATE TABLE order_items (
  order_id INTEGER NOT NULL REFERENCES orders (id),
  line_no INTEGER NOT NULL,
  admin_id INTEGER NOT NULL REFERENCES admins (id),
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  unit_price NUMERIC NOT NULL,
  PRIMARY KEY (order_id, line_no));
"""


@unittest.skipUnless(PG_URL, "STRATA_TEST_PG is not set (scripts/test.sh starts a throwaway PostgreSQL)")
class SynthStatisticsTest(TempDirTest):
    """Production's stale statistics come back: a tenant that grew after the last ANALYZE is as
    underestimated by the synthetic database's planner as by the original's."""
    SOURCE, TARGET = "strata_stale_source", "strata_stale_target"

    def tearDown(self):
        drop_database(self.TARGET)
        drop_database(self.SOURCE)
        super().tearDown()

    def grow_smallest_tenant(self, url):
        """Adds 4,000 orders to the admin with the fewest, after the ANALYZE, autovacuum off."""
        grown = pg_value(url, "SELECT admin_id FROM orders GROUP BY 1 ORDER BY count(*), 1 LIMIT 1")
        pg_execute(url, f"""
            ALTER TABLE orders SET (autovacuum_enabled = false);
            CREATE TEMP TABLE more AS SELECT * FROM orders ORDER BY id LIMIT 4000;
            UPDATE more SET id = id + 100000000, admin_id = {grown},
                member_id = (SELECT min(id) FROM members WHERE admin_id = {grown});
            INSERT INTO orders SELECT * FROM more;""")
        return grown

    def estimate_and_count(self, url, tenant):
        plan = pg_value(url, f"EXPLAIN (FORMAT JSON) SELECT * FROM orders WHERE admin_id = {tenant}")
        plan = plan if isinstance(plan, list) else json.loads(plan)
        count = pg_value(url, f"SELECT count(*) FROM orders WHERE admin_id = {tenant}")
        return plan[0]["Plan"]["Plan Rows"], count

    def test_a_tenant_grown_since_analyze_stays_underestimated(self):
        source = fresh_database(self.SOURCE)
        code, out, err = run("generate", "--database", source, "--scale", "0.02", "--tenants", "20", "-q")
        self.assertEqual(code, 0, err)
        grown = self.grow_smallest_tenant(source)
        estimate, count = self.estimate_and_count(source, grown)
        self.assertGreater(count, 10 * estimate, "the source's statistics are not stale")
        # The statistics counters reach pg_stat_user_tables within a second or so.
        deadline = time.time() + 30
        while time.time() < deadline and pg_value(
                source, "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'orders'") < 4000:
            time.sleep(0.2)
        profile_path = self.path("p.json")
        code, out, err = run("profile", "--database", source, "--tenant-column", "admin_id", "-o", profile_path)
        self.assertEqual(code, 0, err)
        profile = load(profile_path)
        kept = {k["tenant"]: k for k in profile["tenants"]}
        self.assertIn(str(grown), kept, "the grown tenant is not kept")
        self.assertGreater(kept[str(grown)]["rows"]["orders"], 10 * kept[str(grown)]["estimated_rows"]["orders"])
        orders = next(t for t in profile["tables"] if t["name"] == "orders")
        self.assertGreaterEqual(orders["statistics"]["modified_since_analyze"], 4000)

        target = fresh_database(self.TARGET)
        code, out, err = run("synth", "--profile", profile_path, "--database", target)
        self.assertEqual(code, 0, err)
        self.assertIn("after ANALYZE", err)
        estimate, synthetic_count = self.estimate_and_count(target, grown)
        within(self, synthetic_count, count, "the grown tenant's orders")
        self.assertGreater(synthetic_count, 10 * estimate,
                           f"the synthetic planner expects {estimate} rows of {synthetic_count}: not stale")
        options = pg_value(target, "SELECT reloptions FROM pg_class WHERE relname = 'orders'")
        self.assertIn("autovacuum_enabled=false", options or [])


def make_sqlite_source(path):
    """60 admins: admin 3 is about 50 times the typical one; admin 5 alone has 'disputed' orders
    (3 of them); admin 8 alone has orders whose member_id is NULL (half of its orders). Members
    have e-mail addresses and names; returns the private text values."""
    con = sqlite3.connect(path)
    con.executescript(SQLITE_SCHEMA)
    cycle = ["paid", "paid", "paid", "paid", "shipped", "shipped", "pending", "pending", "refunded", "paid"]
    member_id = order_id = 0
    private = set()
    for a in range(1, 61):
        name = f"Northwind Outpost {a}"
        private.add(name)
        con.execute("INSERT INTO admins VALUES (?, ?, ?)", (a, name, ["free", "pro", "enterprise"][a % 3]))
        members = 1200 if a == int(SQLITE_HEAVY) else 15 + (a * 7) % 21
        orders = 2500 if a == int(SQLITE_HEAVY) else 30 + (a * 11) % 41
        first_member = member_id + 1
        for g in range(1, members + 1):
            member_id += 1
            first, last = FIRST[member_id % 10], LAST[(member_id // 10) % 10]
            email, full_name = f"{first}.{last}{member_id}@example.org", f"{first.title()} {last.title()}"
            private.update((email, full_name))
            con.execute("INSERT INTO members VALUES (?, ?, ?, ?, ?, ?)",
                        (member_id, a, email, full_name, member_id - 1 if g % 5 == 0 else None,
                         f"2023-{1 + member_id % 12:02d}-{1 + member_id % 28:02d}"))
        for g in range(1, orders + 1):
            order_id += 1
            member = None if a == int(SQLITE_NULL_MEMBER) and g % 2 == 0 else first_member + (g * 7) % members
            status = "disputed" if a == int(SQLITE_RARE_STATUS) and g in (5, 17, 29) else cycle[g % 10]
            con.execute("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)",
                        (order_id, a, member, status, round(((g * 37 + a) % 50000) / 100 + 1, 2),
                         f"2024-{1 + g % 12:02d}-{1 + (g * 3) % 28:02d}"))
            for line in range(1, 2 + order_id % 3):
                con.execute("INSERT INTO order_items VALUES (?, ?, ?, ?, ?)",
                            (order_id, line, a, 1 + (order_id + line) % 4, round(((order_id * 13 + line) % 20000) / 100 + 0.5, 2)))
    con.commit()
    con.close()
    return private


def sqlite_value(path, sql, params=()):
    con = sqlite3.connect(path)
    try:
        return con.execute(sql, params).fetchone()[0]
    finally:
        con.close()


class SynthSqliteTest(TempDirTest):
    """One SQLite source, profiled once; each test synthesises from that profile."""

    @classmethod
    def setUpClass(cls):
        cls._class_tmp = tempfile.TemporaryDirectory(prefix="strata_e2e_synth_")
        cls.source = os.path.join(cls._class_tmp.name, "source.db")
        cls.private = make_sqlite_source(cls.source)
        cls.profile_path = os.path.join(cls._class_tmp.name, "p.json")
        cls.profiled = run("profile", "--database", "sqlite:" + cls.source, "--tenant-column", "admin_id",
                           "-o", cls.profile_path)

    @classmethod
    def tearDownClass(cls):
        cls._class_tmp.cleanup()

    def profile(self):
        code, out, err = self.profiled
        self.assertEqual(code, 0, out + err)
        return load(self.profile_path)

    def synth(self, name, *args):
        db = self.path(name)
        code, out, err = run("synth", "--profile", self.profile_path, "--database", "sqlite:" + db, *args)
        self.assertEqual(code, 0, out + err)
        con = sqlite3.connect(db)
        self.assertEqual(con.execute("PRAGMA foreign_key_check").fetchall(), [], name)
        self.assertEqual(con.execute("PRAGMA integrity_check").fetchall(), [("ok",)], name)
        con.close()
        return db

    def rows_of_other_tenants(self, db, tenants):
        """Rows, over every table, of the tenants not in tenants."""
        values = [key(t) for t in tenants]
        where = f"NOT IN ({','.join('?' * len(values))})"
        return (sqlite_value(db, f"SELECT count(*) FROM admins WHERE id {where}", values)
                + sum(sqlite_value(db, f"SELECT count(*) FROM {t} WHERE admin_id {where}", values)
                      for t in SQLITE_TABLES[1:]))

    def test_profile_and_synth(self):
        profile = self.profile()
        self.assertEqual(profile["format"], "strata-profile/1")
        self.assertEqual(profile["source"]["dialect"], "sqlite")
        self.assertEqual((profile["tenant"]["column"], bare(profile["tenant"]["table"]), profile["tenant"]["key"],
                          profile["tenant"]["count"]), ("admin_id", "admins", "id", 60))
        tables = profile_tables(profile)
        self.assertEqual(set(tables), set(SQLITE_TABLES))
        self.assertEqual({t["schema"] for t in tables.values()}, {""})
        self.assertEqual(tables["order_items"]["primary_key"], ["order_id", "line_no"])
        text = read_text(self.profile_path).lower()
        leaked = sorted(v for v in self.private if v.lower() in text)
        self.assertEqual(leaked[:10], [], f"{len(leaked)} private values are in the profile")
        for label in STATUSES:
            self.assertIn(f'"{label}"', text)
        kept = {t["tenant"] for t in profile["tenants"]}
        self.assertLessEqual({SQLITE_HEAVY, SQLITE_RARE_STATUS, SQLITE_NULL_MEMBER}, kept)

        db = self.synth("s.db")
        for table in SQLITE_TABLES:
            source_rows = sqlite_value(self.source, f"SELECT count(*) FROM {table}")
            within(self, tables[table]["rows"], source_rows, f"profiled rows of {table}")
            within(self, sqlite_value(db, f"SELECT count(*) FROM {table}"), source_rows, f"synthetic rows of {table}")
            self.assertEqual(sqlite_value(db, f"SELECT count(*) FROM pragma_foreign_key_list('{table}')"),
                             sqlite_value(self.source, f"SELECT count(*) FROM pragma_foreign_key_list('{table}')"),
                             f"foreign keys of {table}")
        con = sqlite3.connect(db)
        count = tenant_counter(lambda q, p: con.execute(q, p).fetchone()[0], "admins", "id", "?")
        assert_kept_tenants(self, profile, count)
        self.assertGreater(con.execute("SELECT count(*) FROM orders WHERE admin_id = ? AND status = 'disputed'",
                                       (key(SQLITE_RARE_STATUS),)).fetchone()[0], 0,
                           f"admin {SQLITE_RARE_STATUS}: no disputed order")
        self.assertGreater(con.execute("SELECT count(*) FROM orders WHERE admin_id = ? AND member_id IS NULL",
                                       (key(SQLITE_NULL_MEMBER),)).fetchone()[0], 0,
                           f"admin {SQLITE_NULL_MEMBER}: no guest order")
        self.assertGreater(con.execute("SELECT count(*) FROM members WHERE referred_by IS NOT NULL").fetchone()[0], 0,
                           "no member refers another")
        self.assertEqual(con.execute("SELECT count(*) FROM order_items WHERE quantity <= 0").fetchone()[0], 0)
        con.close()
        # The synthetic file holds none of the source's private text either.
        with open(db, "rb") as f:
            content = f.read().decode("utf-8", "replace").lower()
        self.assertEqual(sorted(v for v in self.private if "@" in v and v.lower() in content)[:10], [])
        # It is not replaced without --replace, and is with it.
        code, out, err = run("synth", "--profile", self.profile_path, "--database", "sqlite:" + db, "--seed", "5")
        self.assertEqual(code, 2, out + err)
        self.assertIn("--replace", err)
        self.synth("s.db", "--seed", "5", "--replace")
        # A scale of zero is a usage error, and nothing is written.
        code, out, err = run("synth", "--profile", self.profile_path, "--database", "sqlite:" + self.path("z.db"),
                             "--scale", "0")
        self.assertEqual(code, 2, out + err)
        self.assertIn("--scale", err)
        self.assertFalse(os.path.exists(self.path("z.db")))

    def test_the_same_seed_gives_the_same_rows(self):
        self.profile()
        runs = []
        for name in ("a.db", "b.db"):
            con = sqlite3.connect(self.synth(name, "--seed", "11"))
            runs.append(con.execute("SELECT * FROM orders ORDER BY 1").fetchall())
            con.close()
        self.assertGreater(len(runs[0]), 1000)
        # The same values of the same types (repr tells 1 from 1.0 and '1'), row for row.
        self.assertEqual([repr(r) for r in runs[0]], [repr(r) for r in runs[1]])

    def test_scale_shrinks_only_the_typical_tenants(self):
        profile = self.profile()
        kept = [t["tenant"] for t in profile["tenants"]]
        self.assertLess(len(kept), 60, "every tenant was kept: nothing for --scale to shrink")
        full, half = self.synth("full.db", "--seed", "3"), self.synth("half.db", "--seed", "3", "--scale", "0.5")
        typical_full, typical_half = self.rows_of_other_tenants(full, kept), self.rows_of_other_tenants(half, kept)
        print(f"rows of the typical tenants: {typical_full} at scale 1, {typical_half} at scale 0.5")
        self.assertGreater(typical_full, 0)
        # About half: between 35% and 65% of the rows at scale 1.
        self.assertLessEqual(typical_half, 0.65 * typical_full)
        self.assertGreaterEqual(typical_half, 0.35 * typical_full)
        heavy = {t["tenant"]: t for t in profile["tenants"]}[SQLITE_HEAVY]
        for table, rows in heavy["rows"].items():
            column = "id" if bare(table) == "admins" else "admin_id"
            within(self, sqlite_value(half, f"SELECT count(*) FROM {bare(table)} WHERE {column} = ?",
                                      (key(SQLITE_HEAVY),)), rows, f"heaviest admin at scale 0.5, {table}")


# --- A large schema, and an interrupted build -------------------------------------------------------

class SynthScaleTest(TempDirTest):
    def make_wide_source(self, path, tables=100, admins=50):
        """tables tables of the same shape, each carrying the tenant, with a status, an amount, a date and a
        free-text note; admin 7 alone has a 'disputed' row in every tenth table."""
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE admins (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        con.executemany("INSERT INTO admins VALUES (?, ?)", [(a, f"Admin {a}") for a in range(1, admins + 1)])
        for t in range(tables):
            con.execute(f"""CREATE TABLE t{t:03d} (id INTEGER PRIMARY KEY, admin_id INTEGER NOT NULL REFERENCES admins (id),
                            status TEXT NOT NULL, amount NUMERIC NOT NULL, created_on DATE NOT NULL, note TEXT)""")
            rows = []
            for i in range(20 * admins):
                admin = 1 + i % admins
                status = "disputed" if admin == 7 and t % 10 == 0 and i < admins else ["new", "paid", "shipped", "void"][i % 4]
                rows.append((i + 1, admin, status, (i * 37) % 1000 / 4, f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
                             f"free text {i * 7919 % 100003}"))
            con.executemany(f"INSERT INTO t{t:03d} VALUES (?, ?, ?, ?, ?, ?)", rows)
        con.commit()
        con.close()

    def test_a_hundred_table_profile_stays_under_a_megabyte(self):
        source = self.path("wide.db")
        self.make_wide_source(source)
        profile_path = self.path("p.json")
        code, out, err = run("profile", "--database", "sqlite:" + source, "--tenant-column", "admin_id", "-o", profile_path)
        self.assertEqual(code, 0, err)
        size = os.path.getsize(profile_path)
        print(f"100-table profile: {size:,} bytes")
        self.assertLess(size, 1_000_000)
        profile = load(profile_path)
        self.assertEqual(len(profile["tables"]), 101)
        self.assertIn("7", {k["tenant"] for k in profile["tenants"]}, "the tenant with the rare status")
        self.assertNotIn("free text", read_text(profile_path))
        target = self.path("synth.db")
        code, out, err = run("synth", "--profile", profile_path, "--database", "sqlite:" + target)
        self.assertEqual(code, 0, err)
        con = sqlite3.connect(target)
        for t in ("t000", "t050", "t090"):
            holders = {a for (a,) in con.execute(f"SELECT DISTINCT admin_id FROM {t} WHERE status = 'disputed'")}
            self.assertEqual(holders, {7}, t)
        con.close()

    def test_an_interrupted_build_leaves_nothing(self):
        source = self.path("wide.db")
        self.make_wide_source(source, tables=3)
        profile_path = self.path("p.json")
        code, out, err = run("profile", "--database", "sqlite:" + source, "--tenant-column", "admin_id", "-o", profile_path)
        self.assertEqual(code, 0, err)
        target = self.path("synth.db")
        p = subprocess.Popen([STRATA_BIN, "synth", "--profile", profile_path, "--database", "sqlite:" + target,
                              "--scale", "1000"], stderr=subprocess.PIPE)
        # Interrupt once the build has begun: its file beside the target exists.
        deadline = time.time() + 60
        while time.time() < deadline and p.poll() is None and \
                not any(f.startswith("synth.db.generating") for f in os.listdir(self.tmp)):
            time.sleep(0.05)
        self.assertIsNone(p.poll(), "the build ended before it could be interrupted")
        time.sleep(0.2)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=300)
        self.assertEqual(p.returncode, 130, err.decode())
        self.assertIn("not changed", err.decode())
        self.assertEqual([f for f in os.listdir(self.tmp) if f.startswith("synth.db")], [], "a file was left behind")


# --- Bad input ------------------------------------------------------------------------------------

class SynthErrorsTest(TempDirTest):
    def test_a_profile_that_is_not_json(self):
        bad, target = self.path("notes.json"), self.path("t.db")
        with open(bad, "w") as f:
            f.write("tables: orders, members\n")
        code, out, err = run("synth", "--profile", bad, "--database", "sqlite:" + target)
        self.assertEqual(code, 2, out + err)
        self.assertIn("notes.json", err)
        self.assertFalse(os.path.exists(target))

    def test_a_profile_of_an_unknown_format(self):
        future, target = self.path("future.json"), self.path("t.db")
        with open(future, "w") as f:
            json.dump({"format": "strata-profile/9", "source": {"dialect": "sqlite", "database": "x.db"},
                       "tenant": {"column": "admin_id", "table": "admins", "key": "id", "count": 0},
                       "tables": [], "tenants": [], "unsupported": []}, f)
        code, out, err = run("synth", "--profile", future, "--database", "sqlite:" + target)
        self.assertEqual(code, 2, out + err)
        self.assertRegex(err, "strata-profile|format")
        self.assertFalse(os.path.exists(target))

    def test_a_missing_profile_file(self):
        code, out, err = run("synth", "--profile", self.path("absent.json"), "--database", "sqlite:" + self.path("t.db"))
        self.assertEqual(code, 2, out + err)
        self.assertIn("absent.json", err)

    def test_profile_of_a_database_that_is_not_there(self):
        out_path = self.path("p.json")
        code, out, err = run("profile", "--database", "sqlite:/nonexistent/x.db", "--tenant-column", "admin_id",
                             "-o", out_path)
        self.assertNotEqual(code, 0, out + err)
        self.assertTrue(err.strip(), "no message")
        self.assertIn("/nonexistent/x.db", err)
        self.assertFalse(os.path.exists(out_path))

    def test_profile_of_a_tenant_column_that_is_not_there(self):
        db = self.path("s.db")
        make_small = sqlite3.connect(db)
        make_small.executescript("CREATE TABLE admins (id INTEGER PRIMARY KEY);"
                                 "CREATE TABLE orders (id INTEGER PRIMARY KEY, admin_id INTEGER REFERENCES admins (id));"
                                 "INSERT INTO admins VALUES (1); INSERT INTO orders VALUES (1, 1);")
        make_small.close()
        code, out, err = run("profile", "--database", "sqlite:" + db, "--tenant-column", "no_such_column",
                             "-o", self.path("p.json"))
        self.assertNotEqual(code, 0, out + err)
        self.assertIn("no_such_column", err)
        self.assertFalse(os.path.exists(self.path("p.json")))

    def test_bad_arguments(self):
        code, out, err = run("synth", "--database", "sqlite:" + self.path("t.db"))
        self.assertEqual(code, 2, out + err)
        self.assertIn("--profile", err)
        code, out, err = run("profile", "--database", "sqlite:" + self.path("t.db"))
        self.assertEqual(code, 2, out + err)
        self.assertFalse(os.path.exists(self.path("t.db")))


if __name__ == "__main__":
    unittest.main()
