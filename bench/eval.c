#include "bench/eval.h"
#include "bench/ev_fixed.h"
#include "bench/stats.h"
#include "kernels/decoder.h"
#include "kernels/err.h"
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int ev_parse_rows(ev_options *o, char *list) {
    o->n_rows = 0;
    size_t len = strlen(list);
    if (len && (list[0] == ',' || list[len - 1] == ',' || strstr(list, ",,")))
        return err_set(ERR_ARG, "--impl '%s' has an empty item (choose from %s)", list, dec_row_names());
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        if (!dec_find(tok))
            return err_set(ERR_ARG, "unknown --impl '%s' (choose from %s)", tok, dec_row_names());
        for (int i = 0; i < o->n_rows; i++)
            if (!strcmp(o->rows[i], tok)) return err_set(ERR_ARG, "--impl lists '%s' twice", tok);
        if (o->n_rows == EV_MAX_ROWS) return err_set(ERR_ARG, "--impl lists more than %d rows", EV_MAX_ROWS);
        o->rows[o->n_rows++] = dec_find(tok)->name;
    }
    if (!o->n_rows) return err_set(ERR_ARG, "--impl is empty (choose from %s)", dec_row_names());
    return 0;
}

static inline double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return 1e9 * ts.tv_sec + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void ev_describe_run(h5r_run *run, const ev_options *o, const ds_set *set, const char *impls,
                     const char *model_path, const char *model_hash, const char *command_line) {
    h5r_attr_str(run, "kind", "eval");
    h5r_attr_str(run, "task", strncmp(set->source, "omniglot", 8) ? "glyphs" : "omniglot");
    h5r_attr_str(run, "data_source", set->source);
    h5r_attr_str(run, "split", "evaluation");
    h5r_attr_i64(run, "n_way", o->n_way);
    h5r_attr_i64(run, "k_shot", o->k_shot);
    h5r_attr_i64(run, "n_query", o->n_query);
    h5r_attr_i64(run, "n_episodes", o->episodes);
    h5r_attr_i64(run, "seed", (int64_t)o->seed);
    h5r_attr_str(run, "impls", impls);
    char path_abs[PATH_MAX];
    h5r_attr_str(run, "model_file", realpath(model_path, path_abs) ? path_abs : model_path);
    h5r_attr_str(run, "model_hash", model_hash);
    h5r_attr_str(run, "command_line", command_line);
}

