// l2row — the quantized linear-attention decoder mapped onto the Loihi 2 emulator: the
// `loihi2-emu` row (the paper's "Lava"; the cost model stands in for "Loihi").
//
// The network (per layer l; H heads of head_dim; populations are graded units unless said):
//   host ports   X0 (d_model) token embedding (layer 0's X), ONE (1) bias source = FQ_ONE,
//                NM (L) 1/n multipliers, WE (L, R) write gains per replica (cg for the replica
//                this support writes, t mod R; 0 for the others and for a query), CG (L) value gains.
//   Qp, Kp       ReLU of W_q X, W_k X — the query and key for the self term
//   V            W_v X (identity)
//   P_h          ReLU unit receiving W_q X (delay 0) and W_k X (delay 2): it emits the query,
//                then two steps later the key, into the plastic synapses of head h
//   A+_h, A-_h   ReLU units (R hd each: one block of hd per replica r, see quant.h "Context
//                sharding"), post of the plastic connections P_h -> A±_h ((R hd) x hd synapses:
//                rows r hd .. r hd + hd − 1 are replica r's)
//                (learning-dense, weights 0 at the start of each episode, rule L2ROW_RULE,
//                excitatory 8-bit weights 0..255, graded keys OVERWRITE x1, tau 0 everywhere,
//                three-factor with y2 written by the post neuron's own payload each step).
//                A± also receive ±G_r (head h, block r) so they emit the value's positive /
//                negative part on the key's step: signed values split into two populations.
//                Only the written replica's block gets a nonzero G_r, so only its y2 is nonzero
//                and only its rows learn (dw = x1 y2 >> 3 is 0 elsewhere).
//   E (product)  (Kp · Qp) >> 1;  S (H units) per-head sums of E — S = φ(k)·φ(q)
//   G (product)  (R d units) G_r = (V · WE[l R + r] + 128) >> 8 — the value written into replica
//                r (0 for the other replicas and for queries: queries are read-only); rounds
//   VC (product) (V · CG + 128) >> 8 — the value of the self term; rounds
//   F (product)  (S · VC) >> 3 — the token's own contribution (the token sees itself)
//   Z (product)  ((Σ_r (A+_r − A−_r) + F) · NM) >> pz — attention output scaled by 1/(head_dim n);
//                NM arrives on one step only, so Z also gates out A±'s other outputs
//   Y            W_o Z + X;   Hd (ReLU) W_1 Y + b_1;   X' = W_2 Hd + Y + b_2 (next layer's X)
//   LOG          W_out X_L + b_out, read by the host.
// Biases are connections from ONE; the host ports emit once per token and every connection
// from them carries the delay that brings the value to its stage on time.
//
// Schedule (tested in tests/test_l2row.c). The host sets all ports before step s0 (the ports
// emit at s0). Layer l's X emits at b = s0 + 8 l; then
//   b+1  Qp, Kp, V emit; P emits the query — it crosses the plastic synapses (x1 = q/2, but y2 = 0)
//   b+2  A± emit the read Σ_j W±_ij q_j with W as before this token; E, G, VC emit
//   b+3  P emits the key (x1 = k/2), A± emit v± (y2 = v± clipped to 7 bits), S emits;
//        b+3 ≡ 0 (mod t_epoch = 8): the learning phase writes W± += (x1 y2) >> 3 on this step
//        (u0 = 1 every epoch); the key also crosses the synapses, giving A± an output on b+4
//        that no one samples (Z's NM input is 0 then) and that meets x1 = 0 (no learning).
//   b+4  F emits;  b+5 Z;  b+6 Y;  b+7 Hd;  b+8 X' (= next layer's b).
// LOG emits at s0 + 8 L + 1 (the latency); a token takes stride = 8 (L + 1) steps, so s0 ≡ 5
// (mod 8) for every token and the write of layer l lands 8 steps (one epoch) before the next
// token's layer-l query. Learning phases run every 8 steps on every plastic connection; only
// the ones on a key step change weights. With tau = 0 and the product's shifted value a
// multiple of 128 in the accumulator, the stochastic rounding never draws a difference: the
// emulator is deterministic here and equals fw-quant bit for bit.
#include "kernels/l2row.h"
#include "kernels/err.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void l2row_map_free(l2row_map *m) {
    if (m->net) l2_net_free(m->net);
    m->net = NULL;
}

