// report_sweep (rep_) — see reports/report_sweep.h. Everything plotted is written to the .dat
// files first, from the run's tables; query tokens (reps timed at one context) are drawn.
#include "reports/report_sweep.h"
#include "bench/results.h"
#include "kernels/err.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REP_MAX_SERIES 32

typedef struct {
    h5r_table t;
    int impl, cfg, d, h, tt, kind, med, mn, mx, br, bw, kvr, kvw, fwr, fww, cf, fl;
} sweep_tab;

static int col(const h5r_table *t, const char *name, const char *path) {
    int c = h5r_col_index(t, name);
    if (c < 0) err_set(ERR_FORMAT, "%s: table %s lacks column '%s'", path, t->name, name);
    return c;
}

static const char *cstr(const h5r_table *t, int c, size_t r) { return t->cols[c].str + r * (size_t)t->cols[c].str_len; }

// Series = distinct (config, impl) in first-appearance order. Label "impl" for one config,
// "impl d=64 H=4" for several.
typedef struct { int cfg; char impl[32]; char label[64]; } series;

static int find_series(const sweep_tab *s, series *out) {
    int n = 0, multi = 0;
    for (size_t r = 0; r < s->t.n_rows; r++) {
        int cfg = (int)s->t.cols[s->cfg].i64[r];
        if (cfg != s->t.cols[s->cfg].i64[0]) multi = 1;
        int k = 0;
        while (k < n && !(out[k].cfg == cfg && !strcmp(out[k].impl, cstr(&s->t, s->impl, r)))) k++;
        if (k == n && n < REP_MAX_SERIES) {
            out[n].cfg = cfg;
            snprintf(out[n].impl, sizeof out[n].impl, "%s", cstr(&s->t, s->impl, r));
            snprintf(out[n].label, sizeof out[n].label, "%s_d=%lld_H=%lld", out[n].impl,
                     (long long)s->t.cols[s->d].i64[r], (long long)s->t.cols[s->h].i64[r]);
            n++;
        }
    }
    if (!multi)
        for (int k = 0; k < n; k++) snprintf(out[k].label, sizeof out[k].label, "%s", out[k].impl);
    return n;
}

static int in_series(const sweep_tab *s, size_t r, const series *se, const char *kind) {
    return s->t.cols[s->cfg].i64[r] == se->cfg && !strcmp(cstr(&s->t, s->impl, r), se->impl) &&
           !strcmp(cstr(&s->t, s->kind, r), kind);
}

static void labels_join(const series *se, int n, char *out, size_t cap) {
    out[0] = 0;
    for (int k = 0; k < n; k++) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", k ? " " : "", se[k].label);
    }
}

