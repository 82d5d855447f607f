// emu-bench: for each size n and learning on/off, an input port of n graded neurons drives a
// dense n -> n connection (8-bit mixed weights, 8-bit graded messages) into n graded ReLU
// units; with learning the connection is learning-dense with the outer-product rule
//   dw = 2^-4*u0*x1*y2 - 2^-7*u0*w   (x1 from the graded keys, y2 written by the post neuron)
// evaluated every step (t_epoch = 1). Timed over --steps steps after a warm-up, --repeats times
// (median, min, max kept). One CPU thread: the emulator's step loop is single-threaded.
#include "bench/cli.h"
#include "bench/emu_bench.h"
#include "bench/results.h"
#include "kernels/err.h"
#include "kernels/loihi2/loihi2.h"
#include "kernels/rng.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_SIZES 16
#define N_PATTERNS 8   // pre-generated input vectors cycled through (no allocation per step)
#define BENCH_RULE "dw = 2^-4*u0*x1*y2 - 2^-7*u0*w"

typedef struct {
    int sizes[MAX_SIZES];
    int n_sizes;
    int steps, repeats, msg_bits;
    int learn_off, learn_on;
    double density;
    uint64_t seed;
    const char *out;
} bench_opts;

static const char *usage =
    "usage: neuroicl emu-bench [--sizes 64,256,1024] [--steps 200] [--repeats 3]\n"
    "       [--learning on|off|both] [--density 1.0] [--msg-bits 8] [--seed 1] [--out results/neuroicl.h5]";

static int parse_args(int argc, char **argv, bench_opts *o) {
    int def[3] = {64, 256, 1024};
    memcpy(o->sizes, def, sizeof def);
    o->n_sizes = 3;
    o->steps = 200;
    o->repeats = 3;
    o->msg_bits = 8;
    o->learn_off = o->learn_on = 1;
    o->density = 1.0;
    o->seed = 1;
    o->out = "results/neuroicl.h5";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return err_set(ERR_ARG, "%s", usage);
        if (i + 1 >= argc) return err_set(ERR_ARG, "emu-bench: %s needs a value (%s)", a, usage);
        const char *v = argv[++i];
        char *end;
        errno = 0;
        if (!strcmp(a, "--sizes")) {
            o->n_sizes = 0;
            const char *p = v;
            while (*p) {
                long n = strtol(p, &end, 10);   // n^2 synapses: 8192 keeps the weights < 0.5 GB
                if (end == p || n < 1 || n > 8192 || errno || (*end && *end != ','))
                    return err_set(ERR_ARG, "emu-bench: --sizes wants a comma list of 1..8192 (got '%s')", v);
                if (o->n_sizes == MAX_SIZES) return err_set(ERR_ARG, "emu-bench: at most %d sizes", MAX_SIZES);
                o->sizes[o->n_sizes++] = (int)n;
                p = *end ? end + 1 : end;
            }
            if (!o->n_sizes) return err_set(ERR_ARG, "emu-bench: --sizes is empty");
        } else if (!strcmp(a, "--steps") || !strcmp(a, "--repeats") || !strcmp(a, "--msg-bits")) {
            long n = strtol(v, &end, 10);
            int hi = !strcmp(a, "--msg-bits") ? 24 : 10000000;
            if (*end || end == v || errno || n < 1 || n > hi)
                return err_set(ERR_ARG, "emu-bench: %s wants an integer in 1..%d (got '%s')", a, hi, v);
            if (!strcmp(a, "--steps")) o->steps = (int)n;
            else if (!strcmp(a, "--repeats")) o->repeats = (int)n;
            else o->msg_bits = (int)n;
        } else if (!strcmp(a, "--learning")) {
            if (!strcmp(v, "on")) { o->learn_on = 1; o->learn_off = 0; }
            else if (!strcmp(v, "off")) { o->learn_on = 0; o->learn_off = 1; }
            else if (!strcmp(v, "both")) { o->learn_on = o->learn_off = 1; }
            else return err_set(ERR_ARG, "emu-bench: --learning wants on, off or both (got '%s')", v);
        } else if (!strcmp(a, "--density")) {
            double d = strtod(v, &end);
            if (*end || end == v || !(d > 0 && d <= 1))
                return err_set(ERR_ARG, "emu-bench: --density wants a fraction in (0, 1] (got '%s')", v);
            o->density = d;
        } else if (!strcmp(a, "--seed")) {
            if (*v == '-') return err_set(ERR_ARG, "emu-bench: --seed wants a non-negative integer (got '%s')", v);
            unsigned long long s = strtoull(v, &end, 10);
            if (*end || end == v || errno) return err_set(ERR_ARG, "emu-bench: --seed wants a non-negative integer (got '%s')", v);
            o->seed = s;
        } else if (!strcmp(a, "--out")) {
            o->out = v;
        } else {
            return err_set(ERR_ARG, "emu-bench: unknown option '%s' (%s)", a, usage);
        }
    }
    return 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    double wall_med, wall_min, wall_max;
    l2_counters cnt;           // over one timed repeat
    int n_cores, n_chips, lowered;
    l2_cost_estimate cost;     // over one timed repeat
} bench_result;

