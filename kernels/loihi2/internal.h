// Internal structures of the Loihi 2 emulator, shared by its files only (not a public API).
#ifndef NEUROICL_LOIHI2_INTERNAL_H
#define NEUROICL_LOIHI2_INTERNAL_H
#include "kernels/loihi2/loihi2.h"
#include "kernels/rng.h"

#define L2_ACC_MAX 32767      // 16-bit signed learning accumulator
#define L2_ACC_MIN (-32768)
#define L2_ACC_SHIFT 7        // synaptic variable pre-shift: 16-bit acc - 9-bit signed variable
#define L2_PAYLOAD_MAX ((1 << 23) - 1)

// ------------------------------------------------------------------ description (net.c)
typedef struct {
    l2_conn_desc d;           // copy; d.weights and d.rule are NOT retained (pointers cleared)
    int n_pre, n_post;
    int16_t *w0;              // (n_pre, n_post) initial weights, truncated, transposed so the
                              // synapses of one axon (pre neuron) are contiguous, as on a core
    int learning;             // rule != NULL
    l2_rule rule;
    int imp_int[L2_N_TRACES]; // impulse integer part
    int imp_frac[L2_N_TRACES];// impulse fraction in 1/256
    uint32_t decay_q16[L2_N_TRACES]; // exp(-1/tau) in 1/65536 (0 when tau == 0)
} l2_conn;

typedef struct { int pop; l2_probe_var var; } l2_probe;

struct l2_net {
    int n_pops, cap_pops;
    l2_pop_desc *pops;        // (n_pops)
    int n_conns, cap_conns;
    l2_conn *conns;           // (n_conns)
    int n_probes, cap_probes;
    l2_probe *probes;         // (n_probes)
};

// ------------------------------------------------------------------ execution (sim.c)
typedef struct {
    int32_t *out;             // (n) payload emitted this step, 0 = none
    int32_t *v, *u;           // (n) LIF voltage/current; graded: v = input; u NULL otherwise
    int64_t *acc[2];          // (n) synaptic input for the next neuron phase, ports a and b
    int32_t *host_in;         // (n) L2_INPUT: payloads for the next step
    int host_pending;
    int core0, per_core, ncores; // mapping (core0 = -1 for host inputs)
} l2_pop_state;

typedef struct {
    int16_t *w;               // (n_pre, n_post) live weights
    int32_t *ring;            // (delay + 1, n_pre) src outputs by step, NULL when delay == 0
    int *act_idx;             // (n_pre) indices of inputs arriving this step
    int32_t *act_val;         // (n_pre) their payloads (1 for binary)
    int n_act;
    int32_t *s32;             // (n_post) scratch sum, int32 path
    int64_t *s64;             // (n_post) scratch sum, int64 path
    int use32;                // the int32 sum cannot overflow for this connection
    int64_t *hops_from_core;  // (src ncores) sum of hop distances to all dst cores (modelled)
    int64_t *act_per_core;    // (src ncores) arriving inputs per source core this step
    // learning (NULL/0 when static)
    rng_t rng;                // this connection's stream: traces and stochastic rounding
    uint8_t *x[2];            // (n_pre) x1, x2
    uint8_t *y[3];            // (n_post) y1, y2, y3
    uint8_t *tx, *ty;         // (n_pre), (n_post) within-epoch time of the last spike, 0 = none
    uint8_t *xh;              // (t_epoch + 1, 2, n_pre) trace history within the epoch
    uint8_t *yh;              // (t_epoch + 1, 3, n_post)
    int32_t *ywrite[3];       // (n_post) host-written y values pending for the next step
    int ywrite_pending[3];
    int16_t *tag_d, *tag_t;   // (n_pre, n_post) delay tag (tag_2) and tag (tag_1), or NULL
    int32_t *lacc;            // (n_post) lowered-kernel accumulator row
    int32_t *ybuf;            // (8, n_post) lowered kernel: y factor of each product, widened
    int32_t *ones32;          // (n_post) all 1: stands in for an absent y factor
    int16_t *ones16;          // (n_post) all 1: stands in for an absent w factor
    int lowered;              // dw executed by the lowered outer-product kernel
} l2_conn_state;

struct l2_sim {
    const l2_net *net;
    l2_sim_opts opts;
    l2_mapping map;
    long t;
    l2_pop_state *ps;         // (n_pops)
    l2_conn_state *cs;        // (n_conns)
    l2_counters *cum;         // (n_cores) cumulative
    l2_counters *last;        // (n_cores) last step
};

// neuron.c
void l2_neuron_step(const l2_pop_desc *d, l2_pop_state *p);
// synapse.c
void l2_synapse_deliver(const l2_conn *c, l2_conn_state *cs, const l2_sim_opts *o, int64_t *dst_acc);
// trace.c
uint8_t l2_trace_decay(uint8_t v, uint32_t decay_q16, uint32_t r16);
uint8_t l2_trace_impulse(uint8_t v, int imp_int, int imp_frac, uint32_t r8);
int l2_payload_to_key(int32_t payload);   // payload/2 rounded half to even, wrapped to 8 bits
// learn.c
void l2_learn_traces(l2_sim *s, int ci);  // per step, after the synaptic phase
void l2_learn_epoch(l2_sim *s, int ci);   // learning phase
// rule_exec.c
int l2_learn_can_lower(const l2_rule *r, const l2_sim_opts *o);
// Applies the rule to every synapse; u = value of the uK dependency, r7 = shared rounding
// randoms in [0, 128) per target.
void l2_learn_apply(l2_sim *s, int ci, int64_t u, const uint32_t r7[L2_N_TGT]);

static inline int64_t l2_clip64(int64_t v, int64_t lo, int64_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

#endif
