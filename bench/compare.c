// compare (cmp_) — see bench/compare.h.
#include "bench/compare.h"
#include "bench/results.h"
#include "bench/stats.h"
#include "kernels/err.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *cmp_verdict_name(cmp_verdict v) {
    switch (v) {
    case CMP_SAME: return "same";
    case CMP_WITHIN: return "within threshold";
    case CMP_REGRESSED: return "REGRESSED";
    case CMP_IMPROVED: return "improved";
    case CMP_NOT_COMPARED: return "not compared";
    case CMP_SLOWER: return "slower";
    case CMP_FASTER: return "faster";
    case CMP_NO_CHANGE: return "no significant change";
    case CMP_TOO_FEW: return "too few samples";
    }
    return "?";
}

void cmp_default_options(cmp_options *o) {
    memset(o, 0, sizeof *o);
    o->threshold = 0.0;
    o->ins_threshold = 0.02;
    o->alpha = 0.01;
    o->min_effect = 0.05;
    o->min_samples = CMP_MIN_SAMPLES;
}

void cmp_report_free(cmp_report *r) {
    free(r->lines);
    memset(r, 0, sizeof *r);
}

static double rel_change(double base, double cur) {
    if (base == cur) return 0.0;
    if (base == 0.0) return NAN;
    return (cur - base) / fabs(base);
}

void cmp_judge_deterministic(double base, double cur, int higher_is_better, double threshold, cmp_line *out) {
    out->kind = CMP_DETERMINISTIC;
    out->base = base;
    out->cur = cur;
    out->p = NAN;
    out->n_base = out->n_cur = 0;
    out->change = rel_change(base, cur);
    if (base == cur || (isnan(base) && isnan(cur))) { out->verdict = CMP_SAME; return; }
    if (isnan(base) || isnan(cur)) {
        out->verdict = CMP_NOT_COMPARED;
        snprintf(out->note, sizeof out->note, "not measured on one side");
        return;
    }
    double worse = higher_is_better ? base - cur : cur - base;  // > 0: worse
    // Relative worsening; from a zero baseline any worsening is infinitely large.
    double rel = base != 0.0 ? worse / fabs(base) : (worse > 0 ? INFINITY : -INFINITY);
    if (fabs(rel) <= threshold) out->verdict = CMP_WITHIN;
    else out->verdict = worse > 0 ? CMP_REGRESSED : CMP_IMPROVED;
}

void cmp_judge_timing(const double *b, size_t nb, const double *c, size_t nc, const cmp_options *o,
                      cmp_line *out) {
    out->kind = CMP_TIMING;
    out->n_base = (long)nb;
    out->n_cur = (long)nc;
    out->base = st_median(b, nb);
    out->cur = st_median(c, nc);
    out->change = rel_change(out->base, out->cur);
    out->p = NAN;
    int min_n = o->min_samples > CMP_MIN_SAMPLES ? o->min_samples : CMP_MIN_SAMPLES;
    if ((long)nb < min_n || (long)nc < min_n) {
        out->verdict = CMP_TOO_FEW;
        snprintf(out->note, sizeof out->note, "%zu baseline and %zu current samples; need >= %d per side to judge",
                 nb, nc, min_n);
        return;
    }
    st_mwu_result r;
    if (st_mann_whitney(c, nc, b, nb, ST_MWU_AUTO, &r)) {
        out->verdict = CMP_NOT_COMPARED;
        snprintf(out->note, sizeof out->note, "Mann-Whitney test failed (out of memory)");
        return;
    }
    out->p = r.p;
    if (r.p < o->alpha && isfinite(out->change) && fabs(out->change) >= o->min_effect)
        out->verdict = out->change > 0 ? CMP_SLOWER : CMP_FASTER;
    else
        out->verdict = CMP_NO_CHANGE;
}

// ------------------------------------------------------------------ report building ------

static cmp_line *add_line(cmp_report *r, const char *config, const char *impl, const char *metric) {
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 64;
        cmp_line *l = realloc(r->lines, (size_t)cap * sizeof *l);
        if (!l) { err_set(ERR_NOMEM, "out of memory"); return NULL; }
        r->lines = l;
        r->cap = cap;
    }
    cmp_line *l = &r->lines[r->n++];
    memset(l, 0, sizeof *l);
    snprintf(l->config, sizeof l->config, "%s", config);
    snprintf(l->impl, sizeof l->impl, "%s", impl);
    snprintf(l->metric, sizeof l->metric, "%s", metric);
    l->p = NAN;
    return l;
}

static int want_metric(const cmp_options *o, const char *name) {
    if (!o->metrics || !*o->metrics) return 1;
    size_t n = strlen(name);
    for (const char *s = o->metrics; *s;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == n && !strncmp(s, name, n)) return 1;
        if (!e) break;
        s = e + 1;
    }
    return 0;
}

