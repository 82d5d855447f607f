#include "kernels/transformer.h"
#include "kernels/err.h"
#include "kernels/tensor.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------- config and weights ----

int tf_config_check(const tf_config *c) {
    if (c->d_in < 1 || c->d_in > 65536) return err_set(ERR_ARG, "model d_in %d out of range 1..65536", c->d_in);
    if (c->d_model < 1 || c->d_model > 8192) return err_set(ERR_ARG, "model d_model %d out of range 1..8192", c->d_model);
    if (c->n_layers < 1 || c->n_layers > 64) return err_set(ERR_ARG, "model n_layers %d out of range 1..64", c->n_layers);
    if (c->n_heads < 1 || c->d_model % c->n_heads)
        return err_set(ERR_ARG, "model n_heads %d must divide d_model %d", c->n_heads, c->d_model);
    if (c->d_model / c->n_heads > 1024) return err_set(ERR_ARG, "model head_dim %d above 1024", c->d_model / c->n_heads);
    if (c->d_ff < 1 || c->d_ff > 65536) return err_set(ERR_ARG, "model d_ff %d out of range 1..65536", c->d_ff);
    if (c->n_labels < 2 || c->n_labels > 1024) return err_set(ERR_ARG, "model n_labels %d out of range 2..1024", c->n_labels);
    if (c->attn != TF_LINEAR && c->attn != TF_SOFTMAX) return err_set(ERR_ARG, "model attention kind %d unknown", (int)c->attn);
    return 0;
}

size_t tf_n_params(const tf_config *c) {
    size_t d = c->d_model, L = c->n_layers, f = c->d_ff;
    return d * c->d_in + d + (size_t)(c->n_labels + 1) * d + L * (4 * d * d + 2 * d * f + f + d) +
           (size_t)c->n_labels * d + c->n_labels;
}

void tf_weights_map(const tf_config *c, float *p, tf_weights *w) {
    size_t d = c->d_model, L = c->n_layers, f = c->d_ff;
    w->w_in = p; p += d * c->d_in;
    w->b_in = p; p += d;
    w->label_emb = p; p += (size_t)(c->n_labels + 1) * d;
    w->wq = p; p += L * d * d;
    w->wk = p; p += L * d * d;
    w->wv = p; p += L * d * d;
    w->wo = p; p += L * d * d;
    w->w1 = p; p += L * f * d;
    w->b1 = p; p += L * f;
    w->w2 = p; p += L * d * f;
    w->b2 = p; p += L * d;
    w->w_out = p; p += (size_t)c->n_labels * d;
    w->b_out = p;
}

static void fill_normal(float *p, size_t n, float std, rng_t *r) {
    for (size_t i = 0; i < n; i++) p[i] = std * rng_normal(r);
}

void tf_init(const tf_config *c, float *flat, rng_t *r) {
    tf_weights w;
    tf_weights_map(c, flat, &w);
    memset(flat, 0, tf_n_params(c) * sizeof(float));
    size_t d = c->d_model, L = c->n_layers, f = c->d_ff;
    // Embeddings arrive L2-normalised (entries ~ 1/sqrt(d_in)): unit-variance weights give
    // the image part of a token the same scale as its label embedding.
    fill_normal(w.w_in, d * c->d_in, 1.0f, r);
    fill_normal(w.label_emb, (size_t)(c->n_labels + 1) * d, 1.0f, r);
    // Linear attention sums over the context without a normaliser: small queries and keys
    // keep that sum O(1) at the start for contexts of ~100 tokens.
    const float qk_std = (c->attn == TF_LINEAR ? 0.25f : 1.0f) / sqrtf((float)d);
    fill_normal(w.wq, L * d * d, qk_std, r);
    fill_normal(w.wk, L * d * d, qk_std, r);
    fill_normal(w.wv, L * d * d, 1.0f / sqrtf((float)d), r);
    // Residual branches start small so the stack begins close to the identity.
    fill_normal(w.wo, L * d * d, 0.5f / sqrtf((float)d * L), r);
    fill_normal(w.w1, L * f * d, sqrtf(2.0f / (float)d), r);
    fill_normal(w.w2, L * d * f, 0.5f / sqrtf((float)f * L), r);
    fill_normal(w.w_out, (size_t)c->n_labels * d, 1.0f / sqrtf((float)d), r);
}

