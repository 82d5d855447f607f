// compare: synthetic results files with known values -> verdicts and exit codes; timing
// verdicts over many seeded trials; unusable input -> exit 2 with a message.
#include <criterion/criterion.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/cmd_support.h"
#include "bench/compare.h"
#include "bench/results.h"
#include "kernels/err.h"

#define BIN "./bin/neuroicl"

// ------------------------------------------------------------------ helpers --------------

typedef struct { uint64_t s; } rng64;
static double urand(rng64 *r) {  // xorshift64*, (0, 1)
    r->s ^= r->s >> 12; r->s ^= r->s << 25; r->s ^= r->s >> 27;
    return ((r->s * 2685821657736338717ULL) >> 11) * (1.0 / 9007199254740992.0) + 1e-300;
}
static double nrand(rng64 *r) { return sqrt(-2 * log(urand(r))) * cos(6.283185307179586 * urand(r)); }
// Timing-like samples: log-normal around `median` ns with 20% spread.
static void draw(rng64 *r, double *x, int n, double median) {
    for (int i = 0; i < n; i++) x[i] = median * exp(0.2 * nrand(r));
}

typedef struct {
    int64_t seed, n_episodes;
    const char *model_hash;
    double bytes_read[2], bytes_written[2], accuracy[2];
    int n_token_samples;     // per impl
    double ns_median[2];     // timing scale per impl
    uint64_t rng;
    int loihi2;              // add an emulator table
    int64_t syn_ops;
    const char *impl1;       // name of the second row
} spec;

static spec default_spec(void) {
    spec s = {.seed = 1, .n_episodes = 20, .model_hash = "00ff00ff00ff00ff",
              .bytes_read = {236968, 241832}, .bytes_written = {512, 4096}, .accuracy = {0.29, 0.18},
              .n_token_samples = 100, .ns_median = {40000, 38000}, .rng = 42, .impl1 = "fw-float"};
    return s;
}

static void write_run(const char *path, const spec *s) {
    h5r_run run;
    h5r_run_init(&run);
    h5r_attr_str(&run, "kind", "eval");
    h5r_attr_str(&run, "task", "glyphs");
    h5r_attr_i64(&run, "n_way", 5);
    h5r_attr_i64(&run, "k_shot", 1);
    h5r_attr_i64(&run, "n_query", 1);
    h5r_attr_i64(&run, "n_episodes", s->n_episodes);
    h5r_attr_i64(&run, "seed", s->seed);
    h5r_attr_str(&run, "model_hash", s->model_hash);
    const char *impls[2] = {"kv-softmax", s->impl1};
    h5r_table *ts = h5r_run_table(&run, "summary");
    int c_impl = h5r_table_col(ts, "impl", H5R_STR, 32), c_acc = h5r_table_col(ts, "accuracy", H5R_F64, 0),
        c_br = h5r_table_col(ts, "bytes_read_per_token", H5R_F64, 0),
        c_bw = h5r_table_col(ts, "bytes_written_per_token", H5R_F64, 0);
    h5r_table *tt = h5r_run_table(&run, "tokens");
    int t_impl = h5r_table_col(tt, "impl", H5R_STR, 32), t_ns = h5r_table_col(tt, "ns", H5R_F64, 0);
    h5r_table *te = h5r_run_table(&run, "episodes");
    int e_impl = h5r_table_col(te, "impl", H5R_STR, 32), e_ep = h5r_table_col(te, "episode", H5R_I64, 0),
        e_q = h5r_table_col(te, "query", H5R_I64, 0), e_ns = h5r_table_col(te, "ns", H5R_F64, 0);
    cr_assert(c_bw >= 0 && t_ns >= 0 && e_ns >= 0);
    rng64 r = {s->rng * 0x9e3779b97f4a7c15ULL + 1};
    double *x = malloc(sizeof(double) * (s->n_token_samples + s->n_episodes));
    for (int i = 0; i < 2; i++) {
        long k = h5r_table_row(ts);
        h5r_set_str(ts, c_impl, k, impls[i]);
        h5r_set_f64(ts, c_acc, k, s->accuracy[i]);
        h5r_set_f64(ts, c_br, k, s->bytes_read[i]);
        h5r_set_f64(ts, c_bw, k, s->bytes_written[i]);
        draw(&r, x, s->n_token_samples, s->ns_median[i]);
        for (int j = 0; j < s->n_token_samples; j++) {
            k = h5r_table_row(tt);
            h5r_set_str(tt, t_impl, k, impls[i]);
            h5r_set_f64(tt, t_ns, k, x[j]);
        }
        draw(&r, x, (int)s->n_episodes, 10 * s->ns_median[i]);
        for (int e = 0; e < s->n_episodes; e++)
            for (int q = 0; q < 2; q++) {  // two query rows per episode repeat the episode's time
                k = h5r_table_row(te);
                h5r_set_str(te, e_impl, k, impls[i]);
                h5r_set_i64(te, e_ep, k, e);
                h5r_set_i64(te, e_q, k, q);
                h5r_set_f64(te, e_ns, k, x[e]);
            }
    }
    free(x);
    if (s->loihi2) {
        h5r_table *tl = h5r_run_table(&run, "loihi2");
        int l_impl = h5r_table_col(tl, "impl", H5R_STR, 32), l_ops = h5r_table_col(tl, "syn_ops", H5R_I64, 0),
            l_sp = h5r_table_col(tl, "spikes", H5R_I64, 0), l_e = h5r_table_col(tl, "energy_j", H5R_F64, 0);
        long k = h5r_table_row(tl);
        h5r_set_str(tl, l_impl, k, "loihi2-emu");
        h5r_set_i64(tl, l_ops, k, s->syn_ops);
        h5r_set_i64(tl, l_sp, k, 777);
        h5r_set_f64(tl, l_e, k, 1e-6);
    }
    cr_assert_eq(h5r_commit(path, &run), 0, "%s", err_msg());
    h5r_run_free(&run);
}

