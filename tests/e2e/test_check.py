"""strata check on SQLite, through the real CLI: the example's wrong rewrite fails on exactly the
unusual admins it is wrong for, the benign rewrite and identical or reformatted SQL pass run after
run, a candidate that would take forever is reported as a timeout, the base can come from a git ref
without touching the working tree, and the verdict files are what CI and people read."""

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

from strata_e2e import TempDirTest, run

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "admin-reports")
SCALE = "0.2"


class Example:
    """One generated example database shared by the tests (generating is the slow part)."""
    folder = None

    @classmethod
    def get(cls):
        if cls.folder is None:
            cls.folder = tempfile.mkdtemp(prefix="strata-check-")
            project = os.path.join(cls.folder, "admin-reports")
            shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("demo.db*"))
            code, _, err = run("generate", "--project", project, "--scale", SCALE, "-q")
            assert code == 0, err
        return os.path.join(cls.folder, "admin-reports")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def write(path, text, mode="w"):
    with open(path, mode, encoding="utf-8") as f:
        f.write(text)


def admins_of_kind(project):
    db = sqlite3.connect(os.path.join(project, "demo.db"))
    kinds = dict(db.execute("SELECT id, profile FROM admins"))
    db.close()
    return kinds


class CheckTest(TempDirTest):
    def check(self, *args, project=None):
        project = project or Example.get()
        verdict = self.path("verdict.json")
        code, out, err = run("check", "--project", project, "--json", verdict, *args)
        doc = json.loads(read(verdict)) if os.path.exists(verdict) else None
        return code, out, err, doc

    def test_wrong_rewrite_fails_on_the_admins_it_is_wrong_for(self):
        project = Example.get()
        code, out, err, doc = self.check("member_activity_rewrite", "--base-report", "member_activity",
                                         "--html", self.path("v.html"), "--junit", self.path("v.xml"),
                                         "--markdown", self.path("v.md"))
        self.assertEqual(code, 1, out + err)
        self.assertEqual(doc["format"], "strata-check/1")
        self.assertEqual(doc["verdict"], "fail")
        report = doc["reports"][0]
        self.assertEqual(report["verdict"], "fail")
        kinds = admins_of_kind(project)
        different = {t["tenant"] for t in report["tenants"] if t["verdict"] == "different_results"}
        self.assertEqual({kinds[t] for t in different}, {"installments", "refunds"}, report["tenants"])
        for t in report["tenants"]:
            self.assertIsInstance(t["tenant"], int)  # typed as declared: bigint
            self.assertTrue(t["why"], t)
            self.assertEqual(t["params"]["admin_id"], t["tenant"])
            self.assertEqual(t["params"]["from"], "2024-01-01")
            self.assertIn(t["execution"], ("simple", "prepared"))
            if t["verdict"] == "different_results":
                self.assertGreater(t["diff"]["only_in_base"], 0)
                self.assertTrue(t["diff"]["base_rows"] and t["diff"]["candidate_rows"])
                self.assertIn("member_id", t["diff"]["columns"])  # the rows come with their column names
                self.assertIn(str(t["tenant"]), t["explanation"])
                # The rows shown are real rows of the base: the member ids belong to the admin.
                db = sqlite3.connect(os.path.join(project, "demo.db"))
                for row in t["diff"]["base_rows"]:
                    owner = db.execute("SELECT admin_id FROM members WHERE id = ?", (int(row[0]),)).fetchone()
                    self.assertEqual(owner[0], t["tenant"])
            else:
                self.assertEqual(t["base"]["rows"], t["candidate"]["rows"])
        # The tenants that matter are there, each with its reason.
        whys = " | ".join("; ".join(t["why"]) for t in report["tenants"])
        for reason in ("empty", "largest by members", "smallest by orders", "median by orders", "p99", "outlier"):
            self.assertIn(reason, whys)
        self.assertIn("DIFFERENT RESULTS", out)
        # JUnit: the two tenants' different results, as CI reads it. (On SQLite the rewrite is also
        # about 20 ms slower for some small admins, where it builds an automatic index: a failure of
        # type slower may come on top, and it is a real one.)
        suite = ET.parse(self.path("v.xml")).getroot()
        failures = suite.findall(".//failure")
        self.assertEqual(len([f for f in failures if f.get("type") == "different_results"]), 2)
        self.assertTrue(all(f.get("type") in ("different_results", "slower") for f in failures))
        # HTML: self-contained, with the chart and both plans.
        html = read(self.path("v.html"))
        self.assertIn("<svg", html)
        self.assertNotRegex(html, r"(src|href)\s*=\s*[\"']?(https?:)?//")
        self.assertNotIn("<script", html)
        # Markdown for the pull request: the verdict first, then the report, each different tenant's
        # section with its rows, and the plans collapsed.
        md = read(self.path("v.md"))
        self.assertTrue(md.startswith("**FAIL**: 1 report(s) checked, 1 failed, on "), md[:200])
        self.assertIn("### member_activity_rewrite against member_activity: **FAIL**", md)
        for tenant in different:
            self.assertIn(f"#### **DIFFERENT RESULTS**, tenant {tenant} (", md)
            self.assertRegex(md, rf"\| {tenant} \((simple|prepared)\) \|.*\| \*\*DIFFERENT RESULTS\*\* \|")
        self.assertIn("rows only in candidate; the first of each:\n\n|  | ", md)
        self.assertIn("<details><summary>Details of member_activity_rewrite:", md)
        self.assertEqual(md.count("<details>"), md.count("</details>"))
        self.assertLessEqual(len(md), 60000)

    def project_with_list(self, name, list_sql):
        """A copy of the example project whose [tenant] list is list_sql (None: no list)."""
        project = self.path(name)
        shutil.copytree(Example.get(), project, symlinks=True)
        toml = read(os.path.join(project, "strata.toml"))
        toml = toml.replace('list = "tenants.sql"\n', "" if list_sql is None else f'list = "{list_sql}"\n')
        write(os.path.join(project, "strata.toml"), toml)
        return project

    def test_every_way_of_declaring_tenants_finds_the_admins_a_rewrite_is_wrong_for(self):
        for name, list_sql in (("ids", "SELECT id FROM admins ORDER BY id"), ("none", None)):
            project = self.project_with_list(name, list_sql)
            code, out, err, doc = self.check("member_activity_rewrite", "--base-report", "member_activity",
                                             project=project)
            self.assertEqual(code, 1, name + out + err)
            report = doc["reports"][0]
            kinds = admins_of_kind(project)
            different = {kinds[t["tenant"]] for t in report["tenants"] if t["verdict"] == "different_results"}
            self.assertEqual(different, {"installments", "refunds"}, name)
            # A list of ids gets Strata's own dimensions: rows per tenant in each table the report reads.
            self.assertIn("orders", report["dimensions"], name)
            self.assertIn("payments", report["dimensions"], name)
            # Every tenant's rows were compared: the picked ones and the sweep's.
            # (Without a list, the tenants are those found in the tables: the empty admin has no rows.)
            total = len(kinds) if list_sql else len(kinds) - 1
            self.assertEqual(report["tenants_total"], total, name)
            self.assertEqual(report["results_compared"], total, name)
            self.assertIn(f"results compared for {total} of {total} tenants", out)
            # Why each is picked names its value feature, in words: "up to 40 rows of payments per order_id".
            whys = " | ".join("; ".join(t["why"]) for t in report["tenants"])
            self.assertRegex(whys, r"up to \d+ rows of payments per order_id \(typical tenant: at most 1\)")

    def test_no_tenant_compared_is_never_a_pass(self):
        project = self.project_with_list("nobody", "SELECT id FROM admins WHERE id < 0")
        code, out, err, doc = self.check("member_activity_fast", "--base-report", "member_activity", project=project,
                                         *("--junit", self.path("v.xml")))
        self.assertEqual(code, 1, out + err)
        report = doc["reports"][0]
        self.assertEqual(doc["verdict"], "fail")
        self.assertEqual((report["tenants_total"], report["results_compared"]), (0, 0))
        self.assertIn("returned no tenants", report["error"])
        self.assertIn("ERROR", out)
        self.assertEqual(ET.parse(self.path("v.xml")).getroot().get("errors"), "1")
        # A report over no table that carries the tenant, without a list: an error that says what to do.
        folder = self.path("no-tenant-table")
        os.makedirs(os.path.join(folder, "reports"))
        os.symlink(os.path.join(Example.get(), "demo.db"), os.path.join(folder, "demo.db"))
        write(os.path.join(folder, "reports", "a.sql"), "SELECT count(*) AS n FROM admins WHERE :admin_id IS NOT NULL")
        write(os.path.join(folder, "strata.toml"),
              '[database]\nurl = "sqlite:demo.db"\n[tenant]\nparam = "admin_id"\n'
              '[reports.a]\nsql = "reports/a.sql"\n[reports.a.params]\nadmin_id = { type = "bigint" }\n')
        code, out, err, doc = self.check("a", "--base-report", "a", project=folder)
        self.assertEqual(code, 1, out + err)
        self.assertIn("--tenants", doc["reports"][0]["error"])
        self.assertEqual(doc["reports"][0]["results_compared"], 0)

    def test_the_sweep_finds_a_wrong_tenant_the_picks_left_out(self):
        project = Example.get()
        kinds = admins_of_kind(project)
        code, out, err, doc = self.check("member_activity_rewrite", "--base-report", "member_activity",
                                         "--max-tenants", "1")
        self.assertEqual(code, 1, out + err)
        report = doc["reports"][0]
        # A tenant swept as far slower on its one run is checked in full, and may pass there (or be
        # confirmed slower: see the JUnit note in the first test).
        swept = [t for t in report["tenants"] if t["found_by_sweep"] and t["verdict"] == "different_results"]
        self.assertTrue(swept, report["tenants"])
        self.assertTrue({kinds[t["tenant"]] for t in swept} <= {"installments", "refunds"})
        self.assertIn("found by the sweep: its rows differed on one run", swept[0]["why"])
        others = {t["verdict"] for t in report["tenants"] if t["found_by_sweep"]} - {"different_results"}
        self.assertTrue(others <= {"pass", "slower"}, report["tenants"])
        self.assertEqual(report["results_compared"], len(kinds))
        self.assertGreater(report["sweep"]["compared"], 0)
        # Without the sweep, the one picked tenant is all that was compared, and the output says so.
        code, out, err, doc = self.check("member_activity_fast", "--base-report", "member_activity",
                                         "--max-tenants", "1", "--sweep-budget", "0")
        self.assertEqual(code, 0, out + err)
        self.assertEqual(doc["reports"][0]["results_compared"], 1)
        self.assertIn(f"results compared for 1 of {len(kinds)} tenants", out)

    def test_benign_rewrite_passes(self):
        code, out, err, doc = self.check("member_activity_fast", "--base-report", "member_activity")
        self.assertEqual(code, 0, out + err)
        self.assertEqual(doc["verdict"], "pass")
        self.assertTrue(all(t["verdict"] == "pass" for t in doc["reports"][0]["tenants"]))

    def test_identical_and_reformatted_sql_never_fail(self):
        # Strict thresholds (1.2x, no absolute minimum) so that only the noise rule stands between
        # timing noise and a false alarm; 20 runs in a row must all pass.
        project = os.path.join(self.path("p"))
        shutil.copytree(Example.get(), project, symlinks=True)
        sql = read(os.path.join(project, "reports", "member_activity.sql"))
        reformatted = "/* reformatted */\n" + "\n".join("    " + line.strip() for line in sql.splitlines()
                                                         if not line.strip().startswith("--"))
        reformatted = reformatted.replace("SELECT", "select").replace(" FROM ", "\n  from ")
        write(os.path.join(project, "reports", "reformatted.sql"), reformatted)
        write(os.path.join(project, "strata.toml"), mode="a", text=('\n[reports.reformatted]\nsql = "reports/reformatted.sql"\n'
                    '[reports.reformatted.params]\nadmin_id = { type = "bigint" }\n'
                    'from = { type = "date", default = "2024-01-01" }\nto = { type = "date", default = "2025-01-01" }\n'))
        for k in range(20):
            candidate = "member_activity" if k % 2 == 0 else "reformatted"
            code, out, err, doc = self.check(candidate, "--base-report", "member_activity", "--slower-ratio", "1.2",
                                             "--min-slower-ms", "0", "--max-tenants", "8", "--repetitions", "5",
                                             project=project)
            self.assertEqual(code, 0, f"run {k}: {out}{err}")

    def test_a_candidate_that_never_ends_is_a_timeout_not_a_hang(self):
        project = self.path("slow")
        os.makedirs(os.path.join(project, "reports"))
        shutil.copy(os.path.join(Example.get(), "demo.db"), os.path.join(project, "demo.db"))
        write(os.path.join(project, "reports", "base.sql"),
            "SELECT count(*) AS orders FROM orders WHERE admin_id = :admin_id")
        # A cross join the size of the orders table squared: hours, not milliseconds.
        write(os.path.join(project, "reports", "slow.sql"),
            "SELECT count(*) AS orders FROM orders a, orders b WHERE a.admin_id = :admin_id OR b.id > 0")
        write(os.path.join(project, "strata.toml"),
            '[database]\nurl = "sqlite:demo.db"\n[tenant]\nparam = "admin_id"\n'
            '[reports.base]\nsql = "reports/base.sql"\n[reports.base.params]\nadmin_id = { type = "bigint" }\n'
            '[reports.slow]\nsql = "reports/slow.sql"\n[reports.slow.params]\nadmin_id = { type = "bigint" }\n')
        import time
        start = time.monotonic()
        code, out, err, doc = self.check("slow", "--base-report", "base", "--tenants", "5", "--max-tenants", "2",
                                         project=project)
        self.assertLess(time.monotonic() - start, 60)
        self.assertEqual(code, 1, out + err)
        verdicts = {t["verdict"] for t in doc["reports"][0]["tenants"]}
        self.assertEqual(verdicts, {"timeout"})
        t = doc["reports"][0]["tenants"][0]
        self.assertTrue(t["candidate"]["timed_out"])
        self.assertGreaterEqual(t["ratio"], 10)
        self.assertIn("timed out", out)
        # The tenants were found by profiling the tables the report reads (no tenant list here).
        self.assertEqual(doc["reports"][0]["dimensions"], ["orders"])

    def test_base_from_a_git_ref_leaves_the_working_tree_alone(self):
        repo = self.path("repo")
        project = os.path.join(repo, "reports-project")
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("demo.db*"))
        os.symlink(os.path.join(Example.get(), "demo.db"), os.path.join(project, "demo.db"))
        git = lambda *a: subprocess.run(["git", "-C", repo, *a], check=True, capture_output=True, text=True).stdout
        git("init", "-q")
        git("-c", "user.name=t", "-c", "user.email=t@t", "add", "reports-project/strata.toml", "reports-project/reports",
            "reports-project/tenants.sql")
        git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
        # The change under review: member_activity becomes the wrong rewrite, uncommitted.
        shutil.copy(os.path.join(project, "reports", "member_activity_rewrite.sql"),
                    os.path.join(project, "reports", "member_activity.sql"))
        before = git("status", "--porcelain"), git("rev-parse", "HEAD"), git("stash", "list")
        code, out, err, doc = self.check("--base", "HEAD", project=project)
        self.assertEqual(code, 1, out + err)
        self.assertEqual([r["report"] for r in doc["reports"]], ["member_activity"])  # only what changed
        self.assertTrue(doc["base"].startswith("HEAD ("))
        self.assertEqual(before, (git("status", "--porcelain"), git("rev-parse", "HEAD"), git("stash", "list")))
        # Nothing changed against itself: nothing to check, and that passes.
        code, out, err, doc = self.check("--base", project, project=project)
        self.assertEqual(code, 0, out + err)
        self.assertIn("nothing to check", err)
        # An error in the base's SQL names its file as git does, not the temporary copy it ran from.
        path = os.path.join(project, "reports", "member_activity.sql")
        with open(path) as f:
            good = f.read()
        with open(path, "w") as f:
            f.write("select no_such_column from members where admin_id = :admin_id and :from < :to")
        git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "broken base")
        with open(path, "w") as f:
            f.write(good)
        code, out, err, doc = self.check("--base", "HEAD", "member_activity", "--max-tenants", "2", project=project)
        self.assertEqual(code, 1, out + err)
        self.assertIn("HEAD:reports-project/reports/member_activity.sql:1:", json.dumps(doc))
        self.assertNotIn("strata-base-", json.dumps(doc))

    def test_usage_and_database_errors(self):
        project = Example.get()
        cases = [
            (["--base", "no-such-ref-or-folder"], 2, "no-such-ref-or-folder"),
            (["member_activity"], 2, "--base"),
            (["nope", "--base-report", "member_activity"], 2, "no report 'nope'"),
            (["member_activity", "--base-report", "member_activity", "--execution", "sometimes"], 2, "--execution"),
            (["member_activity", "--base-report", "member_activity", "--tenants", "abc"], 2, "abc"),
            (["member_activity", "--base-report", "member_activity", "--repetitions", "0"], 2, "--repetitions"),
            (["member_activity", "--base-report", "member_activity", "--database", "sqlite:" + self.path("none.db")],
             3, "none.db"),
            (["member_activity", "--base-report", "member_activity", "--database",
              "postgresql://nobody@127.0.0.1:1/none"], 3, "cannot connect"),
        ]
        for args, want, says in cases:
            code, out, err, _ = self.check(*args, project=project)
            self.assertEqual(code, want, f"{args}: {out}{err}")
            self.assertIn(says, err, args)
            self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertFalse(os.path.exists(self.path("verdict.json")))


if __name__ == "__main__":
    unittest.main()
