// Loihi 2 emulator: neurons, synapses, pipeline timing, mapping, counters. Expected values are
// computed by hand (shown in the comments) or by a plain integer reference in the test.
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "kernels/err.h"
#include "kernels/loihi2/loihi2.h"

// input (n_in, host) -> conn -> one population; returns ids through the pointers.
static l2_net *one_layer(int n_in, l2_pop_desc *post, l2_conn_desc *cd, const int32_t *w, int *in, int *out, int *conn) {
    l2_net *net = l2_net_new();
    l2_pop_desc pi;
    l2_pop_desc_init(&pi, L2_INPUT, n_in);
    cr_assert_eq(l2_net_add_pop(net, &pi, in), 0, "%s", err_msg());
    cr_assert_eq(l2_net_add_pop(net, post, out), 0, "%s", err_msg());
    cd->src = *in;
    cd->dst = *out;
    cd->weights = w;
    cr_assert_eq(l2_net_add_conn(net, cd, conn), 0, "%s", err_msg());
    return net;
}

static l2_sim *sim_of(const l2_net *net) {
    l2_sim *s;
    cr_assert_eq(l2_sim_new(net, NULL, NULL, &s), 0, "%s", err_msg());
    return s;
}

// ------------------------------------------------------------------ LIF

Test(loihi2_lif, decay_sequence_matches_hand_values) {
    // du = 1024, dv = 512, one binary input spike of weight 100 at step 1, integrated at step 2.
    l2_pop_desc p;
    l2_pop_desc_init(&p, L2_LIF, 1);
    p.du = 1024; p.dv = 512; p.vth = 100000;
    int32_t w[1] = {100};
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, 0, 0, w);
    int in, out, c;
    l2_net *net = one_layer(1, &p, &cd, w, &in, &out, &c);
    l2_sim *s = sim_of(net);
    int32_t spike[1] = {1};
    l2_sim_set_input(s, in, spike);
    l2_sim_step(s);   // t=1: the input spikes; LIF sees nothing yet
    cr_assert_eq(l2_sim_u(s, out)[0], 0);
    l2_sim_step(s);   // t=2: u = 0 + 100<<6 = 6400; v = 0 + 6400
    cr_assert_eq(l2_sim_u(s, out)[0], 6400);
    cr_assert_eq(l2_sim_v(s, out)[0], 6400);
    l2_sim_step(s);   // t=3: u = trunc(6400*3071/4096) = 4798; v = trunc(6400*3584/4096) + 4798 = 5600 + 4798
    cr_assert_eq(l2_sim_u(s, out)[0], 4798);
    cr_assert_eq(l2_sim_v(s, out)[0], 10398);
    l2_sim_step(s);   // t=4: u = trunc(4798*3071/4096) = 3597; v = trunc(10398*3584/4096) + 3597 = 9098 + 3597
    cr_assert_eq(l2_sim_u(s, out)[0], 3597);
    cr_assert_eq(l2_sim_v(s, out)[0], 12695);
    l2_sim_free(s);
    l2_net_free(net);
}

Test(loihi2_lif, negative_decay_truncates_toward_zero) {
    l2_pop_desc p;
    l2_pop_desc_init(&p, L2_LIF, 1);
    p.du = 1024; p.dv = 4095; p.vth = 100000;
    int32_t w[1] = {-100};
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, 0, 0, w);
    int in, out, c;
    l2_net *net = one_layer(1, &p, &cd, w, &in, &out, &c);
    l2_sim *s = sim_of(net);
    int32_t spike[1] = {1};
    l2_sim_set_input(s, in, spike);
    l2_sim_run(s, 3);
    // u(2) = -6400; u(3) = -trunc(6400*3071/4096) = -4798 (toward zero, not floor -4799)
    cr_assert_eq(l2_sim_u(s, out)[0], -4798);
    l2_sim_free(s);
    l2_net_free(net);
}

Test(loihi2_lif, current_wraps_at_24_bits) {
    // Graded payload 1000 * weight 254 = 254000; << 6 = 16256000 > 2^23 - 1 wraps to 16256000 - 2^24.
    l2_pop_desc p;
    l2_pop_desc_init(&p, L2_LIF, 1);
    p.du = 4095; p.dv = 4095; p.vth = 131071;
    int32_t w[1] = {254};
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, 0, 0, w);
    cd.msg_bits = 16;
    int in, out, c;
    l2_net *net = one_layer(1, &p, &cd, w, &in, &out, &c);
    l2_sim *s = sim_of(net);
    int32_t pay[1] = {1000};
    l2_sim_set_input(s, in, pay);
    l2_sim_run(s, 2);
    cr_assert_eq(l2_sim_u(s, out)[0], 16256000 - 16777216);
    cr_assert_eq(l2_sim_v(s, out)[0], 16256000 - 16777216);
    cr_assert_eq(l2_sim_output(s, out)[0], 0);
    l2_sim_free(s);
    l2_net_free(net);
}

