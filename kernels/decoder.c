#include "kernels/decoder.h"
#include "kernels/err.h"
#include "kernels/tensor.h"
#include <string.h>

static const dec_ops *const all_rows[] = {&kv_softmax_ops, &kv_linear_ops, &fw_float_ops,
                                           &fw_quant_ops, &loihi2_emu_ops};

const dec_ops *dec_find(const char *name) {
    for (size_t i = 0; i < sizeof all_rows / sizeof *all_rows; i++)
        if (!strcmp(all_rows[i]->name, name)) return all_rows[i];
    return NULL;
}

const char *dec_row_names(void) { return "kv-softmax,kv-linear,fw-float,fw-quant,loihi2-emu"; }

int dec_open(dec_row *r, const dec_ops *ops, const tf_config *cfg, const float *params, int max_ctx) {
    return dec_open_aux(r, ops, cfg, params, max_ctx, NULL);
}

int dec_open_aux(dec_row *r, const dec_ops *ops, const tf_config *cfg, const float *params, int max_ctx,
                 const void *aux) {
    memset(r, 0, sizeof *r);
    r->aux = aux;
    r->ops = ops;
    r->cfg = cfg;
    r->params = params;
    r->max_ctx = max_ctx;
    tf_weights_map(cfg, (float *)params, &r->w);
    int rc = ops->create(r, max_ctx);
    if (rc) return err_wrap(rc, "row %s", ops->name);
    ops->reset(r);
    return 0;
}

void dec_close(dec_row *r) {
    if (r->ops && r->state) r->ops->destroy(r);
    r->state = NULL;
}

#define F4 ((int64_t)sizeof(float))

void dec_embed(const dec_row *r, const float *e, int label, float *x, dec_traffic *tr) {
    const tf_config *c = r->cfg;
    const int d = c->d_model;
    ts_matvec(x, r->w.w_in, e, r->w.b_in, d, c->d_in);
#ifdef NEUROICL_SLOW_KERNEL  // test build only: N extra (counted) passes over w_in, same result
    for (int s = 0; s < NEUROICL_SLOW_KERNEL; s++) { ts_matvec(x, r->w.w_in, e, r->w.b_in, d, c->d_in); tr->weights_read += F4 * ((int64_t)d * c->d_in + d); }
#endif
    const float *le = r->w.label_emb + (size_t)(label >= 0 ? label : c->n_labels) * d;
    for (int i = 0; i < d; i++) x[i] += le[i];
    tr->weights_read += F4 * ((int64_t)d * c->d_in + 2 * d);
}

void dec_qkv(const dec_row *r, int l, const float *x, float *q, float *k, float *v, dec_traffic *tr) {
    const int d = r->cfg->d_model;
    const size_t dd = (size_t)d * d;
    if (q) ts_matvec(q, r->w.wq + l * dd, x, NULL, d, d);
    ts_matvec(k, r->w.wk + l * dd, x, NULL, d, d);
    ts_matvec(v, r->w.wv + l * dd, x, NULL, d, d);
    tr->weights_read += F4 * (int64_t)dd * (q ? 3 : 2);
}

void dec_attn_out(const dec_row *r, int l, float *x, const float *ao, float *tmp, dec_traffic *tr) {
    const int d = r->cfg->d_model;
    ts_matvec(tmp, r->w.wo + (size_t)l * d * d, ao, NULL, d, d);
    for (int i = 0; i < d; i++) x[i] += tmp[i];
    tr->weights_read += F4 * (int64_t)d * d;
}

void dec_mlp(const dec_row *r, int l, float *x, float *hb, dec_traffic *tr) {
    const int d = r->cfg->d_model, f = r->cfg->d_ff;
    ts_matvec(hb, r->w.w1 + (size_t)l * f * d, x, r->w.b1 + (size_t)l * f, f, d);
    for (int i = 0; i < f; i++) hb[i] = tf_relu(hb[i]);
    const float *w2 = r->w.w2 + (size_t)l * d * f, *b2 = r->w.b2 + (size_t)l * d;
    for (int o = 0; o < d; o++) x[o] += ts_dot(w2 + (size_t)o * f, hb, f) + b2[o];
    tr->weights_read += F4 * (2 * (int64_t)d * f + f + d);
}

void dec_readout(const dec_row *r, const float *x, float *logits, dec_traffic *tr) {
    const tf_config *c = r->cfg;
    ts_matvec(logits, r->w.w_out, x, r->w.b_out, c->n_labels, c->d_model);
    tr->weights_read += F4 * ((int64_t)c->n_labels * c->d_model + c->n_labels);
}
