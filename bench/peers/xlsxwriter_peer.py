#!/usr/bin/python3
"""XlsxWriter peer for Strata's streaming .xlsx writer benchmark.

Usage:  /usr/bin/python3 xlsxwriter_peer.py OUT.xlsx [N]    (N defaults to 1000000)
        (Debian's python3-xlsxwriter installs for /usr/bin/python3.)

Measures: wall time of an XlsxWriter workbook in constant_memory mode
generating the shared workload (bold header + N data rows; row definitions at
the top of run_peers.sh) and writing it with the typed write_* calls, up to and
including workbook.close(). Dates are datetime.date / datetime.datetime values
written with write_datetime and a number format. Prints one JSON line on stdout.
"""
import datetime
import json
import os
import sys
import time

import xlsxwriter

HEADERS = ["id", "name", "qty", "price", "ratio",
           "created", "updated", "active", "big", "note"]


def main():
    if not 2 <= len(sys.argv) <= 3:
        sys.exit("usage: xlsxwriter_peer.py OUT.xlsx [N]")
    path = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) == 3 else 1000000
    if not 0 <= n <= 1048575:
        sys.exit("bad N: %d (0..1048575)" % n)

    base_date = datetime.date(2020, 1, 1)
    base_ts = datetime.datetime(2020, 1, 1)
    day = datetime.timedelta(days=1)
    second = datetime.timedelta(seconds=1)

    t0 = time.perf_counter()

    wb = xlsxwriter.Workbook(path, {"constant_memory": True})
    ws = wb.add_worksheet()
    bold = wb.add_format({"bold": True})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ts_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})

    for c, h in enumerate(HEADERS):
        ws.write_string(0, c, h, bold)

    write_number = ws.write_number
    write_string = ws.write_string
    write_datetime = ws.write_datetime
    write_boolean = ws.write_boolean
    for i in range(n):
        r = i + 1
        write_number(r, 0, i + 1)
        write_string(r, 1, "member-%d 김민준 café" % i)
        write_number(r, 2, (i * 7919) % 1000)
        write_number(r, 3, ((i * 104729) % 1000000) / 100)
        write_number(r, 4, (i % 1000) / 7.0)
        write_datetime(r, 5, base_date + (i % 2000) * day, date_fmt)
        write_datetime(r, 6, base_ts + ((i * 37) % 157680000) * second, ts_fmt)
        write_boolean(r, 7, i % 3 == 0)
        write_number(r, 8, i * 1000003)
        write_string(r, 9, "order #%d <ok> & done" % i)

    wb.close()
    secs = time.perf_counter() - t0

    print(json.dumps({
        "peer": "xlsxwriter",
        "rows": n,
        "seconds": round(secs, 6),
        "rows_per_s": round(n / secs, 1) if secs > 0 else 0.0,
        "bytes": os.path.getsize(path),
    }))


if __name__ == "__main__":
    main()
