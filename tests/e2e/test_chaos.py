"""strata serve under faults on PostgreSQL (bench/chaos/run.py, smaller): three processes share one
job store and files folder; processes are killed with SIGKILL and restarted, and PostgreSQL is
restarted once, while 100 exports run. Every export must end done exactly once with its exact rows,
and nothing may be left in the files folder. The script starts its own PostgreSQL."""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CHAOS = os.path.join(HERE, "..", "..", "bench", "chaos", "run.py")


class ChaosTest(unittest.TestCase):
    def test_every_export_ends_done_once_through_kills_and_a_database_restart(self):
        run = subprocess.run([sys.executable, CHAOS, "--exports", "100", "--seed", "7"], capture_output=True,
                             text=True, timeout=900)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("| exports done exactly once, files complete, nothing left behind | yes |", run.stdout)
        self.assertRegex(run.stdout, r"\| processes killed with SIGKILL \(and restarted\) \| [1-9]")
        self.assertIn("| PostgreSQL restarts | 1", run.stdout)


if __name__ == "__main__":
    unittest.main()
