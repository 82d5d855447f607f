// stats (st_) — the statistics compare needs: medians and the Mann–Whitney U test
// (Wilcoxon rank-sum), two-sided, as Google Benchmark's compare.py and asv use to decide
// whether two sets of timing samples differ. No distributional assumption: timings are
// skewed and heavy-tailed, so a t-test on means would be the wrong tool.
#ifndef NEUROICL_STATS_H
#define NEUROICL_STATS_H
#include <stddef.h>

// Median of x[0..n) (n >= 1); x is not modified. NaN when n == 0.
double st_median(const double *x, size_t n);

// Mean of x[0..n) (n >= 1) and the half-width of its 95% normal interval,
// 1.96 sd / sqrt(n) with the sample sd (n - 1); 0 when n < 2. Two passes (mean, then squared
// deviations). Accuracy, its CIs and the paired deltas all come from here.
void st_mean_ci95(const double *x, size_t n, double *mean, double *half);

typedef enum {
    ST_MWU_AUTO = 0,    // exact when there are no ties and n1, n2 <= ST_MWU_EXACT_MAX, else normal
    ST_MWU_EXACT = 1,   // exact null distribution (refused with ties: falls back to normal)
    ST_MWU_NORMAL = 2,  // normal approximation with tie and continuity correction
} st_mwu_method;

#define ST_MWU_EXACT_MAX 20

typedef struct {
    double u1;      // U of the first sample: #pairs (x_i > y_j) + 0.5 #ties
    double u2;      // n1 n2 - u1
    double z;       // normal approximation statistic (0 when exact was used)
    double p;       // two-sided p-value
    int exact;      // 1 when p comes from the exact distribution
    int ties;       // 1 when the pooled sample has ties
} st_mwu_result;

// Two-sided Mann–Whitney U test of x (n1) against y (n2). Returns 0, or -1 when n1 or n2 is
// 0 or memory runs out (r->p is then NaN). Normal approximation:
//   mu = n1 n2 / 2,  sigma^2 = n1 n2 / 12 * ((n + 1) - sum(t^3 - t) / (n (n - 1)))
//   z = (|U1 - mu| - 1/2) / sigma (floored at 0),  p = erfc(z / sqrt 2)
// Exact: p = min(1, 2 P(U <= min(U1, U2))) under H0 (all C(n, n1) rank sets equally likely).
int st_mann_whitney(const double *x, size_t n1, const double *y, size_t n2, st_mwu_method m,
                    st_mwu_result *r);

#endif