// ------------------------------------------------------------------ run configuration ----

static const char *key_attrs[] = {"kind", "task", "n_way", "k_shot", "n_query", "n_episodes", "seed"};
enum { N_KEY_ATTRS = sizeof key_attrs / sizeof *key_attrs };

// "kind task n_way=.. ..." from the run's attributes; a missing attribute is left out.
void cmp_run_key(const char *path, const char *run_id, char *out, size_t n) {
    char obj[160], s[128];
    snprintf(obj, sizeof obj, "/runs/%s", run_id);
    size_t k = 0;
    out[0] = 0;
    for (int i = 0; i < N_KEY_ATTRS && k + 1 < n; i++) {
        int64_t v;
        const char *sep = k ? " " : "";
        if (!h5r_read_attr_str(path, obj, key_attrs[i], s, sizeof s)) {
            if (i < 2) k += snprintf(out + k, n - k, "%s%s", sep, s);
            else k += snprintf(out + k, n - k, "%s%s=%s", sep, key_attrs[i], s);
        } else if (!h5r_read_attr_i64(path, obj, key_attrs[i], &v)) {
            k += snprintf(out + k, n - k, "%s%s=%lld", sep, key_attrs[i], (long long)v);
        }
    }
    if (!out[0]) snprintf(out, n, "(no configuration attributes)");
    err_clear();
}

typedef struct { char id[128]; char key[256]; } run_ref;

// The latest run of every distinct configuration, in order of first appearance.
static int list_configs(const char *path, run_ref **out, int *n_out) {
    char **ids;
    int n, rc;
    *out = NULL;
    *n_out = 0;
    if ((rc = h5r_list_runs(path, &ids, &n))) return rc;
    run_ref *refs = calloc(n ? (size_t)n : 1, sizeof *refs);
    if (!refs) rc = err_set(ERR_NOMEM, "out of memory");
    int m = 0;
    for (int i = 0; i < n && !rc; i++) {
        char key[256];
        cmp_run_key(path, ids[i], key, sizeof key);
        int j = 0;
        while (j < m && strcmp(refs[j].key, key)) j++;
        if (j == m) { snprintf(refs[m].key, sizeof refs[m].key, "%s", key); m++; }
        snprintf(refs[j].id, sizeof refs[j].id, "%s", ids[i]);  // later runs override
    }
    h5r_ids_free(ids, n);
    if (rc) { free(refs); return rc; }
    *out = refs;
    *n_out = m;
    return 0;
}

static int check_file(const char *what, const char *path) {
    if (access(path, R_OK))
        return err_set(ERR_IO, "%s results file %s: %s", what, path, strerror(errno));
    int64_t v;
    if (h5r_read_attr_i64(path, "/", "schema_version", &v))
        return err_set(ERR_FORMAT, "%s file %s is not a neuroicl results file (no readable schema_version: %s)",
                       what, path, err_msg());
    if (v != H5R_SCHEMA_VERSION)
        return err_set(ERR_FORMAT, "%s file %s has schema_version %lld; this neuroicl reads schema_version %d "
                                   "(regenerate it with this build)", what, path, (long long)v, H5R_SCHEMA_VERSION);
    return 0;
}

// ------------------------------------------------------------------ tables ---------------

static int has_table(const char *path, const char *run, const char *name, h5r_table *t) {
    memset(t, 0, sizeof *t);
    if (h5r_read_table(path, run, name, t)) { err_clear(); return 0; }
    return 1;
}

static const char *str_at(const h5r_table *t, int col, size_t row) {
    return t->cols[col].str + row * (size_t)t->cols[col].str_len;
}

static double num_at(const h5r_table *t, int col, size_t row) {
    return t->cols[col].type == H5R_I64 ? (double)t->cols[col].i64[row] : t->cols[col].f64[row];
}

// Row of `t` whose `impl` column equals impl, or -1.
static long find_impl(const h5r_table *t, const char *impl) {
    int c = h5r_col_index(t, "impl");
    if (c < 0 || t->cols[c].type != H5R_STR) return -1;
    for (size_t i = 0; i < t->n_rows; i++)
        if (!strcmp(str_at(t, c, i), impl)) return (long)i;
    return -1;
}

