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
#include <sys/mman.h>

#define KV_BLOCK 64      // cached tokens scored per block
#define KV_MAX_HEADS 256

// Cache rows per layer: max_ctx rounded up to whole blocks.
static inline size_t kv_ctx_capacity(int max_ctx) {
    return ((size_t)max_ctx + KV_BLOCK - 1) / KV_BLOCK * KV_BLOCK;
}

typedef struct {
    float *x;      // (d_model) residual stream
    float *q;      // (d_model)
    float *k;      // (d_model) this token's key (a query's stays here, out of the cache)
    float *v;      // (d_model)
    float *ao;     // (d_model) attention output, heads concatenated
    float *tmp;    // (d_model)
    float *hb;     // (d_ff)
    float *att;    // (n_heads * (2 + KV_BLOCK + 1)) softmax max, normaliser, block weights
    float *key_cache;    // (n_layers, max_ctx / KV_BLOCK, d_model, KV_BLOCK) see kv_key_at
    float *value_cache;  // (n_layers, max_ctx, d_model), max_ctx rounded up to KV_BLOCK
    int n_ctx;     // supports cached so far
} kv_state;

// Caches are 2 MiB-aligned and marked for transparent huge pages where the kernel offers
// them: a long context streams tens of MB, and 4 KiB pages would add a TLB miss every 4 KiB.
static float *kv_alloc_cache(size_t bytes) {
    void *p = NULL;
    const size_t huge = (size_t)2 << 20;
    if (posix_memalign(&p, huge, (bytes + huge - 1) / huge * huge)) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, (bytes + huge - 1) / huge * huge, MADV_HUGEPAGE);  // advice only: failure is fine
#endif
    return p;
}

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
    if (c->n_heads > KV_MAX_HEADS) return err_set(ERR_ARG, "kv rows support up to %d heads (model has %d)", KV_MAX_HEADS, c->n_heads);
    size_t d = c->d_model, cache = (size_t)c->n_layers * kv_ctx_capacity(max_ctx) * d;
    s->x = malloc(d * sizeof(float)); s->q = malloc(d * sizeof(float));
    s->k = malloc(d * sizeof(float)); s->v = malloc(d * sizeof(float));
    s->ao = malloc(d * sizeof(float)); s->tmp = malloc(d * sizeof(float));
    s->hb = malloc((size_t)c->d_ff * sizeof(float));
    s->att = malloc((size_t)c->n_heads * (2 + KV_BLOCK + 1) * sizeof(float));
    s->key_cache = kv_alloc_cache(cache * sizeof(float));
    s->value_cache = kv_alloc_cache(cache * sizeof(float));
    if (!s->x || !s->q || !s->k || !s->v || !s->ao || !s->tmp || !s->hb || !s->att ||
        !s->key_cache || !s->value_cache) {
        kv_cache_destroy(r);
        return err_set(ERR_NOMEM, "out of memory for a KV cache of %d tokens", max_ctx);
    }
    return 0;
}

static void kv_cache_reset(dec_row *r) { ((kv_state *)r->state)->n_ctx = 0; }

// Where key element i (of d_model) of cached token t lives. Keys are stored in blocks of
// KV_BLOCK tokens, each block dimension-major (d_model, KV_BLOCK): scoring a block is then
// d_model contiguous vector multiply-adds across its tokens, with no horizontal sums, and a
// block is one contiguous 16 KB read (d = 64) — the decode streams K once, in order.
static inline size_t kv_key_at(int d, int t, int i) {
    return ((size_t)(t / KV_BLOCK) * d + i) * KV_BLOCK + t % KV_BLOCK;
}

// Adds one token's weighted value to ao, per head: ao_h += w[h] · v_h.
static inline void kv_add_value(int H, int hd, const float *w, const float *v, float *ao) {
    for (int h = 0; h < H; h++) {
        const float wh = w[h];
        const float *vh = v + h * hd;
        float *oh = ao + h * hd;
#pragma omp simd
        for (int i = 0; i < hd; i++) oh[i] += wh * vh[i];
    }
}

