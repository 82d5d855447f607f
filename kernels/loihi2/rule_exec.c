// Executing a parsed rule in the learning phase: the general interpreter (any rule, synapse by
// synapse) and a lowered kernel for the common outer-product shape
//     dw = sum_p S_p * uK * [x-trace] * [y-trace] * [w]      (no constants, no sgn)
// e.g. S*u0*x1*y2 - S2*u0*w, which runs row by row over contiguous synapses and vectorises.
// Both do exactly the same integer operations in the same order per synapse, so they give
// bit-identical weights (tests/test_loihi2_learn.c checks this on random rules and traces).
//
// Per synapse and target (LOIHI2.md "Update arithmetic", Lava connection.py +
// learning_rule_applier.py): acc = var << 7; per product: multiply the dependency and the factors
// (each clipped to its signed width), the mantissa; arithmetic right shift by
// max(0, sum widths + 4 - 15) (switch); shift left by exp + 7; clip to 16 bits; add and clip.
// Then sign-mode clamp, stochastic rounding back to the variable's width, saturation.
#include "kernels/loihi2/internal.h"

#define W_TRACE 7
#define W_SYNVAR 9
#define W_CONST 8
#define W_MANT 4
#define W_ACC_U 15

typedef struct {
    int64_t dep[3];           // value of x0, y0, u for this synapse
    int time[3];              // within-epoch step at which traces are read for each dependency
} syn_dep;

static int factor_width(l2_fvar v) {
    switch (v) {
    case L2_F_X0: case L2_F_Y0: return 1;
    case L2_F_W: case L2_F_D: case L2_F_T: return W_SYNVAR;
    case L2_F_C: return W_CONST;
    default: return W_TRACE;
    }
}

// m * 2^s clipped to the 16-bit accumulator range, without overflowing for any m.
static inline int64_t shl_clip(int64_t m, int s) {
    if (m > (L2_ACC_MAX >> s)) return L2_ACC_MAX;
    if (m < -((int64_t)(-L2_ACC_MIN) >> s)) return L2_ACC_MIN;
    return m * ((int64_t)1 << s);
}

// Rounds acc (on the 16-bit scale) back to the variable: floor(acc / 128) + (r7 < acc mod 128).
static inline int32_t sround(int32_t acc, uint32_t r7) {
    return (acc >> L2_ACC_SHIFT) + ((uint32_t)(acc & 127) > r7);
}

typedef struct {
    const l2_conn *c;
    const l2_conn_state *cs;
    int i, j;                 // post, pre
    int32_t w, d, t;          // synaptic variables before this phase
    syn_dep sd;
    int product_shift;
} syn_ctx;

static int64_t factor_value(const l2_factor *f, const syn_ctx *x, int time) {
    const l2_conn *c = x->c;
    const l2_conn_state *cs = x->cs;
    int64_t v;
    switch (f->var) {
    case L2_F_X0: v = x->sd.dep[L2_DEP_X0]; break;
    case L2_F_Y0: v = x->sd.dep[L2_DEP_Y0]; break;
    case L2_F_X1: case L2_F_X2:
        v = cs->xh[((size_t)time * 2 + (f->var - L2_F_X1)) * c->n_pre + x->j]; break;
    case L2_F_Y1: case L2_F_Y2: case L2_F_Y3:
        v = cs->yh[((size_t)time * 3 + (f->var - L2_F_Y1)) * c->n_post + x->i]; break;
    case L2_F_W: v = x->w; break;
    case L2_F_D: v = x->d; break;
    case L2_F_T: v = x->t; break;
    default: v = 0; break;   // L2_F_C: the constant alone
    }
    v += f->c;
    if (f->sgn) v = (v > 0) - (v < 0);
    int wd = factor_width(f->var);
    return l2_clip64(v, -((int64_t)1 << wd), ((int64_t)1 << wd) - 1);
}

static int32_t eval_target(const l2_rule *r, l2_target tg, int32_t var, const syn_ctx *x) {
    int64_t acc = (int64_t)var * (1 << L2_ACC_SHIFT);
    for (int p = 0; p < r->n_products[tg]; p++) {
        const l2_product *pr = &r->p[tg][p];
        int64_t m = x->sd.dep[pr->dep];
        if (m == 0) continue;   // product gated off: contributes exactly 0
        int time = x->sd.time[pr->dep];
        int widths = W_MANT;
        for (int f = 0; f < pr->n_factors; f++) {
            m *= factor_value(&pr->f[f], x, time);
            widths += factor_width(pr->f[f].var);
        }
        m *= pr->mant;
        if (x->product_shift && widths > W_ACC_U) m >>= widths - W_ACC_U;
        m = shl_clip(m, pr->exp + 7);
        acc = l2_clip64(acc + m, L2_ACC_MIN, L2_ACC_MAX);
    }
    return (int32_t)acc;
}