typedef struct {
    l2_net *net;
    int32_t *w;   // scratch weights, (max_n, max_n)
    int rc;
} bld;

static int pop(bld *b, l2_model model, int n, int relu, const char *name) {
    if (b->rc) return -1;
    l2_pop_desc d;
    l2_pop_desc_init(&d, model, n);
    d.relu = relu;
    d.threshold = 0;
    snprintf(d.name, sizeof d.name, "%s", name);
    int id = -1;
    b->rc = l2_net_add_pop(b->net, &d, &id);
    return id;
}

static int product(bld *b, int n, int prod_exp, int round, const char *name) {
    if (b->rc) return -1;
    l2_pop_desc d;
    l2_pop_desc_init(&d, L2_PRODUCT, n);
    d.prod_exp = prod_exp;
    d.prod_round = round;
    snprintf(d.name, sizeof d.name, "%s", name);
    int id = -1;
    b->rc = l2_net_add_pop(b->net, &d, &id);
    return id;
}

static int conn(bld *b, int src, int dst, int port, l2_sign_mode mode, int wexp, int msg, int delay,
                const int32_t *w) {
    if (b->rc) return -1;
    l2_conn_desc d;
    l2_conn_desc_init(&d, src, dst, w);
    d.dst_port = port;
    d.sign_mode = mode;
    d.num_weight_bits = 8;
    d.weight_exp = wexp;
    d.msg_bits = msg;
    d.delay = delay;
    int id = -1;
    b->rc = l2_net_add_conn(b->net, &d, &id);
    return id;
}

// Dense graded connection from a quantized matrix (rows r0..r0+n), mixed 8-bit weights 2m.
static void mat(bld *b, int src, int dst, const fq_mat *m, int r0, int n, int delay, int msg) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m->cols; j++) b->w[(size_t)i * m->cols + j] = 2 * m->m[(size_t)(r0 + i) * m->cols + j];
    conn(b, src, dst, 0, L2_SIGN_MIXED, m->e, msg, delay, b->w);
}

// Bias: from ONE (1 neuron) with the mantissas of B.
static void bias(bld *b, int one, int dst, const fq_mat *B, int delay) {
    for (int i = 0; i < B->rows; i++) b->w[i] = 2 * B->m[i];
    conn(b, one, dst, 0, L2_SIGN_MIXED, B->e, 24, delay, b->w);
}

// Selection connection: weight s (+1 or -1) from src neuron sel(i) to dst neuron i (sel < 0: none).
typedef int (*sel_fn)(int i, int a);
static int sel_id(int i, int a) { return i + a; }           // a = offset into src
static int sel_head(int i, int a) { return i / a; }         // a = head_dim: broadcast per head
static int sel_const(int i, int a) { (void)i; return a; }   // a = the source neuron
static int sel_mod(int i, int a) { return i % a; }          // a = d_model: V to every replica of G
static void sel(bld *b, int src, int n_src, int dst, int n_dst, int port, int s, int delay, int msg,
                sel_fn f, int a) {
    memset(b->w, 0, (size_t)n_dst * n_src * sizeof *b->w);
    for (int i = 0; i < n_dst; i++) b->w[(size_t)i * n_src + f(i, a)] = s;
    conn(b, src, dst, port, s > 0 ? L2_SIGN_EXC : L2_SIGN_INH, 0, msg, delay, b->w);
}
// Head sums: dst neuron h sums src neurons h*hd .. h*hd+hd-1.
static void head_sum(bld *b, int src, int n_src, int dst, int H, int hd, int delay) {
    memset(b->w, 0, (size_t)H * n_src * sizeof *b->w);
    for (int h = 0; h < H; h++)
        for (int j = 0; j < hd; j++) b->w[(size_t)h * n_src + h * hd + j] = 1;
    conn(b, src, dst, 0, L2_SIGN_EXC, 0, 24, delay, b->w);
}

