// fw-quant (the paper's "Quant") — the fixed-point decoder as plain integer loops: exactly the
// arithmetic of the Loihi 2 mapping (quant.h has the formulas, l2row.c the network that runs
// them), so that its logits equal loihi2-emu's bit for bit. Each line below names the
// population of the mapping whose output it computes.
#include "kernels/quant.h"
#include "kernels/err.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t *x, *y, *kq, *qq, *v, *g, *vc, *e, *z, *h, *lg;  // (d_model) each, h (d_ff), lg (n_labels)
    int32_t *s;          // (n_heads) per-head sums of the self term
    int64_t *acc;        // (max(d_ff, d_model, n_labels)) connection sums
    float *xf;           // (d_model) host scratch
    int32_t *W;          // (n_layers, n_heads, R, 2, head_dim, head_dim) W+ then W-, 0..255
    int cg[FQ_MAX_LAYERS];
    int R;               // replicas of each head's plastic synapses (fq_replicas)
    int n_ctx;
} fq_state;

static void fq_destroy(dec_row *r) {
    fq_state *s = r->state;
    if (!s) return;
    void *bufs[] = {s->x, s->y, s->kq, s->qq, s->v, s->g, s->vc, s->e, s->z, s->h, s->lg, s->s, s->acc, s->xf, s->W};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
    free(s);
    r->state = NULL;
}

static int fq_create(dec_row *r, int max_ctx) {
    const fq_model *q = r->aux;
    if (!q) return err_set(ERR_ARG, "fw-quant needs a quantized model: run neuroicl quantize --model FILE and pass --model FILE");
    const tf_config *c = r->cfg;
    if (q->cfg.d_model != c->d_model || q->cfg.n_layers != c->n_layers || q->cfg.d_ff != c->d_ff)
        return err_set(ERR_ARG, "fw-quant: the quantized model does not match the decoder");
    fq_state *s = calloc(1, sizeof *s);
    if (!s) return err_set(ERR_NOMEM, "out of memory for the fw-quant state");
    r->state = s;
    const size_t d = c->d_model, f = c->d_ff, hd = tf_head_dim(c);
    size_t big = f > d ? f : d;
    big = big > (size_t)c->n_labels ? big : (size_t)c->n_labels;
    int32_t **dv[] = {&s->x, &s->y, &s->kq, &s->qq, &s->v, &s->g, &s->vc, &s->e, &s->z};
    for (size_t i = 0; i < sizeof dv / sizeof *dv; i++) *dv[i] = malloc(d * sizeof(int32_t));
    s->h = malloc(f * sizeof(int32_t));
    s->lg = malloc((size_t)c->n_labels * sizeof(int32_t));
    s->s = malloc((size_t)c->n_heads * sizeof(int32_t));
    s->acc = malloc(big * sizeof(int64_t));
    s->xf = malloc(d * sizeof(float));
    s->R = fq_replicas(max_ctx);
    s->W = malloc((size_t)c->n_layers * c->n_heads * s->R * 2 * hd * hd * sizeof(int32_t));
    for (size_t i = 0; i < sizeof dv / sizeof *dv; i++)
        if (!*dv[i]) s->W = (free(s->W), NULL);
    if (!s->h || !s->lg || !s->s || !s->acc || !s->xf || !s->W) {
        fq_destroy(r);
        return err_set(ERR_NOMEM, "out of memory for the fw-quant state");
    }
    for (int l = 0; l < c->n_layers; l++) s->cg[l] = fq_write_gain(q, l, fq_repl_ctx(max_ctx, s->R));
    return 0;
}

static void fq_reset(dec_row *r) {
    const tf_config *c = r->cfg;
    fq_state *s = r->state;
    size_t hd = tf_head_dim(c);
    memset(s->W, 0, (size_t)c->n_layers * c->n_heads * s->R * 2 * hd * hd * sizeof(int32_t));
    s->n_ctx = 0;
}