Test(loihi2_lif, voltage_saturates_at_minus_2_23_plus_1) {
    // du = 4095 makes u = input << 6 each step; dv = 0 keeps v. Three steps of -6.4e6.
    l2_pop_desc p;
    l2_pop_desc_init(&p, L2_LIF, 1);
    p.du = 4095; p.dv = 0; p.vth = 10;
    int32_t w[1] = {-100};
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, 0, 0, w);
    cd.msg_bits = 16;
    int in, out, c;
    l2_net *net = one_layer(1, &p, &cd, w, &in, &out, &c);
    l2_sim *s = sim_of(net);
    int32_t pay[1] = {1000};
    for (int t = 1; t <= 3; t++) {
        l2_sim_set_input(s, in, pay);
        l2_sim_step(s);
    }
    // v(2) = -6400000, v(3) = -12800000 -> saturated
    cr_assert_eq(l2_sim_v(s, out)[0], -(1 << 23) + 1);
    l2_sim_free(s);
    l2_net_free(net);
}

Test(loihi2_lif, strict_threshold_then_reset_keeps_u) {
    // vth = 100 -> 6400. Input 100 gives v = 6400 exactly: no spike (strict). Input 2 more: spike.
    l2_net *net = l2_net_new();
    l2_pop_desc a, b, lif;
    l2_pop_desc_init(&a, L2_INPUT, 1);
    l2_pop_desc_init(&b, L2_INPUT, 1);
    l2_pop_desc_init(&lif, L2_LIF, 1);
    lif.du = 4095; lif.dv = 0; lif.vth = 100;
    int ia, ib, il;
    l2_net_add_pop(net, &a, &ia);
    l2_net_add_pop(net, &b, &ib);
    l2_net_add_pop(net, &lif, &il);
    int32_t w100[1] = {100}, w2[1] = {2};
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, ia, il, w100);
    cr_assert_eq(l2_net_add_conn(net, &cd, NULL), 0);
    l2_conn_desc_init(&cd, ib, il, w2);
    cr_assert_eq(l2_net_add_conn(net, &cd, NULL), 0);
    l2_sim *s = sim_of(net);
    int32_t one[1] = {1};
    l2_sim_set_input(s, ia, one);
    l2_sim_step(s);                            // t=1
    l2_sim_set_input(s, ib, one);
    l2_sim_step(s);                            // t=2: v = 6400, not > 6400
    cr_assert_eq(l2_sim_v(s, il)[0], 6400);
    cr_assert_eq(l2_sim_output(s, il)[0], 0);
    l2_sim_step(s);                            // t=3: u = 128, v = 6528 > 6400: spike, v = 0
    cr_assert_eq(l2_sim_output(s, il)[0], 1);
    cr_assert_eq(l2_sim_v(s, il)[0], 0);
    cr_assert_eq(l2_sim_u(s, il)[0], 128);
    l2_sim_step(s);                            // t=4: u = 128*0/4096 = 0, v = 0
    cr_assert_eq(l2_sim_v(s, il)[0], 0);
    cr_assert_eq(l2_sim_output(s, il)[0], 0);
    l2_sim_free(s);
    l2_net_free(net);
}

Test(loihi2_lif, bias_drives_periodic_spikes) {
    // No input, bias 3 << 2 = 12 per step, dv = 0, du irrelevant, vth = 1 -> threshold 64:
    // v = 12, 24, ..., 72 > 64 at step 6 -> spike, reset, again at step 12.
    l2_net *net = l2_net_new();
    l2_pop_desc p;
    l2_pop_desc_init(&p, L2_LIF, 1);
    p.dv = 0; p.vth = 1; p.bias_mant = 3; p.bias_exp = 2;
    int id;
    l2_net_add_pop(net, &p, &id);
    l2_sim *s = sim_of(net);
    int spikes_at[2], n = 0;
    for (int t = 1; t <= 12; t++) {
        l2_sim_step(s);
        if (l2_sim_output(s, id)[0] && n < 2) spikes_at[n++] = t;
    }
    cr_assert_eq(n, 2);
    cr_assert_eq(spikes_at[0], 6);
    cr_assert_eq(spikes_at[1], 12);
    l2_sim_free(s);
    l2_net_free(net);
}

// ------------------------------------------------------------------ graded and product units

