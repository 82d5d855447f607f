// Execution of a described network: state allocation (all of it up front, none per step), the
// algorithmic timestep, host I/O, counters. One step t:
//   1. neuron phase    — every population consumes the input summed for it during step t-1 and
//                        emits payloads out(t) (host ports emit what the host set for step t);
//   2. synaptic phase  — every connection receives the spikes arriving at its synapses
//                        (out(t - delay) of its source) and sums them for the destination's
//                        neuron phase of step t+1: the one-step pipeline;
//   3. learning        — traces take this step's pre arrivals and post spikes; when
//                        t mod t_epoch == 0 the rule updates the synapses, so a weight changed
//                        at step t acts on spikes arriving from step t+1 on.
#include "kernels/loihi2/internal.h"
#include "kernels/err.h"
#include <stdlib.h>
#include <string.h>

void l2_sim_opts_default(l2_sim_opts *o) {
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->exp_per_synapse = 0;
    o->product_shift = 1;
    o->sr_per_synapse = 0;
    o->force_interpreter = 0;
}

#define ALLOC(ptr, n)                                                              \
    do {                                                                           \
        (ptr) = calloc((size_t)(n) + 1, sizeof *(ptr));                            \
        if (!(ptr)) {                                                              \
            l2_sim_free(s);                                                        \
            return err_set(ERR_NOMEM, "loihi2 sim: out of memory (%s)", #ptr);     \
        }                                                                          \
    } while (0)

static int copy_mapping(l2_mapping *dst, const l2_mapping *src, int np) {
    memset(dst, 0, sizeof *dst);
    dst->n_cores = src->n_cores;
    dst->n_chips = src->n_chips;
    dst->cores_per_chip = src->cores_per_chip;
    dst->mesh_width = src->mesh_width > 0 ? src->mesh_width : 8;
    dst->pop_core0 = malloc(((size_t)np + 1) * sizeof(int));
    dst->pop_ncores = malloc(((size_t)np + 1) * sizeof(int));
    dst->pop_per_core = malloc(((size_t)np + 1) * sizeof(int));
    dst->core_syn_bytes = malloc(((size_t)src->n_cores + 1) * sizeof(long));
    dst->core_neurons = malloc(((size_t)src->n_cores + 1) * sizeof(int));
    if (!dst->pop_core0 || !dst->pop_ncores || !dst->pop_per_core || !dst->core_syn_bytes || !dst->core_neurons) {
        l2_mapping_free(dst);
        return err_set(ERR_NOMEM, "loihi2 sim: out of memory copying the mapping");
    }
    memcpy(dst->pop_core0, src->pop_core0, (size_t)np * sizeof(int));
    memcpy(dst->pop_ncores, src->pop_ncores, (size_t)np * sizeof(int));
    memcpy(dst->pop_per_core, src->pop_per_core, (size_t)np * sizeof(int));
    memcpy(dst->core_syn_bytes, src->core_syn_bytes, (size_t)src->n_cores * sizeof(long));
    memcpy(dst->core_neurons, src->core_neurons, (size_t)src->n_cores * sizeof(int));
    return 0;
}

static int hop_dist(int a, int b, int width) {
    int dx = a % width - b % width, dy = a / width - b / width;
    return (dx < 0 ? -dx : dx) + (dy < 0 ? -dy : dy);
}

static int rule_uses(const l2_rule *r, l2_fvar v) {
    for (int tg = 0; tg < L2_N_TGT; tg++)
        for (int p = 0; p < r->n_products[tg]; p++)
            for (int f = 0; f < r->p[tg][p].n_factors; f++)
                if (r->p[tg][p].f[f].var == v) return 1;
    return 0;
}

int l2_sim_new(const l2_net *net, const l2_mapping *map, const l2_sim_opts *opts, l2_sim **out) {
    *out = NULL;
    if (!net) return err_set(ERR_ARG, "loihi2 sim: NULL network");
    if (net->n_pops == 0) return err_set(ERR_ARG, "loihi2 sim: the network has no populations");
    l2_sim *s = calloc(1, sizeof *s);
    if (!s) return err_set(ERR_NOMEM, "loihi2 sim: out of memory");
    s->net = net;
    if (opts) s->opts = *opts;
    else l2_sim_opts_default(&s->opts);
    l2_core_limits lim;
    l2_core_limits_default(&lim);
    int rc = map ? copy_mapping(&s->map, map, net->n_pops) : l2_map(net, &lim, &s->map);
    if (rc) {
        free(s);
        return rc;
    }
    int nc = s->map.n_cores;
    ALLOC(s->cum, nc);
    ALLOC(s->last, nc);
    ALLOC(s->ps, net->n_pops);
    ALLOC(s->cs, net->n_conns);
    for (int p = 0; p < net->n_pops; p++) {
        const l2_pop_desc *d = &net->pops[p];
        l2_pop_state *ps = &s->ps[p];
        ps->core0 = s->map.pop_core0[p];
        ps->ncores = s->map.pop_ncores[p];
        ps->per_core = s->map.pop_per_core[p] > 0 ? s->map.pop_per_core[p] : d->n;
        ALLOC(ps->out, d->n);
        ALLOC(ps->v, d->n);
        ALLOC(ps->acc[0], d->n);
        if (d->model == L2_LIF) ALLOC(ps->u, d->n);
        if (d->model == L2_PRODUCT) ALLOC(ps->acc[1], d->n);
        if (d->model == L2_INPUT) ALLOC(ps->host_in, d->n);
    }
    for (int ci = 0; ci < net->n_conns; ci++) {
        const l2_conn *c = &net->conns[ci];
        l2_conn_state *cs = &s->cs[ci];
        size_t nsyn = (size_t)c->n_pre * c->n_post;
        ALLOC(cs->w, nsyn);
        memcpy(cs->w, c->w0, nsyn * sizeof *cs->w);
        if (c->d.delay > 0) ALLOC(cs->ring, (size_t)(c->d.delay + 1) * c->n_pre);
        ALLOC(cs->act_idx, c->n_pre);
        ALLOC(cs->act_val, c->n_pre);
        // The int32 sum is exact when n_pre * max|w| * max|payload| < 2^31.
        double maxp = c->d.msg_bits ? (double)(1L << (c->d.msg_bits - 1)) : 1.0;
        cs->use32 = (double)c->n_pre * 256.0 * maxp < 2147483647.0;
        if (cs->use32) ALLOC(cs->s32, c->n_post);
        else ALLOC(cs->s64, c->n_post);
        const l2_pop_state *sp = &s->ps[c->d.src], *dp = &s->ps[c->d.dst];
        int sn = sp->core0 >= 0 ? sp->ncores : 1;
        ALLOC(cs->hops_from_core, sn);
        ALLOC(cs->act_per_core, sn);
        if (sp->core0 >= 0)
            for (int a = 0; a < sp->ncores; a++)
                for (int b = 0; b < dp->ncores; b++)
                    cs->hops_from_core[a] += hop_dist(sp->core0 + a, dp->core0 + b, s->map.mesh_width);
        if (!c->learning) continue;
        rng_seed2(&cs->rng, s->opts.seed, (uint64_t)ci);
        for (int k = 0; k < 2; k++) ALLOC(cs->x[k], c->n_pre);
        for (int k = 0; k < 3; k++) ALLOC(cs->y[k], c->n_post);
        for (int k = 0; k < 3; k++) ALLOC(cs->ywrite[k], c->n_post);
        ALLOC(cs->tx, c->n_pre);
        ALLOC(cs->ty, c->n_post);
        ALLOC(cs->xh, (size_t)(c->d.t_epoch + 1) * 2 * c->n_pre);
        ALLOC(cs->yh, (size_t)(c->d.t_epoch + 1) * 3 * c->n_post);
        if (c->rule.present[L2_TGT_D] || rule_uses(&c->rule, L2_F_D)) ALLOC(cs->tag_d, nsyn);
        if (c->rule.present[L2_TGT_T] || rule_uses(&c->rule, L2_F_T)) ALLOC(cs->tag_t, nsyn);
        cs->lowered = l2_learn_can_lower(&c->rule, &s->opts);
        if (cs->lowered) {
            ALLOC(cs->lacc, c->n_post);
            ALLOC(cs->ybuf, (size_t)8 * c->n_post);
            ALLOC(cs->ones32, c->n_post);
            ALLOC(cs->ones16, c->n_post);
            for (int i = 0; i < c->n_post; i++) cs->ones32[i] = cs->ones16[i] = 1;
        }
    }
    *out = s;
    return 0;
}

void l2_sim_free(l2_sim *s) {
    if (!s) return;
    const l2_net *net = s->net;
    if (s->ps)
        for (int p = 0; p < net->n_pops; p++) {
            l2_pop_state *ps = &s->ps[p];
            free(ps->out); free(ps->v); free(ps->u); free(ps->acc[0]); free(ps->acc[1]); free(ps->host_in);
        }
    if (s->cs)
        for (int ci = 0; ci < net->n_conns; ci++) {
            l2_conn_state *cs = &s->cs[ci];
            free(cs->w); free(cs->ring); free(cs->act_idx); free(cs->act_val); free(cs->s32); free(cs->s64);
            free(cs->hops_from_core); free(cs->act_per_core);
            for (int k = 0; k < 2; k++) free(cs->x[k]);
            for (int k = 0; k < 3; k++) { free(cs->y[k]); free(cs->ywrite[k]); }
            free(cs->tx); free(cs->ty); free(cs->xh); free(cs->yh); free(cs->tag_d); free(cs->tag_t);
            free(cs->lacc); free(cs->ybuf); free(cs->ones32); free(cs->ones16);
        }
    free(s->ps);
    free(s->cs);
    free(s->cum);
    free(s->last);
    l2_mapping_free(&s->map);
    free(s);
}

static int check_pop(const l2_sim *s, int pop) {
    if (!s || pop < 0 || pop >= s->net->n_pops)
        return err_set(ERR_ARG, "loihi2 sim: population %d not in the network", pop);
    return 0;
}

static int check_conn(const l2_sim *s, int conn, int need_learning) {
    if (!s || conn < 0 || conn >= s->net->n_conns)
        return err_set(ERR_ARG, "loihi2 sim: connection %d not in the network", conn);
    if (need_learning && !s->net->conns[conn].learning)
        return err_set(ERR_ARG, "loihi2 sim: connection %d has no learning rule", conn);
    return 0;
}

int l2_sim_set_input(l2_sim *s, int pop, const int32_t *payload) {
    if (check_pop(s, pop)) return ERR_ARG;
    l2_pop_state *ps = &s->ps[pop];
    if (s->net->pops[pop].model != L2_INPUT)
        return err_set(ERR_ARG, "loihi2 sim: population %d is not a host input port", pop);
    int n = s->net->pops[pop].n;
    if (!payload) memset(ps->host_in, 0, (size_t)n * sizeof *ps->host_in);
    else
        for (int i = 0; i < n; i++) ps->host_in[i] = (int32_t)l2_clip64(payload[i], -L2_PAYLOAD_MAX, L2_PAYLOAD_MAX);
    ps->host_pending = 1;
    return 0;
}

int l2_sim_write_y(l2_sim *s, int conn, int k, const int32_t *vals) {
    if (check_conn(s, conn, 1)) return ERR_ARG;
    if (!s->net->conns[conn].d.three_factor)
        return err_set(ERR_ARG, "loihi2 sim: connection %d is not in three-factor mode", conn);
    if (k < 1 || k > 3 || !vals) return err_set(ERR_ARG, "loihi2 sim: y trace index %d outside 1..3", k);
    l2_conn_state *cs = &s->cs[conn];
    for (int i = 0; i < s->net->conns[conn].n_post; i++)
        cs->ywrite[k - 1][i] = (int32_t)l2_clip64(vals[i], 0, L2_TRACE_MAX);
    cs->ywrite_pending[k - 1] = 1;
    return 0;
}

// Counts `per_chunk(c)` into the counters of each core of population state ps.
static inline l2_counters *core_ctr(l2_sim *s, const l2_pop_state *ps, int chunk) {
    return &s->last[ps->core0 + chunk];
}

static void gather_inputs(l2_sim *s, int ci) {
    const l2_conn *c = &s->net->conns[ci];
    l2_conn_state *cs = &s->cs[ci];
    const l2_pop_state *sp = &s->ps[c->d.src];
    const int32_t *in = sp->out;   // (n_pre) arriving this step
    int d = c->d.delay;
    if (d > 0) in = cs->ring + (size_t)((((s->t - d) % (d + 1)) + (d + 1)) % (d + 1)) * c->n_pre;
    int n = 0, b = c->d.msg_bits;
    int32_t hi = b ? (int32_t)((1L << (b - 1)) - 1) : 1, lo = b ? -hi - 1 : 1;
    for (int j = 0; j < c->n_pre; j++) {
        int32_t p = in[j];
        if (!p) continue;
        cs->act_idx[n] = j;
        cs->act_val[n] = b ? (p > hi ? hi : p < lo ? lo : p) : 1;
        n++;
    }
    cs->n_act = n;
}

int l2_sim_step(l2_sim *s) {
    if (!s) return err_set(ERR_ARG, "loihi2 sim: NULL");
    const l2_net *net = s->net;
    s->t++;
    memset(s->last, 0, (size_t)s->map.n_cores * sizeof *s->last);

    // 1. neuron phase
    for (int p = 0; p < net->n_pops; p++) {
        const l2_pop_desc *d = &net->pops[p];
        l2_pop_state *ps = &s->ps[p];
        l2_neuron_step(d, ps);
        if (ps->core0 < 0) continue;
        for (int k = 0; k < ps->ncores; k++) {
            int i0 = k * ps->per_core, i1 = i0 + ps->per_core < d->n ? i0 + ps->per_core : d->n;
            int64_t sp = 0;
            for (int i = i0; i < i1; i++) sp += ps->out[i] != 0;
            l2_counters *ct = core_ctr(s, ps, k);
            ct->neuron_updates += i1 - i0;
            ct->spikes += sp;
            ct->timesteps = 1;
        }
    }
    // Axonal delay lines keep the last delay + 1 outputs of their source.
    for (int ci = 0; ci < net->n_conns; ci++) {
        const l2_conn *c = &net->conns[ci];
        if (c->d.delay == 0) continue;
        memcpy(s->cs[ci].ring + (size_t)(s->t % (c->d.delay + 1)) * c->n_pre, s->ps[c->d.src].out,
               (size_t)c->n_pre * sizeof(int32_t));
    }
    // 2. synaptic phase, 3. learning
    for (int ci = 0; ci < net->n_conns; ci++) {
        const l2_conn *c = &net->conns[ci];
        l2_conn_state *cs = &s->cs[ci];
        l2_pop_state *sp = &s->ps[c->d.src], *dp = &s->ps[c->d.dst];
        gather_inputs(s, ci);
        l2_synapse_deliver(c, cs, &s->opts, dp->acc[c->d.dst_port]);
        for (int k = 0; k < dp->ncores; k++) {
            int i0 = k * dp->per_core, i1 = i0 + dp->per_core < c->n_post ? i0 + dp->per_core : c->n_post;
            core_ctr(s, dp, k)->syn_ops += (int64_t)cs->n_act * (i1 - i0);
        }
        if (sp->core0 >= 0 && cs->n_act) {
            memset(cs->act_per_core, 0, (size_t)sp->ncores * sizeof *cs->act_per_core);
            for (int a = 0; a < cs->n_act; a++) cs->act_per_core[cs->act_idx[a] / sp->per_core]++;
            for (int k = 0; k < sp->ncores; k++) {
                l2_counters *ct = core_ctr(s, sp, k);
                ct->messages += cs->act_per_core[k] * dp->ncores;
                ct->mesh_hops += cs->act_per_core[k] * cs->hops_from_core[k];
            }
        }
        if (c->learning) {
            l2_learn_traces(s, ci);
            if (s->t % c->d.t_epoch == 0) l2_learn_epoch(s, ci);
        }
    }
    for (int k = 0; k < s->map.n_cores; k++) {
        l2_counters *a = &s->cum[k];
        const l2_counters *b = &s->last[k];
        a->syn_ops += b->syn_ops;
        a->neuron_updates += b->neuron_updates;
        a->spikes += b->spikes;
        a->messages += b->messages;
        a->mesh_hops += b->mesh_hops;
        a->learn_evals += b->learn_evals;
        a->weight_updates += b->weight_updates;
        a->timesteps += b->timesteps;
    }
    return 0;
}

int l2_sim_run(l2_sim *s, int steps) {
    for (int k = 0; k < steps; k++)
        if (l2_sim_step(s)) return ERR_ARG;
    return 0;
}

long l2_sim_time(const l2_sim *s) { return s ? s->t : 0; }

const int32_t *l2_sim_output(const l2_sim *s, int pop) { return check_pop(s, pop) ? NULL : s->ps[pop].out; }
const int32_t *l2_sim_v(const l2_sim *s, int pop) { return check_pop(s, pop) ? NULL : s->ps[pop].v; }
const int32_t *l2_sim_u(const l2_sim *s, int pop) { return check_pop(s, pop) ? NULL : s->ps[pop].u; }

const int32_t *l2_sim_probe(const l2_sim *s, int probe) {
    if (!s || probe < 0 || probe >= s->net->n_probes) {
        err_set(ERR_ARG, "loihi2 sim: probe %d not in the network", probe);
        return NULL;
    }
    const l2_probe *pr = &s->net->probes[probe];
    return pr->var == L2_PROBE_OUT ? s->ps[pr->pop].out : pr->var == L2_PROBE_V ? s->ps[pr->pop].v : s->ps[pr->pop].u;
}

int l2_sim_get_weights(const l2_sim *s, int conn, int32_t *w) {
    if (check_conn(s, conn, 0)) return ERR_ARG;
    const l2_conn *c = &s->net->conns[conn];
    for (int j = 0; j < c->n_pre; j++)
        for (int i = 0; i < c->n_post; i++) w[(size_t)i * c->n_pre + j] = s->cs[conn].w[(size_t)j * c->n_post + i];
    return 0;
}

int l2_sim_set_weights(l2_sim *s, int conn, const int32_t *w) {
    if (check_conn(s, conn, 0)) return ERR_ARG;
    const l2_conn *c = &s->net->conns[conn];
    l2_sign_mode m = c->d.sign_mode;
    int lo = m == L2_SIGN_EXC ? 0 : m == L2_SIGN_INH ? -255 : -256, hi = m == L2_SIGN_INH ? 0 : 255;
    for (size_t k = 0; k < (size_t)c->n_pre * c->n_post; k++)
        if (w[k] < lo || w[k] > hi)
            return err_set(ERR_RANGE, "loihi2 sim: connection %d: weight %d outside [%d, %d]", conn, (int)w[k], lo, hi);
    for (int j = 0; j < c->n_pre; j++)
        for (int i = 0; i < c->n_post; i++)
            s->cs[conn].w[(size_t)j * c->n_post + i] =
                (int16_t)l2_truncate_weight(w[(size_t)i * c->n_pre + j], m, c->d.num_weight_bits);
    return 0;
}

int l2_sim_get_trace(const l2_sim *s, int conn, int k, int32_t *out) {
    if (check_conn(s, conn, 1)) return ERR_ARG;
    if (k < 0 || k >= L2_N_TRACES) return err_set(ERR_ARG, "loihi2 sim: trace %d outside 0..4", k);
    const l2_conn *c = &s->net->conns[conn];
    const l2_conn_state *cs = &s->cs[conn];
    int n = k < L2_TR_Y1 ? c->n_pre : c->n_post;
    const uint8_t *v = k < L2_TR_Y1 ? cs->x[k] : cs->y[k - L2_TR_Y1];
    for (int i = 0; i < n; i++) out[i] = v[i];
    return 0;
}

int l2_sim_set_trace(l2_sim *s, int conn, int k, const int32_t *vals) {
    if (check_conn(s, conn, 1)) return ERR_ARG;
    if (k < 0 || k >= L2_N_TRACES) return err_set(ERR_ARG, "loihi2 sim: trace %d outside 0..4", k);
    const l2_conn *c = &s->net->conns[conn];
    l2_conn_state *cs = &s->cs[conn];
    int n = k < L2_TR_Y1 ? c->n_pre : c->n_post;
    uint8_t *v = k < L2_TR_Y1 ? cs->x[k] : cs->y[k - L2_TR_Y1];
    for (int i = 0; i < n; i++) v[i] = (uint8_t)l2_clip64(vals[i], 0, L2_TRACE_MAX);
    return 0;
}

int l2_sim_get_tags(const l2_sim *s, int conn, int32_t *d, int32_t *t) {
    if (check_conn(s, conn, 1)) return ERR_ARG;
    const l2_conn *c = &s->net->conns[conn];
    const l2_conn_state *cs = &s->cs[conn];
    for (int j = 0; j < c->n_pre; j++)
        for (int i = 0; i < c->n_post; i++) {
            size_t k = (size_t)j * c->n_post + i, o = (size_t)i * c->n_pre + j;
            if (d) d[o] = cs->tag_d ? cs->tag_d[k] : 0;
            if (t) t[o] = cs->tag_t ? cs->tag_t[k] : 0;
        }
    return 0;
}

int l2_sim_conn_lowered(const l2_sim *s, int conn) {
    return check_conn(s, conn, 0) ? 0 : s->cs[conn].lowered;
}

const l2_mapping *l2_sim_mapping(const l2_sim *s) { return &s->map; }

const l2_counters *l2_sim_core_counters(const l2_sim *s, int core, int last_step) {
    if (!s || core < 0 || core >= s->map.n_cores) return NULL;
    return last_step ? &s->last[core] : &s->cum[core];
}

void l2_sim_total_counters(const l2_sim *s, l2_counters *tot, int last_step) {
    memset(tot, 0, sizeof *tot);
    for (int k = 0; k < s->map.n_cores; k++) {
        const l2_counters *b = last_step ? &s->last[k] : &s->cum[k];
        tot->syn_ops += b->syn_ops;
        tot->neuron_updates += b->neuron_updates;
        tot->spikes += b->spikes;
        tot->messages += b->messages;
        tot->mesh_hops += b->mesh_hops;
        tot->learn_evals += b->learn_evals;
        tot->weight_updates += b->weight_updates;
        if (b->timesteps > tot->timesteps) tot->timesteps = b->timesteps;
    }
}