static char g_dir[64];
static const char *tmp_path(const char *name) {
    static char buf[8][256];
    static int k;
    if (!g_dir[0]) {
        snprintf(g_dir, sizeof g_dir, "/tmp/neuroicl-cmp-XXXXXX");
        cr_assert_not_null(mkdtemp(g_dir));
    }
    char *b = buf[k++ % 8];
    snprintf(b, 256, "%s/%s", g_dir, name);
    return b;
}

static const cmp_line *find(const cmp_report *r, const char *impl, const char *metric) {
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->lines[i].impl, impl) && !strcmp(r->lines[i].metric, metric)) return &r->lines[i];
    return NULL;
}

static void need_bin(void) {
    if (access(BIN, X_OK)) cr_skip_test("%s not built", BIN);
}

// ------------------------------------------------------------------ deterministic --------

Test(compare, identical_inputs_no_regression_exit_0) {
    spec s = default_spec();
    const char *a = tmp_path("ident_a.h5"), *b = tmp_path("ident_b.h5");
    unlink(a); unlink(b);
    write_run(a, &s);
    write_run(b, &s);  // same values, same timing samples (same rng seed)
    cmp_options o;
    cmp_default_options(&o);
    cmp_report rep;
    cr_assert_eq(cmp_files(a, b, &o, &rep), 0, "%s", err_msg());
    cr_expect_eq(rep.n_configs, 1);
    cr_expect_eq(rep.n, 10, "2 rows x (2 bytes + accuracy + ns/token + ns/episode), got %d", rep.n);
    for (int i = 0; i < rep.n; i++) {
        const cmp_line *l = &rep.lines[i];
        if (l->kind == CMP_DETERMINISTIC) cr_expect_eq(l->verdict, CMP_SAME, "%s %s", l->impl, l->metric);
        else cr_expect_eq(l->verdict, CMP_NO_CHANGE, "%s %s: %s", l->impl, l->metric, cmp_verdict_name(l->verdict));
    }
    const cmp_line *l = find(&rep, "fw-float", "bytes_written_per_token");
    cr_assert_not_null(l);
    cr_expect_float_eq(l->base, 4096.0, 0);
    cr_expect_float_eq(l->cur, 4096.0, 0);
    l = find(&rep, "kv-softmax", "ns_per_episode");
    cr_assert_not_null(l);
    cr_expect_eq(l->n_base, 20, "one sample per episode, not per query row");
    cr_expect_float_eq(l->p, 1.0, 1e-12);
    cr_expect_eq(cmp_exit_code(&rep, &o), CMP_EXIT_OK);
    cmp_report_free(&rep);
    // a file against itself
    cr_assert_eq(cmp_files(a, a, &o, &rep), 0);
    cr_expect_eq(cmp_exit_code(&rep, &o), CMP_EXIT_OK);
    cmp_report_free(&rep);
}