Test(loihi2_graded, relu_and_identity_with_threshold) {
    int32_t W[9] = {2, 0, 0, 0, 2, 0, 0, 0, 2};
    for (int relu = 0; relu <= 1; relu++) {
        l2_pop_desc p;
        l2_pop_desc_init(&p, L2_GRADED, 3);
        p.relu = relu; p.threshold = 10;
        l2_conn_desc cd;
        l2_conn_desc_init(&cd, 0, 0, W);
        cd.msg_bits = 16;
        int in, out, c;
        l2_net *net = one_layer(3, &p, &cd, W, &in, &out, &c);
        l2_sim *s = sim_of(net);
        int32_t pay[3] = {-10, 3, 6};   // inputs 2x: -20, 6, 12
        l2_sim_set_input(s, in, pay);
        l2_sim_run(s, 2);
        const int32_t *o = l2_sim_output(s, out);
        cr_assert_eq(o[0], relu ? 0 : -20);
        cr_assert_eq(o[1], 0);
        cr_assert_eq(o[2], 12);
        l2_sim_free(s);
        l2_net_free(net);
    }
}

// Two host inputs into the ports of one product unit, each through weight 2 on the 8-bit scale
// (so port a sees 2 pa, port b 2 pb). Returns the sim; ids of the inputs and the unit.
static l2_sim *product_sim(int prod_exp, int prod_round, l2_net **net, int *ia, int *ib, int *ip) {
    *net = l2_net_new();
    l2_pop_desc a, b, pr;
    l2_pop_desc_init(&a, L2_INPUT, 1);
    l2_pop_desc_init(&b, L2_INPUT, 1);
    l2_pop_desc_init(&pr, L2_PRODUCT, 1);
    pr.prod_exp = prod_exp;
    pr.prod_round = prod_round;
    l2_net_add_pop(*net, &a, ia);
    l2_net_add_pop(*net, &b, ib);
    cr_assert_eq(l2_net_add_pop(*net, &pr, ip), 0, "%s", err_msg());
    int32_t w2[1] = {2};
    l2_conn_desc cd;
    for (int port = 0; port < 2; port++) {
        l2_conn_desc_init(&cd, port ? *ib : *ia, *ip, w2);
        cd.msg_bits = 16;
        cd.dst_port = port;
        cr_assert_eq(l2_net_add_conn(*net, &cd, NULL), 0, "%s", err_msg());
    }
    return sim_of(*net);
}

static int32_t product_of(l2_sim *s, int ia, int ib, int ip, int32_t pa, int32_t pb) {
    int32_t va[1] = {pa}, vb[1] = {pb};
    l2_sim_set_input(s, ia, va);
    l2_sim_set_input(s, ib, vb);
    l2_sim_run(s, 2);
    return l2_sim_output(s, ip)[0];
}

Test(loihi2_graded, product_unit_floors_the_shifted_product) {
    l2_net *net;
    int ia, ib, ip;
    l2_sim *s = product_sim(2, 0, &net, &ia, &ib, &ip);
    cr_assert_eq(product_of(s, ia, ib, ip, 150, -7), -1050);   // a = 300, b = -14: -4200 >> 2 = -1050
    cr_assert_eq(product_of(s, ia, ib, ip, 151, -3), -453);    // a = 302, b = -6: -1812 >> 2 = -453
    l2_sim_free(s);
    l2_net_free(net);
}

Test(loihi2_graded, product_unit_rounds_half_up_when_asked) {
    // The unit sees a b = 4 pa pb and emits (4 pa pb + 8) >> 4 = round-half-up(pa pb / 4). By hand:
    //   pa pb:  3 -> 0.75 -> 1   5 -> 1.25 -> 1   6 -> 1.5 -> 2    7 -> 1.75 -> 2   2 -> 0.5 -> 1
    //          -3 -> -1        -5 -> -1         -6 -> -1.5 -> -1  -7 -> -2         -2 -> -0.5 -> 0
    // (floor would give 0, 1, 1, 1, 0 and -1, -2, -2, -2, -1).
    static const int32_t c[][3] = {{3, 1, 1}, {5, 1, 1}, {3, 2, 2}, {7, 1, 2}, {2, 1, 1},
                                   {-3, 1, -1}, {-5, 1, -1}, {-3, 2, -1}, {7, -1, -2}, {-2, 1, 0}};
    l2_net *net;
    int ia, ib, ip;
    l2_sim *s = product_sim(4, 1, &net, &ia, &ib, &ip);
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++)
        cr_expect_eq(product_of(s, ia, ib, ip, c[k][0], c[k][1]), c[k][2], "case %zu: pa %d pb %d", k, c[k][0], c[k][1]);
    l2_sim_free(s);
    l2_net_free(net);
    l2_pop_desc pr;
    l2_pop_desc_init(&pr, L2_PRODUCT, 1);
    pr.prod_round = 2;   // neither floor nor round
    l2_net *bad = l2_net_new();
    cr_expect_eq(l2_net_add_pop(bad, &pr, NULL), ERR_ARG);
    l2_net_free(bad);
}

