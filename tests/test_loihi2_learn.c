// Loihi 2 emulator: traces, graded-to-trace modes, the learning engine's arithmetic, timing of
// weight updates, and the lowered kernel against the general interpreter.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernels/err.h"
#include "kernels/rng.h"
#include "kernels/loihi2/loihi2.h"

typedef struct {
    l2_net *net;
    l2_sim *sim;
    int in, post, conn;
} rig;

// input (n_pre, host) -> learning conn (cd, with weights w (n_post, n_pre)) -> post population.
static rig make_rig(int n_pre, const l2_pop_desc *post, l2_conn_desc *cd, const int32_t *w, const l2_sim_opts *o) {
    rig r;
    r.net = l2_net_new();
    l2_pop_desc pi;
    l2_pop_desc_init(&pi, L2_INPUT, n_pre);
    cr_assert_eq(l2_net_add_pop(r.net, &pi, &r.in), 0);
    cr_assert_eq(l2_net_add_pop(r.net, post, &r.post), 0, "%s", err_msg());
    cd->src = r.in;
    cd->dst = r.post;
    cd->weights = w;
    cr_assert_eq(l2_net_add_conn(r.net, cd, &r.conn), 0, "%s", err_msg());
    cr_assert_eq(l2_sim_new(r.net, NULL, o, &r.sim), 0, "%s", err_msg());
    return r;
}

static void free_rig(rig *r) {
    l2_sim_free(r->sim);
    l2_net_free(r->net);
}

static l2_sim_opts opts_seed(uint64_t seed) {
    l2_sim_opts o;
    l2_sim_opts_default(&o);
    o.seed = seed;
    return o;
}

// ------------------------------------------------------------------ traces

static double mean_x1_after(int tau, int x0, int steps, int n_seeds) {
    double sum = 0;
    int32_t w[1] = {0};
    for (int seed = 1; seed <= n_seeds; seed++) {
        l2_pop_desc p;
        l2_pop_desc_init(&p, L2_GRADED, 1);
        l2_conn_desc cd;
        l2_conn_desc_init(&cd, 0, 0, w);
        cd.rule = "dw = u0*x1";
        cd.t_epoch = 63;
        cd.tau[L2_TR_X1] = tau;
        l2_sim_opts o = opts_seed((uint64_t)seed);
        rig r = make_rig(1, &p, &cd, w, &o);
        int32_t v[1] = {x0};
        l2_sim_set_trace(r.sim, r.conn, L2_TR_X1, v);
        l2_sim_run(r.sim, steps);
        l2_sim_get_trace(r.sim, r.conn, L2_TR_X1, v);
        sum += v[0];
        free_rig(&r);
    }
    return sum / n_seeds;
}

Test(loihi2_trace, stochastic_decay_mean_matches_exact) {
    // E[x1] after k steps = x0 * exp(-k/tau) exactly (stochastic rounding is unbiased); the factor
    // is quantised to 1/65536. Over 3000 seeds the standard error is < 0.5/sqrt(3000) = 0.009.
    double m1 = mean_x1_after(4, 100, 1, 3000);
    cr_assert(fabs(m1 - 100 * exp(-0.25)) < 0.05, "1 step: mean %f, exact %f", m1, 100 * exp(-0.25));
    double m5 = mean_x1_after(4, 100, 5, 3000);
    cr_assert(fabs(m5 - 100 * exp(-1.25)) < 0.08, "5 steps: mean %f, exact %f", m5, 100 * exp(-1.25));
    double m20 = mean_x1_after(30, 127, 20, 2000);
    cr_assert(fabs(m20 - 127 * exp(-20.0 / 30)) < 0.15, "20 steps: mean %f, exact %f", m20, 127 * exp(-20.0 / 30));
}

