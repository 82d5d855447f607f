// fast_weights (fw_) — the linear-attention model in recurrent form: per layer and head a
// (head_dim x head_dim) matrix W accumulates v φ(k)^T for every support token, and a token
// reads W φ(q). The state is constant in the context length t — this is what the Loihi 2
// synapses hold, written by the learning rule instead of stored as a cache.
#include "kernels/decoder.h"
#include "kernels/err.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
    float *x, *q, *k, *v, *ao, *tmp;  // (d_model) each
    float *phk, *phq;                 // (head_dim) φ(k), φ(q) of one head
    float *hb;                        // (d_ff)
    float *W;                         // (n_layers, n_heads, head_dim, head_dim) fast weights
    int n_ctx;                        // supports written so far
} fw_state;

static void fw_destroy(dec_row *r) {
    fw_state *s = r->state;
    if (!s) return;
    float *bufs[] = {s->x, s->q, s->k, s->v, s->ao, s->tmp, s->phk, s->phq, s->hb, s->W};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
    free(s);
    r->state = NULL;
}

static int fw_create(dec_row *r, int max_ctx) {
    (void)max_ctx;  // the state does not grow with the context
    const tf_config *c = r->cfg;
    fw_state *s = calloc(1, sizeof *s);
    if (!s) return err_set(ERR_NOMEM, "out of memory for the fast-weight state");
    r->state = s;
    size_t d = c->d_model, hd = tf_head_dim(c);
    float **dv[] = {&s->x, &s->q, &s->k, &s->v, &s->ao, &s->tmp};
    for (size_t i = 0; i < sizeof dv / sizeof *dv; i++) *dv[i] = malloc(d * sizeof(float));
    s->phk = malloc(hd * sizeof(float));
    s->phq = malloc(hd * sizeof(float));
    s->hb = malloc((size_t)c->d_ff * sizeof(float));
    s->W = malloc((size_t)c->n_layers * c->n_heads * hd * hd * sizeof(float));
    if (!s->x || !s->q || !s->k || !s->v || !s->ao || !s->tmp || !s->phk || !s->phq || !s->hb || !s->W) {
        fw_destroy(r);
        return err_set(ERR_NOMEM, "out of memory for the fast-weight state");
    }
    return 0;
}

static void fw_reset(dec_row *r) {
    const tf_config *c = r->cfg;
    fw_state *s = r->state;
    size_t hd = tf_head_dim(c);
    memset(s->W, 0, (size_t)c->n_layers * c->n_heads * hd * hd * sizeof(float));
    s->n_ctx = 0;
}

static int fw_step(dec_row *r, const float *e, int label, float *logits, dec_traffic *tr) {
    const tf_config *c = r->cfg;
    fw_state *s = r->state;
    const int L = c->n_layers, H = c->n_heads, hd = tf_head_dim(c);
    const int support = label >= 0;
    const int64_t F4 = sizeof(float), Wbytes = F4 * (int64_t)H * hd * hd;
    // 1/(head_dim · n): n = tokens this token sees (the supports so far, itself included).
    const float scale = 1.0f / ((float)hd * (s->n_ctx + 1));
    dec_embed(r, e, label, s->x, tr);
    for (int l = 0; l < L; l++) {
        const int write_only = support && l == L - 1;  // output unused: just learn k, v
        dec_qkv(r, l, s->x, write_only ? NULL : s->q, s->k, s->v, tr);
        for (int h = 0; h < H; h++) {
            float *W = s->W + ((size_t)l * H + h) * hd * hd;  // (head_dim, head_dim)
            const float *vh = s->v + h * hd;
            float *ao = s->ao + h * hd;
            for (int j = 0; j < hd; j++) s->phk[j] = tf_relu(s->k[h * hd + j]);
            if (!write_only)
                for (int j = 0; j < hd; j++) s->phq[j] = tf_relu(s->q[h * hd + j]);
            if (write_only) {
                // W += v φ(k)^T
                for (int i = 0; i < hd; i++) {
                    float *wi = W + (size_t)i * hd;
                    for (int j = 0; j < hd; j++) wi[j] += vh[i] * s->phk[j];
                }
            } else if (support) {
                // One pass: update then read the updated row (the token sees itself).
                for (int i = 0; i < hd; i++) {
                    float *wi = W + (size_t)i * hd, acc = 0.0f;
#pragma omp simd reduction(+ : acc)
                    for (int j = 0; j < hd; j++) { wi[j] += vh[i] * s->phk[j]; acc += wi[j] * s->phq[j]; }
                    ao[i] = scale * acc;
                }
            } else {
                // A query reads W and adds its own term without writing it.
                float self = 0.0f;
                for (int j = 0; j < hd; j++) self += s->phk[j] * s->phq[j];
                for (int i = 0; i < hd; i++) {
                    const float *wi = W + (size_t)i * hd;
                    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
                    for (int j = 0; j < hd; j++) acc += wi[j] * s->phq[j];
                    ao[i] = scale * (acc + self * vh[i]);
                }
            }
        }
        tr->fw_read += Wbytes;
        if (support) tr->fw_written += Wbytes;
        if (write_only) break;
        dec_attn_out(r, l, s->x, s->ao, s->tmp, tr);
        dec_mlp(r, l, s->x, s->hb, tr);
    }
    if (support) s->n_ctx++;
    else dec_readout(r, s->x, logits, tr);
    return 0;
}

const dec_ops fw_float_ops = {"fw-float", TF_LINEAR, fw_create, fw_reset, fw_step, fw_destroy, 0};
