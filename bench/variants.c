#include "bench/cli.h"
#include "bench/variants.h"
#include "bench/eval.h"
#include "bench/results.h"
#include "bench/stats.h"
#include "datasets/dataset.h"
#include "kernels/decoder.h"
#include "kernels/err.h"
#include "kernels/h5io.h"
#include "kernels/qat.h"
#include <hdf5.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

// Same data sources and glyph seeds as bench/main.c's eval/train (kept equal on purpose).

int var_rows_need_quant(const char *const *rows, int n_rows) {
    for (int r = 0; r < n_rows; r++)
        if (!strcmp(rows[r], "fw-quant") || !strcmp(rows[r], "loihi2-emu")) return 1;
    return 0;
}

int var_quant_prepare(const char *model_path, const char *task, const char *data, const mdl_model *m,
                      fq_model *q, FILE *log) {
    memset(q, 0, sizeof *q);
    int rc = fq_load(model_path, m, q);
    if (rc == 0 && q->qat_steps == 0 && log)
        fprintf(log, "note: %s's quantized decoder has had no QAT (fw-quant trails fw-float by ~1.5 points at 20-way "
                     "without it; neuroicl quantize --model %s --qat-steps 500 fine-tunes it)\n", model_path, model_path);
    if (rc != ERR_FORMAT) return rc;
    if (log) fprintf(log, "quantize: %s has no /decoder_quant; calibrating now, without QAT (neuroicl quantize fine-tunes and saves it)\n", model_path);
    ds_set bg = {0};
    char dir[PATH_MAX];
    if ((rc = ds_load_task(task, data, "background", &bg, log, dir, sizeof dir))) return rc;
    fq_cal_opts o;
    fq_cal_opts_default(&o);
    memset(q, 0, sizeof *q);
    rc = fq_calibrate(q, m, &bg, &o);
    ds_free(&bg);
    return rc;
}