Test(loihi2_trace, tau_zero_keeps_the_trace_at_zero) {
    cr_assert_eq(mean_x1_after(0, 100, 1, 5), 0.0);
    // With spikes: the impulse shows only on the spike step and is gone the next.
    int32_t w[1] = {0};
    l2_pop_desc p;
    l2_pop_desc_init(&p, L2_GRADED, 1);
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, 0, 0, w);
    cd.rule = "dw = u0*x1";
    cd.t_epoch = 63;
    cd.impulse[L2_TR_X1] = 20;
    l2_sim_opts o = opts_seed(3);
    rig r = make_rig(1, &p, &cd, w, &o);
    int32_t one[1] = {1}, v[1];
    l2_sim_set_input(r.sim, r.in, one);
    l2_sim_step(r.sim);
    l2_sim_get_trace(r.sim, r.conn, L2_TR_X1, v);
    cr_assert_eq(v[0], 20);
    l2_sim_step(r.sim);
    l2_sim_get_trace(r.sim, r.conn, L2_TR_X1, v);
    cr_assert_eq(v[0], 0);
    free_rig(&r);
}

Test(loihi2_trace, large_tau_barely_decays_and_impulse_fraction_is_unbiased) {
    double m = mean_x1_after(65535, 100, 10, 500);
    cr_assert(m > 99.9, "tau 65535: %f", m);   // exact 100 * exp(-10/65535) = 99.985
    // Impulse 2.75 into an empty trace (tau 0): 2 + Bernoulli(0.75).
    double sum = 0;
    int32_t w[1] = {0};
    for (int seed = 1; seed <= 2000; seed++) {
        l2_pop_desc p;
        l2_pop_desc_init(&p, L2_GRADED, 1);
        l2_conn_desc cd;
        l2_conn_desc_init(&cd, 0, 0, w);
        cd.rule = "dw = u0*x1";
        cd.impulse[L2_TR_X1] = 2.75;
        l2_sim_opts o = opts_seed((uint64_t)seed);
        rig r = make_rig(1, &p, &cd, w, &o);
        int32_t one[1] = {1}, v[1];
        l2_sim_set_input(r.sim, r.in, one);
        l2_sim_step(r.sim);
        l2_sim_get_trace(r.sim, r.conn, L2_TR_X1, v);
        cr_assert(v[0] == 2 || v[0] == 3);
        sum += v[0];
        free_rig(&r);
    }
    cr_assert(fabs(sum / 2000 - 2.75) < 0.04, "impulse mean %f", sum / 2000);
}

// One graded arrival into x1 under `mode` with x1 set to `x1_before` beforehand (tau 65535: the
// one-step decay may take 1 off with probability ~x1/65536). Returns x1, x2 and whether tx was set
// (seen through an x0-dependent rule: dw = x0 changes w by 1 iff tx > 0).
static void graded_into_trace(l2_graded_trace mode, int x1_before, int32_t payload, int *x1, int *x2, int *event) {
    int32_t w[1] = {0};
    l2_pop_desc p;
    l2_pop_desc_init(&p, L2_GRADED, 1);
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, 0, 0, w);
    cd.rule = "dw = x0";     // +1 (scale 1 * 2^0 on the 8-bit weight) iff an x0 event happened
    cd.msg_bits = 16;
    cd.graded_mode = mode;
    cd.tau[L2_TR_X1] = 65535;
    cd.impulse[L2_TR_X1] = 9;
    cd.impulse[L2_TR_X2] = 5;
    l2_sim_opts o = opts_seed(11);
    rig r = make_rig(1, &p, &cd, w, &o);
    int32_t v[1] = {x1_before};
    l2_sim_set_trace(r.sim, r.conn, L2_TR_X1, v);
    l2_sim_set_input(r.sim, r.in, &payload);
    l2_sim_step(r.sim);   // t_epoch = 1: learning runs at the end of this step
    l2_sim_get_trace(r.sim, r.conn, L2_TR_X1, v);
    *x1 = v[0];
    l2_sim_get_trace(r.sim, r.conn, L2_TR_X2, v);
    *x2 = v[0];
    int32_t wn[1];
    l2_sim_get_weights(r.sim, r.conn, wn);
    *event = wn[0];
    free_rig(&r);
}

