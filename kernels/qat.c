// qat — quantization-aware fine-tuning (see qat.h). The integer arithmetic below is the
// per-token arithmetic of kernels/fw_quant.c, written over a whole episode (supports in order,
// then every query reading the final plastic weights); tests/test_qat.c checks the logits equal
// fw-quant's bit for bit.
#include "kernels/qat.h"
#include "kernels/adamw.h"
#include "kernels/err.h"
#include "kernels/train.h"
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

struct qat_ctx {
    const fq_model *q;
    int MT;
    int32_t *x;    // (L + 1, MT, d) residual stream (X of each layer, then the final X)
    int32_t *y;    // (L, MT, d) after attention
    int32_t *qq, *kq, *v, *z;  // (L, MT, d)
    int32_t *h;    // (L, MT, f)
    int64_t *acc;  // (max(d, f, n_labels))
    float *xf;     // (d)
    int32_t *W;    // (FQ_MAX_REPL, 2, hd, hd) one head's plastic synapses
    int32_t *vc;   // (d) one head's gained values (VC, and G for a support)
};

void qat_default_options(qat_options *o) {
    memset(o, 0, sizeof *o);
    o->steps = 0;
    o->batch = 16;
    o->lr = 3e-4f;
    o->weight_decay = 1e-4f;
    o->threads = 2;
    o->seed = 1;
}

void qat_ctx_free(qat_ctx *x) {
    if (!x) return;
    free(x->x); free(x->y); free(x->qq); free(x->kq); free(x->v); free(x->z); free(x->h);
    free(x->acc); free(x->xf); free(x->W); free(x->vc);
    free(x);
}

int qat_ctx_alloc(const fq_model *q, int MT, qat_ctx **out) {
    const tf_config *c = &q->cfg;
    const size_t L = c->n_layers, d = c->d_model, f = c->d_ff, hd = tf_head_dim(c), T = MT;
    size_t big = f > d ? f : d;
    big = big > (size_t)c->n_labels ? big : (size_t)c->n_labels;
    qat_ctx *x = calloc(1, sizeof *x);
    if (!x) return err_set(ERR_NOMEM, "out of memory for the QAT state");
    x->q = q;
    x->MT = MT;
    x->x = malloc((L + 1) * T * d * sizeof(int32_t));
    x->y = malloc(L * T * d * sizeof(int32_t));
    x->qq = malloc(L * T * d * sizeof(int32_t));
    x->kq = malloc(L * T * d * sizeof(int32_t));
    x->v = malloc(L * T * d * sizeof(int32_t));
    x->z = malloc(L * T * d * sizeof(int32_t));
    x->h = malloc(L * T * f * sizeof(int32_t));
    x->acc = malloc(big * sizeof(int64_t));
    x->xf = malloc(d * sizeof(float));
    x->W = malloc((size_t)FQ_MAX_REPL * 2 * hd * hd * sizeof(int32_t));
    x->vc = malloc(d * sizeof(int32_t));
    if (!x->x || !x->y || !x->qq || !x->kq || !x->v || !x->z || !x->h || !x->acc || !x->xf || !x->W || !x->vc) {
        qat_ctx_free(x);
        return err_set(ERR_NOMEM, "out of memory for the QAT state");
    }
    *out = x;
    return 0;
}

// ---- integer pieces (as in fw_quant.c)

static int write_gain(const fq_model *q, int l, int n_sup) {
    int R = fq_replicas(n_sup);
    return fq_write_gain(q, l, fq_repl_ctx(n_sup, R));
}

// Z for every token of layer l: the plastic synapses of each head written support by support.
static void attention(qat_ctx *x, int l, int n_sup, int T) {
    const fq_model *q = x->q;
    const tf_config *c = &q->cfg;
    const int H = c->n_heads, hd = tf_head_dim(c), d = c->d_model, MT = x->MT;
    const int R = fq_replicas(n_sup), cg = write_gain(q, l, n_sup);
    const int32_t *Q = x->qq + (size_t)l * MT * d, *K = x->kq + (size_t)l * MT * d, *V = x->v + (size_t)l * MT * d;
    int32_t *Z = x->z + (size_t)l * MT * d;
    for (int h = 0; h < H; h++) {
        memset(x->W, 0, (size_t)R * 2 * hd * hd * sizeof(int32_t));
        for (int t = 0; t < T; t++) {
            const int support = t < n_sup, n = support ? t + 1 : n_sup + 1;
            const int32_t nm = fq_nm(q, l, n, cg);
            const int32_t *qh = Q + (size_t)t * d + h * hd, *kh = K + (size_t)t * d + h * hd, *vh = V + (size_t)t * d + h * hd;
            int64_t ssum = 0;
            for (int j = 0; j < hd; j++) ssum += fq_sat(((int64_t)kh[j] * qh[j]) >> FQ_E1);
            const int32_t S = fq_sat(ssum);
            for (int i = 0; i < hd; i++) x->vc[i] = fq_gain(vh[i], cg);   // VC, and G for a support
            fq_head_step(x->W, R, hd, qh, kh, S, x->vc, support ? x->vc : NULL, t % R, nm, q->pz[l],
                         Z + (size_t)t * d + h * hd);
        }
    }
}

