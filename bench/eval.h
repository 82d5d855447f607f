// eval (ev_) — runs decoder rows on identical episodes and fills a results run. Each
// episode is sampled once, its images encoded once on the host, and the same embeddings
// are fed token by token to every row (supports in episode order, then the queries).
#ifndef NEUROICL_EVAL_H
#define NEUROICL_EVAL_H
#include <stdint.h>
#include <stdio.h>
#include "bench/counters.h"
#include "bench/results.h"
#include "datasets/dataset.h"
#include "kernels/model.h"

#define EV_MAX_ROWS 8

typedef struct {
    int n_way, k_shot, n_query, episodes;
    uint64_t seed;
    int n_rows;
    const char *rows[EV_MAX_ROWS];  // row names, validated by ev_parse_rows
    int token_episodes;             // episodes whose per-token rows go into /tokens
    FILE *log;                      // progress (NULL = silent)
    volatile int *stop;             // Ctrl-C: stop early, results so far are still written
    const void *row_aux;            // optional: the fq_model for fw-quant / loihi2-emu (kernels/quant.h)
} ev_options;

typedef struct {
    char name[32];
    double accuracy, ci_lo, ci_hi;  // mean of per-episode accuracy, 95% normal interval
    long n_queries;
    double ns_median, ns_min, ns_max;  // per token
    double bytes_read, bytes_written;  // mean per token
} ev_row_summary;

// Splits a comma-separated list into o->rows; ERR_ARG naming an unknown row.
int ev_parse_rows(ev_options *o, char *list);
// The attributes that make an eval run repeatable (reports/SCHEMA.md): kind, task, data source,
// split, shape, episodes, seed, rows (`impls`, comma-separated), the model (path made absolute,
// so the record still points at it from elsewhere, and its hash) and the command line.
void ev_describe_run(h5r_run *run, const ev_options *o, const ds_set *set, const char *impls,
                     const char *model_path, const char *model_hash, const char *command_line);
// Runs the evaluation; writes tables summary, episodes, tokens, counters into `run` and the
// per-row summaries into out (n_rows). ctr may have no available events.
int ev_run(const ev_options *o, const mdl_model *m, const ds_set *set, ctr_set *ctr,
           h5r_run *run, ev_row_summary *out);

#endif