Test(loihi2_trace, graded_spikes_into_x1_in_each_mode) {
    int x1, x2, ev;
    // Keys: payload/2 rounded half to even: 61 -> 30 (30.5), 63 -> 32 (31.5), 80 -> 40.
    graded_into_trace(L2_GT_OVERWRITE, 100, 61, &x1, &x2, &ev);
    cr_assert_eq(x1, 30);
    cr_assert_eq(x2, 5);
    cr_assert_eq(ev, 1);
    graded_into_trace(L2_GT_OVERWRITE, 0, 63, &x1, &x2, &ev);
    cr_assert_eq(x1, 32);
    graded_into_trace(L2_GT_OVERWRITE, 0, -2, &x1, &x2, &ev);   // -1 wraps to 255 -> clipped 127
    cr_assert_eq(x1, 127);
    graded_into_trace(L2_GT_ADD_SAT, 100, 80, &x1, &x2, &ev);    // 100 + 40 -> 127
    cr_assert_eq(x1, 127);
    cr_assert_eq(ev, 1);
    graded_into_trace(L2_GT_ADD_SAT, 20, 80, &x1, &x2, &ev);     // 20 + 40
    cr_assert_eq(x1, 60);
    // Overflow mode: 100 (or 99 after decay) + 40 = 140 -> 13 (12): an x0 event and an x2 impulse.
    graded_into_trace(L2_GT_ADD_OVERFLOW, 100, 80, &x1, &x2, &ev);
    cr_assert(x1 == 13 || x1 == 12, "x1 %d", x1);
    cr_assert_eq(x2, 5);
    cr_assert_eq(ev, 1);
    // No overflow: 10 + 40 = 50, no event, no x2 impulse.
    graded_into_trace(L2_GT_ADD_OVERFLOW, 10, 80, &x1, &x2, &ev);
    cr_assert_eq(x1, 50);
    cr_assert_eq(x2, 0);
    cr_assert_eq(ev, 0);
    // Regular impulses: the payload does not matter, x1 += 9.
    graded_into_trace(L2_GT_REGULAR, 0, 80, &x1, &x2, &ev);
    cr_assert_eq(x1, 9);
    cr_assert_eq(x2, 5);
    cr_assert_eq(ev, 1);
}

// ------------------------------------------------------------------ learning arithmetic

Test(loihi2_learn, stdp_rule_changes_weight_by_hand_amount) {
    // dw = -2*x0*y1 + 2*y0*x1, taus 0 (traces are their impulse on the spike step, else 0),
    // x1 impulse 20, y1 impulse 10. Pre spikes at steps 1..3; the post (graded, w = 50) fires at
    // 2..4. Epoch 1 ends at t = 3: tx = 3, ty = 3. x0 product: -2 * y1(3) = -2*10 -> -20;
    // y0 product: 2 * x1(3) = 2*20 -> +40. Widths 7 + 4 <= 15: no down-shift.
    // acc = 50<<7 + 20<<7 -> w = 70 exactly (no fraction to round).
    int32_t w[1] = {50};
    l2_pop_desc p;
    l2_pop_desc_init(&p, L2_GRADED, 1);
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, 0, 0, w);
    cd.sign_mode = L2_SIGN_EXC;
    cd.rule = "dw = -2*x0*y1 + 2*y0*x1";
    cd.t_epoch = 3;
    cd.impulse[L2_TR_X1] = 20;
    cd.impulse[L2_TR_Y1] = 10;
    l2_sim_opts o = opts_seed(5);
    rig r = make_rig(1, &p, &cd, w, &o);
    int32_t one[1] = {1}, wn[1];
    for (int t = 1; t <= 3; t++) {
        l2_sim_set_input(r.sim, r.in, one);
        l2_sim_step(r.sim);
    }
    l2_sim_get_weights(r.sim, r.conn, wn);
    cr_assert_eq(wn[0], 70);
    // Epoch 2 (t = 4..6): no pre spike, post fires at 4 (from the spike of t = 3) with x1(4) = 0:
    // both products are 0 and w stays.
    l2_sim_run(r.sim, 3);
    l2_sim_get_weights(r.sim, r.conn, wn);
    cr_assert_eq(wn[0], 70);
    free_rig(&r);
}