// ---------------------------------------------------------------- activations ----------

int tf_acts_alloc(const tf_config *c, int T, tf_acts *a) {
    memset(a, 0, sizeof *a);
    size_t d = c->d_model, L = c->n_layers, f = c->d_ff, H = c->n_heads, t = T;
    if (T < 1 || T > 4096) return err_set(ERR_ARG, "training episode of %d tokens outside 1..4096", T);
    a->max_tokens = T;
    float **bufs[] = {&a->x, &a->xmid, &a->q, &a->k, &a->v, &a->att, &a->ao, &a->h, &a->logits,
                      &a->dx, &a->dtmp, &a->dq, &a->dk, &a->dv, &a->dao, &a->dh, &a->datt};
    size_t sizes[] = {(L + 1) * t * d, L * t * d, L * t * d, L * t * d, L * t * d, L * H * t * t,
                      L * t * d, L * t * f, t * c->n_labels,
                      t * d, t * d, t * d, t * d, t * d, t * d, t * f, H * t * t};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        *bufs[i] = calloc(sizes[i], sizeof(float));
        if (!*bufs[i]) { tf_acts_free(a); return err_set(ERR_NOMEM, "out of memory for activations (%d tokens)", T); }
    }
    return 0;
}

void tf_acts_free(tf_acts *a) {
    float *bufs[] = {a->x, a->xmid, a->q, a->k, a->v, a->att, a->ao, a->h, a->logits,
                     a->dx, a->dtmp, a->dq, a->dk, a->dv, a->dao, a->dh, a->datt};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
    memset(a, 0, sizeof *a);
}

// Support token t sees supports 0..t; a query sees all supports and itself.
static inline int visible(int t, int s, int n_sup) {
    return t < n_sup ? s <= t : (s < n_sup || s == t);
}
static inline int n_visible(int t, int n_sup) { return t < n_sup ? t + 1 : n_sup + 1; }

// ---------------------------------------------------------------- forward --------------

float tf_forward(const tf_config *c, const float *flat, tf_acts *a, const float *emb,
                 const int *label, int n_sup, int n_q, int n_way, int *n_correct) {
    return tf_forward_hook(c, flat, a, emb, label, n_sup, n_q, n_way, n_correct, NULL);
}

#define HOOK_FWD(site, l) do { if (hook && hook->fwd) hook->fwd(hook->ctx, site, l, a, emb, label, n_sup, n_q); } while (0)

