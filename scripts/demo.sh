#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds strata, and runs
# `strata demo`: it generates the example admin-reports project into a SQLite file (the first time),
# shows how unevenly its tenants are sized, and exports the heaviest tenant's report to exports/.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
echo "== building strata (a few minutes the first time; only the binary, not the tests)"
STRATA_TARGETS=strata scripts/build.sh build
build/src/strata demo --project examples/admin-reports
