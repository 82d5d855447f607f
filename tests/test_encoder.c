// Tests for the conv encoder. The reference here is deliberately plain: double precision,
// channel-first (c, y, x) maps, bounds checks instead of padding, and the loops ordered
// (co, ci, ky, kx, y, x) — nothing shared with the library's HWC register-tiled kernel.
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "kernels/encoder.h"
#include "kernels/rng.h"

static const enc_config CFG_DEFAULT = {.side = 28, .n_blocks = 4, .ch = {32, 32, 64, 64}};
static const enc_config CFG_TINY = {.side = 8, .n_blocks = 2, .ch = {3, 4}};
static const enc_config CFG_16 = {.side = 16, .n_blocks = 2, .ch = {8, 16}};
static const enc_config CFG_ODD = {.side = 9, .n_blocks = 3, .ch = {2, 3, 5}}; // 9->4->2->1

static void fill_uniform(float *x, size_t n, rng_t *r, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * rng_uniform(r);
}

// Parameters with He init plus non-zero biases, so the bias path is exercised.
static float *make_params(const enc_config *c, uint64_t seed) {
    size_t np = enc_n_params(c);
    float *p = malloc(sizeof(float) * np);
    rng_t r;
    rng_seed(&r, seed);
    enc_init(c, p, &r);
    enc_weights w;
    enc_weights_map(c, p, &w);
    for (int i = 0; i < c->n_blocks; i++) fill_uniform(w.b[i], (size_t)c->ch[i], &r, -0.1f, 0.1f);
    return p;
}

// Reference forward for one image in double; params as double so finite differences can
// perturb them finely. Writes (d_out) in (c, y, x) order.
static void ref_forward(const enc_config *c, const double *par, const float *img, double *out) {
    int s = c->side, cin = 1;
    double *x = malloc(sizeof(double) * (size_t)s * s); // (cin, s, s)
    for (int i = 0; i < s * s; i++) x[i] = img[i];
    size_t off = 0;
    for (int blk = 0; blk < c->n_blocks; blk++) {
        int cout = c->ch[blk];
        const double *w = par + off;                    // (cout, cin, 3, 3)
        const double *b = w + (size_t)cout * cin * 9;   // (cout)
        off += (size_t)cout * cin * 9 + (size_t)cout;
        double *y = malloc(sizeof(double) * (size_t)cout * s * s); // (cout, s, s)
        for (int co = 0; co < cout; co++) {
            double *yc = y + (size_t)co * s * s;
            for (int i = 0; i < s * s; i++) yc[i] = b[co];
            for (int ci = 0; ci < cin; ci++)
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++) {
                        double wv = w[((co * cin + ci) * 3 + ky) * 3 + kx];
                        for (int yy = 0; yy < s; yy++)
                            for (int xx = 0; xx < s; xx++) {
                                int iy = yy + ky - 1, ix = xx + kx - 1;
                                if (iy < 0 || iy >= s || ix < 0 || ix >= s) continue;
                                yc[yy * s + xx] += wv * x[((size_t)ci * s + iy) * s + ix];
                            }
                    }
            for (int i = 0; i < s * s; i++) yc[i] = yc[i] > 0 ? yc[i] : 0;
        }
        int p = s / 2;
        double *z = malloc(sizeof(double) * (size_t)cout * p * p); // (cout, p, p)
        for (int co = 0; co < cout; co++)
            for (int py = 0; py < p; py++)
                for (int px = 0; px < p; px++) {
                    double m = -INFINITY;
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++)
                            m = fmax(m, y[((size_t)co * s + 2 * py + dy) * s + 2 * px + dx]);
                    z[((size_t)co * p + py) * p + px] = m;
                }
        free(x);
        free(y);
        x = z;
        s = p;
        cin = cout;
    }
    memcpy(out, x, sizeof(double) * (size_t)cin * s * s);
    free(x);
}

