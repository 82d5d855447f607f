// sweep (sweep_) — per-token cost of every decoder row against the context length t, on a
// synthetic token stream (random unit-norm embeddings, labels cycling): ns per token, counted
// bytes per token (per data structure), counters, and beside them the closed-form bytes and
// flops of each row. The bandwidth probe (bench/stream.h) runs in the same process so ratios
// are measured in one run.
//
// At each measured context t a row's state holds t support tokens; then
//   query   — `reps` query tokens are timed one by one (a query reads the whole context and
//             changes nothing, so repeating it measures the same thing); median/min/max kept;
//   support — the next support token (position t, it sees t+1 tokens) is timed once.
// Between measured points the row is filled with support tokens (not timed).
//
// Closed forms (F = 4 bytes per float, d = d_model, L layers, H heads, hd = d/H, d_ff, d_in,
// n_l labels; W = weight bytes of the token, the same for every row):
//   kv-*      query  : W_q + 2·F·d·t·L read                           (K and V of t entries, L layers)
//             support: W_s + 2·F·d·(t+1)·(L-1) read + 2·F·d·L written  (last layer only appends)
//   fw-float  query  : W_q + F·H·hd²·L read
//             support: W_s + F·H·hd²·L read + F·H·hd²·L written
//   W_q = F·(d·d_in + 2d + L·(4d² + 2·d·d_ff + d_ff + d) + n_l·d + n_l)
//   W_s = F·(d·d_in + 2d + (L-1)·(4d² + 2·d·d_ff + d_ff + d) + 2d²)
// Crossover t* (KV traffic per token overtakes the fast-weight state's):
//   query:   2·d·t·L = H·hd²·L                  ->  t* = H·hd²/(2d) = hd/2
//   support: 2·d·(t+1)·(L-1) + 2·d·L = 2·H·hd²·L ->  t* = L·(hd-1)/(L-1) - 1   (L >= 2)
#ifndef NEUROICL_SWEEP_H
#define NEUROICL_SWEEP_H
#include <stdint.h>
#include <stdio.h>
#include "bench/counters.h"
#include "bench/results.h"
#include "kernels/decoder.h"

#define SWEEP_MAX_T 512
#define SWEEP_MAX_ROWS 8
#define SWEEP_MAX_CFG 8

typedef struct {
    int n_t;
    int t[SWEEP_MAX_T];              // measured contexts, ascending, >= 1
    int n_rows;
    const char *rows[SWEEP_MAX_ROWS];
    int n_cfg;
    int d_model[SWEEP_MAX_CFG], n_heads[SWEEP_MAX_CFG];  // (n_cfg) width/heads axes
    int reps;                        // query tokens timed per point (median kept)
    uint64_t seed;
    const char *model_path;          // trained weights instead of random (one config), or NULL
    size_t stream_bytes;             // bandwidth probe array size (0 = 4 x LLC)
    int stream_ntimes;
    int slow_row_t_max;              // t cap for rows named loihi2-* (emulated, slow)
    int fill_threads;                // threads for the untimed fills (rows in parallel); timing is 1 thread
    FILE *log;
    volatile int *stop;
} sweep_options;

// Closed-form bytes per token of `row` at context t (see above); fills *tr like a row's step.
// Returns 0, or -1 when the row has no closed form here.
int sweep_closed_form(const tf_config *c, const char *row, int64_t t, int support, dec_traffic *tr);
// Closed-form flops per token: multiply-adds count 2, ReLU/exp/max/scale are not counted.
double sweep_closed_flops(const tf_config *c, const char *row, int64_t t, int support);
// Analytic crossover context t* for kv-* vs fw-float; INFINITY when none (support, L = 1).
double sweep_t_star_analytic(const tf_config *c, int support);
// First t where a(t) - b(t) turns from < 0 to >= 0, linearly interpolated between the
// bracketing points; NAN when it never does. t, a, b: (n).
double sweep_crossing(const double *t, const double *a, const double *b, int n);

// Runs the sweep into `run` (tables stream, sweep, crossover, bandwidth, flatness, counters).
int sweep_run(const sweep_options *o, ctr_set *ctr, h5r_run *run);

// Default measured contexts: every t in 1..64 (where the crossovers lie), then 96, 128, 192,
// 256, ... (2^k and 3·2^(k-1)) up to t_max. Returns n_t.
int sweep_default_t(int t_max, int *t, int cap);

// `neuroicl sweep [options]`; argv[0] is "sweep". Returns an error code (ERR_ARG for bad input).
int sweep_cmd(int argc, char **argv);

#endif