int quantize_cmd(int argc, char **argv, volatile int *stop) {
    const char *model = "models/default.h5", *out = NULL, *task = "auto", *data = NULL;
    fq_cal_opts o;
    fq_cal_opts_default(&o);
    qat_options qo;
    qat_default_options(&qo);
    qo.log = stderr;
    // Defaults: 500 QAT steps with the float loss kept. Measured on the default model (1000
    // evaluation episodes, fw-float / fw-quant, 20-way 1-shot, 20-way 5-shot, 5-way 1-shot):
    // PTQ only 72.0/70.5, 80.8/79.4, 93.3/93.1; QAT 500 dual 72.5/71.9, 81.4/80.8, 93.5/93.4.
    qo.steps = 500;
    qo.dual = 1;
    qo.stop = stop;
    int rc = 0, keep_scales = 1, steps_given = 0;  // measured better than re-calibrating (/tmp/m4, 500 steps: 20-way 1/5-shot +1.3/+1.1)
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--model")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; model = v; }
        else if (!strcmp(a, "--qat-steps")) { rc = cli_parse_int(a, cli_opt_value(argc, argv, &i), 0, 1000000, &qo.steps); steps_given = 1; }
        else if (!strcmp(a, "--qat-batch")) rc = cli_parse_int(a, cli_opt_value(argc, argv, &i), 1, 4096, &qo.batch);
        else if (!strcmp(a, "--qat-lr")) {
            if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG;
            char *end;
            qo.lr = strtof(v, &end);
            if (*end || !(qo.lr > 0 && qo.lr < 1)) return err_set(ERR_ARG, "--qat-lr needs a learning rate in (0, 1), e.g. 3e-4 (got '%s')", v);
        }
        else if (!strcmp(a, "--qat-keep-scales")) keep_scales = 1;
        else if (!strcmp(a, "--qat-recalibrate")) keep_scales = 0;
        else if (!strcmp(a, "--qat-dual")) qo.dual = 1;
        else if (!strcmp(a, "--qat-fixed-only")) qo.dual = 0;
        else if (!strcmp(a, "--threads")) rc = cli_parse_int(a, cli_opt_value(argc, argv, &i), 1, 256, &qo.threads);
        else if (!strcmp(a, "--out")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; out = v; }
        else if (!strcmp(a, "--task")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; task = v; }
        else if (!strcmp(a, "--data")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; data = v; }
        else if (!strcmp(a, "--episodes")) rc = cli_parse_int(a, cli_opt_value(argc, argv, &i), 1, 1000000, &o.episodes);
        else return err_set(ERR_ARG, "quantize: unknown option '%s' (see neuroicl --help)", a);
    }
    if (rc) return rc;
    if (!out) out = model;
    // The output is checked before a minute of fine-tuning, not after.
    if ((rc = cli_check_file_writable(out, "--out"))) return rc;
    mdl_model m;
    if ((rc = mdl_load(model, &m))) return rc;
    ds_set bg = {0};
    char dir[PATH_MAX];
    fq_model q = {0};
    // A decoder fine-tuned before stays fine-tuned: the steps add up, and saying so avoids a
    // silent second round of QAT on an already fine-tuned model.
    int prior_steps = 0, prior_dual = 0;
    if (fq_load(model, &m, &q) == 0) { prior_steps = q.qat_steps; prior_dual = q.qat_dual; }
    err_clear();
    // A model already fine-tuned is left as it is unless asked (--qat-steps, --qat-recalibrate):
    // running `quantize` twice must not drift the float decoder or the scales QAT tuned it to.
    const int reuse = prior_steps > 0 && !steps_given && keep_scales;
    if (!reuse) { fq_free(&q); memset(&q, 0, sizeof q); }
    if (reuse && !strcmp(out, model)) {
        fprintf(stderr, "quantize: %s already holds a quantized decoder fine-tuned for %d QAT steps; nothing to do "
                        "(--qat-steps N fine-tunes it further, --qat-recalibrate calibrates it again)\n", model, prior_steps);
        fq_free(&q);
        mdl_free(&m);
        return 0;
    }
    if (prior_steps > 0 && !steps_given) qo.steps = 0;
    if (reuse)
        fprintf(stderr, "quantize: %s already had %d QAT steps; copying it with its quantized decoder to %s\n", model,
                prior_steps, out);
    else if (!(rc = ds_load_task(task, data, "background", &bg, stderr, dir, sizeof dir))) {
        if (prior_steps > 0)
            fprintf(stderr, "quantize: %s's decoder_linear already had %d QAT steps; %s\n", model, prior_steps,
                    qo.steps > 0 ? "fine-tuning it further" : "calibrating it again as it is");
        fprintf(stderr, "quantize: calibrating on %d background episodes (5/20-way, 1/5-shot)\n", o.episodes);
        rc = fq_calibrate(&q, &m, &bg, &o);
    }
    if (!rc && qo.steps > 0) {
        // Quantization-aware fine-tuning of decoder_linear through the fixed-point forward,
        // with the scales it was fine-tuned to (--qat-recalibrate: a fresh calibration after).
        fprintf(stderr, "quantize: QAT, %d steps of %d background episodes (lr %g)\n", qo.steps, qo.batch, qo.lr);
        rc = qat_finetune(&m, &q, &bg, &qo);
        if (rc == ERR_INTERRUPTED) {
            char why[128];
            snprintf(why, sizeof why, "%s", err_msg());
            rc = err_set(ERR_INTERRUPTED, "quantize: %s; nothing written (%s is unchanged)", why, out);
        }
        if (!rc) mdl_hash(&m);
        if (!rc && !keep_scales) {
            fprintf(stderr, "quantize: re-calibrating the fine-tuned model\n");
            fq_free(&q);
            memset(&q, 0, sizeof q);
            rc = fq_calibrate(&q, &m, &bg, &o);
        }
    }
    q.qat_steps = prior_steps + qo.steps;
    q.qat_dual = qo.steps > 0 ? qo.dual : prior_dual;
    char note[512] = "";
    if (reuse) {
        // a copy keeps the provenance the source recorded ("training" attribute)
        hid_t hf = H5Fopen(model, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (hf >= 0) {
            if (h5io_read_str(hf, "training", note, sizeof note)) note[0] = 0;
            H5Fclose(hf);
        }
        err_clear();
    }
    if (!note[0])
        snprintf(note, sizeof note, "float model %s, fixed-point decoder calibrated on %d background episodes%s; %d QAT steps in all%s",
                 model, o.episodes,
                 qo.steps > 0 ? (keep_scales ? ", decoder_linear fine-tuned (QAT, scales kept)" : ", decoder_linear fine-tuned (QAT), re-calibrated") : "",
                 q.qat_steps, q.qat_steps > 0 ? (q.qat_dual ? " (fixed-point + float loss)" : " (fixed-point loss only)") : "");
    if (!rc) rc = mdl_save_ex(out, &m, note, fq_save_h5, &q);
    if (!rc) {
        const int ctx[4] = {5, 25, 20, 100};
        printf("quantized: s_x %.4g, s_log %.4g, %d mantissas clipped; replicas R and write gains (cg/256) at ctx 5/25/20/100:",
               q.s_x, q.s_log, q.n_weights_clipped);
        for (int l = 0; l < q.cfg.n_layers; l++) {
            printf(" L%d", l);
            for (int i = 0; i < 4; i++) {
                int R = fq_replicas(ctx[i]);
                printf("%s%dx%d", i ? "/" : " ", R, fq_write_gain(&q, l, fq_repl_ctx(ctx[i], R)));
            }
        }
        printf("\nwritten %s (with /decoder_quant)\n", out);
    }
    fq_free(&q);
    ds_free(&bg);
    mdl_free(&m);
    return rc;
}

