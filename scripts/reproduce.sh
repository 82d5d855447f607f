#!/usr/bin/env bash
# Regenerates every measurement figure and table of REPRODUCE.md (`make reproduce`, <= 15 min
# on 2 cores) or a reduced version (`QUICK=1`, `make reproduce-quick`, <= 2 min, used by CI).
# Results go to $OUT/*.h5, a new directory per invocation (earlier reproductions are kept),
# figures to $FIGS/<group>/ (redrawn each time).
# Run it on an otherwise idle machine: the timings and the bandwidth ratios are measurements.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=./bin/neuroicl
QUICK=${QUICK:-0}
OUT=${OUT:-results/reproduce/$(date -u +%Y%m%dT%H%M%SZ)}
FIGS=${FIGS:-reports/figures/reproduce}
MODEL=${MODEL:-models/default.h5}
ROWS_ACC=${ROWS_ACC:-kv-softmax,kv-linear,fw-float}
if [ -e "$OUT/sweep.h5" ] || [ -e "$OUT/eval.h5" ]; then
  echo "reproduce: $OUT already holds results; choose another OUT= (nothing is overwritten)" >&2
  exit 1
fi
mkdir -p "$OUT" "$FIGS"
t0=$(date +%s)
step() { echo "== [$(( $(date +%s) - t0 )) s] $*"; }

step "T0 what this machine can measure -> $OUT/info.txt"
"$BIN" info | tee "$OUT/info.txt"

if [ "$QUICK" = 1 ]; then
  step "T1 bandwidth probe (256 MiB arrays: below 4x LLC, labelled so)"
  "$BIN" stream --array-mib 256 --ntimes 3 --out "$OUT/stream.h5"
  step "F1-F3, T2 sweep t = 1..16384 (quick), every registered row"
  "$BIN" sweep --quick --out "$OUT/sweep.h5"
else
  step "T1 bandwidth probe (arrays 4x LLC)"
  "$BIN" stream --out "$OUT/stream.h5"
  step "F1-F3, T2 sweep t = 1..65536, every registered row (about 6 min)"
  "$BIN" sweep --out "$OUT/sweep.h5"
  step "F4 width x heads axes, t = 1..4096"
  "$BIN" sweep --widths 64,128 --heads 2,4 --t-max 4096 --rows kv-softmax,kv-linear,fw-float \
    --stream-mib 256 --stream-ntimes 3 --out "$OUT/axes.h5"
fi
"$BIN" report "$OUT/sweep.h5" --out-dir "$FIGS/sweep"
[ -f "$OUT/axes.h5" ] && "$BIN" report "$OUT/axes.h5" --out-dir "$FIGS/axes"

if [ -f "$MODEL" ]; then
  if [ "$QUICK" = 1 ]; then SHOTS="1 5"; EPISODES=${EPISODES:-40}; else SHOTS="1 2 5 10"; EPISODES=${EPISODES:-400}; fi
  for k in $SHOTS; do
    step "F5 accuracy vs shots: 5-way $k-shot, $EPISODES episodes, rows $ROWS_ACC"
    "$BIN" eval --model "$MODEL" --n-way 5 --k-shot "$k" --episodes "$EPISODES" --impl "$ROWS_ACC" \
      --token-episodes 1 --out "$OUT/eval.h5"
  done
  "$BIN" report "$OUT/eval.h5" --out-dir "$FIGS/eval"
else
  step "F5 accuracy vs shots skipped: no trained model at $MODEL (make run trains one, or MODEL=...)"
fi

step "checking the SVGs are well-formed XML"
if command -v xmllint >/dev/null; then
  for f in "$FIGS"/*/*.svg; do xmllint --noout "$f"; done
else
  echo "xmllint not installed: SVG check skipped"
fi
step "done: results in $OUT/, figures in $FIGS/"