// x1 from a graded key (overwrite), y2 written by the host; one learning step. Returns new w.
static int32_t three_factor_once(const char *rule, int32_t w0, int32_t payload, int32_t y2, int product_shift,
                                 int sr_per_synapse, uint64_t seed, l2_sign_mode mode) {
    int32_t w[1] = {w0};
    l2_pop_desc p;
    l2_pop_desc_init(&p, L2_GRADED, 1);
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, 0, 0, w);
    cd.sign_mode = mode;
    cd.rule = rule;
    cd.msg_bits = 16;
    cd.graded_mode = L2_GT_OVERWRITE;
    cd.three_factor = 1;
    l2_sim_opts o = opts_seed(seed);
    o.product_shift = product_shift;
    o.sr_per_synapse = sr_per_synapse;
    rig r = make_rig(1, &p, &cd, w, &o);
    int32_t yv[1] = {y2};
    cr_assert_eq(l2_sim_write_y(r.sim, r.conn, 2, yv), 0);
    l2_sim_set_input(r.sim, r.in, &payload);
    l2_sim_step(r.sim);
    int32_t wn[1];
    l2_sim_get_weights(r.sim, r.conn, wn);
    free_rig(&r);
    return wn[0];
}

Test(loihi2_learn, three_factor_rule_with_written_y2) {
    // dw = 2^-2*u0*x1*y2, x1 = 40 (payload 80), y2 = 100 written by the host.
    // m = 40*100*1 = 4000; widths 7+7+4 = 18 -> >> 3 = 500; << (-2+7) = 16000; /128 = 125 exactly.
    // (The float rule says 1000: Lava's down-shift scales a trace*trace product by 2^-3.)
    cr_assert_eq(three_factor_once("dw = 2^-2*u0*x1*y2", 0, 80, 100, 1, 0, 1, L2_SIGN_MIXED), 125);
    // x1 = 10, y2 = 10: with the shift 100 >> 3 = 12 -> 12<<5 = 384 -> 3; without it 100<<5 -> 25,
    // which is the float rule 0.25 * 10 * 10.
    cr_assert_eq(three_factor_once("dw = 2^-2*u0*x1*y2", 0, 20, 10, 1, 0, 1, L2_SIGN_MIXED), 3);
    cr_assert_eq(three_factor_once("dw = 2^-2*u0*x1*y2", 0, 20, 10, 0, 0, 1, L2_SIGN_MIXED), 25);
    // The decay term: dw = -2^-7*u0*w on w = 200: m = 200*-1 (widths 9+4: no shift) << 0 = -200;
    // acc = 25600 - 200 = 25400 = 198*128 + 56: 198 or 199 (stochastic).
    int32_t wd = three_factor_once("dw = -2^-7*u0*w", 200, 2, 0, 1, 0, 1, L2_SIGN_MIXED);
    cr_assert(wd == 198 || wd == 199, "w %d", wd);
}

Test(loihi2_learn, three_factor_y2_from_a_graded_post_neuron) {
    // The post neuron writes y2 = its own payload (clipped 0..127) each step.
    int32_t w[1] = {60};
    l2_pop_desc p;
    l2_pop_desc_init(&p, L2_GRADED, 1);
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, 0, 0, w);
    cd.sign_mode = L2_SIGN_EXC;
    cd.rule = "dw = 2^-4*u0*y2";    // widths 7+4: no shift; m = y2 << 3 -> dw = y2/16
    cd.msg_bits = 8;
    cd.three_factor = 1;
    cd.y_from_post = 2;
    cd.t_epoch = 2;
    l2_sim_opts o = opts_seed(1);
    rig r = make_rig(1, &p, &cd, w, &o);
    int32_t pay[1] = {1};
    l2_sim_set_input(r.sim, r.in, pay);
    l2_sim_run(r.sim, 2);   // post fires at t=2 with payload 60 (w*1): y2(2) = 60 -> dw = 3.75
    int32_t y[1], wn[1];
    l2_sim_get_trace(r.sim, r.conn, L2_TR_Y2, y);
    cr_assert_eq(y[0], 60);
    l2_sim_get_weights(r.sim, r.conn, wn);
    cr_assert(wn[0] == 63 || wn[0] == 64, "w %d", wn[0]);
    free_rig(&r);
}

