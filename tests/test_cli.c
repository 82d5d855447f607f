// The command line as a user meets it: bad input gives one line and exit 2; unwritable or
// missing files give one line and exit 1; results files only ever grow.
// Needs bin/neuroicl and the tiny model build/test-model.h5 (`make test` makes both).
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bench/cli.h"
#include "tests/cmd_support.h"
#include "bench/results.h"

#define BIN "./bin/neuroicl"
#define TINY "build/test-model.h5"

static void need_tiny_model(void) {
    if (access(TINY, R_OK)) cr_skip_test("tiny model %s missing (run `make test`)", TINY);
}

static void tmpdir(char *buf, size_t n) {
    snprintf(buf, n, "/tmp/neuroicl-cli-XXXXXX");
    cr_assert_not_null(mkdtemp(buf));
}

Test(cli, bad_numbers_exit_2_with_one_line) {
    const char *cases[][2] = {{"--n-way 0", "--n-way"}, {"--k-shot -3", "--k-shot"}, {"--episodes abc", "--episodes"},
                              {"--queries 0", "--queries"}, {"--seed -1", "--seed"}, {"--n-way", "needs a value"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cmd_result r = cmd_run(BIN " eval %s", cases[i][0]);
        cr_expect_eq(r.code, 2, "%s: exit %d", cases[i][0], r.code);
        cr_expect_eq(r.lines, 1, "%s: %d lines: %s", cases[i][0], r.lines, r.out);
        cr_expect(strstr(r.out, cases[i][1]) != NULL, "%s: message does not name the option: %s", cases[i][0], r.out);
    }
}

Test(cli, unknown_impl_names_the_row_and_the_choices) {
    cmd_result r = cmd_run(BIN " eval --impl kv-linear,bogus");
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.out, "bogus") && strstr(r.out, "fw-float"), "%s", r.out);
}

Test(cli, unknown_command_and_option_exit_2) {
    cr_expect_eq(cmd_run(BIN " frobnicate").code, 2);
    cr_expect_eq(cmd_run(BIN " eval --frob 1").code, 2);
    cr_expect_eq(cmd_run(BIN " train --task mnist --out /tmp/x.h5").code, 2);
}

Test(cli, n_way_above_classes_or_model_labels_exit_2) {
    need_tiny_model();
    cmd_result r = cmd_run(BIN " eval --model " TINY " --task glyphs --n-way 25 --episodes 1 --out /tmp/never.h5");
    cr_expect_eq(r.code, 2, "%s", r.out);
    cr_expect(strstr(r.out, "--n-way 25"), "%s", r.out);
    cr_expect_eq(access("/tmp/never.h5", F_OK), -1);
}

Test(cli, missing_model_names_the_file_and_the_fix) {
    cmd_result r = cmd_run(BIN " eval --model /nonexistent/m.h5 --episodes 1");
    cr_expect_eq(r.code, 1);
    cr_expect(strstr(r.out, "/nonexistent/m.h5") && strstr(r.out, "neuroicl train"), "%s", r.out);
}

Test(cli, corrupt_model_is_refused) {
    char dir[64], path[128];
    tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/bad.h5", dir);
    FILE *f = fopen(path, "w");
    fputs("not an hdf5 file\n", f);
    fclose(f);
    cmd_result r = cmd_run(BIN " eval --model %s --episodes 1 --out %s/r.h5", path, dir);
    cr_expect_eq(r.code, 1);
    cr_expect(strstr(r.out, path) && strstr(r.out, "HDF5"), "%s", r.out);
}

Test(cli, unwritable_out_fails_clearly_and_writes_nothing) {
    need_tiny_model();
    cmd_result r = cmd_run(BIN " eval --model " TINY " --task glyphs --episodes 2 --out /proc/neuroicl/r.h5");
    cr_expect_eq(r.code, 1, "%s", r.out);
    cr_expect(strstr(r.out, "/proc/neuroicl"), "%s", r.out);
}

