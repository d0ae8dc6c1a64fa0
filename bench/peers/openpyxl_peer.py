#!/usr/bin/python3
"""openpyxl peer for Strata's streaming .xlsx writer benchmark.

Usage:  /usr/bin/python3 openpyxl_peer.py OUT.xlsx [N]    (N defaults to 1000000)
        (Debian's python3-openpyxl installs for /usr/bin/python3.)

Measures: wall time of an openpyxl write_only workbook generating the shared
workload (bold header + N data rows; row definitions at the top of
run_peers.sh) and appending it row by row, up to and including wb.save().
The header cells are WriteOnlyCells with Font(bold=True); 'created' and
'updated' are WriteOnlyCells holding date / datetime values with an explicit
number_format. Prints one JSON line on stdout.
"""
import datetime
import json
import os
import sys
import time

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

HEADERS = ["id", "name", "qty", "price", "ratio",
           "created", "updated", "active", "big", "note"]


def main():
    if not 2 <= len(sys.argv) <= 3:
        sys.exit("usage: openpyxl_peer.py OUT.xlsx [N]")
    path = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) == 3 else 1000000
    if not 0 <= n <= 1048575:
        sys.exit("bad N: %d (0..1048575)" % n)

    base_date = datetime.date(2020, 1, 1)
    base_ts = datetime.datetime(2020, 1, 1)
    day = datetime.timedelta(days=1)
    second = datetime.timedelta(seconds=1)

    t0 = time.perf_counter()

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    bold = Font(bold=True)

    header = []
    for h in HEADERS:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        header.append(cell)
    ws.append(header)

    append = ws.append
    for i in range(n):
        created = WriteOnlyCell(ws, value=base_date + (i % 2000) * day)
        created.number_format = "yyyy-mm-dd"
        updated = WriteOnlyCell(ws, value=base_ts + ((i * 37) % 157680000) * second)
        updated.number_format = "yyyy-mm-dd hh:mm:ss"
        append([
            i + 1,
            "member-%d 김민준 café" % i,
            (i * 7919) % 1000,
            ((i * 104729) % 1000000) / 100,
            (i % 1000) / 7.0,
            created,
            updated,
            i % 3 == 0,
            i * 1000003,
            "order #%d <ok> & done" % i,
        ])

    wb.save(path)
    secs = time.perf_counter() - t0

    print(json.dumps({
        "peer": "openpyxl",
        "rows": n,
        "seconds": round(secs, 6),
        "rows_per_s": round(n / secs, 1) if secs > 0 else 0.0,
        "bytes": os.path.getsize(path),
    }))


if __name__ == "__main__":
    main()
