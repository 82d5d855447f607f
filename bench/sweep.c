// sweep (sweep_) — see bench/sweep.h. The measurement is the timed step() call in
// measure_point(); everything else fills state, counts, and reduces.
#include "bench/cli.h"
#include "bench/sweep.h"
#include "bench/roofline.h"
#include "bench/stream.h"
#include "kernels/err.h"
#include "kernels/model.h"
#include "kernels/quant.h"
#include "kernels/rng.h"
#include "kernels/transformer.h"

#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define F4 ((int64_t)sizeof(float))
#define SWEEP_POOL 64  // distinct synthetic embeddings cycled through
#define SWEEP_T_REF 64  // context of the twin a state row is paired with for flatness

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return 1e9 * ts.tv_sec + ts.tv_nsec;
}

static int is_kv(const char *row) { return !strncmp(row, "kv-", 3); }

// ---------------------------------------------------------------- closed forms ------------

static int64_t weights_bytes(const tf_config *c, int support) {
    const int64_t d = c->d_model, L = c->n_layers, f = c->d_ff;
    const int64_t layer = 4 * d * d + 2 * d * f + f + d;  // q,k,v,o + MLP weights and biases
    int64_t w = d * c->d_in + 2 * d;                       // W_in, b_in, one label embedding
    if (support) w += (L - 1) * layer + 2 * d * d;         // last layer: W_k, W_v only
    else w += L * layer + (int64_t)c->n_labels * d + c->n_labels;  // + readout
    return F4 * w;
}

int sweep_closed_form(const tf_config *c, const char *row, int64_t t, int support, dec_traffic *tr) {
    memset(tr, 0, sizeof *tr);
    const int64_t d = c->d_model, L = c->n_layers, H = c->n_heads, hd = tf_head_dim(c);
    tr->weights_read = weights_bytes(c, support);
    if (is_kv(row)) {
        if (support) {
            tr->kv_read = 2 * F4 * d * (t + 1) * (L - 1);
            tr->kv_written = 2 * F4 * d * L;
        } else {
            tr->kv_read = 2 * F4 * d * t * L;
        }
        return 0;
    }
    if (!strcmp(row, "fw-float")) {
        tr->fw_read = F4 * H * hd * hd * L;
        if (support) tr->fw_written = F4 * H * hd * hd * L;
        return 0;
    }
    return -1;
}

double sweep_closed_flops(const tf_config *c, const char *row, int64_t t, int support) {
    const double d = c->d_model, L = c->n_layers, f = c->d_ff, hd = tf_head_dim(c), H = c->n_heads;
    double fl = 2 * d * c->d_in;                    // embedding matvec
    double full = 2 * 4 * d * d + 2 * 2 * d * f;    // q,k,v,o and the MLP
    double att = 0.0;                               // per layer
    if (is_kv(row)) att = 4 * d * (support ? t + 1 : t + 1);  // dot + axpy per head per entry
    else if (!strcmp(row, "fw-float")) att = support ? 4 * H * hd * hd : 2 * H * hd * hd + 4 * d;  // update+read / read+self
    else return NAN;
    // A support's last layer computes only k, v (and for fw-float the update W += v φ(k)^T).
    if (support) fl += (L - 1) * (full + att) + 2 * 2 * d * d + (is_kv(row) ? 0 : 2 * H * hd * hd);
    else fl += L * (full + att) + 2 * c->n_labels * d;
    return fl;
}

double sweep_t_star_analytic(const tf_config *c, int support) {
    const double L = c->n_layers, hd = tf_head_dim(c), H = c->n_heads, d = c->d_model;
    if (!support) return H * hd * hd / (2.0 * d);
    if (c->n_layers < 2) return INFINITY;
    return L * (hd - 1.0) / (L - 1.0) - 1.0;
}

double sweep_crossing(const double *t, const double *a, const double *b, int n) {
    for (int i = 0; i < n; i++) {
        double di = a[i] - b[i];
        if (di < 0) continue;
        if (i == 0) return t[0];  // already crossed at the first point
        double dp = a[i - 1] - b[i - 1];
        return t[i - 1] + (t[i] - t[i - 1]) * (0 - dp) / (di - dp);
    }
    return NAN;
}

int sweep_default_t(int t_max, int *t, int cap) {
    int n = 0;
    for (int i = 1; i <= 64 && i <= t_max && n < cap; i++) t[n++] = i;
    for (long k = 64; n < cap; k *= 2) {
        if (3 * k / 2 <= t_max && n < cap) t[n++] = (int)(3 * k / 2);
        if (2 * k <= t_max && n < cap) t[n++] = (int)(2 * k);
        if (2 * k >= t_max) break;
    }
    if (n && t[n - 1] < t_max && n < cap) t[n++] = t_max;
    return n;
}

// ---------------------------------------------------------------- measurement -------------

typedef struct {
    int measured;
    double ns_med, ns_min, ns_max;
    dec_traffic tr;
} sweep_point;  // one (row, t, kind)

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    h5r_table *t;
    int c_cfg, c_d, c_h, c_hd, c_l, c_impl, c_t, c_kind, c_reps, c_med, c_min, c_max, c_br, c_bw, c_wr,
        c_kvr, c_kvw, c_fwr, c_fww, c_cf, c_fl, c_gbs;
    int c_ctr[CTR_MAX_EVENTS];
} sweep_cols;