int ev_run(const ev_options *o, const mdl_model *m, const ds_set *set, ctr_set *ctr, h5r_run *run,
           ev_row_summary *out) {
    const int R = o->n_rows, n_sup = o->n_way * o->k_shot, n_q = o->n_way * o->n_query;
    const int n_tok = n_sup + n_q, D = enc_d_out(&m->enc), E = o->episodes;
    const int n_labels = m->dec[TF_LINEAR].n_labels;
    if (o->n_way > n_labels)
        return err_set(ERR_ARG, "--n-way %d exceeds the model's %d labels (train a model with more)", o->n_way, n_labels);
    if (!run) return err_set(ERR_ARG, "no results run");

    dec_row rows[EV_MAX_ROWS];
    memset(rows, 0, sizeof rows);
    ds_episode ep = {0};
    float *img = malloc((size_t)n_tok * DS_PIX * sizeof(float));  // (n_tok, DS_PIX)
    float *emb = malloc((size_t)n_tok * D * sizeof(float));       // (n_tok, D)
    int *tok_label = malloc((size_t)n_tok * sizeof(int));         // (n_tok) -1 for queries
    float *logits = malloc((size_t)R * n_q * n_labels * sizeof(float));  // (R, n_q, n_labels)
    double *tok_ns = malloc((size_t)R * E * n_tok * sizeof(double));    // (R, E, n_tok)
    double *ep_acc = malloc((size_t)R * E * sizeof(double));            // (R, E)
    long long *c0 = calloc(CTR_MAX_EVENTS, sizeof(long long)), *c1 = calloc(CTR_MAX_EVENTS, sizeof(long long));
    int rc = 0;
    if (!img || !emb || !tok_label || !logits || !tok_ns || !ep_acc || !c0 || !c1) {
        rc = err_set(ERR_NOMEM, "out of memory for %d episodes", E);
        goto done;
    }
    if ((rc = ds_episode_alloc(&ep, o->n_way, o->k_shot, o->n_query))) goto done;
    for (int r = 0; r < R; r++) {
        const dec_ops *ops = dec_find(o->rows[r]);
        if ((rc = dec_open_aux(&rows[r], ops, &m->dec[ops->attn], m->dec_params[ops->attn], n_sup, o->row_aux))) goto done;
    }

    h5r_table *te = h5r_run_table(run, "episodes"), *tt = h5r_run_table(run, "tokens");
    int e_impl = h5r_table_col(te, "impl", H5R_STR, 32), e_ep = h5r_table_col(te, "episode", H5R_I64, 0),
        e_q = h5r_table_col(te, "query", H5R_I64, 0), e_ctx = h5r_table_col(te, "context_len", H5R_I64, 0),
        e_pred = h5r_table_col(te, "predicted", H5R_I64, 0), e_true = h5r_table_col(te, "true_label", H5R_I64, 0),
        e_ok = h5r_table_col(te, "correct", H5R_I64, 0), e_ns = h5r_table_col(te, "ns", H5R_F64, 0),
        e_br = h5r_table_col(te, "bytes_read", H5R_I64, 0), e_bw = h5r_table_col(te, "bytes_written", H5R_I64, 0);
    int e_ctr[CTR_MAX_EVENTS];
    for (int i = 0; ctr && i < ctr->n_avail; i++) {
        char nm[128];
        snprintf(nm, sizeof nm, "ctr_%s", ctr->events[ctr->avail_idx[i]].name);
        e_ctr[i] = h5r_table_col(te, nm, H5R_I64, 0);
    }
    int t_impl = h5r_table_col(tt, "impl", H5R_STR, 32), t_ep = h5r_table_col(tt, "episode", H5R_I64, 0),
        t_t = h5r_table_col(tt, "t", H5R_I64, 0), t_kind = h5r_table_col(tt, "kind", H5R_STR, 8),
        t_ns = h5r_table_col(tt, "ns", H5R_F64, 0), t_br = h5r_table_col(tt, "bytes_read", H5R_I64, 0),
        t_bw = h5r_table_col(tt, "bytes_written", H5R_I64, 0), t_wr = h5r_table_col(tt, "weights_read", H5R_I64, 0),
        t_kvr = h5r_table_col(tt, "kv_read", H5R_I64, 0), t_kvw = h5r_table_col(tt, "kv_written", H5R_I64, 0),
        t_fwr = h5r_table_col(tt, "fw_read", H5R_I64, 0), t_fww = h5r_table_col(tt, "fw_written", H5R_I64, 0);
    if (te == NULL || tt == NULL || e_bw < 0 || t_fww < 0) { rc = ERR_NOMEM; goto done; }

    double bytes_r[EV_MAX_ROWS] = {0}, bytes_w[EV_MAX_ROWS] = {0}, max_rel_diff = 0.0;
    long correct_tot[EV_MAX_ROWS] = {0};
    int lin = -1, fw = -1, done_eps = 0;
    for (int r = 0; r < R; r++) {
        if (!strcmp(o->rows[r], "kv-linear")) lin = r;
        if (!strcmp(o->rows[r], "fw-float")) fw = r;
    }
    evfx_state fx;
    evfx_init(&fx, o->rows, R);
    if (ctr && ctr->n_avail) ctr_start(ctr);
    for (int e = 0; e < E; e++) {
        if (o->stop && *o->stop) break;
        if ((rc = ds_episode_sample(set, o->n_way, o->k_shot, o->n_query, o->seed, (uint64_t)e, &ep))) goto done;
        for (int i = 0; i < n_sup; i++) {
            memcpy(img + (size_t)i * DS_PIX, set->pixels + (size_t)ep.support_img[i] * DS_PIX, DS_PIX * sizeof(float));
            tok_label[i] = ep.support_label[i];
        }
        for (int j = 0; j < n_q; j++) {
            memcpy(img + (size_t)(n_sup + j) * DS_PIX, set->pixels + (size_t)ep.query_img[j] * DS_PIX, DS_PIX * sizeof(float));
            tok_label[n_sup + j] = -1;
        }
        mdl_embed(m, n_tok, img, emb);  // once per episode, shared by every row
        for (int r = 0; r < R; r++) {
            dec_row *row = &rows[r];
            row->ops->reset(row);
            dec_traffic ep_tr = {0};
            double ep_ns = 0.0;
            if (ctr && ctr->n_avail) ctr_read(ctr, c0);
            for (int t = 0; t < n_tok; t++) {
                dec_traffic tr = {0};
                int is_q = t >= n_sup;
                float *lg = logits + ((size_t)r * n_q + (is_q ? t - n_sup : 0)) * n_labels;
                double t0 = now_ns();
                if ((rc = row->ops->step(row, emb + (size_t)t * D, tok_label[t], lg, &tr))) goto done;
                double dt = now_ns() - t0;
                tok_ns[((size_t)r * E + e) * n_tok + t] = dt;
                ep_ns += dt;
                ep_tr.weights_read += tr.weights_read; ep_tr.kv_read += tr.kv_read;
                ep_tr.kv_written += tr.kv_written; ep_tr.fw_read += tr.fw_read; ep_tr.fw_written += tr.fw_written;
                if (e < o->token_episodes) {
                    long k = h5r_table_row(tt);
                    if (k < 0) { rc = ERR_NOMEM; goto done; }
                    h5r_set_str(tt, t_impl, k, o->rows[r]);
                    h5r_set_i64(tt, t_ep, k, e);
                    h5r_set_i64(tt, t_t, k, is_q ? n_sup : t);  // a query reads the full context
                    h5r_set_str(tt, t_kind, k, is_q ? "query" : "support");
                    h5r_set_f64(tt, t_ns, k, dt);
                    // -1 = not counted (schema v1): never 0 for a row that does not count.
                    const int nc = row->ops->traffic_not_counted;
                    h5r_set_i64(tt, t_br, k, nc ? -1 : dec_traffic_read(&tr));
                    h5r_set_i64(tt, t_bw, k, nc ? -1 : dec_traffic_written(&tr));
                    h5r_set_i64(tt, t_wr, k, nc ? -1 : tr.weights_read);
                    h5r_set_i64(tt, t_kvr, k, nc ? -1 : tr.kv_read);
                    h5r_set_i64(tt, t_kvw, k, nc ? -1 : tr.kv_written);
                    h5r_set_i64(tt, t_fwr, k, nc ? -1 : tr.fw_read);
                    h5r_set_i64(tt, t_fww, k, nc ? -1 : tr.fw_written);
                }
            }
            if (ctr && ctr->n_avail) ctr_read(ctr, c1);
            bytes_r[r] += dec_traffic_read(&ep_tr);
            bytes_w[r] += dec_traffic_written(&ep_tr);
            int ok_ep = 0;
            for (int j = 0; j < n_q; j++) {
                const float *lg = logits + ((size_t)r * n_q + j) * n_labels;
                int pred = 0;
                for (int i = 1; i < o->n_way; i++) if (lg[i] > lg[pred]) pred = i;
                int ok = pred == ep.query_label[j];
                ok_ep += ok;
                long k = h5r_table_row(te);
                if (k < 0) { rc = ERR_NOMEM; goto done; }
                h5r_set_str(te, e_impl, k, o->rows[r]);
                h5r_set_i64(te, e_ep, k, e);
                h5r_set_i64(te, e_q, k, j);
                h5r_set_i64(te, e_ctx, k, n_sup);
                h5r_set_i64(te, e_pred, k, pred);
                h5r_set_i64(te, e_true, k, ep.query_label[j]);
                h5r_set_i64(te, e_ok, k, ok);
                // Episode-level quantities repeat on each of the episode's query rows.
                h5r_set_f64(te, e_ns, k, ep_ns);
                h5r_set_i64(te, e_br, k, row->ops->traffic_not_counted ? -1 : dec_traffic_read(&ep_tr));
                h5r_set_i64(te, e_bw, k, row->ops->traffic_not_counted ? -1 : dec_traffic_written(&ep_tr));
                for (int i = 0; ctr && i < ctr->n_avail; i++) h5r_set_i64(te, e_ctr[i], k, c1[i] - c0[i]);
            }
            correct_tot[r] += ok_ep;
            ep_acc[(size_t)r * E + e] = (double)ok_ep / n_q;
        }
        if (lin >= 0 && fw >= 0)
            for (int j = 0; j < n_q; j++) {
                // relative difference of the query's logit vector: max|a-b| / max|a|
                double diff = 0.0, scale = 1e-30;
                for (int i = 0; i < o->n_way; i++) {
                    float a = logits[((size_t)lin * n_q + j) * n_labels + i], b = logits[((size_t)fw * n_q + j) * n_labels + i];
                    diff = fmax(diff, fabs((double)a - b));
                    scale = fmax(scale, fabs((double)a));
                }
                if (diff / scale > max_rel_diff) max_rel_diff = diff / scale;
            }
        evfx_episode(&fx, logits, n_q, n_labels, o->n_way);
        done_eps = e + 1;
        if (o->log && (e + 1) % 100 == 0) {
            fprintf(o->log, "eval: %d/%d episodes", e + 1, E);
            for (int r = 0; r < R; r++) fprintf(o->log, "  %s %.1f%%", o->rows[r], 100.0 * correct_tot[r] / ((double)(e + 1) * n_q));
            fprintf(o->log, "\n");
        }
    }
    if (ctr && ctr->n_avail) ctr_stop(ctr);
    if (done_eps == 0) { rc = err_set(ERR_INTERRUPTED, "interrupted before the first episode finished"); goto done; }

    h5r_table *ts = h5r_run_table(run, "summary");
    int s_impl = h5r_table_col(ts, "impl", H5R_STR, 32), s_acc = h5r_table_col(ts, "accuracy", H5R_F64, 0),
        s_lo = h5r_table_col(ts, "ci_lo", H5R_F64, 0), s_hi = h5r_table_col(ts, "ci_hi", H5R_F64, 0),
        s_nq = h5r_table_col(ts, "n_queries", H5R_I64, 0), s_ne = h5r_table_col(ts, "n_episodes", H5R_I64, 0),
        s_med = h5r_table_col(ts, "ns_per_token_median", H5R_F64, 0),
        s_min = h5r_table_col(ts, "ns_per_token_min", H5R_F64, 0), s_max = h5r_table_col(ts, "ns_per_token_max", H5R_F64, 0),
        s_br = h5r_table_col(ts, "bytes_read_per_token", H5R_F64, 0), s_bw = h5r_table_col(ts, "bytes_written_per_token", H5R_F64, 0);
    if (!ts || s_bw < 0) { rc = ERR_NOMEM; goto done; }
    for (int r = 0; r < R; r++) {
        ev_row_summary *s = &out[r];
        memset(s, 0, sizeof *s);
        snprintf(s->name, sizeof s->name, "%s", o->rows[r]);
        double mean, half;
        st_mean_ci95(ep_acc + (size_t)r * E, (size_t)done_eps, &mean, &half);
        s->accuracy = mean;
        s->ci_lo = mean - half < 0 ? 0 : mean - half;
        s->ci_hi = mean + half > 1 ? 1 : mean + half;
        s->n_queries = (long)done_eps * n_q;
        double *ns = tok_ns + (size_t)r * E * n_tok;
        size_t nn = (size_t)done_eps * n_tok;
        qsort(ns, nn, sizeof(double), cmp_double);
        s->ns_min = ns[0];
        s->ns_max = ns[nn - 1];
        s->ns_median = nn % 2 ? ns[nn / 2] : 0.5 * (ns[nn / 2 - 1] + ns[nn / 2]);
        s->bytes_read = rows[r].ops->traffic_not_counted ? NAN : bytes_r[r] / nn;
        s->bytes_written = rows[r].ops->traffic_not_counted ? NAN : bytes_w[r] / nn;
        long k = h5r_table_row(ts);
        if (k < 0) { rc = ERR_NOMEM; goto done; }
        h5r_set_str(ts, s_impl, k, s->name);
        h5r_set_f64(ts, s_acc, k, s->accuracy);
        h5r_set_f64(ts, s_lo, k, s->ci_lo);
        h5r_set_f64(ts, s_hi, k, s->ci_hi);
        h5r_set_i64(ts, s_nq, k, s->n_queries);
        h5r_set_i64(ts, s_ne, k, done_eps);
        h5r_set_f64(ts, s_med, k, s->ns_median);
        h5r_set_f64(ts, s_min, k, s->ns_min);
        h5r_set_f64(ts, s_max, k, s->ns_max);
        h5r_set_f64(ts, s_br, k, s->bytes_read);
        h5r_set_f64(ts, s_bw, k, s->bytes_written);
    }
    h5r_attr_i64(run, "n_episodes_done", done_eps);
    if (lin >= 0 && fw >= 0) h5r_attr_f64(run, "max_rel_logit_diff_kv_linear_fw_float", max_rel_diff);
    if (ctr) ctr_add_table(ctr, run);
    if ((rc = evfx_write(&fx, rows, run))) goto done;
    if (done_eps < E && o->stop && *o->stop) h5r_attr_str(run, "interrupted", "yes");
done:
    for (int r = 0; r < R; r++) dec_close(&rows[r]);
    ds_episode_free(&ep);
    free(img); free(emb); free(tok_label); free(logits); free(tok_ns); free(ep_acc); free(c0); free(c1);
    return rc;
}
