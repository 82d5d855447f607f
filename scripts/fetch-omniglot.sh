#!/usr/bin/env bash
# Downloads the official Omniglot archives (Lake, Salakhutdinov & Tenenbaum 2015, MIT licence)
# from github.com/brendenlake/omniglot and checks their SHA-256.
#
#   scripts/fetch-omniglot.sh [DIR]            download into DIR (default $HOME/.cache/neuroicl/omniglot)
#   scripts/fetch-omniglot.sh --verify-only DIR  only check the archives already in DIR
#
# Afterwards run neuroicl with --data DIR or export NEUROICL_DATA=DIR.
# The data never goes into the repository: the default target is outside the work tree.
set -euo pipefail

BASE=https://raw.githubusercontent.com/brendenlake/omniglot/master/python
url_of() {
  case $1 in
    images_background.zip) echo "$BASE/images_background.zip" ;;
    images_evaluation.zip) echo "$BASE/images_evaluation.zip" ;;
    all_runs.zip)          echo "$BASE/one-shot-classification/all_runs.zip" ;;
  esac
}

# Checksums of the official files (same as ../shared/data/omniglot/SHA256SUMS).
SUMS="437c1eeab0af8484112e1b4cc0f3d541ec727f7c47b9b202da738af9dfd6c325  all_runs.zip
0a0bd90a9c6d1925a5ecf2993ea6bc420a12f72488833a54b63472521f4afd9e  images_background.zip
5ff00a2ed310a9b3d2c68cee443763f7646c72791c554ae69b13ef92de4d1912  images_evaluation.zip"

usage() { sed -n '2,9s/^# \{0,1\}//p' "$0"; }

verify_only=0
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  --verify-only) verify_only=1; shift
                 [ $# -ge 1 ] || { echo "fetch-omniglot: --verify-only needs a directory" >&2; exit 2; } ;;
esac
DIR=${1:-$HOME/.cache/neuroicl/omniglot}

command -v sha256sum >/dev/null || { echo "fetch-omniglot: sha256sum not found (coreutils)" >&2; exit 1; }

# verify NAME: 0 if DIR/NAME exists with the official checksum.
verify() {
  local name=$1 want got
  want=$(printf '%s\n' "$SUMS" | awk -v n="$name" '$2 == n {print $1}')
  [ -f "$DIR/$name" ] || { echo "missing   $DIR/$name"; return 1; }
  got=$(sha256sum "$DIR/$name" | awk '{print $1}')
  if [ "$got" = "$want" ]; then echo "ok        $DIR/$name"; return 0; fi
  echo "MISMATCH  $DIR/$name (sha256 $got, expected $want)"; return 1
}

download() {
  local name=$1 url=$2 tmp="$DIR/.$1.part"
  echo "fetching  $url"
  # Download to a temporary name: an interrupted transfer never looks like a finished file.
  if command -v curl >/dev/null; then
    curl -fL --retry 3 -o "$tmp" "$url"
  elif command -v wget >/dev/null; then
    wget -q -O "$tmp" "$url"
  else
    echo "fetch-omniglot: need curl or wget" >&2; return 1
  fi
  mv -f "$tmp" "$DIR/$name"
}

names="images_background.zip images_evaluation.zip all_runs.zip"
fail=0
if [ $verify_only = 1 ]; then
  [ -d "$DIR" ] || { echo "fetch-omniglot: $DIR is not a directory" >&2; exit 1; }
  for n in $names; do verify "$n" || fail=1; done
else
  mkdir -p "$DIR"
  for n in $names; do
    if verify "$n" >/dev/null 2>&1; then echo "present   $DIR/$n"; continue; fi
    download "$n" "$(url_of "$n")" || { fail=1; continue; }
    verify "$n" || fail=1
  done
fi
if [ $fail = 0 ]; then
  [ $verify_only = 1 ] || echo "done: use --data $DIR or export NEUROICL_DATA=$DIR"
else
  echo "fetch-omniglot: some archives are missing or damaged in $DIR" >&2
fi
exit $fail
