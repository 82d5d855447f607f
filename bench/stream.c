// stream (stream_) — see bench/stream.h. The four loops below are the measurement; the rest
// is sizing, timing and bookkeeping.
#include "bench/cli.h"
#include "bench/stream.h"
#include "kernels/err.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *const stream_kernel_names[STREAM_NK] = {"copy", "scale", "add", "triad"};
// Counted bytes per element: STREAM convention, and with one write-allocate read per store.
static const double stream_rw_bytes[STREAM_NK] = {16, 16, 24, 24};
static const double stream_wa_bytes[STREAM_NK] = {24, 24, 32, 32};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

size_t stream_llc_bytes(void) {
    size_t best = 0;
    for (int i = 0; i < 8; i++) {
        char p[128], buf[64];
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        FILE *f = fopen(p, "r");
        if (!f) break;
        if (fgets(buf, sizeof buf, f)) {
            char *end;
            unsigned long long v = strtoull(buf, &end, 10);
            if (*end == 'K') v <<= 10;
            else if (*end == 'M') v <<= 20;
            if (v > best) best = (size_t)v;
        }
        fclose(f);
    }
    return best;
}

// One pass of kernel k over n elements with T threads. a, b, c: (n) each.
static void stream_pass(int k, double *restrict a, double *restrict b, double *restrict c,
                        size_t n, int T) {
    const double s = 3.0;
    switch (k) {
    case STREAM_COPY:
#pragma omp parallel for num_threads(T) schedule(static)
        for (size_t j = 0; j < n; j++) c[j] = a[j];
        break;
    case STREAM_SCALE:
#pragma omp parallel for num_threads(T) schedule(static)
        for (size_t j = 0; j < n; j++) b[j] = s * c[j];
        break;
    case STREAM_ADD:
#pragma omp parallel for num_threads(T) schedule(static)
        for (size_t j = 0; j < n; j++) c[j] = a[j] + b[j];
        break;
    default:
#pragma omp parallel for num_threads(T) schedule(static)
        for (size_t j = 0; j < n; j++) a[j] = b[j] + s * c[j];
        break;
    }
}

