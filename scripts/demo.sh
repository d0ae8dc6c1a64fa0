#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds strata, loads the example
# admin-reports project into a SQLite file, and exports the heaviest admin's reports.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
echo "== building strata (a few minutes the first time)"
scripts/build.sh build
strata=build/src/strata
project=examples/admin-reports
db=$project/demo.db

if [ ! -f "$db" ]; then
  echo "== loading the example data into $db"
  sqlite3 "$db.loading" <"$project/schema.sql"
  sqlite3 "$db.loading" <"$project/seed/sqlite.sql"
  mv "$db.loading" "$db"
fi

echo "== reports in $project"
$strata reports --project "$project"

# The tenant list says how big each admin is; the heaviest is the one a slow export hurts.
heaviest=$($strata export --project "$project" --sql "$project/tenants.sql" -o - --format csv -q |
  tail -n +2 | sort -t, -k3 -n -r | head -n 1 | cut -d, -f1)
mkdir -p exports
echo "== exporting admin $heaviest (the heaviest) to exports/"
$strata export --project "$project" member_activity --param admin_id="$heaviest" \
  -o "exports/member_activity_$heaviest.xlsx"
$strata export --project "$project" payments_ledger --param admin_id="$heaviest" \
  --param from=2023-01-01 --param to=2025-07-01 -o "exports/payments_ledger_$heaviest.xlsx"
$strata export --project "$project" payments_ledger --param admin_id="$heaviest" \
  --param from=2023-01-01 --param to=2025-07-01 -o "exports/payments_ledger_$heaviest.csv" --bom
echo "== done: open exports/*.xlsx in Excel or LibreOffice"
