"""The watch of strata serve, through the real binary, on the example project: exports of a heavy
and a typical admin on the report's current SQL; a restart (a deploy) with a rewrite that crawls
for the heavy admin only (reports/member_activity_subqueries.sql); the watch must catch it within
10 of the heavy admin's exports, fall back to the old SQL for that admin only (its files keep the
right rows), verify the fallback, keep it across a restart in the middle of the verification, show
it in GET /api/v1/watch, /metrics, the webhook and `strata watch`, and undo it on `strata watch
release`. Once with the job store and the reports on SQLite, once on PostgreSQL."""

import csv
import hashlib
import http.server
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from strata_e2e import PG_URL, STRATA, fresh_database, free_port, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "admin-reports")
SERVICE_KEY = "strata_watch_test_service_key"
TENANT_KEY = "strata_watch_test_tenant_key"
HEAVY, TYPICAL = 98, 5  # ~2,000 members and ~13,000 orders; 67 members
REPORT = "member_activity"


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


class Webhook:
    """A local HTTP endpoint that keeps what the watch posts to it."""

    def __init__(self, test):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/strata-watch"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        test.addCleanup(self.server.server_close)
        test.addCleanup(self.server.shutdown)


class WatchScenario:
    """The scenario; subclasses say where the job store and the reports live."""

    def database(self):
        raise NotImplementedError

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="strata-watch-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.project = os.path.join(self.tmp, "project")
        shutil.copytree(EXAMPLE, self.project, ignore=shutil.ignore_patterns("*.db", "*.db-*", "exports"))
        self.webhook = Webhook(self)
        with open(os.path.join(self.project, "strata.toml"), "a") as f:
            f.write(f"""
[serve]
files = "exports"
[serve.watch]
mode = "fallback"
webhook = "{self.webhook.url}"
[[serve.keys]]
sha256 = "{sha256(SERVICE_KEY)}"
role = "service"
[[serve.keys]]
sha256 = "{sha256(TENANT_KEY)}"
tenant = {HEAVY}
""")
        self.db_url, self.jobs_url = self.database()
        self.proc = None
        self.addCleanup(self.stop)

    # The server ----------------------------------------------------------------------------

    def start(self):
        self.port = free_port()
        self.log = os.path.join(self.tmp, f"serve-{self.port}.log")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [STRATA, "serve", "--project", self.project, "--listen", f"127.0.0.1:{self.port}", "--jobs",
                 self.jobs_url, "--database", self.db_url], stdout=log, stderr=subprocess.STDOUT)
        wait_for("the server to answer", self.healthy, timeout=30)

    def healthy(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"strata serve exited with {self.proc.returncode}: " + open(self.log).read())
        try:
            return self.call("GET", "/healthz")[0] == 200
        except OSError:
            return False

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)

    def deploy(self, sql_file):
        """A restart with the report's SQL replaced by that of sql_file (same parameters)."""
        self.stop()
        shutil.copy(os.path.join(EXAMPLE, "reports", sql_file), os.path.join(self.project, "reports", REPORT + ".sql"))
        self.start()

    def call(self, method, path, body=None, key=SERVICE_KEY):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def export(self, tenant):
        """One export, to its end; returns its JSON and its rows."""
        status, body = self.call("POST", "/api/v1/exports",
                                 {"report": REPORT, "format": "csv", "params": {"admin_id": tenant}})
        self.assertEqual(status, 202, body)
        job_id = json.loads(body)["id"]

        def finished():
            status, body = self.call("GET", "/api/v1/exports/" + job_id)
            self.assertEqual(status, 200, body)
            j = json.loads(body)
            return j if j["state"] in ("done", "failed", "cancelled") else None

        j = wait_for("export " + job_id, finished, timeout=120)
        self.assertEqual(j["state"], "done", j)
        status, body = self.call("GET", j["download"])
        self.assertEqual(status, 200)
        return j, list(csv.reader(body.decode().splitlines()))

    def ledger(self):
        status, body = self.call("GET", "/api/v1/watch")
        self.assertEqual(status, 200, body)
        return {(e["report"], e["tenant"]): e for e in json.loads(body)["entries"]}

    def strata_watch(self, *args):
        return subprocess.run([STRATA, "watch", *args, "--project", self.project, "--jobs", self.jobs_url],
                              capture_output=True, text=True, timeout=60)

    # The scenario --------------------------------------------------------------------------

    def test_a_version_that_crawls_for_the_heavy_admin_falls_back_for_that_admin_only(self):
        self.start()
        heavy_rows = typical_rows = None
        for _ in range(6):
            j, heavy_rows = self.export(HEAVY)
            self.assertFalse(j["fallback"])
            _, typical_rows = self.export(TYPICAL)
        old_version = j["version"]
        self.assertRegex(old_version, r"^[0-9a-f]{12}$")
        self.assertEqual(self.ledger(), {})

        self.deploy("member_activity_subqueries.sql")
        took = None
        for n in range(1, 11):
            j, rows = self.export(HEAVY)
            self.assertFalse(j["fallback"])
            new_version = j["version"]
            self.assertEqual(rows, heavy_rows, "the rewrite returns the same rows, only slower")
            self.export(TYPICAL)
            if (REPORT, HEAVY) in self.ledger():
                took = n
                break
        self.assertIsNotNone(took, "the watch did not catch the regression within 10 exports of the heavy admin")
        self.assertNotEqual(new_version, old_version)
        entry = self.ledger()[(REPORT, HEAVY)]
        self.assertEqual(entry["state"], "fallback")
        self.assertEqual(entry["current_version"], new_version)
        self.assertEqual(entry["good_version"], old_version)
        self.assertGreater(entry["ratio"], 1.5)
        self.assertEqual(entry["runs"], took)
        self.assertNotIn((REPORT, TYPICAL), self.ledger(), "the typical admin is served well by the new version")
        # What the database says: the rewrite's plan has another shape.
        self.assertTrue(entry["attribution"]["plan_changed"], entry)
        self.assertIn("the plan changed", entry["reason"])

        # The heavy admin's next export runs the old SQL, with the same rows; the typical's, the new.
        j, rows = self.export(HEAVY)
        self.assertTrue(j["fallback"])
        self.assertEqual(j["version"], old_version)
        self.assertEqual(rows, heavy_rows)
        j, rows = self.export(TYPICAL)
        self.assertFalse(j["fallback"])
        self.assertEqual(j["version"], new_version)
        self.assertEqual(rows, typical_rows)

        # A restart in the middle of the verification: the fallback and its count go on.
        self.deploy("member_activity_subqueries.sql")
        for _ in range(2):
            j, rows = self.export(HEAVY)
            self.assertTrue(j["fallback"], "the fallback survives the restart")
            self.assertEqual(rows, heavy_rows)
        entry = self.ledger()[(REPORT, HEAVY)]
        self.assertTrue(entry["verified"], entry)
        self.assertIn("verified", entry["reason"])

        # Seen and heard.
        wait_for("the webhook", lambda: len(self.webhook.received) >= 2, timeout=30)
        self.assertEqual([e["state"] for e in self.webhook.received[:2]], ["fallback", "fallback"])
        self.assertEqual(self.webhook.received[0]["tenant"], HEAVY)
        self.assertTrue(self.webhook.received[1]["verified"])
        status, metrics = self.call("GET", "/metrics")
        self.assertIn("strata_watch_fallbacks_active 1", metrics.decode())
        status, _ = self.call("GET", "/api/v1/watch", key=TENANT_KEY)
        self.assertEqual(status, 403, "the ledger is for service keys only")
        ledger = self.strata_watch()
        self.assertEqual(ledger.returncode, 0, ledger.stderr)
        self.assertRegex(ledger.stdout, rf"{REPORT}\s+{HEAVY}\s+fallback\*\s+{new_version}\s+{old_version}")

        # An operator releases it: the heavy admin runs the new version again.
        released = self.strata_watch("release", REPORT, "--tenant", str(HEAVY))
        self.assertEqual(released.returncode, 0, released.stderr)
        time.sleep(1.2)  # the server reads the ledger again within a second (watch.h, kLedgerRefresh)
        j, _ = self.export(HEAVY)
        self.assertFalse(j["fallback"])
        self.assertEqual(self.ledger()[(REPORT, HEAVY)]["state"], "released")
        again = self.strata_watch("release", REPORT, "--tenant", str(HEAVY))
        self.assertEqual(again.returncode, 1, "nothing left to release")


class SqliteWatchTest(WatchScenario, unittest.TestCase):
    def database(self):
        db = os.path.join(self.tmp, "reports.db")
        subprocess.run([STRATA, "generate", "--database", "sqlite:" + db, "--scale", "1"], check=True,
                       capture_output=True)
        return "sqlite:" + db, "sqlite:" + os.path.join(self.tmp, "jobs.db")


@unittest.skipUnless(PG_URL, "STRATA_TEST_PG is not set")
class PostgresWatchTest(WatchScenario, unittest.TestCase):
    def database(self):
        name = f"watch_{os.getpid()}"
        url = fresh_database(name)
        self.addCleanup(self.drop, name)
        subprocess.run([STRATA, "generate", "--database", url, "--scale", "1"], check=True, capture_output=True)
        return url, url

    def drop(self, name):
        import psycopg2

        self.stop()
        con = psycopg2.connect(PG_URL)
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        con.close()


if __name__ == "__main__":
    unittest.main()