int stream_run(const stream_options *o, stream_result *r) {
    memset(r, 0, sizeof *r);
    if (o->ntimes < 2 || o->ntimes > 1000) return err_set(ERR_ARG, "stream: ntimes must be in 2..1000 (got %d)", o->ntimes);
    if (o->threads < 1 || o->threads > 256) return err_set(ERR_ARG, "stream: threads must be in 1..256 (got %d)", o->threads);
    r->llc_bytes = stream_llc_bytes();
    size_t bytes = o->array_bytes;
    if (!bytes) {
        long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
        size_t cap = pages > 0 && psz > 0 ? (size_t)pages * (size_t)psz / 4 / 3 : (size_t)1 << 30;
        bytes = r->llc_bytes ? 4 * r->llc_bytes : (size_t)1 << 30;
        if (bytes > cap) bytes = cap;
    }
    if (bytes < 4096) return err_set(ERR_ARG, "stream: arrays of %zu bytes are too small", bytes);
    r->n = bytes / sizeof(double);
    r->array_bytes = r->n * sizeof(double);
    r->ntimes = o->ntimes;
    r->threads = o->threads;
    r->llc_multiple = r->llc_bytes ? (double)r->array_bytes / (double)r->llc_bytes : 0.0;
    const size_t n = r->n;
    const int T = o->threads;
    double *a = aligned_alloc(64, r->array_bytes), *b = aligned_alloc(64, r->array_bytes),
           *c = aligned_alloc(64, r->array_bytes);
    if (!a || !b || !c) {
        free(a); free(b); free(c);
        return err_set(ERR_NOMEM, "stream: cannot allocate 3 arrays of %zu MiB", r->array_bytes >> 20);
    }
    // First touch by the threads that will use each part (matters on NUMA hosts).
#pragma omp parallel for num_threads(T) schedule(static)
    for (size_t j = 0; j < n; j++) { a[j] = 1.0; b[j] = 2.0; c[j] = 0.0; }
    for (int k = 0; k < STREAM_NK; k++) {
        r->best_s[k] = 1e300;
        r->bytes[k] = stream_rw_bytes[k] * (double)n;
        r->bytes_wa[k] = stream_wa_bytes[k] * (double)n;
    }
    for (int it = 0; it < o->ntimes; it++)
        for (int k = 0; k < STREAM_NK; k++) {
            double t0 = now_s();
            stream_pass(k, a, b, c, n, T);
            double dt = now_s() - t0;
            if (it == 0) continue;  // warm-up pass
            r->avg_s[k] += dt / (o->ntimes - 1);
            if (dt < r->best_s[k]) r->best_s[k] = dt;
            if (dt > r->max_s[k]) r->max_s[k] = dt;
        }
    // Check the arrays like STREAM does, so the loops cannot have been optimised away:
    // each full iteration maps (a, b, c) -> (a', b', c') with the closed forms below.
    double ea = 1.0, eb = 2.0, ec = 0.0;
    for (int it = 0; it < o->ntimes; it++) { ec = ea; eb = 3.0 * ec; ec = ea + eb; ea = eb + 3.0 * ec; }
    int bad = a[n / 2] != ea || b[n - 1] != eb || c[0] != ec;
    free(a); free(b); free(c);
    if (bad) return err_set(ERR_FORMAT, "stream: array check failed (kernels miscompiled?)");
    for (int k = 0; k < STREAM_NK; k++) {
        r->gbs[k] = r->bytes[k] / r->best_s[k] / 1e9;
        r->gbs_wa[k] = r->bytes_wa[k] / r->best_s[k] / 1e9;
    }
    return ERR_OK;
}

int stream_add_table(const stream_result *r, const char *label, h5r_run *run) {
    h5r_table *t = NULL;
    for (int i = 0; i < run->n_tables; i++)
        if (!strcmp(run->tables[i]->name, "stream")) t = run->tables[i];
    if (!t) {
        if (!(t = h5r_run_table(run, "stream"))) return ERR_NOMEM;
        const char *i64s[] = {"threads", "n", "array_bytes", "llc_bytes", "ntimes"};
        const char *f64s[] = {"llc_multiple", "bytes_counted", "bytes_write_allocate", "best_s", "avg_s",
                              "max_s", "gbs", "gbs_write_allocate"};
        if (h5r_table_col(t, "label", H5R_STR, 32) < 0 || h5r_table_col(t, "kernel", H5R_STR, 8) < 0)
            return ERR_NOMEM;
        for (size_t i = 0; i < sizeof i64s / sizeof *i64s; i++)
            if (h5r_table_col(t, i64s[i], H5R_I64, 0) < 0) return ERR_NOMEM;
        for (size_t i = 0; i < sizeof f64s / sizeof *f64s; i++)
            if (h5r_table_col(t, f64s[i], H5R_F64, 0) < 0) return ERR_NOMEM;
    }
#define C(name) h5r_col_index(t, name)
    for (int k = 0; k < STREAM_NK; k++) {
        long row = h5r_table_row(t);
        if (row < 0) return ERR_NOMEM;
        h5r_set_str(t, C("label"), row, label);
        h5r_set_str(t, C("kernel"), row, stream_kernel_names[k]);
        h5r_set_i64(t, C("threads"), row, r->threads);
        h5r_set_i64(t, C("n"), row, (int64_t)r->n);
        h5r_set_i64(t, C("array_bytes"), row, (int64_t)r->array_bytes);
        h5r_set_i64(t, C("llc_bytes"), row, (int64_t)r->llc_bytes);
        h5r_set_i64(t, C("ntimes"), row, r->ntimes);
        h5r_set_f64(t, C("llc_multiple"), row, r->llc_multiple);
        h5r_set_f64(t, C("bytes_counted"), row, r->bytes[k]);
        h5r_set_f64(t, C("bytes_write_allocate"), row, r->bytes_wa[k]);
        h5r_set_f64(t, C("best_s"), row, r->best_s[k]);
        h5r_set_f64(t, C("avg_s"), row, r->avg_s[k]);
        h5r_set_f64(t, C("max_s"), row, r->max_s[k]);
        h5r_set_f64(t, C("gbs"), row, r->gbs[k]);
        h5r_set_f64(t, C("gbs_write_allocate"), row, r->gbs_wa[k]);
    }
#undef C
    return ERR_OK;
}

