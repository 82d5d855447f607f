// decoder (dec_) — the interface every decoder row implements, so the evaluation driver
// runs kv-softmax, kv-linear, fw-float (and later fw-quant, loihi2-emu) the same way:
// reset for a new episode, then one token at a time. Also the parts of a token's forward
// pass that do not depend on how attention is stored (embedding, MLP, readout).
//
// Counted traffic: bytes a row's code reads or writes per token, per data structure. Weights
// are float32; counted = every element the code touches, once per pass over it.
#ifndef NEUROICL_DECODER_H
#define NEUROICL_DECODER_H
#include <stdint.h>
#include "kernels/transformer.h"

typedef struct {
    int64_t weights_read;  // model parameters
    int64_t kv_read, kv_written;  // KV cache
    int64_t fw_read, fw_written;  // fast-weight state
} dec_traffic;

static inline int64_t dec_traffic_read(const dec_traffic *t) {
    return t->weights_read + t->kv_read + t->fw_read;
}
static inline int64_t dec_traffic_written(const dec_traffic *t) {
    return t->kv_written + t->fw_written;
}

typedef struct dec_row dec_row;
typedef struct {
    const char *name;       // row name as in DESIGN.md ("kv-softmax", ...)
    tf_attn attn;           // which trained weights the row runs
    // Allocates all run state for contexts up to max_ctx support tokens.
    int (*create)(dec_row *r, int max_ctx);
    void (*reset)(dec_row *r);  // new episode: empty cache / zero state
    // One token: e = encoder embedding (d_in); label >= 0 for a support, -1 for a query
    // (a query's logits (n_labels) are written; a support's are not). Adds to *tr.
    int (*step)(dec_row *r, const float *e, int label, float *logits, dec_traffic *tr);
    void (*destroy)(dec_row *r);
    // 1 when the row's memory traffic is not counted in dec_traffic (the emulator counts
    // its own operations instead): results then say "not counted", never 0 bytes.
    int traffic_not_counted;
} dec_ops;

struct dec_row {
    const dec_ops *ops;
    const tf_config *cfg;
    const float *params;  // (tf_n_params) flat weights
    tf_weights w;
    int max_ctx;
    void *state;          // row-private run state
    const void *aux;      // optional row input: the fq_model (kernels/quant.h) for fw-quant, loihi2-emu
};

// Looks a row up by name; NULL if unknown. dec_row_names lists all, comma-separated.
const dec_ops *dec_find(const char *name);
const char *dec_row_names(void);
int dec_open(dec_row *r, const dec_ops *ops, const tf_config *cfg, const float *params, int max_ctx);
// Same, with the optional row input `aux` (NULL for the float rows).
int dec_open_aux(dec_row *r, const dec_ops *ops, const tf_config *cfg, const float *params, int max_ctx,
                 const void *aux);
void dec_close(dec_row *r);

// Shared pieces of the per-token forward pass.
// x (d_model) = W_in e + b_in + L[label or query row]
void dec_embed(const dec_row *r, const float *e, int label, float *x, dec_traffic *tr);
// x += W2 relu(W1 x + b1) + b2 for layer l; hb: (d_ff) scratch
void dec_mlp(const dec_row *r, int l, float *x, float *hb, dec_traffic *tr);
// x += W_o ao for layer l; tmp: (d_model) scratch
void dec_attn_out(const dec_row *r, int l, float *x, const float *ao, float *tmp, dec_traffic *tr);
// q, k, v (d_model) = W_{q,k,v} x for layer l
void dec_qkv(const dec_row *r, int l, const float *x, float *q, float *k, float *v, dec_traffic *tr);
void dec_readout(const dec_row *r, const float *x, float *logits, dec_traffic *tr);

extern const dec_ops kv_softmax_ops, kv_linear_ops, fw_float_ops;
extern const dec_ops fw_quant_ops, loihi2_emu_ops;  // kernels/fw_quant.c, kernels/l2row.c

#endif