static int sweep_cols_init(sweep_cols *s, h5r_run *run, const ctr_set *ctr) {
    h5r_table *t = s->t = h5r_run_table(run, "sweep");
    if (!t) return ERR_NOMEM;
    s->c_cfg = h5r_table_col(t, "config", H5R_I64, 0);
    s->c_d = h5r_table_col(t, "d_model", H5R_I64, 0);
    s->c_h = h5r_table_col(t, "n_heads", H5R_I64, 0);
    s->c_hd = h5r_table_col(t, "head_dim", H5R_I64, 0);
    s->c_l = h5r_table_col(t, "n_layers", H5R_I64, 0);
    s->c_impl = h5r_table_col(t, "impl", H5R_STR, 32);
    s->c_t = h5r_table_col(t, "t", H5R_I64, 0);
    s->c_kind = h5r_table_col(t, "kind", H5R_STR, 8);
    s->c_reps = h5r_table_col(t, "reps", H5R_I64, 0);
    s->c_med = h5r_table_col(t, "ns_median", H5R_F64, 0);
    s->c_min = h5r_table_col(t, "ns_min", H5R_F64, 0);
    s->c_max = h5r_table_col(t, "ns_max", H5R_F64, 0);
    s->c_br = h5r_table_col(t, "bytes_read", H5R_I64, 0);
    s->c_bw = h5r_table_col(t, "bytes_written", H5R_I64, 0);
    s->c_wr = h5r_table_col(t, "weights_read", H5R_I64, 0);
    s->c_kvr = h5r_table_col(t, "kv_read", H5R_I64, 0);
    s->c_kvw = h5r_table_col(t, "kv_written", H5R_I64, 0);
    s->c_fwr = h5r_table_col(t, "fw_read", H5R_I64, 0);
    s->c_fww = h5r_table_col(t, "fw_written", H5R_I64, 0);
    s->c_cf = h5r_table_col(t, "bytes_closed_form", H5R_F64, 0);  // NaN: no closed form for the row
    s->c_fl = h5r_table_col(t, "flops_closed_form", H5R_F64, 0);
    s->c_gbs = h5r_table_col(t, "gbs_median", H5R_F64, 0);        // counted bytes / median ns
    // Counters: one column per counted event only (unavailable ones are in table counters).
    for (int i = 0; ctr && i < ctr->n_avail; i++) {
        char nm[128];
        snprintf(nm, sizeof nm, "ctr_%s", ctr->events[ctr->avail_idx[i]].name);
        if ((s->c_ctr[i] = h5r_table_col(t, nm, H5R_F64, 0)) < 0) return ERR_NOMEM;
    }
    return s->c_gbs < 0 ? ERR_NOMEM : ERR_OK;
}

// Times `reps` steps of one token (a query repeats without changing state; a support is
// timed once: reps = 1). ns: (reps) scratch. Counter deltas are averaged per token.
static int measure_point(dec_row *row, const float *e, int label, int reps, double *ns, float *logits,
                         ctr_set *ctr, long long *c0, long long *c1, double *ctr_mean, sweep_point *p) {
    const int nc = ctr ? ctr->n_avail : 0;
    int rc;
    if (nc && (rc = ctr_read(ctr, c0))) return rc;
    for (int r = 0; r < reps; r++) {
        dec_traffic tr = {0};
        double t0 = now_ns();
        rc = row->ops->step(row, e, label, logits, &tr);
        ns[r] = now_ns() - t0;
        if (rc) return rc;
        if (r == 0) p->tr = tr;
    }
    if (nc && (rc = ctr_read(ctr, c1))) return rc;
    for (int i = 0; i < nc; i++) ctr_mean[i] = (double)(c1[i] - c0[i]) / reps;
    qsort(ns, (size_t)reps, sizeof *ns, cmp_double);
    p->ns_min = ns[0];
    p->ns_max = ns[reps - 1];
    p->ns_med = reps % 2 ? ns[reps / 2] : 0.5 * (ns[reps / 2 - 1] + ns[reps / 2]);
    p->measured = 1;
    return ERR_OK;
}

static void put_row(sweep_cols *s, int cfg_i, const tf_config *c, const char *impl, int t, int support,
                    int reps, const sweep_point *p, const ctr_set *ctr, const double *ctr_mean) {
    h5r_table *tb = s->t;
    long k = h5r_table_row(tb);
    if (k < 0) return;
    dec_traffic cf;
    int have_cf = sweep_closed_form(c, impl, t, support, &cf) == 0;
    int64_t br = dec_traffic_read(&p->tr), bw = dec_traffic_written(&p->tr);
    h5r_set_i64(tb, s->c_cfg, k, cfg_i);
    h5r_set_i64(tb, s->c_d, k, c->d_model);
    h5r_set_i64(tb, s->c_h, k, c->n_heads);
    h5r_set_i64(tb, s->c_hd, k, tf_head_dim(c));
    h5r_set_i64(tb, s->c_l, k, c->n_layers);
    h5r_set_str(tb, s->c_impl, k, impl);
    h5r_set_i64(tb, s->c_t, k, t);
    h5r_set_str(tb, s->c_kind, k, support ? "support" : "query");
    h5r_set_i64(tb, s->c_reps, k, reps);
    h5r_set_f64(tb, s->c_med, k, p->ns_med);
    h5r_set_f64(tb, s->c_min, k, p->ns_min);
    h5r_set_f64(tb, s->c_max, k, p->ns_max);
    h5r_set_i64(tb, s->c_br, k, br);
    h5r_set_i64(tb, s->c_bw, k, bw);
    h5r_set_i64(tb, s->c_wr, k, p->tr.weights_read);
    h5r_set_i64(tb, s->c_kvr, k, p->tr.kv_read);
    h5r_set_i64(tb, s->c_kvw, k, p->tr.kv_written);
    h5r_set_i64(tb, s->c_fwr, k, p->tr.fw_read);
    h5r_set_i64(tb, s->c_fww, k, p->tr.fw_written);
    h5r_set_f64(tb, s->c_cf, k, have_cf ? (double)(dec_traffic_read(&cf) + dec_traffic_written(&cf)) : NAN);
    h5r_set_f64(tb, s->c_fl, k, sweep_closed_flops(c, impl, t, support));
    h5r_set_f64(tb, s->c_gbs, k, (double)(br + bw) / p->ns_med);
    for (int i = 0; ctr && i < ctr->n_avail; i++) h5r_set_f64(tb, s->c_ctr[i], k, ctr_mean[i]);
}

// Table helpers for the small summary tables.
static h5r_table *summary_table(h5r_run *run, const char *name, const char *const *cols, const h5r_type *types) {
    for (int i = 0; i < run->n_tables; i++)
        if (!strcmp(run->tables[i]->name, name)) return run->tables[i];
    h5r_table *t = h5r_run_table(run, name);
    if (!t) return NULL;
    for (int i = 0; cols[i]; i++)
        if (h5r_table_col(t, cols[i], types[i], types[i] == H5R_STR ? 32 : 0) < 0) return NULL;
    return t;
}

// ---------------------------------------------------------------- the sweep ---------------

typedef struct {
    tf_config cfg[2];   // by tf_attn
    float *params[2];
    mdl_model model;
    int have_model;
    fq_model fq;        // quantized decoder of --model, for fw-quant / loihi2-emu (when it has one)
    int have_fq;
} sweep_weights;