void stream_print(const stream_result *r, const char *label) {
    printf("stream %s: 3 arrays x %.1f MiB (%.2f x LLC of %.1f MiB), %d thread%s, best of %d\n", label,
           r->array_bytes / 1048576.0, r->llc_multiple, r->llc_bytes / 1048576.0, r->threads,
           r->threads > 1 ? "s" : "", r->ntimes - 1);
    printf("  %-6s %12s %12s %10s %10s %10s\n", "kernel", "GB/s", "GB/s(+WA)", "best ms", "avg ms", "max ms");
    for (int k = 0; k < STREAM_NK; k++)
        printf("  %-6s %12.2f %12.2f %10.3f %10.3f %10.3f\n", stream_kernel_names[k], r->gbs[k], r->gbs_wa[k],
               1e3 * r->best_s[k], 1e3 * r->avg_s[k], 1e3 * r->max_s[k]);
}

// ---------------------------------------------------------------- command ----------------

int stream_cmd(int argc, char **argv) {
    stream_options o = {.array_bytes = 0, .ntimes = 6, .threads = 1};
    const char *out = "results/neuroicl.h5";
    int all_threads = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long v = 0;
        if (i + 1 >= argc) return err_set(ERR_ARG, "stream: %s needs a value", a);
        const char *s = argv[++i];
        if (!strcmp(a, "--out")) out = s;
        else if (!strcmp(a, "--array-mib")) {
            if (cli_parse_long(a, s, 1, 1 << 20, &v)) return ERR_ARG;
            o.array_bytes = (size_t)v << 20;
        } else if (!strcmp(a, "--ntimes")) {
            if (cli_parse_long(a, s, 2, 1000, &v)) return ERR_ARG;
            o.ntimes = (int)v;
        } else if (!strcmp(a, "--threads")) {
            if (cli_parse_long(a, s, 1, 256, &v)) return ERR_ARG;
            o.threads = (int)v;
            all_threads = 0;
        } else return err_set(ERR_ARG, "stream: unknown option '%s' (see neuroicl --help)", a);
    }
    int rc = cli_prepare_results(out);
    if (rc) return rc;
    h5r_run run;
    h5r_run_init(&run);
    h5r_attr_str(&run, "kind", "stream");
    h5r_attr_str(&run, "bytes_convention",
                 "gbs counts reads+writes (STREAM); gbs_write_allocate adds one read per written element");
    // Default: one thread (the decode loop's) and every online CPU.
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int passes = all_threads && ncpu > 1 ? 2 : 1;
    for (int p = 0; p < passes && !rc; p++) {
        stream_options q = o;
        if (p == 1) q.threads = (int)ncpu;
        stream_result r;
        char label[32];
        if (!(rc = stream_run(&q, &r))) {
            snprintf(label, sizeof label, "probe-%dt", q.threads);
            stream_print(&r, label);
            if (r.llc_multiple < 4.0)
                printf("  note: arrays are %.2f x LLC (< 4): partly cache-resident, not a DRAM figure\n", r.llc_multiple);
            rc = stream_add_table(&r, label, &run);
        }
    }
    if (!rc) rc = h5r_commit(out, &run);
    if (!rc) printf("run %s appended to %s\n", run.run_id, out);
    h5r_run_free(&run);
    return rc;
}
