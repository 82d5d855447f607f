# Sourced by run-main.sh and variants.sh: makes sure $MODEL exists (trains it when missing) and
# holds the quantized decoder the fixed-point rows run (quantizes it when missing).
# Needs BIN, MODEL and the DATA_OPT array set by the caller.
if [ ! -f "$MODEL" ]; then
  echo "== training $MODEL (about 4-7 minutes on 2 cores)"
  "$BIN" train --out "$MODEL" "${DATA_OPT[@]}"
fi
# The fixed-point rows (fw-quant, loihi2-emu) run the quantized decoder stored beside the
# float one; calibrate it once rather than in every eval. `quantize` also fine-tunes
# decoder_linear to the fixed-point arithmetic (500 QAT steps, float loss kept; ~40 s), so
# kv-linear and fw-float report the fine-tuned float weights too.
if ! h5ls "$MODEL/decoder_quant" >/dev/null 2>&1; then
  echo "== quantizing $MODEL for the fixed-point rows (with QAT, about 1 minute)"
  "$BIN" quantize --model "$MODEL" "${DATA_OPT[@]}"
fi