Test(cli, explicit_omniglot_with_missing_dir_fails_auto_falls_back) {
    need_tiny_model();
    char dir[64];
    tmpdir(dir, sizeof dir);
    cmd_result r = cmd_run(BIN " eval --model " TINY " --task omniglot --data /nonexistent/omni --episodes 1 --out %s/r.h5", dir);
    cr_expect_eq(r.code, 1, "%s", r.out);
    cr_expect(strstr(r.out, "/nonexistent/omni"), "%s", r.out);
    // auto falls back when nothing was named; a --data path that is not there is an error
    r = cmd_run("NEUROICL_DATA=/nonexistent " BIN " eval --model " TINY " --task auto --episodes 2 --out %s/r.h5", dir);
    cr_expect_eq(r.code, 0, "%s", r.out);
    cr_expect(strstr(r.out, "procedural glyphs"), "%s", r.out);
    r = cmd_run(BIN " eval --model " TINY " --task auto --data /nonexistent/omni --episodes 2 --out %s/r.h5", dir);
    cr_expect_eq(r.code, 1, "%s", r.out);
    cr_expect_eq(r.lines, 1, "%s", r.out);
    cr_expect(strstr(r.out, "/nonexistent/omni"), "%s", r.out);
}

Test(cli, second_eval_appends_and_keeps_the_first_run) {
    need_tiny_model();
    char dir[64], out[128];
    tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/r.h5", dir);
    cmd_result r = cmd_run(BIN " eval --model " TINY " --task glyphs --episodes 3 --impl fw-float --out %s", out);
    cr_assert_eq(r.code, 0, "%s", r.out);
    char **ids;
    int n;
    cr_assert_eq(h5r_list_runs(out, &ids, &n), 0);
    cr_assert_eq(n, 1);
    h5r_table first;
    cr_assert_eq(h5r_read_table(out, ids[0], "episodes", &first), 0);
    r = cmd_run(BIN " eval --model " TINY " --task glyphs --episodes 2 --impl kv-linear --seed 9 --out %s", out);
    cr_assert_eq(r.code, 0, "%s", r.out);
    char **ids2;
    int n2;
    cr_assert_eq(h5r_list_runs(out, &ids2, &n2), 0);
    cr_assert_eq(n2, 2);
    h5r_table again;
    cr_assert_eq(h5r_read_table(out, ids[0], "episodes", &again), 0);
    cr_assert_eq(again.n_rows, first.n_rows);
    int c1 = h5r_col_index(&first, "predicted"), c2 = h5r_col_index(&again, "predicted");
    for (size_t i = 0; i < first.n_rows; i++) cr_assert_eq(first.cols[c1].i64[i], again.cols[c2].i64[i]);
    // A failing third eval (bad --impl) leaves both runs in place.
    r = cmd_run(BIN " eval --model " TINY " --task glyphs --impl nope --out %s", out);
    cr_expect_eq(r.code, 2);
    char **ids3;
    int n3;
    cr_assert_eq(h5r_list_runs(out, &ids3, &n3), 0);
    cr_expect_eq(n3, 2);
    h5r_table_free(&first);
    h5r_table_free(&again);
    h5r_ids_free(ids, n);
    h5r_ids_free(ids2, n2);
    h5r_ids_free(ids3, n3);
}