int rep_sweep_figures(const char *path, const char *run, const char *dir) {
    sweep_tab s;
    int rc = h5r_read_table(path, run, "sweep", &s.t);
    if (rc) return rc;
    const h5r_table *t = &s.t;
    s.impl = col(t, "impl", path); s.cfg = col(t, "config", path); s.d = col(t, "d_model", path);
    s.h = col(t, "n_heads", path); s.tt = col(t, "t", path); s.kind = col(t, "kind", path);
    s.med = col(t, "ns_median", path); s.mn = col(t, "ns_min", path); s.mx = col(t, "ns_max", path);
    s.br = col(t, "bytes_read", path); s.bw = col(t, "bytes_written", path);
    s.kvr = col(t, "kv_read", path); s.kvw = col(t, "kv_written", path);
    s.fwr = col(t, "fw_read", path); s.fww = col(t, "fw_written", path);
    s.cf = col(t, "bytes_closed_form", path); s.fl = col(t, "flops_closed_form", path);
    if (s.impl < 0 || s.cfg < 0 || s.d < 0 || s.h < 0 || s.tt < 0 || s.kind < 0 || s.med < 0 || s.mn < 0 ||
        s.mx < 0 || s.br < 0 || s.bw < 0 || s.kvr < 0 || s.kvw < 0 || s.fwr < 0 || s.fww < 0 || s.cf < 0 || s.fl < 0) {
        h5r_table_free(&s.t);
        return ERR_FORMAT;
    }
    series se[REP_MAX_SERIES];
    int ns = find_series(&s, se);
    char obj[256];
    snprintf(obj, sizeof obj, "/runs/%s", run);
    double triad = NAN, peak = NAN, triad_cache = NAN;
    h5r_read_attr_f64(path, obj, "triad_gbs_cache_1t", &triad_cache);
    if (h5r_read_attr_f64(path, obj, "triad_gbs_1t_best", &triad)) h5r_read_attr_f64(path, obj, "triad_gbs_1t", &triad);
    h5r_read_attr_f64(path, obj, "compute_ceiling_gflops_1t", &peak);
    // A probe with arrays under 4x the LLC (sweep --quick) measures partly cached bandwidth:
    // say so on the ceiling instead of calling it DRAM.
    double llc_mult = NAN;
    char triad_label[64] = "DRAM triad";
    if (h5r_read_attr_f64(path, obj, "triad_llc_multiple", &llc_mult) == 0 && llc_mult < 4)
        snprintf(triad_label, sizeof triad_label, "triad (arrays %.1fx LLC, partly cached)", llc_mult);
    // t* of the first config (query tokens): measured from counted bytes, and analytic.
    double tq = NAN, tq_an = NAN, tq_time = NAN;
    char tq_cfg[64] = "";
    h5r_table x;
    if (h5r_read_table(path, run, "crossover", &x) == 0) {
        int ck = h5r_col_index(&x, "kind"), cm = h5r_col_index(&x, "t_star_measured_bytes"),
            ca = h5r_col_index(&x, "t_star_analytic"), cc = h5r_col_index(&x, "config");
        for (size_t r = 0; ck >= 0 && cm >= 0 && ca >= 0 && cc >= 0 && r < x.n_rows; r++)
            if (!strcmp(cstr(&x, ck, r), "query") && x.cols[cc].i64[r] == 0 && isnan(tq)) {
                tq = x.cols[cm].f64[r];
                tq_an = x.cols[ca].f64[r];
                int ct = h5r_col_index(&x, "t_star_measured_time");   // absent in older runs
                if (ct >= 0) tq_time = x.cols[ct].f64[r];
                int cd = h5r_col_index(&x, "d_model"), chh = h5r_col_index(&x, "n_heads");
                if (cd >= 0 && chh >= 0)
                    snprintf(tq_cfg, sizeof tq_cfg, "d=%lld H=%lld", (long long)x.cols[cd].i64[r],
                             (long long)x.cols[chh].i64[r]);
            }
        h5r_table_free(&x);
    }
    err_clear();

    char dat[3][PATH_MAX], base[3][PATH_MAX];
    const char *names[3] = {REP_FIG_SWEEP_BYTES, REP_FIG_SWEEP_NS, REP_FIG_ROOFLINE};
    FILE *f[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3; i++) {
        snprintf(dat[i], sizeof dat[i], "%s/%s.dat", dir, names[i]);
        snprintf(base[i], sizeof base[i], "%s/%s", dir, names[i]);
        if (!(f[i] = fopen(dat[i], "w"))) {
            rc = err_set(ERR_IO, "cannot write %s: %s", dat[i], strerror(errno));
            goto out;
        }
    }
    fprintf(f[0], "# counted bytes per query token vs context t (table sweep of run %s)\n"
                  "# one block per series (gnuplot index), in the order of the labels\n"
                  "# t bytes_total bytes_closed_form kv_bytes fw_bytes\n", run);
    fprintf(f[1], "# ns per query token vs context t (median, min, max over the reps; run %s)\n"
                  "# t ns_median ns_min ns_max\n", run);
    fprintf(f[2], "# roofline points: query tokens, arithmetic intensity = closed-form flops / counted bytes,\n"
                  "# attained GFLOP/s = flops / median ns; ceilings: triad %.3f GB/s (DRAM), %.3f GB/s (L2-resident),\n"
                  "# FMA %.3f GFLOP/s (same run)\n"
                  "# intensity_flop_per_byte gflops t gbs\n", triad, triad_cache, peak);
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < 3; i++) {
            fprintf(f[i], "%s# series %s\n", k ? "\n\n" : "", se[k].label);
            for (size_t r = 0; r < t->n_rows; r++) {
                if (!in_series(&s, r, &se[k], "query")) continue;
                double b = (double)(t->cols[s.br].i64[r] + t->cols[s.bw].i64[r]);
                long long tt = (long long)t->cols[s.tt].i64[r];
                if (i == 0)
                    fprintf(f[0], "%lld %.17g %.17g %lld %lld\n", tt, b, t->cols[s.cf].f64[r],
                            (long long)(t->cols[s.kvr].i64[r] + t->cols[s.kvw].i64[r]),
                            (long long)(t->cols[s.fwr].i64[r] + t->cols[s.fww].i64[r]));
                else if (i == 1)
                    fprintf(f[1], "%lld %.10g %.10g %.10g\n", tt, t->cols[s.med].f64[r], t->cols[s.mn].f64[r],
                            t->cols[s.mx].f64[r]);
                else if (isfinite(t->cols[s.fl].f64[r]))
                    fprintf(f[2], "%.10g %.10g %lld %.10g\n", t->cols[s.fl].f64[r] / b,
                            t->cols[s.fl].f64[r] / t->cols[s.med].f64[r], tt, b / t->cols[s.med].f64[r]);
            }
        }
    for (int i = 0; i < 3; i++) {
        int bad = fclose(f[i]) != 0;
        f[i] = NULL;
        if (bad) { rc = err_set(ERR_IO, "cannot write %s", dat[i]); goto out; }
    }
    char labels[2048], vars[3 * PATH_MAX + 4096], rvars[4096];
    labels_join(se, ns, labels, sizeof labels);
    char run_clean[128];
    snprintf(run_clean, sizeof run_clean, "%s", run);
    for (char *p = run_clean; *p; p++) if (strchr("'\"\\`$", *p)) *p = '_';
    int multi_cfg = 0;
    for (int k = 0; k < ns; k++) multi_cfg |= se[k].cfg != se[0].cfg;
    if (!multi_cfg) tq_cfg[0] = 0;
    const char *extra_fmt[3] = {"tstar=%.17g;tstar_analytic=%.17g;tstar_cfg=\"%s\";tstar_time=%.17g",
                                "tstar=%.17g;tstar_analytic=%.17g;tstar_cfg=\"%s\";tstar_time=%.17g",
                                "triad=%.17g;peak=%.17g;triad_cache=%.17g;triad_label=\"%s\""};
    for (int i = 0; i < 3; i++) {
        char extra[256];
        if (i < 2) snprintf(extra, sizeof extra, extra_fmt[i], isfinite(tq) ? tq : -1.0, isfinite(tq_an) ? tq_an : -1.0, tq_cfg,
                            isfinite(tq_time) ? tq_time : -1.0);
        else snprintf(extra, sizeof extra, extra_fmt[i], isfinite(triad) ? triad : -1.0, isfinite(peak) ? peak : -1.0,
                      isfinite(triad_cache) ? triad_cache : -1.0, triad_label);
        snprintf(vars, sizeof vars, "datafile=\"%s\";outbase=\"%s\";title_text=\"sweep run %s\";labels=\"%s\";%s",
                 dat[i], base[i], run_clean, labels, extra);
        snprintf(rvars, sizeof rvars, "datafile=\"%s.dat\";outbase=\"%s\";title_text=\"sweep run %s\";labels=\"%s\";%s",
                 names[i], names[i], run_clean, labels, extra);
        if ((rc = rep_gnuplot(names[i], vars, rvars, dir, base[i]))) goto out;
    }