Test(encoder, shapes) {
    cr_assert_eq(enc_d_out(&CFG_DEFAULT), 64);
    cr_assert_eq(enc_d_out(&CFG_TINY), 4 * 2 * 2);
    cr_assert_eq(enc_d_out(&CFG_16), 16 * 4 * 4);
    cr_assert_eq(enc_d_out(&CFG_ODD), 5);
    enc_config one = {.side = 28, .n_blocks = 1, .ch = {5}};
    cr_assert_eq(enc_d_out(&one), 5 * 14 * 14);
    cr_assert_eq(enc_n_params(&CFG_DEFAULT),
                 (size_t)(32 * 9 + 32) + (32 * 32 * 9 + 32) + (64 * 32 * 9 + 64) + (64 * 64 * 9 + 64));
    cr_assert_eq(enc_n_params(&CFG_TINY), (size_t)(3 * 9 + 3) + (4 * 3 * 9 + 4));
    // A config whose pools shrink the side to zero is rejected with zeros.
    enc_config bad = {.side = 4, .n_blocks = 3, .ch = {2, 2, 2}};
    cr_assert_eq(enc_d_out(&bad), 0);
    cr_assert_eq(enc_n_params(&bad), 0);
    enc_config bad2 = {.side = 28, .n_blocks = 2, .ch = {4, 0}};
    cr_assert_eq(enc_d_out(&bad2), 0);
    enc_config bad3 = {.side = 28, .n_blocks = ENC_MAX_BLOCKS + 1, .ch = {1, 1, 1, 1, 1, 1}};
    cr_assert_eq(enc_n_params(&bad3), 0);
    cr_assert_gt(enc_act_floats(&CFG_DEFAULT), 0);
    cr_assert_gt(enc_scratch_floats(&CFG_DEFAULT, 2), enc_scratch_floats(&CFG_DEFAULT, 1));

    // weights_map: blocks tile the flat buffer in order, w then b.
    const enc_config *cs[] = {&CFG_DEFAULT, &CFG_TINY, &CFG_16, &CFG_ODD};
    for (int k = 0; k < 4; k++) {
        const enc_config *c = cs[k];
        size_t np = enc_n_params(c);
        float *flat = calloc(np, sizeof(float));
        enc_weights w;
        enc_weights_map(c, flat, &w);
        size_t off = 0;
        int cin = 1;
        for (int i = 0; i < c->n_blocks; i++) {
            cr_assert_eq(w.w[i], flat + off);
            off += (size_t)c->ch[i] * cin * 9;
            cr_assert_eq(w.b[i], flat + off);
            off += (size_t)c->ch[i];
            cin = c->ch[i];
        }
        cr_assert_eq(off, np);
        free(flat);
    }
}

Test(encoder, init_he_normal) {
    size_t np = enc_n_params(&CFG_DEFAULT);
    float *p = malloc(sizeof(float) * np);
    rng_t r;
    rng_seed(&r, 7);
    enc_init(&CFG_DEFAULT, p, &r);
    enc_weights w;
    enc_weights_map(&CFG_DEFAULT, p, &w);
    int cin = 1;
    for (int i = 0; i < 4; i++) {
        size_t n = (size_t)CFG_DEFAULT.ch[i] * cin * 9;
        double s1 = 0, s2 = 0;
        for (size_t j = 0; j < n; j++) { s1 += w.w[i][j]; s2 += (double)w.w[i][j] * w.w[i][j]; }
        double mean = s1 / n, sd = sqrt(s2 / n - mean * mean), want = sqrt(2.0 / (9.0 * cin));
        cr_assert_lt(fabs(mean), 4 * want / sqrt((double)n), "block %d mean %g", i, mean);
        cr_assert_lt(fabs(sd / want - 1), 0.1, "block %d sd %g want %g", i, sd, want);
        for (int j = 0; j < CFG_DEFAULT.ch[i]; j++) cr_assert_eq(w.b[i][j], 0.0f);
        cin = CFG_DEFAULT.ch[i];
    }
    free(p);
}

static void check_forward(const enc_config *c, int B, uint64_t seed) {
    size_t np = enc_n_params(c), na = enc_act_floats(c);
    int d = enc_d_out(c), side = c->side;
    float *p = make_params(c, seed);
    double *pd = malloc(sizeof(double) * np);
    for (size_t i = 0; i < np; i++) pd[i] = p[i];
    float *img = malloc(sizeof(float) * (size_t)B * side * side);
    rng_t r;
    rng_seed(&r, seed + 1);
    fill_uniform(img, (size_t)B * side * side, &r, 0.0f, 1.0f);
    float *acts = malloc(sizeof(float) * (size_t)B * na);
    float *out = malloc(sizeof(float) * (size_t)B * d), *out2 = malloc(sizeof(float) * (size_t)B * d);
    double *ref = malloc(sizeof(double) * d);
    // Reused act buffers hold stale data: NaN here proves every value read was written.
    for (size_t i = 0; i < (size_t)B * na; i++) acts[i] = NAN;
    enc_forward(c, p, B, img, acts, out);
    enc_forward(c, p, B, img, NULL, out2);
    int live = 0;
    for (int n = 0; n < B; n++) {
        ref_forward(c, pd, img + (size_t)n * side * side, ref);
        for (int j = 0; j < d; j++) {
            float v = out[(size_t)n * d + j];
            cr_assert_leq(fabs(v - ref[j]), 1e-5 * fmax(1.0, fabs(ref[j])),
                          "side %d img %d out %d: %g vs ref %g", side, n, j, v, ref[j]);
            // Inference path (no acts) computes the very same numbers.
            cr_assert_eq(v, out2[(size_t)n * d + j]);
            live += ref[j] > 0;
        }
    }
    cr_assert_gt(live, 0, "all outputs dead: the comparison would be vacuous");
    free(p); free(pd); free(img); free(acts); free(out); free(out2); free(ref);
}