// Attention of all heads over n cached entries, plus the token's own k/v when self_k is not
// NULL (a query, whose k/v stay out of the cache). Block by block: scores of every head for
// the block's tokens, then (softmax) one rescale per head and block (running max) and the
// exponentials, then the weighted values. K and V each stream through memory once, in order:
// this loop is the decode's memory traffic. ao: (d_model) attention output, heads concatenated.
static void kv_attend(const tf_config *c, kv_state *s, const float *kc, const float *vc, int n,
                      const float *q, const float *self_k, const float *self_v, float *ao) {
    const int d = c->d_model, H = c->n_heads, hd = tf_head_dim(c), lin = c->attn == TF_LINEAR;
    const int m = n + (self_k != NULL);
    const float scale = lin ? 1.0f / ((float)hd * m) : 1.0f / sqrtf((float)hd);
    float *mx = s->att, *sum = s->att + H;  // (n_heads) softmax running max and normaliser
    float *p = s->att + 2 * H;              // (n_heads, KV_BLOCK) scores, then weights
    float *qf = s->tmp;                     // (d_model) φ(q) for linear, q for softmax
    float w[KV_MAX_HEADS];                  // (n_heads) one token's weight per head
    for (int i = 0; i < d; i++) { ao[i] = 0.0f; qf[i] = lin ? tf_relu(q[i]) : q[i]; }
    for (int h = 0; h < H; h++) { mx[h] = -INFINITY; sum[h] = 0.0f; }
    for (int t0 = 0; t0 < m; t0 += KV_BLOCK) {
        // The cached tokens of this block, then (last) the query's own token.
        const int nb = n - t0 < KV_BLOCK ? (n - t0 > 0 ? n - t0 : 0) : KV_BLOCK;
        const int with_self = self_k && t0 + KV_BLOCK >= m;
        const float *kb = kc + kv_key_at(d, t0, 0);  // (d_model, KV_BLOCK) this block's keys
        for (int h = 0; h < H; h++) {
            float *ph = p + h * KV_BLOCK;
            for (int j = 0; j < nb; j++) ph[j] = 0.0f;
            for (int i = h * hd; i < (h + 1) * hd; i++) {
                const float qi = qf[i];
                const float *row = kb + (size_t)i * KV_BLOCK;
                if (lin) {
#pragma omp simd
                    for (int j = 0; j < nb; j++) ph[j] += qi * tf_relu(row[j]);
                } else {
#pragma omp simd
                    for (int j = 0; j < nb; j++) ph[j] += qi * row[j];
                }
            }
            if (with_self) {
                float sc = 0.0f;
                for (int i = h * hd; i < (h + 1) * hd; i++) sc += qf[i] * (lin ? tf_relu(self_k[i]) : self_k[i]);
                ph[nb] = sc;
            }
            const int np = nb + with_self;
            for (int j = 0; j < np; j++) ph[j] *= scale;
            if (!lin) {
                float bm = -INFINITY;
                for (int j = 0; j < np; j++) bm = ph[j] > bm ? ph[j] : bm;
                if (bm > mx[h]) {  // rescale what has been summed to the new maximum
                    const float corr = ts_exp(mx[h] - bm);
                    sum[h] *= corr;
                    for (int i = 0; i < hd; i++) ao[h * hd + i] *= corr;
                    mx[h] = bm;
                }
                float bs = 0.0f;
                const float mh = mx[h];
#pragma omp simd reduction(+ : bs)
                for (int j = 0; j < np; j++) { ph[j] = ts_exp(ph[j] - mh); bs += ph[j]; }
                sum[h] += bs;
            }
        }
        for (int j = 0; j < nb; j++) {
            for (int h = 0; h < H; h++) w[h] = p[h * KV_BLOCK + j];
            kv_add_value(H, hd, w, vc + (size_t)(t0 + j) * d, ao);
        }
        if (with_self) {
            for (int h = 0; h < H; h++) w[h] = p[h * KV_BLOCK + nb];
            kv_add_value(H, hd, w, self_v, ao);
        }
    }
    if (!lin)
        for (int h = 0; h < H; h++) {
            const float inv = 1.0f / sum[h];
            for (int i = 0; i < hd; i++) ao[h * hd + i] *= inv;
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
        float *kc = s->key_cache + (size_t)l * kv_ctx_capacity(r->max_ctx) * d;
        float *vc = s->value_cache + (size_t)l * kv_ctx_capacity(r->max_ctx) * d;
        // A support's output after the last layer is never read: only its k, v matter.
        const int kv_only = support && l == L - 1;
        dec_qkv(r, l, s->x, kv_only ? NULL : s->q, s->k, s->v, tr);
        int n = s->n_ctx;
        if (support) {
            float *vd = vc + (size_t)n * d;
            for (int i = 0; i < d; i++) { kc[kv_key_at(d, n, i)] = s->k[i]; vd[i] = s->v[i]; }
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