// ---------------------------------------------------------------- variant table ---------

#define VAR_ROWS 5
static const char *const var_rows[VAR_ROWS] = {"kv-softmax", "kv-linear", "fw-float", "fw-quant", "loihi2-emu"};
// Float -> Quant -> emulator: the steps whose paired deltas the table reports.
#define VAR_DELTAS 2
static const char *const var_dfrom[VAR_DELTAS] = {"fw-float", "fw-quant"}, *const var_dto[VAR_DELTAS] = {"fw-quant", "loihi2-emu"};
static int var_row_index(const char *name) {
    for (int r = 0; r < VAR_ROWS; r++) if (!strcmp(var_rows[r], name)) return r;
    return -1;
}

// Paired difference of accuracy, row b minus row a, over the episodes of one eval run (both
// rows saw the same episodes): mean of the per-episode differences and the half-width of its
// 95% normal interval. Queries of one episode share its support set, so the episode, not the
// query, is the independent unit.
static int var_paired_delta(const h5r_run *run, const char *a, const char *b, int episodes, double *mean, double *half) {
    const h5r_table *t = NULL;
    for (int i = 0; i < run->n_tables; i++)
        if (!strcmp(run->tables[i]->name, "episodes")) t = run->tables[i];
    int ci = t ? h5r_col_index(t, "impl") : -1, ce = t ? h5r_col_index(t, "episode") : -1,
        cc = t ? h5r_col_index(t, "correct") : -1;
    if (ci < 0 || ce < 0 || cc < 0) return err_set(ERR_FORMAT, "variants: the eval run has no episodes table");
    double *d = calloc((size_t)episodes, sizeof(double));   // (episodes) per-episode b - a, in correct answers
    double *nq = calloc((size_t)episodes, sizeof(double));  // (episodes) queries per episode of row a
    if (!d || !nq) { free(d); free(nq); return err_set(ERR_NOMEM, "out of memory for the paired deltas"); }
    const h5r_column *im = &t->cols[ci];
    for (size_t r = 0; r < t->n_rows; r++) {
        const char *name = im->str + r * (size_t)im->str_len;
        int64_t e = t->cols[ce].i64[r];
        if (e < 0 || e >= episodes) continue;
        if (!strcmp(name, a)) { d[e] -= (double)t->cols[cc].i64[r]; nq[e] += 1; }
        else if (!strcmp(name, b)) d[e] += (double)t->cols[cc].i64[r];
    }
    size_t n = 0;   // episodes of row a, compacted in place: per-episode difference in accuracy
    for (int e = 0; e < episodes; e++)
        if (nq[e] > 0) d[n++] = d[e] / nq[e];
    free(nq);
    if (n == 0) { free(d); return err_set(ERR_FORMAT, "variants: no episodes of %s in the eval run", a); }
    st_mean_ci95(d, n, mean, half);
    free(d);
    return 0;
}

