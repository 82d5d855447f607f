#include "bench/stats.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void st_mean_ci95(const double *x, size_t n, double *mean, double *half) {
    double m = 0.0, var = 0.0;
    for (size_t i = 0; i < n; i++) m += x[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++) { double d = x[i] - m; var += d * d; }
    double sd = n > 1 ? sqrt(var / (double)(n - 1)) : 0.0;
    *mean = m;
    *half = 1.96 * sd / sqrt((double)n);
}

double st_median(const double *x, size_t n) {
    if (n == 0) return NAN;
    double *s = malloc(n * sizeof *s);
    if (!s) return NAN;
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double m = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
    return m;
}

typedef struct { double v; int from_x; } tagged;

static int cmp_tagged(const void *a, const void *b) {
    double x = ((const tagged *)a)->v, y = ((const tagged *)b)->v;
    return (x > y) - (x < y);
}

// Number of arrangements with U = u for sample sizes (m, n), for u = 0 .. m n:
// f(m, n, u) = f(m - 1, n, u - n) + f(m, n - 1, u) (the largest value is from x or from y).
// Returns P(U <= u) (a probability; counts are kept as doubles, exact for m, n <= 20).
static double exact_cdf(int m, int n, int u) {
    const int W = m * n + 1;
    // f[i][j][.] for i <= m, j <= n: (m + 1)(n + 1) W doubles
    double *f = calloc((size_t)(m + 1) * (n + 1) * W, sizeof *f);
    if (!f) return NAN;
#define F(i, j, k) f[(((size_t)(i) * (n + 1)) + (j)) * W + (k)]
    for (int i = 0; i <= m; i++)
        for (int j = 0; j <= n; j++) {
            if (i == 0 || j == 0) { F(i, j, 0) = 1; continue; }
            for (int k = 0; k <= i * j; k++)
                F(i, j, k) = (k >= j ? F(i - 1, j, k - j) : 0) + (k <= (i) * (j - 1) ? F(i, j - 1, k) : 0);
        }
    double total = 0, below = 0;
    for (int k = 0; k < W; k++) {
        total += F(m, n, k);
        if (k <= u) below += F(m, n, k);
    }
#undef F
    free(f);
    return below / total;
}

int st_mann_whitney(const double *x, size_t n1, const double *y, size_t n2, st_mwu_method m,
                    st_mwu_result *r) {
    memset(r, 0, sizeof *r);
    r->p = NAN;
    if (n1 == 0 || n2 == 0) return -1;
    const size_t n = n1 + n2;
    tagged *a = malloc(n * sizeof *a);
    if (!a) return -1;
    for (size_t i = 0; i < n1; i++) a[i] = (tagged){x[i], 1};
    for (size_t j = 0; j < n2; j++) a[n1 + j] = (tagged){y[j], 0};
    qsort(a, n, sizeof *a, cmp_tagged);
    // Average ranks for ties (1-based); tie term sum(t^3 - t).
    double r1 = 0, tie_term = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && a[j + 1].v == a[i].v) j++;
        double t = (double)(j - i + 1), rank = 0.5 * (double)(i + 1 + j + 1);
        for (size_t k = i; k <= j; k++) if (a[k].from_x) r1 += rank;
        if (t > 1) tie_term += t * t * t - t;
        i = j + 1;
    }
    free(a);
    const double N1 = (double)n1, N2 = (double)n2, NN = (double)n;
    r->u1 = r1 - N1 * (N1 + 1) / 2;
    r->u2 = N1 * N2 - r->u1;
    r->ties = tie_term > 0;
    int exact = m == ST_MWU_EXACT || (m == ST_MWU_AUTO && n1 <= ST_MWU_EXACT_MAX && n2 <= ST_MWU_EXACT_MAX);
    if (r->ties || n1 > 60 || n2 > 60) exact = 0;  // exact distribution assumes no ties
    if (exact) {
        double umin = fmin(r->u1, r->u2);
        double p = 2 * exact_cdf((int)n1, (int)n2, (int)floor(umin + 1e-9));
        if (isnan(p)) return -1;
        r->p = p > 1 ? 1 : p;
        r->exact = 1;
        return 0;
    }
    const double mu = N1 * N2 / 2;
    const double var = N1 * N2 / 12 * ((NN + 1) - tie_term / (NN * (NN - 1)));
    if (!(var > 0)) {  // every value tied: no evidence of any difference
        r->z = 0;
        r->p = 1;
        return 0;
    }
    double z = (fabs(r->u1 - mu) - 0.5) / sqrt(var);
    if (z < 0) z = 0;
    r->z = z;
    r->p = erfc(z / sqrt(2.0));
    if (r->p > 1) r->p = 1;
    return 0;
}
