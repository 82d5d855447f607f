// Fixed-point rows: fw-quant against the float model it quantizes (fine scales, no saturation),
// fw-quant against loihi2-emu bit for bit on random models and episodes, the Loihi schedule
// (when weights change, when the logits appear, queries never write), and the quantizer's
// mantissa/exponent choice against a hand computation.
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kernels/decoder.h"
#include "kernels/err.h"
#include "kernels/l2row.h"
#include "kernels/quant.h"
#include "tests/fq_support.h"
#include "tests/model_support.h"
#include "kernels/model.h"
#include <hdf5.h>
#include <unistd.h>

static tf_config cfg_small(void) {
    return (tf_config){.d_in = 6, .d_model = 8, .n_layers = 2, .n_heads = 2, .d_ff = 10, .n_labels = 4, .attn = TF_LINEAR};
}

// Unit-norm on average, like the encoder's L2-normalised embeddings.
static void rand_emb(rng_t *r, float *e, int n) {
    for (int i = 0; i < n; i++) e[i] = rng_normal(r) / sqrtf((float)n);
}

Test(quant, mantissas_and_exponents_by_hand) {
    tf_config c = cfg_small();
    float *p = fqt_random_model(&c, 3, 0.2f);
    fq_model q;
    fqt_set_scales(&q, &c, 20);
    cr_assert_eq(fq_derive(&q, &c, p), 0, "%s", err_msg());
    tf_weights w;
    tf_weights_map(&c, p, &w);
    // wq of layer 1: real ω = W s_q / s_x; e = ceil(log2(max|ω| / 254)); m = round(ω 2^-e / 2)
    double amax = 0;
    for (int i = 0; i < 64; i++) amax = fmax(amax, fabs(w.wq[64 + i] * 20.0 / q.s_x));
    int e = (int)ceil(log2(amax / 254.0));
    if (e < -8) e = -8;
    cr_assert_eq(q.wq[1].e, e);
    for (int i = 0; i < 64; i++) {
        double m = round(w.wq[64 + i] * 20.0 / q.s_x * pow(2, -e) / 2);
        if (m > 127) m = 127;
        if (m < -127) m = -127;
        cr_assert_eq(q.wq[1].m[i], (int8_t)m, "entry %d", i);
    }
    // 1/n multiplier: nm(n) 2^-pz ≈ g / n with g = 16 s_z / (s_k s_q s_v head_dim)
    double g = 16.0 * q.s_z[0] / (20.0 * 20 * 20 * 4);
    for (int n = 1; n < 200; n += 7) {
        double got = fq_nm(&q, 0, n, 256) * pow(2, -q.pz[0]);
        cr_assert(fabs(got - g / n) <= 0.5 * pow(2, -q.pz[0]) + 1e-12, "n=%d: %g vs %g", n, got, g / n);
    }
    fq_free(&q);
    free(p);
}

// With fine scales the integer decoder follows the float one: same predictions on nearly every
// query and logits within a few percent of their range.
Test(quant, fw_quant_follows_fw_float) {
    tf_config c = cfg_small();
    float *p = fqt_random_model(&c, 5, 0.15f);
    fq_model q;
    fqt_set_scales(&q, &c, 40);
    cr_assert_eq(fq_derive(&q, &c, p), 0, "%s", err_msg());
    dec_row rf, rq;
    cr_assert_eq(dec_open(&rf, &fw_float_ops, &c, p, 8), 0, "%s", err_msg());
    cr_assert_eq(dec_open_aux(&rq, &fw_quant_ops, &c, p, 8, &q), 0, "%s", err_msg());
    rng_t r;
    rng_seed(&r, 9);
    float e[6], lf[4], lq[4];
    double worst = 0;
    int agree = 0, total = 0;
    for (int ep = 0; ep < 20; ep++) {
        rf.ops->reset(&rf);
        rq.ops->reset(&rq);
        dec_traffic tr = {0};
        for (int t = 0; t < 4; t++) {  // 4 supports of 2 labels... then 4 queries
            rand_emb(&r, e, 6);
            int lab = t % 2;
            cr_assert_eq(rf.ops->step(&rf, e, lab, lf, &tr), 0);
            cr_assert_eq(rq.ops->step(&rq, e, lab, lq, &tr), 0);
        }
        for (int t = 0; t < 4; t++) {
            rand_emb(&r, e, 6);
            cr_assert_eq(rf.ops->step(&rf, e, -1, lf, &tr), 0);
            cr_assert_eq(rq.ops->step(&rq, e, -1, lq, &tr), 0);
            double range = 1e-9;
            for (int i = 0; i < 4; i++) range = fmax(range, fabs(lf[i]));
            for (int i = 0; i < 4; i++) worst = fmax(worst, fabs(lf[i] - lq[i]) / range);
            int pf = 0, pq = 0;
            for (int i = 1; i < 4; i++) { if (lf[i] > lf[pf]) pf = i; if (lq[i] > lq[pq]) pq = i; }
            double margin = range;   // float's lead over the runner-up: near-ties may flip
            for (int i = 0; i < 4; i++) if (i != pf) margin = fmin(margin, lf[pf] - lf[i]);
            if (margin < 0.1 * range) continue;
            agree += pf == pq;
            total++;
        }
    }
    // 7-bit keys/queries/values and the floor of the write make single logits move by up to a
    // quarter of the logit range on a few of these random queries (measured 0.26 worst of 80).
    cr_expect(worst < 0.35, "worst relative logit difference %g", worst);
    cr_expect(total > 20 && agree == total, "%d of %d clear predictions agree", agree, total);
    dec_close(&rf);
    dec_close(&rq);
    fq_free(&q);
    free(p);
}

