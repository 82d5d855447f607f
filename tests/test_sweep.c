// Tests for bench/sweep.c: counted bytes per token of every row equal the closed form; the
// sweep's measured crossover t* is within 10% of the analytic one; unavailable counters are
// never written as values; the sweep figures are valid SVG.
#include "bench/counters.h"
#include "bench/results.h"
#include "bench/sweep.h"
#include "kernels/decoder.h"
#include "kernels/err.h"
#include "kernels/rng.h"
#include "kernels/transformer.h"
#include "reports/report_sweep.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *rows3[] = {"kv-softmax", "kv-linear", "fw-float"};

static void check_row(const tf_config *base, const char *name) {
    const dec_ops *ops = dec_find(name);
    cr_assert_not_null(ops, "%s registered", name);
    tf_config c = *base;
    c.attn = ops->attn;
    cr_assert_eq(tf_config_check(&c), 0, "%s", err_msg());
    float *params = malloc(tf_n_params(&c) * sizeof(float));
    rng_t r;
    rng_seed(&r, 7);
    tf_init(&c, params, &r);
    enum { T = 40 };
    dec_row row;
    cr_assert_eq(dec_open(&row, ops, &c, params, T + 1), 0, "%s", err_msg());
    float *e = calloc((size_t)c.d_in, sizeof(float)), logits[64];
    for (int i = 0; i < c.d_in; i++) e[i] = (float)((i * 7) % 5) / 10.0f;
    for (int t = 0; t <= T; t++) {
        // a query at context t, then the support at position t
        for (int kind = 0; kind < 2; kind++) {
            dec_traffic got = {0}, want;
            cr_assert_eq(row.ops->step(&row, e, kind ? t % c.n_labels : -1, logits, &got), 0, "%s", err_msg());
            cr_assert_eq(sweep_closed_form(&c, name, t, kind, &want), 0);
            cr_assert_eq(got.weights_read, want.weights_read, "%s t=%d kind=%d weights %lld vs %lld", name, t, kind,
                         (long long)got.weights_read, (long long)want.weights_read);
            cr_assert_eq(got.kv_read, want.kv_read, "%s t=%d kind=%d kv_read", name, t, kind);
            cr_assert_eq(got.kv_written, want.kv_written, "%s t=%d kind=%d kv_written", name, t, kind);
            cr_assert_eq(got.fw_read, want.fw_read, "%s t=%d kind=%d fw_read", name, t, kind);
            cr_assert_eq(got.fw_written, want.fw_written, "%s t=%d kind=%d fw_written", name, t, kind);
        }
    }
    dec_close(&row);
    free(e);
    free(params);
}

Test(sweep, counted_bytes_equal_closed_form) {
    const tf_config cfgs[] = {
        {.d_in = 64, .d_model = 64, .n_layers = 2, .n_heads = 4, .d_ff = 128, .n_labels = 20},
        {.d_in = 32, .d_model = 32, .n_layers = 1, .n_heads = 2, .d_ff = 48, .n_labels = 5},
        {.d_in = 16, .d_model = 48, .n_layers = 3, .n_heads = 3, .d_ff = 96, .n_labels = 7},
    };
    for (size_t k = 0; k < sizeof cfgs / sizeof *cfgs; k++)
        for (int r = 0; r < 3; r++) check_row(&cfgs[k], rows3[r]);
}

Test(sweep, analytic_t_star) {
    tf_config c = {.d_in = 64, .d_model = 64, .n_layers = 2, .n_heads = 4, .d_ff = 128, .n_labels = 20};
    cr_assert_float_eq(sweep_t_star_analytic(&c, 0), 8.0, 1e-12);   // hd/2
    cr_assert_float_eq(sweep_t_star_analytic(&c, 1), 29.0, 1e-12);  // L(hd-1)/(L-1) - 1
    c.n_layers = 1;
    cr_assert(isinf(sweep_t_star_analytic(&c, 1)));
    // The closed forms cross exactly there.
    c.n_layers = 2;
    dec_traffic a, b;
    sweep_closed_form(&c, "kv-linear", 8, 0, &a);
    sweep_closed_form(&c, "fw-float", 8, 0, &b);
    cr_assert_eq(a.kv_read, b.fw_read);
}

Test(sweep, crossing_interpolates) {
    double t[] = {1, 2, 4, 8}, a[] = {0, 2, 6, 14}, b[] = {5, 5, 5, 5};
    cr_assert_float_eq(sweep_crossing(t, a, b, 4), 2 + 2 * (3.0 / 4.0), 1e-12);
    double c[] = {9, 9, 9, 9};
    cr_assert_float_eq(sweep_crossing(t, c, b, 4), 1.0, 1e-12);
    cr_assert(isnan(sweep_crossing(t, b, c, 4)));
    int tl[200];
    int n = sweep_default_t(65536, tl, 200);
    cr_assert_eq(tl[0], 1);
    cr_assert_eq(tl[63], 64);
    cr_assert_eq(tl[n - 1], 65536);
    for (int i = 1; i < n; i++) cr_assert_gt(tl[i], tl[i - 1]);
}

static char tdir[128];