static void weights_free(sweep_weights *w) {
    if (w->have_fq) fq_free(&w->fq);
    if (w->have_model) mdl_free(&w->model);
    else { free(w->params[0]); free(w->params[1]); }
    memset(w, 0, sizeof *w);
}

static int weights_make(const sweep_options *o, int ci, sweep_weights *w) {
    memset(w, 0, sizeof *w);
    if (o->model_path) {
        int rc = mdl_load(o->model_path, &w->model);
        if (rc) return rc;
        w->have_model = 1;
        for (int k = 0; k < 2; k++) { w->cfg[k] = w->model.dec[k]; w->params[k] = w->model.dec_params[k]; }
        if (!w->params[TF_LINEAR] || !w->params[TF_SOFTMAX])
            return err_set(ERR_FORMAT, "%s lacks a linear or softmax decoder", o->model_path);
        // The fixed-point rows run when the model was quantized (neuroicl quantize); without
        // it they are skipped with their own message.
        if (fq_load(o->model_path, &w->model, &w->fq) == 0) w->have_fq = 1;
        err_clear();
        return ERR_OK;
    }
    // The default model's shape (kernels/model_io.c) with width and heads from the axes.
    for (int k = 0; k < 2; k++) {
        tf_config c = {.d_in = 64, .d_model = o->d_model[ci], .n_layers = 2, .n_heads = o->n_heads[ci],
                       .d_ff = 2 * o->d_model[ci], .n_labels = 20, .attn = (tf_attn)k};
        int rc = tf_config_check(&c);
        if (rc) return err_wrap(rc, "sweep config d_model=%d heads=%d", c.d_model, c.n_heads);
        w->cfg[k] = c;
        w->params[k] = malloc(tf_n_params(&c) * sizeof(float));
        if (!w->params[k]) return err_set(ERR_NOMEM, "out of memory for random weights");
        rng_t r;
        rng_seed2(&r, o->seed, (uint64_t)k);
        tf_init(&c, w->params[k], &r);
    }
    return ERR_OK;
}

static int sweep_core_row(const char *name) {
    return !strcmp(name, "kv-softmax") || !strcmp(name, "kv-linear") || !strcmp(name, "fw-float");
}

// Flatness, paired: `reps` query tokens alternately on the row (context t) and on its twin
// held at context t_ref, so drift of the machine (other load, clocks) hits both alike.
// Writes the two medians. nsa, nsb: (reps) scratch.
static int measure_paired(dec_row *row, dec_row *twin, const float *e, int reps, double *nsa, double *nsb,
                          float *logits, double *med_row, double *med_twin) {
    int rc;
    for (int r = 0; r < reps; r++) {
        dec_traffic tr = {0};
        double t0 = now_ns();
        rc = twin->ops->step(twin, e, -1, logits, &tr);
        double t1 = now_ns();
        if (!rc) rc = row->ops->step(row, e, -1, logits, &tr);
        double t2 = now_ns();
        if (rc) return rc;
        nsb[r] = t1 - t0;
        nsa[r] = t2 - t1;
    }
    qsort(nsa, (size_t)reps, sizeof *nsa, cmp_double);
    qsort(nsb, (size_t)reps, sizeof *nsb, cmp_double);
    *med_row = reps % 2 ? nsa[reps / 2] : 0.5 * (nsa[reps / 2 - 1] + nsa[reps / 2]);
    *med_twin = reps % 2 ? nsb[reps / 2] : 0.5 * (nsb[reps / 2 - 1] + nsb[reps / 2]);
    return ERR_OK;
}

// Steps supports into `row` from *pos up to position t (untimed). Runs on a worker thread:
// the error message is copied to msg (err_msg() is per thread).
static int fill_row(const sweep_options *o, dec_row *row, const tf_config *c, const float *pool, int *pos, int t,
                    float *logits, char *msg, size_t msg_n) {
    int rc = ERR_OK;
    for (; *pos < t && !rc; (*pos)++) {
        if (o->stop && *o->stop) rc = err_set(ERR_INTERRUPTED, "sweep interrupted");
        dec_traffic tr = {0};
        if (!rc) rc = row->ops->step(row, pool + (size_t)(*pos % SWEEP_POOL) * c->d_in, *pos % c->n_labels, logits, &tr);
    }
    if (rc) snprintf(msg, msg_n, "%s", err_msg());
    return rc;
}

// Untimed fills of several rows on worker threads that are joined (gone) before any timing:
// an idle OpenMP team would still spin on the other core while tokens are timed.
typedef struct {
    const sweep_options *o;
    dec_row *rw;
    const tf_config *cfg;  // (2) by tf_attn
    const float *pool;
    int *pos, *rrc, *alive, *cap;
    char (*rmsg)[512];
    int R, t;
    int next;              // next row to take (under lock)
    pthread_mutex_t lock;
} fill_job;

static void *fill_worker(void *arg) {
    fill_job *j = arg;
    float lg[1024];  // logits scratch (n_labels <= 1024 checked by the caller)
    for (;;) {
        pthread_mutex_lock(&j->lock);
        int r = j->next++;
        pthread_mutex_unlock(&j->lock);
        if (r >= j->R) break;
        if (!j->alive[r] || j->rrc[r] || j->t > j->cap[r]) continue;
        j->rrc[r] = fill_row(j->o, &j->rw[r], &j->cfg[j->rw[r].ops->attn], j->pool, &j->pos[r], j->t, lg, j->rmsg[r],
                             sizeof j->rmsg[r]);
    }
    return NULL;
}

static void fill_rows(fill_job *j, int threads) {
    pthread_t th[SWEEP_MAX_ROWS];
    int n = 0;
    j->next = 0;
    if (threads > j->R) threads = j->R;
    for (int i = 1; i < threads; i++)
        if (pthread_create(&th[n], NULL, fill_worker, j) == 0) n++;
    fill_worker(j);  // the calling thread works too
    for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
}

