// neuroicl — the command line. The one place where errors are printed: every library call
// returns a code and leaves a one-line message in err_msg(). Exit codes: 0 ok, 1 failure
// (I/O, format, resources), 2 bad command-line input, 130 interrupted (Ctrl-C).
#include "bench/compare.h"
#include "bench/cli.h"
#include "bench/counters.h"
#include "bench/emu_bench.h"
#include "bench/eval.h"
#include "bench/history.h"
#include "bench/results.h"
#include "bench/variants.h"
#include "bench/stream.h"
#include "bench/sweep.h"
#include "datasets/dataset.h"
#include "kernels/decoder.h"
#include "kernels/err.h"
#include "kernels/l2row.h"
#include "kernels/model.h"
#include "kernels/train.h"
#include "reports/report.h"
#include <errno.h>
#include <math.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef NEUROICL_VERSION
#define NEUROICL_VERSION "dev"
#endif

static volatile int g_stop = 0;
static void on_sigint(int sig) {
    (void)sig;
    g_stop = 1;
    signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the program at once
}


static const char *usage_text =
    "usage: neuroicl <command> [options]\n"
    "  train     train the default model (encoder + linear and softmax decoders)\n"
    "            --out FILE (models/default.h5) --task auto|omniglot|glyphs --data DIR\n"
    "            --threads N (2) --seed S (1) --enc-steps N --dec-steps N --dec-lr X --quick\n"
    "            --resume (continue from <out>.ckpt) --init FILE (start from a model's encoder)\n"
    "            --max-classes N (train on the first N classes only)\n"
    "            --heads H (4) --layers L (2): decoder shape\n"
    "  eval      run decoder rows on identical few-shot episodes, append a run to --out\n"
    "            --task auto|omniglot|glyphs --n-way N (5) --k-shot K (1) --queries Q (1)\n"
    "            --episodes E (1000) --impl LIST (all) --seed S (1) --out FILE\n"
    "            (results/neuroicl.h5) --model FILE (models/default.h5) --data DIR\n"
    "            --token-episodes N (10) --events LIST (PAPI events; default set)\n"
    "            --loihi2-rule RULE  loihi2-emu's plastic rule (default \"" L2ROW_RULE "\"); e.g.\n"
    "            forgetting \"dw = u0*x1*y2 - 2^-4*u0*w\" (loihi2-emu then differs from fw-quant)\n"
    "  report    FILE [--run ID] [--out-dir DIR]  figures (PNG+SVG) with gnuplot\n"
    "  info      what this machine can measure (PAPI events and why not, CPU, caches)\n"
    "  stream    bandwidth probe: STREAM copy/scale/add/triad, arrays 4x LLC (--array-mib N --ntimes N --threads N --out FILE)\n"
    "  sweep     per-token ns/bytes/counters vs context t, crossover t*, decode GB/s vs triad\n"
    "            --t-max N (65536) --t LIST --rows LIST --widths LIST --heads LIST --reps N\n"
    "            --model FILE --slow-t-max N (64) --stream-mib N --stream-ntimes N --threads N\n"
    "            --events LIST --seed S --quick --out FILE\n"
    "  quantize  calibrate the fixed-point decoder (fw-quant, loihi2-emu) on background episodes,\n"
    "            then fine-tune decoder_linear through the fixed-point forward (QAT, float loss kept)\n"
    "            --model FILE (models/default.h5) --out FILE (default: the model file, rewritten)\n"
    "            --episodes N (200, calibration)\n"
    "            --qat-steps N (500; 0: calibration only) --qat-fixed-only (drop the float loss)\n"
    "            --qat-recalibrate (calibrate again after) --qat-lr X (3e-4) --qat-batch B (16)\n"
    "            --threads T (2) --task auto|omniglot|glyphs --data DIR. A model already fine-tuned\n"
    "            is left as it is unless --qat-steps or --qat-recalibrate is given; Ctrl-C writes nothing\n"
    "  variants  the variant table (5 rows x 5/20-way 1/5-shot + Lake's 20 runs) and its figure\n"
    "            --model FILE --out FILE --episodes E (200) --figure PATH (reports/figures/variants)\n"
    "            --task auto|omniglot|glyphs --data DIR --seed S (1); also prints the Float->Quant and\n"
    "            Quant->emulator deltas (paired) and the bit-identity check\n"
    "  emu-bench Loihi 2 emulator throughput (--sizes 64,256,1024 --learning on|off --out FILE)\n"
    "  compare   BASELINE.h5 CURRENT.h5  regression check; exit 0 ok, 1 regression, 2 unusable (compare --help)\n"
    "  history   DIR [--out-dir DIR]  trend figures (gnuplot) over results files named by git describe\n"
    "rows: kv-softmax, kv-linear, fw-float, fw-quant, loihi2-emu. Data: --data DIR, else\n"
    "$NEUROICL_DATA, else ../shared/data/omniglot; --task auto falls back to the built-in\n"
    "procedural glyphs (not when --data names a place without Omniglot: that is an error). Exit codes: 0 ok, 1 failure, 2 bad command-line input, 130 interrupted.\n";