// ------------------------------------------------------------------ synapses

Test(loihi2_synapse, truncation_per_sign_mode_and_bits) {
    // shift = 8 - bits + is_mixed; floor, magnitude-floor for inhibitory
    struct { int w, mode, bits, want; } c[] = {
        {255, L2_SIGN_MIXED, 8, 254}, {-255, L2_SIGN_MIXED, 8, -256}, {7, L2_SIGN_MIXED, 8, 6},
        {-7, L2_SIGN_MIXED, 8, -8},   {255, L2_SIGN_MIXED, 6, 248},   {-1, L2_SIGN_MIXED, 6, -8},
        {255, L2_SIGN_EXC, 8, 255},   {255, L2_SIGN_EXC, 4, 240},     {17, L2_SIGN_EXC, 4, 16},
        {15, L2_SIGN_EXC, 4, 0},      {-255, L2_SIGN_INH, 4, -240},   {-17, L2_SIGN_INH, 4, -16},
        {-15, L2_SIGN_INH, 4, 0},     {-255, L2_SIGN_INH, 8, -255},   {100, L2_SIGN_EXC, 1, 0},
        {200, L2_SIGN_EXC, 1, 128},
    };
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++)
        cr_expect_eq(l2_truncate_weight(c[k].w, c[k].mode, c[k].bits), c[k].want, "case %zu: w=%d mode=%d bits=%d",
                     k, c[k].w, c[k].mode, c[k].bits);
    // The description truncates what it is given.
    l2_pop_desc p;
    l2_pop_desc_init(&p, L2_GRADED, 1);
    int32_t w[2] = {-17, -255};
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, 0, 0, w);
    cd.sign_mode = L2_SIGN_INH;
    cd.num_weight_bits = 4;
    int in, out, ci;
    l2_net *net = one_layer(2, &p, &cd, w, &in, &out, &ci);
    l2_sim *s = sim_of(net);
    int32_t got[2];
    l2_sim_get_weights(s, ci, got);
    cr_assert_eq(got[0], -16);
    cr_assert_eq(got[1], -240);
    l2_sim_free(s);
    l2_net_free(net);
}

static int32_t graded_sum(int weight_exp, int per_synapse) {
    l2_pop_desc p;
    l2_pop_desc_init(&p, L2_GRADED, 1);
    int32_t w[3] = {10, 20, -30};
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, 0, 0, w);
    cd.msg_bits = 8;
    cd.weight_exp = weight_exp;
    int in, out, ci;
    l2_net *net = one_layer(3, &p, &cd, w, &in, &out, &ci);
    l2_sim_opts o;
    l2_sim_opts_default(&o);
    o.exp_per_synapse = per_synapse;
    l2_sim *s;
    cr_assert_eq(l2_sim_new(net, NULL, &o, &s), 0);
    int32_t pay[3] = {5, -3, 7};
    l2_sim_set_input(s, in, pay);
    l2_sim_run(s, 2);
    int32_t v = l2_sim_v(s, out)[0];
    l2_sim_free(s);
    l2_net_free(net);
    return v;
}

Test(loihi2_synapse, graded_accumulation_with_weight_exp) {
    // sum = 10*5 + 20*(-3) + (-30)*7 = 50 - 60 - 210 = -220
    cr_assert_eq(graded_sum(0, 0), -220);
    cr_assert_eq(graded_sum(2, 0), -880);          // << 2
    cr_assert_eq(graded_sum(-3, 0), -28);          // floor(-27.5)
    // Switch: exponent per synapse: floor(50/8) + floor(-60/8) + floor(-210/8) = 6 - 8 - 27
    cr_assert_eq(graded_sum(-3, 1), -29);
    cr_assert_eq(graded_sum(2, 1), -880);          // left shifts commute with the sum
}