static void put(float *dst, const int32_t *src, size_t n, double s) {
    for (size_t i = 0; i < n; i++) dst[i] = (float)(src[i] / s);
}

static void hook_fwd(void *ctx, tf_site site, int l, tf_acts *a, const float *emb, const int *label, int n_sup, int n_q) {
    qat_ctx *x = ctx;
    const fq_model *q = x->q;
    const tf_config *c = &q->cfg;
    const int T = n_sup + n_q, d = c->d_model, f = c->d_ff, MT = x->MT, nl = c->n_labels;
    const size_t Td = (size_t)T * d;
    int64_t *acc = x->acc;
    int32_t *X = x->x + (size_t)l * MT * d, *Y = x->y + (size_t)l * MT * d;
    switch (site) {
    case TF_SITE_X0:
        for (int t = 0; t < T; t++)
            fq_token_input(q, emb + (size_t)t * c->d_in, t < n_sup ? label[t] : -1, x->xf, x->x + (size_t)t * d);
        put(a->x, x->x, Td, q->s_x);
        break;
    case TF_SITE_Q:
    case TF_SITE_K: {
        const fq_mat *W = site == TF_SITE_Q ? &q->wq[l] : &q->wk[l];
        int32_t *o = (site == TF_SITE_Q ? x->qq : x->kq) + (size_t)l * MT * d;
        for (int t = 0; t < T; t++) {
            fq_conn(W, X + (size_t)t * d, acc);
            for (int i = 0; i < d; i++) o[(size_t)t * d + i] = fq_sat8(fq_relu(fq_sat(acc[i])));
        }
        put((site == TF_SITE_Q ? a->q : a->k) + l * Td, o, Td, site == TF_SITE_Q ? q->s_q[l] : q->s_k[l]);
        break;
    }
    case TF_SITE_V: {
        int32_t *o = x->v + (size_t)l * MT * d;
        for (int t = 0; t < T; t++) {
            fq_conn(&q->wv[l], X + (size_t)t * d, acc);
            for (int i = 0; i < d; i++) o[(size_t)t * d + i] = fq_sat(acc[i]);
        }
        put(a->v + l * Td, o, Td, q->s_v[l]);
        break;
    }
    case TF_SITE_AO:
        attention(x, l, n_sup, T);
        put(a->ao + l * Td, x->z + (size_t)l * MT * d, Td, q->s_z[l]);
        break;
    case TF_SITE_XMID: {
        const int32_t *Z = x->z + (size_t)l * MT * d;
        for (int t = 0; t < T; t++) {
            fq_conn(&q->wo[l], Z + (size_t)t * d, acc);
            for (int i = 0; i < d; i++) Y[(size_t)t * d + i] = fq_sat(acc[i] + X[(size_t)t * d + i]);
        }
        put(a->xmid + l * Td, Y, Td, q->s_x);
        break;
    }
    case TF_SITE_H: {
        int32_t *Hh = x->h + (size_t)l * MT * f;
        for (int t = 0; t < T; t++) {
            fq_conn(&q->w1[l], Y + (size_t)t * d, acc);
            fq_add_bias(&q->b1[l], acc);
            for (int i = 0; i < f; i++) Hh[(size_t)t * f + i] = fq_relu(fq_sat(acc[i]));
        }
        put(a->h + (size_t)l * T * f, Hh, (size_t)T * f, q->s_h[l]);
        break;
    }
    case TF_SITE_XN: {
        const int32_t *Hh = x->h + (size_t)l * MT * f;
        int32_t *XN = x->x + (size_t)(l + 1) * MT * d;
        for (int t = 0; t < T; t++) {
            fq_conn(&q->w2[l], Hh + (size_t)t * f, acc);
            fq_add_bias(&q->b2[l], acc);
            for (int i = 0; i < d; i++) XN[(size_t)t * d + i] = fq_sat(acc[i] + Y[(size_t)t * d + i]);
        }
        put(a->x + (l + 1) * Td, XN, Td, q->s_x);
        break;
    }
    case TF_SITE_LOGITS: {
        const int32_t *XF = x->x + (size_t)c->n_layers * MT * d;
        for (int t = n_sup; t < T; t++) {
            fq_conn(&q->wout, XF + (size_t)t * d, acc);
            fq_add_bias(&q->bout, acc);
            for (int i = 0; i < nl; i++) a->logits[(size_t)t * nl + i] = fq_logit(q, fq_sat(acc[i]));
        }
        break;
    }
    }
}

