// transformer (tf_) — the decoder-only in-context learner that every decoder row runs.
//
// A token is one image of the episode: x = W_in · e + b_in + L[label], where e is the
// encoder embedding (L2-normalised on the host) and L[n_labels] is the "no label" row used
// by query tokens. n_layers blocks of
//     x += W_o · attn(W_q x, W_k x, W_v x)      (n_heads heads, causal)
//     x += W_2 · relu(W_1 x + b_1) + b_2
// and a query's logits are W_out x + b_out. No layer norm: it would need a division per
// token in the Loihi mapping.
//
// Attention kinds:
//   linear : out_h = scale · Σ_s <φ(q_h), φ(k_s,h)> v_s,h     φ = ReLU (keys must be
//            non-negative for the Loihi mapping: traces are unsigned),
//            scale = 1 / (head_dim · n), n = number of tokens the token sees. The 1/n keeps
//            the output's size independent of the context length (1-shot vs 5-shot, 5-way
//            vs 20-way) without a data-dependent division: n is known from the position.
//   softmax: out_h = Σ_s softmax_s(<q_h, k_s,h> / sqrt(head_dim)) v_s,h
// Visibility: support token i sees supports 0..i; a query sees every support and itself,
// but never another query (queries are read-only: they do not enter the cache/state), so
// each query's answer does not depend on the order of queries.
#ifndef NEUROICL_TRANSFORMER_H
#define NEUROICL_TRANSFORMER_H
#include <stddef.h>
#include "kernels/rng.h"

typedef enum { TF_LINEAR = 0, TF_SOFTMAX = 1 } tf_attn;

typedef struct {
    int d_in;      // encoder embedding size
    int d_model;
    int n_layers;
    int n_heads;   // head_dim = d_model / n_heads
    int d_ff;
    int n_labels;  // largest N-way the model answers; label row n_labels = "query"
    tf_attn attn;
} tf_config;

typedef struct {
    float *w_in;      // (d_model, d_in)
    float *b_in;      // (d_model)
    float *label_emb; // (n_labels + 1, d_model)
    float *wq;        // (n_layers, d_model, d_model)
    float *wk;        // (n_layers, d_model, d_model)
    float *wv;        // (n_layers, d_model, d_model)
    float *wo;        // (n_layers, d_model, d_model)
    float *w1;        // (n_layers, d_ff, d_model)
    float *b1;        // (n_layers, d_ff)
    float *w2;        // (n_layers, d_model, d_ff)
    float *b2;        // (n_layers, d_model)
    float *w_out;     // (n_labels, d_model)
    float *b_out;     // (n_labels)
} tf_weights;

int tf_config_check(const tf_config *c);  // ERR_ARG with a message when absurd
size_t tf_n_params(const tf_config *c);
void tf_weights_map(const tf_config *c, float *flat, tf_weights *w);  // flat: (n_params)
void tf_init(const tf_config *c, float *flat, rng_t *r);
static inline int tf_head_dim(const tf_config *c) { return c->d_model / c->n_heads; }
static inline float tf_relu(float x) { return x > 0.0f ? x : 0.0f; }

// ---- training: one episode in parallel form, forward + backward ----------------------
// Tokens 0..n_sup-1 are supports (with labels), n_sup..n_sup+n_q-1 queries.
typedef struct {
    int max_tokens;
    float *x;      // (n_layers + 1, T, d_model) residual stream before each block; last = final
    float *xmid;   // (n_layers, T, d_model) after attention, before MLP
    float *q, *k, *v;  // (n_layers, T, d_model)
    float *att;    // (n_layers, n_heads, T, T) attention weights (softmax) or scores (linear)
    float *ao;     // (n_layers, T, d_model) attention output before W_o
    float *h;      // (n_layers, T, d_ff) relu(W_1 x + b_1)
    float *logits; // (T, n_labels)
    // backward scratch
    float *dx, *dtmp, *dq, *dk, *dv, *dao, *dh, *datt; // sized like the above per layer
} tf_acts;

int tf_acts_alloc(const tf_config *c, int max_tokens, tf_acts *a);
void tf_acts_free(tf_acts *a);
// Forward over the episode; returns mean cross-entropy over queries (softmax over the
// first n_way logits) and the number of correct queries in *n_correct.
float tf_forward(const tf_config *c, const float *flat, tf_acts *a,
                 const float *emb,  // (T, d_in)
                 const int *label,  // (T) support labels; queries' true labels
                 int n_sup, int n_q, int n_way, int *n_correct);
// Backward of the mean loss: adds dL/dparams into grad (n_params) and, when demb is not
// NULL, writes dL/demb (T, d_in).
void tf_backward(const tf_config *c, const float *flat, tf_acts *a, const float *emb,
                 const int *label, int n_sup, int n_q, int n_way, float *grad, float *demb);

// ---- optional activation hook (quantization-aware training, kernels/qat.c) ------------
// fwd is called once per site and layer right after tf_forward has computed that tensor for
// all T tokens (in a: x[0] for X0; q, k, v, ao, xmid, h, x[l+1] of layer l; logits of the
// queries before the loss) and may overwrite it (fake quantization: the backward then runs
// on the overwritten values — a straight-through estimator). bwd is called in tf_backward
// with the gradient w.r.t. q, k or v of layer l (T x d_model) before it propagates, and may
// zero entries (where the forward clipped). With hook == NULL both behave exactly like
// tf_forward / tf_backward.
typedef enum { TF_SITE_X0, TF_SITE_Q, TF_SITE_K, TF_SITE_V, TF_SITE_AO, TF_SITE_XMID, TF_SITE_H,
               TF_SITE_XN, TF_SITE_LOGITS } tf_site;
typedef struct {
    void *ctx;
    void (*fwd)(void *ctx, tf_site site, int layer, tf_acts *a, const float *emb, const int *label,
                int n_sup, int n_q);
    void (*bwd)(void *ctx, tf_site site, int layer, const tf_acts *a, float *grad, int n_sup, int n_q);
} tf_hook;
float tf_forward_hook(const tf_config *c, const float *flat, tf_acts *a, const float *emb, const int *label,
                      int n_sup, int n_q, int n_way, int *n_correct, const tf_hook *hook);
void tf_backward_hook(const tf_config *c, const float *flat, tf_acts *a, const float *emb, const int *label,
                      int n_sup, int n_q, int n_way, float *grad, float *demb, const tf_hook *hook);

#endif