// ---------------------------------------------------------------- argument parsing -----

static void utc_now(char *buf, size_t n) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}


// ---------------------------------------------------------------- train ----------------

static int cmd_train(int argc, char **argv) {
    tr_options o;
    tr_default_options(&o);
    const char *task = "auto", *data = NULL;
    o.out = "models/default.h5";
    int rc = 0, quick = 0, max_classes = 0, heads = 0, layers = 0;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--out")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; o.out = v; }
        else if (!strcmp(a, "--max-classes")) rc = cli_parse_int(a, cli_opt_value(argc, argv, &i), 2, 1000000, &max_classes);
        else if (!strcmp(a, "--heads")) rc = cli_parse_int(a, cli_opt_value(argc, argv, &i), 1, 64, &heads);
        else if (!strcmp(a, "--layers")) rc = cli_parse_int(a, cli_opt_value(argc, argv, &i), 1, 16, &layers);
        else if (!strcmp(a, "--task")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; task = v; }
        else if (!strcmp(a, "--data")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; data = v; }
        else if (!strcmp(a, "--threads")) rc = cli_parse_int(a, cli_opt_value(argc, argv, &i), 1, 256, &o.threads);
        else if (!strcmp(a, "--seed")) rc = cli_parse_u64(a, cli_opt_value(argc, argv, &i), &o.seed);
        else if (!strcmp(a, "--enc-steps")) rc = cli_parse_int(a, cli_opt_value(argc, argv, &i), 0, 10000000, &o.enc_steps);
        else if (!strcmp(a, "--dec-steps")) rc = cli_parse_int(a, cli_opt_value(argc, argv, &i), 0, 10000000, &o.dec_steps);
        else if (!strcmp(a, "--resume")) o.resume = 1;
        else if (!strcmp(a, "--init")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; o.init_from = v; }
        else if (!strcmp(a, "--dec-lr")) {
            if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG;
            o.dec_lr = strtof(v, NULL);
            if (!(o.dec_lr > 0 && o.dec_lr < 1)) return err_set(ERR_ARG, "--dec-lr must be in (0, 1) (got '%s')", v);
        }
        else if (!strcmp(a, "--quick")) quick = 1;
        else return err_set(ERR_ARG, "train: unknown option '%s' (see neuroicl --help)", a);
    }
    if (rc) return rc;
    if (quick) { o.enc_steps = 40; o.dec_steps = 40; o.enc_batch = 64; }
    o.log = stderr;
    o.log_tty = isatty(fileno(stderr));
    o.stop = &g_stop;
    if ((rc = cli_mkdir_parent(o.out))) return rc;
    ds_set set = {0};
    if ((rc = ds_load_task(task, data, "background", &set, stderr, NULL, 0))) return rc;
    if (max_classes && max_classes < set.n_classes) {
        // The first classes only: for quick experiments and the test suite's tiny model.
        set.n_classes = max_classes;
        set.n_images = set.class_start[max_classes];
        fprintf(stderr, "train: using the first %d classes (%d images)\n", set.n_classes, set.n_images);
    }
    mdl_model m;
    mdl_default_config(&m);
    for (int k = 0; k < 2; k++) {
        if (heads) m.dec[k].n_heads = heads;
        if (layers) m.dec[k].n_layers = layers;
    }
    if ((rc = mdl_alloc(&m))) { ds_free(&set); return rc; }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = tr_train(&o, &set, &m);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!rc)
        fprintf(stderr, "train: saved %s (hash %s) in %.0f s on %d threads\n", o.out, m.hash,
                (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec), o.threads);
    mdl_free(&m);
    ds_free(&set);
    return rc;
}

