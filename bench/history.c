// history (hist_) — see bench/history.h.
#include "bench/history.h"
#include "bench/compare.h"
#include "bench/results.h"
#include "kernels/err.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HIST_MAX_IMPLS 16

static const struct { const char *col, *ylabel; } metrics[] = {
    {"bytes_read_per_token", "counted bytes read per token"},
    {"bytes_written_per_token", "counted bytes written per token"},
    {"accuracy", "accuracy (fraction correct, fixed episodes)"},
    {"ns_per_token_median", "median wall time per token (ns)"},
};
enum { N_METRICS = sizeof metrics / sizeof *metrics };

typedef struct {
    char path[PATH_MAX], label[256], created[64], run[128], key[256];
    int ok;              // has a summary run
    h5r_table summary;
} hist_file;

static int cmp_created(const void *a, const void *b) {
    const hist_file *x = a, *y = b;
    int c = strcmp(x->created, y->created);
    return c ? c : strcmp(x->label, y->label);
}

// The latest run of the file that has a summary table.
static void load_file(hist_file *f) {
    char **ids;
    int n;
    int64_t v;
    f->ok = 0;
    if (h5r_read_attr_i64(f->path, "/", "schema_version", &v) || v != H5R_SCHEMA_VERSION) { err_clear(); return; }
    if (h5r_list_runs(f->path, &ids, &n)) { err_clear(); return; }
    for (int i = n - 1; i >= 0 && !f->ok; i--) {
        if (h5r_read_table(f->path, ids[i], "summary", &f->summary)) { err_clear(); continue; }
        snprintf(f->run, sizeof f->run, "%s", ids[i]);
        char obj[200];
        snprintf(obj, sizeof obj, "/runs/%s", ids[i]);
        if (h5r_read_attr_str(f->path, obj, "created_utc", f->created, sizeof f->created)) f->created[0] = 0;
        cmp_run_key(f->path, ids[i], f->key, sizeof f->key);
        f->ok = 1;
    }
    h5r_ids_free(ids, n);
    err_clear();
}

static int find_script(char *out, size_t n) {
    const char *env = getenv("NEUROICL_REPORTS_DIR");
    char exe[PATH_MAX];
    if (env && *env) { snprintf(out, n, "%s/history.gp", env); if (!access(out, R_OK)) return 0; }
    snprintf(out, n, "reports/history.gp");
    if (!access(out, R_OK)) return 0;
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *s = strrchr(exe, '/');
        if (s) *s = 0;
        snprintf(out, n, "%.3900s/../reports/history.gp", exe);
        if (!access(out, R_OK)) return 0;
    }
    return err_set(ERR_IO, "gnuplot script history.gp not found in $NEUROICL_REPORTS_DIR, ./reports or next to "
                           "the executable; run from the neuroicl source tree");
}

static int quotable(const char *s) { return !strpbrk(s, "'\"\\\n`$"); }

