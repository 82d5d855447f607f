// Tests for reports/report.c: figures from a small synthetic results file.
#include "bench/results.h"
#include "kernels/err.h"
#include "reports/report.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char tdir[256];

static void mk_tdir(void) {
    snprintf(tdir, sizeof tdir, "/tmp/neuroicl-report-XXXXXX");
    cr_assert_not_null(mkdtemp(tdir));
}

static void rm_tdir(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tdir);
    (void)!system(cmd);
}

static const char *impls[2] = {"kv-softmax", "fw-float"};
enum { N_EP = 3, N_T = 6 };

// Deterministic synthetic traffic: KV grows with t, fast weights stay constant.
static int64_t bytes_r(int k, int ep, int t) { return k == 0 ? 1000 + 64 * t * (ep + 1) : 4096 + ep; }
static int64_t bytes_w(int k, int ep, int t) { return k == 0 ? 128 + ep : 4096 + 3 * t; }

static void make_file(const char *path, char *run_id) {
    h5r_run r;
    h5r_run_init(&r);
    h5r_attr_str(&r, "task", "synthetic");
    h5r_attr_i64(&r, "n_way", 5);
    h5r_attr_i64(&r, "k_shot", 1);
    h5r_table *s = h5r_run_table(&r, "summary");
    int ci = h5r_table_col(s, "impl", H5R_STR, 32), ca = h5r_table_col(s, "accuracy", H5R_F64, 0);
    int cl = h5r_table_col(s, "ci_lo", H5R_F64, 0), ch = h5r_table_col(s, "ci_hi", H5R_F64, 0);
    int cn = h5r_table_col(s, "n_queries", H5R_I64, 0);
    for (int k = 0; k < 2; k++) {
        long row = h5r_table_row(s);
        h5r_set_str(s, ci, (size_t)row, impls[k]);
        h5r_set_f64(s, ca, (size_t)row, 0.5 + 0.25 * k);
        h5r_set_f64(s, cl, (size_t)row, 0.4 + 0.25 * k);
        h5r_set_f64(s, ch, (size_t)row, 0.6 + 0.25 * k);
        h5r_set_i64(s, cn, (size_t)row, 100);
    }
    h5r_table *t = h5r_run_table(&r, "tokens");
    int ti = h5r_table_col(t, "impl", H5R_STR, 32), te = h5r_table_col(t, "episode", H5R_I64, 0);
    int tt = h5r_table_col(t, "t", H5R_I64, 0), tn = h5r_table_col(t, "ns", H5R_F64, 0);
    int tr = h5r_table_col(t, "bytes_read", H5R_I64, 0), tw = h5r_table_col(t, "bytes_written", H5R_I64, 0);
    for (int k = 0; k < 2; k++)
        for (int ep = 0; ep < N_EP; ep++)
            for (int p = 0; p < N_T; p++) {
                long row = h5r_table_row(t);
                h5r_set_str(t, ti, (size_t)row, impls[k]);
                h5r_set_i64(t, te, (size_t)row, ep);
                h5r_set_i64(t, tt, (size_t)row, p);
                h5r_set_f64(t, tn, (size_t)row, 100.0);
                h5r_set_i64(t, tr, (size_t)row, bytes_r(k, ep, p));
                h5r_set_i64(t, tw, (size_t)row, bytes_w(k, ep, p));
            }
    cr_assert_eq(h5r_commit(path, &r), ERR_OK, "%s", err_msg());
    snprintf(run_id, 96, "%s", r.run_id);
    h5r_run_free(&r);
}

static long fsize(const char *dir, const char *name) {
    char p[400];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static void check_svg(const char *dir, const char *name) {
    char p[400], cmd[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (system("command -v xmllint >/dev/null 2>&1") == 0) {
        snprintf(cmd, sizeof cmd, "xmllint --noout '%s' 2>/dev/null", p);
        cr_assert_eq(system(cmd), 0, "%s is not well-formed XML", p);
        return;
    }
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f);
    char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cr_assert(!strncmp(buf, "<?xml", 5) || !strncmp(buf, "<svg", 4));
    cr_assert(strstr(buf, "</svg>"));
}

TestSuite(report, .init = mk_tdir, .fini = rm_tdir);

Test(report, figures_and_data) {
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) cr_skip_test("gnuplot not installed");
    char path[300], out[300], run[96];
    snprintf(path, sizeof path, "%s/r.h5", tdir);
    snprintf(out, sizeof out, "%s/figs/sub", tdir);
    make_file(path, run);
    cr_assert_eq(rep_figures(path, NULL, out), ERR_OK, "%s", err_msg());
    const char *files[] = {"accuracy.png", "accuracy.svg", "traffic.png", "traffic.svg",
                           "accuracy.dat", "traffic.dat", "replot.sh"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        cr_assert_gt(fsize(out, files[i]), 0, "%s missing or empty", files[i]);
    check_svg(out, "accuracy.svg");
    check_svg(out, "traffic.svg");

    // traffic.dat: block k = impl k; each row t, mean(read+written), mean read, mean written, n.
    char p[400], line[256];
    snprintf(p, sizeof p, "%s/traffic.dat", out);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f);
    int k = -1, rows = 0;
    while (fgets(line, sizeof line, f)) {
        char name[64];
        if (sscanf(line, "# impl %63s", name) == 1) {
            k++;
            cr_assert_str_eq(name, impls[k]);
            continue;
        }
        if (line[0] == '#' || line[0] == '\n') continue;
        long t, n;
        double mb, mr, mw;
        cr_assert_eq(sscanf(line, "%ld %lf %lf %lf %ld", &t, &mb, &mr, &mw, &n), 5, "%s", line);
        double er = 0, ew = 0;
        for (int ep = 0; ep < N_EP; ep++) {
            er += (double)bytes_r(k, ep, (int)t);
            ew += (double)bytes_w(k, ep, (int)t);
        }
        er /= N_EP;
        ew /= N_EP;
        cr_assert_float_eq(mr, er, 1e-9 * er);
        cr_assert_float_eq(mw, ew, 1e-9 * ew);
        cr_assert_float_eq(mb, er + ew, 1e-9 * (er + ew));
        cr_assert_eq(n, N_EP);
        rows++;
    }
    fclose(f);
    cr_assert_eq(k, 1);
    cr_assert_eq(rows, 2 * N_T);

    snprintf(p, sizeof p, "%s/accuracy.dat", out);
    f = fopen(p, "r");
    cr_assert_not_null(f);
    int r = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        int idx;
        char name[64];
        double a, lo, hi;
        long n;
        cr_assert_eq(sscanf(line, "%d %63s %lf %lf %lf %ld", &idx, name, &a, &lo, &hi, &n), 6);
        cr_assert_str_eq(name, impls[r]);
        cr_assert_float_eq(a, 50 + 25 * r, 1e-9);
        cr_assert_float_eq(lo, 40 + 25 * r, 1e-9);
        cr_assert_float_eq(hi, 60 + 25 * r, 1e-9);
        cr_assert_eq(n, 100);
        r++;
    }
    fclose(f);
    cr_assert_eq(r, 2);

    // An explicit run id works too, an unknown one is a one-line error.
    cr_assert_eq(rep_figures(path, run, out), ERR_OK, "%s", err_msg());
    cr_assert_neq(rep_figures(path, "19700101T000000Z-dead", out), ERR_OK);
}

Test(report, missing_file_is_error) {
    char out[300];
    snprintf(out, sizeof out, "%s/figs", tdir);
    cr_assert_eq(rep_figures("/nonexistent/r.h5", NULL, out), ERR_IO);
}