// ---------------------------------------------------------------- eval -----------------

static int cmd_eval(int argc, char **argv) {
    ev_options o = {.n_way = 5, .k_shot = 1, .n_query = 1, .episodes = 1000, .seed = 1, .token_episodes = 10};
    const char *task = "auto", *data = NULL, *out = "results/neuroicl.h5", *model = "models/default.h5";
    const char *events = NULL, *emu_rule = NULL;
    char impl_buf[512];
    snprintf(impl_buf, sizeof impl_buf, "%s", dec_row_names());
    int rc = 0;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--task")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; task = v; }
        else if (!strcmp(a, "--data")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; data = v; }
        else if (!strcmp(a, "--out")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; out = v; }
        else if (!strcmp(a, "--model")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; model = v; }
        else if (!strcmp(a, "--events")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; events = v; }
        else if (!strcmp(a, "--impl")) {
            if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG;
            snprintf(impl_buf, sizeof impl_buf, "%s", v);
        }
        else if (!strcmp(a, "--n-way")) rc = cli_parse_int(a, cli_opt_value(argc, argv, &i), 2, 1024, &o.n_way);
        else if (!strcmp(a, "--k-shot")) rc = cli_parse_int(a, cli_opt_value(argc, argv, &i), 1, 1000, &o.k_shot);
        else if (!strcmp(a, "--queries")) rc = cli_parse_int(a, cli_opt_value(argc, argv, &i), 1, 1000, &o.n_query);
        else if (!strcmp(a, "--episodes")) rc = cli_parse_int(a, cli_opt_value(argc, argv, &i), 1, 10000000, &o.episodes);
        else if (!strcmp(a, "--token-episodes")) rc = cli_parse_int(a, cli_opt_value(argc, argv, &i), 0, 10000000, &o.token_episodes);
        else if (!strcmp(a, "--seed")) rc = cli_parse_u64(a, cli_opt_value(argc, argv, &i), &o.seed);
        else if (!strcmp(a, "--loihi2-rule")) {
            if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG;
            l2_rule parsed;
            if (l2_rule_parse(&parsed, v)) {
                char why[256];   // err_set formats into the buffer err_msg points at
                const char *msg = err_msg();
                snprintf(why, sizeof why, "%s", strncmp(msg, "rule: ", 6) ? msg : msg + 6);
                return err_set(ERR_ARG, "--loihi2-rule: %s", why);
            }
            emu_rule = v;
        }
        else return err_set(ERR_ARG, "eval: unknown option '%s' (see neuroicl --help)", a);
    }
    if (rc) return rc;
    char impl_parse[512];
    snprintf(impl_parse, sizeof impl_parse, "%s", impl_buf);
    if ((rc = ev_parse_rows(&o, impl_parse))) return rc;
    if (emu_rule) {
        int has_emu = 0;
        for (int r = 0; r < o.n_rows; r++) has_emu |= !strcmp(o.rows[r], "loihi2-emu");
        if (!has_emu) return err_set(ERR_ARG, "--loihi2-rule applies to the loihi2-emu row, which --impl does not include");
    }
    if (strcmp(task, "auto") && strcmp(task, "omniglot") && strcmp(task, "glyphs"))
        return err_set(ERR_ARG, "unknown --task '%s' (choose auto, omniglot or glyphs)", task);
    // Everything that can be checked cheaply is checked before any work.
    if ((rc = cli_prepare_results(out))) return rc;
    mdl_model m;
    if ((rc = mdl_load(model, &m))) return rc;
    if (o.n_way > m.dec[TF_LINEAR].n_labels) {
        rc = err_set(ERR_ARG, "--n-way %d is more than the %d labels model %s answers (train one with more labels)",
                     o.n_way, m.dec[TF_LINEAR].n_labels, model);
        mdl_free(&m);
        return rc;
    }
    fq_model fq = {0};  // the fixed-point rows' quantized decoder (bench/variants.h)
    ds_set set = {0};
    ctr_set ctr = {0};
    int ctr_opened = 0;
    h5r_run run;
    h5r_run_init(&run);
    if ((rc = ds_load_task(task, data, "evaluation", &set, stderr, NULL, 0))) goto done;
    int qualifying = 0;
    for (int c = 0; c < set.n_classes; c++)
        qualifying += set.class_start[c + 1] - set.class_start[c] >= o.k_shot + o.n_query;
    if (o.n_way > qualifying) {
        rc = err_set(ERR_ARG, "--n-way %d is more than the %d classes of %s with >= %d images (k-shot + queries)",
                     o.n_way, qualifying, set.source, o.k_shot + o.n_query);
        goto done;
    }
    if (var_rows_need_quant(o.rows, o.n_rows) && (rc = var_quant_prepare(model, task, data, &m, &fq, stderr))) goto done;
    fq.emu_rule = emu_rule;
    o.row_aux = &fq;
    if ((rc = ctr_open(&ctr, events))) goto done;
    ctr_opened = 1;
    char buf[4096];
    const char *task_name = strncmp(set.source, "omniglot", 8) ? "glyphs" : "omniglot";
    cli_join_args(argc, argv, buf, sizeof buf);
    ev_describe_run(&run, &o, &set, impl_buf, model, m.hash, buf);
    utc_now(buf, sizeof buf);
    h5r_attr_str(&run, "started_utc", buf);
    ev_row_summary sum[EV_MAX_ROWS];
    o.log = stderr;
    o.stop = &g_stop;
    fprintf(stderr, "eval: %s %d-way %d-shot, %d queries/class, %d episodes, rows %s\n", task_name,
            o.n_way, o.k_shot, o.n_query, o.episodes, impl_buf);
    rc = ev_run(&o, &m, &set, &ctr, &run, sum);
    if (!rc) rc = h5r_commit(out, &run);
    if (!rc) {
        printf("%-12s %9s %17s %12s %12s %14s\n", "row", "accuracy", "95% CI", "ns/token", "(min..max)", "bytes/token");
        for (int r = 0; r < o.n_rows; r++)
            if (isnan(sum[r].bytes_read))
                printf("%-12s %8.2f%% [%6.2f, %6.2f]%% %12.0f %5.0f..%-7.0f %12s\n", sum[r].name,
                       100 * sum[r].accuracy, 100 * sum[r].ci_lo, 100 * sum[r].ci_hi, sum[r].ns_median,
                       sum[r].ns_min, sum[r].ns_max, "not counted");
            else
                printf("%-12s %8.2f%% [%6.2f, %6.2f]%% %12.0f %5.0f..%-7.0f %12.0f\n", sum[r].name,
                       100 * sum[r].accuracy, 100 * sum[r].ci_lo, 100 * sum[r].ci_hi, sum[r].ns_median,
                       sum[r].ns_min, sum[r].ns_max, sum[r].bytes_read + sum[r].bytes_written);
        int64_t mism, cmpd;
        if (!h5r_run_get_i64(&run, "fw_quant_loihi2_emu_logit_mismatches", &mism) &&
            !h5r_run_get_i64(&run, "fw_quant_loihi2_emu_queries_compared", &cmpd))
            printf("fw-quant vs loihi2-emu: logits differ in %lld of %lld queries%s\n", (long long)mism, (long long)cmpd,
                   mism ? "" : " (bit-identical)");
        printf("run %s appended to %s\n", run.run_id, out);
        if (g_stop) {
            // The episodes done are kept (marked interrupted=yes), but the run is not whole.
            int64_t done_eps = 0;
            h5r_run_get_i64(&run, "n_episodes_done", &done_eps);
            rc = err_set(ERR_INTERRUPTED, "interrupted after %lld of %d episodes; the partial run %s was appended "
                         "with interrupted=yes", (long long)done_eps, o.episodes, run.run_id);
        }
    }