static int run_one(const bench_opts *o, int n, int learning, const l2_cost_params *cp, bench_result *res) {
    int rc = 0;
    l2_net *net = l2_net_new();
    l2_sim *sim = NULL;
    int32_t *w = malloc((size_t)n * n * sizeof *w);            // (n_post, n_pre)
    int32_t *pat = malloc((size_t)N_PATTERNS * n * sizeof *pat); // (N_PATTERNS, n)
    double *walls = malloc((size_t)o->repeats * sizeof *walls);  // (repeats)
    if (!net || !w || !pat || !walls) {
        rc = err_set(ERR_NOMEM, "emu-bench: out of memory for size %d", n);
        goto done;
    }
    rng_t g;
    rng_seed2(&g, o->seed, (uint64_t)n * 2 + (uint64_t)learning);
    for (size_t k = 0; k < (size_t)n * n; k++) w[k] = (int32_t)rng_below(&g, 511) - 256;
    int32_t pmax = o->msg_bits >= 8 ? 127 : (1 << (o->msg_bits - 1)) - 1;
    for (size_t k = 0; k < (size_t)N_PATTERNS * n; k++)
        pat[k] = rng_uniform(&g) < o->density ? 1 + (int32_t)rng_below(&g, (uint32_t)(pmax > 1 ? pmax : 1)) : 0;

    l2_pop_desc pin, pout;
    l2_pop_desc_init(&pin, L2_INPUT, n);
    snprintf(pin.name, sizeof pin.name, "in%d", n);
    l2_pop_desc_init(&pout, L2_GRADED, n);
    pout.relu = 1;
    snprintf(pout.name, sizeof pout.name, "out%d", n);
    int ia, ib, ic;
    if ((rc = l2_net_add_pop(net, &pin, &ia)) || (rc = l2_net_add_pop(net, &pout, &ib))) goto done;
    l2_conn_desc cd;
    l2_conn_desc_init(&cd, ia, ib, w);
    cd.msg_bits = o->msg_bits;
    cd.weight_exp = -6;   // keep the ReLU outputs (the y2 values) in a useful range
    if (learning) {
        cd.rule = BENCH_RULE;
        cd.t_epoch = 1;
        cd.graded_mode = L2_GT_OVERWRITE;
        cd.three_factor = 1;
        cd.y_from_post = 2;
    }
    if ((rc = l2_net_add_conn(net, &cd, &ic))) goto done;
    l2_sim_opts so;
    l2_sim_opts_default(&so);
    so.seed = o->seed;
    // Default per-core limits, but as many chips as a large size needs (up to 64).
    l2_core_limits lim;
    l2_core_limits_default(&lim);
    lim.max_chips = 64;
    l2_mapping map;
    if ((rc = l2_map(net, &lim, &map))) goto done;
    rc = l2_sim_new(net, &map, &so, &sim);
    l2_mapping_free(&map);
    if (rc) goto done;
    res->n_cores = l2_sim_mapping(sim)->n_cores;
    res->n_chips = l2_sim_mapping(sim)->n_chips;
    res->lowered = learning ? l2_sim_conn_lowered(sim, ic) : 0;
    long t = 0;
    for (int k = 0; k < 5; k++, t++) {   // warm-up: caches, pipeline filled
        l2_sim_set_input(sim, ia, pat + (size_t)(t % N_PATTERNS) * n);
        l2_sim_step(sim);
    }
    for (int r = 0; r < o->repeats; r++) {
        l2_counters c0, c1;
        l2_sim_total_counters(sim, &c0, 0);
        l2_cost_estimate ce;
        memset(&ce, 0, sizeof ce);
        double t0 = now_s();
        for (int k = 0; k < o->steps; k++, t++) {
            l2_sim_set_input(sim, ia, pat + (size_t)(t % N_PATTERNS) * n);
            l2_sim_step(sim);
            if (r == 0) l2_cost_add_step(cp, sim, &ce);
        }
        walls[r] = now_s() - t0;
        if (r == 0) {
            l2_sim_total_counters(sim, &c1, 0);
            res->cnt.syn_ops = c1.syn_ops - c0.syn_ops;
            res->cnt.neuron_updates = c1.neuron_updates - c0.neuron_updates;
            res->cnt.spikes = c1.spikes - c0.spikes;
            res->cnt.messages = c1.messages - c0.messages;
            res->cnt.mesh_hops = c1.mesh_hops - c0.mesh_hops;
            res->cnt.learn_evals = c1.learn_evals - c0.learn_evals;
            res->cnt.weight_updates = c1.weight_updates - c0.weight_updates;
            res->cnt.timesteps = o->steps;
            res->cost = ce;
        }
    }
    // The first repeat also accumulates the cost estimate: time the others where there are any.
    if (o->repeats > 1) {
        qsort(walls + 1, (size_t)o->repeats - 1, sizeof *walls, cmp_double);
        res->wall_med = walls[1 + (o->repeats - 1) / 2];
        res->wall_min = walls[1];
        res->wall_max = walls[o->repeats - 1];
    } else {
        res->wall_med = res->wall_min = res->wall_max = walls[0];
    }
done:
    l2_sim_free(sim);
    l2_net_free(net);
    free(w);
    free(pat);
    free(walls);
    return rc;
}

