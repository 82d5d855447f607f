// loihi2 (l2_) — a fixed-point emulator of Intel Loihi 2 neuro-cores, graded spikes and the
// learning engine with its rule language. Semantics: ../shared/docs/LOIHI2.md, with each
// decision beyond it written in kernels/loihi2/README.md next to the Lava file it follows.
//
// Two halves, kept apart on purpose:
//   description (l2_net_*): what a network is — populations, connections, rules, ports, probes.
//                           Validated when added; never touched by execution.
//   execution   (l2_sim_*): how it runs — state, timesteps, learning phases, counters.
// The emulator knows nothing about what the network computes (no transformer notions here).
//
// Errors: functions return 0 or an ERR_* code from kernels/err.h and leave a one-line message
// in err_msg(); nothing here prints or exits. Malformed input never crashes.
#ifndef NEUROICL_LOIHI2_H
#define NEUROICL_LOIHI2_H
#include <stddef.h>
#include <stdint.h>

// ---------------------------------------------------------------- fixed widths (LOIHI2.md)
#define L2_UV_BITS 24            // LIF u and v
#define L2_DECAY_UNITY 4096      // 12-bit decays du, dv
#define L2_PAYLOAD_BITS_MAX 24   // graded payload (signed) in Lava
#define L2_TRACE_MAX 127         // 7-bit unsigned traces
#define L2_T_EPOCH_MAX 63        // tx/ty are 6-bit within-epoch times
#define L2_DELAY_MAX 63          // axonal delays 0..63
#define L2_NAME_MAX 32

// ---------------------------------------------------------------- description

// Numbering follows Lava's SignMode (weightutils.py).
typedef enum { L2_SIGN_MIXED = 1, L2_SIGN_EXC = 2, L2_SIGN_INH = 3 } l2_sign_mode;

typedef enum {
    L2_INPUT = 0,    // host-fed port: the host sets each step's output payloads
    L2_LIF = 1,      // CUBA LIF, fixed point, binary spikes (payload 1)
    L2_GRADED = 2,   // stateless graded unit: emits its input (identity or ReLU) above a threshold
    L2_PRODUCT = 3,  // graded product unit: emits (a*b) >> exp of its two input ports
} l2_model;

typedef struct {
    l2_model model;
    int n;                       // neurons
    char name[L2_NAME_MAX];      // for messages and results; may be empty
    // L2_LIF
    int du, dv;                  // 0..4095
    int vth;                     // threshold mantissa >= 0, compared as v > (vth << 6)
    int bias_mant, bias_exp;     // bias = bias_mant << bias_exp (>> for negative exp)
    // L2_GRADED / L2_PRODUCT
    int relu;                    // L2_GRADED: 1 = ReLU (emit if v > thr), 0 = identity (|v| > thr)
    int32_t threshold;           // >= 0
    int prod_exp;                // L2_PRODUCT: 0..31, out = (a*b) >> prod_exp (floor)
    int prod_round;              // L2_PRODUCT: 1 = round half up, (a*b + 2^(prod_exp-1)) >> prod_exp
                                 // (one add in the unit's microcode before the shift); 0 = floor
} l2_pop_desc;

// How graded spike payloads enter the pre-synaptic trace x1 (Lava GradedSpikeCfg values).
typedef enum {
    L2_GT_REGULAR = 0,        // payload ignored; regular impulses on x1, x2
    L2_GT_OVERWRITE = 1,      // x1 = payload/2
    L2_GT_ADD_SAT = 2,        // x1 = min(x1 + payload/2, 127)
    L2_GT_ADD_OVERFLOW = 3,   // x1 += payload/2; on overflow x1 -= 127 and an x0 event + x2 impulse
} l2_graded_trace;

// Trace order used by tau[] and impulse[]: x1, x2, y1, y2, y3.
enum { L2_TR_X1 = 0, L2_TR_X2, L2_TR_Y1, L2_TR_Y2, L2_TR_Y3, L2_N_TRACES };

typedef struct {
    int src, dst;               // population ids
    int dst_port;               // 0, or 1 = second input (b) of an L2_PRODUCT population
    l2_sign_mode sign_mode;
    int num_weight_bits;        // 1..8
    int weight_exp;             // -8..7
    int msg_bits;               // 0 = binary spikes; 1..24 = graded, payload as signed msg_bits
    int delay;                  // axonal delay 0..63, the same for every synapse of the connection
    const int32_t *weights;     // (n_dst, n_src) on the 8-bit scale; copied, truncated per sign mode
    // Learning-dense when rule != NULL.
    const char *rule;           // e.g. "dw = 2^-2*u0*x1*y2 - 2^-7*u0*w; dt = ..." (copied, parsed)
    int t_epoch;                // 1..63
    int tau[L2_N_TRACES];       // 0 = trace held at 0; 0..65535
    double impulse[L2_N_TRACES];// 0..127.996: integer part + 8-bit fraction (stochastic)
    l2_graded_trace graded_mode;
    int three_factor;           // 1: y1..y3 are written (by host or post neuron), never decayed
    int y_from_post;            // 0, or 1..3: post neuron's graded payload written into y_k each step
} l2_conn_desc;