out:
    for (int i = 0; i < 3; i++) if (f[i]) fclose(f[i]);
    h5r_table_free(&s.t);
    return rc;
}

// ---------------------------------------------------------------- accuracy vs shots ---------

int rep_shots_figure(const char *path, const char *dir, int *drawn) {
    *drawn = 0;
    char **ids;
    int n, rc;
    if ((rc = h5r_list_runs(path, &ids, &n))) return rc;
    // Rows: (impl, k_shot, accuracy, ci_lo, ci_hi, n_queries) from the eval runs with the
    // latest eval run's n_way; a later run at the same (impl, k) replaces an earlier one.
    enum { MAXP = 512 };
    struct { char impl[32]; long k; double acc, lo, hi; long nq; } *p = calloc(MAXP, sizeof *p);
    int np = 0;
    // Only whole runs (not interrupted) of the latest eval run's n_way, task and model.
    int64_t want_way = -1;
    char want_task[64] = "", want_model[64] = "";
    for (int i = n - 1; i >= 0 && want_way < 0; i--) {
        char obj[256], kind[32] = "", intr[16] = "";
        snprintf(obj, sizeof obj, "/runs/%s", ids[i]);
        if (h5r_read_attr_str(path, obj, "interrupted", intr, sizeof intr) == 0) continue;
        if (h5r_read_attr_str(path, obj, "kind", kind, sizeof kind) == 0 && !strcmp(kind, "eval")) {
            h5r_read_attr_i64(path, obj, "n_way", &want_way);
            h5r_read_attr_str(path, obj, "task", want_task, sizeof want_task);
            h5r_read_attr_str(path, obj, "model_hash", want_model, sizeof want_model);
        }
    }
    for (int i = 0; p && i < n; i++) {
        char obj[256], kind[32] = "", intr[16] = "", task[64] = "", model[64] = "";
        int64_t k = -1, way = -1;
        snprintf(obj, sizeof obj, "/runs/%s", ids[i]);
        if (h5r_read_attr_str(path, obj, "kind", kind, sizeof kind) || strcmp(kind, "eval")) continue;
        if (h5r_read_attr_str(path, obj, "interrupted", intr, sizeof intr) == 0) continue;
        h5r_read_attr_str(path, obj, "task", task, sizeof task);
        h5r_read_attr_str(path, obj, "model_hash", model, sizeof model);
        if (strcmp(task, want_task) || strcmp(model, want_model)) continue;
        if (h5r_read_attr_i64(path, obj, "k_shot", &k) || h5r_read_attr_i64(path, obj, "n_way", &way) || way != want_way)
            continue;
        h5r_table t;
        if (h5r_read_table(path, ids[i], "summary", &t)) continue;
        int ci = h5r_col_index(&t, "impl"), ca = h5r_col_index(&t, "accuracy"), cl = h5r_col_index(&t, "ci_lo"),
            ch = h5r_col_index(&t, "ci_hi"), cn = h5r_col_index(&t, "n_queries");
        for (size_t r = 0; ci >= 0 && ca >= 0 && cl >= 0 && ch >= 0 && cn >= 0 && r < t.n_rows; r++) {
            int j = 0;
            while (j < np && !(p[j].k == k && !strcmp(p[j].impl, cstr(&t, ci, r)))) j++;
            if (j == np) { if (np == MAXP) break; np++; }
            snprintf(p[j].impl, sizeof p[j].impl, "%s", cstr(&t, ci, r));
            p[j].k = (long)k;
            p[j].acc = 100 * t.cols[ca].f64[r]; p[j].lo = 100 * t.cols[cl].f64[r]; p[j].hi = 100 * t.cols[ch].f64[r];
            p[j].nq = (long)t.cols[cn].i64[r];
        }
        h5r_table_free(&t);
    }
    h5r_ids_free(ids, n);
    err_clear();
    if (!p) return err_set(ERR_NOMEM, "out of memory");
    long k0 = np ? p[0].k : -1;
    int distinct = 0;
    for (int j = 0; j < np; j++) distinct |= p[j].k != k0;
    if (!distinct) {  // nothing to draw: not an error
        free(p);
        return ERR_OK;
    }
    char dat[PATH_MAX], base[PATH_MAX], labels[1024] = "";
    snprintf(dat, sizeof dat, "%s/%s.dat", dir, REP_FIG_SHOTS);
    snprintf(base, sizeof base, "%s/%s", dir, REP_FIG_SHOTS);
    FILE *f = fopen(dat, "w");
    if (!f) { free(p); return err_set(ERR_IO, "cannot write %s: %s", dat, strerror(errno)); }
    fprintf(f, "# accuracy vs shots per implementation (eval runs, %lld-way; table summary)\n"
               "# one block per impl; k_shot accuracy_pct ci_lo_pct ci_hi_pct n_queries\n", (long long)want_way);
    int nb = 0;
    for (int j = 0; j < np; j++) {
        int first = 1;
        for (int i = 0; i < j; i++) first &= strcmp(p[i].impl, p[j].impl) != 0;
        if (!first) continue;
        fprintf(f, "%s# impl %s\n", nb ? "\n\n" : "", p[j].impl);
        size_t len = strlen(labels);
        snprintf(labels + len, sizeof labels - len, "%s%s", nb ? " " : "", p[j].impl);
        nb++;
        for (long k = 0; k <= 100000; k++) {  // ascending k
            int any = 0;
            for (int i = 0; i < np; i++)
                if (!strcmp(p[i].impl, p[j].impl) && p[i].k == k) {
                    fprintf(f, "%ld %.10g %.10g %.10g %ld\n", k, p[i].acc, p[i].lo, p[i].hi, p[i].nq);
                    any = 1;
                }
            (void)any;
            if (k > 2000) break;
        }
    }
    if (fclose(f)) { free(p); return err_set(ERR_IO, "cannot write %s", dat); }
    // The k values drawn become the x tics; the task and N go into the title.
    char kvals[256] = "", title[160];
    for (long k = 1; k <= 2000; k++)
        for (int j = 0; j < np; j++)
            if (p[j].k == k) {
                size_t len = strlen(kvals);
                snprintf(kvals + len, sizeof kvals - len, "%s%ld", len ? " " : "", k);
                break;
            }
    for (char *c = want_task; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '_')) *c = '_';
    snprintf(title, sizeof title, "%s %lld-way: accuracy vs shots (95%% CI)", want_task[0] ? want_task : "?",
             (long long)want_way);
    free(p);
    char vars[2 * PATH_MAX + 2048], rvars[2048];
    snprintf(vars, sizeof vars, "datafile=\"%s\";outbase=\"%s\";labels=\"%s\";chance=%g;kvals=\"%s\";title_text=\"%s\"",
             dat, base, labels, want_way > 0 ? 100.0 / want_way : -1.0, kvals, title);
    snprintf(rvars, sizeof rvars, "datafile=\"%s.dat\";outbase=\"%s\";labels=\"%s\";chance=%g;kvals=\"%s\";title_text=\"%s\"",
             REP_FIG_SHOTS, REP_FIG_SHOTS, labels, want_way > 0 ? 100.0 / want_way : -1.0, kvals, title);
    rc = rep_gnuplot(REP_FIG_SHOTS, vars, rvars, dir, base);
    *drawn = rc == ERR_OK;
    return rc;
}
