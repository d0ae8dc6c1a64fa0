#!/usr/bin/env bash
# Run the peer .xlsx writers that Strata's streaming writer is benchmarked
# against, each on the same generated workload, and report speed and memory.
#
# Usage: run_peers.sh OUTDIR [N]        (N defaults to 1000000)
#
# Peers (all in this directory):
#   libxlsxwriter_peer.c   C libxlsxwriter, constant_memory   (built into OUTDIR)
#   exceljs_peer.mjs       ExcelJS 4.4.0 streaming WorkbookWriter (node_modules here)
#   xlsxwriter_peer.py     Python XlsxWriter, constant_memory
#   openpyxl_peer.py       Python openpyxl, write_only
#
# Workload (every peer generates it in-process): one worksheet, a bold header
# row "id,name,qty,price,ratio,created,updated,active,big,note", then rows
# i = 0..N-1:
#   id      = i+1                                  (integer)
#   name    = "member-{i} 김민준 café"              (UTF-8 text)
#   qty     = (i*7919) % 1000                      (integer)
#   price   = ((i*104729) % 1000000) / 100         (number, 2 decimals)
#   ratio   = (i % 1000) / 7.0                     (double)
#   created = 2020-01-01 + (i % 2000) days         (date, "yyyy-mm-dd")
#   updated = 2020-01-01 00:00:00 + ((i*37) % 157680000) s
#                                                  (datetime, "yyyy-mm-dd hh:mm:ss")
#   active  = (i % 3 == 0)                         (boolean)
#   big     = i * 1000003                          (integer)
#   note    = "order #{i} <ok> & done"             (text)
#
# Each peer writes OUTDIR/<peer>.xlsx and prints one JSON line
#   {"peer", "rows", "seconds", "rows_per_s", "bytes"}
# where "seconds" is the wall time of its generate+write loop including the
# file close. This script runs each under /usr/bin/time -f '%M' and prints that
# line with "peak_rss_kib" (the peer process's peak resident set, KiB) added.
# Needs: cc + libxlsxwriter-dev, node + npm, Debian python3-xlsxwriter and
# python3-openpyxl (for /usr/bin/python3), and the `time` package.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 OUTDIR [N]" >&2
    exit 2
fi
OUTDIR=$1
N=${2:-1000000}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
TIME=/usr/bin/time

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

# Build the C peer (pkg-config name "xlsxwriter"; plain -lxlsxwriter otherwise).
LXW_FLAGS=$(pkg-config --cflags --libs xlsxwriter 2>/dev/null || echo -lxlsxwriter)
# shellcheck disable=SC2086  # word splitting of the flags is intended
cc -O2 "$HERE/libxlsxwriter_peer.c" $LXW_FLAGS -o "$OUTDIR/lxw_peer"

# ExcelJS is resolved from node_modules next to this script.
if [[ ! -d "$HERE/node_modules" ]]; then
    (cd "$HERE" && npm ci --silent)
fi

status=0
# run_peer NAME COMMAND...: runs COMMAND OUTDIR/NAME.xlsx N under /usr/bin/time.
run_peer() {
    local name=$1; shift
    local out="$OUTDIR/$name.xlsx" rss_file="$OUTDIR/$name.rss" line rss
    rm -f "$out" "$rss_file"
    if ! line=$("$TIME" -f '%M' -o "$rss_file" "$@" "$out" "$N"); then
        echo "run_peers.sh: peer $name failed" >&2
        status=1
        return 0
    fi
    rss=$(tr -d '[:space:]' < "$rss_file")
    echo "${line%\}}, \"peak_rss_kib\": ${rss}}"
}

run_peer libxlsxwriter "$OUTDIR/lxw_peer"
run_peer exceljs node "$HERE/exceljs_peer.mjs"
run_peer xlsxwriter "$PY" "$HERE/xlsxwriter_peer.py"
run_peer openpyxl "$PY" "$HERE/openpyxl_peer.py"

exit "$status"
