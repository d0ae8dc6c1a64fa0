#!/usr/bin/env bash
# Strata's job queue against graphile-worker, on the same PostgreSQL server in
# the same run: tiny jobs, throughput of enqueue, of processing a backlog, and
# of both at once (README.md beside this file says what each one times).
#
# Usage: run_queue_bench.sh PG_URL [STRATA_QUEUE_BENCH_BIN]
#
#   PG_URL                  a libpq URL of a database both sides may use (the
#                           peer drops and recreates schema graphile_worker)
#   STRATA_QUEUE_BENCH_BIN  Strata's queue_bench; if it is missing or not
#                           executable, only the peer runs
# Environment (defaults):
#   JOBS=20000              N, jobs per phase
#   CONCURRENCY="1 4"       the K values (enqueuers, and worker concurrency)
#   ROUNDS=3                runs of each side per K, alternating which goes first
#   PEER_TABLES="fresh primed"  graphile-worker on a new table as is, and/or with
#                           steady-state planner statistics (graphile_peer.mjs --prime)
#   PEER_MODES=both         graphile-worker configurations: default, batched or both
#
# Both programs take `--url URL --jobs N --concurrency K` and print JSON lines
# with "peer", "concurrency", "enqueue_per_second", "process_per_second" and
# "mixed_per_second". This prints every line as it comes, then a Markdown table
# per K: the median of the rounds (min-max in brackets) and strata's median
# divided by each peer row's (above 1.00 means Strata is faster), and by the
# best peer median of each column.
# Needs: node + npm (npm ci runs here if node_modules is missing), python3, and
# psql for a CHECKPOINT before each run (skipped without).
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 PG_URL [STRATA_QUEUE_BENCH_BIN]" >&2
    exit 2
fi
URL=$1
STRATA=${2:-}
JOBS=${JOBS:-20000}
CONCURRENCY=${CONCURRENCY:-"1 4"}
ROUNDS=${ROUNDS:-3}
PEER_TABLES=${PEER_TABLES:-"fresh primed"}
PEER_MODES=${PEER_MODES:-both}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [[ ! -d "$HERE/node_modules" ]]; then
    (cd "$HERE" && npm ci --silent --no-audit --no-fund)
fi
if [[ -n "$STRATA" && ! -x "$STRATA" ]]; then
    echo "run_queue_bench.sh: $STRATA is not an executable; running graphile-worker only" >&2
    STRATA=""
elif [[ -z "$STRATA" ]]; then
    echo "run_queue_bench.sh: no STRATA_QUEUE_BENCH_BIN given; running graphile-worker only" >&2
fi

RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT
status=0

# run LABEL COMMAND...: one run after a CHECKPOINT; keeps its JSON lines.
run() {
    local label=$1 out; shift
    if command -v psql >/dev/null; then psql -qX "$URL" -c checkpoint >/dev/null 2>&1 || true; fi
    echo "# $label" >&2
    if ! out=$("$@"); then
        echo "run_queue_bench.sh: $label failed" >&2
        status=1
    fi
    grep '^{' <<<"$out" | tee -a "$RESULTS" || true
}

strata() {
    [[ -n "$STRATA" ]] || return 0
    run "strata K=$1" "$STRATA" --url "$URL" --jobs "$JOBS" --concurrency "$1"
}

peer() {
    local table flags
    for table in $PEER_TABLES; do
        flags=()
        [[ $table == primed ]] && flags=(--prime)
        run "graphile-worker K=$1 $table" node "$HERE/graphile_peer.mjs" --url "$URL" --jobs "$JOBS" \
            --concurrency "$1" --mode "$PEER_MODES" "${flags[@]}"
    done
}

for k in $CONCURRENCY; do
    for ((round = 1; round <= ROUNDS; round++)); do
        if ((round % 2)); then strata "$k"; peer "$k"; else peer "$k"; strata "$k"; fi
    done
done

echo
python3 - "$RESULTS" "$JOBS" <<'PY'
import collections, json, statistics, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
jobs = int(sys.argv[2])
METRICS = ("enqueue_per_second", "process_per_second", "mixed_per_second")

def label(r):
    if r["peer"] == "strata":
        return "strata" + (f" {r['mode']}" if r.get("mode") else "")
    parts = [r["peer"], r.get("version", ""), r.get("mode", ""), r.get("table", "")]
    return " ".join(p for p in parts if p)

groups = collections.OrderedDict()
for r in rows:
    groups.setdefault((r["concurrency"], label(r)), []).append(r)

for k in sorted({key[0] for key in groups}):
    keys = [key for key in groups if key[0] == k]
    strata = next((key for key in keys if key[1].startswith("strata")), None)
    med = {key: {m: statistics.median(r[m] for r in groups[key]) for m in METRICS} for key in keys}
    print(f"N = {jobs:,} jobs, K = {k}; median of {max(len(groups[key]) for key in keys)} runs (min-max)\n")
    print("| runner | enqueue/s | process/s | mixed/s | strata ÷ runner: enqueue | process | mixed |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for key in keys:
        cells = []
        for m in METRICS:
            vals = [r[m] for r in groups[key]]
            cells.append(f"{med[key][m]:,.0f} ({min(vals):,}–{max(vals):,})")
        ratios = [f"{med[strata][m] / med[key][m]:.2f}" if strata else "–" for m in METRICS]
        print(f"| {key[1]} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    peers = [key for key in keys if key != strata]
    if len(peers) > 1:
        best = {m: max(med[key][m] for key in peers) for m in METRICS}
        cells = [f"{best[m]:,.0f}" for m in METRICS]
        ratios = [f"{med[strata][m] / best[m]:.2f}" if strata else "–" for m in METRICS]
        print("| best graphile-worker row, per column | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    print()
PY
exit "$status"
