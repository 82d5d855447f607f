#!/usr/bin/env bash
# Shows that the CI compare step catches a deliberately slowed kernel: builds neuroicl with
# -DNEUROICL_SLOW_KERNEL=N (N extra passes over the input projection per token in
# kernels/decoder.c dec_embed, counted as weight traffic like any other pass) in a scratch copy
# of the tree, regenerates the quick results with it exactly as CI does, and expects
# `neuroicl compare` against the committed baseline to exit 1 (deterministic regression in
# bytes_read_per_token; the timing lines report "slower" alongside).
#
#   scripts/slow-kernel-check.sh [N (32)]
# Exit 0 when compare caught it (exit 1), 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-32}
BASE=reports/baselines/quick.h5
[ -r "$BASE" ] || { echo "slow-kernel-check: no baseline $BASE (run scripts/make-baseline.sh)" >&2; exit 1; }
[ -x bin/neuroicl ] || make --no-print-directory bin/neuroicl
SCRATCH=build/slow-kernel
mkdir -p "$SCRATCH"
# the sources only (no build products), so the normal build is untouched
tar cf - Makefile kernels datasets bench reports/*.c reports/*.h | tar xf - -C "$SCRATCH"
make --no-print-directory -s -C "$SCRATCH" -j"$(nproc)" CFLAGS="-O3 -march=native -g -DNEUROICL_SLOW_KERNEL=$N" \
    GIT_DESCRIBE="$(git describe --always --dirty 2>/dev/null || echo unknown)-slow$N" bin/neuroicl
bash scripts/make-baseline.sh "$SCRATCH/results" "$SCRATCH/bin/neuroicl"
set +e
bin/neuroicl compare "$BASE" "$SCRATCH/results/quick.h5"
code=$?
set -e
if [ "$code" -eq 1 ]; then
    echo "slow-kernel-check: compare caught NEUROICL_SLOW_KERNEL=$N (exit 1)"
    exit 0
fi
echo "slow-kernel-check: compare did NOT catch NEUROICL_SLOW_KERNEL=$N (exit $code)" >&2
exit 1
