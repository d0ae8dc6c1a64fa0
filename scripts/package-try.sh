#!/usr/bin/env bash
# Tries the Debian package on a fresh Debian 12: `scripts/package-try.sh DEB [ROOT]`. Makes a minimal
# Debian 12 root with debootstrap (from the machine's own apt source), installs the package there
# with apt-get (which must find every library it declares), and runs strata in it: --version, the
# installed example generated into SQLite, an export, a check. Needs root. ROOT is kept for reuse.
set -euo pipefail
deb=$(realpath "$1")
root=${2:-/tmp/strata-debian12}
if [ ! -x "$root/usr/bin/apt-get" ]; then
  command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
  # The machine's own Debian mirror: the URIs of its debian.sources, else the first "deb" line.
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list)
  debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
fi
mount -t proc proc "$root/proc"
trap 'umount "$root/proc"' EXIT
cp "$deb" "$root/tmp/strata.deb"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root bash -c "$1"; }
in_root "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /tmp/strata.deb >/dev/null"
in_root "strata --version"
in_root "cd /tmp && rm -rf try && mkdir try && cd try && strata demo 2>&1 | head -3"  # says where the example is
in_root "cd /tmp/try && cp -r /usr/share/strata/examples/admin-reports . &&
         strata generate --project admin-reports --scale 0.02 -q &&
         strata export --project admin-reports member_activity -p admin_id=1 -o a.xlsx -q && ls -l a.xlsx"
# The wrong rewrite must fail the gate (exit 1), here as anywhere.
code=0
in_root "cd /tmp/try && strata check --project admin-reports member_activity_rewrite --base-report member_activity \
         -q --json verdict.json" || code=$?
[ "$code" -eq 1 ] || { echo "strata check exited $code, expected 1 (a failing verdict)" >&2; exit 1; }
echo "the package installed and ran on Debian $(cat "$root/etc/debian_version")"