// Samples of numeric column `col` over the rows of `impl` (with only_col == value when
// only_col >= 0). Returns a malloc'ed array (possibly NULL with *n == 0).
static double *collect(const h5r_table *t, const char *impl, const char *col, const char *only_col,
                       int64_t only_value, size_t *n) {
    *n = 0;
    int ci = h5r_col_index(t, "impl"), cv = h5r_col_index(t, col), co = only_col ? h5r_col_index(t, only_col) : -1;
    if (ci < 0 || cv < 0 || t->cols[ci].type != H5R_STR || t->cols[cv].type == H5R_STR) return NULL;
    if (only_col && (co < 0 || t->cols[co].type != H5R_I64)) return NULL;
    double *x = malloc((t->n_rows ? t->n_rows : 1) * sizeof *x);
    if (!x) return NULL;
    for (size_t i = 0; i < t->n_rows; i++) {
        if (strcmp(str_at(t, ci, i), impl)) continue;
        if (co >= 0 && t->cols[co].i64[i] != only_value) continue;
        double v = num_at(t, cv, i);
        if (!isnan(v)) x[(*n)++] = v;
    }
    return x;
}

static int timing_metric(cmp_report *rep, const cmp_options *o, const char *config, const char *impl,
                         const char *metric, const h5r_table *tb, const h5r_table *tc, const char *only_col,
                         const char *note) {
    if (!want_metric(o, metric)) return 0;
    size_t nb, nc;
    double *b = collect(tb, impl, "ns", only_col, 0, &nb), *c = collect(tc, impl, "ns", only_col, 0, &nc);
    cmp_line *l = add_line(rep, config, impl, metric);
    if (!l) { free(b); free(c); return ERR_NOMEM; }
    cmp_judge_timing(b ? b : (double[]){0}, nb, c ? c : (double[]){0}, nc, o, l);
    if (note && note[0] && !l->note[0]) snprintf(l->note, sizeof l->note, "%s", note);
    free(b);
    free(c);
    return 0;
}

// Mean over the run's episodes of an episode-level counter (repeated on each query row:
// rows with query == 0 are the episodes).
static int episode_mean(const h5r_table *t, const char *impl, const char *col, double *out) {
    size_t n;
    double *x = collect(t, impl, col, "query", 0, &n);
    if (!x || !n) { free(x); return -1; }
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    *out = s / n;
    free(x);
    return 0;
}

// Columns of emulator tables that identify a row rather than count something.
static int is_key_col(const char *name) {
    static const char *keys[] = {"n_pre", "n_post", "learning", "lowered_kernel", "steps", "size", "n",
                                 "episode", "query", "t", "layer", "head", "core", "chip"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!strcmp(name, keys[i])) return 1;
    return 0;
}

static void row_label(const h5r_table *t, size_t row, char *out, size_t n) {
    size_t k = 0;
    out[0] = 0;
    for (int c = 0; c < t->n_cols && k + 1 < n; c++) {
        const h5r_column *col = &t->cols[c];
        if (col->type == H5R_STR) k += snprintf(out + k, n - k, "%s%s", k ? "," : "", str_at(t, c, row));
        else if (col->type == H5R_I64 && is_key_col(col->name))
            k += snprintf(out + k, n - k, "%s%s=%lld", k ? "," : "", col->name, (long long)col->i64[row]);
    }
    if (!out[0]) snprintf(out, n, "row %zu", row);
}

// Every integer, non-key column of an emulator table is an operation count: exact gate.
static int emulator_table(cmp_report *rep, const cmp_options *o, const char *config, const char *name,
                          const h5r_table *tb, const h5r_table *tc, const char *cur_path, const char *cur_run) {
    for (size_t rb = 0; rb < tb->n_rows; rb++) {
        char lb[192], lc[192];
        row_label(tb, rb, lb, sizeof lb);
        long rc_row = -1;
        for (size_t rc = 0; rc < tc->n_rows && rc_row < 0; rc++) {
            row_label(tc, rc, lc, sizeof lc);
            if (!strcmp(lb, lc)) rc_row = (long)rc;
        }
        if (rc_row < 0)
            return err_set(ERR_FORMAT, "%s run %s: table %s has no row %s (configuration %s)", cur_path, cur_run,
                           name, lb, config);
        for (int c = 0; c < tb->n_cols; c++) {
            const h5r_column *col = &tb->cols[c];
            if (col->type != H5R_I64 || is_key_col(col->name)) continue;
            char metric[96];
            snprintf(metric, sizeof metric, "%s.%s", name, col->name);
            if (!want_metric(o, metric) && !want_metric(o, col->name)) continue;
            int cc = h5r_col_index(tc, col->name);
            cmp_line *l = add_line(rep, config, lb, metric);
            if (!l) return ERR_NOMEM;
            if (cc < 0 || tc->cols[cc].type != H5R_I64) {
                l->kind = CMP_DETERMINISTIC;
                l->base = (double)col->i64[rb];
                l->cur = l->change = NAN;
                l->verdict = CMP_NOT_COMPARED;
                snprintf(l->note, sizeof l->note, "column missing in current");
                continue;
            }
            cmp_judge_deterministic((double)col->i64[rb], (double)tc->cols[cc].i64[rc_row], 0, o->threshold, l);
        }
    }
    return 0;
}