done:
    h5r_run_free(&run);
    if (ctr_opened) ctr_close(&ctr);
    ds_free(&set);
    fq_free(&fq);
    mdl_free(&m);
    return rc;
}

// ---------------------------------------------------------------- report, info ---------

static int cmd_report(int argc, char **argv) {
    const char *file = NULL, *run = NULL, *dir = "reports/figures";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--run")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; run = v; }
        else if (!strcmp(a, "--out-dir")) { if (!(v = cli_opt_value(argc, argv, &i))) return ERR_ARG; dir = v; }
        else if (a[0] == '-') return err_set(ERR_ARG, "report: unknown option '%s'", a);
        else if (!file) file = a;
        else return err_set(ERR_ARG, "report: one results file only (got '%s' too)", a);
    }
    if (!file) return err_set(ERR_ARG, "report: which results file? (neuroicl report results/neuroicl.h5)");
    if (access(file, R_OK)) return err_set(ERR_IO, "results file %s: %s (run `neuroicl eval` first)", file, strerror(errno));
    mkdir(dir, 0777);
    int rc = rep_figures(file, run, dir);
    if (!rc) printf("figures written to %s/\n", dir);
    return rc;
}

static void print_file_line(const char *label, const char *path) {
    char buf[256] = "";
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
        fclose(f);
    }
    buf[strcspn(buf, "\n")] = 0;
    printf("%-22s %s\n", label, buf[0] ? buf : "(unknown)");
}

