// Quantization-aware training: the fake-quantized forward (tf_forward_hook with the qat hook and
// the dequantized weights) gives exactly fw-quant's logits — the property that makes QAT train
// the model fw-quant and loihi2-emu run; a NULL hook leaves tf_forward/tf_backward unchanged;
// the STE gradient is finite and nonzero and one QAT-style update lowers the fixed-point loss.
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kernels/decoder.h"
#include "kernels/err.h"
#include "kernels/qat.h"
#include "kernels/quant.h"
#include "tests/fq_support.h"

static void set_scales(fq_model *q, const tf_config *c, double s_kqv) {
    fqt_set_scales(q, c, s_kqv);
    // a write-gain table so that cg < 256 at larger contexts
    q->n_cal = 2;
    q->cal_n[0] = 4; q->cal_n[1] = 20;
    for (int l = 0; l < c->n_layers; l++) { q->cal_w[0][l] = 300; q->cal_w[1][l] = 900; }
}

// Episodes of random tokens: fw-quant step by step vs the fake-quant parallel forward.
static void check_exact(tf_config c, double s_kqv, int n_way, int shots, int episodes, uint64_t seed) {
    float *p = fqt_random_model(&c, seed, 0.2f);
    fq_model q;
    set_scales(&q, &c, s_kqv);
    cr_assert_eq(fq_derive(&q, &c, p), 0, "%s", err_msg());
    const int n_sup = n_way * shots, n_q = n_way, T = n_sup + n_q;
    dec_row rq;
    cr_assert_eq(dec_open_aux(&rq, &fw_quant_ops, &c, p, n_sup, &q), 0, "%s", err_msg());
    tf_acts a;
    cr_assert_eq(tf_acts_alloc(&c, T + 3, &a), 0);
    qat_ctx *x;
    cr_assert_eq(qat_ctx_alloc(&q, T + 3, &x), 0);
    tf_hook hk;
    qat_hook(x, &hk);
    float *pf = malloc(tf_n_params(&c) * sizeof(float));
    qat_fake_params(&q, p, pf);
    rng_t r;
    rng_seed(&r, seed + 1);
    float *emb = malloc(sizeof(float) * T * c.d_in), *lg = malloc(sizeof(float) * c.n_labels);
    int *lab = malloc(sizeof(int) * T);
    int nonzero = 0;
    for (int ep = 0; ep < episodes; ep++) {
        for (int t = 0; t < T; t++) {
            for (int i = 0; i < c.d_in; i++) emb[t * c.d_in + i] = rng_normal(&r) / sqrtf((float)c.d_in);
            lab[t] = t < n_sup ? (int)rng_below(&r, (uint32_t)n_way) : t - n_sup;
        }
        float loss = tf_forward_hook(&c, pf, &a, emb, lab, n_sup, n_q, n_way, NULL, &hk);
        cr_assert(isfinite(loss));
        rq.ops->reset(&rq);
        dec_traffic tr = {0};
        for (int t = 0; t < T; t++) {
            cr_assert_eq(rq.ops->step(&rq, emb + t * c.d_in, t < n_sup ? lab[t] : -1, lg, &tr), 0, "%s", err_msg());
            if (t < n_sup) continue;
            for (int i = 0; i < c.n_labels; i++) {
                cr_assert_eq(lg[i], a.logits[(size_t)t * c.n_labels + i], "episode %d token %d logit %d: fw-quant %.9g, fake-quant %.9g",
                             ep, t, i, lg[i], a.logits[(size_t)t * c.n_labels + i]);
                nonzero += lg[i] != 0;
            }
        }
    }
    cr_assert(nonzero > episodes * n_q, "the logits are not trivially zero");
    free(emb); free(lg); free(lab); free(pf);
    qat_ctx_free(x);
    tf_acts_free(&a);
    dec_close(&rq);
    fq_free(&q);
    free(p);
}

static tf_config cfg_small(void) {
    return (tf_config){.d_in = 6, .d_model = 8, .n_layers = 2, .n_heads = 2, .d_ff = 10, .n_labels = 4, .attn = TF_LINEAR};
}

