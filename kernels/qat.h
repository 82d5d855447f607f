// qat — quantization-aware fine-tuning of the linear-attention decoder to the fixed-point
// arithmetic of the Loihi 2 mapping (kernels/quant.h: fw-quant and loihi2-emu).
//
// The forward pass is tf_forward with a hook (tf_hook, kernels/transformer.h) that replaces
// every activation by the integer fw-quant computes for it, divided by its scale: the token
// input x0, the 7-bit ReLU queries and keys, the values, the attention output Z (computed
// exactly as the plastic synapses do: replicas, the write gain, x1 = k/2, floor shifts, the
// 7-bit value traces, the 255 clip of W±, the self term), the residual stream, the hidden
// layer and the logits. So the fake-quantized forward IS fw-quant (the test checks the logits
// are equal bit for bit). The weights the backward sees are the dequantized 8-bit mantissas
// (2 m 2^e / gain); gradients pass the rounding straight through (STE) to the float weights,
// and are zeroed where a query or key saturated at 127 or a value's trace at ±127. The plastic
// weights' 255 clip and the floor shifts are passed straight through (the float linear
// attention's gradient). Scales stay fixed during fine-tuning (from the calibration before);
// the integer weights are re-derived from the float weights every step.
// Measured on the default model (500 steps x 16 episodes, lr 3e-4, float loss kept — the
// `neuroicl quantize` default; 1000 evaluation episodes; fw-float / fw-quant): PTQ only
// 72.0/70.5 (20-way 1-shot), 80.8/79.4 (20-way 5-shot), 93.3/93.1 (5-way 1-shot); after QAT
// 72.5/71.9, 81.4/80.8, 93.5/93.4. Without the float loss the float path drifts (an earlier
// arithmetic: fw-quant ended 4-5 points above a fw-float that had lost 7).
#ifndef NEUROICL_QAT_H
#define NEUROICL_QAT_H
#include <stdint.h>
#include <stdio.h>
#include "datasets/dataset.h"
#include "kernels/model.h"
#include "kernels/quant.h"
#include "kernels/transformer.h"

typedef struct {
    int steps;        // fine-tuning steps (0: none)
    int batch;        // episodes per step
    float lr;         // peak learning rate (cosine decay to 5%)
    float weight_decay;
    int threads;
    int dual;         // 1: minimise the fixed-point loss plus the float model's loss on the same
                      //    episodes (keeps fw-float near the model it started from)
    uint64_t seed;
    FILE *log;        // progress lines (NULL: silent)
    volatile int *stop;  // set asynchronously (Ctrl-C): return ERR_INTERRUPTED after the current step
} qat_options;

void qat_default_options(qat_options *o);

// Fine-tunes m's linear decoder (in place) through q's fixed-point forward on background-split
// episodes (the trainer's sampler: N 5..n_labels, K 1..5). q must be calibrated (fq_calibrate);
// its scales are kept, its integer weights re-derived from the fine-tuned float weights.
int qat_finetune(mdl_model *m, fq_model *q, const ds_set *bg, const qat_options *o);

// ---- the fake-quant forward (also used by tests/test_qat.c)
typedef struct qat_ctx qat_ctx;
// q: derived (fq_derive) with q->params the float model; max_tokens per episode.
int qat_ctx_alloc(const fq_model *q, int max_tokens, qat_ctx **out);
void qat_ctx_free(qat_ctx *x);
// The hook to pass to tf_forward_hook / tf_backward_hook (with the parameters qat_fake_params gives).
void qat_hook(qat_ctx *x, tf_hook *h);
// out (tf_n_params): params with every quantized connection replaced by its dequantized
// mantissas; the host part (w_in, b_in, label_emb) stays as it is.
void qat_fake_params(const fq_model *q, const float *params, float *out);

#endif
