// Transformer decoder: gradients against finite differences, the token-by-token rows
// against the parallel (training) forward, kv-linear against fw-float, counted traffic
// against its closed form.
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kernels/adamw.h"
#include "kernels/decoder.h"
#include "kernels/err.h"
#include "kernels/tensor.h"
#include "kernels/transformer.h"

static tf_config small_cfg(tf_attn attn) {
    return (tf_config){.d_in = 6, .d_model = 8, .n_layers = 2, .n_heads = 2, .d_ff = 10, .n_labels = 4, .attn = attn};
}

typedef struct { int n_sup, n_q, n_way; float *emb; int *label; } toy_episode;

static toy_episode toy(const tf_config *c, int n_way, int k, int q, uint64_t seed) {
    rng_t r;
    rng_seed(&r, seed);
    toy_episode e = {.n_sup = n_way * k, .n_q = q, .n_way = n_way};
    int T = e.n_sup + e.n_q;
    e.emb = malloc(sizeof(float) * T * c->d_in);
    e.label = malloc(sizeof(int) * T);
    for (int i = 0; i < T * c->d_in; i++) e.emb[i] = rng_normal(&r);
    for (int t = 0; t < T; t++) e.label[t] = (int)rng_below(&r, (uint32_t)n_way);
    return e;
}

static void toy_free(toy_episode *e) { free(e->emb); free(e->label); }

static void check_gradients(tf_attn attn) {
    tf_config c = small_cfg(attn);
    size_t np = tf_n_params(&c);
    float *p = malloc(np * sizeof(float)), *g = calloc(np, sizeof(float));
    rng_t r;
    rng_seed(&r, 7);
    tf_init(&c, p, &r);
    // Make the residual branches large enough that every block matters in the loss.
    for (size_t i = 0; i < np; i++) p[i] += 0.3f * rng_normal(&r);
    toy_episode e = toy(&c, 3, 2, 4, 11);
    tf_acts a;
    cr_assert_eq(tf_acts_alloc(&c, e.n_sup + e.n_q, &a), 0);
    int T = e.n_sup + e.n_q;
    float *demb = malloc(sizeof(float) * T * c.d_in);
    tf_forward(&c, p, &a, e.emb, e.label, e.n_sup, e.n_q, e.n_way, NULL);
    tf_backward(&c, p, &a, e.emb, e.label, e.n_sup, e.n_q, e.n_way, g, demb);
    tf_weights w;
    tf_weights_map(&c, p, &w);
    struct { const char *name; float *base; size_t n; } blocks[] = {
        {"w_in", w.w_in, (size_t)c.d_model * c.d_in}, {"b_in", w.b_in, (size_t)c.d_model},
        {"label_emb", w.label_emb, (size_t)(c.n_labels + 1) * c.d_model},
        {"wq", w.wq, (size_t)2 * 64}, {"wk", w.wk, (size_t)2 * 64}, {"wv", w.wv, (size_t)2 * 64},
        {"wo", w.wo, (size_t)2 * 64}, {"w1", w.w1, (size_t)2 * 80}, {"b1", w.b1, (size_t)2 * 10},
        {"w2", w.w2, (size_t)2 * 80}, {"b2", w.b2, (size_t)2 * 8},
        {"w_out", w.w_out, (size_t)4 * 8}, {"b_out", w.b_out, (size_t)4}};
    const double eps = 3e-3;
    for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++) {
        double num = 0, den = 0;
        size_t off = blocks[b].base - p;
        for (size_t i = 0; i < blocks[b].n; i++) {
            float old = p[off + i];
            p[off + i] = old + eps;
            double lp = tf_forward(&c, p, &a, e.emb, e.label, e.n_sup, e.n_q, e.n_way, NULL);
            p[off + i] = old - eps;
            double lm = tf_forward(&c, p, &a, e.emb, e.label, e.n_sup, e.n_q, e.n_way, NULL);
            p[off + i] = old;
            double fd = (lp - lm) / (2 * eps), an = g[off + i];
            num += (fd - an) * (fd - an);
            den += fd * fd + an * an;
        }
        cr_assert(den > 1e-12, "block %s has no gradient at all", blocks[b].name);
        cr_expect(sqrt(num / den) < 2e-2, "%s gradient of %s: relative error %g", attn ? "softmax" : "linear",
                  blocks[b].name, sqrt(num / den));
    }
    // gradient with respect to the input embeddings
    double num = 0, den = 0;
    for (int i = 0; i < T * c.d_in; i++) {
        float old = e.emb[i];
        e.emb[i] = old + eps;
        double lp = tf_forward(&c, p, &a, e.emb, e.label, e.n_sup, e.n_q, e.n_way, NULL);
        e.emb[i] = old - eps;
        double lm = tf_forward(&c, p, &a, e.emb, e.label, e.n_sup, e.n_q, e.n_way, NULL);
        e.emb[i] = old;
        double fd = (lp - lm) / (2 * eps);
        num += (fd - demb[i]) * (fd - demb[i]);
        den += fd * fd + demb[i] * demb[i];
    }
    cr_expect(sqrt(num / den) < 2e-2, "embedding gradient relative error %g", sqrt(num / den));
    tf_acts_free(&a);
    toy_free(&e);
    free(p); free(g); free(demb);
}

