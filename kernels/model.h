// model (mdl_) — one pretrained model: the host encoder plus the decoder weights of both
// attention kinds (the linear model runs kv-linear, fw-float and the fixed-point rows; the
// softmax model runs kv-softmax). Saved as HDF5: /encoder, /decoder_linear,
// /decoder_softmax, each with a `params` dataset and its config as attributes, and a
// content hash (FNV-1a 64 over configs and parameters) as a root attribute.
#ifndef NEUROICL_MODEL_H
#define NEUROICL_MODEL_H
#include <stdint.h>
#include "kernels/encoder.h"
#include "kernels/transformer.h"

typedef struct {
    enc_config enc;
    float *enc_params;   // (enc_n_params)
    tf_config dec[2];    // indexed by tf_attn
    float *dec_params[2];  // (tf_n_params(dec[k])) or NULL when that kind is absent
    char hash[17];       // hex content hash, set by mdl_hash
} mdl_model;

// The default configuration (encoder {32,32,64,64}; decoder d=64, 2 layers, 4 heads).
void mdl_default_config(mdl_model *m);
int mdl_alloc(mdl_model *m);  // allocates params for the configs set in m
void mdl_free(mdl_model *m);
void mdl_hash(mdl_model *m);
// Save: written to a temporary and renamed, so an interrupted save never leaves a broken
// model. `note` is stored as attribute "training" (may be NULL).
int mdl_save(const char *path, mdl_model *m, const char *note);
// Same, calling extra(h5 file id, ctx) before the file is closed, so a caller (the
// trainer's checkpoints) can store more in the same atomic write. extra returns 0 on success.
int mdl_save_ex(const char *path, mdl_model *m, const char *note,
                int (*extra)(int64_t h5file, void *ctx), void *ctx);
int mdl_load(const char *path, mdl_model *m);

// Host-side embedding of B images: encoder forward then L2 normalisation.
void mdl_embed(const mdl_model *m, int B, const float *img /*(B, side*side)*/,
               float *emb /*(B, d_out)*/);

#endif
