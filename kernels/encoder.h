// encoder (enc_) — the host-side image encoder shared by every decoder row: n_blocks of
// [conv 3x3, stride 1, zero pad 1 -> ReLU -> max-pool 2x2 stride 2 (floor)] on a 28x28 grey
// image, flattened to d_out = ch[n_blocks-1] * s * s (s = side after the last pool).
// Parameters live in one flat float buffer (llm.c style) so the optimiser and checkpoints
// treat them as one array; enc_weights holds views into it.
#ifndef NEUROICL_ENCODER_H
#define NEUROICL_ENCODER_H
#include <stddef.h>
#include "kernels/rng.h"

#define ENC_MAX_BLOCKS 6

typedef struct {
    int side;                 // input side (28)
    int n_blocks;             // conv blocks
    int ch[ENC_MAX_BLOCKS];   // output channels per block (input has 1 channel)
} enc_config;

typedef struct {
    float *w[ENC_MAX_BLOCKS]; // (ch[i], ch_in, 3, 3)
    float *b[ENC_MAX_BLOCKS]; // (ch[i])
} enc_weights;

int enc_d_out(const enc_config *c);
size_t enc_n_params(const enc_config *c);
void enc_weights_map(const enc_config *c, float *flat, enc_weights *w);  // flat: (n_params)
void enc_init(const enc_config *c, float *flat, rng_t *r);               // He-normal, b = 0
// Floats of saved activations per image needed by the backward pass.
size_t enc_act_floats(const enc_config *c);

// Batched forward over B images with OpenMP across images. acts may be NULL (inference).
void enc_forward(const enc_config *c, const float *flat, int B,
                 const float *img,   // (B, side*side)
                 float *acts,        // (B, enc_act_floats) or NULL
                 float *out);        // (B, d_out)
// Batched backward: adds dL/dparams into grad (n_params) (summed over the batch; per-thread
// partial sums, reduced at the end). scratch: (enc_scratch_floats(c, n_threads)).
size_t enc_scratch_floats(const enc_config *c, int n_threads);
void enc_backward(const enc_config *c, const float *flat, int B,
                  const float *img,  // (B, side*side)
                  const float *acts, // (B, enc_act_floats)
                  const float *dout, // (B, d_out)
                  float *grad,       // (n_params) accumulated +=
                  float *scratch);

#endif