typedef enum { L2_PROBE_OUT = 0, L2_PROBE_V = 1, L2_PROBE_U = 2 } l2_probe_var;

typedef struct l2_net l2_net;

l2_net *l2_net_new(void);
void l2_net_free(l2_net *net);
// Descriptions start from these defaults (fills every field; set what differs).
void l2_pop_desc_init(l2_pop_desc *d, l2_model model, int n);
void l2_conn_desc_init(l2_conn_desc *d, int src, int dst, const int32_t *weights);
int l2_net_add_pop(l2_net *net, const l2_pop_desc *d, int *id);
int l2_net_add_conn(l2_net *net, const l2_conn_desc *d, int *id);
int l2_net_add_probe(l2_net *net, int pop, l2_probe_var var, int *id);
int l2_net_n_pops(const l2_net *net);
int l2_net_n_conns(const l2_net *net);
int l2_net_pop_size(const l2_net *net, int pop);

// Weight truncation exactly as Lava's truncate_weights: drop 8 - bits + is_mixed LSBs
// (floor; magnitude-floor for inhibitory). Input must already be in the sign mode's range.
int32_t l2_truncate_weight(int32_t w, l2_sign_mode mode, int num_weight_bits);

// ---------------------------------------------------------------- rule language

#define L2_MAX_PRODUCTS 16
#define L2_MAX_FACTORS 6

typedef enum { L2_TGT_W = 0, L2_TGT_D = 1, L2_TGT_T = 2, L2_N_TGT } l2_target;
typedef enum { L2_DEP_X0 = 0, L2_DEP_Y0 = 1, L2_DEP_U = 2 } l2_dep;
typedef enum {
    L2_F_X0, L2_F_Y0, L2_F_X1, L2_F_X2, L2_F_Y1, L2_F_Y2, L2_F_Y3, L2_F_W, L2_F_D, L2_F_T, L2_F_C
} l2_fvar;

typedef struct {
    l2_fvar var;
    int32_t c;      // the +C (0 if none); the value itself for L2_F_C
    int sgn;        // sgn(var + C) (w, d, t only)
} l2_factor;

typedef struct {
    l2_dep dep;
    int mant;       // -8..7
    int exp;        // -7..8 (the scale is mant * 2^exp)
    int n_factors;
    l2_factor f[L2_MAX_FACTORS];
} l2_product;

typedef struct {
    int present[L2_N_TGT];
    int n_products[L2_N_TGT];
    l2_product p[L2_N_TGT][L2_MAX_PRODUCTS];
    int decimate_k;   // K of the uK dependency (-1 if the rule has none); one K per rule
} l2_rule;

// Parses "dw = ...", optionally followed by "; dd = ..." / "; dt = ..." (';' or newline).
// On a malformed rule returns ERR_FORMAT and a message naming the 1-based character position.
int l2_rule_parse(l2_rule *rule, const char *text);

// ---------------------------------------------------------------- mapping to neuro-cores

typedef struct {
    int max_neurons_per_core;     // default 8192 (LOIHI2.md: ~1M neurons / 128 cores)
    long synapse_mem_bytes;       // per core; default 131072 (LOIHI2.md: 128-192 KB, a parameter)
    int cores_per_chip;           // default 128
    int max_chips;                // default 1
    int mesh_width;               // cores per mesh row for hop distances (modelled), default 8
} l2_core_limits;

typedef struct {
    int n_cores;                  // neuro-cores used (host input ports use none)
    int n_chips;
    int cores_per_chip;           // copied from the limits: chip k holds cores [k*cpc, (k+1)*cpc)
    int mesh_width;               // copied from the limits, for hop distances
    int *pop_core0;               // (n_pops) first core of each population, -1 for inputs
    int *pop_ncores;              // (n_pops)
    int *pop_per_core;            // (n_pops) neurons per core (last core may hold fewer)
    long *core_syn_bytes;         // (n_cores) modelled synapse memory used
    int *core_neurons;            // (n_cores)
} l2_mapping;

void l2_core_limits_default(l2_core_limits *lim);
// Assigns populations to cores. A network that does not fit returns ERR_RANGE naming the limit.
int l2_map(const l2_net *net, const l2_core_limits *lim, l2_mapping *out);
void l2_mapping_free(l2_mapping *m);
int l2_mapping_cores_on_chip(const l2_mapping *m, int chip);   // cores used on chip `chip`

// ---------------------------------------------------------------- execution