int emu_bench_cmd(int argc, char **argv) {
    bench_opts o;
    if (parse_args(argc, argv, &o)) return 2;
    l2_cost_params cp;
    l2_cost_default(&cp);
    h5r_run run;
    h5r_run_init(&run);
    h5r_attr_str(&run, "kind", "emu-bench");
    h5r_attr_i64(&run, "seed", (int64_t)o.seed);
    h5r_attr_i64(&run, "steps", o.steps);
    h5r_attr_i64(&run, "repeats", o.repeats);
    h5r_attr_i64(&run, "msg_bits", o.msg_bits);
    h5r_attr_f64(&run, "density", o.density);
    h5r_attr_i64(&run, "cpu_threads", 1);
    h5r_attr_str(&run, "rule", BENCH_RULE);
    l2_sim_opts so;
    l2_sim_opts_default(&so);
    h5r_attr_i64(&run, "switch_exp_per_synapse", so.exp_per_synapse);
    h5r_attr_i64(&run, "switch_product_shift", so.product_shift);
    h5r_attr_i64(&run, "switch_sr_per_synapse", so.sr_per_synapse);
    l2_core_limits lim;
    l2_core_limits_default(&lim);
    h5r_attr_i64(&run, "core_max_neurons", lim.max_neurons_per_core);
    h5r_attr_i64(&run, "core_synapse_mem_bytes", lim.synapse_mem_bytes);
    h5r_attr_i64(&run, "cores_per_chip", lim.cores_per_chip);
    h5r_attr_i64(&run, "max_chips", 64);
    for (int k = 0; k < L2_N_COST; k++) {
        char key[64];
        h5r_attr_f64(&run, cp.c[k].name, cp.c[k].value);
        snprintf(key, sizeof key, "%s_source", cp.c[k].name);
        h5r_attr_str(&run, key, cp.c[k].source);
    }
    char cl[1024] = "";
    for (int i = 0; i < argc; i++) {
        strncat(cl, argv[i], sizeof cl - strlen(cl) - 2);
        strncat(cl, " ", sizeof cl - strlen(cl) - 1);
    }
    h5r_attr_str(&run, "command_line", cl);

    h5r_table *tb = h5r_run_table(&run, "emu_bench");
    if (!tb) {
        h5r_run_free(&run);
        return 1;
    }
    static const struct { const char *name; h5r_type type; } cols[] = {
        {"n_pre", H5R_I64}, {"n_post", H5R_I64}, {"learning", H5R_I64}, {"lowered_kernel", H5R_I64},
        {"steps", H5R_I64}, {"wall_s_median", H5R_F64}, {"wall_s_min", H5R_F64}, {"wall_s_max", H5R_F64},
        {"timesteps_per_s", H5R_F64}, {"syn_ops", H5R_I64}, {"syn_ops_per_s", H5R_F64},
        {"syn_ops_per_s_per_cpu_core", H5R_F64}, {"learn_evals", H5R_I64}, {"learn_updates_per_s", H5R_F64},
        {"weight_updates", H5R_I64}, {"spikes", H5R_I64}, {"messages", H5R_I64}, {"mesh_hops", H5R_I64},
        {"loihi_cores", H5R_I64}, {"loihi_chips", H5R_I64}, {"syn_ops_per_s_per_loihi_core", H5R_F64},
        {"weight_bytes_per_s", H5R_F64}, {"energy_j_per_step_modelled", H5R_F64},
        {"time_s_per_step_modelled", H5R_F64},
    };
    enum { NCOL = sizeof cols / sizeof cols[0] };
    int ci[NCOL];
    for (int k = 0; k < NCOL; k++)
        if ((ci[k] = h5r_table_col(tb, cols[k].name, cols[k].type, 0)) < 0) {
            h5r_run_free(&run);
            return 1;
        }
    printf("%6s %5s %10s %12s %12s %12s %6s\n", "n", "learn", "steps/s", "synops/s", "learn upd/s", "GB/s wts", "cores");
    for (int si = 0; si < o.n_sizes; si++) {
        for (int learning = 0; learning <= 1; learning++) {
            if ((learning && !o.learn_on) || (!learning && !o.learn_off)) continue;
            int n = o.sizes[si];
            bench_result r;
            memset(&r, 0, sizeof r);
            if (run_one(&o, n, learning, &cp, &r)) {
                err_wrap(ERR_RANGE, "emu-bench: size %d, learning %s", n, learning ? "on" : "off");
                h5r_run_free(&run);
                return 1;
            }
            double sps = o.steps / r.wall_med;
            double ops = r.cnt.syn_ops / r.wall_med;
            double lups = r.cnt.learn_evals / r.wall_med;
            // Weights stream once per step for the sum (2 bytes each) and, with learning, are
            // read and written again by the learning phase.
            double bytes = (double)r.cnt.syn_ops * 2 + (double)r.cnt.learn_evals * 4;
            long row = h5r_table_row(tb);
            if (row < 0) { h5r_run_free(&run); return 1; }
            double vals[NCOL] = {n, n, learning, r.lowered, o.steps, r.wall_med, r.wall_min, r.wall_max, sps,
                                 (double)r.cnt.syn_ops, ops, ops, (double)r.cnt.learn_evals, lups,
                                 (double)r.cnt.weight_updates, (double)r.cnt.spikes, (double)r.cnt.messages,
                                 (double)r.cnt.mesh_hops, r.n_cores, r.n_chips, r.n_cores ? ops / r.n_cores : 0,
                                 bytes / r.wall_med, r.cost.energy_j_modelled / o.steps, r.cost.time_s_modelled / o.steps};
            for (int k = 0; k < NCOL; k++) {
                if (cols[k].type == H5R_I64) h5r_set_i64(tb, ci[k], (size_t)row, (int64_t)vals[k]);
                else h5r_set_f64(tb, ci[k], (size_t)row, vals[k]);
            }
            printf("%6d %5s %10.1f %12.3e %12.3e %12.2f %6d\n", n, learning ? "on" : "off", sps, ops, lups,
                   bytes / r.wall_med * 1e-9, r.n_cores);
        }
    }
    if (cli_prepare_results(o.out) || h5r_commit(o.out, &run)) {
        h5r_run_free(&run);
        return 1;
    }
    printf("emu-bench: run %s appended to %s\n", run.run_id, o.out);
    h5r_run_free(&run);
    return 0;
}
