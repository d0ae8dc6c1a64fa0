#!/usr/bin/env python3
"""What writing each sheet's <dimension> costs the .xlsx writer: the writer alone
(build/bench/xlsx_writer_bench) against a build from before the dimension, to a file (the head is
overwritten in place) and to a pipe (the deflated sheet waits in a temporary file, then is copied
out). The two builds run in turn, round after round, so load on the machine falls on both.

  bench/xlsx_dimension.py --before OLD/build/bench/xlsx_writer_bench [--rows 1000000] [--rounds 7]
"""

import argparse
import os
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
AFTER = os.path.join(HERE, "..", "build", "bench", "xlsx_writer_bench")


def run_once(binary, rows, mode, folder):
    """Seconds and peak RSS (KiB) of one run; mode 'file' writes a file, 'pipe' standard output."""
    target = os.path.join(folder, "out.xlsx") if mode == "file" else "-"
    cmd = ["/usr/bin/time", "-f", "%M", binary, target, str(rows)]
    start = time.monotonic()
    if mode == "file":
        p = subprocess.run(cmd, capture_output=True, check=True)
    else:  # through a pipe into a reader that throws the bytes away
        reader = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        p = subprocess.run(cmd, stdout=reader.stdin, stderr=subprocess.PIPE, check=True)
        reader.stdin.close()
        reader.wait()
    seconds = time.monotonic() - start
    return seconds, int(p.stderr.decode().strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="xlsx_writer_bench of a build without <dimension>")
    ap.add_argument("--after", default=AFTER)
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for mode in ("file", "pipe"):
            times = {"before": [], "after": []}
            peaks = {"before": 0, "after": 0}
            for _ in range(args.rounds):
                for name, binary in (("before", args.before), ("after", args.after)):
                    seconds, peak = run_once(binary, args.rows, mode, folder)
                    times[name].append(seconds)
                    peaks[name] = max(peaks[name], peak)
            before, after = statistics.median(times["before"]), statistics.median(times["after"])
            print(f"{mode}: before {before:.3f} s, after {after:.3f} s (median of {args.rounds}), "
                  f"after/before {after / before:.3f}; peak RSS {peaks['before'] / 1024:.1f} / "
                  f"{peaks['after'] / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