// Compares one matched pair of runs.
static int compare_runs(cmp_report *rep, const cmp_options *o, const char *config, const char *bp,
                        const char *brun, const char *cp, const char *crun) {
    char bobj[160], cobj[160], bhash[128] = "", chash[128] = "";
    snprintf(bobj, sizeof bobj, "/runs/%s", brun);
    snprintf(cobj, sizeof cobj, "/runs/%s", crun);
    h5r_read_attr_str(bp, bobj, "model_hash", bhash, sizeof bhash);
    h5r_read_attr_str(cp, cobj, "model_hash", chash, sizeof chash);
    err_clear();
    // Timing across different CPUs is reported but flagged.
    char bcpu[256] = "", ccpu[256] = "", cpu_note[160] = "";
    h5r_read_attr_str(bp, "/", "cpu_model", bcpu, sizeof bcpu);
    h5r_read_attr_str(cp, "/", "cpu_model", ccpu, sizeof ccpu);
    err_clear();
    if (strcmp(bcpu, ccpu)) snprintf(cpu_note, sizeof cpu_note, "different CPUs: timing compares machines, not code");
    int rc = 0, compared_any = 0;
    h5r_table sb, sc, eb, ec, tb, tcur;
    int has_sb = has_table(bp, brun, "summary", &sb), has_sc = has_table(cp, crun, "summary", &sc);
    int has_eb = has_table(bp, brun, "episodes", &eb), has_ec = has_table(cp, crun, "episodes", &ec);
    int has_tb = has_table(bp, brun, "tokens", &tb), has_tc = has_table(cp, crun, "tokens", &tcur);
    if (has_sb) {
        if (!has_sc) { rc = err_set(ERR_FORMAT, "%s run %s has no summary table (baseline run %s has one)", cp, crun, brun); goto done; }
        compared_any = 1;
        int ci = h5r_col_index(&sb, "impl");
        if (ci < 0 || sb.cols[ci].type != H5R_STR) { rc = err_set(ERR_FORMAT, "%s run %s: summary has no impl column", bp, brun); goto done; }
        for (size_t r = 0; r < sb.n_rows && !rc; r++) {
            const char *impl = str_at(&sb, ci, r);
            long rcur = find_impl(&sc, impl);
            if (rcur < 0) {
                rc = err_set(ERR_FORMAT, "%s run %s has no row '%s' (baseline run %s has; configuration %s)", cp, crun,
                             impl, brun, config);
                break;
            }
            static const char *bytes_cols[] = {"bytes_read_per_token", "bytes_written_per_token"};
            for (int k = 0; k < 2; k++) {
                int cb = h5r_col_index(&sb, bytes_cols[k]), cc = h5r_col_index(&sc, bytes_cols[k]);
                if (cb < 0 || !want_metric(o, bytes_cols[k])) continue;
                cmp_line *l = add_line(rep, config, impl, bytes_cols[k]);
                if (!l) { rc = ERR_NOMEM; break; }
                if (cc < 0) {
                    l->kind = CMP_DETERMINISTIC; l->base = num_at(&sb, cb, r); l->cur = l->change = NAN;
                    l->verdict = CMP_NOT_COMPARED;
                    snprintf(l->note, sizeof l->note, "column missing in current");
                    continue;
                }
                cmp_judge_deterministic(num_at(&sb, cb, r), num_at(&sc, cc, rcur), 0, o->threshold, l);
            }
            int ab = h5r_col_index(&sb, "accuracy"), ac = h5r_col_index(&sc, "accuracy");
            if (ab >= 0 && ac >= 0 && want_metric(o, "accuracy")) {
                cmp_line *l = add_line(rep, config, impl, "accuracy");
                if (!l) { rc = ERR_NOMEM; break; }
                if (bhash[0] && !strcmp(bhash, chash)) {
                    cmp_judge_deterministic(num_at(&sb, ab, r), num_at(&sc, ac, rcur), 1, o->threshold, l);
                } else {
                    l->kind = CMP_DETERMINISTIC;
                    l->base = num_at(&sb, ab, r);
                    l->cur = num_at(&sc, ac, rcur);
                    l->change = rel_change(l->base, l->cur);
                    l->verdict = CMP_NOT_COMPARED;
                    snprintf(l->note, sizeof l->note, "model differs, not compared (model_hash %.40s vs %.40s)",
                             bhash[0] ? bhash : "?", chash[0] ? chash : "?");
                }
            }
            // Instructions per episode, where the hardware counted them on both sides.
            if (has_eb && has_ec && want_metric(o, "instructions")) {
                double ib = 0, ic = 0;
                int okb = !episode_mean(&eb, impl, "ctr_PAPI_TOT_INS", &ib);
                int okc = !episode_mean(&ec, impl, "ctr_PAPI_TOT_INS", &ic);
                if (okb || okc) {
                    cmp_line *l = add_line(rep, config, impl, "instructions");
                    if (!l) { rc = ERR_NOMEM; break; }
                    if (okb && okc) {
                        cmp_judge_deterministic(ib, ic, 0, o->ins_threshold, l);
                        snprintf(l->note, sizeof l->note, "PAPI_TOT_INS per episode");
                    } else {
                        l->kind = CMP_DETERMINISTIC; l->base = okb ? ib : NAN; l->cur = okc ? ic : NAN;
                        l->change = NAN; l->verdict = CMP_NOT_COMPARED;
                        snprintf(l->note, sizeof l->note, "PAPI_TOT_INS counted on one side only");
                    }
                }
            }
            if (has_tb && has_tc && (rc = timing_metric(rep, o, config, impl, "ns_per_token", &tb, &tcur, NULL, cpu_note))) break;
            if (has_eb && has_ec && (rc = timing_metric(rep, o, config, impl, "ns_per_episode", &eb, &ec, "query", cpu_note))) break;
        }
        if (rc) goto done;
    }
    static const char *emu_tables[] = {"loihi2", "emu_bench"};
    for (int k = 0; k < 2 && !rc; k++) {
        h5r_table xb, xc;
        if (!has_table(bp, brun, emu_tables[k], &xb)) continue;
        compared_any = 1;
        if (!has_table(cp, crun, emu_tables[k], &xc)) {
            rc = err_set(ERR_FORMAT, "%s run %s has no %s table (baseline run %s has one)", cp, crun, emu_tables[k], brun);
        } else {
            rc = emulator_table(rep, o, config, emu_tables[k], &xb, &xc, cp, crun);
            h5r_table_free(&xc);
        }
        h5r_table_free(&xb);
    }
    if (!rc && !compared_any)
        rc = err_set(ERR_FORMAT, "%s run %s has none of the tables compare reads (summary, loihi2, emu_bench)", bp, brun);
done:
    if (has_sb) h5r_table_free(&sb);
    if (has_sc) h5r_table_free(&sc);
    if (has_eb) h5r_table_free(&eb);
    if (has_ec) h5r_table_free(&ec);
    if (has_tb) h5r_table_free(&tb);
    if (has_tc) h5r_table_free(&tcur);
    return rc;
}

