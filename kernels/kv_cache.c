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

#define KV_BLOCK 64  // softmax entries scored per block

typedef struct {
    float *x;      // (d_model) residual stream
    float *q;      // (d_model)
    float *k;      // (d_model) this token's key (a query's stays here, out of the cache)
    float *v;      // (d_model)
    float *ao;     // (d_model) attention output, heads concatenated
    float *tmp;    // (d_model)
    float *hb;     // (d_ff)
    float *att;    // (n_heads * (2 + KV_BLOCK)) softmax running max, normaliser, block weights
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
    s->att = malloc((size_t)c->n_heads * (2 + KV_BLOCK) * sizeof(float));
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

// Attention of all heads over n cached entries, plus the token's own k/v when self_k is not
// NULL (a query, whose k/v stay out of the cache). One pass over the cache, entry by entry
// with every head inside, so K and V stream through memory once and in order: this loop is
// the decode's memory traffic. Softmax uses the running-max (online) form for that reason.
// ao: (d_model) attention output, heads concatenated.
static void kv_attend(const tf_config *c, kv_state *s, const float *kc, const float *vc, int n,
                      const float *q, const float *self_k, const float *self_v, float *ao) {
    const int d = c->d_model, H = c->n_heads, hd = tf_head_dim(c);
    const int m = n + (self_k != NULL);
    for (int i = 0; i < d; i++) ao[i] = 0.0f;
    if (c->attn == TF_LINEAR) {
        const float scale = 1.0f / ((float)hd * m);
        float *phq = s->tmp;  // (d_model) φ(q), all heads
        for (int i = 0; i < d; i++) phq[i] = tf_relu(q[i]);
        for (int t = 0; t < m; t++) {
            const float *kk = t < n ? kc + (size_t)t * d : self_k;
            const float *vv = t < n ? vc + (size_t)t * d : self_v;
            for (int h = 0; h < H; h++) {
                const float *kh = kk + h * hd, *qh = phq + h * hd;
                float sc = 0.0f;
#pragma omp simd reduction(+ : sc)
                for (int i = 0; i < hd; i++) sc += qh[i] * tf_relu(kh[i]);
                sc *= scale;
                const float *vh = vv + h * hd;
                float *oh = ao + h * hd;
#pragma omp simd
                for (int i = 0; i < hd; i++) oh[i] += sc * vh[i];
            }
        }
    } else {
        // Softmax in blocks of KV_BLOCK entries: scores of a block for every head, then one
        // rescale per head and block (running max), exponentials in a vectorisable loop, then
        // the weighted sum over the block's values. K and V still stream in order, once.
        const float scale = 1.0f / sqrtf((float)hd);
        float *mx = s->att, *sum = s->att + H;  // (n_heads) running max and normaliser
        float *p = s->att + 2 * H;              // (n_heads, KV_BLOCK) block scores/weights
        for (int h = 0; h < H; h++) { mx[h] = -INFINITY; sum[h] = 0.0f; }
        for (int t0 = 0; t0 < m; t0 += KV_BLOCK) {
            const int nb = m - t0 < KV_BLOCK ? m - t0 : KV_BLOCK;
            for (int j = 0; j < nb; j++) {
                const float *kk = t0 + j < n ? kc + (size_t)(t0 + j) * d : self_k;
                for (int h = 0; h < H; h++) {
                    const float *qh = q + h * hd, *kh = kk + h * hd;
                    float sc = 0.0f;
#pragma omp simd reduction(+ : sc)
                    for (int i = 0; i < hd; i++) sc += qh[i] * kh[i];
                    p[h * KV_BLOCK + j] = sc * scale;
                }
            }
            for (int h = 0; h < H; h++) {
                float *ph = p + h * KV_BLOCK, bm = -INFINITY;
                for (int j = 0; j < nb; j++) bm = ph[j] > bm ? ph[j] : bm;
                if (bm > mx[h]) {  // rescale what has been summed to the new maximum
                    const float corr = expf(mx[h] - bm);
                    sum[h] *= corr;
                    for (int i = 0; i < hd; i++) ao[h * hd + i] *= corr;
                    mx[h] = bm;
                }
                float bs = 0.0f;
                const float mh = mx[h];
#pragma omp simd reduction(+ : bs)
                for (int j = 0; j < nb; j++) { ph[j] = ts_exp(ph[j] - mh); bs += ph[j]; }
                sum[h] += bs;
            }
            for (int j = 0; j < nb; j++) {
                const float *vv = t0 + j < n ? vc + (size_t)(t0 + j) * d : self_v;
                for (int h = 0; h < H; h++) {
                    const float w = p[h * KV_BLOCK + j];
                    const float *vh = vv + h * hd;
                    float *oh = ao + h * hd;
#pragma omp simd
                    for (int i = 0; i < hd; i++) oh[i] += w * vh[i];
                }
            }
        }
        for (int h = 0; h < H; h++) {
            const float inv = 1.0f / sum[h];
            for (int i = 0; i < hd; i++) ao[h * hd + i] *= inv;
        }
    }
}

static int kv_cache_step(dec_row *r, const float *e, int label, float *logits, dec_traffic *tr) {
    const tf_config *c = r->cfg;
    kv_state *s = r->state;
    const int d = c->d_model, L = c->n_layers;
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
        kv_attend(c, s, kc, vc, n, s->q, support ? NULL : s->k, support ? NULL : s->v, s->ao);
        tr->kv_read += 2 * F4 * (int64_t)n * d;
        dec_attn_out(r, l, s->x, s->ao, s->tmp, tr);
        dec_mlp(r, l, s->x, s->hb, tr);
    }
    if (support) s->n_ctx++;
    else dec_readout(r, s->x, logits, tr);
    return 0;
}

const dec_ops kv_softmax_ops = {"kv-softmax", TF_SOFTMAX, kv_cache_create, kv_cache_reset,
                                kv_cache_step, kv_cache_destroy, 0};
const dec_ops kv_linear_ops = {"kv-linear", TF_LINEAR, kv_cache_create, kv_cache_reset,
                               kv_cache_step, kv_cache_destroy, 0};
