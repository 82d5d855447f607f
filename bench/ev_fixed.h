// ev_fixed (evfx_) — what `neuroicl eval` adds when the fixed-point rows run: the bit-for-bit
// check of fw-quant against loihi2-emu (mismatch counts as run attributes) and the per-token
// emulator counts of loihi2-emu (table `loihi2`, cost-model constants in table
// `loihi2_cost_constants`). Called from bench/eval.c; a no-op when those rows are absent.
#ifndef NEUROICL_EV_FIXED_H
#define NEUROICL_EV_FIXED_H
#include <stdint.h>
#include "bench/results.h"
#include "kernels/decoder.h"

typedef struct {
    int quant, emu;            // row indices, -1 when absent
    int64_t queries_compared;
    int64_t logit_mismatches;  // queries whose logit vectors differ in any bit
    int64_t pred_mismatches;   // queries whose predictions differ
    double max_abs_diff;
} evfx_state;

void evfx_init(evfx_state *s, const char *const *rows, int n_rows);
// logits: (n_rows, n_q, n_labels) of one episode.
void evfx_episode(evfx_state *s, const float *logits, int n_q, int n_labels, int n_way);
// Writes the attributes and tables into run; rows are the open rows (n_rows).
int evfx_write(const evfx_state *s, const dec_row *rows, h5r_run *run);

#endif
