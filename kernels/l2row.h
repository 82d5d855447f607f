// l2row (l2row_) — the quantized decoder (kernels/quant.h) as a Loihi 2 network on the emulator
// (kernels/loihi2/), and the `loihi2-emu` decoder row that runs it token by token. The network
// and its schedule are described at the top of l2row.c.
#ifndef NEUROICL_L2ROW_H
#define NEUROICL_L2ROW_H
#include "kernels/decoder.h"
#include "kernels/loihi2/loihi2.h"
#include "kernels/quant.h"

#define L2ROW_PERIOD 8        // timesteps per layer in the pipeline, and t_epoch of the plastic synapses
#define L2ROW_MAX_HEADS 16
// The rule of every plastic synapse: keys in x1, the value's positive (or negative) part in y2.
#define L2ROW_RULE "dw = u0*x1*y2"

typedef struct {
    l2_net *net;
    int pop_x0, pop_one, pop_nm, pop_we, pop_cg;   // host ports: (d_model), (1), (L), (L R), (L)
    int pop_log;                                    // (n_labels) graded readout
    int plastic[FQ_MAX_LAYERS][L2ROW_MAX_HEADS][2]; // learning connections P_h -> A+_h, A-_h ((R hd) x hd each)
    int n_layers, n_heads, head_dim;
    int replicas;     // R: plastic replicas per head (fq_replicas); WE is (L, R), index l R + r
    int latency;      // the logits are the readout's output at step s0 + latency (8 L + 1)
    int stride;       // timesteps per token (8 (L + 1)); the host feeds a token at s0 ≡ 5 mod 8
} l2row_map;

// Builds the network of q (rule NULL = L2ROW_RULE; a rule with a decay term such as
// "dw = u0*x1*y2 - 2^-3*u0*w" gives forgetting and breaks the equality with fw-quant).
int l2row_build(const fq_model *q, const char *rule, l2row_map *out);   // one replica
// The same with R (1..FQ_MAX_REPL) replicas of each head's plastic synapses (context sharding:
// support t writes replica t mod R through its own write gate WE[l R + r]; every replica is read).
int l2row_build_r(const fq_model *q, const char *rule, int replicas, l2row_map *out);
void l2row_map_free(l2row_map *m);

// Per-token emulator counts of a loihi2-emu row, summed since it was opened.
typedef struct {
    long tokens[2];            // [0] supports, [1] queries
    l2_counters ctr[2];        // summed over those tokens
    double energy_j[2], time_s[2];  // modelled (cost model, constants from l2_cost_default)
    int cores, chips;
} l2row_stats;

// The stats of a row opened as loihi2-emu (ERR_ARG for another row).
int l2row_get_stats(const dec_row *r, l2row_stats *out);
// The sim and map of an open loihi2-emu row (tests).
l2_sim *l2row_sim(const dec_row *r);
const l2row_map *l2row_get_map(const dec_row *r);

#endif