static int fq_step(dec_row *r, const float *e, int label, float *logits, dec_traffic *tr) {
    const fq_model *q = r->aux;
    const tf_config *c = r->cfg;
    fq_state *s = r->state;
    const int L = c->n_layers, H = c->n_heads, hd = tf_head_dim(c), d = c->d_model, f = c->d_ff;
    const int support = label >= 0;
    int64_t *acc = s->acc;
    fq_token_input(q, e, label, s->xf, s->x);                        // host port X0
    tr->weights_read += (int64_t)sizeof(float) * ((int64_t)d * c->d_in + 2 * d);
    for (int l = 0; l < L; l++) {
        const int cg = s->cg[l], wg = support ? cg : 0;
        const int32_t nm = fq_nm(q, l, s->n_ctx + 1, cg);
        fq_conn(&q->wq[l], s->x, acc);                                   // Qp, P (query)
        for (int i = 0; i < d; i++) s->qq[i] = fq_sat8(fq_relu(fq_sat(acc[i])));
        fq_conn(&q->wk[l], s->x, acc);                                   // Kp, P (key)
        for (int i = 0; i < d; i++) s->kq[i] = fq_sat8(fq_relu(fq_sat(acc[i])));
        fq_conn(&q->wv[l], s->x, acc);                                   // V
        for (int i = 0; i < d; i++) {
            s->v[i] = fq_sat(acc[i]);
            s->g[i] = fq_gain(s->v[i], wg);                              // G: write gate
            s->vc[i] = fq_gain(s->v[i], cg);                             // VC: self-term value
            s->e[i] = fq_sat(((int64_t)s->kq[i] * s->qq[i]) >> FQ_E1);   // E
        }
        for (int h = 0; h < H; h++) {                                 // S
            int64_t sum = 0;
            for (int j = 0; j < hd; j++) sum += s->e[h * hd + j];
            s->s[h] = fq_sat(sum);
        }
        const int R = s->R, rw = s->n_ctx % R;   // the replica this support writes
        for (int h = 0; h < H; h++)                                   // A±, F, Z; learning
            fq_head_step(s->W + ((size_t)l * H + h) * R * 2 * hd * hd, R, hd, s->qq + h * hd, s->kq + h * hd, s->s[h],
                         s->vc + h * hd, support ? s->g + h * hd : NULL, rw, nm, q->pz[l], s->z + h * hd);
        tr->fw_read += (int64_t)2 * R * H * hd * hd;                  // one byte per synapse
        if (support) tr->fw_written += (int64_t)2 * H * hd * hd;
        fq_conn(&q->wo[l], s->z, acc);                                   // Y = X + Wo Z
        for (int i = 0; i < d; i++) s->y[i] = fq_sat(acc[i] + s->x[i]);
        fq_conn(&q->w1[l], s->y, acc);                                   // H = fq_relu(W1 Y + b1)
        fq_add_bias(&q->b1[l], acc);
        for (int i = 0; i < f; i++) s->h[i] = fq_relu(fq_sat(acc[i]));
        fq_conn(&q->w2[l], s->h, acc);                                   // X' = Y + W2 H + b2
        fq_add_bias(&q->b2[l], acc);
        for (int i = 0; i < d; i++) s->x[i] = fq_sat(acc[i] + s->y[i]);
        tr->weights_read += 4 * (int64_t)d * d + 2 * (int64_t)d * f + f + d;  // int8 mantissas
    }
    if (support) s->n_ctx++;
    else {
        fq_conn(&q->wout, s->x, acc);                                    // LOG
        fq_add_bias(&q->bout, acc);
        for (int i = 0; i < c->n_labels; i++) logits[i] = fq_logit(q, fq_sat(acc[i]));
        tr->weights_read += (int64_t)c->n_labels * (d + 1);
    }
    return 0;
}

const dec_ops fw_quant_ops = {"fw-quant", TF_LINEAR, fq_create, fq_reset, fq_step, fq_destroy, 0};