Test(loihi2_synapse, binary_spikes_sum_weights_and_wide_payloads_use_64_bits) {
    // Binary: payloads are only spike flags: 10 + (-30) for inputs 0 and 2.
    l2_pop_desc p;
    l2_pop_desc_init(&p, L2_GRADED, 1);
    int32_t w[3] = {10, 20, -30};
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, 0, 0, w);
    int in, out, ci;
    l2_net *net = one_layer(3, &p, &cd, w, &in, &out, &ci);
    l2_sim *s = sim_of(net);
    int32_t pay[3] = {77, 0, -5};
    l2_sim_set_input(s, in, pay);
    l2_sim_run(s, 2);
    cr_assert_eq(l2_sim_v(s, out)[0], -20);
    l2_sim_free(s);
    l2_net_free(net);
    // 24-bit payloads: 4 * 254 * 4194304 = 4261412864 overflows 32 bits (wrapped it would read
    // -33554432 -> -131072); exact and >> 8 it is 16646144, saturated by the graded unit to 2^23 - 1.
    int32_t w4[4] = {254, 254, 254, 254};
    l2_conn_desc_init(&cd, 0, 0, w4);
    cd.msg_bits = 24;
    cd.weight_exp = -8;
    l2_pop_desc_init(&p, L2_GRADED, 1);
    net = one_layer(4, &p, &cd, w4, &in, &out, &ci);
    s = sim_of(net);
    int32_t big[4] = {1 << 22, 1 << 22, 1 << 22, 1 << 22};
    l2_sim_set_input(s, in, big);
    l2_sim_run(s, 2);
    cr_assert_eq(l2_sim_v(s, out)[0], 8388607);
    l2_sim_free(s);
    l2_net_free(net);
}

Test(loihi2_synapse, chain_of_L_stages_answers_after_L_steps) {
    for (int L = 1; L <= 5; L++) {
        l2_net *net = l2_net_new();
        l2_pop_desc p;
        l2_pop_desc_init(&p, L2_INPUT, 1);
        int prev;
        l2_net_add_pop(net, &p, &prev);
        int in = prev;
        int32_t w[1] = {2};
        for (int k = 0; k < L; k++) {
            l2_pop_desc_init(&p, L2_GRADED, 1);
            int id;
            l2_net_add_pop(net, &p, &id);
            l2_conn_desc cd;
            l2_conn_desc_init(&cd, prev, id, w);
            cd.msg_bits = 16;
            cr_assert_eq(l2_net_add_conn(net, &cd, NULL), 0);
            prev = id;
        }
        l2_sim *s = sim_of(net);
        int32_t one[1] = {1};
        l2_sim_set_input(s, in, one);   // input emitted at step 1
        int first = -1;
        for (int t = 1; t <= L + 3; t++) {
            l2_sim_step(s);
            if (l2_sim_output(s, prev)[0] && first < 0) first = t;
        }
        cr_assert_eq(first, 1 + L, "L=%d answered at %d", L, first);
        l2_sim_free(s);
        l2_net_free(net);
    }
}

Test(loihi2_synapse, axonal_delay_adds_d_steps) {
    for (int d = 0; d <= 4; d++) {
        l2_pop_desc p;
        l2_pop_desc_init(&p, L2_GRADED, 1);
        int32_t w[1] = {2};
        l2_conn_desc cd;
        l2_conn_desc_init(&cd, 0, 0, w);
        cd.delay = d;
        int in, out, ci;
        l2_net *net = one_layer(1, &p, &cd, w, &in, &out, &ci);
        l2_sim *s = sim_of(net);
        int32_t one[1] = {1};
        l2_sim_set_input(s, in, one);
        int first = -1, count = 0;
        for (int t = 1; t <= 10; t++) {
            l2_sim_step(s);
            if (l2_sim_output(s, out)[0]) { if (first < 0) first = t; count++; }
        }
        cr_assert_eq(first, 2 + d, "delay %d", d);
        cr_assert_eq(count, 1);
        l2_sim_free(s);
        l2_net_free(net);
    }
}

// ------------------------------------------------------------------ mapping, counters, bad input

Test(loihi2_map, refuses_with_the_limit_named) {
    l2_net *net = l2_net_new();
    l2_pop_desc a, b;
    l2_pop_desc_init(&a, L2_INPUT, 2000);
    l2_pop_desc_init(&b, L2_GRADED, 4);
    int ia, ib;
    l2_net_add_pop(net, &a, &ia);
    l2_net_add_pop(net, &b, &ib);
    static int32_t w[2000 * 4];
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, ia, ib, w);
    cr_assert_eq(l2_net_add_conn(net, &cd, NULL), 0);
    l2_core_limits lim;
    l2_core_limits_default(&lim);
    lim.synapse_mem_bytes = 1000;   // one post neuron needs 2000 bytes at 8 bits per synapse
    l2_mapping m;
    cr_assert_eq(l2_map(net, &lim, &m), ERR_RANGE);
    cr_assert(strstr(err_msg(), "synapse_mem_bytes=1000"), "%s", err_msg());
    l2_sim *s;
    // Too many cores: 4 neurons per core limit 1 core each... use a huge population instead.
    l2_core_limits_default(&lim);
    lim.max_neurons_per_core = 1;
    lim.cores_per_chip = 3;
    cr_assert_eq(l2_map(net, &lim, &m), ERR_RANGE);
    cr_assert(strstr(err_msg(), "cores_per_chip=3"), "%s", err_msg());
    // Fits with defaults: 4 neurons x 2000 bytes = 8000 bytes on one core.
    l2_core_limits_default(&lim);
    cr_assert_eq(l2_map(net, &lim, &m), 0, "%s", err_msg());
    cr_assert_eq(m.n_cores, 1);
    cr_assert_eq(m.core_syn_bytes[0], 8000);
    l2_mapping_free(&m);
    cr_assert_eq(l2_sim_new(net, NULL, NULL, &s), 0);
    l2_sim_free(s);
    l2_net_free(net);
}