// A small sweep (t <= 96, two configs) in memory and committed: crossover within 10% of
// analytic, no value column for unavailable counters, figures valid XML.
Test(sweep, small_run_crossover_counters_figures) {
    sweep_options o = {.reps = 3, .seed = 3, .stream_bytes = 1u << 20, .stream_ntimes = 2, .slow_row_t_max = 64};
    o.n_t = sweep_default_t(96, o.t, SWEEP_MAX_T);
    o.n_rows = 3;
    for (int r = 0; r < 3; r++) o.rows[r] = rows3[r];
    o.n_cfg = 2;
    o.d_model[0] = 64; o.n_heads[0] = 4;
    o.d_model[1] = 64; o.n_heads[1] = 2;
    ctr_set ctr;
    // PAPI_TOT_CYC forced unavailable so the check holds on machines with a PMU too.
    ctr_test_force_failure("PAPI_TOT_CYC", -1);
    cr_assert_eq(ctr_open(&ctr, "PAPI_TOT_CYC,perf::TASK-CLOCK"), ERR_OK);
    ctr_test_force_failure(NULL, 0);
    h5r_run run;
    h5r_run_init(&run);
    h5r_attr_str(&run, "kind", "sweep");
    cr_assert_eq(sweep_run(&o, &ctr, &run), ERR_OK, "%s", err_msg());

    h5r_table *x = NULL, *sw = NULL, *cn = NULL;
    for (int i = 0; i < run.n_tables; i++) {
        if (!strcmp(run.tables[i]->name, "crossover")) x = run.tables[i];
        if (!strcmp(run.tables[i]->name, "sweep")) sw = run.tables[i];
        if (!strcmp(run.tables[i]->name, "counters")) cn = run.tables[i];
    }
    cr_assert(x && sw && cn);
    int ca = h5r_col_index(x, "t_star_analytic"), cm = h5r_col_index(x, "t_star_measured_bytes");
    cr_assert_eq(x->n_rows, 8, "2 configs x 2 kv rows x 2 kinds");
    for (size_t r = 0; r < x->n_rows; r++) {
        double an = x->cols[ca].f64[r], me = x->cols[cm].f64[r];
        cr_assert(isfinite(an) && isfinite(me));
        cr_assert(fabs(me - an) <= 0.10 * an, "t* measured %g vs analytic %g", me, an);
    }
    // Counters: the forced one has no value column, its reason is recorded; the fallback
    // column holds real (positive) thread CPU time.
    for (int c = 0; c < sw->n_cols; c++) cr_assert(!strstr(sw->cols[c].name, "PAPI_TOT_CYC"), "%s", sw->cols[c].name);
    int ce = h5r_col_index(cn, "event"), cav = h5r_col_index(cn, "available"), crs = h5r_col_index(cn, "reason");
    int found = 0;
    for (size_t r = 0; r < cn->n_rows; r++)
        if (!strcmp(cn->cols[ce].str + r * cn->cols[ce].str_len, "PAPI_TOT_CYC")) {
            found = 1;
            cr_assert_eq(cn->cols[cav].i64[r], 0);
            cr_assert(cn->cols[crs].str[r * cn->cols[crs].str_len] != 0, "reason recorded");
        }
    cr_assert(found);
    int ccpu = h5r_col_index(sw, "ctr_sys::thread-cpu-ns");
    if (ccpu >= 0)  // present when perf::TASK-CLOCK is unavailable (this VM)
        for (size_t r = 0; r < sw->n_rows; r++) cr_assert(sw->cols[ccpu].f64[r] > 0, "row %zu", r);
    // Closed form beside the counted bytes in every row of the three rows.
    int cb = h5r_col_index(sw, "bytes_read"), cw = h5r_col_index(sw, "bytes_written"), cf = h5r_col_index(sw, "bytes_closed_form");
    for (size_t r = 0; r < sw->n_rows; r++)
        cr_assert_eq((double)(sw->cols[cb].i64[r] + sw->cols[cw].i64[r]), sw->cols[cf].f64[r]);

    snprintf(tdir, sizeof tdir, "/tmp/neuroicl-sweep-XXXXXX");
    cr_assert_not_null(mkdtemp(tdir));
    char path[256], figs[256], cmd[768];
    snprintf(path, sizeof path, "%s/r.h5", tdir);
    snprintf(figs, sizeof figs, "%s/figs", tdir);
    cr_assert_eq(h5r_commit(path, &run), ERR_OK, "%s", err_msg());
    mkdir(figs, 0777);
    if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
        setenv("NEUROICL_REPORTS_DIR", "reports", 0);
        cr_assert_eq(rep_sweep_figures(path, run.run_id, figs), ERR_OK, "%s", err_msg());
        const char *names[] = {"sweep_bytes", "sweep_ns", "roofline"};
        for (int i = 0; i < 3; i++) {
            snprintf(cmd, sizeof cmd, "%s/%s.png", figs, names[i]);
            cr_assert_eq(access(cmd, R_OK), 0, "%s", cmd);
            if (system("command -v xmllint >/dev/null 2>&1") == 0) {
                snprintf(cmd, sizeof cmd, "xmllint --noout '%s/%s.svg'", figs, names[i]);
                cr_assert_eq(system(cmd), 0, "%s", cmd);
            }
        }
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tdir);
    (void)!system(cmd);
    h5r_run_free(&run);
    ctr_close(&ctr);
}