Test(compare, injected_20pct_bytes_regression_exit_1) {
    spec s = default_spec();
    const char *a = tmp_path("inj_a.h5"), *b = tmp_path("inj_b.h5");
    unlink(a); unlink(b);
    write_run(a, &s);
    s.bytes_read[1] *= 1.2;
    write_run(b, &s);
    cmp_options o;
    cmp_default_options(&o);
    cmp_report rep;
    cr_assert_eq(cmp_files(a, b, &o, &rep), 0, "%s", err_msg());
    const cmp_line *l = find(&rep, "fw-float", "bytes_read_per_token");
    cr_assert_not_null(l);
    cr_expect_eq(l->verdict, CMP_REGRESSED);
    cr_expect_float_eq(l->change, 0.2, 1e-12);
    cr_expect_float_eq(l->cur, 241832 * 1.2, 1e-6);
    cr_expect_eq(find(&rep, "kv-softmax", "bytes_read_per_token")->verdict, CMP_SAME);
    cr_expect_eq(cmp_exit_code(&rep, &o), CMP_EXIT_REGRESSION);
    cmp_report_free(&rep);
    // the same through the command line, in every format
    need_bin();
    char cmd[700];
    const char *fmts[] = {"table", "markdown", "json"};
    for (int i = 0; i < 3; i++) {
        snprintf(cmd, sizeof cmd, BIN " compare %s %s --format %s", a, b, fmts[i]);
        cmd_result r = cmd_run("%s", cmd);
        cr_expect_eq(r.code, 1, "%s: exit %d\n%s", fmts[i], r.code, r.out);
        cr_expect(strstr(r.out, "REGRESSED") != NULL, "%s", r.out);
        cr_expect(strstr(r.out, "+20.00%") != NULL || strstr(r.out, "0.2") != NULL, "%s", r.out);
    }
    snprintf(cmd, sizeof cmd, BIN " compare %s %s --format json", a, b);
    cmd_result r = cmd_run("%s", cmd);
    cr_expect(strstr(r.out, "\"exit_code\": 1") && strstr(r.out, "\"regressions\": 1"), "%s", r.out);
    // the deterministic gate with a 25% threshold lets it through
    snprintf(cmd, sizeof cmd, BIN " compare %s %s --threshold 0.25", a, b);
    r = cmd_run("%s", cmd);
    cr_expect_eq(r.code, 0, "%s", r.out);
    cr_expect(strstr(r.out, "within threshold") != NULL, "%s", r.out);
}

Test(compare, improvement_is_not_a_regression) {
    spec s = default_spec();
    const char *a = tmp_path("imp_a.h5"), *b = tmp_path("imp_b.h5");
    unlink(a); unlink(b);
    write_run(a, &s);
    s.bytes_written[0] *= 0.5;
    s.accuracy[1] = 0.30;
    write_run(b, &s);
    cmp_options o;
    cmp_default_options(&o);
    cmp_report rep;
    cr_assert_eq(cmp_files(a, b, &o, &rep), 0, "%s", err_msg());
    cr_expect_eq(find(&rep, "kv-softmax", "bytes_written_per_token")->verdict, CMP_IMPROVED);
    cr_expect_eq(find(&rep, "fw-float", "accuracy")->verdict, CMP_IMPROVED);
    cr_expect_eq(cmp_exit_code(&rep, &o), CMP_EXIT_OK);
    cmp_report_free(&rep);
}