// Lake et al. 2015 within-alphabet 20-way one-shot: every row on the 20 runs; per-run error.
// Also the paired accuracy deltas of the VAR_DELTAS steps (to − from), over the runs.
static int lake_eval(const mdl_model *m, const fq_model *q, const ds_lake_run *runs, int n_runs,
                     double *err_mean, double *err_ci, double *dmean, double *dhalf) {
    const int W = DS_LAKE_WAY, D = enc_d_out(&m->enc), nl = m->dec[TF_LINEAR].n_labels;
    if (nl < W) return err_set(ERR_ARG, "Lake's runs are 20-way; the model answers up to %d labels", nl);
    float *img = malloc((size_t)2 * W * DS_PIX * sizeof(float));  // (2W, DS_PIX) supports then tests
    float *emb = malloc((size_t)2 * W * D * sizeof(float));       // (2W, D)
    float *lg = malloc((size_t)nl * sizeof(float));
    double *err = calloc((size_t)VAR_ROWS * n_runs, sizeof(double));  // (rows, runs)
    double *diff = malloc((size_t)n_runs * sizeof(double));              // (runs) one paired delta
    dec_row rows[VAR_ROWS];
    memset(rows, 0, sizeof rows);
    int rc = 0;
    if (!img || !emb || !lg || !err || !diff) { rc = err_set(ERR_NOMEM, "out of memory for Lake's runs"); goto done; }
    for (int r = 0; r < VAR_ROWS && !rc; r++) {
        const dec_ops *ops = dec_find(var_rows[r]);
        rc = dec_open_aux(&rows[r], ops, &m->dec[ops->attn], m->dec_params[ops->attn], W, q);
    }
    for (int k = 0; k < n_runs && !rc; k++) {
        memcpy(img, runs[k].train, (size_t)W * DS_PIX * sizeof(float));
        memcpy(img + (size_t)W * DS_PIX, runs[k].test, (size_t)W * DS_PIX * sizeof(float));
        mdl_embed(m, 2 * W, img, emb);
        for (int r = 0; r < VAR_ROWS && !rc; r++) {
            dec_row *row = &rows[r];
            dec_traffic tr = {0};
            row->ops->reset(row);
            int wrong = 0;
            // Supports in class order (label = class), then each test drawing as a query.
            for (int t = 0; t < W && !rc; t++) rc = row->ops->step(row, emb + (size_t)t * D, t, lg, &tr);
            for (int t = 0; t < W && !rc; t++) {
                rc = row->ops->step(row, emb + (size_t)(W + t) * D, -1, lg, &tr);
                int pred = 0;
                for (int i = 1; i < W; i++) if (lg[i] > lg[pred]) pred = i;
                wrong += pred != runs[k].test_label[t];
            }
            err[(size_t)r * n_runs + k] = (double)wrong / W;
        }
    }
    for (int r = 0; r < VAR_ROWS && !rc; r++)
        st_mean_ci95(err + (size_t)r * n_runs, (size_t)n_runs, &err_mean[r], &err_ci[r]);
    for (int k = 0; k < VAR_DELTAS && !rc; k++) {
        int a = var_row_index(var_dfrom[k]), b = var_row_index(var_dto[k]);
        for (int j = 0; j < n_runs; j++)   // accuracy(b) - accuracy(a), paired by run
            diff[j] = err[(size_t)a * n_runs + j] - err[(size_t)b * n_runs + j];
        st_mean_ci95(diff, (size_t)n_runs, &dmean[k], &dhalf[k]);
    }
done:
    for (int r = 0; r < VAR_ROWS; r++) dec_close(&rows[r]);
    free(img); free(emb); free(lg); free(err); free(diff);
    return rc;
}

