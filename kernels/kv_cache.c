// kv_cache (kv_) — the conventional decoder: every support token appends its keys and
// values to a preallocated cache, and every token reads all cached entries it can see.
// Traffic per token therefore grows with the context length t: 2 · d_model · t floats
// read per layer. Two rows share this file: kv-softmax (softmax weights) and kv-linear
// (the linear-attention model; its answers must equal fw-float's).
#include "kernels/decoder.h"
#include "kernels/err.h"
#include "kernels/tensor.h"
#include <math.h>
#include <stdlib.h>

typedef struct {
    float *x;      // (d_model) residual stream
    float *q;      // (d_model)
    float *k;      // (d_model) this token's key (a query's stays here, out of the cache)
    float *v;      // (d_model)
    float *ao;     // (d_model) attention output, heads concatenated
    float *tmp;    // (d_model)
    float *hb;     // (d_ff)
    float *att;    // (max_ctx + 1) softmax weights for one head
    float *key_cache;    // (n_layers, max_ctx, d_model)
    float *value_cache;  // (n_layers, max_ctx, d_model)
    int n_ctx;     // supports cached so far
} kv_state;

static void kv_cache_destroy(dec_row *r) {
    kv_state *s = r->state;
    if (!s) return;
    float *bufs[] = {s->x, s->q, s->k, s->v, s->ao, s->tmp, s->hb, s->att, s->key_cache, s->value_cache};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
    free(s);
    r->state = NULL;
}

static int kv_cache_create(dec_row *r, int max_ctx) {
    const tf_config *c = r->cfg;
    kv_state *s = calloc(1, sizeof *s);
    if (!s) return err_set(ERR_NOMEM, "out of memory for the KV cache state");
    r->state = s;
    size_t d = c->d_model, cache = (size_t)c->n_layers * max_ctx * d;
    s->x = malloc(d * sizeof(float)); s->q = malloc(d * sizeof(float));
    s->k = malloc(d * sizeof(float)); s->v = malloc(d * sizeof(float));
    s->ao = malloc(d * sizeof(float)); s->tmp = malloc(d * sizeof(float));
    s->hb = malloc((size_t)c->d_ff * sizeof(float));
    s->att = malloc(((size_t)max_ctx + 1) * sizeof(float));
    s->key_cache = malloc(cache * sizeof(float));
    s->value_cache = malloc(cache * sizeof(float));
    if (!s->x || !s->q || !s->k || !s->v || !s->ao || !s->tmp || !s->hb || !s->att ||
        !s->key_cache || !s->value_cache) {
        kv_cache_destroy(r);
        return err_set(ERR_NOMEM, "out of memory for a KV cache of %d tokens", max_ctx);
    }
    return 0;
}

static void kv_cache_reset(dec_row *r) { ((kv_state *)r->state)->n_ctx = 0; }

// Attention of one head over n cached entries (plus the token's own k/v when self_k is
// not NULL, i.e. for a query whose k/v stay out of the cache). Adds to ao_h (head_dim).
static void kv_attend_head(const tf_config *c, kv_state *s, const float *kc, const float *vc,
                           int n, const float *q_h, const float *self_k, const float *self_v,
                           int h, float *ao_h) {
    const int d = c->d_model, hd = tf_head_dim(c), off = h * hd;
    if (c->attn == TF_LINEAR) {
        const float scale = 1.0f / ((float)hd * (n + (self_k != NULL)));
        float phq[1024];
        for (int i = 0; i < hd; i++) phq[i] = tf_relu(q_h[i]);
        for (int t = 0; t <= n; t++) {
            const float *kk, *vv;
            if (t < n) { kk = kc + (size_t)t * d + off; vv = vc + (size_t)t * d + off; }
            else if (self_k) { kk = self_k; vv = self_v; }
            else break;
            float sc = 0.0f;
#pragma omp simd reduction(+ : sc)
            for (int i = 0; i < hd; i++) sc += phq[i] * tf_relu(kk[i]);
            sc *= scale;
            for (int i = 0; i < hd; i++) ao_h[i] += sc * vv[i];
        }
    } else {
        const float scale = 1.0f / sqrtf((float)hd);
        int m = n + (self_k != NULL);
        float mx = -INFINITY;
        for (int t = 0; t < m; t++) {
            const float *kk = t < n ? kc + (size_t)t * d + off : self_k;
            s->att[t] = ts_dot(q_h, kk, hd) * scale;
            if (s->att[t] > mx) mx = s->att[t];
        }
        float sum = 0.0f;
        for (int t = 0; t < m; t++) { s->att[t] = expf(s->att[t] - mx); sum += s->att[t]; }
        const float inv = 1.0f / sum;
        for (int t = 0; t < m; t++) {
            const float *vv = t < n ? vc + (size_t)t * d + off : self_v;
            const float a = s->att[t] * inv;
            for (int i = 0; i < hd; i++) ao_h[i] += a * vv[i];
        }
    }
}

static int kv_cache_step(dec_row *r, const float *e, int label, float *logits, dec_traffic *tr) {
    const tf_config *c = r->cfg;
    kv_state *s = r->state;
    const int d = c->d_model, L = c->n_layers, hd = tf_head_dim(c);
    const int support = label >= 0;
    if (support && s->n_ctx >= r->max_ctx)
        return err_set(ERR_RANGE, "KV cache full: %d tokens (raise the context capacity)", r->max_ctx);
    const int64_t F4 = sizeof(float);
    dec_embed(r, e, label, s->x, tr);
    for (int l = 0; l < L; l++) {
        float *kc = s->key_cache + (size_t)l * r->max_ctx * d;
        float *vc = s->value_cache + (size_t)l * r->max_ctx * d;
        // A support's output after the last layer is never read: only its k, v matter.
        const int kv_only = support && l == L - 1;
        dec_qkv(r, l, s->x, kv_only ? NULL : s->q, s->k, s->v, tr);
        int n = s->n_ctx;
        if (support) {
            float *kd = kc + (size_t)n * d, *vd = vc + (size_t)n * d;
            for (int i = 0; i < d; i++) { kd[i] = s->k[i]; vd[i] = s->v[i]; }
            tr->kv_written += 2 * F4 * d;
            n++;  // a support sees itself, now in the cache
        }
        if (kv_only) break;
        for (int i = 0; i < d; i++) s->ao[i] = 0.0f;
        for (int h = 0; h < c->n_heads; h++)
            kv_attend_head(c, s, kc, vc, n, s->q + h * hd, support ? NULL : s->k + h * hd,
                           support ? NULL : s->v + h * hd, h, s->ao + h * hd);
        tr->kv_read += 2 * F4 * (int64_t)n * d;
        dec_attn_out(r, l, s->x, s->ao, s->tmp, tr);
        dec_mlp(r, l, s->x, s->hb, tr);
    }
    if (support) s->n_ctx++;
    else dec_readout(r, s->x, logits, tr);
    return 0;
}

const dec_ops kv_softmax_ops = {"kv-softmax", TF_SOFTMAX, kv_cache_create, kv_cache_reset,
                                kv_cache_step, kv_cache_destroy};
const dec_ops kv_linear_ops = {"kv-linear", TF_LINEAR, kv_cache_create, kv_cache_reset,
                               kv_cache_step, kv_cache_destroy};