Test(loihi2_learn, stochastic_rounding_of_the_update_is_unbiased) {
    // dw = 2^-3*u0*x1 with x1 = 5: m = 5 << 4 = 80 = 0.625 * 128: w + 1 with probability 0.625.
    double sum = 0;
    int n = 3000;
    for (int seed = 1; seed <= n; seed++)
        sum += three_factor_once("dw = 2^-3*u0*x1", 0, 10, 0, 1, 0, (uint64_t)seed, L2_SIGN_MIXED);
    cr_assert(fabs(sum / n - 0.625) < 0.04, "mean dw %f", sum / n);
}

Test(loihi2_learn, one_rounding_number_per_epoch_unless_switched) {
    // 64 synapses, same fraction 0.625: with one shared random number all round the same way; with
    // per-synapse numbers they split (all equal has probability < 1e-12).
    for (int per = 0; per <= 1; per++) {
        int32_t w[64] = {0};
        l2_pop_desc p;
        l2_pop_desc_init(&p, L2_GRADED, 64);
        l2_conn_desc cd;
        l2_conn_desc_init(&cd, 0, 0, w);
        cd.rule = "dw = 2^-3*u0*x1";
        cd.msg_bits = 16;
        cd.graded_mode = L2_GT_OVERWRITE;
        l2_sim_opts o = opts_seed(7);
        o.sr_per_synapse = per;
        rig r = make_rig(1, &p, &cd, w, &o);
        int32_t pay[1] = {10};
        int ups = 0;
        for (int e = 0; e < 20; e++) {
            l2_sim_set_input(r.sim, r.in, pay);
            l2_sim_step(r.sim);
        }
        int32_t wn[64];
        l2_sim_get_weights(r.sim, r.conn, wn);
        int all_same = 1;
        for (int i = 0; i < 64; i++) {
            all_same &= wn[i] == wn[0];
            ups += wn[i];
        }
        if (per) cr_assert(!all_same);
        else cr_assert(all_same);
        cr_assert(fabs(ups / (64.0 * 20) - 0.625) < (per ? 0.05 : 0.3), "per=%d mean %f", per, ups / 1280.0);
        free_rig(&r);
    }
}

Test(loihi2_learn, saturation_at_sign_mode_limits) {
    // dw = 4*u0*x1 with x1 = 127: m = 508 << 7 = 65024 -> clipped to 32767 in the accumulator.
    cr_assert_eq(three_factor_once("dw = 4*u0*x1", 250, 254, 0, 1, 0, 1, L2_SIGN_EXC), 255);
    cr_assert_eq(three_factor_once("dw = 4*u0*x1", 250, 254, 0, 1, 0, 1, L2_SIGN_MIXED), 255);
    cr_assert_eq(three_factor_once("dw = -4*u0*x1", -250, 254, 0, 1, 0, 1, L2_SIGN_MIXED), -256);
    cr_assert_eq(three_factor_once("dw = -4*u0*x1", 10, 254, 0, 1, 0, 1, L2_SIGN_EXC), 0);    // clamp at 0
    cr_assert_eq(three_factor_once("dw = -4*u0*x1", -250, 254, 0, 1, 0, 1, L2_SIGN_INH), -255);
    cr_assert_eq(three_factor_once("dw = 4*u0*x1", -10, 254, 0, 1, 0, 1, L2_SIGN_INH), 0);     // clamp at 0
}

Test(loihi2_learn, weight_changed_at_t_acts_from_t_plus_1) {
    // Graded payload 10 every step into w = 20; dw = u0*x1 with x1 = 5 (overwrite): +5 at t = 2
    // (t_epoch 2). The spike of step t is summed at step t with the weight of that moment and
    // read out at t+1: outputs 200 at t = 2, 3 (spikes of 1, 2: w = 20), 250 at t = 4 (spike of 3).
    int32_t w[1] = {20};
    l2_pop_desc p;
    l2_pop_desc_init(&p, L2_GRADED, 1);
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, 0, 0, w);
    cd.rule = "dw = u0*x1";
    cd.msg_bits = 16;
    cd.graded_mode = L2_GT_OVERWRITE;
    cd.t_epoch = 2;
    l2_sim_opts o = opts_seed(1);
    rig r = make_rig(1, &p, &cd, w, &o);
    int32_t pay[1] = {10};
    int32_t want[5] = {0, 200, 200, 250, 250};
    for (int t = 1; t <= 5; t++) {
        l2_sim_set_input(r.sim, r.in, pay);
        l2_sim_step(r.sim);
        cr_assert_eq(l2_sim_output(r.sim, r.post)[0], want[t - 1], "t=%d", t);
    }
    free_rig(&r);
}