int cmp_files(const char *base_path, const char *cur_path, const cmp_options *o, cmp_report *out) {
    memset(out, 0, sizeof *out);
    snprintf(out->base_path, sizeof out->base_path, "%s", base_path);
    snprintf(out->cur_path, sizeof out->cur_path, "%s", cur_path);
    int rc;
    if ((rc = check_file("baseline", base_path)) || (rc = check_file("current", cur_path))) return rc;
    run_ref *rb = NULL, *rcur = NULL;
    int nb = 0, nc = 0;
    if ((rc = list_configs(base_path, &rb, &nb))) return rc;
    if ((rc = list_configs(cur_path, &rcur, &nc))) { free(rb); return rc; }
    if (o->base_run || o->cur_run) {
        // Explicit runs: compare exactly these (the configuration must still match).
        run_ref b = {{0}, {0}}, c = {{0}, {0}};
        char **ids;
        int n;
        const char *want[2] = {o->base_run, o->cur_run}, *paths[2] = {base_path, cur_path};
        run_ref *dst[2] = {&b, &c};
        for (int s = 0; s < 2 && !rc; s++) {
            if (!want[s]) {  // the latest run of that file
                if ((rc = h5r_list_runs(paths[s], &ids, &n))) break;
                if (n == 0) rc = err_set(ERR_FORMAT, "%s has no runs", paths[s]);
                else snprintf(dst[s]->id, sizeof dst[s]->id, "%s", ids[n - 1]);
                h5r_ids_free(ids, n);
            } else {
                snprintf(dst[s]->id, sizeof dst[s]->id, "%s", want[s]);
                if ((rc = h5r_list_runs(paths[s], &ids, &n))) break;
                int found = 0;
                for (int i = 0; i < n; i++) { found |= !strcmp(ids[i], want[s]); free(ids[i]); }
                free(ids);
                if (!found) rc = err_set(ERR_FORMAT, "%s has no run %s", paths[s], want[s]);
            }
            if (!rc) cmp_run_key(paths[s], dst[s]->id, dst[s]->key, sizeof dst[s]->key);
        }
        if (!rc && strcmp(b.key, c.key))
            rc = err_set(ERR_FORMAT, "runs have different configurations: baseline %s (%s), current %s (%s)", b.id,
                         b.key, c.id, c.key);
        if (!rc) {
            out->n_configs = 1;
            rc = compare_runs(out, o, b.key, base_path, b.id, cur_path, c.id);
        }
        free(rb);
        free(rcur);
        return rc;
    }
    if (nb == 0) rc = err_set(ERR_FORMAT, "baseline %s has no runs", base_path);
    for (int i = 0; i < nb && !rc; i++) {
        int j = 0;
        while (j < nc && strcmp(rcur[j].key, rb[i].key)) j++;
        if (j == nc) {
            rc = err_set(ERR_FORMAT, "%s has no run with the baseline configuration '%s' (baseline run %s); "
                                     "run the same command, or pick runs with --base-run/--current-run",
                         cur_path, rb[i].key, rb[i].id);
            break;
        }
        out->n_configs++;
        rc = compare_runs(out, o, rb[i].key, base_path, rb[i].id, cur_path, rcur[j].id);
    }
    free(rb);
    free(rcur);
    return rc;
}

