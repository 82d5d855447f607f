// The learning engine's per-connection bookkeeping: every step, the pre traces (x1, x2) and
// post traces (y1..y3) decay one step with stochastic rounding and take impulses (or graded
// payloads, or three-factor writes); the within-epoch spike times tx/ty are recorded and the
// traces are kept for each step of the epoch, because a product with an x0 (y0) dependency reads
// them at the last pre (post) spike time. Every t_epoch steps the learning phase applies the rule.
#include "kernels/loihi2/internal.h"
#include <string.h>

// 16-bit random numbers four at a time from the connection's stream.
typedef struct { rng_t *r; uint64_t bits; int left; } r16_src;
static inline uint32_t r16(r16_src *q) {
    if (q->left == 0) { q->bits = rng_u64(q->r); q->left = 4; }
    uint32_t v = (uint32_t)(q->bits & 0xFFFFu);
    q->bits >>= 16;
    q->left--;
    return v;
}

static inline uint8_t decay(uint8_t v, uint32_t q16, r16_src *q) {
    if (q16 == 0) return 0;     // tau = 0: the trace is held at 0 (Lava skips it: stays 0)
    if (v == 0) return 0;       // 0 decays to 0 with certainty; no random number is spent
    return l2_trace_decay(v, q16, r16(q));
}

static inline uint8_t impulse(const l2_conn *c, int k, uint8_t v, r16_src *q) {
    uint32_t r8 = c->imp_frac[k] ? (r16(q) & 0xFFu) : 0;
    return l2_trace_impulse(v, c->imp_int[k], c->imp_frac[k], r8);
}

void l2_learn_traces(l2_sim *s, int ci) {
    const l2_conn *c = &s->net->conns[ci];
    l2_conn_state *cs = &s->cs[ci];
    const l2_pop_state *post = &s->ps[c->d.dst];
    int n_pre = c->n_pre, n_post = c->n_post, T = c->d.t_epoch;
    int te = (int)(s->t % T);
    if (te == 0) te = T;
    r16_src q = {&cs->rng, 0, 0};

    // Pre: decay both traces, then what the arriving spikes add.
    for (int j = 0; j < n_pre; j++) {
        cs->x[0][j] = decay(cs->x[0][j], c->decay_q16[L2_TR_X1], &q);
        cs->x[1][j] = decay(cs->x[1][j], c->decay_q16[L2_TR_X2], &q);
    }
    l2_graded_trace mode = c->d.msg_bits ? c->d.graded_mode : L2_GT_REGULAR;
    for (int a = 0; a < cs->n_act; a++) {
        int j = cs->act_idx[a];
        int event = 1;   // counts as an x0 event (sets tx) and gives x2 its impulse
        if (mode == L2_GT_REGULAR) {
            cs->x[0][j] = impulse(c, L2_TR_X1, cs->x[0][j], &q);
        } else {
            int key = l2_payload_to_key(cs->act_val[a]);
            int x1 = cs->x[0][j];
            if (mode == L2_GT_OVERWRITE) {
                x1 = key;
            } else if (mode == L2_GT_ADD_SAT) {
                x1 = x1 + key;
            } else {   // add with overflow: only an overflow is an event
                x1 = x1 + key;
                if (x1 > L2_TRACE_MAX) x1 -= L2_TRACE_MAX;
                else event = 0;
            }
            cs->x[0][j] = (uint8_t)(x1 > L2_TRACE_MAX ? L2_TRACE_MAX : x1);
        }
        if (event) {
            cs->x[1][j] = impulse(c, L2_TR_X2, cs->x[1][j], &q);
            cs->tx[j] = (uint8_t)te;
        }
    }

    // Post: back-propagated spikes set y0/ty; the y traces either follow impulses and decay,
    // or (three-factor) hold what the post neuron or the host wrote.
    const int32_t *po = post->out;   // (n_post)
    for (int i = 0; i < n_post; i++)
        if (po[i]) cs->ty[i] = (uint8_t)te;
    if (c->d.three_factor) {
        for (int k = 0; k < 3; k++) {
            if (cs->ywrite_pending[k]) {
                for (int i = 0; i < n_post; i++) cs->y[k][i] = (uint8_t)cs->ywrite[k][i];
                cs->ywrite_pending[k] = 0;
            }
        }
        if (c->d.y_from_post) {
            uint8_t *y = cs->y[c->d.y_from_post - 1];   // (n_post)
            for (int i = 0; i < n_post; i++) y[i] = (uint8_t)l2_clip64(po[i], 0, L2_TRACE_MAX);
        }
    } else {
        for (int k = 0; k < 3; k++) {
            uint32_t q16 = c->decay_q16[L2_TR_Y1 + k];
            for (int i = 0; i < n_post; i++) {
                uint8_t v = decay(cs->y[k][i], q16, &q);
                if (po[i]) v = impulse(c, L2_TR_Y1 + k, v, &q);
                cs->y[k][i] = v;
            }
        }
    }

    memcpy(cs->xh + ((size_t)te * 2 + 0) * n_pre, cs->x[0], (size_t)n_pre);
    memcpy(cs->xh + ((size_t)te * 2 + 1) * n_pre, cs->x[1], (size_t)n_pre);
    for (int k = 0; k < 3; k++) memcpy(cs->yh + ((size_t)te * 3 + k) * n_post, cs->y[k], (size_t)n_post);
}

void l2_learn_epoch(l2_sim *s, int ci) {
    const l2_conn *c = &s->net->conns[ci];
    l2_conn_state *cs = &s->cs[ci];
    const l2_rule *r = &c->rule;
    // uK is 1 on epochs whose index is a multiple of 2^K (Lava connection.py).
    long epoch = s->t / c->d.t_epoch;
    int64_t u = r->decimate_k >= 0 && (epoch % (1L << r->decimate_k)) == 0;
    // One uniform number in [0, 128) per target per epoch, drawn whether or not it is used so
    // that the stream does not depend on the rule's shape.
    uint32_t r7[L2_N_TGT];
    for (int tg = 0; tg < L2_N_TGT; tg++) r7[tg] = (uint32_t)(rng_u64(&cs->rng) >> 57);
    l2_learn_apply(s, ci, u, r7);
    memset(cs->tx, 0, (size_t)c->n_pre);
    memset(cs->ty, 0, (size_t)c->n_post);
}
