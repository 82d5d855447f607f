// Network description: populations, connections (with their parsed rules), probes. Everything
// is validated here, when it is added, so execution never meets a malformed description.
#include "kernels/loihi2/internal.h"
#include "kernels/err.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

l2_net *l2_net_new(void) { return calloc(1, sizeof(l2_net)); }

void l2_net_free(l2_net *net) {
    if (!net) return;
    for (int i = 0; i < net->n_conns; i++) free(net->conns[i].w0);
    free(net->conns);
    free(net->pops);
    free(net->probes);
    free(net);
}

void l2_pop_desc_init(l2_pop_desc *d, l2_model model, int n) {
    memset(d, 0, sizeof *d);
    d->model = model;
    d->n = n;
    d->vth = 10;
}

void l2_conn_desc_init(l2_conn_desc *d, int src, int dst, const int32_t *weights) {
    memset(d, 0, sizeof *d);
    d->src = src;
    d->dst = dst;
    d->sign_mode = L2_SIGN_MIXED;
    d->num_weight_bits = 8;
    d->weights = weights;
    d->t_epoch = 1;
    for (int k = 0; k < L2_N_TRACES; k++) d->tau[k] = 0;
}

int l2_net_n_pops(const l2_net *net) { return net->n_pops; }
int l2_net_n_conns(const l2_net *net) { return net->n_conns; }
int l2_net_pop_size(const l2_net *net, int pop) {
    return pop >= 0 && pop < net->n_pops ? net->pops[pop].n : 0;
}

static int grow(void **p, int *cap, int n, size_t elem) {
    if (n < *cap) return 0;
    int nc = *cap ? *cap * 2 : 8;
    void *q = realloc(*p, (size_t)nc * elem);
    if (!q) return err_set(ERR_NOMEM, "loihi2: out of memory growing the network description");
    *p = q;
    *cap = nc;
    return 0;
}

int l2_net_add_pop(l2_net *net, const l2_pop_desc *d, int *id) {
    if (!net || !d) return err_set(ERR_ARG, "loihi2: NULL network or population");
    int k = net->n_pops;
    if (d->model < L2_INPUT || d->model > L2_PRODUCT)
        return err_set(ERR_ARG, "loihi2: population %d: unknown model %d", k, (int)d->model);
    if (d->n < 1 || d->n > (1 << 24))
        return err_set(ERR_ARG, "loihi2: population %d: size %d outside 1..16777216", k, d->n);
    if (d->model == L2_LIF) {
        if (d->du < 0 || d->du >= L2_DECAY_UNITY || d->dv < 0 || d->dv >= L2_DECAY_UNITY)
            return err_set(ERR_ARG, "loihi2: population %d: du=%d dv=%d outside 0..4095", k, d->du, d->dv);
        if (d->vth < 0 || d->vth > (1 << 17) - 1)
            return err_set(ERR_ARG, "loihi2: population %d: vth=%d outside 0..131071 (17 bits)", k, d->vth);
        if (d->bias_mant < -4096 || d->bias_mant > 4095 || d->bias_exp < -7 || d->bias_exp > 7)
            return err_set(ERR_ARG, "loihi2: population %d: bias %d*2^%d outside 13-bit mantissa, exp -7..7",
                           k, d->bias_mant, d->bias_exp);
    }
    if ((d->model == L2_GRADED || d->model == L2_PRODUCT) && (d->threshold < 0 || d->threshold > L2_PAYLOAD_MAX))
        return err_set(ERR_ARG, "loihi2: population %d: threshold %d outside 0..2^23-1", k, (int)d->threshold);
    if (d->model == L2_PRODUCT && (d->prod_exp < 0 || d->prod_exp > 31))
        return err_set(ERR_ARG, "loihi2: population %d: prod_exp %d outside 0..31", k, d->prod_exp);
    if (d->model == L2_PRODUCT && (d->prod_round < 0 || d->prod_round > 1))
        return err_set(ERR_ARG, "loihi2: population %d: prod_round %d is not 0 (floor) or 1 (round half up)", k, d->prod_round);
    if (grow((void **)&net->pops, &net->cap_pops, net->n_pops, sizeof *net->pops)) return ERR_NOMEM;
    net->pops[k] = *d;
    net->pops[k].name[L2_NAME_MAX - 1] = 0;
    net->n_pops++;
    if (id) *id = k;
    return 0;
}