int cmp_exit_code(const cmp_report *r, const cmp_options *o) {
    for (int i = 0; i < r->n; i++)
        if (r->lines[i].verdict == CMP_REGRESSED || (o->fail_on_timing && r->lines[i].verdict == CMP_SLOWER))
            return CMP_EXIT_REGRESSION;
    return CMP_EXIT_OK;
}

// ------------------------------------------------------------------ output ---------------

static void fmt_value(char *out, size_t n, double v) {
    if (isnan(v)) snprintf(out, n, "-");
    else if ((v == floor(v) || fabs(v) >= 1000) && fabs(v) < 1e15) snprintf(out, n, "%.0f", v);
    else snprintf(out, n, "%.6g", v);
}

static void fmt_change(char *out, size_t n, const cmp_line *l) {
    if (l->base == l->cur) snprintf(out, n, "0%%");
    else if (isnan(l->change)) snprintf(out, n, "-");
    else snprintf(out, n, "%+.2f%%", 100 * l->change);
}

static void fmt_p(char *out, size_t n, const cmp_line *l) {
    if (l->kind != CMP_TIMING) snprintf(out, n, "exact");
    else if (isnan(l->p)) snprintf(out, n, "-");
    else if (l->p < 1e-4) snprintf(out, n, "p<1e-4");
    else snprintf(out, n, "p=%.4f", l->p);
}

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.17g", v);
    else fputs("null", f);
}