Test(cli, eval_is_deterministic_for_a_seed_and_rows_see_identical_episodes) {
    need_tiny_model();
    char dir[64], out[128];
    tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/r.h5", dir);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(cmd_run(BIN " eval --model " TINY " --task glyphs --episodes 4 --impl kv-linear,fw-float --out %s", out).code, 0);
    char **ids;
    int n;
    cr_assert_eq(h5r_list_runs(out, &ids, &n), 0);
    cr_assert_eq(n, 2);
    h5r_table a, b;
    cr_assert_eq(h5r_read_table(out, ids[0], "episodes", &a), 0);
    cr_assert_eq(h5r_read_table(out, ids[1], "episodes", &b), 0);
    int pa = h5r_col_index(&a, "predicted"), ta = h5r_col_index(&a, "true_label"), ia = h5r_col_index(&a, "impl");
    cr_assert_eq(a.n_rows, b.n_rows);
    for (size_t i = 0; i < a.n_rows; i++) {
        cr_expect_eq(a.cols[pa].i64[i], b.cols[pa].i64[i]);
        cr_expect_eq(a.cols[ta].i64[i], b.cols[ta].i64[i]);
    }
    // kv-linear and fw-float rows alternate per episode with the same true labels.
    size_t half = a.n_rows / 2;
    (void)half;
    int same = 0;
    for (size_t i = 0; i + 1 < a.n_rows; i++)
        if (strcmp(a.cols[ia].str + i * a.cols[ia].str_len, "kv-linear") == 0) {
            for (size_t j = 0; j < a.n_rows; j++)
                if (strcmp(a.cols[ia].str + j * a.cols[ia].str_len, "fw-float") == 0 &&
                    a.cols[h5r_col_index(&a, "episode")].i64[j] == a.cols[h5r_col_index(&a, "episode")].i64[i] &&
                    a.cols[h5r_col_index(&a, "query")].i64[j] == a.cols[h5r_col_index(&a, "query")].i64[i]) {
                    cr_expect_eq(a.cols[ta].i64[i], a.cols[ta].i64[j]);
                    same++;
                }
        }
    cr_expect_eq(same, (int)a.n_rows / 2);
    double diff;
    char obj[200];
    snprintf(obj, sizeof obj, "/runs/%s", ids[0]);
    cr_assert_eq(h5r_read_attr_f64(out, obj, "max_rel_logit_diff_kv_linear_fw_float", &diff), 0);
    cr_expect(diff <= 1e-4, "kv-linear vs fw-float relative logit difference %g", diff);
    h5r_table_free(&a);
    h5r_ids_free(ids, n);
    h5r_table_free(&b);
}

Test(cli, report_draws_figures_from_an_eval_run) {
    need_tiny_model();
    char dir[64], out[128];
    tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/r.h5", dir);
    cr_assert_eq(cmd_run(BIN " eval --model " TINY " --task glyphs --episodes 3 --out %s", out).code, 0);
    cmd_result r = cmd_run(BIN " report %s --out-dir %s/fig", out, dir);
    cr_assert_eq(r.code, 0, "%s", r.out);
    // The default rows include loihi2-emu, so the modelled-cost figure is drawn too.
    const char *names[] = {"accuracy.png", "accuracy.svg", "traffic.png", "traffic.svg", "loihi2_cost.png", "loihi2_cost.svg"};
    for (size_t i = 0; i < 6; i++) {
        char p[256];
        struct stat st;
        snprintf(p, sizeof p, "%s/fig/%s", dir, names[i]);
        cr_expect(stat(p, &st) == 0 && st.st_size > 100, "%s missing or empty", p);
    }
    r = cmd_run(BIN " report /nonexistent.h5");
    cr_expect_eq(r.code, 1);
}

Test(cli, unusable_out_is_refused_before_any_episode_runs) {
    need_tiny_model();
    char dir[64];
    tmpdir(dir, sizeof dir);
    cmd_result r = cmd_run("echo notes > %s/notes.txt && " BIN " eval --model " TINY " --task glyphs --episodes 100000 --out %s/notes.txt", dir, dir);
    cr_expect_eq(r.code, 1, "%s", r.out);
    cr_expect(strstr(r.out, "not an HDF5 file") && strstr(r.out, "--out"), "%s", r.out);
    cr_expect(strstr(r.out, "eval: glyphs") == NULL, "episodes started before the check: %s", r.out);
    r = cmd_run("cat %s/notes.txt", dir);
    cr_expect(strstr(r.out, "notes") != NULL, "the file was changed");
}