Test(loihi2_map, dense_1024_needs_8_cores_of_128KB) {
    l2_net *net = l2_net_new();
    l2_pop_desc a, b;
    l2_pop_desc_init(&a, L2_INPUT, 1024);
    l2_pop_desc_init(&b, L2_GRADED, 1024);
    int ia, ib;
    l2_net_add_pop(net, &a, &ia);
    l2_net_add_pop(net, &b, &ib);
    int32_t *w = calloc(1024 * 1024, sizeof *w);
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, ia, ib, w);
    cr_assert_eq(l2_net_add_conn(net, &cd, NULL), 0);
    free(w);
    l2_core_limits lim;
    l2_core_limits_default(&lim);
    l2_mapping m;
    cr_assert_eq(l2_map(net, &lim, &m), 0);
    cr_assert_eq(m.n_cores, 8);          // 131072 bytes / 1024 bytes per post neuron = 128 per core
    cr_assert_eq(m.pop_per_core[ib], 128);
    cr_assert_eq(m.n_chips, 1);
    cr_assert_eq(l2_mapping_cores_on_chip(&m, 0), 8);
    l2_mapping_free(&m);
    // Four chips' worth: max_neurons_per_core 3 -> 342 cores -> chips of 128, 128, 86.
    lim.max_neurons_per_core = 3;
    lim.max_chips = 4;
    cr_assert_eq(l2_map(net, &lim, &m), 0, "%s", err_msg());
    cr_assert_eq(m.n_cores, 342);
    cr_assert_eq(m.n_chips, 3);
    cr_assert_eq(l2_mapping_cores_on_chip(&m, 1), 128);
    cr_assert_eq(l2_mapping_cores_on_chip(&m, 2), 86);
    l2_mapping_free(&m);
    l2_net_free(net);
}

Test(loihi2_map, counters_per_core_and_step) {
    // input 8 -> graded 4 (2 cores of 2 neurons with max_neurons_per_core = 2) -> graded 2 (1 core)
    l2_net *net = l2_net_new();
    l2_pop_desc a, b, c;
    l2_pop_desc_init(&a, L2_INPUT, 8);
    l2_pop_desc_init(&b, L2_GRADED, 4);
    l2_pop_desc_init(&c, L2_GRADED, 2);
    int ia, ib, ic;
    l2_net_add_pop(net, &a, &ia);
    l2_net_add_pop(net, &b, &ib);
    l2_net_add_pop(net, &c, &ic);
    int32_t w1[32], w2[8];
    for (int k = 0; k < 32; k++) w1[k] = 2;
    for (int k = 0; k < 8; k++) w2[k] = 2;
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, ia, ib, w1);
    l2_net_add_conn(net, &cd, NULL);
    l2_conn_desc_init(&cd, ib, ic, w2);
    l2_net_add_conn(net, &cd, NULL);
    l2_core_limits lim;
    l2_core_limits_default(&lim);
    lim.max_neurons_per_core = 2;
    l2_mapping m;
    cr_assert_eq(l2_map(net, &lim, &m), 0);
    cr_assert_eq(m.n_cores, 3);
    l2_sim *s;
    cr_assert_eq(l2_sim_new(net, &m, NULL, &s), 0);
    int32_t in[8] = {1, 0, 1, 0, 1, 0, 0, 0};   // 3 active
    l2_sim_set_input(s, ia, in);
    l2_sim_step(s);
    // step 1: 3 active inputs x 2 posts on each of cores 0 and 1
    cr_assert_eq(l2_sim_core_counters(s, 0, 1)->syn_ops, 6);
    cr_assert_eq(l2_sim_core_counters(s, 1, 1)->syn_ops, 6);
    cr_assert_eq(l2_sim_core_counters(s, 0, 1)->neuron_updates, 2);
    l2_sim_step(s);
    // step 2: the 4 graded neurons fire (input 6 each): spikes 2 per core, each sent to core 2:
    // messages 2 per core, hops: core 0 -> core 2 = 2, core 1 -> core 2 = 1.
    cr_assert_eq(l2_sim_core_counters(s, 0, 1)->spikes, 2);
    cr_assert_eq(l2_sim_core_counters(s, 0, 1)->messages, 2);
    cr_assert_eq(l2_sim_core_counters(s, 0, 1)->mesh_hops, 4);
    cr_assert_eq(l2_sim_core_counters(s, 1, 1)->mesh_hops, 2);
    cr_assert_eq(l2_sim_core_counters(s, 2, 1)->syn_ops, 8);
    l2_counters tot;
    l2_sim_total_counters(s, &tot, 0);
    cr_assert_eq(tot.syn_ops, 12 + 8);
    cr_assert_eq(tot.timesteps, 2);
    l2_cost_params cp;
    l2_cost_default(&cp);
    for (int k = 0; k < L2_N_COST; k++) cr_assert(strstr(cp.c[k].name, "modelled"));
    l2_cost_estimate e;
    l2_cost_estimate_total(&cp, s, &e);
    cr_assert(e.energy_j_modelled > 0);
    l2_mapping_free(&m);
    l2_sim_free(s);
    l2_net_free(net);
}