float tf_forward_hook(const tf_config *c, const float *flat, tf_acts *a, const float *emb, const int *label,
                      int n_sup, int n_q, int n_way, int *n_correct, const tf_hook *hook) {
    tf_weights w;
    tf_weights_map(c, (float *)flat, &w);
    const int T = n_sup + n_q, d = c->d_model, f = c->d_ff, H = c->n_heads, hd = d / H;
    const size_t Td = (size_t)T * d;
    const float sm_scale = 1.0f / sqrtf((float)hd);

    float *x0 = a->x;
    ts_matmul_xwT(x0, emb, w.w_in, w.b_in, T, d, c->d_in);
    for (int t = 0; t < T; t++) {
        const float *le = w.label_emb + (size_t)(t < n_sup ? label[t] : c->n_labels) * d;
        for (int i = 0; i < d; i++) x0[(size_t)t * d + i] += le[i];
    }
    HOOK_FWD(TF_SITE_X0, 0);
    for (int l = 0; l < c->n_layers; l++) {
        const float *X = a->x + l * Td;
        float *Q = a->q + l * Td, *K = a->k + l * Td, *V = a->v + l * Td, *AO = a->ao + l * Td;
        float *A = a->att + (size_t)l * H * T * T;
        float *XM = a->xmid + l * Td, *Hh = a->h + (size_t)l * T * f, *XN = a->x + (l + 1) * Td;
        const size_t dd = (size_t)d * d;
        ts_matmul_xwT(Q, X, w.wq + l * dd, NULL, T, d, d);
        ts_matmul_xwT(K, X, w.wk + l * dd, NULL, T, d, d);
        ts_matmul_xwT(V, X, w.wv + l * dd, NULL, T, d, d);
        HOOK_FWD(TF_SITE_Q, l);
        HOOK_FWD(TF_SITE_K, l);
        HOOK_FWD(TF_SITE_V, l);
        memset(AO, 0, Td * sizeof(float));
        for (int h = 0; h < H; h++) {
            for (int t = 0; t < T; t++) {
                const float *q = Q + (size_t)t * d + h * hd;
                float *arow = A + ((size_t)h * T + t) * T;
                float *ao = AO + (size_t)t * d + h * hd;
                if (c->attn == TF_LINEAR) {
                    const float lin_scale = 1.0f / ((float)hd * n_visible(t, n_sup));
                    for (int s = 0; s < T; s++) {
                        arow[s] = 0.0f;
                        if (!visible(t, s, n_sup)) continue;
                        const float *k = K + (size_t)s * d + h * hd;
                        float sc = 0.0f;
                        for (int i = 0; i < hd; i++) sc += tf_relu(q[i]) * tf_relu(k[i]);
                        arow[s] = sc;
                        const float *v = V + (size_t)s * d + h * hd;
                        for (int i = 0; i < hd; i++) ao[i] += lin_scale * sc * v[i];
                    }
                } else {
                    float mx = -INFINITY;
                    for (int s = 0; s < T; s++) {
                        arow[s] = 0.0f;
                        if (!visible(t, s, n_sup)) continue;
                        arow[s] = ts_dot(q, K + (size_t)s * d + h * hd, hd) * sm_scale;
                        if (arow[s] > mx) mx = arow[s];
                    }
                    float sum = 0.0f;
                    for (int s = 0; s < T; s++)
                        if (visible(t, s, n_sup)) { arow[s] = expf(arow[s] - mx); sum += arow[s]; }
                    for (int s = 0; s < T; s++) {
                        if (!visible(t, s, n_sup)) continue;
                        arow[s] /= sum;
                        const float *v = V + (size_t)s * d + h * hd;
                        for (int i = 0; i < hd; i++) ao[i] += arow[s] * v[i];
                    }
                }
            }
        }
        HOOK_FWD(TF_SITE_AO, l);
        ts_matmul_xwT(XM, AO, w.wo + l * dd, NULL, T, d, d);
        for (size_t i = 0; i < Td; i++) XM[i] += X[i];
        HOOK_FWD(TF_SITE_XMID, l);
        ts_matmul_xwT(Hh, XM, w.w1 + (size_t)l * f * d, w.b1 + (size_t)l * f, T, f, d);
        for (size_t i = 0; i < (size_t)T * f; i++) Hh[i] = tf_relu(Hh[i]);
        HOOK_FWD(TF_SITE_H, l);
        ts_matmul_xwT(XN, Hh, w.w2 + (size_t)l * d * f, w.b2 + (size_t)l * d, T, d, f);
        for (size_t i = 0; i < Td; i++) XN[i] += XM[i];
        HOOK_FWD(TF_SITE_XN, l);
    }
    // Readout for queries only; loss = mean CE over the first n_way logits.
    const float *XF = a->x + (size_t)c->n_layers * Td;
    float loss = 0.0f;
    int correct = 0;
    for (int j = 0; j < n_q; j++) {
        int t = n_sup + j;
        ts_matvec(a->logits + (size_t)t * c->n_labels, w.w_out, XF + (size_t)t * d, w.b_out, c->n_labels, d);
    }
    HOOK_FWD(TF_SITE_LOGITS, c->n_layers - 1);
    for (int j = 0; j < n_q; j++) {
        int t = n_sup + j;
        const float *lg = a->logits + (size_t)t * c->n_labels;
        float mx = -INFINITY;
        int arg = 0;
        for (int i = 0; i < n_way; i++) if (lg[i] > mx) { mx = lg[i]; arg = i; }
        float sum = 0.0f;
        for (int i = 0; i < n_way; i++) sum += expf(lg[i] - mx);
        loss += logf(sum) + mx - lg[label[t]];
        correct += arg == label[t];
    }
    if (n_correct) *n_correct = correct;
    return n_q ? loss / n_q : 0.0f;
}