Test(compare, accuracy_drop_regresses_only_with_same_model) {
    spec s = default_spec();
    const char *a = tmp_path("acc_a.h5"), *b = tmp_path("acc_b.h5"), *c = tmp_path("acc_c.h5");
    unlink(a); unlink(b); unlink(c);
    write_run(a, &s);
    s.accuracy[0] = 0.29 * 0.8;
    write_run(b, &s);
    s.model_hash = "1234123412341234";
    write_run(c, &s);
    cmp_options o;
    cmp_default_options(&o);
    cmp_report rep;
    cr_assert_eq(cmp_files(a, b, &o, &rep), 0, "%s", err_msg());
    const cmp_line *l = find(&rep, "kv-softmax", "accuracy");
    cr_expect_eq(l->verdict, CMP_REGRESSED);
    cr_expect_float_eq(l->change, -0.2, 1e-12);
    cr_expect_eq(cmp_exit_code(&rep, &o), CMP_EXIT_REGRESSION);
    cmp_report_free(&rep);
    cr_assert_eq(cmp_files(a, c, &o, &rep), 0, "%s", err_msg());
    l = find(&rep, "kv-softmax", "accuracy");
    cr_expect_eq(l->verdict, CMP_NOT_COMPARED);
    cr_expect(strstr(l->note, "model differs, not compared") != NULL, "%s", l->note);
    cr_expect_eq(cmp_exit_code(&rep, &o), CMP_EXIT_OK);
    cmp_report_free(&rep);
}

Test(compare, emulator_counts_gate_exactly) {
    spec s = default_spec();
    s.loihi2 = 1;
    s.syn_ops = 1000000;
    const char *a = tmp_path("emu_a.h5"), *b = tmp_path("emu_b.h5");
    unlink(a); unlink(b);
    write_run(a, &s);
    s.syn_ops = 1200000;
    write_run(b, &s);
    cmp_options o;
    cmp_default_options(&o);
    cmp_report rep;
    cr_assert_eq(cmp_files(a, b, &o, &rep), 0, "%s", err_msg());
    const cmp_line *l = find(&rep, "loihi2-emu", "loihi2.syn_ops");
    cr_assert_not_null(l);
    cr_expect_eq(l->verdict, CMP_REGRESSED);
    cr_expect_float_eq(l->change, 0.2, 1e-12);
    cr_expect_eq(find(&rep, "loihi2-emu", "loihi2.spikes")->verdict, CMP_SAME);
    cr_expect_null(find(&rep, "loihi2-emu", "loihi2.energy_j"), "floating-point columns are not gated");
    cr_expect_eq(cmp_exit_code(&rep, &o), CMP_EXIT_REGRESSION);
    cmp_report_free(&rep);
}

Test(compare, metric_filter) {
    spec s = default_spec();
    const char *a = tmp_path("flt_a.h5"), *b = tmp_path("flt_b.h5");
    unlink(a); unlink(b);
    write_run(a, &s);
    s.bytes_read[1] *= 1.2;
    write_run(b, &s);
    cmp_options o;
    cmp_default_options(&o);
    o.metrics = "accuracy,bytes_written_per_token";
    cmp_report rep;
    cr_assert_eq(cmp_files(a, b, &o, &rep), 0);
    cr_expect_eq(rep.n, 4);
    cr_expect_eq(cmp_exit_code(&rep, &o), CMP_EXIT_OK);
    cmp_report_free(&rep);
}

// ------------------------------------------------------------------ timing ---------------

Test(compare, same_distribution_no_significant_change_95pct) {
    cmp_options o;
    cmp_default_options(&o);
    const int trials = 400, n = 60;
    int no_change = 0, p_below_alpha = 0;
    double b[60], c[60];
    for (int t = 0; t < trials; t++) {
        rng64 r = {0x5eed0000ULL + (uint64_t)t};
        draw(&r, b, n, 40000);
        draw(&r, c, n, 40000);
        cmp_line l = {0};
        cmp_judge_timing(b, n, c, n, &o, &l);
        no_change += l.verdict == CMP_NO_CHANGE;
        p_below_alpha += l.p < o.alpha;
    }
    cr_expect_geq(no_change, trials * 95 / 100, "%d of %d trials said no significant change", no_change, trials);
    // the test itself is calibrated: about alpha of the trials reject at alpha (binomial sd ~ 11)
    cr_expect_leq(p_below_alpha, trials * 0.05 + 3 * sqrt(trials * 0.05 * 0.95), "%d of %d below alpha",
                  p_below_alpha, trials);
}

