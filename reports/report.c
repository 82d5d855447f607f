// report (rep_) — see reports/report.h. The data reduction (means per (impl, t), percent
// conversion) is done here in C and written to .dat files; gnuplot only draws them, so the
// numbers in a figure are exactly the numbers in its .dat file.
#include "reports/report.h"
#include "bench/results.h"
#include "kernels/err.h"
#include "reports/report_sweep.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// mkdir -p
static int make_dirs(const char *dir) {
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
        return err_set(ERR_ARG, "output directory path too long: %s", dir);
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                return err_set(ERR_IO, "cannot create figure directory %s: %s", p, strerror(errno));
            *s = c;
            if (!c) break;
        }
    }
    return ERR_OK;
}

// Paths end up inside a shell command and a gnuplot string: refuse the characters that
// would need escaping in either rather than escape them imperfectly.
static int check_quotable(const char *what, const char *s) {
    if (strpbrk(s, "'\"\\\n`$"))
        return err_set(ERR_ARG, "%s '%s' contains a quote, backslash, $ or newline; "
                                "choose a plainer path", what, s);
    return ERR_OK;
}

// Copies `s` into a token safe for a whitespace-separated .dat column and gnuplot word().
static void dat_word(char *out, size_t n, const char *s) {
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++) {
        char c = s[i];
        out[i] = (c == ' ' || c == '\t' || c == '\n' || c == '"' || c == '\'' || c == '\\' || c == '#')
                 ? '_' : c;
    }
    out[i] = 0;
    if (!i && n > 1) snprintf(out, n, "?");
}

// Finds <name>.gp; returns ERR_IO with the places looked in.
static int find_script(const char *name, char *out, size_t n) {
    char exe[PATH_MAX], cand[3][PATH_MAX + 64];
    int nc = 0;
    const char *env = getenv("NEUROICL_REPORTS_DIR");
    if (env && env[0]) snprintf(cand[nc++], sizeof cand[0], "%s/%s.gp", env, name);
    snprintf(cand[nc++], sizeof cand[0], "reports/%s.gp", name);
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        snprintf(cand[nc++], sizeof cand[0], "%s/../reports/%s.gp", exe, name);
    }
    for (int i = 0; i < nc; i++)
        if (access(cand[i], R_OK) == 0) {
            if (strlen(cand[i]) >= n) break;
            memcpy(out, cand[i], strlen(cand[i]) + 1);
            return ERR_OK;
        }
    return err_set(ERR_IO, "gnuplot script %s.gp not found in $NEUROICL_REPORTS_DIR, ./reports "
                           "or next to the executable; run from the neuroicl source tree", name);
}

static int need_col(const h5r_table *t, const char *name, h5r_type type, const char *path) {
    int c = h5r_col_index(t, name);
    if (c < 0 || t->cols[c].type != type)
        return err_set(ERR_FORMAT, "%s: table %s lacks column '%s' of the expected type (schema v1)",
                       path, t->name, name), -1;
    return c;
}

static int table_exists(const char *path, const char *run, const char *name, h5r_table *t) {
    int rc = h5r_read_table(path, run, name, t);
    if (rc == ERR_FORMAT && strstr(err_msg(), "has no table")) return 0;
    return rc ? -rc : 1;
}

// accuracy.dat: index, impl, accuracy %, CI low %, CI high %, n_queries.
static int write_accuracy(const char *path, const h5r_table *t, const char *dat) {
    int ci = need_col(t, "impl", H5R_STR, path), ca = need_col(t, "accuracy", H5R_F64, path);
    int cl = need_col(t, "ci_lo", H5R_F64, path), ch = need_col(t, "ci_hi", H5R_F64, path);
    int cn = need_col(t, "n_queries", H5R_I64, path);
    if (ci < 0 || ca < 0 || cl < 0 || ch < 0 || cn < 0) return ERR_FORMAT;
    if (t->n_rows == 0) return err_set(ERR_FORMAT, "%s: table summary is empty", path);
    FILE *f = fopen(dat, "w");
    if (!f) return err_set(ERR_IO, "cannot write %s: %s", dat, strerror(errno));
    fprintf(f, "# accuracy per implementation (from table summary; fractions x 100)\n"
               "# index impl accuracy_pct ci_lo_pct ci_hi_pct n_queries\n");
    for (size_t r = 0; r < t->n_rows; r++) {
        char impl[128];
        dat_word(impl, sizeof impl, t->cols[ci].str + r * (size_t)t->cols[ci].str_len);
        fprintf(f, "%zu %s %.10g %.10g %.10g %lld\n", r, impl, 100.0 * t->cols[ca].f64[r],
                100.0 * t->cols[cl].f64[r], 100.0 * t->cols[ch].f64[r],
                (long long)t->cols[cn].i64[r]);
    }
    if (fclose(f) != 0) return err_set(ERR_IO, "cannot write %s: %s", dat, strerror(errno));
    return ERR_OK;
}

