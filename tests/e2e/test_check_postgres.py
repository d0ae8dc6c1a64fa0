"""strata check on a real throwaway PostgreSQL: the example's wrong rewrite fails on the right
admins; a tenant grown after ANALYZE (autovacuum off for its table) is picked, flagged with the
table and the ANALYZE to run, and no longer after --analyze-first; a change to prepared statements
that falls into a generic-plan trap for the heaviest tenant fails as slower, with the generic plan
named; --statistics both tells a tenant slower only under stale statistics from one a bad rewrite
slows. Each test class uses its own database, so the tests can run beside the others."""

import json
import os
import shutil
import unittest

import psycopg2

from strata_e2e import PG_URL, TempDirTest, fresh_database, run

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "admin-reports")


def database(name):
    return fresh_database(name)


def sql(url, statements):
    con = psycopg2.connect(url)
    con.autocommit = True
    with con.cursor() as cur:
        for s in statements:
            cur.execute(s)
    con.close()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def project(folder, url, reports):
    """A project folder: reports maps name -> (sql, execution)."""
    toml = f'[database]\nurl = "{url}"\n[tenant]\nparam = "tenant_id"\n'
    for name, (text, execution) in reports.items():
        write(os.path.join(folder, "reports", name + ".sql"), text)
        toml += (f'[reports.{name}]\nsql = "reports/{name}.sql"\nexecution = "{execution}"\n'
                 f'[reports.{name}.params]\ntenant_id = {{ type = "bigint" }}\n')
    write(os.path.join(folder, "strata.toml"), toml)
    return folder