Test(compare, clear_shift_detected) {
    cmp_options o;
    cmp_default_options(&o);
    const int trials = 200, n = 30;
    int slower = 0, faster = 0;
    double b[30], c[30];
    for (int t = 0; t < trials; t++) {
        rng64 r = {0xabcd0000ULL + (uint64_t)t};
        draw(&r, b, n, 40000);
        draw(&r, c, n, 40000 * 1.3);
        cmp_line l = {0};
        cmp_judge_timing(b, n, c, n, &o, &l);
        slower += l.verdict == CMP_SLOWER;
        cmp_judge_timing(c, n, b, n, &o, &l);
        faster += l.verdict == CMP_FASTER;
    }
    cr_expect_geq(slower, trials * 95 / 100, "+30%%: %d of %d slower", slower, trials);
    cr_expect_geq(faster, trials * 95 / 100, "-23%%: %d of %d faster", faster, trials);
}

Test(compare, significant_but_tiny_change_is_not_judged_slower) {
    // every sample +2%: the test is significant, the effect is below the 5% minimum
    double b[50], c[50];
    for (int i = 0; i < 50; i++) { b[i] = 1000 + i; c[i] = 1.02 * b[i] + 30; }
    cmp_options o;
    cmp_default_options(&o);
    cmp_line l = {0};
    cmp_judge_timing(b, 50, c, 50, &o, &l);
    cr_expect(l.p < 0.05, "p = %g", l.p);
    cr_expect_lt(l.change, 0.05);
    cr_expect_eq(l.verdict, CMP_NO_CHANGE);
}

Test(compare, too_few_samples_refused_with_message) {
    double b[20], c[20];
    for (int i = 0; i < 20; i++) { b[i] = 100 + i; c[i] = 1000 + i; }
    cmp_options o;
    cmp_default_options(&o);
    cmp_line l = {0};
    cmp_judge_timing(b, 8, c, 20, &o, &l);
    cr_expect_eq(l.verdict, CMP_TOO_FEW);
    cr_expect(isnan(l.p));
    cr_expect(strstr(l.note, "need >= 9") != NULL, "%s", l.note);
    memset(&l, 0, sizeof l);
    cmp_judge_timing(b, 9, c, 9, &o, &l);
    cr_expect_eq(l.verdict, CMP_SLOWER, "9 per side is enough: %s", cmp_verdict_name(l.verdict));
    // a run with 5 episodes: ns_per_episode refused, the run still compares (exit 0)
    spec s = default_spec();
    s.n_episodes = 5;
    const char *a = tmp_path("few_a.h5"), *f = tmp_path("few_b.h5");
    unlink(a); unlink(f);
    write_run(a, &s);
    s.rng = 7;
    write_run(f, &s);
    cmp_report rep;
    cr_assert_eq(cmp_files(a, f, &o, &rep), 0, "%s", err_msg());
    const cmp_line *e = find(&rep, "kv-softmax", "ns_per_episode");
    cr_assert_not_null(e);
    cr_expect_eq(e->verdict, CMP_TOO_FEW);
    cr_expect_eq(e->n_base, 5);
    cr_expect_eq(cmp_exit_code(&rep, &o), CMP_EXIT_OK);
    cmp_report_free(&rep);
    need_bin();
    char cmd[700];
    snprintf(cmd, sizeof cmd, BIN " compare %s %s", a, f);
    cmd_result r = cmd_run("%s", cmd);
    cr_expect_eq(r.code, 0);
    cr_expect(strstr(r.out, "too few samples") && strstr(r.out, "need >= 9"), "%s", r.out);
}

Test(compare, slower_fails_only_with_fail_on_timing) {
    spec s = default_spec();
    const char *a = tmp_path("slow_a.h5"), *b = tmp_path("slow_b.h5");
    unlink(a); unlink(b);
    write_run(a, &s);
    s.ns_median[0] *= 1.5;
    s.rng = 9;
    write_run(b, &s);
    cmp_options o;
    cmp_default_options(&o);
    cmp_report rep;
    cr_assert_eq(cmp_files(a, b, &o, &rep), 0, "%s", err_msg());
    cr_expect_eq(find(&rep, "kv-softmax", "ns_per_token")->verdict, CMP_SLOWER);
    cr_expect_eq(cmp_exit_code(&rep, &o), CMP_EXIT_OK, "timing is reported, not gated");
    o.fail_on_timing = 1;
    cr_expect_eq(cmp_exit_code(&rep, &o), CMP_EXIT_REGRESSION);
    cmp_report_free(&rep);
}