int hist_figures(const char *dir, const char *out_dir, int *n_points, int *n_skipped) {
    if (n_points) *n_points = 0;
    if (n_skipped) *n_skipped = 0;
    if (!quotable(out_dir)) return err_set(ERR_ARG, "output directory '%s' contains a quote, backslash, $ or newline", out_dir);
    DIR *d = opendir(dir);
    if (!d) return err_set(ERR_IO, "history directory %s: %s", dir, strerror(errno));
    hist_file *files = NULL;
    int nf = 0, cap = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".h5")) continue;
        if (nf == 4096) break;  // (more commits than one figure can show)
        if (nf == cap) {
            cap = cap ? 2 * cap : 16;
            hist_file *p = realloc(files, (size_t)cap * sizeof *p);
            if (!p) { rc = err_set(ERR_NOMEM, "out of memory"); break; }
            files = p;
        }
        hist_file *f = &files[nf++];
        memset(f, 0, sizeof *f);
        snprintf(f->path, sizeof f->path, "%s/%s", dir, e->d_name);
        snprintf(f->label, sizeof f->label, "%.*s", (int)(len - 3), e->d_name);
        load_file(f);
    }
    closedir(d);
    if (!rc && nf == 0) rc = err_set(ERR_IO, "no results files (*.h5) in %s", dir);
    if (rc) goto done;
    qsort(files, nf, sizeof *files, cmp_created);
    // The configuration: that of the newest usable file.
    const char *key = NULL;
    for (int i = nf - 1; i >= 0 && !key; i--) if (files[i].ok) key = files[i].key;
    if (!key) { rc = err_set(ERR_FORMAT, "none of the %d files in %s has a run with a summary table", nf, dir); goto done; }
    int use[4096] = {0}, nuse = 0;
    for (int i = 0; i < nf && i < 4096; i++) {
        use[i] = files[i].ok && !strcmp(files[i].key, key);
        nuse += use[i];
    }
    if (n_points) *n_points = nuse;
    if (n_skipped) *n_skipped = nf - nuse;
    // Rows: every impl seen, in order of first appearance.
    char impls[HIST_MAX_IMPLS][64];
    int ni = 0;
    for (int i = 0; i < nf; i++) {
        if (!use[i]) continue;
        const h5r_table *t = &files[i].summary;
        int ci = h5r_col_index(t, "impl");
        if (ci < 0 || t->cols[ci].type != H5R_STR) continue;
        for (size_t r = 0; r < t->n_rows; r++) {
            const char *s = t->cols[ci].str + r * (size_t)t->cols[ci].str_len;
            int j = 0;
            while (j < ni && strcmp(impls[j], s)) j++;
            if (j == ni && ni < HIST_MAX_IMPLS) snprintf(impls[ni++], sizeof impls[0], "%s", s);
        }
    }
    char mk[PATH_MAX];
    snprintf(mk, sizeof mk, "%s", out_dir);
    for (char *p = mk + 1;; p++)  // mkdir -p
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            if (mkdir(mk, 0777) && errno != EEXIST) { rc = err_set(ERR_IO, "cannot create %s: %s", mk, strerror(errno)); goto done; }
            *p = c;
            if (!c) break;
        }
    char script[PATH_MAX];
    int have_gnuplot = system("command -v gnuplot >/dev/null 2>&1") == 0;
    if (have_gnuplot && (rc = find_script(script, sizeof script))) goto done;
    if (have_gnuplot && !quotable(script)) { rc = err_set(ERR_ARG, "gnuplot script path %s needs quoting", script); goto done; }
    for (int m = 0; m < N_METRICS && !rc; m++) {
        char dat[PATH_MAX + 64], base[PATH_MAX + 64];
        snprintf(base, sizeof base, "%.3900s/history_%s", out_dir, metrics[m].col);
        snprintf(dat, sizeof dat, "%.4000s.dat", base);
        FILE *f = fopen(dat, "w");
        if (!f) { rc = err_set(ERR_IO, "cannot write %s: %s", dat, strerror(errno)); break; }
        fprintf(f, "# %s over results files in %s, configuration: %s\n# one block per impl; columns: file index, "
                   "value, file (git describe)\n", metrics[m].col, dir, key);
        char impl_words[HIST_MAX_IMPLS * 65] = "";
        for (int j = 0; j < ni; j++) {
            strcat(impl_words, j ? " " : "");
            strcat(impl_words, impls[j]);
            fprintf(f, "%s# %s\n", j ? "\n\n" : "", impls[j]);
            int x = 0, wrote = 0;
            for (int i = 0; i < nf; i++) {
                if (!use[i]) continue;
                const h5r_table *t = &files[i].summary;
                int ci = h5r_col_index(t, "impl"), cv = h5r_col_index(t, metrics[m].col);
                for (size_t r = 0; ci >= 0 && cv >= 0 && t->cols[cv].type != H5R_STR && r < t->n_rows; r++) {
                    if (strcmp(t->cols[ci].str + r * (size_t)t->cols[ci].str_len, impls[j])) continue;
                    double v = t->cols[cv].type == H5R_I64 ? (double)t->cols[cv].i64[r] : t->cols[cv].f64[r];
                    char lab[256];
                    snprintf(lab, sizeof lab, "%s", files[i].label);
                    for (char *p = lab; *p; p++) if (*p == ' ' || *p == '"' || *p == '#') *p = '_';
                    if (isfinite(v)) { fprintf(f, "%d %.17g %s\n", x, v, lab); wrote = 1; }
                }
                x++;
            }
            if (!wrote) fprintf(f, "nan nan -\n");  // keeps the block so index j stays this impl
        }
        fclose(f);
        if (!have_gnuplot) continue;
        char title[512], cmd[4 * PATH_MAX + 2048];
        snprintf(title, sizeof title, "%s - %s", metrics[m].col, key);
        for (char *p = title; *p; p++) if (*p == '\'' || *p == '"' || *p == '\\' || *p == '$' || *p == '`') *p = '_';
        snprintf(cmd, sizeof cmd,
                 "gnuplot -e 'datafile=\"%s\"; outbase=\"%s\"; title_text=\"%s\"; ylabel_text=\"%s\"; impls=\"%s\"' "
                 "'%s' >>'%s/gnuplot.log' 2>&1",
                 dat, base, title, metrics[m].ylabel, impl_words, script, out_dir);
        if (system(cmd) != 0) rc = err_set(ERR_IO, "gnuplot failed drawing %s (see %s/gnuplot.log)", base, out_dir);
    }
    if (!rc && !have_gnuplot)
        rc = err_set(ERR_IO, "gnuplot not found; install it (apt-get install gnuplot-nox); the data is in %s/history_*.dat",
                     out_dir);
done:
    for (int i = 0; i < nf; i++) if (files[i].ok) h5r_table_free(&files[i].summary);
    free(files);
    return rc;
}

int hist_command(int argc, char **argv) {
    const char *dir = NULL, *out = "reports/figures/history";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out-dir")) {
            if (i + 1 >= argc) return err_set(ERR_ARG, "--out-dir needs a value");
            out = argv[++i];
        } else if (argv[i][0] == '-') return err_set(ERR_ARG, "history: unknown option '%s'", argv[i]);
        else if (!dir) dir = argv[i];
        else return err_set(ERR_ARG, "history: one directory only (got '%s' too)", argv[i]);
    }
    if (!dir) return err_set(ERR_ARG, "history: which directory? (neuroicl history results/history)");
    int np, ns;
    int rc = hist_figures(dir, out, &np, &ns);
    if (!rc) printf("history: %d results file(s) plotted, %d skipped (other configuration, no summary or schema); "
                    "figures in %s/history_*.{png,svg}\n", np, ns, out);
    return rc;
}