// Bit-identical logits, fw-quant vs loihi2-emu, on random models: small, and the default
// decoder shape; coarse key/value scales so that the plastic weights saturate too.
static void check_bit_identical(tf_config c, double s_kqv, int n_way, int shots, int episodes, uint64_t seed) {
    float *p = fqt_random_model(&c, seed, 0.2f);
    fq_model q;
    fqt_set_scales(&q, &c, s_kqv);
    cr_assert_eq(fq_derive(&q, &c, p), 0, "%s", err_msg());
    const int n_sup = n_way * shots;
    dec_row rq, re;
    cr_assert_eq(dec_open_aux(&rq, &fw_quant_ops, &c, p, n_sup, &q), 0, "%s", err_msg());
    cr_assert_eq(dec_open_aux(&re, &loihi2_emu_ops, &c, p, n_sup, &q), 0, "%s", err_msg());
    rng_t r;
    rng_seed(&r, seed + 1);
    float *e = malloc(sizeof(float) * c.d_in), *la = malloc(sizeof(float) * c.n_labels), *lb = malloc(sizeof(float) * c.n_labels);
    int nonzero = 0, queries = 0;
    for (int ep = 0; ep < episodes; ep++) {
        rq.ops->reset(&rq);
        re.ops->reset(&re);
        dec_traffic tr = {0};
        for (int t = 0; t < n_sup + n_way; t++) {
            rand_emb(&r, e, c.d_in);
            int lab = t < n_sup ? (int)rng_below(&r, (uint32_t)n_way) : -1;
            cr_assert_eq(rq.ops->step(&rq, e, lab, la, &tr), 0, "%s", err_msg());
            cr_assert_eq(re.ops->step(&re, e, lab, lb, &tr), 0, "%s", err_msg());
            if (lab >= 0) continue;
            queries++;
            for (int i = 0; i < c.n_labels; i++) {
                cr_assert_eq(la[i], lb[i], "episode %d token %d logit %d: fw-quant %.9g, loihi2-emu %.9g", ep, t, i, la[i], lb[i]);
                nonzero += la[i] != 0;
            }
        }
    }
    cr_assert(nonzero > queries, "the logits are not trivially zero");
    l2row_stats st;
    cr_assert_eq(l2row_get_stats(&re, &st), 0);
    cr_assert_eq(st.tokens[0] + st.tokens[1], (long)episodes * (n_sup + n_way));
    cr_assert_eq(st.ctr[0].timesteps, st.tokens[0] * 8 * (c.n_layers + 1));
    cr_assert(st.ctr[0].weight_updates > 0 && st.ctr[1].weight_updates == 0, "queries never write");
    cr_assert(st.cores > 0 && st.energy_j[0] > 0);
    free(e); free(la); free(lb);
    dec_close(&rq);
    dec_close(&re);
    fq_free(&q);
    free(p);
}

Test(quant, fw_quant_equals_loihi2_emu_small) { check_bit_identical(cfg_small(), 25, 3, 2, 6, 11); }
Test(quant, fw_quant_equals_loihi2_emu_saturating) { check_bit_identical(cfg_small(), 120, 4, 5, 4, 12); }
Test(quant, fw_quant_equals_loihi2_emu_default_shape, .timeout = 60) {
    tf_config c = {.d_in = 64, .d_model = 64, .n_layers = 2, .n_heads = 4, .d_ff = 128, .n_labels = 20, .attn = TF_LINEAR};
    check_bit_identical(c, 40, 5, 1, 3, 13);
}