// Zero gradient where the forward clipped: queries and keys at 127 (8-bit messages), values
// whose trace ((v cg + 128) >> 8) left the 7 bits.
static void hook_bwd(void *ctx, tf_site site, int l, const tf_acts *a, float *g, int n_sup, int n_q) {
    (void)a;
    qat_ctx *x = ctx;
    const fq_model *q = x->q;
    const int d = q->cfg.d_model, T = n_sup + n_q;
    const size_t off = (size_t)l * x->MT * d;
    if (site == TF_SITE_Q || site == TF_SITE_K) {
        const int32_t *o = (site == TF_SITE_Q ? x->qq : x->kq) + off;
        for (size_t i = 0; i < (size_t)T * d; i++) if (o[i] >= 127) g[i] = 0.0f;
    } else if (site == TF_SITE_V) {
        const int cg = write_gain(q, l, n_sup);
        const int32_t *v = x->v + off;
        for (size_t i = 0; i < (size_t)T * d; i++) {
            int32_t vc = fq_gain(v[i], cg);
            if (vc > 127 || vc < -127) g[i] = 0.0f;
        }
    }
}

void qat_hook(qat_ctx *x, tf_hook *h) {
    h->ctx = x;
    h->fwd = hook_fwd;
    h->bwd = hook_bwd;
}

static void deq(const fq_mat *m, double gain, float *out) {
    const double s = 2.0 * ldexp(1.0, m->e) / gain;
    for (size_t i = 0; i < (size_t)m->rows * m->cols; i++) out[i] = (float)(m->m[i] * s);
}

void qat_fake_params(const fq_model *q, const float *params, float *out) {
    const tf_config *c = &q->cfg;
    memcpy(out, params, tf_n_params(c) * sizeof(float));
    tf_weights w;
    tf_weights_map(c, out, &w);
    const int d = c->d_model, f = c->d_ff;
    const size_t dd = (size_t)d * d;
    for (int l = 0; l < c->n_layers; l++) {
        deq(&q->wq[l], q->s_q[l] / q->s_x, w.wq + l * dd);
        deq(&q->wk[l], q->s_k[l] / q->s_x, w.wk + l * dd);
        deq(&q->wv[l], q->s_v[l] / q->s_x, w.wv + l * dd);
        deq(&q->wo[l], q->s_x / q->s_z[l], w.wo + l * dd);
        deq(&q->w1[l], q->s_h[l] / q->s_x, w.w1 + (size_t)l * f * d);
        deq(&q->b1[l], q->s_h[l] / FQ_ONE, w.b1 + (size_t)l * f);
        deq(&q->w2[l], q->s_x / q->s_h[l], w.w2 + (size_t)l * d * f);
        deq(&q->b2[l], q->s_x / FQ_ONE, w.b2 + (size_t)l * d);
    }
    deq(&q->wout, q->s_log / q->s_x, w.w_out);
    deq(&q->bout, q->s_log / FQ_ONE, w.b_out);
}

// ---------------------------------------------------------------- fine-tuning ----------