Test(cli, ctrl_c_keeps_the_episodes_done_says_so_and_exits_130) {
    need_tiny_model();
    char dir[64], out[128];
    tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/r.h5", dir);
    cr_assert_eq(cmd_run(BIN " eval --model " TINY " --task glyphs --episodes 2 --impl fw-float --out %s", out).code, 0);
    // SIGINT after a second of a run far too long to finish.
    cmd_result r = cmd_run("timeout --preserve-status -s INT 2 " BIN " eval --model " TINY
                       " --task glyphs --episodes 10000000 --impl fw-float --out %s", out);
    cr_expect_eq(r.code, 130, "%s", r.out);
    cr_expect(strstr(r.out, "interrupted after") != NULL, "%s", r.out);
    char **ids;
    int n;
    cr_assert_eq(h5r_list_runs(out, &ids, &n), 0);
    cr_assert_eq(n, 2, "the earlier run and the partial one");
    char obj[200], val[16] = "";
    snprintf(obj, sizeof obj, "/runs/%s", ids[1]);
    cr_expect_eq(h5r_read_attr_str(out, obj, "interrupted", val, sizeof val), 0);
    cr_expect_str_eq(val, "yes");
    h5r_ids_free(ids, n);
}

Test(cli, empty_impl_item_is_refused) {
    cmd_result r = cmd_run(BIN " eval --impl kv-softmax,,fw-float");
    cr_expect_eq(r.code, 2, "%s", r.out);
}

// The emulator's plastic rule is selectable: a forgetting rule is recorded with the run and ends
// the bit-equality with fw-quant (counted, not hidden); the default rule keeps it; a malformed
// rule is bad input.
Test(cli, loihi2_rule_is_selectable_recorded_and_checked) {
    need_tiny_model();
    char dir[64], out[128], obj[160], rule[64];
    tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/r.h5", dir);
    cmd_result r = cmd_run(BIN " eval --model " TINY " --task glyphs --episodes 3 --impl fw-quant,loihi2-emu --out %s", out);
    cr_assert_eq(r.code, 0, "%s", r.out);
    r = cmd_run(BIN " eval --model " TINY " --task glyphs --episodes 3 --impl fw-quant,loihi2-emu"
                " --loihi2-rule 'dw = u0*x1*y2 - 2^-1*u0*w' --out %s", out);
    cr_assert_eq(r.code, 0, "%s", r.out);
    char **ids;
    int n;
    cr_assert_eq(h5r_list_runs(out, &ids, &n), 0);
    cr_assert_eq(n, 2);
    int seen_default = 0, seen_decay = 0;   // run ids need not sort in the order the runs were made
    for (int k = 0; k < 2; k++) {
        snprintf(obj, sizeof obj, "/runs/%s", ids[k]);
        int64_t mism = -1;
        cr_assert_eq(h5r_read_attr_str(out, obj, "loihi2_rule", rule, sizeof rule), 0);
        cr_assert_eq(h5r_read_attr_i64(out, obj, "fw_quant_loihi2_emu_logit_mismatches", &mism), 0);
        if (!strcmp(rule, "dw = u0*x1*y2")) {
            seen_default++;
            cr_expect_eq(mism, 0);
        } else {
            seen_decay++;
            cr_expect_str_eq(rule, "dw = u0*x1*y2 - 2^-1*u0*w");
            cr_expect_gt(mism, 0, "halving every weight each epoch should change some logits");
        }
        free(ids[k]);
    }
    free(ids);
    cr_expect(seen_default == 1 && seen_decay == 1);
    r = cmd_run(BIN " eval --model " TINY " --task glyphs --episodes 1 --impl loihi2-emu --loihi2-rule 'dw = u0*x1*' --out %s", out);
    cr_expect_eq(r.code, 2);
    cr_expect_eq(r.lines, 1, "%s", r.out);
    cr_expect(strstr(r.out, "--loihi2-rule") && strstr(r.out, "character"), "%s", r.out);
}