Test(transformer, gradients_linear_attention_match_finite_differences) { check_gradients(TF_LINEAR); }
Test(transformer, gradients_softmax_attention_match_finite_differences) { check_gradients(TF_SOFTMAX); }

// Runs a row token by token over an episode; logits (n_q, n_labels).
static void run_row(const dec_ops *ops, const tf_config *c, const float *p, const toy_episode *e,
                    float *logits, dec_traffic *per_token) {
    dec_row r;
    cr_assert_eq(dec_open(&r, ops, c, p, e->n_sup), 0, "%s", err_msg());
    for (int t = 0; t < e->n_sup + e->n_q; t++) {
        dec_traffic tr = {0};
        int q = t >= e->n_sup;
        cr_assert_eq(r.ops->step(&r, e->emb + (size_t)t * c->d_in, q ? -1 : e->label[t],
                                 logits + (size_t)(q ? t - e->n_sup : 0) * c->n_labels, &tr), 0);
        if (per_token) per_token[t] = tr;
    }
    dec_close(&r);
}

static void check_rows_match_parallel(tf_attn attn, const dec_ops *ops) {
    tf_config c = {.d_in = 16, .d_model = 32, .n_layers = 2, .n_heads = 4, .d_ff = 48, .n_labels = 20, .attn = attn};
    float *p = malloc(tf_n_params(&c) * sizeof(float));
    rng_t r;
    rng_seed(&r, 3);
    tf_init(&c, p, &r);
    for (int ep = 0; ep < 20; ep++) {
        toy_episode e = toy(&c, 5 + ep % 10, 1 + ep % 3, 6, 100 + ep);
        tf_acts a;
        cr_assert_eq(tf_acts_alloc(&c, e.n_sup + e.n_q, &a), 0);
        tf_forward(&c, p, &a, e.emb, e.label, e.n_sup, e.n_q, e.n_way, NULL);
        float *lg = malloc(sizeof(float) * e.n_q * c.n_labels);
        run_row(ops, &c, p, &e, lg, NULL);
        for (int j = 0; j < e.n_q; j++)
            for (int i = 0; i < c.n_labels; i++) {
                float x = a.logits[(size_t)(e.n_sup + j) * c.n_labels + i], y = lg[(size_t)j * c.n_labels + i];
                cr_assert(fabsf(x - y) <= 1e-4f * fmaxf(1.0f, fabsf(x)), "%s episode %d query %d logit %d: %g vs %g",
                          ops->name, ep, j, i, x, y);
            }
        free(lg);
        tf_acts_free(&a);
        toy_free(&e);
    }
    free(p);
}