// traffic.dat: one block per impl (first-appearance order); per t: mean bytes (read+written),
// mean read, mean written, rows averaged (episodes, and queries sharing one t).
// `impls` gets the space-separated impl names in block order.
// notcounted (n_impls) gets the impls whose traffic is not counted (-1): they get no block.
static int write_traffic(const char *path, const h5r_table *t, const char *dat, char *impls, size_t n_impls,
                         char *notcounted) {
    int ci = need_col(t, "impl", H5R_STR, path), ct = need_col(t, "t", H5R_I64, path);
    int cr = need_col(t, "bytes_read", H5R_I64, path), cw = need_col(t, "bytes_written", H5R_I64, path);
    if (ci < 0 || ct < 0 || cr < 0 || cw < 0) return ERR_FORMAT;
    if (t->n_rows == 0) return err_set(ERR_FORMAT, "%s: table tokens is empty", path);
    int ck = h5r_col_index(t, "kind");  // optional: "support" / "query"
    if (ck >= 0 && t->cols[ck].type != H5R_STR) ck = -1;
    const h5r_column *cim = &t->cols[ci];
    int64_t max_t = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        int64_t v = t->cols[ct].i64[r];
        if (v < 0 || v > 100000000)
            return err_set(ERR_FORMAT, "%s: tokens row %zu has position t=%lld", path, r, (long long)v);
        if (v > max_t) max_t = v;
    }
    size_t nt = (size_t)max_t + 1;
    size_t *first = malloc(t->n_rows * sizeof *first);  // (n_impl) row of first appearance
    double *sum_r = calloc(nt, sizeof *sum_r), *sum_w = calloc(nt, sizeof *sum_w);  // (nt)
    long *cnt = calloc(nt, sizeof *cnt);  // (nt)
    FILE *f = NULL;
    int rc = ERR_OK, n_impl = 0;
    if (!first || !sum_r || !sum_w || !cnt) { rc = err_set(ERR_NOMEM, "out of memory"); goto out; }
    for (size_t r = 0; r < t->n_rows; r++) {
        const char *s = cim->str + r * (size_t)cim->str_len;
        int k = 0;
        while (k < n_impl && strcmp(cim->str + first[k] * (size_t)cim->str_len, s) != 0) k++;
        if (k == n_impl) first[n_impl++] = r;
    }
    if (!(f = fopen(dat, "w"))) { rc = err_set(ERR_IO, "cannot write %s: %s", dat, strerror(errno)); goto out; }
    fprintf(f, "# counted memory traffic per token vs position (from table tokens), mean over episodes\n"
               "# one block per implementation, blocks separated by two blank lines (gnuplot index)\n"
               "# t mean_bytes mean_bytes_read mean_bytes_written n_rows_averaged\n");
    impls[0] = 0;
    notcounted[0] = 0;
    for (int k = 0; k < n_impl; k++) {
        const char *name = cim->str + first[k] * (size_t)cim->str_len;
        char word[128];
        dat_word(word, sizeof word, name);
        int counted = 0;
        for (size_t r = 0; r < t->n_rows && !counted; r++)
            counted = !strcmp(cim->str + r * (size_t)cim->str_len, name) && t->cols[cr].i64[r] >= 0;
        if (!counted) {
            size_t nl = strlen(notcounted);
            snprintf(notcounted + nl, n_impls - nl, "%s%s", nl ? ", " : "", word);
            continue;
        }
        size_t len = strlen(impls);
        snprintf(impls + len, n_impls - len, "%s%s", len ? " " : "", word);
        memset(sum_r, 0, nt * sizeof *sum_r);
        memset(sum_w, 0, nt * sizeof *sum_w);
        memset(cnt, 0, nt * sizeof *cnt);
        for (size_t r = 0; r < t->n_rows; r++) {
            if (strcmp(cim->str + r * (size_t)cim->str_len, name) != 0) continue;
            // Queries read the whole context plus the readout; the figure follows the
            // context as it grows, so it plots the support (context-building) tokens.
            if (ck >= 0 && !strcmp(t->cols[ck].str + r * (size_t)t->cols[ck].str_len, "query")) continue;
            if (t->cols[cr].i64[r] < 0) continue;  // -1: this row's traffic is not counted
            size_t p = (size_t)t->cols[ct].i64[r];
            sum_r[p] += (double)t->cols[cr].i64[r];
            sum_w[p] += (double)t->cols[cw].i64[r];
            cnt[p]++;
        }
        fprintf(f, "%s# impl %s\n", k ? "\n\n" : "", word);
        for (size_t p = 0; p < nt; p++) {
            if (!cnt[p]) continue;
            double mr = sum_r[p] / (double)cnt[p], mw = sum_w[p] / (double)cnt[p];
            fprintf(f, "%zu %.17g %.17g %.17g %ld\n", p, mr + mw, mr, mw, cnt[p]);
        }
    }
    if (fclose(f) != 0) rc = err_set(ERR_IO, "cannot write %s: %s", dat, strerror(errno));