// `variants` on the tiny model: the table has the five rows for the four shapes, and the paired
// Float->Quant delta equals the difference of the two rows' accuracies (every episode has the
// same number of queries, so the mean of per-episode differences is the difference of means);
// Quant->emulator is exactly 0 (bit-identical rows). Computed here from the variants table,
// independently of the code that wrote variant_deltas.
Test(cli, variants_table_and_paired_deltas, .timeout = 120) {
    need_tiny_model();
    char dir[64], out[128], fig[128];
    tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/v.h5", dir);
    snprintf(fig, sizeof fig, "%s/variants", dir);
    cmd_result r = cmd_run(BIN " variants --model " TINY " --task glyphs --episodes 4 --out %s --figure %s", out, fig);
    cr_assert_eq(r.code, 0, "%s", r.out);
    char **ids;
    int n;
    cr_assert_eq(h5r_list_runs(out, &ids, &n), 0);
    cr_assert_eq(n, 5, "four eval runs and the variants run");
    h5r_table v = {0}, dl = {0};
    int found = 0;
    for (int i = 0; i < n && !found; i++)
        if (h5r_read_table(out, ids[i], "variants", &v) == 0) {
            cr_assert_eq(h5r_read_table(out, ids[i], "variant_deltas", &dl), 0);
            found = 1;
        }
    cr_assert(found);
    cr_assert_eq(v.n_rows, 20, "5 rows x 4 shapes (no Lake runs for glyphs)");
    cr_assert_eq(dl.n_rows, 8, "2 steps x 4 shapes");
    int vi = h5r_col_index(&v, "impl"), vw = h5r_col_index(&v, "n_way"), vk = h5r_col_index(&v, "k_shot"),
        va = h5r_col_index(&v, "accuracy");
    int df = h5r_col_index(&dl, "from"), dt = h5r_col_index(&dl, "to"), dw = h5r_col_index(&dl, "n_way"),
        dk = h5r_col_index(&dl, "k_shot"), dm = h5r_col_index(&dl, "delta_accuracy"), dlo = h5r_col_index(&dl, "ci_lo");
    cr_assert(vi >= 0 && va >= 0 && df >= 0 && dm >= 0 && dlo >= 0);
    for (size_t j = 0; j < dl.n_rows; j++) {
        const char *from = dl.cols[df].str + j * dl.cols[df].str_len, *to = dl.cols[dt].str + j * dl.cols[dt].str_len;
        double af = NAN, at = NAN;
        for (size_t i = 0; i < v.n_rows; i++) {
            if (v.cols[vw].i64[i] != dl.cols[dw].i64[j] || v.cols[vk].i64[i] != dl.cols[dk].i64[j]) continue;
            const char *impl = v.cols[vi].str + i * v.cols[vi].str_len;
            if (!strcmp(impl, from)) af = v.cols[va].f64[i];
            if (!strcmp(impl, to)) at = v.cols[va].f64[i];
        }
        cr_expect(fabs(dl.cols[dm].f64[j] - (at - af)) < 1e-9, "%s->%s %ld-way: delta %g vs %g - %g", from, to,
                  (long)dl.cols[dw].i64[j], dl.cols[dm].f64[j], at, af);
        if (!strcmp(to, "loihi2-emu")) {
            cr_expect_eq(dl.cols[dm].f64[j], 0.0);
            cr_expect_eq(dl.cols[dlo].f64[j], 0.0);
        }
    }
    h5r_ids_free(ids, n);
    h5r_table_free(&v);
    h5r_table_free(&dl);
    char png[160];
    snprintf(png, sizeof png, "%s.png", fig);
    cr_expect_eq(access(png, R_OK), 0, "figure %s", png);
    // `report` on that file draws the latest eval run (the variants run has no figures of its
    // own here; its evals have no per-token records, so no traffic figure)
    r = cmd_run(BIN " report %s --out-dir %s/rep", out, dir);
    cr_expect_eq(r.code, 0, "%s", r.out);
    snprintf(png, sizeof png, "%s/rep/accuracy.png", dir);
    cr_expect_eq(access(png, R_OK), 0, "%s", r.out);
    cr_expect(strstr(r.out, "no traffic figure") != NULL, "%s", r.out);
}