Test(loihi2_learn, tags_follow_dd_and_dt) {
    // dd = 3*u0 (d += 3 each epoch, clamped at 0..255); dt = -2*u0 (t -= 2); dw = u0*sgn(d) (+1
    // once d > 0, read before this epoch's update).
    int32_t w[1] = {0};
    l2_pop_desc p;
    l2_pop_desc_init(&p, L2_GRADED, 1);
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, 0, 0, w);
    cd.rule = "dw = u0*sgn(d); dd = 3*u0; dt = -2*u0";
    l2_sim_opts o = opts_seed(1);
    rig r = make_rig(1, &p, &cd, w, &o);
    cr_assert(!l2_sim_conn_lowered(r.sim, r.conn));
    l2_sim_run(r.sim, 4);
    int32_t d[1], t[1], wn[1];
    l2_sim_get_tags(r.sim, r.conn, d, t);
    l2_sim_get_weights(r.sim, r.conn, wn);
    cr_assert_eq(d[0], 12);
    cr_assert_eq(t[0], -8);
    cr_assert_eq(wn[0], 3);   // epochs 2, 3, 4 saw d > 0
    free_rig(&r);
}

// ------------------------------------------------------------------ lowered == interpreter

static void random_lowered_rule(rng_t *g, char *buf, size_t n) {
    int np = 1 + (int)rng_below(g, 3);
    int k = (int)rng_below(g, 2);   // u0 or u1
    size_t len = (size_t)snprintf(buf, n, "dw =");
    for (int p = 0; p < np; p++) {
        int mant = (int)rng_below(g, 15) - 7;
        if (mant == 0) mant = 1;
        int ex = (int)rng_below(g, 12) - 7;
        len += (size_t)snprintf(buf + len, n - len, " %s %d*2^%d*u%d", mant < 0 ? "-" : p ? "+" : "",
                                mant < 0 ? -mant : mant, ex, k);
        if (rng_below(g, 4)) len += (size_t)snprintf(buf + len, n - len, "*x%d", 1 + (int)rng_below(g, 2));
        if (rng_below(g, 4)) len += (size_t)snprintf(buf + len, n - len, "*y%d", 1 + (int)rng_below(g, 3));
        if (rng_below(g, 3) == 0) len += (size_t)snprintf(buf + len, n - len, "*w");
    }
}