Test(encoder, forward_matches_reference) {
    check_forward(&CFG_TINY, 3, 11);
    check_forward(&CFG_16, 3, 12);
    check_forward(&CFG_ODD, 4, 13);
    check_forward(&CFG_DEFAULT, 5, 14);
    enc_config wide = {.side = 12, .n_blocks = 2, .ch = {17, 9}}; // channel counts off the tile
    check_forward(&wide, 2, 15);
    enc_config big = {.side = 11, .n_blocks = 2, .ch = {40, 70}}; // several tiles + remainder
    check_forward(&big, 2, 16);
    enc_config one = {.side = 5, .n_blocks = 1, .ch = {3}};       // odd side, final map 2x2
    check_forward(&one, 3, 17);
}

// Analytic gradient of loss = sum_n sum_j out[n][j] * r[n][j] via enc_backward.
static void analytic_grad(const enc_config *c, const float *p, int B, const float *img,
                          const float *rr, float *grad) {
    size_t na = enc_act_floats(c), np = enc_n_params(c);
    int d = enc_d_out(c);
    float *acts = malloc(sizeof(float) * (size_t)B * na), *out = malloc(sizeof(float) * (size_t)B * d);
    size_t ns = enc_scratch_floats(c, omp_get_max_threads());
    float *scr = malloc(sizeof(float) * ns);
    for (size_t i = 0; i < (size_t)B * na; i++) acts[i] = NAN; // stale buffers must not leak in
    for (size_t i = 0; i < ns; i++) scr[i] = NAN;
    enc_forward(c, p, B, img, acts, out);
    memset(grad, 0, sizeof(float) * np);
    enc_backward(c, p, B, img, acts, rr, grad, scr);
    free(acts); free(out); free(scr);
}

// Central differences of the double reference: eps 1e-5 in double is far below any kink
// spacing for random inputs yet leaves ~1e-10 truncation/rounding error.
static void check_grad(const enc_config *c, uint64_t seed) {
    size_t np = enc_n_params(c);
    int d = enc_d_out(c), side = c->side;
    float *p = make_params(c, seed);
    float *img = malloc(sizeof(float) * (size_t)side * side), *rr = malloc(sizeof(float) * d);
    rng_t r;
    rng_seed(&r, seed + 100);
    fill_uniform(img, (size_t)side * side, &r, -1.0f, 1.0f);
    fill_uniform(rr, (size_t)d, &r, -1.0f, 1.0f);
    float *g = malloc(sizeof(float) * np);
    analytic_grad(c, p, 1, img, rr, g);

    double *pd = malloc(sizeof(double) * np), *o = malloc(sizeof(double) * d);
    for (size_t i = 0; i < np; i++) pd[i] = p[i];
    const double eps = 1e-5;
    int nonzero = 0;
    for (size_t i = 0; i < np; i++) {
        double save = pd[i], lp = 0, lm = 0;
        pd[i] = save + eps;
        ref_forward(c, pd, img, o);
        for (int j = 0; j < d; j++) lp += o[j] * rr[j];
        pd[i] = save - eps;
        ref_forward(c, pd, img, o);
        for (int j = 0; j < d; j++) lm += o[j] * rr[j];
        pd[i] = save;
        double fd = (lp - lm) / (2 * eps);
        cr_assert_leq(fabs(g[i] - fd), 1e-3 * fmax(fabs(fd), fabs(g[i])) + 1e-5,
                      "side %d param %zu: analytic %g vs fd %g", side, i, g[i], fd);
        nonzero += fabs(fd) > 1e-6;
    }
    // Every block's w and b must have live gradient somewhere, or the check proves little.
    enc_weights w;
    enc_weights_map(c, g, &w);
    int cin = 1;
    for (int b = 0; b < c->n_blocks; b++) {
        double sw = 0, sb = 0;
        for (int j = 0; j < c->ch[b] * cin * 9; j++) sw += fabs(w.w[b][j]);
        for (int j = 0; j < c->ch[b]; j++) sb += fabs(w.b[b][j]);
        cr_assert_gt(sw, 0, "block %d w gradient all zero", b);
        cr_assert_gt(sb, 0, "block %d b gradient all zero", b);
        cin = c->ch[b];
    }
    cr_assert_gt(nonzero, (int)(np / 4));
    free(p); free(img); free(rr); free(g); free(pd); free(o);
}

