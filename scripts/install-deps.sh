#!/usr/bin/env bash
# Installs everything Strata needs to build, test and benchmark, from Debian's packages.
# Safe to run again: packages already present are skipped by apt-get.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config clang-14 libclang-rt-14-dev clang-format
  # libraries Strata links
  libsqlite3-dev libpq-dev libisal-dev libtomlplusplus-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev zlib1g-dev libcpp-httplib-dev libssl-dev
  # tools the tests and the demo use: databases, independent .xlsx readers
  sqlite3 postgresql-15 python3 python3-openpyxl python3-psycopg2 libreoffice-calc-nogui chromium
  # benchmark peers and helpers (node and npm come with the machine, for the exceljs peer)
  libxlsxwriter-dev python3-xlsxwriter libdeflate-dev time hyperfine
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The browser test's driver, playwright-core, from npm (node and npm come with the machine; the
# browser is Debian's chromium above: playwright never downloads one).
here=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -d "$here/tests/browser/node_modules/playwright-core" ]; then
  (cd "$here/tests/browser" && npm ci --silent --no-audit --no-fund)
fi
# A third .xlsx reader for the end-to-end tests, SheetJS, from npm as well.
if [ ! -d "$here/tests/readers/node_modules/xlsx" ]; then
  (cd "$here/tests/readers" && npm ci --silent --no-audit --no-fund)
fi
