#!/usr/bin/env bash
# Regenerates the regression baseline (or, with another OUT, the "current" results CI compares
# against it): a tiny model trained in seconds on the built-in procedural glyphs, then a quick
# eval of every row on fixed episodes. Both steps are deterministic on one machine for a fixed
# seed with --threads 1 (training with 2+ threads is not bit-reproducible today).
#
#   scripts/make-baseline.sh [OUT_DIR (reports/baselines)] [NEUROICL binary (bin/neuroicl)]
#
# Writes OUT_DIR/quick.h5 (results, schema v1) and OUT_DIR/quick-model.h5 (the model; git-ignored
# in reports/baselines, only its hash is recorded in the results). ~10 s on one core.
# The rows are pinned so the baseline does not change when rows are added; add new rows here
# (and regenerate) once they exist. Commit the new baseline with: git add reports/baselines/quick.h5
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-reports/baselines}
BIN=${2:-bin/neuroicl}
mkdir -p "$OUT"
[ -x "$BIN" ] || make --no-print-directory bin/neuroicl
rm -f "$OUT/quick.h5" "$OUT/quick-model.h5"
"$BIN" train --task glyphs --quick --max-classes 40 --seed 1 --threads 1 --out "$OUT/quick-model.h5" 2>&1 | tail -1
"$BIN" eval --task glyphs --n-way 5 --k-shot 1 --queries 1 --episodes 20 --token-episodes 20 --seed 1 \
    --impl kv-softmax,kv-linear,fw-float \
    --model "$OUT/quick-model.h5" --out "$OUT/quick.h5" 2>/dev/null | tail -1