// The schedule of kernels/l2row.c, step by step on the emulator: a support token fed at s0
// (≡ 5 mod 8) changes layer l's plastic weights in the learning phase of step s0 + 8 l + 3 and
// at no other step; the readout emits at s0 + 8 L + 1 only; a query changes no weight.
Test(l2row, schedule) {
    tf_config c = cfg_small();
    float *p = fqt_random_model(&c, 21, 0.2f);
    fq_model q;
    fqt_set_scales(&q, &c, 60);
    cr_assert_eq(fq_derive(&q, &c, p), 0, "%s", err_msg());
    dec_row re;
    cr_assert_eq(dec_open_aux(&re, &loihi2_emu_ops, &c, p, 4, &q), 0, "%s", err_msg());
    const l2row_map *mp = l2row_get_map(&re);
    l2_sim *s = l2row_sim(&re);
    cr_assert_eq(mp->latency, 17);
    cr_assert_eq(mp->stride, 24);
    long s0 = l2_sim_time(s) + 1;
    cr_assert_eq(s0 % 8, 5);
    int32_t x0[8], xf_dummy = 0;
    (void)xf_dummy;
    float xf[8], e[6];
    rng_t r;
    rng_seed(&r, 4);
    for (int kind = 0; kind < 2; kind++) {   // a support, then a query
        rand_emb(&r, e, 6);
        int support = kind == 0;
        fq_token_input(&q, e, support ? 1 : -1, xf, x0);
        int32_t one = FQ_ONE, nm[2], we[2], cg[2] = {256, 256};
        for (int l = 0; l < 2; l++) { nm[l] = fq_nm(&q, l, support ? 1 : 2, 256); we[l] = support ? 256 : 0; }
        l2_sim_set_input(s, mp->pop_x0, x0);
        l2_sim_set_input(s, mp->pop_one, &one);
        l2_sim_set_input(s, mp->pop_nm, nm);
        l2_sim_set_input(s, mp->pop_we, we);
        l2_sim_set_input(s, mp->pop_cg, cg);
        int32_t prev[2][2][2][16], cur[16];
        for (int l = 0; l < 2; l++)
            for (int h = 0; h < 2; h++)
                for (int k = 0; k < 2; k++) l2_sim_get_weights(s, mp->plastic[l][h][k], prev[l][h][k]);
        int changed_at[2] = {-1, -1}, log_at = -1;
        for (int k = 0; k < mp->stride; k++) {
            cr_assert_eq(l2_sim_step(s), 0);
            long t = l2_sim_time(s);
            for (int l = 0; l < 2; l++)
                for (int h = 0; h < 2; h++)
                    for (int a = 0; a < 2; a++) {
                        l2_sim_get_weights(s, mp->plastic[l][h][a], cur);
                        if (memcmp(cur, prev[l][h][a], sizeof cur)) {
                            cr_assert(changed_at[l] < 0 || changed_at[l] == t - s0, "layer %d weights change at s0+%ld and s0+%d", l, t - s0, changed_at[l]);
                            changed_at[l] = (int)(t - s0);
                            memcpy(prev[l][h][a], cur, sizeof cur);
                        }
                    }
            const int32_t *lo = l2_sim_output(s, mp->pop_log);
            for (int i = 0; i < 4; i++)
                if (lo[i]) { cr_assert(log_at < 0 || log_at == t - s0, "readout at two steps"); log_at = (int)(t - s0); }
        }
        if (support) {
            cr_assert_eq(changed_at[0], 3, "layer 0 write at s0+%d", changed_at[0]);
            cr_assert_eq(changed_at[1], 11, "layer 1 write at s0+%d", changed_at[1]);
        } else {
            cr_assert_eq(changed_at[0], -1, "a query wrote layer 0");
            cr_assert_eq(changed_at[1], -1, "a query wrote layer 1");
        }
        cr_assert_eq(log_at, 17);
        s0 += mp->stride;
    }
    dec_close(&re);
    fq_free(&q);
    free(p);
}

// Rule variants are selectable: a decay term (forgetting) builds and runs.
Test(l2row, decay_rule_variant_builds) {
    tf_config c = cfg_small();
    float *p = fqt_random_model(&c, 31, 0.2f);
    fq_model q;
    fqt_set_scales(&q, &c, 30);
    cr_assert_eq(fq_derive(&q, &c, p), 0, "%s", err_msg());
    l2row_map m;
    cr_assert_eq(l2row_build(&q, "dw = -2^-3*u0*w + u0*x1*y2", &m), 0, "%s", err_msg());
    l2_sim *s;
    cr_assert_eq(l2_sim_new(m.net, NULL, NULL, &s), 0, "%s", err_msg());
    cr_assert_eq(l2_sim_run(s, 48), 0);
    l2_sim_free(s);
    l2row_map_free(&m);
    cr_assert_neq(l2row_build(&q, "dw = u0*x1*q9", &m), 0, "a malformed rule is refused");
    fq_free(&q);
    free(p);
}