// ---------------------------------------------------------------- backward -------------

void tf_backward(const tf_config *c, const float *flat, tf_acts *a, const float *emb,
                 const int *label, int n_sup, int n_q, int n_way, float *grad, float *demb) {
    tf_backward_hook(c, flat, a, emb, label, n_sup, n_q, n_way, grad, demb, NULL);
}

void tf_backward_hook(const tf_config *c, const float *flat, tf_acts *a, const float *emb, const int *label,
                      int n_sup, int n_q, int n_way, float *grad, float *demb, const tf_hook *hook) {
    tf_weights w, g;
    tf_weights_map(c, (float *)flat, &w);
    tf_weights_map(c, grad, &g);
    const int T = n_sup + n_q, d = c->d_model, f = c->d_ff, H = c->n_heads, hd = d / H;
    const size_t Td = (size_t)T * d, dd = (size_t)d * d;
    const float sm_scale = 1.0f / sqrtf((float)hd);

    float *dX = a->dx;
    memset(dX, 0, Td * sizeof(float));
    const float *XF = a->x + (size_t)c->n_layers * Td;
    for (int j = 0; j < n_q; j++) {
        int t = n_sup + j;
        const float *lg = a->logits + (size_t)t * c->n_labels;
        float dl[1024];
        float mx = -INFINITY, sum = 0.0f;
        for (int i = 0; i < n_way; i++) if (lg[i] > mx) mx = lg[i];
        for (int i = 0; i < n_way; i++) sum += expf(lg[i] - mx);
        for (int i = 0; i < c->n_labels; i++)
            dl[i] = i < n_way ? (expf(lg[i] - mx) / sum - (i == label[t])) / n_q : 0.0f;
        ts_matmul_grad_w(g.w_out, g.b_out, dl, XF + (size_t)t * d, 1, c->n_labels, d);
        ts_matmul_grad_x(dX + (size_t)t * d, dl, w.w_out, 1, c->n_labels, d);
    }
    for (int l = c->n_layers - 1; l >= 0; l--) {
        const float *X = a->x + l * Td, *Q = a->q + l * Td, *K = a->k + l * Td, *V = a->v + l * Td;
        const float *AO = a->ao + l * Td, *XM = a->xmid + l * Td, *Hh = a->h + (size_t)l * T * f;
        const float *A = a->att + (size_t)l * H * T * T;
        // MLP: dX (grad wrt block output) flows to XM through the residual and the branch.
        float *dXM = a->dtmp, *dH = a->dh;
        memcpy(dXM, dX, Td * sizeof(float));
        ts_matmul_grad_w(g.w2 + (size_t)l * d * f, g.b2 + (size_t)l * d, dX, Hh, T, d, f);
        memset(dH, 0, (size_t)T * f * sizeof(float));
        ts_matmul_grad_x(dH, dX, w.w2 + (size_t)l * d * f, T, d, f);
        for (size_t i = 0; i < (size_t)T * f; i++) if (Hh[i] <= 0.0f) dH[i] = 0.0f;
        ts_matmul_grad_w(g.w1 + (size_t)l * f * d, g.b1 + (size_t)l * f, dH, XM, T, f, d);
        ts_matmul_grad_x(dXM, dH, w.w1 + (size_t)l * f * d, T, f, d);
        // Attention: dX for the block input = dXM (residual) + through q, k, v.
        float *dAO = a->dao, *dQ = a->dq, *dK = a->dk, *dV = a->dv;
        ts_matmul_grad_w(g.wo + l * dd, NULL, dXM, AO, T, d, d);
        memset(dAO, 0, Td * sizeof(float));
        ts_matmul_grad_x(dAO, dXM, w.wo + l * dd, T, d, d);
        memset(dQ, 0, Td * sizeof(float));
        memset(dK, 0, Td * sizeof(float));
        memset(dV, 0, Td * sizeof(float));
        for (int h = 0; h < H; h++) {
            for (int t = 0; t < T; t++) {
                const float *arow = A + ((size_t)h * T + t) * T;
                const float *q = Q + (size_t)t * d + h * hd, *dao = dAO + (size_t)t * d + h * hd;
                float *dq = dQ + (size_t)t * d + h * hd;
                if (c->attn == TF_LINEAR) {
                    const float lin_scale = 1.0f / ((float)hd * n_visible(t, n_sup));
                    for (int s = 0; s < T; s++) {
                        if (!visible(t, s, n_sup)) continue;
                        const float *k = K + (size_t)s * d + h * hd, *v = V + (size_t)s * d + h * hd;
                        float *dk = dK + (size_t)s * d + h * hd, *dv = dV + (size_t)s * d + h * hd;
                        float ds = lin_scale * ts_dot(dao, v, hd);
                        for (int i = 0; i < hd; i++) dv[i] += lin_scale * arow[s] * dao[i];
                        for (int i = 0; i < hd; i++) {
                            if (q[i] > 0.0f) dq[i] += ds * tf_relu(k[i]);
                            if (k[i] > 0.0f) dk[i] += ds * tf_relu(q[i]);
                        }
                    }
                } else {
                    float dp[4096], dot = 0.0f;
                    const float *vv;
                    for (int s = 0; s < T; s++) {
                        dp[s] = 0.0f;
                        if (!visible(t, s, n_sup)) continue;
                        vv = V + (size_t)s * d + h * hd;
                        dp[s] = ts_dot(dao, vv, hd);
                        dot += arow[s] * dp[s];
                        float *dv = dV + (size_t)s * d + h * hd;
                        for (int i = 0; i < hd; i++) dv[i] += arow[s] * dao[i];
                    }
                    for (int s = 0; s < T; s++) {
                        if (!visible(t, s, n_sup)) continue;
                        float dz = arow[s] * (dp[s] - dot) * sm_scale;
                        const float *k = K + (size_t)s * d + h * hd;
                        float *dk = dK + (size_t)s * d + h * hd;
                        for (int i = 0; i < hd; i++) { dq[i] += dz * k[i]; dk[i] += dz * q[i]; }
                    }
                }
            }
        }
        if (hook && hook->bwd) {
            hook->bwd(hook->ctx, TF_SITE_Q, l, a, dQ, n_sup, n_q);
            hook->bwd(hook->ctx, TF_SITE_K, l, a, dK, n_sup, n_q);
            hook->bwd(hook->ctx, TF_SITE_V, l, a, dV, n_sup, n_q);
        }
        // New dX = dXM + dQ Wq + dK Wk + dV Wv
        memcpy(dX, dXM, Td * sizeof(float));
        ts_matmul_grad_w(g.wq + l * dd, NULL, dQ, X, T, d, d);
        ts_matmul_grad_w(g.wk + l * dd, NULL, dK, X, T, d, d);
        ts_matmul_grad_w(g.wv + l * dd, NULL, dV, X, T, d, d);
        ts_matmul_grad_x(dX, dQ, w.wq + l * dd, T, d, d);
        ts_matmul_grad_x(dX, dK, w.wk + l * dd, T, d, d);
        ts_matmul_grad_x(dX, dV, w.wv + l * dd, T, d, d);
    }
    ts_matmul_grad_w(g.w_in, g.b_in, dX, emb, T, d, c->d_in);
    for (int t = 0; t < T; t++) {
        float *gl = g.label_emb + (size_t)(t < n_sup ? label[t] : c->n_labels) * d;
        for (int i = 0; i < d; i++) gl[i] += dX[(size_t)t * d + i];
    }
    if (demb) {
        memset(demb, 0, (size_t)T * c->d_in * sizeof(float));
        ts_matmul_grad_x(demb, dX, w.w_in, T, d, c->d_in);
    }
}