Test(loihi2_learn, lowered_kernel_is_bit_identical_to_interpreter) {
    rng_t g;
    rng_seed(&g, 2024);
    enum { NPRE = 23, NPOST = 37 };
    int32_t w[NPOST * NPRE];
    int32_t pay[NPRE];
    char rule[256];
    int n_lowered = 0;
    int64_t changed = 0;
    for (int trial = 0; trial < 60; trial++) {
        random_lowered_rule(&g, rule, sizeof rule);
        l2_sign_mode mode = (l2_sign_mode)(1 + rng_below(&g, 3));
        for (int k = 0; k < NPOST * NPRE; k++) {
            int v = (int)rng_below(&g, 256);
            w[k] = mode == L2_SIGN_EXC ? v : mode == L2_SIGN_INH ? -v : v - 128;
        }
        l2_pop_desc p;
        l2_pop_desc_init(&p, L2_GRADED, NPOST);
        p.relu = 1;
        p.threshold = (int32_t)rng_below(&g, 2000);
        l2_conn_desc cd;
        l2_conn_desc_init(&cd, 0, 0, w);
        cd.sign_mode = mode;
        cd.rule = rule;
        cd.msg_bits = 8;
        cd.graded_mode = (l2_graded_trace)rng_below(&g, 4);
        cd.t_epoch = 1 + (int)rng_below(&g, 4);
        for (int k = 0; k < L2_N_TRACES; k++) {
            cd.tau[k] = (int)rng_below(&g, 20);
            cd.impulse[k] = rng_below(&g, 4000) / 100.0;
        }
        cd.three_factor = rng_below(&g, 2);
        int shift = (int)rng_below(&g, 2);
        rig r[2];
        for (int v = 0; v < 2; v++) {
            l2_sim_opts o = opts_seed(99 + trial);
            o.force_interpreter = v;
            o.product_shift = shift;
            r[v] = make_rig(NPRE, &p, &cd, w, &o);
        }
        cr_assert(l2_sim_conn_lowered(r[0].sim, r[0].conn), "rule not lowered: %s", rule);
        cr_assert(!l2_sim_conn_lowered(r[1].sim, r[1].conn));
        n_lowered++;
        for (int t = 0; t < 12; t++) {
            for (int j = 0; j < NPRE; j++) pay[j] = rng_below(&g, 3) ? (int32_t)rng_below(&g, 256) - 60 : 0;
            int32_t yv[NPOST];
            for (int i = 0; i < NPOST; i++) yv[i] = (int32_t)rng_below(&g, 128);
            for (int v = 0; v < 2; v++) {
                l2_sim_set_input(r[v].sim, r[v].in, pay);
                if (cd.three_factor) l2_sim_write_y(r[v].sim, r[v].conn, 1 + t % 3, yv);
                l2_sim_step(r[v].sim);
            }
            int32_t a[NPOST * NPRE], b[NPOST * NPRE];
            l2_sim_get_weights(r[0].sim, r[0].conn, a);
            l2_sim_get_weights(r[1].sim, r[1].conn, b);
            cr_assert(!memcmp(a, b, sizeof a), "trial %d step %d rule %s: weights differ", trial, t, rule);
            l2_counters ca, cb;
            l2_sim_total_counters(r[0].sim, &ca, 0);
            l2_sim_total_counters(r[1].sim, &cb, 0);
            cr_assert_eq(ca.weight_updates, cb.weight_updates);
            cr_assert_eq(ca.learn_evals, cb.learn_evals);
            if (t == 11) changed += ca.weight_updates;
        }
        for (int v = 0; v < 2; v++) free_rig(&r[v]);
    }
    cr_assert_eq(n_lowered, 60);
    cr_assert(changed > 10000, "the rules barely changed any weight (%ld updates)", (long)changed);
}

// ------------------------------------------------------------------ interpreter vs a reference

// The LOIHI2.md update arithmetic for one synapse, written independently of rule_exec.c:
// the rule is kept here as plain arrays, the string is generated from them.
typedef struct { int var; int c; int sgn; } ref_factor;   // var: 0 x0 1 y0 2 x1 3 x2 4 y1 5 y2 6 y3 7 w
typedef struct { int dep; int mant, exp; int nf; ref_factor f[3]; } ref_product;

static const char *ref_names[] = {"x0", "y0", "x1", "x2", "y1", "y2", "y3", "w"};
static const int ref_width[] = {1, 1, 7, 7, 7, 7, 7, 9};