typedef struct {
    uint64_t seed;            // every random draw of the emulator comes from rng_t seeded here
    int exp_per_synapse;      // switch: 0 = weight_exp once after the sum (Lava), 1 = per synapse
    int product_shift;        // switch: 1 = Lava's product down-shift max(0, widths + 4 - 15)
    int sr_per_synapse;       // switch: 0 = one rounding random per connection per epoch (Lava)
    int force_interpreter;    // 1 = never use a lowered learning kernel (tests, comparison)
} l2_sim_opts;

typedef struct {
    int64_t syn_ops;          // synapse reads: active inputs x fan-out (or fan-in) touched
    int64_t neuron_updates;
    int64_t spikes;           // spikes / graded messages emitted by neurons on the core
    int64_t messages;         // (spike, destination core) pairs sent over the mesh
    int64_t mesh_hops;        // sum of hop distances of those messages (modelled mesh)
    int64_t learn_evals;      // synapses on which a learning rule was evaluated
    int64_t weight_updates;   // synaptic variables whose value changed
    int64_t timesteps;
} l2_counters;

typedef struct l2_sim l2_sim;

void l2_sim_opts_default(l2_sim_opts *o);
// map == NULL maps with l2_core_limits_default(); a given map must come from l2_map on this
// same net (it is copied). The net must outlive the sim.
int l2_sim_new(const l2_net *net, const l2_mapping *map, const l2_sim_opts *opts, l2_sim **out);
void l2_sim_free(l2_sim *s);
// Host input for the next step of an L2_INPUT population: (n) payloads, 0 = no spike
// (binary connections treat any non-zero payload as a spike). NULL = silent.
int l2_sim_set_input(l2_sim *s, int pop, const int32_t *payload);
// Three-factor mode: the host writes y_k (k = 1..3) of connection `conn` for the next step:
// (n_post) values, clipped to 0..127.
int l2_sim_write_y(l2_sim *s, int conn, int k, const int32_t *vals);
int l2_sim_step(l2_sim *s);                 // one algorithmic timestep
int l2_sim_run(l2_sim *s, int steps);
long l2_sim_time(const l2_sim *s);          // last completed step (0 before the first)

const int32_t *l2_sim_output(const l2_sim *s, int pop);   // (n) payloads emitted this step
const int32_t *l2_sim_v(const l2_sim *s, int pop);        // (n) LIF v / graded input
const int32_t *l2_sim_u(const l2_sim *s, int pop);        // (n) LIF u (NULL otherwise)
const int32_t *l2_sim_probe(const l2_sim *s, int probe);  // (n) the probed variable now
// Weights of a connection on the 8-bit scale, (n_post, n_pre) row-major into w.
int l2_sim_get_weights(const l2_sim *s, int conn, int32_t *w);
int l2_sim_set_weights(l2_sim *s, int conn, const int32_t *w);  // (n_post, n_pre), validated
// Learning state (k: L2_TR_X1.. L2_TR_Y3) and tags; out has n_pre or n_post entries.
int l2_sim_get_trace(const l2_sim *s, int conn, int k, int32_t *out);
int l2_sim_set_trace(l2_sim *s, int conn, int k, const int32_t *vals);
int l2_sim_get_tags(const l2_sim *s, int conn, int32_t *d, int32_t *t);  // (n_post, n_pre) each
// 1 if the connection's dw is executed by a lowered (specialised) kernel.
int l2_sim_conn_lowered(const l2_sim *s, int conn);

const l2_mapping *l2_sim_mapping(const l2_sim *s);
// Per-core counters: cumulative since creation and of the last step only.
const l2_counters *l2_sim_core_counters(const l2_sim *s, int core, int last_step);
void l2_sim_total_counters(const l2_sim *s, l2_counters *tot, int last_step);

// ---------------------------------------------------------------- cost model (modelled)

typedef struct {
    const char *name;         // contains "modelled"
    double value;
    const char *unit;
    const char *source;
} l2_cost_const;

typedef enum {
    L2_C_E_SYNOP, L2_C_E_WUPDATE, L2_C_E_NEURON_INACTIVE, L2_C_E_NEURON_ACTIVE, L2_C_E_HOP,
    L2_C_T_SYNOP, L2_C_T_WUPDATE, L2_C_T_NEURON, L2_C_T_HOP, L2_C_SPEEDUP, L2_N_COST
} l2_cost_id;

typedef struct { l2_cost_const c[L2_N_COST]; } l2_cost_params;

typedef struct {
    double energy_j_modelled;   // whole network
    double time_s_modelled;     // sum over steps of the slowest core's busy time in that step
    long steps;
} l2_cost_estimate;

void l2_cost_default(l2_cost_params *p);
// Adds the last step's counters of every core to e (call after each l2_sim_step); e starts zeroed.
void l2_cost_add_step(const l2_cost_params *p, const l2_sim *s, l2_cost_estimate *e);
// From cumulative counters only: energy exact, time = slowest core's total busy time (a lower
// bound of the per-step sum, used when steps were not followed one by one).
void l2_cost_estimate_total(const l2_cost_params *p, const l2_sim *s, l2_cost_estimate *e);

#endif
