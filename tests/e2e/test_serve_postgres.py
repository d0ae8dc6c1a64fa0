"""strata serve with its job queue and its reports on PostgreSQL. Two server processes share the
queue (FOR UPDATE SKIP LOCKED, LISTEN/NOTIFY); one is killed with -9 mid-export and the other
finishes the job once; a DELETE stops the database query itself (pg_stat_activity shows it gone);
a PostgreSQL restart in the middle of an export is retried and finished. The restart needs a server
of its own: this test starts one with scripts/pg.sh and stops it at the end."""

import faulthandler
import glob
import hashlib
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import psycopg2

from strata_e2e import PG_URL, STRATA, fresh_database, free_port, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
KEY = "strata_test_service_key"

TOML = """
[database]
statement_timeout = "5min"
[tenant]
param = "tenant_id"
[reports.many_rows]
sql = "many_rows.sql"
[reports.many_rows.params]
tenant_id = {{ type = "bigint" }}
rows = {{ type = "bigint", default = "1000" }}
[reports.sleepy]
sql = "sleepy.sql"
[reports.sleepy.params]
tenant_id = {{ type = "bigint" }}
seconds = {{ type = "numeric", default = "30" }}
[reports.sleepy_limited]
sql = "sleepy.sql"
statement_timeout = "1s"
[reports.sleepy_limited.params]
tenant_id = {{ type = "bigint" }}
seconds = {{ type = "numeric", default = "30" }}
[reports.broken_column]
sql = "broken_column.sql"
[reports.broken_column.params]
tenant_id = {{ type = "bigint" }}
[reports.broken_division]
sql = "broken_division.sql"
[reports.broken_division.params]
tenant_id = {{ type = "bigint" }}
[serve]
files = "{files}"
[[serve.keys]]
sha256 = "{sha}"
role = "service"
"""


