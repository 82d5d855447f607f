#!/usr/bin/env bash
# The main job (`make run`): train the default model if it is missing, evaluate every row on
# identical episodes (real Omniglot when found, else the built-in procedural glyphs), append
# the runs to the results file, draw the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=./bin/neuroicl
MODEL=${MODEL:-models/default.h5}
RESULTS=${RESULTS:-results/neuroicl.h5}
EPISODES=${EPISODES:-1000}
DATA_OPT=()
[ -n "${DATA:-}" ] && DATA_OPT=(--data "$DATA")

. scripts/ensure-model.sh
# The 5-way 1-shot run goes last: `neuroicl report` draws the latest run.
for shape in "20 1" "5 5" "5 1"; do
  set -- $shape
  echo "== eval: $1-way $2-shot, $EPISODES episodes, every row"
  "$BIN" eval --model "$MODEL" --n-way "$1" --k-shot "$2" --queries 1 --episodes "$EPISODES" \
    --out "$RESULTS" "${DATA_OPT[@]}"
done
"$BIN" report "$RESULTS" --out-dir reports/figures
echo "== done: results in $RESULTS, figures in reports/figures/"