// Context sharding: R = ceil(ctx / FQ_REPL_CTX) replicas (capped), and the builder takes R.
Test(l2row, replicas) {
    cr_assert_eq(fq_replicas(1), 1);
    cr_assert_eq(fq_replicas(FQ_REPL_CTX), 1);
    cr_assert_eq(fq_replicas(FQ_REPL_CTX + 1), 2);
    cr_assert_eq(fq_replicas(100), (100 + FQ_REPL_CTX - 1) / FQ_REPL_CTX);
    cr_assert_eq(fq_replicas(100000), FQ_MAX_REPL);
    cr_assert_eq(fq_repl_ctx(100, 25), 4);
    tf_config c = cfg_small();
    float *p = fqt_random_model(&c, 41, 0.2f);
    fq_model q;
    fqt_set_scales(&q, &c, 30);
    cr_assert_eq(fq_derive(&q, &c, p), 0, "%s", err_msg());
    l2row_map m;
    cr_assert_eq(l2row_build_r(&q, NULL, 3, &m), 0, "%s", err_msg());
    cr_assert_eq(m.replicas, 3);
    l2_sim *s;
    cr_assert_eq(l2_sim_new(m.net, NULL, NULL, &s), 0, "%s", err_msg());
    cr_assert_eq(l2_sim_run(s, 48), 0);
    l2_sim_free(s);
    l2row_map_free(&m);
    cr_assert_neq(l2row_build_r(&q, NULL, 0, &m), 0, "0 replicas refused");
    cr_assert_neq(l2row_build_r(&q, NULL, FQ_MAX_REPL + 1, &m), 0, "too many replicas refused");
    fq_free(&q);
    free(p);
}

// /decoder_quant round trip: the scales, the write-gain table and the QAT record come back, and
// the integer weights re-derived on load equal the ones saved. A file quantized before the QAT
// record existed (dataset removed here) loads as "no QAT".
Test(quant, save_load_round_trip_keeps_scales_gains_and_qat_record) {
    mdl_model m = tst_small_model(9, 8, 10, 2, 2);
    fq_model q, b;
    fqt_set_scales(&q, &m.dec[TF_LINEAR], 30);
    q.s_v[1] = 17.5;
    q.n_cal = 2;
    q.cal_n[0] = 5; q.cal_n[1] = 100;
    q.cal_w[0][0] = 300; q.cal_w[0][1] = 310; q.cal_w[1][0] = 2000; q.cal_w[1][1] = 2100;
    q.qat_steps = 700;
    q.qat_dual = 1;
    cr_assert_eq(fq_derive(&q, &m.dec[TF_LINEAR], m.dec_params[TF_LINEAR]), 0, "%s", err_msg());
    char path[] = "/tmp/neuroicl-fq-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    cr_assert_eq(mdl_save_ex(path, &m, "test", fq_save_h5, &q), 0, "%s", err_msg());
    cr_assert_eq(fq_load(path, &m, &b), 0, "%s", err_msg());
    cr_expect_eq(b.s_v[1], 17.5);
    cr_expect_eq(b.s_x, q.s_x);
    cr_expect_eq(b.n_cal, 2);
    cr_expect_eq(b.cal_w[1][1], 2100);
    cr_expect_eq(b.qat_steps, 700);
    cr_expect_eq(b.qat_dual, 1);
    for (int l = 0; l < 2; l++) {
        cr_expect_eq(fq_write_gain(&b, l, 40), fq_write_gain(&q, l, 40));
        cr_expect_eq(b.wv[l].e, q.wv[l].e);
        cr_expect_eq(memcmp(b.wv[l].m, q.wv[l].m, 64), 0, "layer %d", l);
    }
    fq_free(&b);
    // an older file: no qat_steps_dual dataset
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert(f >= 0);
    cr_assert(H5Ldelete(f, "decoder_quant/qat_steps_dual", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    cr_assert_eq(fq_load(path, &m, &b), 0, "%s", err_msg());
    cr_expect_eq(b.qat_steps, 0);
    cr_expect_eq(b.s_v[1], 17.5);
    fq_free(&b);
    fq_free(&q);
    mdl_free(&m);
    unlink(path);
}
