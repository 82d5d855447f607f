// report_loihi2 (rep_) — the modelled Loihi 2 cost per token beside the CPU rows'
// measurements, for an eval run that ran loihi2-emu (tables loihi2 and summary).
// Left panel: time per token — measured wall time (median) of each CPU row and the modelled
// Loihi time of loihi2-emu. Right panel: modelled Loihi energy per token (support, query,
// all tokens). CPU energy is not drawn: no energy counter (RAPL) is read by neuroicl, and a
// figure does not invent one.
#include "reports/report.h"
#include "reports/report_sweep.h"
#include "bench/results.h"
#include "kernels/err.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define REP_FIG_LOIHI2 "loihi2_cost"

int rep_loihi2_figure(const char *path, const char *run, const char *dir, const char *title, int *drawn) {
    *drawn = 0;
    h5r_table l2, sum;
    if (h5r_read_table(path, run, "loihi2", &l2)) { err_clear(); return ERR_OK; }  // no emulator row
    if (h5r_read_table(path, run, "summary", &sum)) { h5r_table_free(&l2); err_clear(); return ERR_OK; }
    int lk = h5r_col_index(&l2, "kind"), le = h5r_col_index(&l2, "energy_j_per_token_modelled"),
        lt = h5r_col_index(&l2, "time_s_per_token_modelled"), ls = h5r_col_index(&l2, "timesteps_per_token");
    int si = h5r_col_index(&sum, "impl"), sn = h5r_col_index(&sum, "ns_per_token_median");
    int rc = ERR_OK;
    if (lk < 0 || le < 0 || lt < 0 || ls < 0 || si < 0 || sn < 0) {
        rc = err_set(ERR_FORMAT, "%s: run %s: loihi2 or summary table lacks the cost columns", path, run);
        goto out;
    }
    char dat[PATH_MAX], base[PATH_MAX];
    snprintf(dat, sizeof dat, "%s/%s.dat", dir, REP_FIG_LOIHI2);
    snprintf(base, sizeof base, "%s/%s", dir, REP_FIG_LOIHI2);
    FILE *f = fopen(dat, "w");
    if (!f) { rc = err_set(ERR_IO, "cannot write %s: %s", dat, strerror(errno)); goto out; }
    double l2_time_all = -1;
    for (size_t r = 0; r < l2.n_rows; r++)
        if (!strcmp(l2.cols[lk].str + r * l2.cols[lk].str_len, "all")) l2_time_all = l2.cols[lt].f64[r];
    fprintf(f, "# time per token: CPU rows measured (median wall time), loihi2-emu modelled (Loihi 1\n"
               "# per-operation timings, see table loihi2_cost_constants); run %s\n"
               "# index label microseconds kind\n", run);
    int n = 0;
    for (size_t r = 0; r < sum.n_rows; r++) {
        const char *impl = sum.cols[si].str + r * sum.cols[si].str_len;
        if (!strcmp(impl, "loihi2-emu")) {
            if (l2_time_all >= 0) fprintf(f, "%d Loihi-modelled %.6g modelled\n", n++, 1e6 * l2_time_all);
            fprintf(f, "%d loihi2-emu_on_CPU %.6g measured\n", n++, sum.cols[sn].f64[r] / 1000.0);
        } else {
            fprintf(f, "%d %s %.6g measured\n", n++, impl, sum.cols[sn].f64[r] / 1000.0);
        }
    }
    fprintf(f, "\n\n# modelled Loihi energy per token (microjoules) and timesteps per token\n"
               "# index kind microjoules timesteps\n");
    for (size_t r = 0; r < l2.n_rows; r++)
        fprintf(f, "%zu %s %.6g %.6g\n", r, l2.cols[lk].str + r * l2.cols[lk].str_len, 1e6 * l2.cols[le].f64[r],
                l2.cols[ls].f64[r]);
    if (fclose(f)) { rc = err_set(ERR_IO, "cannot write %s", dat); goto out; }
    char vars[2 * PATH_MAX + 1024], rvars[1024];
    snprintf(vars, sizeof vars, "datafile=\"%s\";outbase=\"%s\";title_text=\"%s\"", dat, base, title);
    snprintf(rvars, sizeof rvars, "datafile=\"%s.dat\";outbase=\"%s\";title_text=\"%s\"", REP_FIG_LOIHI2,
             REP_FIG_LOIHI2, title);
    rc = rep_gnuplot(REP_FIG_LOIHI2, vars, rvars, dir, base);
    *drawn = rc == ERR_OK;
out:
    h5r_table_free(&l2);
    h5r_table_free(&sum);
    return rc;
}