int variants_cmd(int argc, char **argv, volatile int *stop) {
    const char *model = "models/default.h5", *out = "results/neuroicl.h5", *task = "auto", *data = NULL;
    const char *fig = "reports/figures/variants";
    int episodes = 200, rc = 0;
    uint64_t seed = 1;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--model")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; model = v; }
        else if (!strcmp(a, "--out")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; out = v; }
        else if (!strcmp(a, "--task")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; task = v; }
        else if (!strcmp(a, "--data")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; data = v; }
        else if (!strcmp(a, "--figure")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; fig = v; }
        else if (!strcmp(a, "--episodes")) rc = cli_parse_int(a, cli_opt_value(argc, argv, &i), 1, 1000000, &episodes);
        else if (!strcmp(a, "--seed")) { int s = 0; rc = cli_parse_int(a, cli_opt_value(argc, argv, &i), 0, INT_MAX, &s); seed = (uint64_t)s; }
        else return err_set(ERR_ARG, "variants: unknown option '%s' (see neuroicl --help)", a);
    }
    if (rc) return rc;
    // --figure is a path prefix (PATH.png, .svg, .tsv); an existing directory means DIR/variants.
    char figbuf[PATH_MAX];
    struct stat fst;
    if (stat(fig, &fst) == 0 && S_ISDIR(fst.st_mode)) {
        snprintf(figbuf, sizeof figbuf, "%s/variants", fig);
        fig = figbuf;
    }
    // Both outputs are checked before minutes of work, not after.
    char tsv_probe[PATH_MAX + 8];
    snprintf(tsv_probe, sizeof tsv_probe, "%s.tsv", fig);
    if ((rc = cli_prepare_results(out)) || (rc = cli_check_file_writable(tsv_probe, "--figure"))) return rc;
    mdl_model m;
    if ((rc = mdl_load(model, &m))) return rc;
    fq_model q = {0};
    ds_set set = {0};
    ds_lake_run *runs = NULL;
    int n_runs = 0;
    char dir[PATH_MAX];
    h5r_run vr;
    h5r_run_init(&vr);
    if ((rc = var_quant_prepare(model, task, data, &m, &q, stderr))) goto done;
    if ((rc = ds_load_task(task, data, "evaluation", &set, stderr, dir, sizeof dir))) goto done;
    h5r_table *tv = h5r_run_table(&vr, "variants");
    int c_impl = h5r_table_col(tv, "impl", H5R_STR, 32), c_task = h5r_table_col(tv, "task", H5R_STR, 48),
        c_way = h5r_table_col(tv, "n_way", H5R_I64, 0), c_shot = h5r_table_col(tv, "k_shot", H5R_I64, 0),
        c_acc = h5r_table_col(tv, "accuracy", H5R_F64, 0), c_lo = h5r_table_col(tv, "ci_lo", H5R_F64, 0),
        c_hi = h5r_table_col(tv, "ci_hi", H5R_F64, 0), c_err = h5r_table_col(tv, "error_rate", H5R_F64, 0),
        c_n = h5r_table_col(tv, "n_episodes", H5R_I64, 0), c_run = h5r_table_col(tv, "eval_run", H5R_STR, 64);
    if (!tv || c_run < 0) { rc = err_set(ERR_NOMEM, "out of memory for the variants table"); goto done; }
    const int ways[4] = {5, 5, 20, 20}, shots[4] = {1, 5, 1, 5};
    double acc[4][VAR_ROWS], lo[4][VAR_ROWS], hi[4][VAR_ROWS];
    // Float -> Quant -> emulator, paired over episodes: (4 shapes + Lake, steps) mean and 95% half-width.
    double dmean[5][VAR_DELTAS], dhalf[5][VAR_DELTAS];
    int64_t mism_total = 0, cmp_total = 0;   // fw-quant vs loihi2-emu logits over the four shapes
    h5r_table *td = h5r_run_table(&vr, "variant_deltas");
    int d_from = h5r_table_col(td, "from", H5R_STR, 32), d_to = h5r_table_col(td, "to", H5R_STR, 32),
        d_task = h5r_table_col(td, "task", H5R_STR, 48),
        d_way = h5r_table_col(td, "n_way", H5R_I64, 0), d_shot = h5r_table_col(td, "k_shot", H5R_I64, 0),
        d_mean = h5r_table_col(td, "delta_accuracy", H5R_F64, 0), d_lo = h5r_table_col(td, "ci_lo", H5R_F64, 0),
        d_hi = h5r_table_col(td, "ci_hi", H5R_F64, 0), d_n = h5r_table_col(td, "n_episodes", H5R_I64, 0);
    if (!td || d_n < 0) { rc = err_set(ERR_NOMEM, "out of memory for the variants table"); goto done; }
    for (int s = 0; s < 4; s++) {
        ev_options o = {.n_way = ways[s], .k_shot = shots[s], .n_query = 1, .episodes = episodes, .seed = seed,
                        .token_episodes = 0, .log = stderr, .row_aux = &q, .stop = stop};
        o.n_rows = VAR_ROWS;
        for (int r = 0; r < VAR_ROWS; r++) o.rows[r] = var_rows[r];
        h5r_run run;
        h5r_run_init(&run);
        char cl[4096];
        cli_join_args(argc, argv, cl, sizeof cl);
        ev_describe_run(&run, &o, &set, "kv-softmax,kv-linear,fw-float,fw-quant,loihi2-emu", model, m.hash, cl);
        h5r_attr_str(&run, "part_of", "variants");
        fprintf(stderr, "variants: %d-way %d-shot, %d episodes\n", o.n_way, o.k_shot, episodes);
        ev_row_summary sum[EV_MAX_ROWS];
        rc = ev_run(&o, &m, &set, NULL, &run, sum);
        if (!rc) rc = h5r_commit(out, &run);
        if (!rc && stop && *stop) {
            h5r_run_free(&run);
            rc = err_set(ERR_INTERRUPTED, "variants: interrupted in %d-way %d-shot; the eval runs done so far (this one "
                         "marked interrupted=yes) are in %s, the variant table was not written", ways[s], shots[s], out);
            goto done;
        }
        for (int k = 0; k < VAR_DELTAS && !rc; k++) {
            if ((rc = var_paired_delta(&run, var_dfrom[k], var_dto[k], episodes, &dmean[s][k], &dhalf[s][k]))) break;
            long row = h5r_table_row(td);
            if (row < 0) { rc = err_set(ERR_NOMEM, "out of memory for the variants table"); break; }
            char tn[48];
            snprintf(tn, sizeof tn, "%d-way %d-shot", ways[s], shots[s]);
            h5r_set_str(td, d_from, row, var_dfrom[k]);
            h5r_set_str(td, d_to, row, var_dto[k]);
            h5r_set_str(td, d_task, row, tn);
            h5r_set_i64(td, d_way, row, ways[s]);
            h5r_set_i64(td, d_shot, row, shots[s]);
            h5r_set_f64(td, d_mean, row, dmean[s][k]);
            h5r_set_f64(td, d_lo, row, dmean[s][k] - dhalf[s][k]);
            h5r_set_f64(td, d_hi, row, dmean[s][k] + dhalf[s][k]);
            h5r_set_i64(td, d_n, row, episodes);
        }
        for (int r = 0; !rc && r < VAR_ROWS; r++) {
            acc[s][r] = sum[r].accuracy; lo[s][r] = sum[r].ci_lo; hi[s][r] = sum[r].ci_hi;
            long k = h5r_table_row(tv);
            if (k < 0) { rc = err_set(ERR_NOMEM, "out of memory for the variants table"); break; }
            char tn[48];
            snprintf(tn, sizeof tn, "%d-way %d-shot", ways[s], shots[s]);
            h5r_set_str(tv, c_impl, k, var_rows[r]);
            h5r_set_str(tv, c_task, k, tn);
            h5r_set_i64(tv, c_way, k, ways[s]);
            h5r_set_i64(tv, c_shot, k, shots[s]);
            h5r_set_f64(tv, c_acc, k, sum[r].accuracy);
            h5r_set_f64(tv, c_lo, k, sum[r].ci_lo);
            h5r_set_f64(tv, c_hi, k, sum[r].ci_hi);
            h5r_set_f64(tv, c_err, k, 1 - sum[r].accuracy);
            h5r_set_i64(tv, c_n, k, (int64_t)(sum[r].n_queries / (ways[s])));
            h5r_set_str(tv, c_run, k, run.run_id);
        }
        int64_t mm = 0, cq = 0;
        if (!rc && !h5r_run_get_i64(&run, "fw_quant_loihi2_emu_logit_mismatches", &mm) &&
            !h5r_run_get_i64(&run, "fw_quant_loihi2_emu_queries_compared", &cq)) {
            mism_total += mm;
            cmp_total += cq;
        }
        h5r_run_free(&run);
        if (rc) goto done;
    }
    // Lake's benchmark, when the runs are there (all_runs.zip beside the Omniglot zips).
    double le[VAR_ROWS] = {0}, lci[VAR_ROWS] = {0};
    int have_lake = 0;
    if (dir[0]) {
        char lp[PATH_MAX + 16];
        snprintf(lp, sizeof lp, "%s", dir);
        if (ds_lake_runs_load(lp, &runs, &n_runs) == 0 && n_runs > 0) {
            if ((rc = lake_eval(&m, &q, runs, n_runs, le, lci, dmean[4], dhalf[4]))) goto done;
            have_lake = 1;
            for (int k = 0; k < VAR_DELTAS; k++) {
                long row = h5r_table_row(td);
                if (row < 0) { rc = err_set(ERR_NOMEM, "out of memory for the variants table"); goto done; }
                h5r_set_str(td, d_from, row, var_dfrom[k]);
                h5r_set_str(td, d_to, row, var_dto[k]);
                h5r_set_str(td, d_task, row, "Lake 20-way within-alphabet 1-shot");
                h5r_set_i64(td, d_way, row, 20);
                h5r_set_i64(td, d_shot, row, 1);
                h5r_set_f64(td, d_mean, row, dmean[4][k]);
                h5r_set_f64(td, d_lo, row, dmean[4][k] - dhalf[4][k]);
                h5r_set_f64(td, d_hi, row, dmean[4][k] + dhalf[4][k]);
                h5r_set_i64(td, d_n, row, n_runs);
            }
            for (int r = 0; r < VAR_ROWS + 2; r++) {
                long k = h5r_table_row(tv);
                if (k < 0) { rc = err_set(ERR_NOMEM, "out of memory for the variants table"); goto done; }
                // People and BPL: published error rates (Lake, Salakhutdinov & Tenenbaum 2015).
                const char *nm = r < VAR_ROWS ? var_rows[r] : r == VAR_ROWS ? "people (published)" : "BPL (published)";
                double e = r < VAR_ROWS ? le[r] : r == VAR_ROWS ? 0.045 : 0.033, ci = r < VAR_ROWS ? lci[r] : 0;
                h5r_set_str(tv, c_impl, k, nm);
                h5r_set_str(tv, c_task, k, "Lake 20-way within-alphabet 1-shot");
                h5r_set_i64(tv, c_way, k, 20);
                h5r_set_i64(tv, c_shot, k, 1);
                h5r_set_f64(tv, c_acc, k, 1 - e);
                h5r_set_f64(tv, c_lo, k, 1 - e - ci);
                h5r_set_f64(tv, c_hi, k, 1 - e + ci);
                h5r_set_f64(tv, c_err, k, e);
                h5r_set_i64(tv, c_n, k, r < VAR_ROWS ? n_runs : 0);
                h5r_set_str(tv, c_run, k, "");
            }
        } else
            fprintf(stderr, "variants: Lake's all_runs.zip not found in %s (%s); column skipped\n", dir, err_msg());
    }
    h5r_attr_str(&vr, "kind", "variants");
    h5r_attr_str(&vr, "model_file", model);
    h5r_attr_str(&vr, "model_hash", m.hash);
    h5r_attr_i64(&vr, "n_episodes", episodes);
    h5r_attr_i64(&vr, "seed", (int64_t)seed);
    h5r_attr_str(&vr, "ci", "95% normal interval over episodes (Lake: over the 20 runs)");
    if ((rc = h5r_commit(out, &vr))) goto done;
    // Table on stdout and a data file for the figure.
    char tsv[PATH_MAX + 8];
    snprintf(tsv, sizeof tsv, "%s.tsv", fig);
    FILE *f = fopen(tsv, "w");
    if (!f) fprintf(stderr, "variants: cannot write %s (%s); no figure\n", tsv, strerror(errno));
    printf("%-12s %16s %16s %16s %16s %18s\n", "row", "5-way 1-shot", "5-way 5-shot", "20-way 1-shot", "20-way 5-shot", "Lake 20w err");
    if (f) fprintf(f, "# row\tacc_5w1s\tlo\thi\tacc_5w5s\tlo\thi\tacc_20w1s\tlo\thi\tacc_20w5s\tlo\thi\tlake_err\tlake_ci\n");
    for (int r = 0; r < VAR_ROWS; r++) {
        printf("%-12s", var_rows[r]);
        if (f) fprintf(f, "%s", var_rows[r]);
        for (int s = 0; s < 4; s++) {
            printf("   %5.1f%% ±%4.1f", 100 * acc[s][r], 50 * (hi[s][r] - lo[s][r]));
            if (f) fprintf(f, "\t%.5f\t%.5f\t%.5f", acc[s][r], lo[s][r], hi[s][r]);
        }
        if (have_lake) printf("     %5.1f%% ±%4.1f", 100 * le[r], 100 * lci[r]);
        if (f) fprintf(f, "\t%.5f\t%.5f\n", have_lake ? le[r] : NAN, have_lake ? lci[r] : NAN);
        printf("\n");
    }
    if (have_lake) printf("Lake 20-way within-alphabet one-shot error: people 4.5%%, BPL 3.3%% (published)\n");
    for (int k = 0; k < VAR_DELTAS; k++) {
        printf("%-12s", k ? "Quant->emu" : "Float->Quant");
        // + 0.0 turns a -0.0 into 0.0, so no "-0.00" is printed
        for (int s = 0; s < 4; s++) printf("   %+5.2f ±%4.2f ", 100 * dmean[s][k] + 0.0, 100 * dhalf[s][k]);
        if (have_lake) printf("   %+5.2f ±%4.2f", 100 * dmean[4][k] + 0.0, 100 * dhalf[4][k]);
        printf("  (accuracy points, paired, 95%%)\n");
    }
    printf("fw-quant vs loihi2-emu: logits differ in %lld of %lld queries of the four shapes%s\n", (long long)mism_total,
           (long long)cmp_total, mism_total ? "" : " (bit-identical)");
    if (f) {
        fclose(f);
        char cmd[3 * PATH_MAX];
        snprintf(cmd, sizeof cmd, "gnuplot -e \"rowsgp='reports/rows.gp'; in='%s'; out='%s'; title_text='variants run %s: "
                 "%d episodes per shape, model %s'\" reports/variants.gp", tsv, fig, vr.run_id, episodes, m.hash);
        if (system(cmd) == 0) printf("figure %s.png / .svg\n", fig);
        else fprintf(stderr, "variants: gnuplot failed; the data is in %s\n", tsv);
    }
    printf("runs appended to %s (variants run %s)\n", out, vr.run_id);
done:
    h5r_run_free(&vr);
    free(runs);
    ds_free(&set);
    fq_free(&q);
    mdl_free(&m);
    return rc;
}
