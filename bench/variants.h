// variants (var_) — the commands of the fixed-point rows:
//   neuroicl quantize  calibrates the fixed-point decoder on background-split episodes and
//                      writes the model with /decoder_quant (kernels/quant.h);
//   neuroicl variants  the paper's variant table: rows kv-softmax, kv-linear, fw-float, fw-quant,
//                      loihi2-emu x 5/20-way 1/5-shot on the evaluation split, plus Lake's
//                      20-way within-alphabet one-shot runs; one results run, one figure.
// Both return 0 or an ERR_* code with err_msg() set (bench/main.c prints it).
#ifndef NEUROICL_VARIANTS_H
#define NEUROICL_VARIANTS_H
#include <stdio.h>
#include "kernels/model.h"
#include "kernels/quant.h"

// stop: set asynchronously by Ctrl-C; both return ERR_INTERRUPTED soon after it is set
// (quantize then writes nothing; variants keeps the eval runs already appended).
int quantize_cmd(int argc, char **argv, volatile int *stop);
int variants_cmd(int argc, char **argv, volatile int *stop);
// For `eval`: 1 if any of the rows needs the quantized model.
int var_rows_need_quant(const char *const *rows, int n_rows);
// Loads /decoder_quant from the model file, or, when absent, calibrates it now on the
// background split (task/data as for eval) and says so on log.
int var_quant_prepare(const char *model_path, const char *task, const char *data, const mdl_model *m,
                      fq_model *q, FILE *log);

#endif