@unittest.skipUnless(PG_URL, "STRATA_TEST_PG is not set")
class CheckPostgresTest(TempDirTest):
    def check(self, folder, *args):
        verdict = self.path("verdict.json")
        if os.path.exists(verdict):
            os.remove(verdict)
        code, out, err = run("check", "--project", folder, "--json", verdict, *args)
        with open(verdict, encoding="utf-8") as f:
            return code, out, err, json.load(f)

    def test_wrong_rewrite_fails_on_the_admins_it_is_wrong_for(self):
        url = database("strata_check_example")
        code, _, err = run("generate", "--database", url, "--scale", "0.2", "-q")
        self.assertEqual(code, 0, err)
        folder = self.path("admin-reports")
        shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("demo.db*"))
        code, out, err, doc = self.check(folder, "--database", url, "member_activity_rewrite", "--base-report",
                                         "member_activity")
        self.assertEqual(code, 1, out + err)
        con = psycopg2.connect(url)
        with con.cursor() as cur:
            cur.execute("SELECT id, profile FROM admins")
            kinds = dict(cur.fetchall())
        con.close()
        report = doc["reports"][0]
        different = {kinds[t["tenant"]] for t in report["tenants"] if t["verdict"] == "different_results"}
        self.assertEqual(different, {"installments", "refunds"})
        for t in report["tenants"]:
            self.assertRegex(t["base"]["plan"], "^[0-9a-f]{12}$")
            self.assertTrue(t["base"]["plan_text"])
        code, out, err, doc = self.check(folder, "--database", url, "member_activity_fast", "--base-report",
                                         "member_activity")
        self.assertEqual(code, 0, out + err)

    def test_a_tenant_grown_since_analyze_is_flagged_with_the_analyze_to_run(self):
        url = database("strata_check_stale")
        sql(url, [
            "CREATE TABLE events (id bigserial PRIMARY KEY, tenant_id bigint NOT NULL, kind int NOT NULL, "
            "amount numeric(12,2) NOT NULL)",
            "CREATE INDEX events_tenant ON events (tenant_id)",
            "INSERT INTO events (tenant_id, kind, amount) SELECT t, g % 7, g * 1.25 "
            "FROM generate_series(1, 200) t, generate_series(1, 50) g",
            "ANALYZE events",
            # From now on the statistics stay as they were: tenant 7 grows 2,000-fold unseen.
            "ALTER TABLE events SET (autovacuum_enabled = off)",
            "INSERT INTO events (tenant_id, kind, amount) SELECT 7, g % 7, g * 0.5 FROM generate_series(1, 100000) g",
        ])
        base = "SELECT kind, count(*) AS n, sum(amount) AS total FROM events WHERE tenant_id = :tenant_id GROUP BY kind ORDER BY kind"
        candidate = ("select kind,\n       count(*) as n,\n       sum(amount) as total\n  from events\n"
                     " where tenant_id = :tenant_id\n group by kind\n order by kind;\n")
        folder = project(self.path("stale"), url, {"base": (base, "simple"), "candidate": (candidate, "simple")})
        code, out, err, doc = self.check(folder, "candidate", "--base-report", "base")
        self.assertEqual(code, 0, out + err)  # the same query, reformatted: it passes
        report = doc["reports"][0]
        self.assertEqual(report["dimensions"], ["events"])  # no tenant list: profiled
        grown = [t for t in report["tenants"] if t["tenant"] == 7]
        self.assertEqual(len(grown), 1)
        whys = "; ".join(grown[0]["why"])
        self.assertIn("grown since the last ANALYZE of events", whys)
        events = [h for h in grown[0]["tables"] if h["table"] == "public.events"]
        self.assertEqual(len(events), 1, grown[0]["tables"])
        self.assertTrue(events[0]["stale"])
        self.assertEqual(events[0]["analyze"], "ANALYZE public.events;")
        self.assertEqual(events[0]["tenant_actual_rows"], 100050)
        self.assertLess(events[0]["tenant_estimated_rows"], 10005)
        self.assertGreaterEqual(events[0]["modified_since_analyze"], 100000)
        self.assertIn("ANALYZE public.events;", grown[0]["explanation"])
        self.assertIn("ANALYZE public.events;", out)
        # With fresh statistics the tenant is no longer a surprise to the planner.
        code, out, err, doc = self.check(folder, "candidate", "--base-report", "base", "--analyze-first")
        self.assertEqual(code, 0, out + err)
        self.assertTrue(doc["analyzed_first"])
        self.assertIn("public.events", doc["analyzed_tables"])
        for t in doc["reports"][0]["tenants"]:
            self.assertFalse(any("grown since" in w for w in t["why"]), t["why"])
            self.assertFalse(any(h["stale"] for h in t["tables"]), t["tables"])

    def test_generic_plan_trap_is_caught_in_prepared_mode(self):
        url = database("strata_check_generic")
        sql(url, [
            "CREATE TABLE kinds (k int PRIMARY KEY, label text NOT NULL)",
            "INSERT INTO kinds SELECT g, 'kind ' || g FROM generate_series(1, 2000000) g",
            "CREATE TABLE events (tenant_id bigint NOT NULL, k int NOT NULL, amount int NOT NULL)",
            # Tenant 1 has 400,000 events; 3,000 others have 5 each.
            "INSERT INTO events SELECT 1, ((g::bigint * 7919) % 2000000 + 1)::int, g % 100 "
            "FROM generate_series(1, 400000) g",
            "INSERT INTO events SELECT t, (t * 13 + g) % 2000000 + 1, g FROM generate_series(2, 3001) t, "
            "generate_series(1, 5) g",
            "CREATE INDEX events_tenant ON events (tenant_id)",
            "ANALYZE kinds",
            "ANALYZE events",
        ])
        query = ("SELECT count(*) AS n, sum(e.amount) AS total, max(length(t.label)) AS longest "
                 "FROM events e JOIN kinds t ON t.k = e.k WHERE e.tenant_id = :tenant_id")
        # The change under review: the application now runs the same query as a prepared statement.
        folder = project(self.path("generic"), url, {"base": (query, "simple"), "candidate": (query, "prepared")})
        code, out, err, doc = self.check(folder, "candidate", "--base-report", "base", "--max-tenants", "4")
        self.assertEqual(code, 1, out + err)
        tenants = {t["tenant"]: t for t in doc["reports"][0]["tenants"]}
        heavy = tenants[1]
        # Slower, or past the candidate's timeout (4x the base's warm-up): a fail either way.
        self.assertIn(heavy["verdict"], ("slower", "timeout"), heavy["explanation"])
        self.assertEqual(heavy["execution"], "prepared")
        self.assertTrue(heavy["candidate"]["generic_plan"])
        self.assertFalse(heavy["base"]["generic_plan"])
        self.assertTrue(heavy["plan_changed"])
        self.assertIn("generic plan", heavy["explanation"])
        self.assertGreaterEqual(heavy["ratio"], 1.5)
        for tenant, t in tenants.items():
            if tenant != 1:
                self.assertEqual(t["verdict"], "pass", t["explanation"])
        # Run as simple statements both ways, the same change is harmless.
        code, out, err, doc = self.check(folder, "candidate", "--base-report", "base", "--max-tenants", "4",
                                         "--execution", "simple")
        self.assertEqual(code, 0, out + err)

    def test_statistics_both_tells_stale_statistics_from_a_bad_rewrite(self):
        url = database("strata_check_statistics_both")
        sql(url, [
            # 1. NOT IN -> NOT EXISTS, harmless under fresh statistics. Tenant 1000 is created after
            # ANALYZE (autovacuum off for events): the MCV list holds every tenant seen, so the
            # planner estimates 1 row for it. NOT IN keeps its hashed subplan whatever the estimate;
            # NOT EXISTS becomes a nested loop anti join that scans blocked once per event (20,000
            # scans of 150 rows), where fresh statistics give a hash anti join.
            "CREATE TABLE blocked (code text PRIMARY KEY)",
            "INSERT INTO blocked SELECT 'A' || g FROM generate_series(1, 300, 2) g",
            "CREATE TABLE events (id bigserial PRIMARY KEY, tenant_id bigint NOT NULL, account_code text NOT NULL, "
            "kind int NOT NULL, amount int NOT NULL)",
            "CREATE INDEX events_tenant ON events (tenant_id)",
            "INSERT INTO events (tenant_id, account_code, kind, amount) SELECT t, 'A' || ((t * 7 + g) % 300 + 1), "
            "g % 7, g FROM generate_series(1, 100) t, generate_series(1, 50) g",
            # Flush this session's row counts first, or they would land after ANALYZE and count as
            # changes since (PostgreSQL 15 flushes them at most once a second).
            "SELECT pg_stat_force_next_flush()",
            "ANALYZE blocked",
            "ANALYZE events",
            "ALTER TABLE events SET (autovacuum_enabled = off)",
            "INSERT INTO events (tenant_id, account_code, kind, amount) SELECT 1000, 'A' || (g % 300 + 1), g % 7, g "
            "FROM generate_series(1, 20000) g",
            # 2. A window's running balance rewritten as a correlated subquery: quadratic in the
            # tenant's rows (tenant 41: 2,000) under any statistics.
            "CREATE TABLE ledger (id bigserial PRIMARY KEY, tenant_id bigint NOT NULL, amount int NOT NULL)",
            "CREATE INDEX ledger_tenant_id ON ledger (tenant_id, id)",
            "INSERT INTO ledger (tenant_id, amount) SELECT t, (t * 31 + g) % 200 - 50 "
            "FROM generate_series(1, 40) t, generate_series(1, 40) g",
            "INSERT INTO ledger (tenant_id, amount) SELECT 41, g % 200 - 50 FROM generate_series(1, 2000) g",
            "SELECT pg_stat_force_next_flush()",
            "ANALYZE ledger",
        ])
        base = ("SELECT e.kind, count(*) AS n, sum(e.amount) AS total FROM events e WHERE e.tenant_id = :tenant_id "
                "AND e.account_code NOT IN (SELECT code FROM blocked) GROUP BY e.kind ORDER BY e.kind")
        candidate = ("SELECT e.kind, count(*) AS n, sum(e.amount) AS total FROM events e WHERE e.tenant_id = :tenant_id "
                     "AND NOT EXISTS (SELECT 1 FROM blocked b WHERE b.code = e.account_code) "
                     "GROUP BY e.kind ORDER BY e.kind")
        folder = project(self.path("stale"), url, {"base": (base, "simple"), "candidate": (candidate, "simple")})
        code, out, err, doc = self.check(folder, "candidate", "--base-report", "base", "--statistics", "both")
        self.assertEqual(code, 1, out + err)  # the tenant stays slower: the check still fails
        self.assertEqual(doc["verdict"], "fail")
        self.assertIn("public.events", doc["analyzed_tables"])
        tenants = {t["tenant"]: t for t in doc["reports"][0]["tenants"]}
        self.assertIn(1000, tenants, list(tenants))
        grown = tenants[1000]
        self.assertIn(grown["verdict"], ("slower", "timeout"), grown["explanation"])
        self.assertIn("fresh_statistics", grown, grown["explanation"])
        fresh = grown["fresh_statistics"]
        self.assertEqual(fresh["cause"], "stale_statistics", grown["explanation"])
        self.assertEqual(fresh["verdict"], "pass", grown["explanation"])
        self.assertIn("public.events", fresh["analyzed"])
        self.assertFalse(fresh["timed_out"])
        self.assertNotEqual(fresh["candidate_plan"], grown["candidate"]["plan"])  # hash anti join now
        stale_ms = grown["candidate"]["timeout_ms"] if grown["candidate"]["timed_out"] else grown["candidate"]["median_ms"]
        self.assertLess(fresh["candidate_median_ms"] * 3, stale_ms, grown["explanation"])
        self.assertIn("ANALYZE public.events", grown["explanation"])
        self.assertIn("slower only under the current, stale statistics", grown["explanation"])
        for tenant, t in tenants.items():
            if tenant != 1000:
                self.assertEqual(t["verdict"], "pass", t["explanation"])
                self.assertNotIn("fresh_statistics", t)

        base = "SELECT id, amount, sum(amount) OVER (ORDER BY id) AS balance FROM ledger WHERE tenant_id = :tenant_id ORDER BY id"
        candidate = ("SELECT l.id, l.amount, (SELECT sum(l2.amount) FROM ledger l2 WHERE l2.tenant_id = l.tenant_id "
                     "AND l2.id <= l.id) AS balance FROM ledger l WHERE l.tenant_id = :tenant_id ORDER BY l.id")
        folder = project(self.path("rewrite"), url, {"base": (base, "simple"), "candidate": (candidate, "simple")})
        code, out, err, doc = self.check(folder, "candidate", "--base-report", "base", "--statistics", "both")
        self.assertEqual(code, 1, out + err)
        self.assertIn("public.ledger", doc["analyzed_tables"])
        tenants = {t["tenant"]: t for t in doc["reports"][0]["tenants"]}
        self.assertIn(41, tenants, list(tenants))
        heavy = tenants[41]
        self.assertIn(heavy["verdict"], ("slower", "timeout"), heavy["explanation"])
        self.assertIn("fresh_statistics", heavy, heavy["explanation"])
        fresh = heavy["fresh_statistics"]
        self.assertEqual(fresh["cause"], "rewrite", heavy["explanation"])
        self.assertIn(fresh["verdict"], ("slower", "timeout"), heavy["explanation"])
        self.assertIn("public.ledger", fresh["analyzed"])
        self.assertFalse(any(h["stale"] for h in heavy["tables"]), heavy["tables"])  # fresh all along
        self.assertIn("the rewrite itself is the cause, not the statistics", heavy["explanation"])


if __name__ == "__main__":
    unittest.main()