// `variants` checks where it will write before any episode runs.
Test(cli, variants_refuses_unwritable_outputs_before_work) {
    need_tiny_model();
    cmd_result r = cmd_run(BIN " variants --model " TINY " --task glyphs --episodes 2 --out /proc/neuroicl/v.h5");
    cr_expect_eq(r.code, 1);
    cr_expect_eq(r.lines, 1, "%s", r.out);
    cr_expect(strstr(r.out, "/proc/neuroicl") != NULL, "%s", r.out);
    r = cmd_run(BIN " variants --model " TINY " --task glyphs --episodes 2 --out /tmp/neuroicl-unused.h5 --figure /proc/neuroicl/v");
    cr_expect_eq(r.code, 1);
    cr_expect_eq(r.lines, 1, "%s", r.out);
    cr_expect(strstr(r.out, "/proc/neuroicl") != NULL, "%s", r.out);
    cr_expect_neq(access("/tmp/neuroicl-unused.h5", F_OK), 0, "no results written");
}

// Ctrl-C during quantize's fine-tuning writes nothing (the model file keeps every byte); during
// variants the eval runs done so far stay in the results file and the exit says so.
Test(cli, ctrl_c_in_quantize_and_variants, .timeout = 240) {
    need_tiny_model();
    char dir[64], model[128], out[128], cmd[512];
    tmpdir(dir, sizeof dir);
    snprintf(model, sizeof model, "%s/m.h5", dir);
    snprintf(out, sizeof out, "%s/r.h5", dir);
    snprintf(cmd, sizeof cmd, "cp " TINY " %s && cksum < %s", model, model);
    cmd_result before = cmd_run("%s", cmd);
    cr_assert_eq(before.code, 0);
    cmd_result r = cmd_run("timeout --preserve-status -s INT 3 " BIN " quantize --model %s --task glyphs --episodes 20 --qat-steps 1000000", model);
    cr_expect_eq(r.code, 130, "%s", r.out);
    cr_expect(strstr(r.out, "interrupted after") && strstr(r.out, "nothing written"), "%s", r.out);
    cmd_result after = cmd_run("cksum < %s", model);
    cr_expect_str_eq(after.out, before.out, "model file changed");
    // calibrated beforehand, so the SIGINT below lands in the episodes, not in a calibration
    r = cmd_run(BIN " quantize --model %s --task glyphs --episodes 20 --qat-steps 0", model);
    cr_assert_eq(r.code, 0, "%s", r.out);
    r = cmd_run("timeout --preserve-status -s INT 8 " BIN " variants --model %s --task glyphs --episodes 1000000 --out %s"
            " --figure %s/v", model, out, dir);
    cr_expect_eq(r.code, 130, "%s", r.out);
    cr_expect(strstr(r.out, "interrupted in 5-way 1-shot") != NULL, "%s", r.out);
    char **ids;
    int n;
    cr_assert_eq(h5r_list_runs(out, &ids, &n), 0);
    cr_assert_eq(n, 1, "the partial 5-way 1-shot eval run, no variants run");
    char obj[200], val[16] = "";
    snprintf(obj, sizeof obj, "/runs/%s", ids[0]);
    cr_expect_eq(h5r_read_attr_str(out, obj, "interrupted", val, sizeof val), 0);
    cr_expect_str_eq(val, "yes");
    free(ids[0]);
    free(ids);
}