// ------------------------------------------------------------------ unusable input -------

static void set_schema_version(const char *path, int64_t v) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert(f >= 0);
    cr_assert(H5Adelete(f, "schema_version") >= 0);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "schema_version", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert(a >= 0);
    H5Awrite(a, H5T_NATIVE_INT64, &v);
    H5Aclose(a);
    H5Sclose(sp);
    H5Fclose(f);
}

Test(compare, schema_version_mismatch_exit_2) {
    spec s = default_spec();
    const char *a = tmp_path("sv_a.h5"), *b = tmp_path("sv_b.h5");
    unlink(a); unlink(b);
    write_run(a, &s);
    write_run(b, &s);
    set_schema_version(b, 2);
    cmp_options o;
    cmp_default_options(&o);
    cmp_report rep;
    cr_expect_neq(cmp_files(a, b, &o, &rep), 0);
    cr_expect(strstr(err_msg(), "schema_version 2") && strstr(err_msg(), "reads schema_version 1"), "%s", err_msg());
    cmp_report_free(&rep);
    need_bin();
    char cmd[700];
    snprintf(cmd, sizeof cmd, BIN " compare %s %s", a, b);
    cmd_result r = cmd_run("%s", cmd);
    cr_expect_eq(r.code, 2, "%s", r.out);
    cr_expect(strstr(r.out, "schema_version 2") != NULL, "%s", r.out);
    int lines = 0;
    for (char *p = r.out; *p; p++) lines += *p == '\n';
    cr_expect_eq(lines, 1, "one line: %s", r.out);
}

Test(compare, unusable_inputs_exit_2) {
    need_bin();
    spec s = default_spec();
    const char *a = tmp_path("un_a.h5"), *seed2 = tmp_path("un_seed2.h5"), *norow = tmp_path("un_norow.h5"),
               *junk = tmp_path("un_junk.h5");
    unlink(a); unlink(seed2); unlink(norow);
    write_run(a, &s);
    s.seed = 2;
    write_run(seed2, &s);
    s.seed = 1;
    s.impl1 = "kv-linear";
    write_run(norow, &s);
    FILE *f = fopen(junk, "w");
    fputs("not hdf5\n", f);
    fclose(f);
    char cmd[900];
    snprintf(cmd, sizeof cmd, BIN " compare %s /nonexistent/x.h5", a);
    cmd_result r = cmd_run("%s", cmd);
    cr_expect_eq(r.code, 2, "%s", r.out);
    cr_expect(strstr(r.out, "/nonexistent/x.h5") != NULL, "%s", r.out);
    snprintf(cmd, sizeof cmd, BIN " compare %s", a);
    r = cmd_run("%s", cmd);
    cr_expect_eq(r.code, 2, "%s", r.out);
    snprintf(cmd, sizeof cmd, BIN " compare %s %s", a, junk);
    r = cmd_run("%s", cmd);
    cr_expect_eq(r.code, 2, "%s", r.out);
    cr_expect(strstr(r.out, "not a neuroicl results file") != NULL, "%s", r.out);
    snprintf(cmd, sizeof cmd, BIN " compare %s %s", a, seed2);
    r = cmd_run("%s", cmd);
    cr_expect_eq(r.code, 2, "%s", r.out);
    cr_expect(strstr(r.out, "seed=1") && strstr(r.out, "no run with the baseline configuration"), "%s", r.out);
    snprintf(cmd, sizeof cmd, BIN " compare %s %s", a, norow);
    r = cmd_run("%s", cmd);
    cr_expect_eq(r.code, 2, "%s", r.out);
    cr_expect(strstr(r.out, "no row 'fw-float'") != NULL, "%s", r.out);
    snprintf(cmd, sizeof cmd, BIN " compare %s %s --alpha 7", a, a);
    r = cmd_run("%s", cmd);
    cr_expect_eq(r.code, 2, "%s", r.out);
    cr_expect(strstr(r.out, "--alpha") != NULL, "%s", r.out);
}

