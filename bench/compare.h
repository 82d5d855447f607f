// compare (cmp_) — is CURRENT worse than BASELINE? Two results files (schema v1) are matched
// run by run on their configuration (run attributes kind, task, n_way, k_shot, n_query,
// n_episodes, seed; the latest run of each configuration in each file) and row by row on
// `impl`. Each metric gets a baseline, a current value, a relative change and a verdict:
//
// - deterministic metrics gate exactly (or within --threshold): counted bytes read/written
//   per token (summary), accuracy on the fixed episode seed (only when model_hash matches),
//   emulator operation counts (integer columns of `loihi2` / `emu_bench` tables), and
//   instructions per episode (ctr_PAPI_TOT_INS, within --ins-threshold) where counted;
// - timing metrics (ns per token from `tokens`, ns per episode from `episodes`) are judged
//   by a two-sided Mann–Whitney U test plus a minimum effect size on the median, never with
//   fewer than CMP_MIN_SAMPLES samples per side, and do not fail unless --fail-on-timing.
//
// Exit codes of `neuroicl compare`: 0 nothing regressed, 1 a regression, 2 unusable input.
#ifndef NEUROICL_COMPARE_H
#define NEUROICL_COMPARE_H
#include <stddef.h>
#include <stdio.h>

#define CMP_MIN_SAMPLES 9

enum { CMP_EXIT_OK = 0, CMP_EXIT_REGRESSION = 1, CMP_EXIT_UNUSABLE = 2 };

typedef enum {
    CMP_SAME,            // deterministic, identical
    CMP_WITHIN,          // deterministic, changed by no more than the threshold
    CMP_REGRESSED,       // deterministic, worse beyond the threshold  -> exit 1
    CMP_IMPROVED,        // deterministic, better beyond the threshold
    CMP_NOT_COMPARED,    // e.g. model differs, or counted on one side only
    CMP_SLOWER,          // timing: p < alpha and median at least min_effect higher
    CMP_FASTER,
    CMP_NO_CHANGE,       // timing: no significant change
    CMP_TOO_FEW,         // timing: fewer than min_samples on a side, not judged
} cmp_verdict;

const char *cmp_verdict_name(cmp_verdict v);

typedef enum { CMP_DETERMINISTIC, CMP_TIMING } cmp_kind;

typedef struct {
    char config[256];    // "eval glyphs n_way=5 k_shot=1 n_query=1 n_episodes=20 seed=1"
    char impl[64];       // row (or emulator table row)
    char metric[96];
    cmp_kind kind;
    double base, cur;    // values (timing: medians)
    double change;       // (cur - base) / |base|; NaN when base is 0 and cur differs
    double p;            // timing: Mann–Whitney two-sided p; NaN otherwise
    long n_base, n_cur;  // timing: samples per side
    cmp_verdict verdict;
    char note[160];
} cmp_line;

typedef struct {
    double threshold;      // deterministic: allowed relative worsening (0 = exact)
    double ins_threshold;  // instruction counts: allowed relative worsening (0.02)
    double alpha;          // timing: significance level (0.01: CI false alarms cost more than misses)
    double min_effect;     // timing: minimum relative change of the median (0.05)
    int min_samples;       // timing: refuse below this many samples per side (>= 9)
    int fail_on_timing;    // a "slower" verdict counts as a regression
    const char *metrics;   // comma-separated metric names to compare, NULL = all
    const char *base_run;  // run ids to use instead of matching every configuration
    const char *cur_run;
} cmp_options;

void cmp_default_options(cmp_options *o);

typedef struct {
    cmp_line *lines;
    int n, cap;
    int n_configs;
    char base_path[512], cur_path[512];
} cmp_report;

void cmp_report_free(cmp_report *r);

// The two rules, exposed for the tests.
// Deterministic: higher_is_better selects the direction of "worse".
void cmp_judge_deterministic(double base, double cur, int higher_is_better, double threshold, cmp_line *out);
// Timing: samples of the baseline (nb) and current (nc) runs.
void cmp_judge_timing(const double *b, size_t nb, const double *c, size_t nc, const cmp_options *o,
                      cmp_line *out);

// Compares two files. Unusable input (missing/unreadable file, not a results file, other
// schema_version, a baseline configuration or row without a match) -> non-zero ERR_* code
// with err_msg() set; the report holds whatever was compared before.
int cmp_files(const char *base_path, const char *cur_path, const cmp_options *o, cmp_report *out);

// Exit code for a finished comparison: 1 when a line regressed (or was slower with
// fail_on_timing), else 0.
int cmp_exit_code(const cmp_report *r, const cmp_options *o);

typedef enum { CMP_FMT_TABLE, CMP_FMT_MARKDOWN, CMP_FMT_JSON } cmp_format;
void cmp_print(FILE *f, const cmp_report *r, const cmp_options *o, cmp_format fmt);

// The configuration a run is matched on, as text: "eval glyphs n_way=5 ... seed=1".
void cmp_run_key(const char *path, const char *run_id, char *out, size_t n);

// `neuroicl compare ...` (argv[0] = "compare"): prints the comparison (or --help) on stdout
// and returns the exit code; on 2 the message is in err_msg() for the caller to print.
int cmp_command(int argc, char **argv);

#endif