void cmp_print(FILE *f, const cmp_report *r, const cmp_options *o, cmp_format fmt) {
    int code = cmp_exit_code(r, o), n_reg = 0, n_slow = 0, n_fast = 0, n_few = 0, n_nc = 0;
    for (int i = 0; i < r->n; i++) {
        cmp_verdict v = r->lines[i].verdict;
        n_reg += v == CMP_REGRESSED;
        n_slow += v == CMP_SLOWER;
        n_fast += v == CMP_FASTER;
        n_few += v == CMP_TOO_FEW;
        n_nc += v == CMP_NOT_COMPARED;
    }
    if (fmt == CMP_FMT_JSON) {
        fprintf(f, "{\n  \"baseline\": ");
        json_str(f, r->base_path);
        fprintf(f, ",\n  \"current\": ");
        json_str(f, r->cur_path);
        fprintf(f, ",\n  \"options\": {\"threshold\": %g, \"ins_threshold\": %g, \"alpha\": %g, \"min_effect\": %g, "
                   "\"min_samples\": %d, \"fail_on_timing\": %s},\n",
                o->threshold, o->ins_threshold, o->alpha, o->min_effect,
                o->min_samples > CMP_MIN_SAMPLES ? o->min_samples : CMP_MIN_SAMPLES, o->fail_on_timing ? "true" : "false");
        fprintf(f, "  \"regressions\": %d,\n  \"slower\": %d,\n  \"faster\": %d,\n  \"exit_code\": %d,\n  \"lines\": [",
                n_reg, n_slow, n_fast, code);
        for (int i = 0; i < r->n; i++) {
            const cmp_line *l = &r->lines[i];
            fprintf(f, "%s\n    {\"config\": ", i ? "," : "");
            json_str(f, l->config);
            fprintf(f, ", \"impl\": ");
            json_str(f, l->impl);
            fprintf(f, ", \"metric\": ");
            json_str(f, l->metric);
            fprintf(f, ", \"kind\": \"%s\", \"baseline\": ", l->kind == CMP_TIMING ? "timing" : "deterministic");
            json_num(f, l->base);
            fprintf(f, ", \"current\": ");
            json_num(f, l->cur);
            fprintf(f, ", \"change\": ");
            json_num(f, l->base == l->cur ? 0.0 : l->change);
            fprintf(f, ", \"p\": ");
            json_num(f, l->p);
            fprintf(f, ", \"n_baseline\": %ld, \"n_current\": %ld, \"verdict\": ", l->n_base, l->n_cur);
            json_str(f, cmp_verdict_name(l->verdict));
            fprintf(f, ", \"note\": ");
            json_str(f, l->note);
            fputc('}', f);
        }
        fprintf(f, "\n  ]\n}\n");
        return;
    }
    const int md = fmt == CMP_FMT_MARKDOWN;
    const char *hdr[] = {"impl", "metric", "baseline", "current", "change", "test", "verdict"};
    enum { NC = 7 };
    for (int i = 0; i < r->n;) {
        // one table per configuration
        int j = i;
        while (j < r->n && !strcmp(r->lines[j].config, r->lines[i].config)) j++;
        int w[NC];
        for (int k = 0; k < NC; k++) w[k] = (int)strlen(hdr[k]);
        char cell[NC][200];
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1) {
                if (md) fprintf(f, "### %s\n\n", r->lines[i].config);
                else fprintf(f, "%s\n", r->lines[i].config);
                for (int k = 0; k < NC; k++)
                    if (!md && k == NC - 1) fprintf(f, "  %s", hdr[k]);
                    else fprintf(f, md ? "| %-*s " : "  %-*s", w[k], hdr[k]);
                fprintf(f, md ? "|\n" : "\n");
                if (md) {
                    for (int k = 0; k < NC; k++) {
                        fputs(k >= 2 && k <= 4 ? "| " : "| ", f);
                        for (int q = 0; q < w[k] - (k >= 2 && k <= 4); q++) fputc('-', f);
                        fputs(k >= 2 && k <= 4 ? ": " : " ", f);
                    }
                    fputs("|\n", f);
                }
            }
            for (int q = i; q < j; q++) {
                const cmp_line *l = &r->lines[q];
                snprintf(cell[0], sizeof cell[0], "%s", l->impl);
                snprintf(cell[1], sizeof cell[1], "%s", l->metric);
                fmt_value(cell[2], sizeof cell[2], l->base);
                fmt_value(cell[3], sizeof cell[3], l->cur);
                fmt_change(cell[4], sizeof cell[4], l);
                fmt_p(cell[5], sizeof cell[5], l);
                if (l->kind == CMP_TIMING && l->n_base)
                    snprintf(cell[5] + strlen(cell[5]), sizeof cell[5] - strlen(cell[5]), " n=%ld/%ld", l->n_base, l->n_cur);
                snprintf(cell[6], sizeof cell[6], "%s%s%s", cmp_verdict_name(l->verdict), l->note[0] ? ": " : "", l->note);
                for (int k = 0; k < NC; k++) {
                    if (pass == 0) { int len = (int)strlen(cell[k]); if (len > w[k]) w[k] = len; continue; }
                    int right = k >= 2 && k <= 4;
                    if (md) fprintf(f, right ? "| %*s " : "| %-*s ", w[k], cell[k]);
                    else if (k == NC - 1) fprintf(f, "  %s", cell[k]);
                    else fprintf(f, right ? "  %*s" : "  %-*s", w[k], cell[k]);
                }
                if (pass == 1) fputs(md ? "|\n" : "\n", f);
            }
        }
        fputc('\n', f);
        i = j;
    }
    fprintf(f, "%s%d configuration(s), %d comparisons: %d deterministic regression(s), %d slower, %d faster, "
               "%d not judged (too few samples), %d not compared -> exit %d%s\n",
            md ? "**compare:** " : "compare: ", r->n_configs, r->n, n_reg, n_slow, n_fast, n_few, n_nc, code,
            code == 0 && n_slow && !o->fail_on_timing ? " (timing changes are reported, not gated; --fail-on-timing gates them)" : "");
}

// ------------------------------------------------------------------ command --------------