Test(loihi2_map, malformed_descriptions_return_errors) {
    l2_net *net = l2_net_new();
    l2_pop_desc p;
    l2_pop_desc_init(&p, L2_LIF, 0);
    cr_assert_eq(l2_net_add_pop(net, &p, NULL), ERR_ARG);
    l2_pop_desc_init(&p, L2_LIF, 4);
    p.du = 5000;
    cr_assert_eq(l2_net_add_pop(net, &p, NULL), ERR_ARG);
    cr_assert(strstr(err_msg(), "du=5000"));
    l2_pop_desc_init(&p, L2_GRADED, 2);
    int a, b;
    cr_assert_eq(l2_net_add_pop(net, &p, &a), 0);
    cr_assert_eq(l2_net_add_pop(net, &p, &b), 0);
    int32_t w[4] = {1, 2, 3, 300};
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, a, b, w);
    cr_assert_eq(l2_net_add_conn(net, &cd, NULL), ERR_RANGE);   // 300 > 255
    cr_assert(strstr(err_msg(), "weight[1][1]=300"), "%s", err_msg());
    w[3] = 4;
    cd.num_weight_bits = 9;
    cr_assert_eq(l2_net_add_conn(net, &cd, NULL), ERR_ARG);
    l2_conn_desc_init(&cd, a, 7, w);
    cr_assert_eq(l2_net_add_conn(net, &cd, NULL), ERR_ARG);
    l2_conn_desc_init(&cd, a, b, w);
    cd.delay = 64;
    cr_assert_eq(l2_net_add_conn(net, &cd, NULL), ERR_ARG);
    l2_conn_desc_init(&cd, a, b, w);
    cd.rule = "dw = x0 * q";
    cr_assert_eq(l2_net_add_conn(net, &cd, NULL), ERR_FORMAT);
    cr_assert(strstr(err_msg(), "connection 0"), "%s", err_msg());
    cr_assert(!strchr(err_msg(), '\n'));
    l2_conn_desc_init(&cd, a, b, w);
    cd.rule = "dw = u0*x1";
    cd.tau[0] = 70000;
    cr_assert_eq(l2_net_add_conn(net, &cd, NULL), ERR_ARG);
    l2_net_free(net);
}

// Independent reference for LIF, in double arithmetic (exact for these magnitudes), against
// random input sequences with random decays, thresholds and biases.
static int64_t ref_wrap24(double x) {
    double m = fmod(x, 16777216.0);
    if (m < 0) m += 16777216.0;
    return m >= 8388608.0 ? (int64_t)m - 16777216 : (int64_t)m;
}