out:
    free(first);
    free(sum_r);
    free(sum_w);
    free(cnt);
    return rc;
}

static int file_nonempty(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && st.st_size > 0;
}

// Runs one gnuplot script; stdout/stderr go to <out_dir>/gnuplot.log (the library prints
// nothing), whose first line becomes the error message on failure.
// The shared per-row palette (reports/rows.gp) beside the script, as a gnuplot assignment.
static void rows_var(const char *script, char *out, size_t n) {
    char abs[PATH_MAX];
    out[0] = 0;
    if (!realpath(script, abs)) return;
    char *slash = strrchr(abs, '/');
    if (!slash) return;
    *slash = 0;
    snprintf(out, n, "rowsgp=\"%s/rows.gp\";", abs);
}

static int run_gnuplot(const char *script, const char *vars, const char *out_dir, const char *base) {
    char cmd[6 * PATH_MAX + 4096], log[PATH_MAX], rows[PATH_MAX + 32];
    snprintf(log, sizeof log, "%s/gnuplot.log", out_dir);
    rows_var(script, rows, sizeof rows);
    if (snprintf(cmd, sizeof cmd, "gnuplot -e '%s%s' '%s' >>'%s' 2>&1", rows, vars, script, log) >= (int)sizeof cmd)
        return err_set(ERR_ARG, "gnuplot command too long");
    int st = system(cmd);
    struct stat lst;
    if (stat(log, &lst) == 0 && lst.st_size == 0) unlink(log);  // nothing said: no empty log
    char png[PATH_MAX + 8], svg[PATH_MAX + 8];
    snprintf(png, sizeof png, "%s.png", base);
    snprintf(svg, sizeof svg, "%s.svg", base);
    if (st != 0 || !file_nonempty(png) || !file_nonempty(svg)) {
        char line[256] = "no output";
        FILE *f = fopen(log, "r");
        if (f) {
            while (fgets(line, sizeof line, f))
                if (strstr(line, "rror") || strstr(line, "arning")) break;
            fclose(f);
        }
        line[strcspn(line, "\n")] = 0;
        return err_set(ERR_IO, "gnuplot failed drawing %s (see %s): %s", base, log, line);
    }
    return ERR_OK;
}

// The .dat files stay useful without neuroicl: replot.sh redraws every figure from them.
static void append_replot(const char *out_dir, const char *script, const char *vars) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/replot.sh", out_dir);
    int fresh = access(p, F_OK) != 0;
    FILE *f = fopen(p, "a");
    if (!f) return;
    if (fresh) fprintf(f, "#!/bin/sh\n# Redraws the figures from the .dat files beside this script.\nset -e\ncd \"$(dirname \"$0\")\"\n");
    char abs_script[PATH_MAX];
    const char *s = realpath(script, abs_script) ? abs_script : script;
    char rows[PATH_MAX + 32];
    rows_var(script, rows, sizeof rows);
    fprintf(f, "gnuplot -e '%s%s' '%s'\n", rows, vars, s);
    fclose(f);
    chmod(p, 0755);
}