static int32_t finish(l2_target tg, int32_t acc, uint32_t r7, l2_sign_mode mode) {
    if (tg == L2_TGT_W) {
        if (mode == L2_SIGN_EXC && acc < 0) acc = 0;
        if (mode == L2_SIGN_INH && acc > 0) acc = 0;
    } else if (tg == L2_TGT_D && acc < 0) {
        acc = 0;
    }
    int32_t q = sround(acc, r7);
    int lo, hi;
    if (tg == L2_TGT_W) {
        lo = mode == L2_SIGN_EXC ? 0 : mode == L2_SIGN_INH ? -255 : -256;
        hi = mode == L2_SIGN_INH ? 0 : 255;
    } else if (tg == L2_TGT_D) {
        lo = 0; hi = 255;
    } else {
        lo = -256; hi = 255;
    }
    return q < lo ? lo : q > hi ? hi : q;
}

int l2_learn_can_lower(const l2_rule *r, const l2_sim_opts *o) {
    if (o->force_interpreter || o->sr_per_synapse) return 0;
    if (!r->present[L2_TGT_W] || r->present[L2_TGT_D] || r->present[L2_TGT_T]) return 0;
    if (r->n_products[L2_TGT_W] > 8) return 0;
    for (int p = 0; p < r->n_products[L2_TGT_W]; p++) {
        const l2_product *pr = &r->p[L2_TGT_W][p];
        if (pr->dep != L2_DEP_U) return 0;
        int nx = 0, ny = 0, nw = 0;
        for (int f = 0; f < pr->n_factors; f++) {
            const l2_factor *fa = &pr->f[f];
            if (fa->c || fa->sgn) return 0;
            if (fa->var == L2_F_X1 || fa->var == L2_F_X2) nx++;
            else if (fa->var >= L2_F_Y1 && fa->var <= L2_F_Y3) ny++;
            else if (fa->var == L2_F_W) nw++;
            else return 0;
        }
        if (nx > 1 || ny > 1 || nw > 1) return 0;
    }
    return 1;
}

// Counts into the per-core counters of the post neurons [i0, i1).
static void count_core(l2_sim *s, const l2_pop_state *dp, int i0, int i1, int64_t evals, int64_t upd) {
    int core = dp->core0 + i0 / dp->per_core;
    if (core < 0 || core >= s->map.n_cores) return;
    (void)i1;
    s->last[core].learn_evals += evals;
    s->last[core].weight_updates += upd;
}

static void run_lowered(l2_sim *s, int ci, int64_t u, uint32_t r7) {
    const l2_conn *c = &s->net->conns[ci];
    l2_conn_state *cs = &s->cs[ci];
    const l2_rule *r = &c->rule;
    const l2_pop_state *dp = &s->ps[c->d.dst];
    int n_pre = c->n_pre, n_post = c->n_post, te = c->d.t_epoch;
    int np = r->n_products[L2_TGT_W];
    // Per product: which x trace (or none), y values (or ones), w (or ones), shifts.
    int xk[8], sh[8], ls[8], hasw[8];
    const int32_t *yv[8];
    for (int p = 0; p < np; p++) {
        const l2_product *pr = &r->p[L2_TGT_W][p];
        int widths = W_MANT, yk = -1;
        xk[p] = -1;
        hasw[p] = 0;
        for (int f = 0; f < pr->n_factors; f++) {
            l2_fvar v = pr->f[f].var;
            widths += factor_width(v);
            if (v == L2_F_X1 || v == L2_F_X2) xk[p] = v - L2_F_X1;
            else if (v == L2_F_W) hasw[p] = 1;
            else yk = v - L2_F_Y1;
        }
        sh[p] = s->opts.product_shift && widths > W_ACC_U ? widths - W_ACC_U : 0;
        ls[p] = pr->exp + 7;
        if (yk >= 0) {
            int32_t *buf = cs->ybuf + (size_t)p * n_post;   // (n_post) y at epoch end
            const uint8_t *yh = cs->yh + ((size_t)te * 3 + yk) * n_post;
            for (int i = 0; i < n_post; i++) buf[i] = yh[i];
            yv[p] = buf;
        } else {
            yv[p] = cs->ones32;
        }
    }
    int lo = c->d.sign_mode == L2_SIGN_EXC ? 0 : c->d.sign_mode == L2_SIGN_INH ? -255 : -256;
    int hi = c->d.sign_mode == L2_SIGN_INH ? 0 : 255;
    int alo = c->d.sign_mode == L2_SIGN_EXC ? 0 : L2_ACC_MIN;   // sign-mode clamp of the acc
    int ahi = c->d.sign_mode == L2_SIGN_INH ? 0 : L2_ACC_MAX;
    int32_t *acc = cs->lacc;   // (n_post)
    for (int j = 0; j < n_pre; j++) {
        int16_t *restrict wr = cs->w + (size_t)j * n_post;   // (n_post) synapses of axon j
        for (int i = 0; i < n_post; i++) acc[i] = wr[i] * (1 << L2_ACC_SHIFT);
        for (int p = 0; p < np; p++) {
            int32_t xf = (int32_t)u * r->p[L2_TGT_W][p].mant;
            if (xk[p] >= 0) xf *= cs->xh[((size_t)te * 2 + xk[p]) * n_pre + j];
            if (xf == 0) continue;
            const int32_t *restrict y = yv[p];
            const int16_t *restrict wv = hasw[p] ? wr : cs->ones16;
            int shr = sh[p], shl = ls[p];
            int32_t mhi = L2_ACC_MAX >> shl, mlo = -((-L2_ACC_MIN) >> shl);
            for (int i = 0; i < n_post; i++) {
                int32_t m = (xf * y[i] * wv[i]) >> shr;
                m = m > mhi ? L2_ACC_MAX : m < mlo ? L2_ACC_MIN : m * (1 << shl);
                int32_t a = acc[i] + m;
                acc[i] = a > L2_ACC_MAX ? L2_ACC_MAX : a < L2_ACC_MIN ? L2_ACC_MIN : a;
            }
        }
        // Finish per core so the weight-update counters land on the core holding the synapses.
        for (int i0 = 0; i0 < n_post; i0 += dp->per_core) {
            int i1 = i0 + dp->per_core < n_post ? i0 + dp->per_core : n_post;
            int changed = 0;   // int, not int64: keeps the loop in 32-bit lanes
            for (int i = i0; i < i1; i++) {
                int32_t a = acc[i];
                a = a < alo ? alo : a > ahi ? ahi : a;
                int32_t q = (a >> L2_ACC_SHIFT) + ((uint32_t)(a & 127) > r7);
                q = q < lo ? lo : q > hi ? hi : q;
                changed += q != wr[i];
                wr[i] = (int16_t)q;
            }
            count_core(s, dp, i0, i1, i1 - i0, changed);
        }
    }
}