static int cmd_info(int argc, char **argv) {
    (void)argc; (void)argv;
    printf("neuroicl %s (%s)\n", NEUROICL_VERSION,
#ifdef NEUROICL_GIT
           NEUROICL_GIT
#else
           "unknown"
#endif
    );
    char cpu[256] = "(unknown)", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) snprintf(cpu, sizeof cpu, "%s", c + 2);
            cpu[strcspn(cpu, "\n")] = 0;
            break;
        }
    if (f) fclose(f);
    printf("%-22s %s\n", "cpu", cpu);
    printf("%-22s %ld\n", "online cpus", sysconf(_SC_NPROCESSORS_ONLN));
    for (int i = 0; i < 5; i++) {
        char p[256], lvl[64], type[64], size[64];
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        FILE *g = fopen(p, "r");
        if (!g) break;
        if (!fgets(lvl, sizeof lvl, g)) lvl[0] = 0;
        fclose(g);
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        g = fopen(p, "r");
        if (!g || !fgets(type, sizeof type, g)) type[0] = 0;
        if (g) fclose(g);
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        g = fopen(p, "r");
        if (!g || !fgets(size, sizeof size, g)) size[0] = 0;
        if (g) fclose(g);
        lvl[strcspn(lvl, "\n")] = type[strcspn(type, "\n")] = size[strcspn(size, "\n")] = 0;
        printf("cache L%-2s %-12s %s\n", lvl, type, size);
    }
    print_file_line("perf_event_paranoid", "/proc/sys/kernel/perf_event_paranoid");
    ctr_set c;
    int rc = ctr_open(&c, NULL);
    if (rc) return rc;
    char buf[8192];
    ctr_describe(&c, buf, sizeof buf);
    fputs(buf, stdout);
    ctr_close(&c);
    return 0;
}

// ---------------------------------------------------------------- main -----------------

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    signal(SIGINT, on_sigint);
    const char *cmd = argv[1];
    int rc;
    if (!strcmp(cmd, "compare")) {  // own --help; exit 0 no regression, 1 regression, 2 unusable input
        int code = cmp_command(argc - 1, argv + 1);
        if (code == CMP_EXIT_UNUSABLE) fprintf(stderr, "neuroicl: %s\n", err_msg());
        return code;
    }
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(usage_text, stdout); return 0; }
    if (!strcmp(cmd, "train")) rc = cmd_train(argc - 1, argv + 1);
    else if (!strcmp(cmd, "eval")) rc = cmd_eval(argc - 1, argv + 1);
    else if (!strcmp(cmd, "report")) rc = cmd_report(argc - 1, argv + 1);
    else if (!strcmp(cmd, "info")) rc = cmd_info(argc - 1, argv + 1);
    else if (!strcmp(cmd, "stream")) rc = stream_cmd(argc - 1, argv + 1);
    else if (!strcmp(cmd, "sweep")) rc = sweep_cmd(argc - 1, argv + 1);
    else if (!strcmp(cmd, "quantize")) rc = quantize_cmd(argc - 1, argv + 1, &g_stop);
    else if (!strcmp(cmd, "variants")) rc = variants_cmd(argc - 1, argv + 1, &g_stop);
    else if (!strcmp(cmd, "history")) rc = hist_command(argc - 1, argv + 1);
    else if (!strcmp(cmd, "emu-bench")) {
        int code = emu_bench_cmd(argc - 1, argv + 1);
        if (code) fprintf(stderr, "neuroicl: %s\n", err_msg());
        return code;
    }
    else rc = err_set(ERR_ARG, "unknown command '%s' (try neuroicl --help)", cmd);
    if (rc) {
        fprintf(stderr, "neuroicl: %s\n", err_msg());
        return rc == ERR_ARG ? 2 : rc == ERR_INTERRUPTED ? 130 : 1;
    }
    return 0;
}