Test(encoder, gradient_finite_differences) {
    check_grad(&CFG_TINY, 21);
    check_grad(&CFG_ODD, 22);
    enc_config wide = {.side = 10, .n_blocks = 2, .ch = {9, 10}};
    check_grad(&wide, 23);
}

Test(encoder, batch_gradient_is_sum) {
    const enc_config *c = &CFG_16;
    const int B = 3;
    size_t np = enc_n_params(c);
    int d = enc_d_out(c), ss = c->side * c->side;
    float *p = make_params(c, 31);
    float *img = malloc(sizeof(float) * (size_t)B * ss), *rr = malloc(sizeof(float) * (size_t)B * d);
    rng_t r;
    rng_seed(&r, 32);
    fill_uniform(img, (size_t)B * ss, &r, 0.0f, 1.0f);
    fill_uniform(rr, (size_t)B * d, &r, -1.0f, 1.0f);
    float *gb = malloc(sizeof(float) * np), *g1 = malloc(sizeof(float) * np);
    double *sum = calloc(np, sizeof(double));
    analytic_grad(c, p, B, img, rr, gb);
    for (int n = 0; n < B; n++) {
        analytic_grad(c, p, 1, img + (size_t)n * ss, rr + (size_t)n * d, g1);
        for (size_t i = 0; i < np; i++) sum[i] += g1[i];
    }
    for (size_t i = 0; i < np; i++)
        cr_assert_leq(fabs(gb[i] - sum[i]), 1e-5 * fmax(1.0, fabs(sum[i])), "param %zu: %g vs %g",
                      i, gb[i], sum[i]);

    // grad is accumulated (+=), not overwritten: a second call doubles it.
    size_t na = enc_act_floats(c);
    float *acts = malloc(sizeof(float) * (size_t)B * na), *out = malloc(sizeof(float) * (size_t)B * d);
    float *scr = malloc(sizeof(float) * enc_scratch_floats(c, omp_get_max_threads()));
    enc_forward(c, p, B, img, acts, out);
    enc_backward(c, p, B, img, acts, rr, gb, scr);
    for (size_t i = 0; i < np; i++)
        cr_assert_leq(fabs(gb[i] - 2 * sum[i]), 2e-5 * fmax(1.0, fabs(sum[i])));
    free(p); free(img); free(rr); free(gb); free(g1); free(sum); free(acts); free(out); free(scr);
}

Test(encoder, threads_agree) {
    const enc_config *c = &CFG_DEFAULT;
    const int B = 24;
    size_t np = enc_n_params(c), na = enc_act_floats(c);
    int d = enc_d_out(c), ss = c->side * c->side;
    float *p = make_params(c, 41);
    float *img = malloc(sizeof(float) * (size_t)B * ss), *rr = malloc(sizeof(float) * (size_t)B * d);
    rng_t r;
    rng_seed(&r, 42);
    fill_uniform(img, (size_t)B * ss, &r, 0.0f, 1.0f);
    fill_uniform(rr, (size_t)B * d, &r, -1.0f, 1.0f);
    float *acts = malloc(sizeof(float) * (size_t)B * na);
    float *o[3], *g[3];
    float *scr = malloc(sizeof(float) * enc_scratch_floats(c, 2));
    const int threads[3] = {1, 2, 2};
    int saved = omp_get_max_threads();
    for (int k = 0; k < 3; k++) {
        omp_set_num_threads(threads[k]);
        o[k] = malloc(sizeof(float) * (size_t)B * d);
        g[k] = calloc(np, sizeof(float));
        enc_forward(c, p, B, img, acts, o[k]);
        enc_backward(c, p, B, img, acts, rr, g[k], scr);
    }
    omp_set_num_threads(saved);
    // Forward is per image, so the thread count cannot change it at all.
    cr_assert_eq(memcmp(o[0], o[1], sizeof(float) * (size_t)B * d), 0);
    for (size_t i = 0; i < np; i++) {
        cr_assert_leq(fabs(g[0][i] - g[1][i]), 1e-6 * fmax(1.0, fabs(g[0][i])),
                      "param %zu: 1 thread %g, 2 threads %g", i, g[0][i], g[1][i]);
    }
    // Same thread count, same bits: the reduction order is fixed.
    cr_assert_eq(memcmp(g[1], g[2], sizeof(float) * np), 0);
    for (int k = 0; k < 3; k++) { free(o[k]); free(g[k]); }
    free(p); free(img); free(rr); free(acts); free(scr);
}