Test(qat, fake_quant_forward_equals_fw_quant_small) { check_exact(cfg_small(), 25, 3, 2, 6, 21); }
// coarse key/value scales: queries, keys, value traces and plastic weights saturate
Test(qat, fake_quant_forward_equals_fw_quant_saturating) { check_exact(cfg_small(), 120, 4, 5, 4, 22); }
// the default decoder shape, 20-way 5-shot (R = 25 replicas)
Test(qat, fake_quant_forward_equals_fw_quant_default_shape, .timeout = 60) {
    tf_config c = {.d_in = 64, .d_model = 64, .n_layers = 2, .n_heads = 4, .d_ff = 128, .n_labels = 20, .attn = TF_LINEAR};
    check_exact(c, 40, 20, 5, 2, 23);
    check_exact(c, 40, 5, 1, 3, 24);
}

// NULL hook: tf_forward_hook / tf_backward_hook are tf_forward / tf_backward bit for bit.
Test(qat, null_hook_is_plain_forward_backward) {
    tf_config c = cfg_small();
    float *p = fqt_random_model(&c, 5, 0.1f);
    const int n_sup = 6, n_q = 3, T = n_sup + n_q;
    size_t np = tf_n_params(&c);
    tf_acts a;
    cr_assert_eq(tf_acts_alloc(&c, T, &a), 0);
    rng_t r;
    rng_seed(&r, 6);
    float emb[9 * 6];
    int lab[9];
    for (int i = 0; i < T * c.d_in; i++) emb[i] = rng_normal(&r);
    for (int t = 0; t < T; t++) lab[t] = t % 3;
    float *g1 = calloc(np, sizeof(float)), *g2 = calloc(np, sizeof(float));
    float l1 = tf_forward(&c, p, &a, emb, lab, n_sup, n_q, 3, NULL);
    tf_backward(&c, p, &a, emb, lab, n_sup, n_q, 3, g1, NULL);
    float l2 = tf_forward_hook(&c, p, &a, emb, lab, n_sup, n_q, 3, NULL, NULL);
    tf_backward_hook(&c, p, &a, emb, lab, n_sup, n_q, 3, g2, NULL, NULL);
    cr_assert_eq(l1, l2);
    cr_assert_eq(memcmp(g1, g2, np * sizeof(float)), 0);
    free(g1); free(g2); free(p);
    tf_acts_free(&a);
}

// The STE gradient through the fixed-point forward is finite, nonzero, and a small step
// against it lowers the fixed-point loss of that episode.
Test(qat, ste_gradient_descends_fixed_point_loss) {
    tf_config c = cfg_small();
    float *p = fqt_random_model(&c, 31, 0.2f);
    fq_model q;
    set_scales(&q, &c, 25);
    const int n_sup = 8, n_q = 4, T = n_sup + n_q;
    size_t np = tf_n_params(&c);
    tf_acts a;
    cr_assert_eq(tf_acts_alloc(&c, T, &a), 0);
    qat_ctx *x;
    float *pf = malloc(np * sizeof(float)), *g = calloc(np, sizeof(float));
    rng_t r;
    rng_seed(&r, 32);
    float emb[12 * 6];
    int lab[12];
    for (int i = 0; i < T * c.d_in; i++) emb[i] = rng_normal(&r) / sqrtf(6.f);
    for (int t = 0; t < T; t++) lab[t] = t % 4;
    cr_assert_eq(fq_derive(&q, &c, p), 0);
    cr_assert_eq(qat_ctx_alloc(&q, T, &x), 0);
    tf_hook hk;
    qat_hook(x, &hk);
    qat_fake_params(&q, p, pf);
    float l0 = tf_forward_hook(&c, pf, &a, emb, lab, n_sup, n_q, 4, NULL, &hk);
    tf_backward_hook(&c, pf, &a, emb, lab, n_sup, n_q, 4, g, NULL, &hk);
    double gn = 0;
    for (size_t i = 0; i < np; i++) { cr_assert(isfinite(g[i])); gn += (double)g[i] * g[i]; }
    cr_assert(gn > 0);
    for (size_t i = 0; i < np; i++) p[i] -= 0.05f * g[i] / (float)sqrt(gn);
    cr_assert_eq(fq_derive(&q, &c, p), 0);
    qat_fake_params(&q, p, pf);
    float l1 = tf_forward_hook(&c, pf, &a, emb, lab, n_sup, n_q, 4, NULL, &hk);
    cr_assert(l1 < l0, "fixed-point loss %g -> %g", l0, l1);
    free(pf); free(g); free(p);
    qat_ctx_free(x);
    tf_acts_free(&a);
    fq_free(&q);
}