static void run_interpreter(l2_sim *s, int ci, int64_t u, const uint32_t r7[L2_N_TGT]) {
    const l2_conn *c = &s->net->conns[ci];
    l2_conn_state *cs = &s->cs[ci];
    const l2_rule *r = &c->rule;
    const l2_pop_state *dp = &s->ps[c->d.dst];
    int n_pre = c->n_pre, n_post = c->n_post, te = c->d.t_epoch;
    syn_ctx x = {.c = c, .cs = cs, .product_shift = s->opts.product_shift};
    for (int j = 0; j < n_pre; j++) {
        int tx = cs->tx[j];
        for (int i0 = 0; i0 < n_post; i0 += dp->per_core) {
            int i1 = i0 + dp->per_core < n_post ? i0 + dp->per_core : n_post;
            int64_t changed = 0;
            for (int i = i0; i < i1; i++) {
                size_t k = (size_t)j * n_post + i;
                int ty = cs->ty[i];
                x.i = i;
                x.j = j;
                x.w = cs->w[k];
                x.d = cs->tag_d ? cs->tag_d[k] : 0;
                x.t = cs->tag_t ? cs->tag_t[k] : 0;
                x.sd = (syn_dep){{tx > 0, ty > 0, u}, {tx, ty, te}};
                int32_t old[3] = {x.w, x.d, x.t};
                int32_t nv[3] = {x.w, x.d, x.t};
                for (int tg = 0; tg < L2_N_TGT; tg++) {
                    if (!r->present[tg]) continue;
                    uint32_t rr = s->opts.sr_per_synapse ? (uint32_t)(rng_u64(&cs->rng) >> 57) : r7[tg];
                    nv[tg] = finish((l2_target)tg, eval_target(r, (l2_target)tg, old[tg], &x), rr, c->d.sign_mode);
                }
                changed += nv[0] != old[0];
                cs->w[k] = (int16_t)nv[0];
                if (cs->tag_d) cs->tag_d[k] = (int16_t)nv[1];
                if (cs->tag_t) cs->tag_t[k] = (int16_t)nv[2];
            }
            count_core(s, dp, i0, i1, i1 - i0, changed);
        }
    }
}

void l2_learn_apply(l2_sim *s, int ci, int64_t u, const uint32_t r7[L2_N_TGT]) {
    if (s->cs[ci].lowered) {
        if (u == 0) {
            // The whole rule is gated off this epoch: weights are unchanged, but the epoch's
            // evaluations are still counted like the interpreter counts them.
            const l2_conn *c = &s->net->conns[ci];
            const l2_pop_state *dp = &s->ps[c->d.dst];
            for (int i0 = 0; i0 < c->n_post; i0 += dp->per_core) {
                int i1 = i0 + dp->per_core < c->n_post ? i0 + dp->per_core : c->n_post;
                count_core(s, dp, i0, i1, (int64_t)(i1 - i0) * c->n_pre, 0);
            }
            return;
        }
        run_lowered(s, ci, u, r7[L2_TGT_W]);
    } else {
        run_interpreter(s, ci, u, r7);
    }
}