Test(decoders, kv_softmax_token_by_token_equals_parallel_forward) { check_rows_match_parallel(TF_SOFTMAX, &kv_softmax_ops); }
Test(decoders, kv_linear_token_by_token_equals_parallel_forward) { check_rows_match_parallel(TF_LINEAR, &kv_linear_ops); }
Test(decoders, fw_float_token_by_token_equals_parallel_forward) { check_rows_match_parallel(TF_LINEAR, &fw_float_ops); }

Test(decoders, kv_linear_equals_fw_float_over_many_random_models) {
    for (int m = 0; m < 10; m++) {
        tf_config c = {.d_in = 24, .d_model = 32 + 16 * (m % 3), .n_layers = 1 + m % 3, .n_heads = 1 << (m % 3),
                       .d_ff = 64, .n_labels = 20, .attn = TF_LINEAR};
        float *p = malloc(tf_n_params(&c) * sizeof(float));
        rng_t r;
        rng_seed(&r, 50 + m);
        tf_init(&c, p, &r);
        for (int ep = 0; ep < 10; ep++) {
            toy_episode e = toy(&c, 20, 5, 20, 1000 * m + ep);
            float *a = malloc(sizeof(float) * e.n_q * c.n_labels), *b = malloc(sizeof(float) * e.n_q * c.n_labels);
            run_row(&kv_linear_ops, &c, p, &e, a, NULL);
            run_row(&fw_float_ops, &c, p, &e, b, NULL);
            // relative difference of each query's logit vector: max|a-b| / max|a|
            for (int j = 0; j < e.n_q; j++) {
                float diff = 0.0f, scale = 0.0f;
                for (int i = 0; i < c.n_labels; i++) {
                    diff = fmaxf(diff, fabsf(a[j * c.n_labels + i] - b[j * c.n_labels + i]));
                    scale = fmaxf(scale, fabsf(a[j * c.n_labels + i]));
                }
                cr_assert(diff <= 1e-4f * scale, "model %d ep %d query %d: relative difference %g", m, ep, j, diff / scale);
            }
            free(a); free(b);
            toy_free(&e);
        }
        free(p);
    }
}

// Closed forms (float32 = 4 bytes), d = d_model, f = d_ff, L = layers, H heads of size h,
// W_tok = d*d_in + 2d (embedding) , W_blk = 4d^2 + 2df + f + d, W_out = n_labels*(d+1):
//   kv support at position t (0-based): weights W_tok + (L-1) W_blk + 2d^2;
//      kv read 2d(t+1) per full layer (L-1 of them), written 2d per layer (L).
//   kv query with n supports cached: weights W_tok + L W_blk + W_out; kv read 2dn L.
//   fw: same weights; state read H h^2 per layer, written H h^2 per layer for supports.
Test(decoders, counted_traffic_matches_closed_form) {
    tf_config c = {.d_in = 12, .d_model = 16, .n_layers = 3, .n_heads = 2, .d_ff = 24, .n_labels = 7, .attn = TF_LINEAR};
    const long d = 16, f = 24, L = 3, h = 8, H = 2;
    const long Wtok = d * 12 + 2 * d, Wblk = 4 * d * d + 2 * d * f + f + d, Wout = 7 * (d + 1);
    float *p = malloc(tf_n_params(&c) * sizeof(float));
    rng_t r;
    rng_seed(&r, 1);
    tf_init(&c, p, &r);
    toy_episode e = toy(&c, 5, 2, 3, 9);
    int T = e.n_sup + e.n_q;
    dec_traffic *kv = calloc(T, sizeof *kv), *fw = calloc(T, sizeof *fw);
    float *lg = malloc(sizeof(float) * e.n_q * c.n_labels);
    run_row(&kv_linear_ops, &c, p, &e, lg, kv);
    run_row(&fw_float_ops, &c, p, &e, lg, fw);
    for (int t = 0; t < T; t++) {
        int q = t >= e.n_sup;
        long w = q ? 4 * (Wtok + L * Wblk + Wout) : 4 * (Wtok + (L - 1) * Wblk + 2 * d * d);
        cr_expect_eq(kv[t].weights_read, w, "kv weights at %d", t);
        cr_expect_eq(fw[t].weights_read, w, "fw weights at %d", t);
        long kvr = q ? 4 * 2 * d * e.n_sup * L : 4 * 2 * d * (t + 1) * (L - 1);
        cr_expect_eq(kv[t].kv_read, kvr, "kv read at %d: %ld vs %ld", t, (long)kv[t].kv_read, kvr);
        cr_expect_eq(kv[t].kv_written, q ? 0 : 4 * 2 * d * L);
        cr_expect_eq(fw[t].fw_read, 4 * H * h * h * L);
        cr_expect_eq(fw[t].fw_written, q ? 0 : 4 * H * h * h * L);
        cr_expect_eq(kv[t].fw_read + kv[t].fw_written + fw[t].kv_read + fw[t].kv_written, 0);
    }
    free(kv); free(fw); free(lg); free(p);
    toy_free(&e);
}