int l2row_build(const fq_model *q, const char *rule, l2row_map *out) { return l2row_build_r(q, rule, 1, out); }

int l2row_build_r(const fq_model *q, const char *rule, int R, l2row_map *out) {
    const tf_config *c = &q->cfg;
    const int L = c->n_layers, H = c->n_heads, hd = tf_head_dim(c), d = c->d_model, f = c->d_ff;
    memset(out, 0, sizeof *out);
    if (L > FQ_MAX_LAYERS || H > L2ROW_MAX_HEADS)
        return err_set(ERR_ARG, "loihi2-emu: %d layers / %d heads exceed the mapping's %d / %d", L, H, FQ_MAX_LAYERS, L2ROW_MAX_HEADS);
    if (R < 1 || R > FQ_MAX_REPL) return err_set(ERR_ARG, "loihi2-emu: %d replicas, 1..%d", R, FQ_MAX_REPL);
    int maxn = d > f ? d : f;
    maxn = maxn > c->n_labels ? maxn : c->n_labels;
    // scratch: the largest weight matrix (G's inputs from V or WE, G -> A± is (R hd, R d))
    size_t nscr = (size_t)maxn * maxn, ng = (size_t)R * d * (d > L * R ? d : L * R), na = (size_t)R * hd * R * d;
    ng = ng > na ? ng : na;
    bld b = {l2_net_new(), malloc((nscr > ng ? nscr : ng) * sizeof(int32_t)), 0};
    if (!b.net || !b.w) {
        if (b.net) l2_net_free(b.net);
        free(b.w);
        return err_set(ERR_NOMEM, "loihi2-emu: out of memory building the network");
    }
    out->net = b.net;
    out->n_layers = L;
    out->n_heads = H;
    out->head_dim = hd;
    out->replicas = R;
    out->latency = L2ROW_PERIOD * L + 1;
    out->stride = L2ROW_PERIOD * (L + 1);
    out->pop_x0 = pop(&b, L2_INPUT, d, 0, "X0");
    out->pop_one = pop(&b, L2_INPUT, 1, 0, "ONE");
    out->pop_nm = pop(&b, L2_INPUT, L, 0, "NM");
    out->pop_we = pop(&b, L2_INPUT, L * R, 0, "WE");
    out->pop_cg = pop(&b, L2_INPUT, L, 0, "CG");
    int X = out->pop_x0;
    char nm[L2_NAME_MAX];
    for (int l = 0; l < L && !b.rc; l++) {
        const int t0 = L2ROW_PERIOD * l;   // step of X relative to s0; a population emitting at
        // step T fed by a source emitting at step S needs delay T - 1 - S.
#define NAME(s) (snprintf(nm, sizeof nm, "%s%d", s, l), nm)
        int Qp = pop(&b, L2_GRADED, d, 1, NAME("Qp")), Kp = pop(&b, L2_GRADED, d, 1, NAME("Kp"));
        int V = pop(&b, L2_GRADED, d, 0, NAME("V"));
        mat(&b, X, Qp, &q->wq[l], 0, d, 0, 24);
        mat(&b, X, Kp, &q->wk[l], 0, d, 0, 24);
        mat(&b, X, V, &q->wv[l], 0, d, 0, 24);
        int E = product(&b, d, FQ_E1, 0, NAME("E")), G = product(&b, R * d, FQ_GAIN_SHIFT, 1, NAME("G"));
        int VC = product(&b, d, FQ_GAIN_SHIFT, 1, NAME("VC")), S = pop(&b, L2_GRADED, H, 0, NAME("S"));
        int F = product(&b, d, FQ_E2, 0, NAME("F")), Z = product(&b, d, q->pz[l], 0, NAME("Z"));
        sel(&b, Kp, d, E, d, 0, 1, 0, 8, sel_id, 0);              // keys and queries: 8-bit messages
        sel(&b, Qp, d, E, d, 1, 1, 0, 8, sel_id, 0);
        sel(&b, V, d, G, R * d, 0, 1, 0, 24, sel_mod, d);        // G_r = (V WE[l R + r] + 128) >> 8
        memset(b.w, 0, (size_t)R * d * L * R * sizeof *b.w);      // WE[l R + r] to G_r's d units
        for (int i = 0; i < R * d; i++) b.w[(size_t)i * L * R + l * R + i / d] = 1;
        conn(&b, out->pop_we, G, 1, L2_SIGN_EXC, 0, 24, t0 + 1, b.w);
        sel(&b, V, d, VC, d, 0, 1, 0, 24, sel_id, 0);
        sel(&b, out->pop_cg, L, VC, d, 1, 1, t0 + 1, 24, sel_const, l);
        head_sum(&b, E, d, S, H, hd, 0);
        sel(&b, S, H, F, d, 0, 1, 0, 24, sel_head, hd);
        sel(&b, VC, d, F, d, 1, 1, 1, 8, sel_id, 0);              // VC (t0+2) -> F (t0+4)
        for (int h = 0; h < H && !b.rc; h++) {
            snprintf(nm, sizeof nm, "P%d_%d", l, h);
            int P = pop(&b, L2_GRADED, hd, 1, nm);
            mat(&b, X, P, &q->wq[l], h * hd, hd, 0, 24);          // query at t0+1
            mat(&b, X, P, &q->wk[l], h * hd, hd, 2, 24);          // key at t0+3
            for (int s = 0; s < 2 && !b.rc; s++) {
                snprintf(nm, sizeof nm, "A%c%d_%d", s ? '-' : '+', l, h);
                int A = pop(&b, L2_GRADED, R * hd, 1, nm);          // (R, hd): one block per replica
                // value part: +G_r for A+, -G_r for A- (head h's block), arrives t0+2, emitted t0+3
                memset(b.w, 0, (size_t)R * hd * R * d * sizeof *b.w);
                for (int r = 0; r < R; r++)
                    for (int i = 0; i < hd; i++) b.w[(size_t)(r * hd + i) * R * d + r * d + h * hd + i] = s ? -1 : 1;
                conn(&b, G, A, 0, s ? L2_SIGN_INH : L2_SIGN_EXC, 0, 24, 0, b.w);
                // The plastic synapses of all R replicas: rows r hd .. r hd + hd - 1 are replica r.
                // Only the written replica's post neurons emit a value (y2 > 0) on the key step.
                l2_conn_desc cd;
                memset(b.w, 0, (size_t)R * hd * hd * sizeof *b.w);
                l2_conn_desc_init(&cd, P, A, b.w);
                cd.sign_mode = L2_SIGN_EXC;
                cd.num_weight_bits = 8;
                cd.msg_bits = 8;
                cd.rule = rule ? rule : L2ROW_RULE;
                cd.t_epoch = L2ROW_PERIOD;
                cd.graded_mode = L2_GT_OVERWRITE;
                cd.three_factor = 1;
                cd.y_from_post = 2;
                if (!b.rc) b.rc = l2_net_add_conn(b.net, &cd, &out->plastic[l][h][s]);
                // the read (t0+2) into Z (t0+5): A+ adds, A- subtracts; Z sums the R replicas
                memset(b.w, 0, (size_t)d * R * hd * sizeof *b.w);
                for (int r = 0; r < R; r++)
                    for (int i = 0; i < hd; i++) b.w[(size_t)(h * hd + i) * R * hd + r * hd + i] = s ? -1 : 1;
                conn(&b, A, Z, 0, s ? L2_SIGN_INH : L2_SIGN_EXC, 0, 24, 2, b.w);
            }
        }
        sel(&b, F, d, Z, d, 0, 1, 0, 24, sel_id, 0);
        sel(&b, out->pop_nm, L, Z, d, 1, 1, t0 + 4, 24, sel_const, l);
        int Y = pop(&b, L2_GRADED, d, 0, NAME("Y"));
        mat(&b, Z, Y, &q->wo[l], 0, d, 0, 24);
        sel(&b, X, d, Y, d, 0, 1, 5, 24, sel_id, 0);             // residual: X (t0) -> Y (t0+6)
        int Hd = pop(&b, L2_GRADED, f, 1, NAME("H"));
        mat(&b, Y, Hd, &q->w1[l], 0, f, 0, 24);
        bias(&b, out->pop_one, Hd, &q->b1[l], t0 + 6);
        int X2 = pop(&b, L2_GRADED, d, 0, NAME("X"));
        mat(&b, Hd, X2, &q->w2[l], 0, d, 0, 24);
        sel(&b, Y, d, X2, d, 0, 1, 1, 24, sel_id, 0);             // residual: Y (t0+6) -> X' (t0+8)
        bias(&b, out->pop_one, X2, &q->b2[l], t0 + 7);
        X = X2;
#undef NAME
    }
    out->pop_log = pop(&b, L2_GRADED, c->n_labels, 0, "LOG");
    mat(&b, X, out->pop_log, &q->wout, 0, c->n_labels, 0, 24);
    bias(&b, out->pop_one, out->pop_log, &q->bout, L2ROW_PERIOD * L);
    free(b.w);
    if (b.rc) {
        int rc = b.rc;
        l2row_map_free(out);
        return err_wrap(rc, "loihi2-emu: building the network");
    }
    return 0;
}