int qat_finetune(mdl_model *m, fq_model *q, const ds_set *bg, const qat_options *o) {
    const tf_config *c = &m->dec[TF_LINEAR];
    float *P = m->dec_params[TF_LINEAR];
    if (!P) return err_set(ERR_ARG, "qat: the model has no linear decoder");
    if (o->steps < 0 || o->batch < 1 || o->threads < 1 || o->threads > 256 || !(o->lr > 0))
        return err_set(ERR_ARG, "qat: steps >= 0, batch >= 1, threads 1..256, lr > 0");
    if (o->steps == 0) return 0;
    const int NT = o->threads;
    tr_options to;
    tr_default_options(&to);
    to.threads = NT;
    tr_sampler *smp = NULL;
    int rc = tr_sampler_open(&to, bg, m, c->n_labels, &smp);
    if (rc) return rc;
    const int MT = tr_sampler_max_tokens(smp), D = c->d_in;
    const size_t np = tf_n_params(c);
    float *Pfq = malloc(np * sizeof(float));
    float *grads = calloc((size_t)NT * np, sizeof(float));          // (threads, np)
    float *embs = malloc((size_t)NT * MT * D * sizeof(float));       // (threads, MT, D)
    int *labels = malloc((size_t)NT * MT * sizeof(int));             // (threads, MT)
    tf_acts *acts = calloc(NT, sizeof(tf_acts));
    qat_ctx **ctx = calloc(NT, sizeof(qat_ctx *));
    adamw_state opt = {0};
    if (!Pfq || !grads || !embs || !labels || !acts || !ctx) { rc = err_set(ERR_NOMEM, "qat: out of memory"); goto done; }
    for (int t = 0; t < NT && !rc; t++) rc = tf_acts_alloc(c, MT, &acts[t]) || qat_ctx_alloc(q, MT, &ctx[t]);
    if (rc || (rc = adamw_init(&opt, np, o->weight_decay))) goto done;
    double lsum = 0;
    long csum = 0, qsum = 0;
    for (int step = 0; step < o->steps; step++) {
        if (o->stop && *o->stop) {
            rc = err_set(ERR_INTERRUPTED, "QAT interrupted after %d of %d steps", step, o->steps);
            goto done;
        }
        if ((rc = fq_derive(q, c, P))) goto done;
        qat_fake_params(q, P, Pfq);
        memset(grads, 0, (size_t)NT * np * sizeof(float));
        double loss = 0;
        int correct = 0, queries = 0;
#pragma omp parallel for num_threads(NT) reduction(+ : loss, correct, queries) schedule(static)
        for (int e = 0; e < o->batch; e++) {
            int th = omp_get_thread_num();
            rng_t r;
            rng_seed2(&r, o->seed, (0x9a7ULL << 40) | ((uint64_t)step << 12) | (uint64_t)e);
            float *emb = embs + (size_t)th * MT * D;
            int *lab = labels + (size_t)th * MT;
            int ns, nq, nw, nc;
            tr_sampler_episode(smp, &r, emb, lab, &ns, &nq, &nw);
            tf_hook hk;
            qat_hook(ctx[th], &hk);
            loss += tf_forward_hook(c, Pfq, &acts[th], emb, lab, ns, nq, nw, &nc, &hk);
            tf_backward_hook(c, Pfq, &acts[th], emb, lab, ns, nq, nw, grads + (size_t)th * np, NULL, &hk);
            if (o->dual) {
                tf_forward(c, P, &acts[th], emb, lab, ns, nq, nw, NULL);
                tf_backward(c, P, &acts[th], emb, lab, ns, nq, nw, grads + (size_t)th * np, NULL);
            }
            correct += nc;
            queries += nq;
        }
        for (int t = 1; t < NT; t++)
            for (size_t i = 0; i < np; i++) grads[i] += grads[(size_t)t * np + i];
        for (size_t i = 0; i < np; i++) grads[i] /= o->batch;
        float lr = o->lr * (0.05f + 0.95f * 0.5f * (1.0f + cosf((float)M_PI * step / o->steps)));
        adamw_update(&opt, P, grads, lr);
        lsum += loss / o->batch; csum += correct; qsum += queries;
        if (o->log && ((step + 1) % 50 == 0 || step + 1 == o->steps)) {
            int k = (step + 1) % 50 ? (step + 1) % 50 : 50;
            fprintf(o->log, "qat: step %d/%d  loss %.4f  fixed-point train acc %.1f%%  lr %.2g\n", step + 1, o->steps,
                    lsum / k, qsum ? 100.0 * csum / qsum : 0.0, lr);
            lsum = 0; csum = qsum = 0;
        }
    }
    rc = fq_derive(q, c, P);
done:
    if (acts) for (int t = 0; t < NT; t++) tf_acts_free(&acts[t]);
    if (ctx) for (int t = 0; t < NT; t++) qat_ctx_free(ctx[t]);
    free(acts); free(ctx); free(Pfq); free(grads); free(embs); free(labels);
    adamw_free(&opt);
    tr_sampler_close(smp);
    return rc;
}
