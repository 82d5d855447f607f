#!/usr/bin/env bash
# The Debian packages neuroicl needs, in one place. Installs the missing ones when run as
# root; otherwise prints the exact apt-get line to run.
set -eu
PKGS="build-essential pkg-config libhdf5-dev hdf5-tools libpapi-dev papi-tools libcriterion-dev
      libpng-dev libzip-dev zlib1g-dev gnuplot-nox libxml2-utils unzip"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "install-deps: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "install-deps: missing Debian packages; run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
  exit 1
fi