// ---------------------------------------------------------------- the row ---------------

typedef struct {
    l2row_map map;
    l2_sim *sim;
    l2_cost_params cost;
    int32_t *x0, *zeros, *port;   // (d_model), (R head_dim^2), (n_layers R)
    float *xf;                    // (d_model)
    int cg[FQ_MAX_LAYERS];
    int n_ctx;
    l2row_stats st;
} l2row_state;

static void l2r_destroy(dec_row *r) {
    l2row_state *s = r->state;
    if (!s) return;
    if (s->sim) l2_sim_free(s->sim);
    l2row_map_free(&s->map);
    free(s->x0); free(s->zeros); free(s->port); free(s->xf);
    free(s);
    r->state = NULL;
}

static int l2r_create(dec_row *r, int max_ctx) {
    const fq_model *q = r->aux;
    if (!q) return err_set(ERR_ARG, "loihi2-emu needs a quantized model: run neuroicl quantize --model FILE and pass --model FILE");
    const tf_config *c = r->cfg;
    if (q->cfg.d_model != c->d_model || q->cfg.n_layers != c->n_layers || q->cfg.d_ff != c->d_ff)
        return err_set(ERR_ARG, "loihi2-emu: the quantized model does not match the decoder");
    l2row_state *s = calloc(1, sizeof *s);
    if (!s) return err_set(ERR_NOMEM, "out of memory for the loihi2-emu state");
    r->state = s;
    const int R = fq_replicas(max_ctx);
    int rc = l2row_build_r(q, q->emu_rule, R, &s->map);
    if (rc) { l2r_destroy(r); return rc; }
    l2_sim_opts o;
    l2_sim_opts_default(&o);
    if ((rc = l2_sim_new(s->map.net, NULL, &o, &s->sim))) { l2r_destroy(r); return err_wrap(rc, "loihi2-emu"); }
    l2_cost_default(&s->cost);
    const int hd = tf_head_dim(c);
    s->x0 = malloc((size_t)c->d_model * sizeof(int32_t));
    s->zeros = calloc((size_t)R * hd * hd, sizeof(int32_t));
    s->port = malloc((size_t)c->n_layers * R * sizeof(int32_t));
    s->xf = malloc((size_t)c->d_model * sizeof(float));
    if (!s->x0 || !s->zeros || !s->port || !s->xf) { l2r_destroy(r); return err_set(ERR_NOMEM, "out of memory for the loihi2-emu state"); }
    for (int l = 0; l < c->n_layers; l++) s->cg[l] = fq_write_gain(q, l, fq_repl_ctx(max_ctx, R));
    const l2_mapping *mp = l2_sim_mapping(s->sim);
    s->st.cores = mp->n_cores;
    s->st.chips = mp->n_chips;
    // Idle until the next step is ≡ 5 (mod 8): the first token's s0.
    while ((l2_sim_time(s->sim) + 1) % L2ROW_PERIOD != 5)
        if ((rc = l2_sim_step(s->sim))) { l2r_destroy(r); return rc; }
    return 0;
}