Test(decoders, kv_cache_refuses_more_supports_than_capacity) {
    tf_config c = small_cfg(TF_SOFTMAX);
    float *p = calloc(tf_n_params(&c), sizeof(float));
    dec_row r;
    cr_assert_eq(dec_open(&r, &kv_softmax_ops, &c, p, 2), 0);
    float e[6] = {0}, lg[4];
    dec_traffic tr = {0};
    cr_assert_eq(r.ops->step(&r, e, 0, lg, &tr), 0);
    cr_assert_eq(r.ops->step(&r, e, 1, lg, &tr), 0);
    cr_assert_eq(r.ops->step(&r, e, 2, lg, &tr), ERR_RANGE);
    cr_assert(strstr(err_msg(), "KV cache full"));
    dec_close(&r);
    free(p);
}

Test(decoders, unknown_row_names_are_not_found) {
    cr_assert_null(dec_find("kv-foo"));
    cr_assert_eq(dec_find("fw-float"), &fw_float_ops);
}

Test(adamw, first_step_moves_each_parameter_by_lr_times_sign) {
    // With zero moments the bias-corrected first step is g/|g| (up to eps): p -= lr*sign(g).
    adamw_state s;
    cr_assert_eq(adamw_init(&s, 3, 0.0f), 0);
    float p[3] = {1.0f, -2.0f, 0.5f}, g[3] = {0.3f, -4.0f, 1e-3f};
    adamw_update(&s, p, g, 0.1f);
    cr_expect_float_eq(p[0], 0.9f, 1e-5f);
    cr_expect_float_eq(p[1], -1.9f, 1e-5f);
    cr_expect_float_eq(p[2], 0.4f, 1e-4f);
    adamw_free(&s);
}

Test(adamw, weight_decay_is_decoupled_from_the_gradient) {
    adamw_state s;
    cr_assert_eq(adamw_init(&s, 1, 0.5f), 0);
    float p[1] = {2.0f}, g[1] = {0.0f};
    adamw_update(&s, p, g, 0.1f);  // zero gradient: only decay, p -= lr*wd*p
    cr_expect_float_eq(p[0], 2.0f - 0.1f * 0.5f * 2.0f, 1e-6f);
    adamw_free(&s);
}

Test(tensor, fast_exp_matches_libm_to_a_few_ulp) {
    double worst = 0.0;
    for (int i = 0; i <= 200000; i++) {
        float x = -87.0f + 175.0f * (float)i / 200000.0f;
        double ref = exp((double)x), got = ts_exp(x);
        double rel = fabs(got - ref) / ref;
        if (rel > worst) worst = rel;
    }
    cr_assert(worst < 5e-7, "worst relative error %g", worst);
    cr_assert_float_eq(ts_exp(0.0f), 1.0f, 1e-7f);
    cr_assert(ts_exp(-1000.0f) > 0.0f && ts_exp(-1000.0f) < 1e-37f, "clamped, never 0 or negative");
}