int sweep_run(const sweep_options *o, ctr_set *ctr, h5r_run *run) {
    int rc = ERR_OK;
    const int NT = o->n_t, R = o->n_rows;
    if (NT < 1 || R < 1) return err_set(ERR_ARG, "sweep: nothing to measure");
    const int t_max = o->t[NT - 1];
    // ---- bandwidth probe, same process, one thread like the decode loop
    stream_options so = {.array_bytes = o->stream_bytes, .ntimes = o->stream_ntimes, .threads = 1};
    stream_result probe;
    if (o->log) fprintf(o->log, "sweep: bandwidth probe (STREAM, 1 thread)...\n");
    if ((rc = stream_run(&so, &probe)) || (rc = stream_add_table(&probe, "probe-1t", run))) return rc;
    double triad = probe.gbs[STREAM_TRIAD];
    if (o->log) fprintf(o->log, "sweep: triad %.2f GB/s (arrays %.0f MiB = %.2f x LLC)\n", triad,
                        probe.array_bytes / 1048576.0, probe.llc_multiple);
    h5r_attr_f64(run, "triad_gbs_1t", triad);
    h5r_attr_f64(run, "triad_llc_multiple", probe.llc_multiple);
    // Cache-resident ceiling for the roofline: 3 arrays of 256 KiB stay in a 2 MiB L2.
    stream_options l2o = {.array_bytes = 256u << 10, .ntimes = 50, .threads = 1};
    stream_result l2r;
    if ((rc = stream_run(&l2o, &l2r)) || (rc = stream_add_table(&l2r, "cache-resident-1t", run))) return rc;
    h5r_attr_f64(run, "triad_gbs_cache_1t", l2r.gbs[STREAM_TRIAD]);
    double peak = roof_peak_gflops(1, 5);
    h5r_attr_f64(run, "compute_ceiling_gflops_1t", peak);
    h5r_attr_str(run, "compute_ceiling_kernel", "16x16 independent float multiply-add chains in registers (bench/roofline.c)");
    h5r_attr_str(run, "flops_convention", "multiply-add = 2 flops; relu/exp/max/scale not counted");

    sweep_cols cols;
    if ((rc = sweep_cols_init(&cols, run, ctr))) return rc;
    const char *xc[] = {"config", "d_model", "n_heads", "head_dim", "kv_impl", "fw_impl", "kind",
                        "t_star_analytic", "t_star_measured_bytes", "rel_err_bytes", "t_star_measured_time", NULL};
    const h5r_type xt[] = {H5R_I64, H5R_I64, H5R_I64, H5R_I64, H5R_STR, H5R_STR, H5R_STR, H5R_F64, H5R_F64, H5R_F64, H5R_F64};
    const char *bc[] = {"config", "d_model", "n_heads", "impl", "t", "bytes_per_token", "kv_bytes_per_token",
                        "ns_median", "ns_min", "gbs_median", "gbs_best", "triad_gbs", "ratio_median", "ratio_best",
                        "kv_gbs_median", NULL};
    const h5r_type bt[] = {H5R_I64, H5R_I64, H5R_I64, H5R_STR, H5R_I64, H5R_F64, H5R_F64, H5R_F64, H5R_F64,
                           H5R_F64, H5R_F64, H5R_F64, H5R_F64, H5R_F64, H5R_F64};
    const char *fc[] = {"config", "d_model", "n_heads", "impl", "t_lo", "t_hi", "ns_median_lo", "ns_median_hi",
                        "change_median", "ns_min_lo", "ns_min_hi", "change_min", "change_paired", NULL};
    const h5r_type ft[] = {H5R_I64, H5R_I64, H5R_I64, H5R_STR, H5R_I64, H5R_I64, H5R_F64, H5R_F64, H5R_F64,
                           H5R_F64, H5R_F64, H5R_F64, H5R_F64};
    const char *pc[] = {"config", "d_model", "n_heads", "impl", "t", "t_ref", "ns_median", "ns_median_ref", "change", NULL};
    const h5r_type pt[] = {H5R_I64, H5R_I64, H5R_I64, H5R_STR, H5R_I64, H5R_I64, H5R_F64, H5R_F64, H5R_F64};
    h5r_table *tx = summary_table(run, "crossover", xc, xt), *tb = summary_table(run, "bandwidth", bc, bt),
              *tfl = summary_table(run, "flatness", fc, ft), *tfp = summary_table(run, "flatness_paired", pc, pt);
    if (!tx || !tb || !tfl || !tfp) return ERR_NOMEM;

    const int n_labels_max = 1024;
    sweep_point *pts = calloc((size_t)R * NT * 2, sizeof *pts);  // (R, NT, 2 kinds)
    double *ns = malloc(2 * (size_t)(o->reps > 1 ? o->reps : 1) * sizeof *ns);  // (2, reps)
    float *logits = malloc(n_labels_max * sizeof *logits);
    double *ta = malloc(NT * sizeof(double)), *ya = malloc(NT * sizeof(double)), *yb = malloc(NT * sizeof(double));
    char skipped[2048] = "";
    long long c0[CTR_MAX_EVENTS], c1[CTR_MAX_EVENTS];
    double ctr_mean[CTR_MAX_EVENTS];
    float *pool = NULL;
    sweep_weights w = {0};
    if (!pts || !ns || !logits || !ta || !ya || !yb) { rc = err_set(ERR_NOMEM, "sweep: out of memory"); goto done; }
    if (ctr && ctr->n_avail && (rc = ctr_start(ctr))) goto done;
    double kv_foot_max = 0.0;

    for (int ci = 0; ci < (o->model_path ? 1 : o->n_cfg); ci++) {
        if ((rc = weights_make(o, ci, &w))) goto done;
        const tf_config *cl = &w.cfg[TF_LINEAR];
        if (cl->n_labels > n_labels_max) { rc = err_set(ERR_RANGE, "sweep: model has too many labels"); goto done; }
        // Synthetic token stream: SWEEP_POOL random unit-norm embeddings (d_in), labels cycling.
        free(pool);
        pool = malloc((size_t)SWEEP_POOL * cl->d_in * sizeof(float));
        if (!pool) { rc = err_set(ERR_NOMEM, "sweep: out of memory"); goto done; }
        rng_t rg;
        rng_seed2(&rg, o->seed, 1000 + (uint64_t)ci);
        for (int p = 0; p < SWEEP_POOL; p++) {
            float *e = pool + (size_t)p * cl->d_in, nrm = 0;
            for (int i = 0; i < cl->d_in; i++) { e[i] = rng_normal(&rg); nrm += e[i] * e[i]; }
            for (int i = 0; i < cl->d_in; i++) e[i] /= sqrtf(nrm);
        }
        memset(pts, 0, (size_t)R * NT * 2 * sizeof *pts);
        // All rows advance together over the t list: the untimed fills run in parallel (one
        // row per thread), then each row is measured alone, one thread, nothing else running.
        dec_row rw[SWEEP_MAX_ROWS];
        int pos[SWEEP_MAX_ROWS] = {0}, cap[SWEEP_MAX_ROWS], alive[SWEEP_MAX_ROWS], rrc[SWEEP_MAX_ROWS] = {0};
        static char rmsg[SWEEP_MAX_ROWS][512];
        double t_start = now_ns(), paired_change[SWEEP_MAX_ROWS], paired_ref[SWEEP_MAX_ROWS];
        for (int r = 0; r < R; r++) paired_change[r] = paired_ref[r] = NAN;
        memset(rw, 0, sizeof rw);
        for (int r = 0; r < R; r++) {
            const dec_ops *ops = dec_find(o->rows[r]);
            cap[r] = !strncmp(ops->name, "loihi2", 6) && o->slow_row_t_max < t_max ? o->slow_row_t_max : t_max;
            rrc[r] = dec_open_aux(&rw[r], ops, &w.cfg[ops->attn], w.params[ops->attn], cap[r] + 1,
                                  w.have_fq ? &w.fq : NULL);
            if (rrc[r]) snprintf(rmsg[r], sizeof rmsg[r], "%s", err_msg());
            alive[r] = 1;
        }
        // Twins of the state rows, held at context SWEEP_T_REF for the paired flatness.
        dec_row twin[SWEEP_MAX_ROWS];
        int have_twin[SWEEP_MAX_ROWS] = {0};
        memset(twin, 0, sizeof twin);
        for (int r = 0; r < R; r++) {
            if (rrc[r] || is_kv(o->rows[r]) || cap[r] < SWEEP_T_REF) continue;
            const dec_ops *ops = rw[r].ops;
            int tp = 0;
            char msg[512];
            if (dec_open_aux(&twin[r], ops, &w.cfg[ops->attn], w.params[ops->attn], SWEEP_T_REF + 1,
                             w.have_fq ? &w.fq : NULL) ||
                fill_row(o, &twin[r], &w.cfg[ops->attn], pool, &tp, SWEEP_T_REF, logits, msg, sizeof msg)) {
                dec_close(&twin[r]);  // no paired flatness for this row; the unpaired one remains
                err_clear();
                continue;
            }
            have_twin[r] = 1;
        }
        for (int ti = 0; ti <= NT; ti++) {
            // Rows that failed (to open, fill or step) stop here: optional rows are recorded
            // as skipped with the reason, a reference row fails the sweep.
            for (int r = 0; r < R; r++) {
                if (!alive[r] || !rrc[r]) continue;
                alive[r] = 0;
                const tf_config *c = &w.cfg[rw[r].ops ? rw[r].ops->attn : TF_LINEAR];
                if (rrc[r] == ERR_INTERRUPTED || sweep_core_row(o->rows[r])) {
                    rc = err_set(rrc[r], "%s: %s", o->rows[r], rmsg[r]);
                    for (int q = 0; q < R; q++) { dec_close(&rw[q]); dec_close(&twin[q]); }
                    goto done;
                }
                size_t len = strlen(skipped);
                snprintf(skipped + len, sizeof skipped - len, "%s%s (d=%d H=%d): %s", len ? "; " : "", o->rows[r],
                         c->d_model, c->n_heads, rmsg[r]);
                if (o->log) fprintf(o->log, "sweep: %s skipped: %s\n", o->rows[r], rmsg[r]);
                for (int q = 0; q < NT; q++) pts[((size_t)r * NT + q) * 2].measured = pts[((size_t)r * NT + q) * 2 + 1].measured = 0;
                dec_close(&rw[r]);
            }
            if (ti == NT) break;
            const int t = o->t[ti];
            fill_job job = {.o = o, .rw = rw, .cfg = w.cfg, .pool = pool, .pos = pos, .rrc = rrc, .alive = alive,
                            .cap = cap, .rmsg = rmsg, .R = R, .t = t};
            pthread_mutex_init(&job.lock, NULL);
            fill_rows(&job, o->fill_threads > 0 ? o->fill_threads : 1);
            pthread_mutex_destroy(&job.lock);
            for (int r = 0; r < R; r++) {
                if (!alive[r] || rrc[r] || t > cap[r]) continue;
                const dec_ops *ops = rw[r].ops;
                const tf_config *c = &w.cfg[ops->attn];
                sweep_point *pq = &pts[((size_t)r * NT + ti) * 2], *ps = pq + 1;
                const float *eq = pool + (size_t)((t + 7) % SWEEP_POOL) * c->d_in;
                rrc[r] = measure_point(&rw[r], eq, -1, o->reps, ns, logits, ctr, c0, c1, ctr_mean, pq);
                if (!rrc[r]) put_row(&cols, ci, c, ops->name, t, 0, o->reps, pq, ctr, ctr_mean);
                // paired flatness before the support below moves the context on
                if (!rrc[r] && have_twin[r] && t >= SWEEP_T_REF) {
                    double mr, mt;
                    rrc[r] = measure_paired(&rw[r], &twin[r], eq, o->reps, ns, ns + o->reps, logits, &mr, &mt);
                    if (!rrc[r]) {
                        long k = h5r_table_row(tfp);
                        if (k < 0) { rc = ERR_NOMEM; goto done; }
                        h5r_set_i64(tfp, 0, k, ci); h5r_set_i64(tfp, 1, k, c->d_model); h5r_set_i64(tfp, 2, k, c->n_heads);
                        h5r_set_str(tfp, 3, k, ops->name); h5r_set_i64(tfp, 4, k, t); h5r_set_i64(tfp, 5, k, SWEEP_T_REF);
                        // Two instances of a row differ by a few % at equal context (placement of
                        // their buffers), so the change is the row/twin ratio relative to its
                        // value at the first paired point (t = t_ref, both at the same context).
                        if (isnan(paired_ref[r])) paired_ref[r] = mr / mt;
                        h5r_set_f64(tfp, 6, k, mr); h5r_set_f64(tfp, 7, k, mt);
                        h5r_set_f64(tfp, 8, k, mr / mt / paired_ref[r] - 1.0);
                        paired_change[r] = mr / mt / paired_ref[r] - 1.0;
                    }
                }
                if (!rrc[r]) rrc[r] = measure_point(&rw[r], pool + (size_t)(pos[r] % SWEEP_POOL) * c->d_in, pos[r] % c->n_labels,
                                                    1, ns, logits, ctr, c0, c1, ctr_mean, ps);
                if (!rrc[r]) put_row(&cols, ci, c, ops->name, t, 1, 1, ps, ctr, ctr_mean);
                pos[r]++;
                if (rrc[r]) snprintf(rmsg[r], sizeof rmsg[r], "%s", err_msg());
            }
            if (o->log && t >= 4096)
                fprintf(o->log, "sweep: d_model=%d heads=%d t=%d measured (%.1f s)\n", cl->d_model, cl->n_heads, t,
                        (now_ns() - t_start) * 1e-9);
        }
        for (int r = 0; r < R; r++) { dec_close(&rw[r]); dec_close(&twin[r]); }
        // ---- reductions for this config: crossovers, bandwidth at t >= 8192, fw flatness
        for (int fw = 0; fw < R; fw++)
        for (int r = 0; r < R; r++) {
            if (!is_kv(o->rows[r]) || is_kv(o->rows[fw]) || !pts[(size_t)fw * NT * 2].measured) continue;
            for (int kind = 0; kind < 2; kind++) {
                int n = 0;
                for (int ti = 0; ti < NT; ti++) {
                    const sweep_point *a = &pts[((size_t)r * NT + ti) * 2 + kind], *b = &pts[((size_t)fw * NT + ti) * 2 + kind];
                    if (!a->measured || !b->measured) continue;
                    // State traffic (KV cache vs fast weights): the weights differ between a
                    // float and a fixed-point row, and are the same for kv-* and fw-float.
                    ta[n] = o->t[ti];
                    ya[n] = (double)(a->tr.kv_read + a->tr.kv_written + a->tr.fw_read + a->tr.fw_written);
                    yb[n] = (double)(b->tr.kv_read + b->tr.kv_written + b->tr.fw_read + b->tr.fw_written);
                    n++;
                }
                int counted = 0;  // a row that keeps its state off the counted traffic has no t*
                for (int i = 0; i < n; i++) counted |= yb[i] > 0;
                if (!counted) continue;
                double tm = sweep_crossing(ta, ya, yb, n);
                n = 0;
                for (int ti = 0; ti < NT; ti++) {
                    const sweep_point *a = &pts[((size_t)r * NT + ti) * 2 + kind], *b = &pts[((size_t)fw * NT + ti) * 2 + kind];
                    if (!a->measured || !b->measured) continue;
                    ta[n] = o->t[ti]; ya[n] = a->ns_med; yb[n] = b->ns_med; n++;
                }
                // Time crossover: first t after which kv stays slower (noise at small t ignored).
                double tt = NAN;
                for (int i = n - 1; i >= 0; i--)
                    if (ya[i] < yb[i]) { tt = i + 1 < n ? sweep_crossing(ta + i, ya + i, yb + i, n - i) : NAN; break; }
                    else if (i == 0) tt = ta[0];
                // The closed form is for fw-float; other state rows get the measured value only.
                double an = strcmp(o->rows[fw], "fw-float") ? NAN : sweep_t_star_analytic(&w.cfg[TF_LINEAR], kind);
                long k = h5r_table_row(tx);
                if (k < 0) { rc = ERR_NOMEM; goto done; }
                h5r_set_i64(tx, 0, k, ci); h5r_set_i64(tx, 1, k, cl->d_model); h5r_set_i64(tx, 2, k, cl->n_heads);
                h5r_set_i64(tx, 3, k, tf_head_dim(cl));
                h5r_set_str(tx, 4, k, o->rows[r]); h5r_set_str(tx, 5, k, o->rows[fw]);
                h5r_set_str(tx, 6, k, kind ? "support" : "query");
                h5r_set_f64(tx, 7, k, an); h5r_set_f64(tx, 8, k, tm);
                h5r_set_f64(tx, 9, k, isfinite(an) && an > 0 ? fabs(tm - an) / an : NAN);
                h5r_set_f64(tx, 10, k, tt);
                if (o->log)
                    fprintf(o->log, "sweep: t* %s vs %s (%s): analytic %.2f, measured bytes %.2f, measured time %.1f\n",
                            o->rows[r], o->rows[fw], kind ? "support" : "query", an, tm, tt);
            }
        }
        for (int r = 0; r < R; r++)
            for (int ti = 0; ti < NT; ti++) {
                const sweep_point *p = &pts[((size_t)r * NT + ti) * 2];
                if (!p->measured || o->t[ti] < 8192 || !is_kv(o->rows[r])) continue;
                double b = (double)(dec_traffic_read(&p->tr) + dec_traffic_written(&p->tr));
                double kvb = (double)(p->tr.kv_read + p->tr.kv_written);
                if (kvb > kv_foot_max) kv_foot_max = kvb;
                long k = h5r_table_row(tb);
                if (k < 0) { rc = ERR_NOMEM; goto done; }
                const tf_config *c = &w.cfg[dec_find(o->rows[r])->attn];
                h5r_set_i64(tb, 0, k, ci); h5r_set_i64(tb, 1, k, c->d_model); h5r_set_i64(tb, 2, k, c->n_heads);
                h5r_set_str(tb, 3, k, o->rows[r]); h5r_set_i64(tb, 4, k, o->t[ti]);
                h5r_set_f64(tb, 5, k, b); h5r_set_f64(tb, 6, k, kvb);
                h5r_set_f64(tb, 7, k, p->ns_med); h5r_set_f64(tb, 8, k, p->ns_min);
                h5r_set_f64(tb, 9, k, b / p->ns_med); h5r_set_f64(tb, 10, k, b / p->ns_min);
                h5r_set_f64(tb, 11, k, triad);
                h5r_set_f64(tb, 12, k, b / p->ns_med / triad); h5r_set_f64(tb, 13, k, b / p->ns_min / triad);
                h5r_set_f64(tb, 14, k, kvb / p->ns_med);
            }
        for (int r = 0; r < R; r++) {
            if (is_kv(o->rows[r])) continue;
            int lo = -1, hi = -1;
            for (int ti = 0; ti < NT; ti++) {
                if (!pts[((size_t)r * NT + ti) * 2].measured) continue;
                if (o->t[ti] >= 64 && lo < 0) lo = ti;
                hi = ti;
            }
            if (lo < 0 || hi <= lo) continue;
            const sweep_point *a = &pts[((size_t)r * NT + lo) * 2], *b = &pts[((size_t)r * NT + hi) * 2];
            long k = h5r_table_row(tfl);
            if (k < 0) { rc = ERR_NOMEM; goto done; }
            h5r_set_i64(tfl, 0, k, ci); h5r_set_i64(tfl, 1, k, cl->d_model); h5r_set_i64(tfl, 2, k, cl->n_heads);
            h5r_set_str(tfl, 3, k, o->rows[r]); h5r_set_i64(tfl, 4, k, o->t[lo]); h5r_set_i64(tfl, 5, k, o->t[hi]);
            h5r_set_f64(tfl, 6, k, a->ns_med); h5r_set_f64(tfl, 7, k, b->ns_med);
            h5r_set_f64(tfl, 8, k, b->ns_med / a->ns_med - 1.0);
            h5r_set_f64(tfl, 9, k, a->ns_min); h5r_set_f64(tfl, 10, k, b->ns_min);
            h5r_set_f64(tfl, 11, k, b->ns_min / a->ns_min - 1.0);
            h5r_set_f64(tfl, 12, k, paired_change[r]);
        }
        weights_free(&w);
    }
    if (ctr && ctr->n_avail) ctr_stop(ctr);
    // ---- the probe again after the sweep: other load on the machine lowers a probe, so the
    // ratio is taken against the better of the two (the conservative choice for the ratio).
    {
        stream_result post;
        if (o->log) fprintf(o->log, "sweep: bandwidth probe again (after the sweep)...\n");
        if ((rc = stream_run(&so, &post)) || (rc = stream_add_table(&post, "probe-1t-after", run))) goto done;
        double best = post.gbs[STREAM_TRIAD] > triad ? post.gbs[STREAM_TRIAD] : triad;
        h5r_attr_f64(run, "triad_gbs_1t_after", post.gbs[STREAM_TRIAD]);
        h5r_attr_f64(run, "triad_gbs_1t_best", best);
        if (o->log) fprintf(o->log, "sweep: triad %.2f GB/s before, %.2f after; ratios use %.2f\n", triad,
                            post.gbs[STREAM_TRIAD], best);
        for (size_t k = 0; k < tb->n_rows; k++) {
            h5r_set_f64(tb, 11, k, best);
            h5r_set_f64(tb, 12, k, tb->cols[9].f64[k] / best);
            h5r_set_f64(tb, 13, k, tb->cols[10].f64[k] / best);
        }
        triad = best;
    }
    // ---- a triad whose two read arrays together are the largest KV cache read: the same
    // working set as the decode loop, for the residency-matched ratio.
    if (kv_foot_max > 0) {
        stream_options fo = {.array_bytes = (size_t)(kv_foot_max / 2), .ntimes = 20, .threads = 1};
        stream_result fr;
        if ((rc = stream_run(&fo, &fr)) || (rc = stream_add_table(&fr, "kv-footprint-1t", run))) goto done;
        h5r_attr_f64(run, "triad_gbs_kv_footprint_1t", fr.gbs[STREAM_TRIAD]);
    }
    h5r_attr_str(run, "rows_skipped", skipped[0] ? skipped : "none");
    if (ctr) rc = ctr_add_table(ctr, run);
done:
    if (ctr && ctr->running) ctr_stop(ctr);
    weights_free(&w);
    free(pts); free(ns); free(logits); free(ta); free(ya); free(yb); free(pool);
    return rc;
}