int32_t l2_truncate_weight(int32_t w, l2_sign_mode mode, int num_weight_bits) {
    // Lava weightutils.truncate_weights: inhibitory weights are negated, floored, negated back,
    // so they lose magnitude (toward zero); the others floor (toward -inf).
    int shift = 8 - num_weight_bits + (mode == L2_SIGN_MIXED);
    if (mode == L2_SIGN_INH) return -((-w >> shift) << shift);
    return (int32_t)((uint32_t)(w >> shift) << shift);
}

static const char *pop_label(const l2_net *net, int p, char *buf, size_t n) {
    if (net->pops[p].name[0]) return net->pops[p].name;
    snprintf(buf, n, "#%d", p);
    return buf;
}

int l2_net_add_conn(l2_net *net, const l2_conn_desc *d, int *id) {
    if (!net || !d) return err_set(ERR_ARG, "loihi2: NULL network or connection");
    int k = net->n_conns;
    if (d->src < 0 || d->src >= net->n_pops || d->dst < 0 || d->dst >= net->n_pops)
        return err_set(ERR_ARG, "loihi2: connection %d: population ids %d -> %d not in the network (%d populations)",
                       k, d->src, d->dst, net->n_pops);
    const l2_pop_desc *dst = &net->pops[d->dst];
    char b1[16];
    if (dst->model == L2_INPUT)
        return err_set(ERR_ARG, "loihi2: connection %d: destination %s is a host input port",
                       k, pop_label(net, d->dst, b1, sizeof b1));
    if (d->dst_port < 0 || d->dst_port > 1 || (d->dst_port == 1 && dst->model != L2_PRODUCT))
        return err_set(ERR_ARG, "loihi2: connection %d: dst_port %d invalid (port 1 only on product units)", k, d->dst_port);
    if (d->sign_mode < L2_SIGN_MIXED || d->sign_mode > L2_SIGN_INH)
        return err_set(ERR_ARG, "loihi2: connection %d: unknown sign mode %d", k, (int)d->sign_mode);
    if (d->num_weight_bits < 1 || d->num_weight_bits > 8)
        return err_set(ERR_ARG, "loihi2: connection %d: num_weight_bits %d outside 1..8", k, d->num_weight_bits);
    if (d->weight_exp < -8 || d->weight_exp > 7)
        return err_set(ERR_ARG, "loihi2: connection %d: weight_exp %d outside -8..7", k, d->weight_exp);
    if (d->msg_bits < 0 || d->msg_bits > L2_PAYLOAD_BITS_MAX)
        return err_set(ERR_ARG, "loihi2: connection %d: msg_bits %d outside 0..24", k, d->msg_bits);
    if (d->delay < 0 || d->delay > L2_DELAY_MAX)
        return err_set(ERR_ARG, "loihi2: connection %d: delay %d outside 0..63", k, d->delay);
    if (!d->weights) return err_set(ERR_ARG, "loihi2: connection %d: no weights", k);
    int n_pre = net->pops[d->src].n, n_post = dst->n;
    int lo = d->sign_mode == L2_SIGN_EXC ? 0 : d->sign_mode == L2_SIGN_INH ? -255 : -256;
    int hi = d->sign_mode == L2_SIGN_INH ? 0 : 255;

    l2_conn c;
    memset(&c, 0, sizeof c);
    c.d = *d;
    c.d.weights = NULL;
    c.d.rule = NULL;
    c.n_pre = n_pre;
    c.n_post = n_post;
    c.learning = d->rule != NULL;
    if (c.learning) {
        if (d->t_epoch < 1 || d->t_epoch > L2_T_EPOCH_MAX)
            return err_set(ERR_ARG, "loihi2: connection %d: t_epoch %d outside 1..63", k, d->t_epoch);
        if (d->graded_mode < L2_GT_REGULAR || d->graded_mode > L2_GT_ADD_OVERFLOW)
            return err_set(ERR_ARG, "loihi2: connection %d: unknown graded-to-trace mode %d", k, (int)d->graded_mode);
        if (d->graded_mode != L2_GT_REGULAR && d->msg_bits == 0)
            return err_set(ERR_ARG, "loihi2: connection %d: graded-to-trace mode needs graded messages (msg_bits > 0)", k);
        if (d->y_from_post < 0 || d->y_from_post > 3 || (d->y_from_post && !d->three_factor))
            return err_set(ERR_ARG, "loihi2: connection %d: y_from_post %d needs three_factor and 1..3", k, d->y_from_post);
        for (int t = 0; t < L2_N_TRACES; t++) {
            if (d->tau[t] < 0 || d->tau[t] > 65535)
                return err_set(ERR_ARG, "loihi2: connection %d: tau[%d]=%d outside 0..65535", k, t, d->tau[t]);
            double imp = d->impulse[t];
            if (!(imp >= 0.0 && imp < 128.0))
                return err_set(ERR_ARG, "loihi2: connection %d: impulse[%d]=%g outside [0, 128)", k, t, imp);
            // Lava _decompose_impulses: floor, and the fraction rounded to 8 bits.
            int ii = (int)floor(imp);
            int fr = (int)lround((imp - ii) * 256.0);
            if (fr == 256) { ii++; fr = 0; }
            c.imp_int[t] = ii;
            c.imp_frac[t] = fr;
            c.decay_q16[t] = d->tau[t] ? (uint32_t)lround(exp(-1.0 / d->tau[t]) * 65536.0) : 0;
            if (c.decay_q16[t] > 65535) c.decay_q16[t] = 65535;
        }
        if (l2_rule_parse(&c.rule, d->rule))
            return err_wrap(ERR_FORMAT, "loihi2: connection %d", k);
        if (!c.rule.present[L2_TGT_W] && !c.rule.present[L2_TGT_D] && !c.rule.present[L2_TGT_T])
            return err_set(ERR_FORMAT, "loihi2: connection %d: rule has no dw, dd or dt", k);
    }
    c.w0 = malloc((size_t)n_pre * n_post * sizeof *c.w0);
    if (!c.w0) return err_set(ERR_NOMEM, "loihi2: connection %d: out of memory for %d x %d weights", k, n_post, n_pre);
    for (int i = 0; i < n_post; i++)
        for (int j = 0; j < n_pre; j++) {
            int32_t w = d->weights[(size_t)i * n_pre + j];
            if (w < lo || w > hi) {
                free(c.w0);
                return err_set(ERR_RANGE, "loihi2: connection %d: weight[%d][%d]=%d outside [%d, %d] for its sign mode",
                               k, i, j, (int)w, lo, hi);
            }
            c.w0[(size_t)j * n_post + i] = (int16_t)l2_truncate_weight(w, d->sign_mode, d->num_weight_bits);
        }
    if (grow((void **)&net->conns, &net->cap_conns, net->n_conns, sizeof *net->conns)) {
        free(c.w0);
        return ERR_NOMEM;
    }
    net->conns[k] = c;
    net->n_conns++;
    if (id) *id = k;
    return 0;
}

int l2_net_add_probe(l2_net *net, int pop, l2_probe_var var, int *id) {
    if (!net || pop < 0 || pop >= net->n_pops)
        return err_set(ERR_ARG, "loihi2: probe on population %d not in the network", pop);
    if (var < L2_PROBE_OUT || var > L2_PROBE_U || (var == L2_PROBE_U && net->pops[pop].model != L2_LIF))
        return err_set(ERR_ARG, "loihi2: probe variable %d not available on population %d", (int)var, pop);
    if (grow((void **)&net->probes, &net->cap_probes, net->n_probes, sizeof *net->probes)) return ERR_NOMEM;
    net->probes[net->n_probes] = (l2_probe){pop, var};
    if (id) *id = net->n_probes;
    net->n_probes++;
    return 0;
}