Test(compare, latest_run_of_a_configuration_is_used) {
    spec s = default_spec();
    const char *a = tmp_path("lat_a.h5"), *b = tmp_path("lat_b.h5");
    unlink(a); unlink(b);
    write_run(a, &s);
    s.bytes_read[0] *= 2;
    write_run(b, &s);           // an old, regressed run ...
    s.bytes_read[0] /= 2;
    write_run(b, &s);           // ... superseded by a good one with the same configuration
    cmp_options o;
    cmp_default_options(&o);
    cmp_report rep;
    cr_assert_eq(cmp_files(a, b, &o, &rep), 0, "%s", err_msg());
    cr_expect_eq(rep.n_configs, 1);
    cr_expect_eq(cmp_exit_code(&rep, &o), CMP_EXIT_OK);
    cmp_report_free(&rep);
}

Test(compare, help_is_compares_own) {
    need_bin();
    cmd_result r = cmd_run(BIN " compare --help");
    cr_expect_eq(r.code, 0);
    cr_expect(strstr(r.out, "usage: neuroicl compare") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "0 nothing regressed, 1 a regression, 2 unusable input") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "Mann-Whitney") != NULL);
}

Test(compare, committed_baseline_against_itself) {
    const char *base = "reports/baselines/quick.h5";
    if (access(base, R_OK)) cr_skip_test("%s missing", base);
    cmp_options o;
    cmp_default_options(&o);
    cmp_report rep;
    cr_assert_eq(cmp_files(base, base, &o, &rep), 0, "%s", err_msg());
    cr_expect_geq(rep.n, 9);
    cr_expect_eq(cmp_exit_code(&rep, &o), CMP_EXIT_OK);
    for (int i = 0; i < rep.n; i++)
        cr_expect(rep.lines[i].verdict == CMP_SAME || rep.lines[i].verdict == CMP_NO_CHANGE, "%s %s",
                  rep.lines[i].impl, rep.lines[i].metric);
    cmp_report_free(&rep);
}

// ------------------------------------------------------------------ history --------------

#include "bench/history.h"

Test(compare, history_trend_data_in_time_order) {
    char dir[64], out[128];
    snprintf(dir, sizeof dir, "/tmp/neuroicl-hist-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(out, sizeof out, "%s/fig", dir);
    // three commits; the names do not sort in time order, the runs' creation times do
    const char *names[3] = {"v0.1.0-9-gzzz", "v0.1.0-10-gaaa", "v0.1.0-11-gmmm"};
    double bytes[3] = {1000, 1200, 900};
    // Another configuration, written first so the newest file (whose configuration history
    // follows) is one of the three whatever second the clock is in: it must be skipped.
    spec other = default_spec();
    other.seed = 5;
    char p[256];
    snprintf(p, sizeof p, "%s/v0.0.9.h5", dir);
    write_run(p, &other);
    sleep(1);
    for (int i = 0; i < 3; i++) {
        spec s = default_spec();
        s.bytes_read[0] = bytes[i];
        snprintf(p, sizeof p, "%s/%s.h5", dir, names[i]);
        write_run(p, &s);
        if (i < 2) sleep(1);  // created_utc has 1 s resolution
    }
    int np = -1, ns = -1;
    int rc = hist_figures(dir, out, &np, &ns);
    if (rc) cr_expect(strstr(err_msg(), "gnuplot") != NULL, "%s", err_msg());  // data written even then
    cr_expect_eq(np, 3);
    cr_expect_eq(ns, 1);
    snprintf(p, sizeof p, "%s/history_bytes_read_per_token.dat", out);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f, "%s", p);
    char line[512];
    int k = 0;
    while (fgets(line, sizeof line, f) && k < 3) {
        if (line[0] == '#' || line[0] == '\n') continue;
        int x;
        double v;
        char lab[128];
        cr_assert_eq(sscanf(line, "%d %lf %127s", &x, &v, lab), 3, "%s", line);
        cr_expect_eq(x, k);
        cr_expect_float_eq(v, bytes[k], 0);
        cr_expect_str_eq(lab, names[k]);
        k++;
    }
    fclose(f);
    cr_expect_eq(k, 3);
    if (!rc) {
        snprintf(p, sizeof p, "%s/history_accuracy.svg", out);
        cr_expect_eq(access(p, R_OK), 0, "%s", p);
    }
}