static void l2r_reset(dec_row *r) {
    l2row_state *s = r->state;
    // New episode: the plastic weights start at 0 (the pipeline is empty between tokens).
    for (int l = 0; l < s->map.n_layers; l++)
        for (int h = 0; h < s->map.n_heads; h++)
            for (int k = 0; k < 2; k++) l2_sim_set_weights(s->sim, s->map.plastic[l][h][k], s->zeros);
    s->n_ctx = 0;
}

static int l2r_step(dec_row *r, const float *e, int label, float *logits, dec_traffic *tr) {
    const fq_model *q = r->aux;
    const tf_config *c = r->cfg;
    l2row_state *s = r->state;
    const int L = c->n_layers, support = label >= 0, kind = support ? 0 : 1;
    (void)tr;  // the CPU reads nothing of the model: the counts are the emulator's (l2row_stats)
    int rc = 0;
    fq_token_input(q, e, label, s->xf, s->x0);
    int32_t one = FQ_ONE;
    rc |= l2_sim_set_input(s->sim, s->map.pop_x0, s->x0);
    rc |= l2_sim_set_input(s->sim, s->map.pop_one, &one);
    for (int l = 0; l < L; l++) s->port[l] = fq_nm(q, l, s->n_ctx + 1, s->cg[l]);
    rc |= l2_sim_set_input(s->sim, s->map.pop_nm, s->port);
    const int R = s->map.replicas, rw = s->n_ctx % R;   // a support writes replica n_ctx mod R
    for (int l = 0; l < L; l++)
        for (int r = 0; r < R; r++) s->port[l * R + r] = support && r == rw ? s->cg[l] : 0;
    rc |= l2_sim_set_input(s->sim, s->map.pop_we, s->port);
    rc |= l2_sim_set_input(s->sim, s->map.pop_cg, s->cg);
    if (rc) return err_wrap(ERR_ARG, "loihi2-emu: host input");
    l2_counters before, after;
    l2_sim_total_counters(s->sim, &before, 0);
    l2_cost_estimate est = {0};
    for (int k = 1; k <= s->map.stride; k++) {   // step k of the token is s0 + k - 1
        if ((rc = l2_sim_step(s->sim))) return rc;
        l2_cost_add_step(&s->cost, s->sim, &est);
        if (k == s->map.latency + 1 && !support) {
            const int32_t *out = l2_sim_output(s->sim, s->map.pop_log);
            for (int i = 0; i < c->n_labels; i++) logits[i] = fq_logit(q, out[i]);
        }
    }
    l2_sim_total_counters(s->sim, &after, 0);
    l2_counters *t = &s->st.ctr[kind];
    t->syn_ops += after.syn_ops - before.syn_ops;
    t->neuron_updates += after.neuron_updates - before.neuron_updates;
    t->spikes += after.spikes - before.spikes;
    t->messages += after.messages - before.messages;
    t->mesh_hops += after.mesh_hops - before.mesh_hops;
    t->learn_evals += after.learn_evals - before.learn_evals;
    t->weight_updates += after.weight_updates - before.weight_updates;
    t->timesteps += s->map.stride;
    s->st.tokens[kind]++;
    s->st.energy_j[kind] += est.energy_j_modelled;
    s->st.time_s[kind] += est.time_s_modelled;
    if (support) s->n_ctx++;
    return 0;
}

int l2row_get_stats(const dec_row *r, l2row_stats *out) {
    if (!r || r->ops != &loihi2_emu_ops || !r->state) return err_set(ERR_ARG, "not an open loihi2-emu row");
    *out = ((const l2row_state *)r->state)->st;
    return 0;
}
l2_sim *l2row_sim(const dec_row *r) {
    return r && r->ops == &loihi2_emu_ops && r->state ? ((l2row_state *)r->state)->sim : NULL;
}
const l2row_map *l2row_get_map(const dec_row *r) {
    return r && r->ops == &loihi2_emu_ops && r->state ? &((l2row_state *)r->state)->map : NULL;
}

const dec_ops loihi2_emu_ops = {"loihi2-emu", TF_LINEAR, l2r_create, l2r_reset, l2r_step, l2r_destroy,
                                .traffic_not_counted = 1};