int rep_figures(const char *results_path, const char *run_id, const char *out_dir) {
    int rc;
    if ((rc = check_quotable("output directory", out_dir))) return rc;
    char run[128];
    if (run_id) {
        snprintf(run, sizeof run, "%s", run_id);
    } else {
        char **ids;
        int n;
        if ((rc = h5r_list_runs(results_path, &ids, &n))) return rc;
        if (n == 0) return err_set(ERR_FORMAT, "%s has no runs to draw (is it a results file? neuroicl eval writes one)", results_path);
        // The latest run this command draws: a variants run (its figure comes from `neuroicl
        // variants`), a stream or emu-bench run has nothing here, so older runs are looked at.
        int pick = -1;
        for (int i = n - 1; i >= 0 && pick < 0; i--) {
            char o2[200], kind[32] = "";
            snprintf(o2, sizeof o2, "/runs/%s", ids[i]);
            if (h5r_read_attr_str(results_path, o2, "kind", kind, sizeof kind) || !strcmp(kind, "eval") ||
                !strcmp(kind, "sweep"))
                pick = i;
        }
        err_clear();
        if (pick >= 0) snprintf(run, sizeof run, "%s", ids[pick]);
        h5r_ids_free(ids, n);
        if (pick < 0) return err_set(ERR_FORMAT, "%s has no eval or sweep run to draw (a variants run's figure is drawn "
                                                 "by neuroicl variants)", results_path);
        if (pick < n - 1) fprintf(stderr, "report: drawing run %s, the latest eval or sweep run\n", run);
    }
    if ((rc = make_dirs(out_dir))) return rc;

    // Title: run id and task; missing attributes are shown as "?" rather than failing.
    char obj[200], task[128] = "?", title[400], title_clean[400];
    int64_t n_way = -1, k_shot = -1;
    snprintf(obj, sizeof obj, "/runs/%s", run);
    h5r_read_attr_str(results_path, obj, "task", task, sizeof task);
    h5r_read_attr_i64(results_path, obj, "n_way", &n_way);
    h5r_read_attr_i64(results_path, obj, "k_shot", &k_shot);
    if (n_way > 0 && k_shot >= 0)
        snprintf(title, sizeof title, "run %s | %s, %lld-way %lld-shot", run, task[0] ? task : "?",
                 (long long)n_way, (long long)k_shot);
    else
        snprintf(title, sizeof title, "run %s | %s", run, task[0] ? task : "?");
    char intr[16] = "";
    int64_t done_eps = -1;
    if (h5r_read_attr_str(results_path, obj, "interrupted", intr, sizeof intr) == 0) {
        h5r_read_attr_i64(results_path, obj, "n_episodes_done", &done_eps);
        size_t len = strlen(title);
        snprintf(title + len, sizeof title - len, " | INTERRUPTED after %lld episodes", (long long)done_eps);
    }
    err_clear();
    // The title goes inside '...' (shell) and "..." (gnuplot): drop characters special to either.
    snprintf(title_clean, sizeof title_clean, "%s", title);
    for (char *p = title_clean; *p; p++)
        if (strchr("'\"\\`$\n", *p)) *p = '_';
    err_clear();

    h5r_table summary, tokens;
    // A sweep run has its own figures (reports/report_sweep.c).
    h5r_table sweep_t;
    int have_sweep = table_exists(results_path, run, "sweep", &sweep_t);
    if (have_sweep < 0) return -have_sweep;
    if (have_sweep) {
        h5r_table_free(&sweep_t);
        return rep_sweep_figures(results_path, run, out_dir);
    }
    int have_sum = table_exists(results_path, run, "summary", &summary);
    if (have_sum < 0) return -have_sum;
    int have_tok = table_exists(results_path, run, "tokens", &tokens);
    if (have_tok < 0) {
        if (have_sum) h5r_table_free(&summary);
        return -have_tok;
    }
    if (have_tok && tokens.n_rows == 0) {
        // eval runs made by `variants` skip the per-token pass (reports/SCHEMA.md)
        fprintf(stderr, "report: run %s has no per-token records; no traffic figure (neuroicl eval records them)\n", run);
        h5r_table_free(&tokens);
        have_tok = 0;
    }
    if (!have_sum && !have_tok)
        return err_set(ERR_FORMAT, "%s: run %s has neither a summary nor a tokens table to draw (pick an eval or "
                       "sweep run with --run; a variants run's figure is drawn by neuroicl variants)", results_path, run);

    char acc_dat[PATH_MAX], acc_base[PATH_MAX], tr_dat[PATH_MAX], tr_base[PATH_MAX], impls[1024] = "", notcounted[1024] = "";
    snprintf(acc_dat, sizeof acc_dat, "%s/%s.dat", out_dir, REP_FIG_ACCURACY);
    snprintf(acc_base, sizeof acc_base, "%s/%s", out_dir, REP_FIG_ACCURACY);
    snprintf(tr_dat, sizeof tr_dat, "%s/%s.dat", out_dir, REP_FIG_TRAFFIC);
    snprintf(tr_base, sizeof tr_base, "%s/%s", out_dir, REP_FIG_TRAFFIC);
    rc = ERR_OK;
    if (have_sum) rc = write_accuracy(results_path, &summary, acc_dat);
    if (!rc && have_tok) rc = write_traffic(results_path, &tokens, tr_dat, impls, sizeof impls, notcounted);
    if (have_sum) h5r_table_free(&summary);
    if (have_tok) h5r_table_free(&tokens);
    if (rc) return rc;

    if (system("command -v gnuplot >/dev/null 2>&1") != 0)
        return err_set(ERR_IO, "gnuplot not found; install it (Debian/Ubuntu: apt-get install "
                               "gnuplot-nox, or run `make deps`); the figure data is already in %s/*.dat",
                       out_dir);
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s/gnuplot.log", out_dir);
    unlink(log);
    char replot[PATH_MAX + 16];
    snprintf(replot, sizeof replot, "%s/replot.sh", out_dir);
    unlink(replot);

    char script[PATH_MAX + 64], vars[4 * PATH_MAX + 2048];
    if (have_sum) {
        if ((rc = find_script(REP_FIG_ACCURACY, script, sizeof script))) return rc;
        if ((rc = check_quotable("gnuplot script path", script))) return rc;
        double chance = n_way > 0 ? 100.0 / (double)n_way : -1;
        if (snprintf(vars, sizeof vars, "datafile=\"%s\";outbase=\"%s\";title_text=\"%s\";chance=%g",
                     acc_dat, acc_base, title_clean, chance) >= (int)sizeof vars)
            return err_set(ERR_ARG, "figure paths too long");
        if ((rc = run_gnuplot(script, vars, out_dir, acc_base))) return rc;
        snprintf(vars, sizeof vars, "datafile=\"%s.dat\";outbase=\"%s\";title_text=\"%s\";chance=%g",
                 REP_FIG_ACCURACY, REP_FIG_ACCURACY, title_clean, chance);
        append_replot(out_dir, script, vars);
        // Accuracy vs shots when the file holds eval runs at several --k-shot values.
        int drawn;
        if (!run_id && (rc = rep_shots_figure(results_path, out_dir, &drawn))) return rc;
    }
    if (have_tok) {
        if ((rc = find_script(REP_FIG_TRAFFIC, script, sizeof script))) return rc;
        if ((rc = check_quotable("gnuplot script path", script))) return rc;
        if (snprintf(vars, sizeof vars, "datafile=\"%s\";outbase=\"%s\";title_text=\"%s\";impls=\"%s\";notcounted=\"%s\"",
                     tr_dat, tr_base, title_clean, impls, notcounted) >= (int)sizeof vars)
            return err_set(ERR_ARG, "figure paths too long");
        if ((rc = run_gnuplot(script, vars, out_dir, tr_base))) return rc;
        snprintf(vars, sizeof vars, "datafile=\"%s.dat\";outbase=\"%s\";title_text=\"%s\";impls=\"%s\";notcounted=\"%s\"",
                 REP_FIG_TRAFFIC, REP_FIG_TRAFFIC, title_clean, impls, notcounted);
        append_replot(out_dir, script, vars);
    }
    int drawn;
    return rep_loihi2_figure(results_path, run, out_dir, title_clean, &drawn);
}

// ---- shared with reports/report_sweep.c ----------------------------------------------------

int rep_gnuplot(const char *name, const char *vars, const char *replot_vars, const char *out_dir, const char *base) {
    char script[PATH_MAX + 64];
    int rc;
    if ((rc = check_quotable("output directory", out_dir))) return rc;
    if (system("command -v gnuplot >/dev/null 2>&1") != 0)
        return err_set(ERR_IO, "gnuplot not found; install it (Debian/Ubuntu: apt-get install "
                               "gnuplot-nox, or run `make deps`); the figure data is already in %s/*.dat",
                       out_dir);
    if ((rc = find_script(name, script, sizeof script))) return rc;
    if ((rc = check_quotable("gnuplot script path", script))) return rc;
    if ((rc = run_gnuplot(script, vars, out_dir, base))) return rc;
    append_replot(out_dir, script, replot_vars);
    return ERR_OK;
}
