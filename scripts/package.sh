#!/usr/bin/env bash
# Builds the Debian package of strata: `scripts/package.sh [DIR]` (default build-package). Prints the
# .deb's path. Install it with `apt-get install ./strata_*.deb`, which pulls in the libraries it
# declares (read from the binary by dpkg-shlibdeps).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-package}
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DSTRATA_BUILD_BENCH=OFF -DSTRATA_BUILD_TESTS=OFF >/dev/null
cmake --build "$dir" --target strata
(cd "$dir" && cpack -G DEB >/dev/null)
ls "$dir"/strata_*.deb