Test(loihi2_lif, random_sequences_match_a_float_reference) {
    unsigned x = 777;
#define RND() (x = x * 1664525u + 1013904223u, x >> 8)
    for (int trial = 0; trial < 40; trial++) {
        l2_pop_desc p;
        l2_pop_desc_init(&p, L2_LIF, 1);
        p.du = (int)(RND() % 4096);
        p.dv = (int)(RND() % 4096);
        p.vth = (int)(RND() % 131072);
        p.bias_mant = (int)(RND() % 8192) - 4096;
        p.bias_exp = (int)(RND() % 15) - 7;
        int32_t w[1] = {(int32_t)(RND() % 511) - 256};
        l2_conn_desc cd;
        l2_conn_desc_init(&cd, 0, 0, w);
        cd.msg_bits = 16;
        int in, out, c;
        l2_net *net = one_layer(1, &p, &cd, w, &in, &out, &c);
        l2_sim *s = sim_of(net);
        int32_t wt[1];
        l2_sim_get_weights(s, c, wt);
        double u = 0, v = 0, a_next = 0;
        double bias = p.bias_exp >= 0 ? p.bias_mant * pow(2, p.bias_exp) : floor(p.bias_mant / pow(2, -p.bias_exp));
        for (int t = 1; t <= 60; t++) {
            int32_t pay[1] = {(int32_t)(RND() % 65536) - 32768};
            if (RND() % 3 == 0) pay[0] = 0;
            l2_sim_set_input(s, in, pay);
            l2_sim_step(s);
            double a = a_next;
            a_next = (double)wt[0] * pay[0];
            u = (double)ref_wrap24(trunc(u * (4096 - (p.du + 1)) / 4096.0) + a * 64);
            v = trunc(v * (4096 - p.dv) / 4096.0) + u + bias;
            if (v > 8388607) v = 8388607;
            if (v < -8388607) v = -8388607;
            int spike = v > (double)p.vth * 64;
            if (spike) v = 0;
            cr_assert_eq(l2_sim_u(s, out)[0], (int32_t)u, "trial %d t %d", trial, t);
            cr_assert_eq(l2_sim_v(s, out)[0], (int32_t)v, "trial %d t %d", trial, t);
            cr_assert_eq(l2_sim_output(s, out)[0], spike, "trial %d t %d", trial, t);
        }
        l2_sim_free(s);
        l2_net_free(net);
    }
#undef RND
}

Test(loihi2_map, random_descriptions_never_crash) {
    // Random (often absurd) field values: every call returns 0 or an error code with a message;
    // whatever was accepted runs.
    unsigned x = 4242;
#define RND() (x = x * 1664525u + 1013904223u, x >> 8)
    static int32_t w[64 * 64];
    for (int trial = 0; trial < 300; trial++) {
        l2_net *net = l2_net_new();
        for (int k = 0; k < 3; k++) {
            l2_pop_desc p;
            int model = (int)(RND() % 5), n = (int)(RND() % 70) - 3;
            l2_pop_desc_init(&p, (l2_model)model, n);
            p.du = (int)(RND() % 5000) - 100;
            p.dv = (int)(RND() % 5000) - 100;
            p.vth = (int)(RND() % 200000) - 10;
            p.threshold = (int32_t)(RND() % 100) - 5;
            p.prod_exp = (int)(RND() % 40) - 2;
            p.prod_round = (int)(RND() % 4) - 1;
            int rc = l2_net_add_pop(net, &p, NULL);
            cr_assert(rc == 0 || rc == ERR_ARG);
        }
        for (int k = 0; k < 3; k++) {
            for (int i = 0; i < 64 * 64; i++) w[i] = (int32_t)(RND() % 600) - 300;
            l2_conn_desc cd;
            int src = (int)(RND() % 5) - 1, dst = (int)(RND() % 5) - 1;
            l2_conn_desc_init(&cd, src, dst, w);
            cd.sign_mode = (l2_sign_mode)(RND() % 5);
            cd.num_weight_bits = (int)(RND() % 11) - 1;
            cd.weight_exp = (int)(RND() % 20) - 10;
            cd.msg_bits = (int)(RND() % 30) - 2;
            cd.delay = (int)(RND() % 70) - 2;
            cd.dst_port = (int)(RND() % 3);
            static const char *rules[] = {NULL, "dw = u0*x1*y2", "dw = x0*", "dd = y0*(x1+3); dt = -u1*t", "dw=2^-9*u0"};
            cd.rule = rules[RND() % 5];
            cd.t_epoch = (int)(RND() % 70) - 2;
            cd.graded_mode = (l2_graded_trace)(RND() % 5);
            cd.three_factor = (int)(RND() % 2);
            cd.y_from_post = (int)(RND() % 5) - 1;
            int rc = l2_net_add_conn(net, &cd, NULL);
            cr_assert(rc == 0 || rc == ERR_ARG || rc == ERR_RANGE || rc == ERR_FORMAT, "rc %d", rc);
            if (rc) cr_assert(strlen(err_msg()) > 0 && !strchr(err_msg(), '\n'));
        }
        l2_sim *s;
        if (l2_net_n_pops(net) > 0 && l2_sim_new(net, NULL, NULL, &s) == 0) {
            for (int t = 0; t < 5; t++) {
                for (int p = 0; p < l2_net_n_pops(net); p++) l2_sim_set_input(s, p, w);
                l2_sim_step(s);
            }
            l2_sim_free(s);
        }
        l2_net_free(net);
    }
#undef RND
}