// ---------------------------------------------------------------- command ----------------

static int sweep_list(const char *opt, const char *s, int lo, int hi, int *out, int cap, int *n) {
    *n = 0;
    const char *p = s;
    while (p && *p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < lo || v > hi || (*end && *end != ','))
            return err_set(ERR_ARG, "sweep: %s needs integers in %d..%d separated by commas (got '%s')", opt, lo, hi, s);
        if (*n == cap) return err_set(ERR_ARG, "sweep: %s lists more than %d values", opt, cap);
        if (*n && v <= out[*n - 1] && !strcmp(opt, "--t"))
            return err_set(ERR_ARG, "sweep: --t must be ascending (got '%s')", s);
        out[(*n)++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (!*n) return err_set(ERR_ARG, "sweep: %s is empty", opt);
    return ERR_OK;
}

static volatile int sweep_no_stop = 0;

static void sweep_print(const h5r_run *run) {
    for (int i = 0; i < run->n_tables; i++) {
        const h5r_table *t = run->tables[i];
        if (!strcmp(t->name, "crossover"))
            for (size_t k = 0; k < t->n_rows; k++)
                printf("t* d=%lld H=%lld %-10s vs %-10s %-7s analytic %8.2f  measured(bytes) %8.2f  (%.1f%%)  measured(time) %8.1f\n",
                       (long long)t->cols[1].i64[k], (long long)t->cols[2].i64[k], t->cols[4].str + k * 32,
                       t->cols[5].str + k * 32, t->cols[6].str + k * 32, t->cols[7].f64[k], t->cols[8].f64[k], 100 * t->cols[9].f64[k],
                       t->cols[10].f64[k]);
        if (!strcmp(t->name, "bandwidth"))
            for (size_t k = 0; k < t->n_rows; k++)
                printf("decode d=%lld H=%lld %-10s t=%-6lld %7.2f GB/s median (%6.2f best) = %5.2f x triad %.2f GB/s (%.2f best)\n",
                       (long long)t->cols[1].i64[k], (long long)t->cols[2].i64[k], t->cols[3].str + k * 32,
                       (long long)t->cols[4].i64[k], t->cols[9].f64[k], t->cols[10].f64[k], t->cols[12].f64[k],
                       t->cols[11].f64[k], t->cols[13].f64[k]);
        if (!strcmp(t->name, "flatness"))
            for (size_t k = 0; k < t->n_rows; k++)
                printf("flat d=%lld H=%lld %-10s t=%lld..%lld: %.0f -> %.0f ns median (%+.1f%%), %.0f -> %.0f ns min (%+.1f%%); "
                       "paired with a twin at t=64: %+.1f%%\n",
                       (long long)t->cols[1].i64[k], (long long)t->cols[2].i64[k], t->cols[3].str + k * 32,
                       (long long)t->cols[4].i64[k], (long long)t->cols[5].i64[k], t->cols[6].f64[k], t->cols[7].f64[k],
                       100 * t->cols[8].f64[k], t->cols[9].f64[k], t->cols[10].f64[k], 100 * t->cols[11].f64[k],
                       100 * t->cols[12].f64[k]);
    }
}

int sweep_cmd(int argc, char **argv) {
    static char rows_buf[512];
    sweep_options o = {.reps = 21, .seed = 1, .stream_ntimes = 4, .slow_row_t_max = 64, .log = stderr};
    o.stop = &sweep_no_stop;
    const char *out = "results/neuroicl.h5", *events = NULL, *rows = dec_row_names();
    int t_max = 65536, have_t = 0, widths[SWEEP_MAX_CFG] = {64}, heads[SWEEP_MAX_CFG] = {4}, nw = 1, nh = 1;
    int rc = ERR_OK;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--quick")) { t_max = 16384; o.reps = 9; o.stream_bytes = (size_t)256 << 20; o.stream_ntimes = 3; continue; }
        if (i + 1 >= argc) return err_set(ERR_ARG, "sweep: %s needs a value", a);
        const char *v = argv[++i];
        int n, tmp[1];
        if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--events")) events = v;
        else if (!strcmp(a, "--model")) o.model_path = v;
        else if (!strcmp(a, "--rows")) rows = v;
        else if (!strcmp(a, "--t")) { rc = sweep_list(a, v, 1, 1 << 20, o.t, SWEEP_MAX_T, &o.n_t); have_t = 1; }
        else if (!strcmp(a, "--t-max")) { rc = sweep_list(a, v, 1, 1 << 20, tmp, 1, &n); t_max = tmp[0]; }
        else if (!strcmp(a, "--widths")) rc = sweep_list(a, v, 4, 4096, widths, SWEEP_MAX_CFG, &nw);
        else if (!strcmp(a, "--heads")) rc = sweep_list(a, v, 1, 256, heads, SWEEP_MAX_CFG, &nh);
        else if (!strcmp(a, "--reps")) { rc = sweep_list(a, v, 1, 10001, tmp, 1, &n); o.reps = tmp[0]; }
        else if (!strcmp(a, "--seed")) { rc = sweep_list(a, v, 0, INT_MAX, tmp, 1, &n); o.seed = (uint64_t)tmp[0]; }
        else if (!strcmp(a, "--stream-mib")) { rc = sweep_list(a, v, 1, 1 << 20, tmp, 1, &n); o.stream_bytes = (size_t)tmp[0] << 20; }
        else if (!strcmp(a, "--slow-t-max")) { rc = sweep_list(a, v, 1, 1 << 20, tmp, 1, &n); o.slow_row_t_max = tmp[0]; }
        else if (!strcmp(a, "--threads")) { rc = sweep_list(a, v, 1, 256, tmp, 1, &n); o.fill_threads = tmp[0]; }
        else if (!strcmp(a, "--stream-ntimes")) { rc = sweep_list(a, v, 2, 1000, tmp, 1, &n); o.stream_ntimes = tmp[0]; }
        else return err_set(ERR_ARG, "sweep: unknown option '%s' (see neuroicl --help)", a);
    }
    if (rc) return rc;
    if (!have_t) o.n_t = sweep_default_t(t_max, o.t, SWEEP_MAX_T);
    if (!o.fill_threads) o.fill_threads = (int)sysconf(_SC_NPROCESSORS_ONLN) > 0 ? (int)sysconf(_SC_NPROCESSORS_ONLN) : 1;
    // Rows: validated against the registered ones.
    snprintf(rows_buf, sizeof rows_buf, "%s", rows);
    for (char *tok = strtok(rows_buf, ","); tok; tok = strtok(NULL, ",")) {
        if (!dec_find(tok)) return err_set(ERR_ARG, "sweep: unknown row '%s' (choose from %s)", tok, dec_row_names());
        if (o.n_rows == SWEEP_MAX_ROWS) return err_set(ERR_ARG, "sweep: more than %d rows", SWEEP_MAX_ROWS);
        o.rows[o.n_rows++] = dec_find(tok)->name;
    }
    if (!o.n_rows) return err_set(ERR_ARG, "sweep: --rows is empty");
    for (int a = 0; a < nw; a++)
        for (int b = 0; b < nh; b++) {
            if (o.n_cfg == SWEEP_MAX_CFG) return err_set(ERR_ARG, "sweep: more than %d width x heads configs", SWEEP_MAX_CFG);
            if (widths[a] % heads[b]) return err_set(ERR_ARG, "sweep: width %d is not a multiple of %d heads", widths[a], heads[b]);
            o.d_model[o.n_cfg] = widths[a];
            o.n_heads[o.n_cfg++] = heads[b];
        }
    if ((rc = cli_prepare_results(out))) return rc;
    ctr_set ctr;
    if ((rc = ctr_open(&ctr, events))) return rc;
    h5r_run run;
    h5r_run_init(&run);
    h5r_attr_str(&run, "kind", "sweep");
    h5r_attr_str(&run, "impls", rows);
    h5r_attr_str(&run, "token_stream", o.model_path ? "synthetic unit-norm embeddings, trained weights"
                                                    : "synthetic unit-norm embeddings, random weights (tf_init)");
    h5r_attr_str(&run, "model_file", o.model_path ? o.model_path : "(none: random weights)");
    h5r_attr_i64(&run, "reps", o.reps);
    h5r_attr_i64(&run, "fill_threads", o.fill_threads);
    h5r_attr_i64(&run, "seed", (int64_t)o.seed);
    h5r_attr_i64(&run, "t_max", o.t[o.n_t - 1]);
    h5r_attr_str(&run, "timing", "query: median of reps tokens at the same context; support: one token; CLOCK_MONOTONIC; "
                                 "one thread, measured while no fill runs (fills of the rows run in parallel between points)");
    char cl[2048];
    size_t k = 0;
    cl[0] = 0;
    for (int i = 0; i < argc && k + 2 < sizeof cl; i++) k += snprintf(cl + k, sizeof cl - k, "%s%s", i ? " " : "neuroicl ", argv[i]);
    h5r_attr_str(&run, "command_line", cl);
    rc = sweep_run(&o, &ctr, &run);
    if (!rc) rc = h5r_commit(out, &run);
    if (!rc) {
        sweep_print(&run);
        printf("run %s appended to %s\n", run.run_id, out);
    }
    h5r_run_free(&run);
    ctr_close(&ctr);
    return rc;
}
