#!/usr/bin/env bash
# The paper's variant table in one command (`make variants`): trains and quantizes the default
# model when needed, then runs kv-softmax, kv-linear, fw-float, fw-quant and loihi2-emu on the
# same evaluation-split episodes (5/20-way x 1/5-shot) and Lake's 20 runs, appends the runs to
# the results file and draws reports/figures/variants.{png,svg}.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=./bin/neuroicl
MODEL=${MODEL:-models/default.h5}
RESULTS=${RESULTS:-results/neuroicl.h5}
EPISODES=${EPISODES:-200}
DATA_OPT=()
[ -n "${DATA:-}" ] && DATA_OPT=(--data "$DATA")
. scripts/ensure-model.sh
mkdir -p reports/figures
"$BIN" variants --model "$MODEL" --episodes "$EPISODES" --out "$RESULTS" --figure reports/figures/variants "${DATA_OPT[@]}"