static const char *help_text =
    "usage: neuroicl compare BASELINE.h5 CURRENT.h5 [options]\n"
    "Matches the runs of two results files by configuration (run attributes kind, task, n_way,\n"
    "k_shot, n_query, n_episodes, seed; the latest run of each configuration) and rows by impl,\n"
    "and prints, per metric, baseline, current, relative change and a verdict.\n"
    "\n"
    "Deterministic metrics (gate: any worsening beyond --threshold is a regression):\n"
    "  bytes_read_per_token, bytes_written_per_token   counted traffic (summary table)\n"
    "  accuracy        on the fixed episode seed; only when model_hash matches, else\n"
    "                  \"model differs, not compared\"\n"
    "  instructions    PAPI_TOT_INS per episode, where counted on both sides (--ins-threshold)\n"
    "  loihi2.<col>, emu_bench.<col>   emulator operation counts (integer columns)\n"
    "Timing metrics (reported; gate only with --fail-on-timing):\n"
    "  ns_per_token    per-token samples (tokens table), ns_per_episode (episodes table)\n"
    "  verdict slower/faster when the two-sided Mann-Whitney U test gives p < --alpha AND the\n"
    "  median moved by at least --min-effect; else \"no significant change\". Fewer than 9\n"
    "  samples on a side: \"too few samples\", not judged.\n"
    "\n"
    "options:\n"
    "  --metric LIST        compare only these metrics (comma-separated names above)\n"
    "  --threshold X        allowed relative worsening of deterministic metrics (0 = exact)\n"
    "  --ins-threshold X    allowed relative increase of instruction counts (0.02)\n"
    "  --alpha X            significance level of the timing test (0.01)\n"
    "  --min-effect X       minimum relative change of a timing median (0.05 = 5%)\n"
    "  --min-samples N      samples per side needed to judge timing (9, at least 9)\n"
    "  --fail-on-timing     a \"slower\" verdict is a regression too\n"
    "  --base-run ID, --current-run ID   compare these two runs only\n"
    "  --format table|markdown|json      (table)\n"
    "exit codes: 0 nothing regressed, 1 a regression, 2 unusable input (missing file or run,\n"
    "not a results file, schema_version mismatch, bad options).\n";

static int parse_double(const char *opt, const char *s, double lo, double hi, double *out) {
    char *end;
    if (!s) return err_set(ERR_ARG, "%s needs a value", opt);
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !(v >= lo && v <= hi))
        return err_set(ERR_ARG, "%s needs a number in %g..%g (got '%s')", opt, lo, hi, s);
    *out = v;
    return 0;
}

int cmp_command(int argc, char **argv) {
    cmp_options o;
    cmp_default_options(&o);
    const char *files[2] = {NULL, NULL};
    cmp_format fmt = CMP_FMT_TABLE;
    int nf = 0, rc = 0;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(help_text, stdout); return CMP_EXIT_OK; }
        else if (!strcmp(a, "--threshold")) { rc = parse_double(a, v, 0, 1e9, &o.threshold); i++; }
        else if (!strcmp(a, "--ins-threshold")) { rc = parse_double(a, v, 0, 1e9, &o.ins_threshold); i++; }
        else if (!strcmp(a, "--alpha")) { rc = parse_double(a, v, 1e-12, 1, &o.alpha); i++; }
        else if (!strcmp(a, "--min-effect")) { rc = parse_double(a, v, 0, 1e9, &o.min_effect); i++; }
        else if (!strcmp(a, "--min-samples")) {
            double d = 0;
            rc = parse_double(a, v, CMP_MIN_SAMPLES, 1e9, &d);
            o.min_samples = (int)d;
            i++;
        }
        else if (!strcmp(a, "--fail-on-timing")) o.fail_on_timing = 1;
        else if (!strcmp(a, "--metric") || !strcmp(a, "--base-run") || !strcmp(a, "--current-run") ||
                 !strcmp(a, "--format")) {
            if (!v) { rc = err_set(ERR_ARG, "%s needs a value", a); break; }
            i++;
            if (!strcmp(a, "--metric")) o.metrics = v;
            else if (!strcmp(a, "--base-run")) o.base_run = v;
            else if (!strcmp(a, "--current-run")) o.cur_run = v;
            else if (!strcmp(v, "table")) fmt = CMP_FMT_TABLE;
            else if (!strcmp(v, "markdown") || !strcmp(v, "md")) fmt = CMP_FMT_MARKDOWN;
            else if (!strcmp(v, "json")) fmt = CMP_FMT_JSON;
            else rc = err_set(ERR_ARG, "--format must be table, markdown or json (got '%s')", v);
        }
        else if (a[0] == '-' && a[1]) rc = err_set(ERR_ARG, "compare: unknown option '%s' (see neuroicl compare --help)", a);
        else if (nf < 2) files[nf++] = a;
        else rc = err_set(ERR_ARG, "compare: two results files only (got '%s' too)", a);
    }
    if (rc) return CMP_EXIT_UNUSABLE;
    if (nf < 2) {
        err_set(ERR_ARG, "compare: needs BASELINE.h5 and CURRENT.h5 (see neuroicl compare --help)");
        return CMP_EXIT_UNUSABLE;
    }
    cmp_report rep;
    rc = cmp_files(files[0], files[1], &o, &rep);
    if (rc) {
        cmp_report_free(&rep);
        return CMP_EXIT_UNUSABLE;
    }
    cmp_print(stdout, &rep, &o, fmt);
    fflush(stdout);
    int code = cmp_exit_code(&rep, &o);
    cmp_report_free(&rep);
    return code;
}
