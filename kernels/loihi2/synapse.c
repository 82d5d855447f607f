// Dense synapses: the synaptic phase of one connection. Inputs arriving this step are already
// gathered as a list (cs->act_idx, cs->act_val); the sum over them is an integer
// matrix-vector product over the active inputs only, written as one contiguous row update per
// active axon so gcc vectorises it. No rounding or saturation inside the synapse (LOIHI2.md);
// weight_exp is applied once to the sum (Lava dense/models.py) or, by switch, per synapse.
#include "kernels/loihi2/internal.h"
#include <string.h>

// Shift by weight_exp: left, or arithmetic right (floor), as Lava's np.left/right_shift.
static inline int64_t wexp(int64_t x, int e) {
    return e >= 0 ? x * ((int64_t)1 << e) : x >> -e;
}

// s += p * row over n entries, four active inputs at a time so the accumulator row is read and
// written once per four axons (the weights are what streams from memory).
static void axpy32(int32_t *restrict s, const int16_t *restrict w, int n_post,
                   const int *idx, const int32_t *val, int n_act) {
    int a = 0;
    for (; a + 4 <= n_act; a += 4) {
        const int16_t *restrict r0 = w + (size_t)idx[a] * n_post;
        const int16_t *restrict r1 = w + (size_t)idx[a + 1] * n_post;
        const int16_t *restrict r2 = w + (size_t)idx[a + 2] * n_post;
        const int16_t *restrict r3 = w + (size_t)idx[a + 3] * n_post;
        int32_t p0 = val[a], p1 = val[a + 1], p2 = val[a + 2], p3 = val[a + 3];
        for (int i = 0; i < n_post; i++)
            s[i] += r0[i] * p0 + r1[i] * p1 + r2[i] * p2 + r3[i] * p3;
    }
    for (; a < n_act; a++) {
        const int16_t *restrict r = w + (size_t)idx[a] * n_post;
        int32_t p = val[a];
        for (int i = 0; i < n_post; i++) s[i] += r[i] * p;
    }
}

// Binary spikes: the sum of the weights of the spiking axons, no multiply.
static void sum32(int32_t *restrict s, const int16_t *restrict w, int n_post, const int *idx, int n_act) {
    int a = 0;
    for (; a + 4 <= n_act; a += 4) {
        const int16_t *restrict r0 = w + (size_t)idx[a] * n_post;
        const int16_t *restrict r1 = w + (size_t)idx[a + 1] * n_post;
        const int16_t *restrict r2 = w + (size_t)idx[a + 2] * n_post;
        const int16_t *restrict r3 = w + (size_t)idx[a + 3] * n_post;
        for (int i = 0; i < n_post; i++) s[i] += r0[i] + r1[i] + r2[i] + r3[i];
    }
    for (; a < n_act; a++) {
        const int16_t *restrict r = w + (size_t)idx[a] * n_post;
        for (int i = 0; i < n_post; i++) s[i] += r[i];
    }
}

static void axpy64(int64_t *restrict s, const int16_t *restrict w, int n_post,
                   const int *idx, const int32_t *val, int n_act) {
    for (int a = 0; a < n_act; a++) {
        const int16_t *restrict r = w + (size_t)idx[a] * n_post;
        int64_t p = val[a];
        for (int i = 0; i < n_post; i++) s[i] += r[i] * p;
    }
}

void l2_synapse_deliver(const l2_conn *c, l2_conn_state *cs, const l2_sim_opts *o, int64_t *dst_acc) {
    int n_post = c->n_post, e = c->d.weight_exp;
    if (cs->n_act == 0) return;
    if (o->exp_per_synapse && e < 0) {
        // Switch: each product w*payload is shifted (floored) before the sum, as a synapse that
        // applied the exponent itself would. For e >= 0 both orders are exact and equal.
        for (int a = 0; a < cs->n_act; a++) {
            const int16_t *r = cs->w + (size_t)cs->act_idx[a] * n_post;
            int64_t p = cs->act_val[a];
            for (int i = 0; i < n_post; i++) dst_acc[i] += (r[i] * p) >> -e;
        }
        return;
    }
    if (cs->use32) {
        int32_t *s = cs->s32;   // (n_post)
        memset(s, 0, (size_t)n_post * sizeof *s);
        if (c->d.msg_bits == 0) sum32(s, cs->w, n_post, cs->act_idx, cs->n_act);
        else axpy32(s, cs->w, n_post, cs->act_idx, cs->act_val, cs->n_act);
        if (e == 0) for (int i = 0; i < n_post; i++) dst_acc[i] += s[i];
        else for (int i = 0; i < n_post; i++) dst_acc[i] += wexp(s[i], e);
    } else {
        int64_t *s = cs->s64;   // (n_post)
        memset(s, 0, (size_t)n_post * sizeof *s);
        axpy64(s, cs->w, n_post, cs->act_idx, cs->act_val, cs->n_act);
        for (int i = 0; i < n_post; i++) dst_acc[i] += wexp(s[i], e);
    }
}