static int64_t ref_clip(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

Test(loihi2_learn, interpreter_matches_an_independent_reference) {
    // t_epoch = 1, all taus 0, integer impulses: on every step both neurons spike, so x0 = y0 = 1
    // and each trace equals its impulse; the rule is evaluated on known values each step.
    rng_t g;
    rng_seed(&g, 77);
    int imp[5] = {9, 30, 5, 17, 127};   // x1 x2 y1 y2 y3
    for (int trial = 0; trial < 200; trial++) {
        ref_product pr[3];
        int np = 1 + (int)rng_below(&g, 3);
        char rule[400];
        size_t len = (size_t)snprintf(rule, sizeof rule, "dw =");
        for (int p = 0; p < np; p++) {
            ref_product *q = &pr[p];
            q->dep = (int)rng_below(&g, 3);   // 0 x0, 1 y0, 2 u0
            q->mant = (int)rng_below(&g, 15) - 7;
            q->exp = (int)rng_below(&g, 16) - 7;
            q->nf = (int)rng_below(&g, 4);
            len += (size_t)snprintf(rule + len, sizeof rule - len, " %s %d*2^%d*%s", q->mant < 0 ? "-" : p ? "+" : "",
                                    abs(q->mant), q->exp, q->dep == 0 ? "x0" : q->dep == 1 ? "y0" : "u0");
            for (int f = 0; f < q->nf; f++) {
                ref_factor *fa = &q->f[f];
                fa->var = (int)rng_below(&g, 8);
                fa->sgn = fa->var == 7 && rng_below(&g, 2);
                fa->c = rng_below(&g, 2) ? (int)rng_below(&g, 200) - 100 : 0;
                if (fa->sgn) len += (size_t)snprintf(rule + len, sizeof rule - len, "*sgn(w%+d)", fa->c);
                else if (fa->c) len += (size_t)snprintf(rule + len, sizeof rule - len, "*(%s%+d)", ref_names[fa->var], fa->c);
                else len += (size_t)snprintf(rule + len, sizeof rule - len, "*%s", ref_names[fa->var]);
            }
        }
        int32_t w0[1] = {(int32_t)rng_below(&g, 511) - 256};
        l2_sign_mode mode = L2_SIGN_MIXED;
        l2_pop_desc p;
        l2_pop_desc_init(&p, L2_GRADED, 1);
        l2_conn_desc cd;
        l2_conn_desc_init(&cd, 0, 0, w0);
        cd.sign_mode = mode;
        cd.rule = rule;
        for (int k = 0; k < 5; k++) cd.impulse[k] = imp[k];
        l2_sim_opts o = opts_seed(500 + trial);
        o.product_shift = (int)rng_below(&g, 2);
        rig r = make_rig(1, &p, &cd, w0, &o);
        int32_t w[1], one[1] = {1};
        l2_sim_get_weights(r.sim, r.conn, w);
        l2_sim_set_input(r.sim, r.in, one);
        l2_sim_step(r.sim);   // t=1: pre spikes, post silent: y traces 0, y0 = 0
        l2_sim_get_weights(r.sim, r.conn, w);
        for (int t = 2; t <= 6; t++) {
            int32_t wb = w[0];
            l2_sim_set_input(r.sim, r.in, one);
            l2_sim_step(r.sim);
            l2_sim_get_weights(r.sim, r.conn, w);
            // Post fired this step iff the spike of t-1 met a non-zero weight: read it back.
            int fired = l2_sim_output(r.sim, r.post)[0] != 0;
            int64_t val[8] = {1, fired, imp[0], imp[1], fired ? imp[2] : 0, fired ? imp[3] : 0, fired ? imp[4] : 0, wb};
            int64_t acc = (int64_t)wb * 128;
            for (int q = 0; q < np; q++) {
                int64_t dep = pr[q].dep == 1 ? fired : 1;
                if (!dep) continue;
                int64_t m = 1;
                int widths = 4;
                for (int f = 0; f < pr[q].nf; f++) {
                    int64_t v = val[pr[q].f[f].var] + pr[q].f[f].c;
                    if (pr[q].f[f].sgn) v = v > 0 ? 1 : v < 0 ? -1 : 0;
                    int wd = ref_width[pr[q].f[f].var];
                    m *= ref_clip(v, -(1LL << wd), (1LL << wd) - 1);
                    widths += wd;
                }
                m *= pr[q].mant;
                if (o.product_shift && widths > 15) m >>= widths - 15;   // arithmetic (floor)
                m = ref_clip(m * (1LL << (pr[q].exp + 7)), -32768, 32767);
                acc = ref_clip(acc + m, -32768, 32767);
            }
            int64_t lo = acc >> 7, frac = acc & 127;
            int64_t w_lo = ref_clip(lo, -256, 255), w_hi = ref_clip(lo + 1, -256, 255);
            if (frac == 0) cr_assert_eq(w[0], w_lo, "trial %d t %d rule %s: w %d want %ld", trial, t, rule, w[0], (long)w_lo);
            else cr_assert(w[0] == w_lo || w[0] == w_hi, "trial %d t %d rule %s: w %d want %ld or %ld", trial, t, rule,
                           w[0], (long)w_lo, (long)w_hi);
        }
        free_rig(&r);
    }
}
