// Neuron models, one step each: CUBA LIF in fixed point, the stateless graded unit and the
// graded product unit. Input arrives in p->acc (summed by the synaptic phase of the previous
// step) and is consumed (zeroed) here; the emitted payloads go to p->out (0 = silent).
#include "kernels/loihi2/internal.h"

#define UV_HALF (1 << (L2_UV_BITS - 1))   // 2^23

// Two's complement wrap to 24 bits: the hardware register simply overflows.
static inline int32_t wrap24(int64_t x) {
    uint32_t m = (uint32_t)((uint64_t)x & 0xFFFFFFu);
    return m >= UV_HALF ? (int32_t)m - (1 << L2_UV_BITS) : (int32_t)m;
}

// x * (4096 - d) / 4096 truncated toward zero (Lava: sign(x) * (|x * k| >> 12)).
static inline int64_t decay12(int64_t x, int k) {
    int64_t p = x * k;
    return p >= 0 ? p >> 12 : -((-p) >> 12);
}

static inline int32_t sat_payload(int64_t x) {
    return (int32_t)l2_clip64(x, -L2_PAYLOAD_MAX, L2_PAYLOAD_MAX);
}

static void lif_step(const l2_pop_desc *d, l2_pop_state *p) {
    int n = d->n;
    int ku = L2_DECAY_UNITY - (d->du + 1);   // Lava's ds_offset = 1 on the current decay
    int kv = L2_DECAY_UNITY - d->dv;         // dm_offset = 0 on the voltage decay
    int64_t bias = d->bias_exp >= 0 ? (int64_t)d->bias_mant * (1 << d->bias_exp)
                                     : (int64_t)d->bias_mant >> -d->bias_exp;
    int64_t vth = (int64_t)d->vth << 6;
    int64_t vmax = UV_HALF - 1;
    int32_t *u = p->u, *v = p->v, *out = p->out;   // (n)
    int64_t *a = p->acc[0];                         // (n)
    for (int i = 0; i < n; i++) {
        int32_t ui = wrap24(decay12(u[i], ku) + a[i] * 64);   // input << 6
        int64_t vi = decay12(v[i], kv) + ui + bias;
        vi = l2_clip64(vi, -vmax, vmax);
        int spike = vi > vth;                                  // strict threshold
        u[i] = ui;
        v[i] = spike ? 0 : (int32_t)vi;                        // reset v only
        out[i] = spike;
        a[i] = 0;
    }
}

static void graded_step(const l2_pop_desc *d, l2_pop_state *p) {
    int n = d->n;
    int32_t thr = d->threshold;
    int64_t *a = p->acc[0];   // (n)
    for (int i = 0; i < n; i++) {
        int32_t v = sat_payload(a[i]);
        p->v[i] = v;
        int fire = d->relu ? v > thr : (v > thr || v < -thr);
        p->out[i] = fire ? v : 0;
        a[i] = 0;
    }
}

static void product_step(const l2_pop_desc *d, l2_pop_state *p) {
    int n = d->n;
    int64_t *a = p->acc[0], *b = p->acc[1];   // (n)
    for (int i = 0; i < n; i++) {
        int64_t x = sat_payload(a[i]), y = sat_payload(b[i]);
        int64_t half = d->prod_round && d->prod_exp > 0 ? (int64_t)1 << (d->prod_exp - 1) : 0;
        int32_t v = sat_payload((x * y + half) >> d->prod_exp);   // arithmetic shift = floor
        p->v[i] = v;
        p->out[i] = (v > d->threshold || v < -d->threshold) ? v : 0;
        a[i] = b[i] = 0;
    }
}

void l2_neuron_step(const l2_pop_desc *d, l2_pop_state *p) {
    switch (d->model) {
    case L2_LIF: lif_step(d, p); break;
    case L2_GRADED: graded_step(d, p); break;
    case L2_PRODUCT: product_step(d, p); break;
    case L2_INPUT:
        // The host's payloads for this step become the port's output, once.
        for (int i = 0; i < d->n; i++) {
            p->out[i] = p->host_pending ? p->host_in[i] : 0;
            p->host_in[i] = 0;
        }
        p->host_pending = 0;
        break;
    }
}