// QAT runs once by default: a second plain `quantize` leaves the file as it is (byte for byte);
// --qat-steps N asks for more, and the record adds them up; --qat-steps 0 recalibrates.
Test(cli, quantize_fine_tunes_once_unless_asked, .timeout = 240) {
    need_tiny_model();
    char dir[64], model[128];
    tmpdir(dir, sizeof dir);
    snprintf(model, sizeof model, "%s/m.h5", dir);
    cr_assert_eq(cmd_run("cp " TINY " %s", model).code, 0);
    cmd_result r = cmd_run(BIN " quantize --model %s --task glyphs --episodes 20 --qat-steps 2", model);
    cr_assert_eq(r.code, 0, "%s", r.out);
    cmd_result sum1 = cmd_run("cksum < %s", model);
    r = cmd_run(BIN " quantize --model %s --task glyphs --episodes 20", model);
    cr_assert_eq(r.code, 0, "%s", r.out);
    cr_expect(strstr(r.out, "fine-tuned for 2 QAT steps; nothing to do") != NULL, "%s", r.out);
    cmd_result sum2 = cmd_run("cksum < %s", model);
    cr_expect_str_eq(sum1.out, sum2.out, "the model file changed");
    r = cmd_run(BIN " quantize --model %s --task glyphs --episodes 20 --qat-steps 3", model);
    cr_assert_eq(r.code, 0, "%s", r.out);
    cr_expect(strstr(r.out, "already had 2 QAT steps; fine-tuning it further") != NULL, "%s", r.out);
    r = cmd_run(BIN " quantize --model %s --task glyphs --episodes 20 --qat-steps 0", model);
    cr_expect(strstr(r.out, "already had 5 QAT steps; calibrating it again") != NULL, "%s", r.out);
    r = cmd_run(BIN " quantize --model %s --task glyphs --episodes 20 --out /proc/neuroicl/m.h5", model);
    cr_expect_eq(r.code, 1);
    cr_expect_eq(r.lines, 1, "refused before any work: %s", r.out);
}

// The recorded command line can be pasted back into a shell: arguments with spaces or shell
// characters are single-quoted, a quote inside one is written '\'' (worked by hand).
Test(cli, command_line_is_recorded_shell_quoted) {
    char *argv[] = {"eval", "--loihi2-rule", "dw = u0*x1*y2 - 2^-4*u0*w", "--out", "/tmp/r.h5", "it's", ""};
    char buf[256];
    cli_join_args(7, argv, buf, sizeof buf);
    cr_expect_str_eq(buf, "eval --loihi2-rule 'dw = u0*x1*y2 - 2^-4*u0*w' --out /tmp/r.h5 'it'\\''s' ''");
    char small[12];
    cli_join_args(7, argv, small, sizeof small);
    cr_expect_lt(strlen(small), sizeof small);
}

// --loihi2-rule without the emulator row would be silently ignored: it is refused instead.
// --figure naming a directory puts variants.{png,svg,tsv} inside it.
Test(cli, loihi2_rule_needs_the_emulator_row_and_figure_dir_is_a_dir, .timeout = 60) {
    need_tiny_model();
    cmd_result r = cmd_run(BIN " eval --model " TINY " --task glyphs --impl fw-float --loihi2-rule 'dw = u0*x1*y2' --episodes 1");
    cr_expect_eq(r.code, 2, "%s", r.out);
    cr_expect(strstr(r.out, "loihi2-emu") != NULL, "%s", r.out);
    char dir[64], png[128];
    tmpdir(dir, sizeof dir);
    r = cmd_run(BIN " variants --model " TINY " --task glyphs --episodes 1 --out %s/v.h5 --figure %s", dir, dir);
    cr_assert_eq(r.code, 0, "%s", r.out);
    snprintf(png, sizeof png, "%s/variants.png", dir);
    cr_expect_eq(access(png, R_OK), 0, "%s", r.out);
}