def call(port, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def job(port, id):
    status, body = call(port, "GET", "/api/v1/exports/" + id)
    if status == 503:  # the job store's server is restarting: ask again
        return {"state": "unknown", "rows": 0}
    assert status == 200, (status, body)
    return json.loads(body)


class Servers:
    """strata serve processes on one project; stopped at the end of the test."""

    def __init__(self, test, project, jobs_url, database_url):
        self.test, self.project, self.jobs, self.database = test, project, jobs_url, database_url
        self.procs = []
        test.addCleanup(self.stop_all)

    def start(self, *extra, jobs=None):
        port = free_port()
        log = open(os.path.join(self.project, f"serve-{port}.log"), "wb")
        p = subprocess.Popen([STRATA, "serve", "--project", self.project, "--listen", f"127.0.0.1:{port}",
                              "--jobs", jobs or self.jobs, "--database", self.database, *extra],
                             stdout=log, stderr=subprocess.STDOUT)
        p.port, p.log = port, log.name
        self.procs.append(p)
        wait_for("the server to answer", lambda: self._healthy(p), timeout=30)
        return p

    def _healthy(self, p):
        if p.poll() is not None:
            raise AssertionError(f"strata serve exited with {p.returncode}: " + open(p.log).read())
        try:
            return call(p.port, "GET", "/healthz")[0] == 200
        except OSError:
            return False

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


@unittest.skipUnless(PG_URL, "STRATA_TEST_PG is not set")
class SharedQueueTest(unittest.TestCase):
    """Two processes, one queue in PostgreSQL, reports on PostgreSQL."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="strata-serve-pg-")
        self.files = os.path.join(self.tmp, "exports")
        name = f"serve_pg_{os.getpid()}"
        self.url = fresh_database(name)
        self.addCleanup(self._drop, name)
        write_project(self.tmp, self.files)
        self.servers = Servers(self, self.tmp, self.url, self.url)

    def _drop(self, name):
        con = psycopg2.connect(PG_URL)
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        con.close()

    def post(self, port, report, **params):
        status, body = call(port, "POST", "/api/v1/exports", {"report": report, "params": params, "format": "csv"})
        self.assertEqual(status, 202, body)
        return json.loads(body)["id"]

    def test_cancel_stops_the_database_query(self):
        a = self.servers.start()
        id = self.post(a.port, "sleepy", tenant_id=1, seconds=60)
        wait_for("the export to run", lambda: job(a.port, id)["state"] == "running")
        wait_for("the query to reach the database", lambda: self.sleeping() > 0, timeout=20)
        started = time.time()
        status, body = call(a.port, "DELETE", "/api/v1/exports/" + id)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["state"], "cancelled")
        self.assertLess(time.time() - started, 5)
        wait_for("the query to leave the database", lambda: self.sleeping() == 0, timeout=5)
        self.assertEqual(glob.glob(os.path.join(self.files, id + "*")), [])

    def sleeping(self):
        con = psycopg2.connect(self.url)
        with con.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep%' "
                        "AND pid <> pg_backend_pid()")
            n = cur.fetchone()[0]
        con.close()
        return n

    def test_a_reports_statement_timeout_fails_the_export_without_retrying(self):
        a = self.servers.start("--retry-backoff", "100ms")
        id = self.post(a.port, "sleepy_limited", tenant_id=1, seconds=30)
        started = time.time()
        done = wait_for("the export to end",
                        lambda: (lambda j: j if j["state"] in ("done", "failed") else None)(job(a.port, id)), timeout=30)
        self.assertEqual(done["state"], "failed", done)
        self.assertEqual(done["attempt"], 1, "a timeout was retried")
        self.assertIn("timeout", done["error"].lower())
        self.assertLess(time.time() - started, 15)
        wait_for("the query to leave the database", lambda: self.sleeping() == 0, timeout=5)

    def test_a_broken_report_fails_on_its_first_attempt_with_the_database_s_message(self):
        # A backoff far longer than the test: a retry would show as an export still queued.
        a = self.servers.start("--retry-backoff", "60s")
        for report, words in (("broken_column", ["broken_column.sql:2:", "no_such_column does not exist"]),
                              ("broken_division", ["division by zero"])):
            id = self.post(a.port, report, tenant_id=1)
            done = wait_for("the export to fail",
                            lambda: (lambda j: j if j["state"] in ("done", "failed") else None)(job(a.port, id)),
                            timeout=20)
            self.assertEqual(done["state"], "failed", done)
            self.assertEqual(done["attempt"], 1, done)
            self.assertNotIn("attempts", done["error"])
            for word in words:
                self.assertIn(word, done["error"])
        self.assertNotIn("will be retried", open(a.log).read())

    def test_worker_killed_mid_export_another_finishes_it_once(self):
        a = self.servers.start("--lease", "2s", "--workers", "1")
        b = self.servers.start("--lease", "2s", "--workers", "1")
        id = self.post(a.port, "many_rows", tenant_id=3, rows=3000000)
        wait_for("the export to make progress",
                 lambda: (lambda j: j if j["state"] == "running" and j["rows"] > 0 else None)(job(a.port, id)))
        owner = a if f":{a.pid}/" in open(a.log).read() and id in open(a.log).read() else b
        other = b if owner is a else a
        owner.kill()
        owner.wait()
        done = wait_for("the other process to finish it",
                        lambda: (lambda j: j if j["state"] in ("done", "failed") else None)(job(other.port, id)),
                        timeout=120)
        self.assertEqual(done["state"], "done", done)
        self.assertEqual(done["attempt"], 2)
        self.assertEqual(done["rows"], 3000000)
        self.assertIn(f":{other.pid}/", open(other.log).read())
        status, body = call(other.port, "GET", "/api/v1/exports/" + id + "/file")
        self.assertEqual(status, 200)
        lines = body.decode().splitlines()
        self.assertEqual(len(lines), 3000001)
        self.assertEqual(lines[-1].split(",")[0], "3000000")
        # Exactly one finished file for the job (the killed attempt's temporary one is an orphan
        # that the janitor removes once it is two leases old).
        finished = [f for f in os.listdir(self.files) if f.startswith(id) and not f.endswith(".partial")]
        self.assertEqual(finished, [id + "-2.csv"])

    def test_jobs_queued_in_one_process_are_run_by_another(self):
        # b has no free worker (a long export), a is idle: NOTIFY wakes a at once.
        a = self.servers.start("--workers", "1", "--tenant-limit", "4", "--max-queries", "4")
        b = self.servers.start("--workers", "1", "--tenant-limit", "4", "--max-queries", "4")
        ids = [self.post(b.port, "many_rows", tenant_id=5, rows=n) for n in (1000, 1001, 1002, 1003)]
        for id in ids:
            j = wait_for("the export to finish", lambda: (lambda j: j if j["state"] == "done" else None)(job(a.port, id)))
            self.assertEqual(j["rows"], int(job(a.port, id)["params"]["rows"]))
        logs = open(a.log).read() + open(b.log).read()
        for id in ids:
            self.assertEqual(logs.count(f"job {id} (many_rows, tenant 5, attempt 1/3) done"), 1)


def write_project(folder, files):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "strata.toml"), "w") as f:
        f.write(TOML.format(files=files, sha=hashlib.sha256(KEY.encode()).hexdigest()))
    with open(os.path.join(folder, "many_rows.sql"), "w") as f:
        f.write("SELECT g AS n, :tenant_id AS tenant, 'row ' || g AS label FROM generate_series(1, :rows) g ORDER BY g")
    with open(os.path.join(folder, "sleepy.sql"), "w") as f:
        f.write("SELECT pg_sleep(:seconds) AS slept, :tenant_id AS tenant")
    # Reports a deploy broke: a column that is not there, and a division by zero for every row.
    with open(os.path.join(folder, "broken_column.sql"), "w") as f:
        f.write("SELECT g AS n,\n       g.no_such_column AS label\nFROM generate_series(1, 10) g WHERE :tenant_id > 0")
    with open(os.path.join(folder, "broken_division.sql"), "w") as f:
        f.write("SELECT 1 / (g - g) AS ratio FROM generate_series(1, 10) g WHERE :tenant_id > 0")


class RestartTest(unittest.TestCase):
    """A PostgreSQL server of its own, restarted while an export reads from it."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="strata-serve-restart-")
        os.chmod(self.tmp, 0o755)  # the server runs as the 'postgres' user when we are root
        self.pgdir = os.path.join(self.tmp, "pg")
        started = subprocess.run([os.path.join(ROOT, "scripts", "pg.sh"), "start", self.pgdir],
                                 capture_output=True, text=True)
        self.assertEqual(started.returncode, 0, started.stderr)
        out = started.stdout
        self.addCleanup(subprocess.run, [os.path.join(ROOT, "scripts", "pg.sh"), "stop", self.pgdir])
        env = dict(re.findall(r"export (\w+)='([^']*)'", out))
        self.url, self.bin = env["STRATA_TEST_PG"], env["STRATA_TEST_PG_BIN"]
        self.files = os.path.join(self.tmp, "exports")
        write_project(os.path.join(self.tmp, "project"), self.files)
        self.servers = Servers(self, os.path.join(self.tmp, "project"), self.url, self.url)

    def pg_ctl(self, *args):
        # The server started by start/restart must not inherit a pipe of ours (we would wait for
        # it to close forever): its output goes to the log pg.sh set up.
        cmd = [os.path.join(self.bin, "pg_ctl"), "-D", os.path.join(self.pgdir, "data"), "-w",
               "-l", os.path.join(self.pgdir, "server.log"), *args]
        if os.getuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def test_restart_mid_export_is_retried_and_finished(self):
        # Long enough (12M rows) that the restart always lands mid-export, however fast the machine.
        s = self.servers.start("--retry-backoff", "500ms", "--lease", "5s")
        status, body = call(s.port, "POST", "/api/v1/exports",
                            {"report": "many_rows", "params": {"tenant_id": 9, "rows": 12000000}, "format": "csv"})
        self.assertEqual(status, 202, body)
        id = json.loads(body)["id"]
        wait_for("the export to make progress",
                 lambda: (lambda j: j["state"] == "running" and j["rows"] > 0)(job(s.port, id)))
        self.pg_ctl("restart", "-m", "fast")
        done = wait_for("the export to end",
                        lambda: (lambda j: j if j["state"] in ("done", "failed") else None)(job(s.port, id)),
                        timeout=180, every=0.3)
        self.assertEqual(done["state"], "done", done)
        self.assertGreaterEqual(done["attempt"], 2)
        self.assertEqual(done["rows"], 12000000)
        log = open(s.log).read()
        self.assertIn("will be retried", log)
        status, body = call(s.port, "GET", "/api/v1/exports/" + id + "/file")
        self.assertEqual(status, 200)
        self.assertEqual(len(body.decode().splitlines()), 12000001)

    def test_database_down_for_good_fails_after_the_attempts(self):
        s = self.servers.start("--retry-backoff", "200ms", "--attempts", "2",
                               jobs="sqlite:" + os.path.join(self.tmp, "jobs.db"))
        self.pg_ctl("stop", "-m", "fast")
        self.addCleanup(self.pg_ctl, "start")
        status, body = call(s.port, "POST", "/api/v1/exports",
                            {"report": "many_rows", "params": {"tenant_id": 9}, "format": "csv"})
        self.assertEqual(status, 202, body)
        id = json.loads(body)["id"]
        done = wait_for("the export to fail",
                        lambda: (lambda j: j if j["state"] in ("done", "failed") else None)(job(s.port, id)),
                        timeout=60)
        self.assertEqual(done["state"], "failed")
        self.assertEqual(done["attempt"], 2)
        self.assertIn("failed after 2 attempts", done["error"])
        self.assertIn("cannot connect", done["error"])


if __name__ == "__main__":
    faulthandler.dump_traceback_later(500, exit=True)
    unittest.main()
